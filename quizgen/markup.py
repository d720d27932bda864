"""Question text (a little Markdown with ``$...$`` and ``$$...$$`` LaTeX) to HTML with MathML.

Math is converted on our side by latex2mathml, so a paper is one self-contained HTML file that
renders in a browser with no network and no JavaScript. Text outside math is escaped; supported
Markdown: paragraphs (blank lines), ``- `` bullet lines, ``**bold**``, ``*italic*``, `` `code` ``,
fenced code blocks (```` ``` ```` lines around literal code, shown as ``<pre><code>``).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from latex2mathml.converter import convert
from markupsafe import Markup

_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(.+?)(?<!\\)\$", re.S)
_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
]


# A number, -?\d+(?:\.\d+)? (written so that re scans ~20% faster), as a group: split() gives
# text, number, text, ...; a leading minus converts to <mo>−</mo> before the <mn>.
_NUMBER_SPLIT = re.compile(r"((?:\d|-\d)\d*(?:\.\d+)?)")
_MINUS = "<mo>&#x02212;</mo>"
_SLOT = "<mn>7</mn>"
# TeX splits a number of two or more characters right after ^, _ or a command that takes an
# argument (x^23, \frac12) into single-character arguments, and a power binds to a negative
# number's digits alone (-0.9^2). A skeleton slot there (SHORT: right after such a command;
# UNSIGNED: before a power) stands only for a one-character number, or a number without a sign.
_ARG_COMMANDS = (
    "frac|tfrac|dfrac|cfrac|binom|sqrt|hat|widehat|bar|overline|underline|vec|tilde|widetilde|dot|ddot|"
    "mathrm|mathbf|mathit|mathbb|mathcal|mathsf|text|textbf|textit|operatorname|boldsymbol|pmb|overset|underset"
)
_SHORT_SLOT = re.compile(rf"(?:[\^_]|\\(?:{_ARG_COMMANDS})(?![A-Za-z]))\s*7")
_UNSIGNED_SLOT = re.compile(r"7(?=[\d.]*\s*[\^_])")
# A 7 in the text of an <mtext>, <mi> or <mo> (say from \text{7}) is a placeholder the skeleton
# cannot put back; a 7 inside a character reference (&#x000D7; is the times sign) is not one.
_SEVEN_IN_TEXT = re.compile(
    r"<(?:mtext|mi|mo)\b[^>]*>"
    r"(?:[^<&7]|&#x(?!0*37;)[0-9A-Fa-f]+;|&#(?!0*55;)[0-9]+;|&[A-Za-z]+;)*"
    r"(?:7|&#x0*37;|&#0*55;)"
)


def _latex2mathml(latex: str, display: bool) -> str:
    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises many types; say which formula failed
        raise ValueError(f"cannot render the formula ${latex}$: {exc}") from exc


_convert = lru_cache(maxsize=8192)(_latex2mathml)


@lru_cache(maxsize=8192)
def _skeleton(
    skeleton: str, display: bool
) -> tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]] | None:
    """A skeleton's MathML cut at its slots (every ``7`` of the skeleton is one), the SHORT
    and the UNSIGNED slots; or None where the slots cannot stand for the numbers.

    The skeleton is checked by converting it once more with a different number of another
    shape in every slot (``-17.7``, ``-27.7``, ...; unsigned in an UNSIGNED slot; a single
    digit in a SHORT slot): where a sign or a longer number would change the formula's
    structure, or the numbers come out in another order, the two disagree.
    """
    slots = [m.start() for m in re.finditer("7", skeleton)]
    pieces = _convert(skeleton, display).split(_SLOT)
    if len(pieces) != len(slots) + 1 or any(_SEVEN_IN_TEXT.search(p) for p in pieces):
        return None
    short_at = {m.end() - 1 for m in _SHORT_SLOT.finditer(skeleton)}
    unsigned_at = {m.start() for m in _UNSIGNED_SLOT.finditer(skeleton)}
    if sum(at in short_at for at in slots) > 10:  # their probes could not all differ
        return None
    # every probe differs from the others, so a formula whose MathML puts its numbers in
    # another order than the source's (x^{1}_{2} is <msubsup> base, 2, 1) fails the check too
    probes, digit = [], 0
    for k, at in enumerate(slots):
        if at in short_at:
            probes.append(str(digit))
            digit += 1
        else:
            probes.append(f"{k + 1}7.7" if at in unsigned_at else f"-{k + 1}7.7")
    expected = [pieces[0]]
    for probe, piece in zip(probes, pieces[1:], strict=True):
        expected.append(f"{_MINUS}<mn>{probe[1:]}</mn>" if probe[0] == "-" else f"<mn>{probe}</mn>")
        expected.append(piece)
    probe_parts = skeleton.split("7")
    probed = [probe_parts[0]]
    for probe, part in zip(probes, probe_parts[1:], strict=True):
        probed.append(probe)
        probed.append(part)
    try:
        if _latex2mathml("".join(probed), display) != "".join(expected):
            return None
    except ValueError:
        return None
    short = tuple(i for i, at in enumerate(slots) if at in short_at)
    unsigned = tuple(i for i, at in enumerate(slots) if at in unsigned_at and at not in short_at)
    return tuple(pieces), short, unsigned


def _fits(numbers: list[str], short: tuple[int, ...], unsigned: tuple[int, ...]) -> bool:
    return all(len(numbers[i]) == 1 for i in short) and all(numbers[i][0] != "-" for i in unsigned)


def _fill(pieces: tuple[str, ...], numbers: list[str]) -> str:
    out = [pieces[0]]
    for number, piece in zip(numbers, pieces[1:], strict=True):
        out.append(f"{_MINUS}<mn>{number[1:]}</mn>" if number[0] == "-" else f"<mn>{number}</mn>")
        out.append(piece)
    return "".join(out)


def math_to_mathml(latex: str, display: bool = False) -> str:
    """MathML for one LaTeX formula.

    Variants of a question differ mostly in their numbers, and converting a formula costs about
    a millisecond, so the formula is converted once with every number replaced by ``7`` (the
    skeleton, cached) and the real numbers are put back into its ``<mn>`` slots. A number that
    does not fit its slot (``\\frac12``, ``x^23``, ``-0.9^2``) stays as it is in the skeleton;
    where the slots cannot stand for the numbers (a digit inside ``\\text{}``), the formula is
    converted directly.
    """
    parts = _NUMBER_SPLIT.split(latex)
    if len(parts) == 1:
        return _convert(latex, display)
    numbers = parts[1::2]
    try:
        found = _skeleton("7".join(parts[::2]), display)
    except ValueError:  # the real formula's own error names the formula as written
        found = None
    if found is None:
        return _convert(latex, display)
    pieces, short, unsigned = found
    if _fits(numbers, short, unsigned):
        return _fill(pieces, numbers)
    kept = _keeping_misfits(parts, short, unsigned)
    if kept is None:
        return _convert(latex, display)
    skeleton, numbers = kept
    try:
        found = _skeleton(skeleton, display)
    except ValueError:
        found = None
    if found is None or not _fits(numbers, found[1], found[2]):
        return _convert(latex, display)
    return _fill(found[0], numbers)


def _keeping_misfits(parts: list[str], short, unsigned) -> tuple[str, list[str]] | None:
    """The skeleton with the numbers that do not fit their slots written as they are, and the
    numbers left for the slots; None where a kept number could pass for a slot (has a 7)."""
    numbers = parts[1::2]
    keep = {i for i in short if len(numbers[i]) > 1} | {i for i in unsigned if numbers[i][0] == "-"}
    if any("7" in numbers[i] for i in keep):
        return None
    skeleton = [parts[0]]
    for i, number in enumerate(numbers):
        skeleton.append(number if i in keep else "7")
        skeleton.append(parts[2 * i + 2])
    return "".join(skeleton), [n for i, n in enumerate(numbers) if i not in keep]


def _text(segment: str) -> str:
    out = html.escape(segment, quote=False).replace("\\$", "$")
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def _inline(paragraph: str) -> str:
    out, pos = [], 0
    for m in _MATH.finditer(paragraph):
        out.append(_text(paragraph[pos : m.start()]))
        out.append(math_to_mathml(m.group(1), True) if m.group(1) is not None else math_to_mathml(m.group(2)))
        pos = m.end()
    out.append(_text(paragraph[pos:]))
    return "".join(out)


# A fenced code block: a line of three backticks (and a language name), the code, a line of three
# backticks. Its text is literal: no math, no Markdown, blank lines kept.
FENCE = re.compile(r"^```[ \t]*[\w+-]*[ \t]*\n(.*?)\n?^```[ \t]*$", re.M | re.S)


def _code_html(code: str) -> str:
    return f"<pre><code>{html.escape(code, quote=False)}</code></pre>"


def _code_plan(code: str) -> str:
    return _code_html(code).replace("7", _TEXT_SLOT)


def _blocks(text: str, inline, code=_code_html) -> str:
    if "```" not in text:
        return _prose_blocks(text, inline)
    out, pos = [], 0
    for m in FENCE.finditer(text):  # code first: a blank line inside it is not a paragraph break
        if text[pos : m.start()].strip():
            out.append(_prose_blocks(text[pos : m.start()], inline))
        out.append(code(m.group(1)))
        pos = m.end()
    if text[pos:].strip() or not out:
        out.append(_prose_blocks(text[pos:], inline))
    return "\n".join(out)


def _prose_blocks(text: str, inline) -> str:
    blocks = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = para.split("\n")
        if all(line.lstrip().startswith("- ") for line in lines if line.strip()):
            items = "".join(f"<li>{inline(line.lstrip()[2:])}</li>" for line in lines if line.strip())
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append(f"<p>{inline(para)}</p>")
    return "\n".join(blocks)


# ------------------------------------------------------------------ text skeletons
# A question's texts differ between students mostly in their numbers, so a whole text is also
# rendered once as a skeleton (every number, sign included, replaced by a ``7``) and the numbers
# are put back into its slots. Outside math a number is a run of digits, a sign and a dot, which
# escaping and the Markdown rules pass through unchanged; the one exception is a number's sign
# right after a ``*`` (it decides whether the ``*`` closes an italic), so such texts take the
# general path. Inside math a slot is an ``<mn>`` of the formula's skeleton, as in
# :func:`math_to_mathml`, whose number-dependent checks the skeleton records per slot.

_TEXT_SLOT, _MATH_SLOT, _MATH_SLOT_SHORT, _MATH_SLOT_UNSIGNED = "\x01\x02\x03\x04"
_MARKS = re.compile("[\x01-\x04]")


class _Unplannable(Exception):
    pass


def _math_plan(latex: str, display: bool) -> str:
    """The MathML of a skeleton formula with a mark for each slot (see _MARKS)."""
    if "7" not in latex:
        return _convert(latex, display)
    found = _skeleton(latex, display)
    if found is None:
        raise _Unplannable
    pieces, short, unsigned = found
    marks = [_MATH_SLOT] * (len(pieces) - 1)
    for i in short:
        marks[i] = _MATH_SLOT_SHORT
    for i in unsigned:
        marks[i] = _MATH_SLOT_UNSIGNED
    out = [pieces[0]]
    for mark, piece in zip(marks, pieces[1:], strict=True):
        out.append(mark)
        out.append(piece)
    return "".join(out)


def _inline_plan(paragraph: str) -> str:
    out, pos = [], 0
    for m in _MATH.finditer(paragraph):
        out.append(_text(paragraph[pos : m.start()]).replace("7", _TEXT_SLOT))
        out.append(_math_plan(m.group(1), True) if m.group(1) is not None else _math_plan(m.group(2), False))
        pos = m.end()
    out.append(_text(paragraph[pos:]).replace("7", _TEXT_SLOT))
    return "".join(out)


@lru_cache(maxsize=1024)  # a plan per text shape: a few hundred for a large exam
def _plan(skeleton: str):
    """(HTML pieces between slots, which slots are math, slots that must be one character,
    slots that must not be negative), or None where the text needs the general path."""
    if "*7" in skeleton or _MARKS.search(skeleton):
        return None
    try:
        marked = _blocks(skeleton, _inline_plan, _code_plan)
    except (_Unplannable, ValueError):
        return None
    marks = _MARKS.findall(marked)
    if len(marks) != skeleton.count("7"):
        return None
    is_math = tuple(m != _TEXT_SLOT for m in marks)
    short = tuple(i for i, m in enumerate(marks) if m == _MATH_SLOT_SHORT)
    unsigned = tuple(i for i, m in enumerate(marks) if m == _MATH_SLOT_UNSIGNED)
    return tuple(_MARKS.split(marked)), is_math, short, unsigned


def _from_plan(parts: list[str]) -> str | None:
    plan = _plan("7".join(parts[::2]))
    if plan is None:
        return None
    pieces, is_math, short, unsigned = plan
    numbers = parts[1::2]
    if not _fits(numbers, short, unsigned):  # once more with the misfits kept in the skeleton
        kept = _keeping_misfits(parts, short, unsigned)
        if kept is None:
            return None
        skeleton, numbers = kept
        plan = _plan(skeleton)
        if plan is None:
            return None
        pieces, is_math, short, unsigned = plan
        if not _fits(numbers, short, unsigned):
            return None
    out = [pieces[0]]
    for number, math, piece in zip(numbers, is_math, pieces[1:], strict=True):
        if not math:
            out.append(number)
        elif number[0] == "-":
            out.append(f"{_MINUS}<mn>{number[1:]}</mn>")
        else:
            out.append(f"<mn>{number}</mn>")
        out.append(piece)
    return "".join(out)


def to_html_general(text: str) -> Markup:
    """:func:`to_html` without the text skeletons (the reference the fast path must equal)."""
    return Markup(_blocks(text, _inline))


@lru_cache(maxsize=512)  # a paper and its key render the same texts; small, so memory stays flat
def to_html(text: str) -> Markup:
    """HTML for question text; display math may span lines inside a paragraph."""
    parts = _NUMBER_SPLIT.split(text)
    if len(parts) > 1:
        fast = _from_plan(parts)
        if fast is not None:
            return Markup(fast)
    return Markup(_blocks(text, _inline))
