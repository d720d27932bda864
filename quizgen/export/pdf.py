"""Printable exams: a LaTeX paper and answer key per student, compiled to PDF with pdflatex.

    OUT/papers/<student>.tex, .pdf   the paper (answer boxes, options listed A, B, ...)
    OUT/keys/<student>.tex, .pdf     the key: answers, tolerances, known mistakes, solutions

The .tex files are always written first, so an instructor can adjust and recompile them by
hand (``pdflatex FILE.tex``). Question text goes through :func:`~.text.to_latex` (math kept as
written, text escaped); answers are set with amsmath's ``bmatrix``, the known-mistake tables
with booktabs. pdflatex comes from Debian's texlive packages: see :data:`INSTALL_COMMAND` and
docs/pdf.md.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import QuizgenError
from ..formatting import mat, num, shape
from ..fsutil import student_file_stem
from ..manifest import StudentPaper
from ..models import InstancePart
from ..output import _sections
from .common import ExportResult, ExportSource
from .text import latex_escape, to_latex

__all__ = [
    "APT_PACKAGES",
    "INSTALL_COMMAND",
    "PdfError",
    "answer_latex",
    "compile_pdf",
    "export_pdf",
    "paper_tex",
    "typesetter",
]

#: The Debian packages pdflatex and the LaTeX packages used here come from (pdftoppm, from
#: poppler-utils, is for the tests that look at the rendered page).
APT_PACKAGES = ("texlive-latex-base", "texlive-latex-recommended", "poppler-utils")
INSTALL_COMMAND = "apt-get install -y --no-install-recommends " + " ".join(APT_PACKAGES)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SIG = 8  # significant figures of the answers in a key


class PdfError(QuizgenError):
    """pdflatex is missing or could not compile a file."""


def typesetter() -> str | None:
    """The path of pdflatex, or None when it is not installed."""
    return shutil.which("pdflatex")


_PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage{booktabs,array}
\usepackage[margin=2cm]{geometry}
\usepackage{fancyhdr}
\setcounter{MaxMatrixCols}{40}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\newcommand{\answerbox}[1]{\par\noindent\fbox{\parbox[t][#1][t]{\dimexpr\linewidth-2\fboxsep-2\fboxrule\relax}{\strut}}\par}
\pagestyle{fancy}
\fancyhf{}
\lhead{%(head_left)s}
\rhead{%(head_right)s}
\cfoot{\thepage}
"""


def _slices(arr: np.ndarray):
    """(label, 2-D slice) for an array of 3 or more dimensions."""
    for lead in np.ndindex(arr.shape[:-2]):
        yield "[" + ", ".join(str(i) for i in lead) + r", :, :]", arr[lead]


def answer_latex(part: InstancePart) -> str:
    """The expected answer as LaTeX: an option letter and text, a shape, a number or a bmatrix
    (arrays of more than two dimensions as one matrix per leading index)."""
    if part.options:
        option = part.options[LETTERS.index(part.expected)]
        return rf"\textbf{{{part.expected}}}: \texttt{{{latex_escape(option)}}}"
    if part.kind == "shape":
        return rf"\texttt{{{shape(part.expected)}}}"
    arr = np.asarray(part.expected, dtype=np.float64)
    squeezed = arr
    while squeezed.ndim > 2 and squeezed.shape[0] == 1:
        squeezed = squeezed[0]
    if squeezed.ndim <= 2:
        return f"$ {mat(arr, SIG)} $"
    return ", ".join(rf"$\texttt{{{label}}}\;{mat(s, SIG)}$" for label, s in _slices(squeezed))


def _mistake_table(part: InstancePart, warn) -> str:
    known = [m for m in part.mistakes if m.distinguishable and m.value is not None]
    if not known:
        return ""
    rows = []
    for m in known:
        if isinstance(m.value, str):
            gives = rf"option {latex_escape(m.value)}"
        else:
            v = np.asarray(m.value, dtype=np.float64)
            gives = f"${mat(v, 6)}$" if v.ndim <= 2 else r"\textit{(array of shape " + str(v.shape) + ")}"
        rows.append(rf"\texttt{{{latex_escape(m.id)}}} & {gives} & {to_latex(m.feedback, warn)} \\")
    return "\n".join(
        [
            r"\par\smallskip{\small",
            r"\begin{tabular}{@{}l l >{\raggedright\arraybackslash}p{0.5\linewidth}@{}}",
            r"\toprule",
            r"Known mistake & gives & feedback \\",
            r"\midrule",
            *rows,
            r"\bottomrule",
            r"\end{tabular}}",
        ]
    )


def _box_height(part: InstancePart) -> str:
    n = int(np.size(part.expected)) if not part.options else 0
    return f"{min(1.2 + 0.35 * n, 6):.1f}cm"


def _part(part: InstancePart, key: bool, warn) -> list[str]:
    out = [rf"\textbf{{({latex_escape(part.id)})}} {to_latex(part.prompt, warn)} \hfill [{num(part.points)}]"]
    if part.options:
        items = "\n".join(
            rf"  \item[{letter}.] \texttt{{{latex_escape(option, warn)}}}"
            for letter, option in zip(LETTERS, part.options, strict=False)
        )
        out.append("\\begin{itemize}\n" + items + "\n\\end{itemize}")
    elif not key:
        out.append(rf"\answerbox{{{_box_height(part)}}}")
    if key:
        tolerance = (
            ""
            if part.tolerance.mode == "exact"
            else f" (tolerance: {latex_escape(part.tolerance.describe())})"
        )
        out.append(rf"\textbf{{Answer:}} {answer_latex(part)}{tolerance}")
        table = _mistake_table(part, warn)
        if table:
            out.append(table)
    return out


def paper_tex(
    exam: Mapping, paper: StudentPaper, *, key: bool, warn: Callable[[str], None] | None = None
) -> str:
    """The LaTeX source of a student's paper (``key=False``) or answer key."""
    title = str(exam.get("title", "Exam"))
    who = f"{paper.name or paper.id} ({paper.id})" if paper.name else paper.id
    head = {
        "head_left": latex_escape(title, warn) + (" --- answer key" if key else ""),
        "head_right": latex_escape(who, warn),
    }
    lines = [_PREAMBLE % head, r"\begin{document}", r"\begin{center}"]
    lines.append(rf"{{\Large\bfseries {latex_escape(title, warn)}{' --- answer key' if key else ''}}}\\[4pt]")
    meta = [str(exam.get("course", "")), who, f"{num(paper.points)} points"]
    lines.append(r" \quad$\cdot$\quad ".join(latex_escape(m, warn) for m in meta if m))
    lines.append(r"\end{center}")
    if exam.get("instructions"):
        lines.append(to_latex(str(exam["instructions"]), warn))
    for section, questions in _sections(paper):
        if section:
            lines.append(rf"\section*{{{latex_escape(section, warn)}}}")
        for q in questions:
            inst = q.instance
            heading = rf"Question {q.number}. {latex_escape(inst.title, warn)}"
            lines.append(
                rf"\subsection*{{{heading} \hfill \normalfont\normalsize ({num(inst.points)} points)}}"
            )
            lines.append(to_latex(inst.text, warn))
            for part in inst.parts:
                lines.append(r"\medskip")
                lines.extend(_part(part, key, warn))
            if key and inst.solution.strip():
                lines.append(r"\medskip\textbf{Worked solution.} " + to_latex(inst.solution, warn))
    lines.append(r"\end{document}")
    return "\n\n".join(lines) + "\n"


def _latex_error(log: str) -> str:
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            context = next(
                (m.group(0) for m in (re.match(r"l\.\d+.*", x) for x in lines[i : i + 12]) if m), ""
            )
            return f"{line[1:].strip()} {context}".strip()
    return "no error message in the log"


def compile_pdf(tex_path: str | Path, *, timeout: float = 120) -> Path:
    """Run pdflatex on ``tex_path`` (in a scratch folder; only the PDF is kept beside it)."""
    tex_path = Path(tex_path)
    exe = typesetter()
    if exe is None:
        raise PdfError(f"pdflatex is not installed; install it with: {INSTALL_COMMAND} (see docs/pdf.md)")
    with tempfile.TemporaryDirectory(prefix="quizgen-tex-") as scratch:
        cmd = [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
               f"-output-directory={scratch}", str(tex_path.resolve())]  # fmt: skip
        env = dict(os.environ, TEXMFOUTPUT=scratch, openout_any="p")
        try:
            proc = subprocess.run(
                cmd, cwd=scratch, capture_output=True, timeout=timeout, env=env, check=False
            )
        except subprocess.TimeoutExpired:
            raise PdfError(f"pdflatex took longer than {timeout:g} s", source=str(tex_path)) from None
        pdf = Path(scratch) / (tex_path.stem + ".pdf")
        if proc.returncode != 0 or not pdf.exists():
            log_file = Path(scratch) / (tex_path.stem + ".log")
            log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
            raise PdfError(
                f"pdflatex failed: {_latex_error(log or proc.stdout.decode(errors='replace'))}",
                source=str(tex_path),
            )
        target = tex_path.with_suffix(".pdf")
        shutil.move(str(pdf), target)
        return target


def export_pdf(
    source: ExportSource,
    out: str | Path,
    *,
    compile: bool = True,
    jobs: int | None = None,
    keys: bool = True,
) -> ExportResult:
    """Write every student's paper (and key) as .tex under ``out`` and compile them to PDF.

    The .tex files are written before anything is compiled, so they are there even when
    pdflatex is missing or fails; then :class:`PdfError` says which file and why."""
    out = Path(out)
    result = ExportResult()
    seen_warnings: set[str] = set()

    def warn(message: str) -> None:
        if message not in seen_warnings:
            seen_warnings.add(message)
            result.warnings.append(message)

    names: set[str] = set()
    tex_files = []
    for paper in source.manifest.students:
        name = student_file_stem(paper.id, names)
        for folder, is_key in (("papers", False), ("keys", True)):
            if is_key and not keys:
                continue
            path = out / folder / f"{name}.tex"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(paper_tex(source.manifest.exam, paper, key=is_key, warn=warn), encoding="utf-8")
            tex_files.append(path)
        result.questions += len(paper.questions)
    result.files.extend(tex_files)
    if compile:
        if typesetter() is None:
            raise PdfError(
                f"wrote {len(tex_files)} .tex files under {out}, but pdflatex is not installed; "
                f"install it with: {INSTALL_COMMAND} (see docs/pdf.md), or pass --tex-only"
            )
        workers = jobs or min(8, os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            result.files.extend(pool.map(compile_pdf, tex_files))
    return result
