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


@lru_cache(maxsize=65536)
def math_to_mathml(latex: str, display: bool = False) -> str:
    """MathML for one LaTeX formula (cached: exams repeat the same formulas many times)."""
    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises many types; the paper must still be written
        raise ValueError(f"cannot render the formula ${latex}$: {exc}") from exc


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
