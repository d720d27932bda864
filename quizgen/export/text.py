"""Question text (Markdown with ``$...$`` / ``$$...$$`` LaTeX) for the exports: the one place
where it is split into blocks and math, and written as LMS HTML or as LaTeX.

Blocks: paragraphs (separated by blank lines), ``- `` bullet lists, fenced code, and pipe tables
(``| a | b |`` lines; a ``|---|`` rule line after the first row makes it a header). Inside a
block: ``$...$`` inline math, ``$$...$$`` display math (may span lines), ``**bold**``,
``*italic*``, `` `code` ``; ``\\$`` is a literal dollar.

- :func:`to_lms_html`: HTML for Moodle and Canvas, with math left as LaTeX between ``\\(...\\)``
  (inline) and ``$$...$$`` (display), the delimiters both Moodle's filters (MathJax and the TeX
  notation filter) and Canvas render; ``<``, ``>`` and ``&`` inside math are HTML-escaped.
- :func:`to_latex`: a LaTeX fragment: math is kept as written (display math as ``\\[...\\]``),
  text is escaped, and non-ASCII characters are written as LaTeX commands
  (:func:`char_latex`), so the .tex file is plain ASCII plus Latin-1 letters.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from ..markup import _MATH, FENCE  # the one definition of where math and fenced code start and end

__all__ = [
    "UNICODE_LATEX",
    "Block",
    "blocks",
    "char_latex",
    "latex_escape",
    "segments",
    "to_latex",
    "to_lms_html",
    "to_lms_inline",
]


class Block(NamedTuple):
    """``kind`` is 'para' (``items`` = one text), 'list' (one text per bullet) or 'table'
    (``items`` = rows of cell texts; ``header`` says whether the first row is a header)."""

    kind: str
    items: tuple
    header: bool = False


_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _cells(line: str) -> tuple[str, ...]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return tuple(c.strip() for c in inner.split("|"))


def blocks(text: str) -> list[Block]:
    """Split ``text`` into paragraphs, bullet lists, tables and fenced code ('code', the literal
    code as its one item)."""
    out: list[Block] = []
    pos = 0
    for m in FENCE.finditer(text) if "```" in text else ():
        out.extend(_prose_blocks(text[pos : m.start()]))
        out.append(Block("code", (m.group(1),)))
        pos = m.end()
    out.extend(_prose_blocks(text[pos:]))
    return out


def _prose_blocks(text: str) -> list[Block]:
    out: list[Block] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in para.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.lstrip().startswith("- ") for line in lines):
            out.append(Block("list", tuple(line.lstrip()[2:] for line in lines)))
        elif len(lines) >= 2 and all(line.lstrip().startswith("|") for line in lines):
            header = bool(_RULE.match(lines[1]))
            rows = [_cells(line) for i, line in enumerate(lines) if not (header and i == 1)]
            out.append(Block("table", tuple(rows), header))
        else:
            out.append(Block("para", ("\n".join(lines),)))
    return out


def segments(text: str) -> list[tuple[str, str]]:
    """``(kind, content)`` pieces in order: kind is 'text', 'math' or 'display'."""
    out, pos = [], 0
    for m in _MATH.finditer(text):
        if m.start() > pos:
            out.append(("text", text[pos : m.start()]))
        out.append(("display", m.group(1)) if m.group(1) is not None else ("math", m.group(2)))
        pos = m.end()
    if pos < len(text):
        out.append(("text", text[pos:]))
    return out


# Inline Markdown inside text pieces: code first (its content is literal), then bold, italic.
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def _inline_text(segment: str, escape: Callable[[str], str], code, bold, italic) -> str:
    segment = segment.replace("\\$", "$")
    out, pos = [], 0
    for m in _CODE.finditer(segment):
        out.append(_emphasis(segment[pos : m.start()], escape, bold, italic))
        out.append(code(escape(m.group(1))))
        pos = m.end()
    out.append(_emphasis(segment[pos:], escape, bold, italic))
    return "".join(out)


def _emphasis(segment: str, escape, bold, italic) -> str:
    # Mark the emphasis on the raw text with placeholders that escaping leaves alone, then swap.
    marks = {"\x01": bold[0], "\x02": bold[1], "\x03": italic[0], "\x04": italic[1]}
    segment = _BOLD.sub("\x01\\1\x02", segment)
    segment = _ITALIC.sub("\x03\\1\x04", segment)
    text = escape(segment)
    for mark, repl in marks.items():
        text = text.replace(mark, repl)
    return text


# ------------------------------------------------------------------------------------ HTML


def _html_escape(s: str) -> str:
    return html.escape(s, quote=False)


def _html_inline(text: str) -> str:
    out = []
    for kind, content in segments(text):
        if kind == "text":
            out.append(
                _inline_text(
                    content,
                    _html_escape,
                    lambda c: f"<code>{c}</code>",
                    ("<strong>", "</strong>"),
                    ("<em>", "</em>"),
                )
            )
        elif kind == "math":
            out.append(r"\(" + _html_escape(content.strip()) + r"\)")
        else:
            out.append("$$" + _html_escape(content.strip()) + "$$")
    return "".join(out)


def to_lms_inline(text: str) -> str:
    """HTML for a short text (feedback, an option) without paragraph tags."""
    return " ".join(_html_inline(line) for line in text.strip().split("\n") if line.strip())


@lru_cache(maxsize=4096)
def to_lms_html(text: str) -> str:
    """HTML for an LMS: math stays LaTeX between ``\\(...\\)`` and ``$$...$$``."""
    parts = []
    for b in blocks(text):
        if b.kind == "para":
            parts.append(f"<p>{_html_inline(b.items[0])}</p>")
        elif b.kind == "list":
            parts.append("<ul>" + "".join(f"<li>{_html_inline(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "code":
            parts.append(f"<pre><code>{_html_escape(b.items[0])}</code></pre>")
        else:
            rows = []
            for r, row in enumerate(b.items):
                tag = "th" if b.header and r == 0 else "td"
                rows.append("<tr>" + "".join(f"<{tag}>{_html_inline(c)}</{tag}>" for c in row) + "</tr>")
            parts.append('<table border="1" cellpadding="4">' + "".join(rows) + "</table>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------ LaTeX

#: Non-ASCII characters the bank's texts use, as LaTeX that works in text and in math.
_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ",
        [
            "alpha",
            "beta",
            "gamma",
            "delta",
            "epsilon",
            "zeta",
            "eta",
            "theta",
            "iota",
            "kappa",
            "lambda",
            "mu",
            "nu",
            "xi",
            "pi",
            "rho",
            "sigma",
            "tau",
            "upsilon",
            "phi",
            "chi",
            "psi",
            "omega",
            "Gamma",
            "Delta",
            "Theta",
            "Lambda",
            "Xi",
            "Pi",
            "Sigma",
            "Phi",
            "Psi",
            "Omega",
        ],
        strict=True,
    )
)

UNICODE_LATEX: dict[str, str] = {
    **{ch: rf"\ensuremath{{\{name}}}" for ch, name in _GREEK.items()},
    "ϵ": r"\ensuremath{\epsilon}",
    "§": r"\ensuremath{\S}",  # a section sign (the course notes cite themselves); math \S is a Type 1 glyph
    "‖": r"\ensuremath{\Vert}",
    "≤": r"\ensuremath{\le}",
    "≥": r"\ensuremath{\ge}",
    "≠": r"\ensuremath{\ne}",
    "≈": r"\ensuremath{\approx}",
    "×": r"\ensuremath{\times}",
    "·": r"\ensuremath{\cdot}",
    "⋅": r"\ensuremath{\cdot}",
    "−": r"\ensuremath{-}",
    "±": r"\ensuremath{\pm}",
    "÷": r"\ensuremath{\div}",
    "→": r"\ensuremath{\to}",
    "←": r"\ensuremath{\leftarrow}",
    "⇒": r"\ensuremath{\Rightarrow}",
    "∞": r"\ensuremath{\infty}",
    "∑": r"\ensuremath{\sum}",
    "∏": r"\ensuremath{\prod}",
    "√": r"\ensuremath{\surd}",
    "∂": r"\ensuremath{\partial}",
    "∇": r"\ensuremath{\nabla}",
    "∈": r"\ensuremath{\in}",
    "∘": r"\ensuremath{\circ}",
    "⊙": r"\ensuremath{\odot}",
    "⊗": r"\ensuremath{\otimes}",
    "⌊": r"\ensuremath{\lfloor}",
    "⌋": r"\ensuremath{\rfloor}",
    "⌈": r"\ensuremath{\lceil}",
    "⌉": r"\ensuremath{\rceil}",
    "²": r"\ensuremath{^2}",
    "³": r"\ensuremath{^3}",
    "¹": r"\ensuremath{^1}",
    "½": r"\ensuremath{\tfrac12}",
    "°": r"\ensuremath{^\circ}",
    "…": r"\ldots{}",
    "–": "--",
    "—": "---",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "•": r"\ensuremath{\bullet}",
    "\u00a0": "~",
    "\u2009": r"\,",
    "\u202f": r"\,",
}

#: Latin-1 letters pdflatex's utf8 input sets in its default (OT1) font encoding.
_LATIN = set("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßœŒ")

#: Combining accents: (text accent command, math accent command).
_ACCENTS = {
    "\u0300": ("`", "grave"),
    "\u0301": ("'", "acute"),
    "\u0302": ("^", "hat"),
    "\u0303": ("~", "tilde"),
    "\u0304": ("=", "bar"),
    "\u0307": (".", "dot"),
    "\u0308": ('"', "ddot"),
    "\u030c": ("v", "check"),
}
_SCRIPT_CHARS = set("0123456789+-=()abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def char_latex(ch: str) -> str | None:
    """LaTeX for one non-ASCII character (or a letter and a combining accent), usable in text and
    in math, or None.

    From :data:`UNICODE_LATEX`; super- and subscript letters and digits (ᵀ, ₁, ²) as
    ``\\ensuremath{^{T}}``; a letter with an accent (ŷ) as ``\\TextOrMath{\\^{y}}{\\hat{y}}``."""
    if ch in UNICODE_LATEX:
        return UNICODE_LATEX[ch]
    decomposition = unicodedata.decomposition(ch).split() if len(ch) == 1 else []
    if len(decomposition) == 2 and decomposition[0] in ("<super>", "<sub>"):
        base = chr(int(decomposition[1], 16))
        if base in _SCRIPT_CHARS:
            return rf"\ensuremath{{{'^' if decomposition[0] == '<super>' else '_'}{{{base}}}}}"
    parts = unicodedata.normalize("NFD", ch)
    if len(parts) == 2 and parts[0].isascii() and parts[0].isalpha() and parts[1] in _ACCENTS:
        text, math = _ACCENTS[parts[1]]
        return rf"\TextOrMath{{\{text}{{{parts[0]}}}}}{{\{math}{{{parts[0]}}}}}"
    return None


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "#": r"\#",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


_CLUSTER = re.compile(r"[A-Za-z][\u0300-\u036f]|.", re.S)


def _clusters(s: str) -> list[str]:
    """Characters, with an ASCII letter and a combining accent after it (x̂) kept together."""
    return _CLUSTER.findall(unicodedata.normalize("NFC", s))


def _non_ascii(ch: str, warn) -> str:
    tex = char_latex(ch)
    if tex is not None:
        return tex
    if warn is not None:
        warn(f"character {ch!r} (U+{ord(ch):04X}) has no LaTeX form here; printed as '?'")
    return "?"


def latex_escape(s: str, warn: Callable[[str], None] | None = None) -> str:
    """Plain text as LaTeX: specials escaped, other characters through :func:`char_latex`;
    characters without a LaTeX form become '?' (and ``warn`` is called with a message)."""
    out = []
    for ch in _clusters(s):
        if ch in _LATEX_SPECIALS:
            out.append(_LATEX_SPECIALS[ch])
        elif ch.isascii() or ch in _LATIN:
            out.append(ch)
        else:
            out.append(_non_ascii(ch, warn))
    return "".join(out)


def _math_chars(latex: str, warn) -> str:
    return "".join(
        ch if ord(ch) < 128 else _non_ascii(ch, warn) for ch in unicodedata.normalize("NFC", latex)
    )


def _latex_inline(text: str, warn) -> str:
    out = []
    for kind, content in segments(text):
        if kind == "text":
            out.append(
                _inline_text(
                    content,
                    lambda s: latex_escape(s, warn),
                    lambda c: rf"\texttt{{{c}}}",
                    (r"\textbf{", "}"),
                    (r"\emph{", "}"),
                )
            )
        elif kind == "math":
            out.append("$" + _math_chars(content.strip(), warn) + "$")
        else:
            out.append("\\[" + _math_chars(content.strip(), warn) + "\\]")
    return "".join(out)


def _latex_code(code: str, warn) -> str:
    r"""Fenced code as typewriter lines that keep their spaces (``~``, as wide as a character in
    a monospaced font) and break only where the code does; no verbatim, so it works inside any
    macro argument. ``\\{}`` keeps a line starting with ``[`` from being read as ``\\[...]``."""
    lines = [latex_escape(line, warn).replace(" ", "~") or r"\mbox{}" for line in code.split("\n")]
    return "\\begin{flushleft}\\ttfamily\\small\n" + "\\\\{}\n".join(lines) + "\n\\end{flushleft}"


def to_latex(text: str, warn: Callable[[str], None] | None = None) -> str:
    """A LaTeX fragment for ``text``: paragraphs, ``itemize`` lists, booktabs tables."""
    parts = []
    for b in blocks(text):
        if b.kind == "para":
            parts.append(_latex_inline(b.items[0], warn))
        elif b.kind == "list":
            items = "\n".join(rf"  \item {_latex_inline(i, warn)}" for i in b.items)
            parts.append("\\begin{itemize}\n" + items + "\n\\end{itemize}")
        elif b.kind == "code":
            parts.append(_latex_code(b.items[0], warn))
        else:
            width = max(len(row) for row in b.items)
            lines = [r"\begin{tabular}{" + "l" * width + "}", r"\toprule"]
            for r, row in enumerate(b.items):
                cells = [_latex_inline(c, warn) for c in row] + [""] * (width - len(row))
                lines.append(" & ".join(cells) + r" \\")
                if b.header and r == 0:
                    lines.append(r"\midrule")
            lines.append(r"\bottomrule")
            lines.append(r"\end{tabular}")
            parts.append("\\begin{center}\n" + "\n".join(lines) + "\n\\end{center}")
    return "\n\n".join(parts)
