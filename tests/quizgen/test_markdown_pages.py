"""Markdown papers and keys read by a CommonMark parser (markdown-it-py), over the whole built-in
bank and several seeds: each option its own list item, each key answer its own quote holding
only the answer, each part its own paragraph, each heading a heading."""

import pytest

from quizgen import bank, engine
from quizgen.manifest import Question, StudentPaper
from quizgen.models import ANSWER_KINDS
from quizgen.output import md_code, render_paper
from quizgen.selection import labels as option_labels

markdown_it = pytest.importorskip("markdown_it")

SEEDS = (0, 1, 2)
EXAM = {"title": "Midterm", "course": "Deep learning", "instructions": "Show your work."}


@pytest.fixture(scope="module")
def papers():
    b = bank.load_bank()
    templates = sorted(b.templates)
    out = []
    for seed in SEEDS:
        questions = tuple(
            Question(n, n, f"Section {1 + (n - 1) // 10}", engine.build_instance(b.get(tid), seed))
            for n, tid in enumerate(templates, 1)
        )
        out.append(StudentPaper(f"s{seed}", f"Student {seed}", "", questions))
    return out


def _blocks(tokens):
    """(type, level, inline text) of every block, in order."""
    out = []
    for i, t in enumerate(tokens):
        if t.type.endswith("_open") or t.type in ("fence", "code_block", "hr"):
            inline = tokens[i + 1].content if i + 1 < len(tokens) and tokens[i + 1].type == "inline" else ""
            out.append((t.type, t.tag, t.level, inline))
    return out


@pytest.mark.parametrize("key", [False, True], ids=["paper", "key"])
def test_markdown_pages_parse_into_the_blocks_they_mean(papers, key):
    md = markdown_it.MarkdownIt("commonmark")
    for paper in papers:
        text = render_paper(EXAM, paper, key=key, fmt="md")
        blocks = _blocks(md.parse(text))
        headings = [(tag, inline) for typ, tag, _, inline in blocks if typ == "heading_open"]
        sections = list(dict.fromkeys(q.section for q in paper.questions))
        assert [h for tag, h in headings if tag == "h2"] == sections
        assert [h for tag, h in headings if tag == "h3"] == [
            f"Question {q.number}. {q.instance.title} ({q.instance.points:g} points)" for q in paper.questions
        ]
        paragraphs = [inline for typ, tag, level, inline in blocks if typ == "paragraph_open" and level == 0]
        items = [inline for typ, tag, level, inline in blocks if typ == "paragraph_open" and level > 0]
        quotes = [i for i, b in enumerate(blocks) if b[0] == "blockquote_open"]
        n_parts = sum(len(q.instance.parts) for q in paper.questions)
        labels = [p for p in paragraphs if p.startswith("**(")]
        assert len(labels) == n_parts, "a part's label is not its own top-level paragraph"
        expected_options = [
            # text options are Markdown (math, code spans) and true/false is lettered T and F
            f"**{option_labels(p)[i]}.** {o if ANSWER_KINDS[p.kind].texts else md_code(o)}"
            for q in paper.questions
            for p in q.instance.parts
            for i, o in enumerate(p.options)
        ]
        option_items = [i for i in items if i.startswith("**") and i[2:3].isupper() and i[3:6] == ".**"]
        assert option_items == expected_options, "options ran together or were lost"
        if key:
            assert len(quotes) == n_parts
            for i in quotes:  # a quote holds one paragraph, the answer, and nothing after it
                inside = blocks[i + 1]
                assert inside[0] == "paragraph_open" and inside[3].startswith("Answer: "), inside
                assert "**(" not in inside[3] and "\n" not in inside[3], inside[3]
                assert blocks[i + 2][0] != "paragraph_open" or blocks[i + 2][2] == 0
        else:
            assert not quotes and "Answer:" not in text


def test_md_code_fences_any_backticks():
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
    md = markdown_it.MarkdownIt("commonmark")
    for text in ("a`b", "`x`", "``", "[[1, 2],\n [3, 4]]"):
        html = md.render(md_code(text)).strip()
        assert html.startswith("<p><code>") and html.endswith("</code></p>"), html
