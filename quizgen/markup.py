"""Question text (a little Markdown with ``$...$`` and ``$$...$$`` LaTeX) to HTML with MathML.

Math is converted on our side by latex2mathml, so a paper is one self-contained HTML file that
renders in a browser with no network and no JavaScript. Text outside math is escaped; supported
Markdown: paragraphs (blank lines), ``- `` bullet lines, ``**bold**``, ``*italic*``, `` `code` ``.
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


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")  # a leading minus converts to <mo>−</mo> before the <mn>
_MINUS = "<mo>&#x02212;</mo>"
_SLOT = "<mn>7</mn>"
# TeX splits a number of two or more characters right after ^, _ or a command that takes an
# argument (x^23, \frac12, \sqrt 25) into single-character arguments, and a power binds to a
# negative number's digits alone (-0.9^2); the skeleton would change the structure there.
_ARG_COMMANDS = (
    "frac|tfrac|dfrac|cfrac|binom|sqrt|hat|widehat|bar|overline|underline|vec|tilde|widetilde|dot|ddot|"
    "mathrm|mathbf|mathit|mathbb|mathcal|mathsf|text|textbf|textit|operatorname|boldsymbol|pmb|overset|underset"
)
_SPLIT_BY_TEX = re.compile(
    rf"(?:[\^_]|\\(?:{_ARG_COMMANDS})(?![A-Za-z]))\s*(?:\d(?:\d|\.\d)|-)|-\d[\d.]*\s*[\^_]"
)
# A 7 in the text of an <mtext>, <mi> or <mo> (say from \text{7}) is a placeholder the skeleton
# cannot put back; a 7 inside a character reference (&#x000D7; is the times sign) is not one.
_SEVEN_IN_TEXT = re.compile(
    r"<(?:mtext|mi|mo)\b[^>]*>"
    r"(?:[^<&7]|&#x(?!0*37;)[0-9A-Fa-f]+;|&#(?!0*55;)[0-9]+;|&[A-Za-z]+;)*"
    r"(?:7|&#x0*37;|&#0*55;)"
)


@lru_cache(maxsize=8192)
def _convert(latex: str, display: bool) -> str:
    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises many types; say which formula failed
        raise ValueError(f"cannot render the formula ${latex}$: {exc}") from exc


@lru_cache(maxsize=8192)
def _skeleton(skeleton: str, display: bool) -> tuple[str, ...] | None:
    """The skeleton's MathML cut at its ``<mn>7</mn>`` slots, or None where a placeholder
    landed in text (the slots would not be the numbers)."""
    pieces = _convert(skeleton, display).split(_SLOT)
    if any(_SEVEN_IN_TEXT.search(p) for p in pieces):
        return None
    return tuple(pieces)


def math_to_mathml(latex: str, display: bool = False) -> str:
    """MathML for one LaTeX formula.

    Variants of a question differ mostly in their numbers, and converting a formula costs about
    a millisecond, so the formula is converted once with every number replaced by ``7`` (cached)
    and the real numbers are put back into the ``<mn>`` slots. Where the slots do not line up
    one to one (a digit inside ``\\text{}``, ``\\frac12``, ``x^23``), it is converted directly.
    """
    numbers = _NUMBER.findall(latex)
    if not numbers or _SPLIT_BY_TEX.search(latex):
        return _convert(latex, display)
    pieces = _skeleton(_NUMBER.sub("7", latex), display)
    if pieces is None or len(pieces) != len(numbers) + 1:
        return _convert(latex, display)
    out = [pieces[0]]
    for number, piece in zip(numbers, pieces[1:], strict=True):
        out.append(f"{_MINUS}<mn>{number[1:]}</mn>" if number[0] == "-" else f"<mn>{number}</mn>")
        out.append(piece)
    return "".join(out)


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


@lru_cache(maxsize=512)  # a paper and its key render the same texts; small, so memory stays flat
def to_html(text: str) -> Markup:
    """HTML for question text; display math may span lines inside a paragraph."""
    blocks = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = para.split("\n")
        if all(line.lstrip().startswith("- ") for line in lines if line.strip()):
            items = "".join(f"<li>{_inline(line.lstrip()[2:])}</li>" for line in lines if line.strip())
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append(f"<p>{_inline(para)}</p>")
    return Markup("\n".join(blocks))
