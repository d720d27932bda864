"""Fenced code blocks (code-reading questions) in every output: the paper's HTML, Markdown (read
by a CommonMark parser), the LMS HTML of Moodle and Canvas, and LaTeX; the code stays literal
(no math, no emphasis, blank lines and indentation kept)."""

import re
from pathlib import Path

import pytest

from quizgen import bank, engine, question_bank
from quizgen.export.text import blocks, to_latex, to_lms_html
from quizgen.manifest import Question, StudentPaper
from quizgen.markup import to_html, to_html_general
from quizgen.output import render_paper

markdown_it = pytest.importorskip("markdown_it")

CODE = "y = x * 2 - $a$ + x*y*z  # <7>\n\n    z = f(y)  &  [1, 2]"
EXAM = {"title": "T", "course": "C", "instructions": ""}
TEXT = f"Read this, 3 times:\n\n```python\n{CODE}\n```\n\nThen $x^2 = 4$ and **bold**."


def test_paper_html_shows_the_code_as_it_is():
    html = str(to_html(TEXT))
    assert (
        "<pre><code>y = x * 2 - $a$ + x*y*z  # &lt;7&gt;\n\n    z = f(y)  &amp;  [1, 2]</code></pre>" in html
    )
    assert html.startswith("<p>Read this, 3 times:</p>\n<pre>")
    assert "<math" in html and "<strong>bold</strong>" in html  # the text around it as before
    assert html == str(to_html_general(TEXT))  # the fast path (numbers in slots) agrees


def test_lms_html_and_blocks():
    assert [b.kind for b in blocks(TEXT)] == ["para", "code", "para"]
    assert blocks(TEXT)[1].items == (CODE,)
    html = to_lms_html(TEXT)
    assert (
        "<pre><code>y = x * 2 - $a$ + x*y*z  # &lt;7&gt;\n\n    z = f(y)  &amp;  [1, 2]</code></pre>" in html
    )
    assert r"\(x^2 = 4\)" in html


def test_latex_keeps_spaces_and_line_breaks_outside_verbatim():
    tex = to_latex(TEXT)
    code = re.search(r"\\begin\{flushleft\}\\ttfamily\\small\n(.*?)\n\\end\{flushleft\}", tex, re.S).group(1)
    assert code.split("\\\\{}\n") == [
        r"y~=~x~*~2~-~\$a\$~+~x*y*z~~\#~\textless{}7\textgreater{}",
        r"\mbox{}",
        r"~~~~z~=~f(y)~~\&~~[1,~2]",
    ]
    assert "$x^2 = 4$" in tex


@pytest.fixture(scope="module")
def code_paper():
    folder = Path(question_bank.__file__).parent
    b = bank.load_bank([folder / "architectures.yaml", folder / "residual.yaml"], include_builtin=False)
    ids = ("arch.sequential_code", "arch.tensor_shapes", "resnet.projection_shortcut")
    questions = tuple(
        Question(n, n, "", engine.build_instance(b.get(tid), 5)) for n, tid in enumerate(ids, 1)
    )
    return StudentPaper("s1", "Student 1", "", questions)


def _fenced(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)\n```$", text, re.M | re.S)


def test_markdown_papers_carry_the_code_as_one_fence(code_paper):
    md = markdown_it.MarkdownIt("commonmark")
    for key in (False, True):
        tokens = md.parse(render_paper(EXAM, code_paper, key=key, fmt="md"))
        fences = [t for t in tokens if t.type == "fence"]
        expected = [c for q in code_paper.questions for c in _fenced(q.instance.text)]
        assert len(expected) == 3
        assert [(t.info, t.content) for t in fences] == [("python", c + "\n") for c in expected]
        assert fences[0].content.startswith("model = nn.Sequential(\n    nn.Conv2d(")


def test_html_papers_carry_the_code_in_pre(code_paper):
    page = render_paper(EXAM, code_paper, key=False, fmt="html")
    for q in code_paper.questions:
        for code in _fenced(q.instance.text):
            assert f"<pre><code>{code.replace('>', '&gt;')}</code></pre>" in page
