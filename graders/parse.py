"""Read what people write as answers, safely: a small recursive-descent parser, never ``eval``.

Numbers: ``42``, ``-0.25``, ``.5``, ``1e-3``, ``1.2E+05``, ``3×10^-2``, ``10⁻³``, ``3/4``,
``5%`` (= 0.05), and constant expressions with ``+ - * / ^ **``, parentheses, implicit
multiplication of a number by what follows it without a space (``2pi``, ``3sqrt(2)``), the
constants ``pi`` (``π``) and ``e``, and the functions ``exp sqrt ln log log10 log2 abs sin cos tan
tanh`` (``log`` is the natural logarithm, as in NumPy and PyTorch). A function's argument may go
without parentheses: ``ln 2``, ``√2``, ``exp -2``. Simple LaTeX is understood too:
``\\frac{3}{4}``, ``\\sqrt{2}``, ``e^{-2}``, ``\\pi``, ``\\times``, ``\\cdot``. The Unicode
minus ``−``, ``×``, ``·`` and ``÷`` are the ASCII operators.

Arrays: Python lists ``[[1, 2], [3, 4]]``, tuples ``(1, 2, 3)``, MATLAB ``[1 2; 3 4]`` (inside a
row, a space separates elements, and ``[1 -2]`` is two elements as in MATLAB while ``[1 - 2]`` is
one), rows on separate lines (for a vector, lines just continue the row), NumPy's printout
``[[1. 2.]\\n [3. 4.]]`` even with long rows wrapped, and ``array(...)`` or
``tensor(...)`` around any of these. Every element may be an expression. Ragged lists are a
format error.

Shapes: ``4x4x10``, ``4×4×10``, ``4 by 4``, ``(4, 4, 10)``, ``[4, 4, 10]``, ``(5,)``,
``torch.Size([4, 4, 10])``. Choices: a letter ``A``-``Z``, any case, ``(b)``, ``b)`` or ``B.``.

What students paste and type, read everywhere: scientific notation ``3x10^-5``, ``3 × 10⁻⁵``,
``3*10**-5``, ``3·10^-5`` (``a×10^k``, with ``a`` a plain decimal and ``k`` whole, is the
number ``float("aek")`` exactly, not ``a`` times ``10^k`` rounded twice; ``10^k`` likewise);
every dash (en, em, figure, Unicode minus, fullwidth) is a minus; superscript digits are an
exponent; a leading ``≈``, ``~``, ``\\approx`` or ``approx.`` is dropped (the value is what
follows); digits grouped in threes by a thin space (``1 792``) are one number. In a single
number (integer and real parts) also ``2.5 e-3`` (a space around the ``e``).

Commas and points inside a number, by kind of part (ambiguous means a :class:`FormatError`
saying how to write the number, never a guess):

====================  ==========================================================================
integer               ``1,792`` and ``1,792,000`` are thousands (groups of exactly three digits
                      after a first group of 1-3 not starting with 0); ``1.792.000`` too; any
                      other single comma is decimal (``1,5`` = 1.5, not a whole number).
real                  ``1,792,000``, ``1,792.5``, ``1.792,5`` and ``1.792.000`` are unambiguous
                      and read; a single comma before exactly three digits (``1,792``, ``1,500``)
                      could be either: ambiguous; any other single comma is a decimal comma
                      (``0,5``, ``12,25``, ``0,500``, ``1234,5``).
vector, matrix,       a comma separates elements, as in Python, JSON and MATLAB (``[0,5]`` is
tensor                [0, 5]). Ambiguous: an unbracketed ``0,5`` or ``1,234,567`` (one number or
                      a list?), and a comma between digits in a list whose other elements are
                      separated by spaces or by ``, `` (``0,5 0,25``, ``[0,5, 0,25]``, ``[0,5; 1 2]``).
shape                 commas separate dimensions; ``x`` is the dimension separator, so
                      ``3x10^-5`` is not a number there.
choice, text_choice   no numbers: one letter (``B``, ``b``, ``(b)``, ``B.``).
true_false            ``T``, ``F``, ``true``, ``false`` in any case -> ``"T"``/``"F"``.
multi_select          letters separated by commas or spaces (``A,C``, ``c a``, ``AC``), read as
                      the sorted ``"A,C"``; a letter twice is a format error.
ordering              the same, kept in the order written: ``c,a,b`` -> ``"C,A,B"``.
====================  ==========================================================================

:func:`parse_answer` returns a float64 array (int64 for integer and shape answers; 0-d for single
numbers) or an upper-case letter, and raises :class:`FormatError` whose message says what was
expected and what is wrong. Abuse is bounded: at most :data:`MAX_CHARS` characters,
:data:`MAX_NESTING` levels of brackets, parentheses and powers, numbers up to 1e308 (``9^9^9^9``
is an overflow error at once: all arithmetic is in floats).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from quizgen.models import ANSWER_KINDS

__all__ = ["EXPECTED", "MAX_CHARS", "MAX_NESTING", "FormatError", "parse_answer", "parse_value"]

#: Longest answer read, in characters.
MAX_CHARS = 20_000
#: Deepest nesting of brackets, parentheses, powers and function applications.
MAX_NESTING = 32
#: Longest single number, in characters.
_MAX_NUMBER = 400


class FormatError(ValueError):
    """An answer that cannot be read; ``str(err)`` says what was expected and what was got."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


#: What each kind of answer looks like, for the start of a format error's message.
EXPECTED: dict[str, str] = {
    "integer": "expected a whole number such as 42 or 2^5",
    "real": "expected a single number such as 0.25, 3/4, 1.2e-3 or sqrt(2)/2",
    "vector": "expected a vector such as [1, 2, 3] or 1 2 3",
    "matrix": "expected a 2-d matrix such as [[1, 2], [3, 4]] or [1 2; 3 4]",
    "tensor": "expected a tensor written as nested lists such as [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]",
    "shape": "expected a shape such as 4x4x10, (4, 4, 10) or [4, 4, 10]",
    "choice": "expected an option letter such as B",
    "text_choice": "expected an option letter such as B",
    "true_false": "expected T or F (true or false)",
    "multi_select": "expected the letters of every option you select, such as A,C",
    "ordering": "expected the letters of the items in order, such as C,A,B,D",
}


class _Problem(Exception):
    """Internal: what is wrong, before the kind's expectation is put in front."""


# ------------------------------------------------------------------------------ normalising

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPER_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_REPLACEMENTS = (
    ("\u2212", "-"),  # minus sign
    ("\u2010", "-"),  # hyphen, non-breaking hyphen, figure dash, en dash, em dash, bar
    ("\u2011", "-"),
    ("\u2012", "-"),
    ("\u2013", "-"),
    ("\u2014", "-"),
    ("\u2015", "-"),
    ("\u02d7", "-"),  # modifier minus
    ("\ufe63", "-"),  # small hyphen-minus
    ("\uff0d", "-"),  # fullwidth hyphen-minus
    ("\u2796", "-"),  # heavy minus
    ("\uff0b", "+"),  # fullwidth plus
    ("\u2795", "+"),  # heavy plus
    ("\u00d7", "*"),  # multiplication sign
    ("\u2a2f", "*"),
    ("\u2715", "*"),
    ("\u2217", "*"),  # asterisk operator
    ("\uff0a", "*"),
    ("\u00b7", "*"),
    ("\u22c5", "*"),
    ("\u2219", "*"),
    ("\u00f7", "/"),
    ("\u03c0", " pi "),
    ("\u221a", " sqrt "),
    ("\u00a0", " "),
    ("\t", " "),
    ("\r\n", "\n"),
    ("\r", "\n"),
    ("**", "^"),
    ("\\times", "*"),
    ("\\cdot", "*"),
    ("\\left", ""),
    ("\\right", ""),
    ("\\,", " "),
    ("\\!", ""),
)
_LATEX_NAME = re.compile(r"\\(frac|dfrac|tfrac|sqrt|pi|ln|log|exp)\b")
_WRAPPER = re.compile(
    r"^\s*(?:(?:np|numpy|torch)\s*\.\s*)?(?:array|tensor|asarray)\s*\((.*?)(?:,\s*dtype\s*=\s*[\w.]+)?\s*\)\s*$",
    re.DOTALL,
)


#: "≈ 0.5", "~0.5", "approx. 0.5": the value is what is written after the sign.
_APPROX = re.compile(
    r"^\s*(?:\u2248|\u2243|\u2245|\u223c|~|\\approx|\\sim|approx\.?|approximately|about|ca\.|circa)\s*",
    re.IGNORECASE,
)
#: SI-style groups of three digits separated by a thin or narrow no-break space: "1 792".
_THIN_GROUP = re.compile(r"(?<=\d)[\u2009\u202f](?=\d{3}(?!\d))")
#: "3x10^-5", "3 X 10^-5": x before a power of ten is a multiplication (not in shapes, 4x4x10).
_TIMES_TEN = re.compile(r"(?<=[\d.])\s*[xX]\s*(?=10\s*\^)")
#: "2.5 e-3": a space before the exponent (a single number only; in a row it would split).
_SPACED_E = re.compile(r"(?<![\w.])(\d+\.?\d*|\.\d+)(?: +[eE] *| *[eE] +)([-+]?) *(\d+)(?![\w.])")


def _normalise(text: str, *, times_ten: bool = True, scalar: bool = False) -> str:
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    text = _LATEX_NAME.sub(
        lambda m: " " + m.group(1).replace("dfrac", "frac").replace("tfrac", "frac") + " ", text
    )
    text = _SUPER_RUN.sub(lambda m: "^(" + m.group(0).translate(_SUPERSCRIPTS) + ")", text)
    text = _APPROX.sub("", text, count=1)
    text = _THIN_GROUP.sub("", text)
    if times_ten:
        text = _TIMES_TEN.sub("*", text)
    if scalar:
        text = _SPACED_E.sub(r"\1e\2\3", text)
    m = _WRAPPER.match(text)
    return m.group(1) if m else text


# ------------------------------------------------------------------------------ tokens

_TOKEN = re.compile(
    r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<nl>\n)"
    r"|(?P<op>[-+*/^(),;\[\]{}%])"
    r"|(?P<space> +)"
    r"|(?P<bad>.)",
    re.DOTALL,
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, name, nl, op, end
    text: str
    pos: int
    space_before: bool
    space_after: bool


def _tokenize(text: str) -> list[_Tok]:
    raw = [(m.lastgroup, m.group(0), m.start()) for m in _TOKEN.finditer(text)]
    toks: list[_Tok] = []
    for i, (kind, txt, p) in enumerate(raw):
        if kind == "space":
            continue
        if kind == "bad":
            raise _Problem(f"unexpected character {txt!r} at character {p + 1}")
        if kind == "num" and len(txt) > _MAX_NUMBER:
            raise _Problem(f"a number of {len(txt)} digits at character {p + 1} is too long")
        before = i > 0 and raw[i - 1][0] in ("space", "nl")
        after = i + 1 < len(raw) and raw[i + 1][0] in ("space", "nl")
        toks.append(_Tok(kind if kind != "op" else txt, txt, p, before, after))
    toks.append(_Tok("end", "", len(text), True, True))
    return toks


# ------------------------------------------------------------------------------ parser


def _check(x: float, what: str) -> float:
    if not math.isfinite(x):
        raise _Problem(f"{what} is too large (beyond 1e308)")
    return x


def _pow(a: float, b: float) -> float:
    try:
        return _check(math.pow(a, b), "a power")
    except OverflowError:
        raise _Problem("a power is too large (beyond 1e308)") from None
    except ValueError:
        if a == 0:
            raise _Problem("0 to a negative power is undefined") from None
        raise _Problem(f"{a:g}^{b:g} is not a real number") from None


def _domain(fn: Callable[[float], float], name: str, test: Callable[[float], bool], need: str):
    def apply(x: float) -> float:
        if not test(x):
            raise _Problem(f"{name} needs {need}, got {x:g}")
        try:
            return _check(fn(x), f"{name}({x:g})")
        except OverflowError:
            raise _Problem(f"{name}({x:g}) is too large (beyond 1e308)") from None

    return apply


def _any(x: float) -> bool:
    return True


def _positive(x: float) -> bool:
    return x > 0


FUNCTIONS: dict[str, Callable[[float], float]] = {
    "exp": _domain(math.exp, "exp", _any, ""),
    "sqrt": _domain(math.sqrt, "sqrt", lambda x: x >= 0, "a number >= 0"),
    "ln": _domain(math.log, "ln", _positive, "a number > 0"),
    "log": _domain(math.log, "log", _positive, "a number > 0"),
    "log10": _domain(math.log10, "log10", _positive, "a number > 0"),
    "log2": _domain(math.log2, "log2", _positive, "a number > 0"),
    "abs": abs,
    "sin": _domain(math.sin, "sin", math.isfinite, "a finite number"),
    "cos": _domain(math.cos, "cos", math.isfinite, "a finite number"),
    "tan": _domain(math.tan, "tan", math.isfinite, "a finite number"),
    "tanh": math.tanh,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
_NAMES_HELP = "known names: pi, e, " + ", ".join(sorted(FUNCTIONS)) + ", frac"

_STARTS_ITEM = frozenset({"num", "name", "(", "[", "{", "-", "+"})


class _Separators:
    """How the items of one list are separated, to catch decimal commas: a comma between two
    digits (``0,5``) in a list whose other items are separated by spaces (``0,5 0,25``,
    ``[0,5; 1 2]``) or by a comma and a space (``0,5, 0,25``) is a decimal comma, not a
    separator."""

    def __init__(self) -> None:
        self.tight: int | None = None  # the index of the first comma between two digits
        self.spaced = False
        self.spaces = False

    def comma(self, parser: _Parser, t: _Tok) -> None:
        text, toks, i = parser.text, parser.toks, parser.i
        if (
            toks[i - 1].kind == "num"
            and toks[i + 1].kind == "num"
            and not t.space_before
            and not t.space_after
        ):
            if self.tight is None:
                self.tight = i
        elif text[t.pos + 1 : t.pos + 2] == " " or text[t.pos - 1 : t.pos] == " ":
            self.spaced = True
        self.check(parser)

    def space(self, parser: _Parser) -> None:
        self.spaces = True
        self.check(parser)

    def check(self, parser: _Parser) -> None:
        if self.tight is None or not (self.spaced or self.spaces):
            return
        a, b = parser.toks[self.tight - 1], parser.toks[self.tight + 1]
        other = "spaces" if self.spaces else "', '"
        raise _Problem(
            f"{a.text},{b.text} at character {a.pos + 1} looks like a decimal comma, as other numbers are separated "
            f"by {other}: write the number with a decimal point ({a.text}.{b.text}) and separate numbers "
            "with ', ' or spaces"
        )


def _wrapped(rows: list[list], join_lines: bool) -> bool:
    """Rows of numbers that look like one long row wrapped: equal lengths, the last shorter
    (or any lengths, when a vector is expected)."""
    if len(rows) < 2 or any(isinstance(x, list) for r in rows for x in r):
        return False
    if join_lines:
        return True
    lengths = [len(r) for r in rows]
    return len(set(lengths[:-1])) == 1 and lengths[-1] < lengths[0]


class _Parser:
    """Evaluates as it parses: values are floats or (nested) lists of them."""

    def __init__(self, text: str, *, split_signs: bool, join_lines: bool = False) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.brackets = 0
        self.join_lines = join_lines  # a vector: numbers on several lines are one row
        self.split_signs = split_signs  # MATLAB: in a row, "1 -2" is two elements

    # -- helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def next(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, kind: str, what: str) -> _Tok:
        if self.tok.kind != kind:
            raise _Problem(f"expected {what} {self._where()}")
        return self.next()

    def _where(self) -> str:
        t = self.tok
        return "at the end" if t.kind == "end" else f"at {t.text!r} (character {t.pos + 1})"

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Problem(f"nested more than {MAX_NESTING} levels deep")

    def skip_newlines(self) -> None:
        while self.tok.kind == "nl":
            self.next()

    # -- sequences: items separated by ',' (or a space), rows by ';' (or a new line)
    def sequence(self, closer: str, *, nested: bool = False) -> tuple[list, bool]:
        """Items up to ``closer``; returns (rows or items, whether rows were separated).

        ',' or a space separates items; ';' separates rows; so does a new line, except inside a
        list nested in another (NumPy wraps long rows there). Rows split only by new lines whose
        lengths are all equal but the last, shorter one, are one wrapped row (NumPy's printout
        of a long vector)."""
        rows: list[list] = [[]]
        hard = soft = False
        seps = _Separators()
        self.skip_newlines()
        while self.tok.kind != closer:
            rows[-1].append(self.expression(in_row=True))
            saw_newline = self.tok.kind == "nl"
            self.skip_newlines()
            t = self.tok
            if t.kind == ",":
                seps.comma(self, t)
                self.next()
                self.skip_newlines()
                if self.tok.kind == closer and closer == "end":
                    raise _Problem("a trailing comma at the end")
            elif t.kind == ";":
                while self.tok.kind == ";":
                    self.next()
                    self.skip_newlines()
                hard = True
                if self.tok.kind != closer:
                    rows.append([])
            elif t.kind == closer:
                break
            elif saw_newline and not nested:
                soft = True
                rows.append([])
            elif t.kind in _STARTS_ITEM and (t.space_before or saw_newline):
                if not saw_newline:
                    seps.space(self)
                continue  # MATLAB: a space separates elements
            elif t.kind == "end":
                raise _Problem(f"missing {closer!r} at the end")
            else:
                raise _Problem(f"unexpected {t.text!r} at character {t.pos + 1}")
        if rows[-1] == [] and len(rows) > 1:
            rows.pop()
        if not (hard or soft):
            return rows[0], False
        if not hard and _wrapped(rows, self.join_lines):
            return [x for r in rows for x in r], False
        return [r[0] if len(r) == 1 and isinstance(r[0], list) else r for r in rows], True

    # -- expressions
    def expression(self, *, in_row: bool = False) -> float | list:
        value = self.term()
        while self.tok.kind in ("+", "-"):
            t = self.tok
            if in_row and self.split_signs and t.space_before and not t.space_after:
                break  # "[1 -2]": a new element
            self.next()
            rhs = self.term()
            value = self.arith(value, rhs, t)
        return value

    def term(self) -> float | list:
        start = self.i
        value = self.unary()
        literal = self.literal(start)
        while True:
            t = self.tok
            if t.kind == "*" and literal is not None:
                tail = self.power_of_ten(self.i + 1)
                literal, mantissa = None, literal
                if tail is not None:  # 3*10^-5 is the number 3e-5, not 3 times 1e-5 rounded twice
                    exponent, self.i = tail
                    value = _check(float(f"{mantissa}e{exponent}"), "a power of ten")
                    continue
            literal = None
            if t.kind in ("*", "/"):
                self.next()
                rhs = self.unary()
                value = self.arith(value, rhs, t)
            elif t.kind in ("name", "(", "{") and not t.space_before and self.toks[self.i - 1].kind == "num":
                value = self.arith(value, self.unary(), _Tok("*", "*", t.pos, False, False))
            else:
                return value

    def arith(self, a, b, op: _Tok):
        if isinstance(a, list) or isinstance(b, list):
            raise _Problem(f"cannot compute with a list at {op.text!r} (character {op.pos + 1})")
        if op.kind == "+":
            return _check(a + b, "a sum")
        if op.kind == "-":
            return _check(a - b, "a difference")
        if op.kind == "*":
            return _check(a * b, "a product")
        if b == 0:
            raise _Problem(f"division by zero at character {op.pos + 1}")
        return _check(a / b, "a quotient")

    def unary(self) -> float | list:
        sign = 1.0
        while self.tok.kind in ("+", "-"):
            if self.next().kind == "-":
                sign = -sign
        value = self.power()
        if sign < 0:
            if isinstance(value, list):
                raise _Problem("cannot negate a list")
            return -value
        return value

    def literal(self, start: int) -> str | None:
        """The plain decimal number (with its signs) that tokens ``start`` to here wrote, or None."""
        toks = self.toks[start : self.i]
        if not toks or toks[-1].kind != "num" or any(t.kind not in ("+", "-") for t in toks[:-1]):
            return None
        text = toks[-1].text
        if "e" in text or "E" in text or not text.isascii():
            return None
        return ("-" if sum(t.kind == "-" for t in toks) % 2 else "") + text

    def power_of_ten(self, i: int) -> tuple[str, int] | None:
        """``10^k``, ``10^-k`` or ``10^(-k)`` with a whole ``k`` at token ``i`` and nothing after
        it that binds tighter (``^``, ``%``): the exponent as text and the index after it."""
        toks = self.toks
        if i + 2 >= len(toks) or toks[i].kind != "num" or toks[i].text != "10" or toks[i + 1].kind != "^":
            return None
        j = i + 2
        paren = toks[j].kind == "("
        j += paren
        negative = False
        while toks[j].kind in ("+", "-"):
            negative ^= toks[j].kind == "-"
            j += 1
        if toks[j].kind != "num" or not (toks[j].text.isascii() and toks[j].text.isdigit()):
            return None
        exponent = ("-" if negative else "") + toks[j].text
        j += 1
        if paren:
            if toks[j].kind != ")":
                return None
            j += 1
        if toks[j].kind in ("^", "%"):
            return None
        return exponent, j

    def power(self) -> float | list:
        tail = self.power_of_ten(self.i)
        if tail is not None:  # 10^-5 is the number 1e-5 (math.pow(10, 23) is not 1e23)
            exponent, self.i = tail
            return _check(float(f"1e{exponent}"), "a power of ten")
        base = self.postfix()
        if self.tok.kind != "^":
            return base
        op = self.next()
        self.enter()
        exponent = self.unary()
        self.depth -= 1
        if isinstance(base, list) or isinstance(exponent, list):
            raise _Problem(f"cannot compute with a list at '^' (character {op.pos + 1})")
        return _pow(base, exponent)

    def postfix(self) -> float | list:
        value = self.primary()
        while self.tok.kind == "%":
            self.next()
            if isinstance(value, list):
                raise _Problem("cannot take a percentage of a list")
            value = value / 100.0
        return value

    def group(self, opener: str, closer: str) -> float | list:
        """``( expr )``, a tuple ``(a, b, ...)``, ``{ expr }`` or a list ``[ ... ]``."""
        self.enter()
        self.next()
        if opener == "[":
            self.brackets += 1
            items, _ = self.sequence("]", nested=self.brackets > 1)
            self.brackets -= 1
        else:
            saved = self.split_signs
            self.split_signs = False
            self.skip_newlines()
            if self.tok.kind == closer and opener == "(":
                items = []  # "()" is the empty tuple
            else:
                first = self.expression(in_row=False)
                self.skip_newlines()
                if self.tok.kind == "," and opener == "(":
                    items = [first]
                    while self.tok.kind == ",":
                        self.next()
                        self.skip_newlines()
                        if self.tok.kind == closer:
                            break
                        items.append(self.expression())
                        self.skip_newlines()
                else:
                    items = first
            self.split_signs = saved
        self.expect(closer, f"{closer!r}")
        self.depth -= 1
        return items

    def primary(self) -> float | list:
        t = self.tok
        if t.kind == "num":
            self.next()
            return _check(float(t.text), f"the number {t.text[:20]}")
        if t.kind in ("(", "[", "{"):
            return self.group(t.kind, {"(": ")", "[": "]", "{": "}"}[t.kind])
        if t.kind == "name":
            self.next()
            name = t.text.lower()
            if name in CONSTANTS:
                return CONSTANTS[name]
            if name == "frac":
                num = self.function_argument(t)
                den = self.function_argument(t)
                return self.arith(num, den, _Tok("/", "/", t.pos, False, False))
            if name in FUNCTIONS:
                arg = self.function_argument(t)
                if isinstance(arg, list):
                    raise _Problem(f"{name} takes one number, got a list")
                return float(FUNCTIONS[name](arg))
            raise _Problem(f"unknown name {t.text!r} at character {t.pos + 1}; {_NAMES_HELP}")
        if t.kind == "end":
            raise _Problem("it ends where a number was expected")
        raise _Problem(f"expected a number at {t.text!r} (character {t.pos + 1})")

    def function_argument(self, fn: _Tok) -> float | list:
        """``f(x)``, ``f{x}`` or ``f x`` (then the argument binds like a power: ln 2^3 = ln 8)."""
        self.enter()
        if self.tok.kind in ("(", "{"):
            value = self.primary()  # sqrt(2)^2 is (sqrt 2)^2: the caller takes the power
        elif self.tok.kind == "end":
            raise _Problem(f"{fn.text} needs an argument")
        else:
            value = self.unary()
        self.depth -= 1
        return value


def parse_value(text: str, *, split_signs: bool = True, join_lines: bool = False) -> float | list:
    """The number or nested list of numbers ``text`` writes (raises :class:`FormatError`
    without the kind's expectation: use :func:`parse_answer` for answers)."""
    try:
        return _parse(text, split_signs, join_lines)
    except _Problem as exc:
        raise FormatError(str(exc)) from None


def _parse(
    text: str, split_signs: bool, join_lines: bool = False, *, times_ten: bool = True, scalar: bool = False
) -> float | list:
    if len(text) > MAX_CHARS:
        raise _Problem(f"the answer is too long ({len(text)} characters; at most {MAX_CHARS})")
    text = _normalise(text, times_ten=times_ten, scalar=scalar).strip()
    if scalar:
        text = _SEPARATED.sub(lambda m: _separated_number(m.group(0), integer=scalar == "integer"), text)
    p = _Parser(text, split_signs=split_signs, join_lines=join_lines)
    if p.tok.kind == "end":
        raise _Problem("the answer is empty")
    items, had_rows = p.sequence("end")
    if not had_rows and len(items) == 1:
        return items[0]
    return items


# ------------------------------------------------------------------------------ arrays


def _describe(value) -> str:
    if not isinstance(value, list):
        return "a single number"
    try:
        arr = _to_array(value)
    except _Problem:
        return "a ragged list"
    if arr.ndim == 1:
        return f"a list of {arr.size} number{'s' if arr.size != 1 else ''}"
    return f"a {arr.ndim}-d array of shape {arr.shape}"


def _entries(shape: tuple[int, ...]) -> str:
    if shape == ():
        return "a number"
    return f"{shape[0]} entr{'y' if shape[0] == 1 else 'ies'}"


def _shape_of(value, where: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    if not value:
        return (0,)
    shapes = [_shape_of(v, f"{where}[{i}]") for i, v in enumerate(value)]
    for i, s in enumerate(shapes[1:], start=1):
        if s != shapes[0]:
            a, b = _entries(shapes[0]), _entries(s)
            raise _Problem(f"the list is ragged: item {where}[0] has {a} but item {where}[{i}] has {b}")
    return (len(value), *shapes[0])


def _to_array(value) -> np.ndarray:
    shape = _shape_of(value, "")
    return np.array(value, dtype=np.float64).reshape(shape)


# ------------------------------------------------------------------------------ kinds


#: A run of digits with commas or points inside: "1,792", "0,5", "1,792.5", "1.792,5".
_SEPARATED = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)+(?![\d.,])")


def _groups_of_three(first: str, rest: list[str]) -> bool:
    """Whether ``first,rest[0],rest[1]...`` is a number written with thousands separators."""
    return 1 <= len(first) <= 3 and first[0] != "0" and all(len(g) == 3 for g in rest)


def _separated_number(run: str, *, integer: bool) -> str:
    """A run of digits with commas or points, as the plain number it writes in a single-number
    part (see the module docstring); a run that is not a number (``1,2,3``) is left as it is
    for the parser to report, an ambiguous one (``1,500`` for a real part) is a problem."""
    commas, points = run.count(","), run.count(".")
    if commas == 0:  # "0.5" is itself; "1.792.000" is European thousands
        groups = run.split(".")
        return "".join(groups) if points >= 2 and _groups_of_three(groups[0], groups[1:]) else run
    if points == 0:
        groups = run.split(",")
        if not _groups_of_three(groups[0], groups[1:]):
            return run.replace(",", ".") if commas == 1 else run  # "0,5" is 0.5; "1,2,3" a list
        if commas >= 2 or integer:
            return "".join(groups)  # "1,792,000"; "1,792" in a whole-number part
        whole, frac = groups
        raise _Problem(
            f"{run} could be {whole}{frac} (a thousands separator) or {whole}.{frac} (a decimal comma): "
            f"write {whole}{frac} or {whole}.{frac}"
        )
    last = max(run.rfind(","), run.rfind("."))
    whole, frac, mark = run[:last], run[last + 1 :], run[last]
    other = "." if mark == "," else ","
    groups = whole.split(other)
    if mark in whole or not _groups_of_three(groups[0], groups[1:]):
        return run  # "1,5.3", "1.2.3,4": the parser says what is wrong
    return "".join(groups) + "." + frac  # "1,792.5" and "1.792,5" are both 1792.5


def _real(text: str, *, integer: bool = False) -> np.ndarray:
    value = _parse(text, split_signs=False, scalar="integer" if integer else "real")
    if isinstance(value, list):
        raise _Problem(f"got {_describe(value)}")
    return np.asarray(value, dtype=np.float64)


def _integer(text: str) -> np.ndarray:
    x = float(_real(text, integer=True))
    if abs(x) > 2**53:
        raise _Problem(f"got {x:g}, too large for a whole number")
    if x != round(x):
        raise _Problem(f"got {x:g}, which is not a whole number")
    return np.asarray(round(x), dtype=np.int64)


#: An answer for an array part that could be one number: "0,5", "-1,25", "1,234,567".
_ONE_OR_TWO = re.compile(r"\s*[-+\u2212]?(\d+),(\d+)\s*|\s*[-+\u2212]?\d{1,3}(?:,\d{3}){2,}\s*")


def _array(text: str, join_lines: bool = False) -> np.ndarray:
    m = _ONE_OR_TWO.fullmatch(text)
    if m is not None:
        t = text.strip()
        items = ", ".join(t.split(","))
        number = t.replace(",", ".") if m.group(1) else t.replace(",", "")
        raise _Problem(
            f"{t} could be the number {number} or the list [{items}]: write {number} for the number, "
            f"[{items}] for the list"
        )
    value = _parse(text, split_signs=True, join_lines=join_lines)
    if not isinstance(value, list):
        raise _Problem("got a single number")
    return _to_array(value)


def _vector(text: str) -> np.ndarray:
    arr = _array(text, join_lines=True)
    if arr.ndim == 2 and 1 in arr.shape:
        return arr.reshape(-1)  # a row or a column
    if arr.ndim != 1:
        raise _Problem(f"got a {arr.ndim}-d array of shape {arr.shape}")
    return arr


def _matrix(text: str) -> np.ndarray:
    arr = _array(text)
    if arr.ndim == 1:
        raise _Problem(
            f"got a list of {arr.size} numbers (write a single row as [[1, 2, 3]] or [1 2 3;], a column as [1; 2; 3])"
        )
    if arr.ndim != 2:
        raise _Problem(f"got a {arr.ndim}-d array of shape {arr.shape}")
    return arr


def _tensor(text: str) -> np.ndarray:
    return _array(text)


_SHAPE_X = re.compile(r"^\s*\d+(?:\.\d*)?(?:\s*(?:[xX×*]|by)\s*\d+(?:\.\d*)?)+\s*$")
_SIZE_WRAPPER = re.compile(r"^\s*(?:torch\s*\.\s*)?Size\s*\((.*)\)\s*$", re.DOTALL)


def _shape(text: str) -> np.ndarray:
    m = _SIZE_WRAPPER.match(text)
    if m:
        text = m.group(1)
    if _SHAPE_X.match(text):
        dims = [float(d) for d in re.split(r"[xX×*]|by", text)]
    else:
        value = _parse(text, split_signs=True, times_ten=False)
        dims = [value] if not isinstance(value, list) else value
        if any(isinstance(d, list) for d in dims):
            raise _Problem(f"got {_describe(value)}")
    for d in dims:
        if d != round(d) or not 0 <= d <= 2**53:
            raise _Problem(f"got {d:g}, but a dimension is a whole number >= 0")
    return np.asarray([round(d) for d in dims], dtype=np.int64).reshape(-1)


_CHOICE = re.compile(r"^\s*(?:\(\s*([A-Za-z])\s*\)|([A-Za-z])\s*[).:]?)\s*$")


def _choice(text: str) -> str:
    m = _CHOICE.match(text)
    if m is None:
        raise _Problem("write one letter")
    return (m.group(1) or m.group(2)).upper()


_TRUE_FALSE = {"t": "T", "true": "T", "f": "F", "false": "F"}


def _true_false(text: str) -> str:
    """``T``, ``F``, ``true``, ``false`` (any case) -> ``"T"`` or ``"F"``."""
    word = text.strip().rstrip(".").strip().lower()
    if word not in _TRUE_FALSE:
        raise _Problem("write T or F")
    return _TRUE_FALSE[word]


_LETTER_LIST = re.compile(r"^[A-Za-z](?:\s*[,;\s]\s*[A-Za-z])*$")


def _letter_list(text: str) -> list[str]:
    """``"A,C"``, ``"a, c"``, ``"A C"`` or ``"AC"`` -> ``["A", "C"]``; a letter twice is refused."""
    body = text.strip()
    if body[:1] in "([" and body[-1:] in ")]":
        body = body[1:-1].strip()
    if body.isalpha() and len(body) <= 26:
        letters = list(body.upper())
    elif _LETTER_LIST.match(body):
        letters = re.findall(r"[A-Za-z]", body.upper())
    else:
        raise _Problem("write option letters separated by commas")
    twice = sorted({x for x in letters if letters.count(x) > 1})
    if twice:
        raise _Problem(f"{', '.join(twice)} written more than once")
    return letters


def _multi_select(text: str) -> str:
    """The selected letters in alphabetical order, comma-separated: ``"c, a"`` -> ``"A,C"``."""
    return ",".join(sorted(_letter_list(text)))


def _ordering(text: str) -> str:
    """The letters in the order written: ``"c a b"`` -> ``"C,A,B"``."""
    return ",".join(_letter_list(text))


_KIND_PARSERS: dict[str, Callable[[str], np.ndarray | str]] = {
    "integer": _integer,
    "real": _real,
    "vector": _vector,
    "matrix": _matrix,
    "tensor": _tensor,
    "shape": _shape,
    "choice": _choice,
    "text_choice": _choice,
    "true_false": _true_false,
    "multi_select": _multi_select,
    "ordering": _ordering,
}
if set(_KIND_PARSERS) != set(ANSWER_KINDS):  # pragma: no cover - guards models.ANSWER_KINDS drift
    raise ImportError("graders.parse: a parser is needed for every answer kind in models.ANSWER_KINDS")


def _snippet(text: str) -> str:
    one_line = " ".join(text.split())
    return repr(one_line if len(one_line) <= 60 else one_line[:57] + "...")


_PLAIN_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,3})?\s*\Z", re.ASCII)


class _PlainLists:
    """What the bulk readers (:func:`_fast`, ``batch``) may read as JSON: ``[...]`` of digits,
    points, signs, exponents and separators, but not a list with both a comma between digits
    and a comma next to a space (``[0,5, 0,25]``), which the parser refuses as decimal commas
    where ``json.loads`` would read four numbers. A regex-like ``match``; counting commas costs
    far less than a regex lookahead on long lists."""

    _SHAPE = re.compile(r"\s*\[[\d\s.,eE+\-\[\]]*\]\s*\Z", re.ASCII)

    def match(self, text: str) -> re.Match | None:
        if "," in text:
            spaced = text.count(", ") + text.count(" ,")
            if spaced and spaced < text.count(","):
                return None  # some commas spaced, some not: maybe decimal commas
        return self._SHAPE.match(text)


_PLAIN_LIST = _PlainLists()


def _fast(text: str, kind: str) -> np.ndarray | None:
    """The common answers (a plain decimal number, a JSON-style list of them) read without the
    full parser; None hands the text to the full parser, which gives the same value for
    everything this accepts (a test checks that)."""
    if kind in ("real", "integer"):
        if not _PLAIN_NUMBER.match(text):
            return None
        x = float(text)
        if not math.isfinite(x):
            return None
        if kind == "real":
            return np.asarray(x, dtype=np.float64)
        return np.asarray(round(x), dtype=np.int64) if x == round(x) and abs(x) <= 2**53 else None
    if kind in ("vector", "matrix", "tensor") and _PLAIN_LIST.match(text):
        try:
            arr = np.array(json.loads(text), dtype=np.float64)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return None  # OverflowError: a whole number beyond 1e308, which the full parser refuses
        if arr.size == 0 or arr.ndim > MAX_NESTING or not np.all(np.isfinite(arr)):
            return None
        if kind == "vector":
            return arr if arr.ndim == 1 else arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else None
        if kind == "matrix":
            return arr if arr.ndim == 2 else None
        return arr
    return None


def parse_answer(text: str, kind: str) -> np.ndarray | str:
    """Read one answer of the given kind (a key of ``models.ANSWER_KINDS``).

    Returns a 0-d float64 array for ``real``, 0-d int64 for ``integer``, 1-d int64 for
    ``shape``, float64 arrays of 1, 2 or any number of dimensions for ``vector``, ``matrix`` and
    ``tensor``, and an upper-case letter for ``choice``. Raises :class:`FormatError` with a
    message such as ``expected a 2-d matrix such as [[1, 2], [3, 4]] or [1 2; 3 4]; got '[1, 2'
    (missing ']' at the end)``, and ValueError for an unknown ``kind``.
    """
    if kind not in _KIND_PARSERS:
        raise ValueError(f"parse_answer: kind must be one of {sorted(_KIND_PARSERS)}, got {kind!r}")
    if not isinstance(text, str):
        raise FormatError(f"{EXPECTED[kind]}; got {type(text).__name__} instead of text")
    if not text.strip():
        raise FormatError(f"{EXPECTED[kind]}; got an empty answer")
    if len(text) <= MAX_CHARS:
        fast = _fast(text, kind)
        if fast is not None:
            return fast
    try:
        return _KIND_PARSERS[kind](text)
    except _Problem as exc:
        detail = str(exc)
        if detail.startswith("got "):
            raise FormatError(f"{EXPECTED[kind]}; {detail}: {_snippet(text)}") from None
        raise FormatError(f"{EXPECTED[kind]}; got {_snippet(text)} ({detail})") from None
    except RecursionError:  # pragma: no cover - MAX_NESTING keeps well below the limit
        raise FormatError(f"{EXPECTED[kind]}; got {_snippet(text)} (nested too deeply)") from None
