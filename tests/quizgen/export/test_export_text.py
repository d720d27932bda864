"""The one conversion of question text for the exports: LMS HTML and LaTeX."""

from quizgen.export.text import blocks, char_latex, latex_escape, to_latex, to_lms_html, to_lms_inline


def test_lms_html_keeps_math_as_latex_with_moodle_and_canvas_delimiters():
    html = to_lms_html("Let $a < b$ and\n$$W = \\begin{bmatrix} 1 & 2 \\end{bmatrix}$$")
    assert r"\(a &lt; b\)" in html
    assert r"$$W = \begin{bmatrix} 1 &amp; 2 \end{bmatrix}$$" in html
    assert html.startswith("<p>") and html.endswith("</p>")


def test_lms_html_escapes_text_and_renders_markdown():
    html = to_lms_html("**Bold** and *it* and `x<y` cost \\$5 & <script>\n\n- one\n- two $x$")
    assert "<strong>Bold</strong>" in html and "<em>it</em>" in html
    assert "<code>x&lt;y</code>" in html
    assert "cost $5 &amp; &lt;script&gt;" in html
    assert r"<ul><li>one</li><li>two \(x\)</li></ul>" in html


def test_pipe_tables_become_tables_with_a_header_row():
    text = "| layer | params |\n|---|---|\n| conv | $k^2 c$ |"
    (block,) = blocks(text)
    assert (
        block.kind == "table" and block.header and block.items == (("layer", "params"), ("conv", "$k^2 c$"))
    )
    assert "<th>layer</th>" in to_lms_html(text) and r"<td>\(k^2 c\)</td>" in to_lms_html(text)
    latex = to_latex(text)
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert rule in latex
    assert r"conv & $k^2 c$ \\" in latex


def test_latex_escapes_text_but_leaves_math_as_written():
    latex = to_latex("Rate 50% of $x_{1}^2$ & a_b #1 ~ {c} \\$3\n\n$$\\sum_i w_i$$")
    assert r"Rate 50\% of $x_{1}^2$ \& a\_b \#1 \textasciitilde{} \{c\} \$3" in latex
    assert r"\[\sum_i w_i\]" in latex


def test_latex_lists_and_emphasis():
    latex = to_latex("- **first** item\n- *second* `a_b`")
    assert latex.startswith("\\begin{itemize}") and latex.endswith("\\end{itemize}")
    assert r"\item \textbf{first} item" in latex
    assert r"\item \emph{second} \texttt{a\_b}" in latex


def test_unicode_gets_latex_forms_in_text_and_math():
    assert latex_escape("λ‖w‖² ≤ 1") == (
        r"\ensuremath{\lambda}\ensuremath{\Vert}w\ensuremath{\Vert}\ensuremath{^2} \ensuremath{\le} 1"
    )
    # x followed by a combining circumflex, as the norm templates write x-hat
    assert latex_escape("x\u0302") == r"\TextOrMath{\^{x}}{\hat{x}}"
    assert char_latex("ᵀ") == r"\ensuremath{^{T}}" and char_latex("₁") == r"\ensuremath{_{1}}"
    assert "$W\\ensuremath{^{T}}x$" in to_latex("$Wᵀx$")


def test_a_character_without_latex_form_is_a_question_mark_and_a_warning():
    seen = []
    assert latex_escape("snow ☃", seen.append) == "snow ?"
    assert seen == ["character '☃' (U+2603) has no LaTeX form here; printed as '?'"]


def test_inline_html_has_no_paragraphs():
    assert to_lms_inline("Use $\\eta$\nthen **stop**") == r"Use \(\eta\) then <strong>stop</strong>"
