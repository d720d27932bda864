"""Printable papers and keys: the LaTeX is right, and where pdflatex is installed, a paper and a
key holding every template of the built-in bank compile to PDFs whose first page renders (with
pdftoppm) to an image with ink on it. The compile tests skip, saying why, only where pdflatex or
pdftoppm is missing (install: scripts/install-pdf-deps.sh)."""

import shutil
import subprocess
from dataclasses import replace

import numpy as np
import pytest
from export_helpers import awkward, hand_source, lr_update

from quizgen.export import pdf
from quizgen.export.common import source_from_manifest
from quizgen.manifest import Manifest, StudentPaper

_MISSING = [tool for tool in ("pdflatex", "pdftoppm") if shutil.which(tool) is None]
NEEDS_TEX = pytest.mark.skipif(
    "pdflatex" in _MISSING, reason=f"pdflatex is not installed (install: {pdf.INSTALL_COMMAND})"
)
NEEDS_TEX_AND_POPPLER = pytest.mark.skipif(
    bool(_MISSING), reason=f"{' and '.join(_MISSING)} not installed (install: {pdf.INSTALL_COMMAND})"
)


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


@NEEDS_TEX
def test_a_latex_error_names_the_file_and_the_message(tmp_path):
    tex = tmp_path / "broken.tex"
    tex.write_text("\\documentclass{article}\\begin{document}\\undefinedthing\\end{document}\n")
    with pytest.raises(pdf.PdfError, match=r"broken\.tex: pdflatex failed: Undefined control sequence"):
        pdf.compile_pdf(tex)
    assert not (tmp_path / "broken.pdf").exists()
