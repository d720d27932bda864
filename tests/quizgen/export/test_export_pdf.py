"""Printable papers and keys: the LaTeX is right, and where pdflatex is installed, a paper and a
key holding every template of the built-in bank, and a sample of the example exam, compile to
PDFs whose first page renders (with pdftoppm) to an image with ink on it, with no line more than
1 pt too wide and every prompt on the page of its answer box (read with pdftotext); names in any
script print where lualatex is installed. The compile tests skip, saying why, only where a tool
is missing (install: scripts/install-pdf-deps.sh)."""

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from export_helpers import awkward, hand_source, lr_update, make_instance

from quizgen import bank, exam
from quizgen.export import pdf
from quizgen.export.common import source_from_manifest
from quizgen.manifest import Manifest, StudentPaper
from quizgen.models import InstancePart, Tolerance

EXAMPLES = Path(__file__).parents[3] / "examples"
_MISSING = [tool for tool in ("pdflatex", "pdftoppm", "pdftotext", "pdffonts") if shutil.which(tool) is None]
NEEDS_TEX = pytest.mark.skipif(
    "pdflatex" in _MISSING, reason=f"pdflatex is not installed (install: {pdf.INSTALL_COMMAND})"
)
NEEDS_TEX_AND_POPPLER = pytest.mark.skipif(
    bool(_MISSING), reason=f"{' and '.join(_MISSING)} not installed (install: {pdf.INSTALL_COMMAND})"
)


NEEDS_LUALATEX = pytest.mark.skipif(
    bool(_MISSING) or shutil.which("lualatex") is None or pdf.fallback_font() is None,
    reason=f"lualatex or a CJK font is not installed (install: {pdf.UNICODE_INSTALL_COMMAND})",
)


def pdf_pages(pdf_path) -> list[list[str]]:
    """The lines of each page of a PDF, as ``pdftotext -layout`` reads them."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [page.splitlines() for page in text.split("\f")]


def prompts_apart_from_their_box(pdf_path, paper: StudentPaper) -> list[str]:
    """Parts whose prompt ("(b) ...", after its "Question 3." heading) is on another page than
    its answer box (labelled "Answer 3(b)"), as "3(b): prompt on page 2, box on page 3"."""
    lines = [(n, line) for n, page in enumerate(pdf_pages(pdf_path), 1) for line in page]
    at, apart = 0, []

    def find(pattern: re.Pattern, what: str) -> int:
        nonlocal at
        while at < len(lines) and not pattern.search(lines[at][1]):
            at += 1
        assert at < len(lines), f"{pdf_path}: no {what} found in the text"
        return lines[at][0]

    for q in paper.questions:
        find(re.compile(rf"^\s*Question {q.number}\."), f"heading of question {q.number}")
        for part in q.instance.parts:
            if part.options:
                continue
            name = f"{q.number}({part.id})"
            pid = rf"\(\s*{re.escape(part.id)}\s*\)"  # pdftotext may read "(f)" as "(f )"
            prompt_page = find(re.compile(rf"^\s*{pid}\s"), f"prompt {name}")
            box_page = find(re.compile(rf"Answer {q.number}{pid}"), f"box {name}")
            if prompt_page != box_page:
                apart.append(f"{name}: prompt on page {prompt_page}, box on page {box_page}")
    return apart


def too_wide(warnings: list[str]) -> list[str]:
    return [w for w in warnings if "too wide" in w]


def first_page_gray(pdf_path, tmp_path) -> np.ndarray:
    """Page 1 rendered by pdftoppm at 40 dpi as a grayscale array (PGM, 0 = black)."""
    stem = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", "-singlefile", str(pdf_path), str(stem)],
        check=True,
    )
    data = (tmp_path / "page.pgm").read_bytes()
    magic, width, height, maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5" and int(maxval) == 255
    return np.frombuffer(pixels[: int(width) * int(height)], dtype=np.uint8).reshape(int(height), int(width))


def test_the_key_sets_matrices_with_bmatrix_and_mistakes_with_booktabs():
    source = hand_source([awkward()])
    paper = source.manifest.students[0]
    key = pdf.paper_tex(source.manifest.exam, paper, key=True)
    assert r"\usepackage{amsmath,amssymb}" in key and r"\usepackage{booktabs,array}" in key
    assert r"\begin{bmatrix} 1.5 \times 10^{-7} & -2.25 \\ 1000000 & 0 \end{bmatrix}" in key
    assert r"\texttt{[0, :, :]}" in key and r"\texttt{[1, :, :]}" in key  # the (2, 1, 2) tensor, per slice
    assert r"\texttt{(2, 3)}" in key  # the shape
    assert r"\textbf{B}: \texttt{0.3}" in key  # the choice
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert rule in key
    assert r"\texttt{transposed}" in key and "Worked solution" in key
    assert "(tolerance: 3 significant figures)" in key


def test_the_paper_has_answer_boxes_and_options_but_no_answers():
    source = hand_source([awkward()])
    paper = pdf.paper_tex(source.manifest.exam, source.manifest.students[0], key=False)
    assert paper.count(r"\answerbox[Answer 1(") == 4 and r"\item[C.] \texttt{0.6}" in paper
    assert "Answer:" not in paper and "Worked solution" not in paper and "transposed" not in paper


def test_tex_is_written_even_without_pdflatex(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "typesetter", lambda engine="pdflatex": None)
    with pytest.raises(pdf.PdfError, match="pdflatex is not installed; install it with: apt-get install"):
        pdf.export_pdf(hand_source([lr_update()]), tmp_path)
    assert (tmp_path / "papers" / "s0.tex").exists() and (tmp_path / "keys" / "s0.tex").exists()


def test_tex_only_writes_a_paper_and_key_per_student(tmp_path):
    result = pdf.export_pdf(hand_source([lr_update(0), lr_update(1)]), tmp_path, compile=False)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in result.files) == [
        "keys/s0.tex",
        "keys/s1.tex",
        "papers/s0.tex",
        "papers/s1.tex",
    ]
    assert result.warnings == []


def test_every_builtin_template_is_set_without_unknown_characters(builtin_source):
    warnings = []
    for paper in builtin_source.manifest.students:
        pdf.paper_tex(builtin_source.manifest.exam, paper, key=True, warn=warnings.append)
    assert warnings == [], "give these characters a LaTeX form in quizgen/export/text.py UNICODE_LATEX"


@NEEDS_TEX_AND_POPPLER
def test_every_template_compiles_to_a_pdf_with_ink_on_it(builtin_source, fixture_source, tmp_path):
    # one paper and one key holding variant 0 of every template, built-in and fixture
    questions = builtin_source.manifest.students[0].questions + fixture_source.manifest.students[0].questions
    paper = StudentPaper(
        "variant-0", "Variant 0", "", tuple(replace(q, number=n) for n, q in enumerate(questions, 1))
    )
    source = source_from_manifest(Manifest({"title": "Every template", "course": "T101"}, (paper,)))
    result = pdf.export_pdf(source, tmp_path / "out")
    pdfs = [f for f in result.files if f.suffix == ".pdf"]
    assert [p.relative_to(tmp_path / "out").as_posix() for p in pdfs] == [
        "papers/variant-0.pdf",
        "keys/variant-0.pdf",
    ]
    for path in pdfs:
        assert path.read_bytes()[:5] == b"%PDF-"
        page = first_page_gray(path, tmp_path)
        ink = float(np.mean(page < 128))
        assert 0.002 < ink < 0.5, f"{path.name}: {ink:.2%} of page 1 is dark"
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        assert "Type 3" not in fonts, f"{path.name} has a bitmap font:\n{fonts}"
    assert too_wide(result.warnings) == []
    assert prompts_apart_from_their_box(pdfs[0], paper) == []


def example_sample(tmp_path, rows: list[str]) -> Manifest:
    """The example exam (examples/midterm.yaml) for the roster ``rows`` (id,name)."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    spec = exam.load_spec(EXAMPLES / "midterm.yaml", bank.load_bank())
    return exam.build_exam(spec, exam.load_roster(roster))


@NEEDS_TEX_AND_POPPLER
def test_the_example_exam_keeps_within_the_margins_and_each_prompt_with_its_box(tmp_path):
    # four students of the example roster: papers and keys, every line checked in pdflatex's log
    rows = (EXAMPLES / "roster.csv").read_text(encoding="utf-8").splitlines()[1:5]
    manifest = example_sample(tmp_path, [",".join(r.split(",")[:2]) for r in rows])
    result = pdf.export_pdf(source_from_manifest(manifest), tmp_path / "out", jobs=2)
    assert too_wide(result.warnings) == [], "lines run into the margin"
    assert result.warnings == []
    for paper in manifest.students:
        path = tmp_path / "out" / "papers" / f"{paper.id}.pdf"
        assert prompts_apart_from_their_box(path, paper) == [], paper.id


def test_a_line_too_wide_is_reported_with_its_file_and_line():
    log = (
        "Overfull \\hbox (98.85608pt too wide) detected at line 502\n"
        "Overfull \\hbox (0.9pt too wide) in paragraph at lines 10--12\n"
        "Overfull \\hbox (12.5pt too wide) in paragraph at lines 20--22\n"
        "Missing character: There is no \u738b (U+738B) in font [lmroman10-regular]:+tlig;!\n"
    )
    assert pdf.layout_problems(log, "keys/s4.tex") == [
        "keys/s4.tex line 502: a line 98.9 pt too wide for the page",
        "keys/s4.tex line 20: a line 12.5 pt too wide for the page",
        "keys/s4.tex no font has \u738b (U+738B); install a font with them, for example"
        " fonts-wqy-microhei (see docs/pdf.md)",
    ]


def test_a_display_equation_gets_rows_at_its_equals_signs():
    rows = pdf._math_rows(
        r"\Delta p = -\frac{a = 1}{b} + \begin{bmatrix} 1 \\ 2 \end{bmatrix} = c, \qquad d \approx e"
    )
    assert (
        rows == r"\Delta p &= -\frac{a = 1}{b} + \begin{bmatrix} 1 \\ 2 \end{bmatrix} \\ &= c \\ d &\approx e"
    )


UNICODE_NAMES = [
    "s1,王小明 김민준",
    "s2,José Müller-Łukasiewicz 山田 太郎 (やまだ)",
]  # Chinese, Korean, Latin, Japanese


@NEEDS_LUALATEX
def test_names_in_any_script_print_with_lualatex(tmp_path):
    manifest = example_sample(tmp_path, UNICODE_NAMES)
    result = pdf.export_pdf(source_from_manifest(manifest), tmp_path / "out", jobs=2, keys=False)
    assert result.warnings == []
    for paper in manifest.students:
        path = tmp_path / "out" / "papers" / f"{paper.id}.pdf"
        assert path.with_suffix(".tex").read_text(encoding="utf-8").startswith("% !TEX program = lualatex")
        first_page = "\n".join(pdf_pages(path)[0])
        assert f"{paper.name} ({paper.id})" in first_page, paper.name


@NEEDS_TEX
def test_without_lualatex_names_print_with_pdflatex_and_say_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(
        pdf, "typesetter", lambda engine="pdflatex": None if engine == "lualatex" else shutil.which(engine)
    )
    students = tuple(replace(p, name="王小明") for p in hand_source([lr_update()]).manifest.students)
    result = pdf.export_pdf(source_from_manifest(Manifest({"title": "t"}, students)), tmp_path, keys=False)
    assert (tmp_path / "papers" / "s0.pdf").exists()
    tex = (tmp_path / "papers" / "s0.tex").read_text(encoding="utf-8")
    assert tex.startswith("% !TEX program = pdflatex") and "??? (s0)" in tex
    assert any(
        w.startswith("s0: the name or title has characters pdflatex cannot print")
        and pdf.UNICODE_INSTALL_COMMAND in w
        for w in result.warnings
    ), result.warnings


def test_tex_only_writes_names_for_lualatex(tmp_path):
    manifest = Manifest(
        {"title": "t"}, tuple(replace(p, name="김민준") for p in hand_source([lr_update()]).manifest.students)
    )
    result = pdf.export_pdf(source_from_manifest(manifest), tmp_path, compile=False, keys=False)
    tex = (tmp_path / "papers" / "s0.tex").read_text(encoding="utf-8")
    assert (
        tex.startswith("% !TEX program = lualatex")
        and "김민준 (s0)" in tex
        and r"\usepackage{fontspec}" in tex
    )
    assert result.warnings == []


@NEEDS_TEX
def test_a_latex_error_names_the_file_and_the_message(tmp_path):
    tex = tmp_path / "broken.tex"
    tex.write_text("\\documentclass{article}\\begin{document}\\undefinedthing\\end{document}\n")
    with pytest.raises(pdf.PdfError, match=r"broken\.tex: pdflatex failed: Undefined control sequence"):
        pdf.compile_pdf(tex)
    assert not (tmp_path / "broken.pdf").exists()


def wide_matrix_source():
    """One part whose answer is a 2 x 16 matrix of 8-significant-figure numbers."""
    values = (np.arange(32, dtype=np.float64).reshape(2, 16) - 15.5) / 7.0
    part = InstancePart("a", "matrix", "The matrix.", values.tolist(), Tolerance(sigfigs=3), 1.0)
    return hand_source([make_instance("hand.wide", 0, [part])])


def test_a_wide_answer_matrix_is_set_in_blocks_of_columns():
    source = wide_matrix_source()
    part = source.manifest.students[0].questions[0].instance.parts[0]
    latex = pdf.answer_latex(part)
    assert r"\qgdisplay{\begin{bmatrix}" in latex and r"&\text{columns 1--" in latex
    blocks = re.findall(r"columns (\d+)--(\d+)", latex)
    assert blocks[0][0] == "1" and blocks[-1][1] == "16" and len(blocks) >= 2


@NEEDS_TEX
def test_a_wide_answer_matrix_keeps_within_the_margins(tmp_path):
    result = pdf.export_pdf(wide_matrix_source(), tmp_path)
    assert result.warnings == []
