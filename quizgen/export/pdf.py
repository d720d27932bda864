"""Printable exams: a LaTeX paper and answer key per student, compiled to PDF with pdflatex
(lualatex for a paper whose header names someone in a script pdflatex cannot print).

    OUT/papers/<student>.tex, .pdf   the paper (answer boxes, options listed A, B, ...)
    OUT/keys/<student>.tex, .pdf     the key: answers, tolerances, known mistakes, solutions

The .tex files are always written first, so an instructor can adjust and recompile them by
hand (``pdflatex FILE.tex``, or the engine named in the file's first line). Question text goes
through :func:`~.text.to_latex` (math kept as written, text escaped), then :func:`_fit_lines`
(display equations that break into rows rather than run into the margin); answers are set
with amsmath's ``bmatrix``, the known-mistake tables with booktabs. A part's prompt and its
labelled answer box share one unbreakable block. The TeX log's overfull lines (over 1 pt) and
missing characters come back as warnings. The engines come from Debian's texlive packages:
see :data:`INSTALL_COMMAND`, :data:`UNICODE_INSTALL_COMMAND` and docs/pdf.md.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
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
from ..selection import answer_hint, is_selection, labels, option_of, split_letters
from .common import ExportResult, ExportSource
from .text import latex_escape, to_latex

__all__ = [
    "APT_PACKAGES",
    "FALLBACK_FONTS",
    "INSTALL_COMMAND",
    "UNICODE_APT_PACKAGES",
    "UNICODE_INSTALL_COMMAND",
    "PdfError",
    "answer_latex",
    "compile_pdf",
    "export_pdf",
    "fallback_font",
    "layout_problems",
    "needs_unicode",
    "paper_tex",
    "tex_engine",
    "typesetter",
]

#: The Debian packages pdflatex and the LaTeX packages used here come from (pdftoppm, from
#: poppler-utils, is for the tests that look at the rendered page).
APT_PACKAGES = ("texlive-latex-base", "texlive-latex-recommended", "poppler-utils")
INSTALL_COMMAND = "apt-get install -y --no-install-recommends " + " ".join(APT_PACKAGES)
#: What names in any script need (Chinese, Japanese, Korean, Cyrillic, ...): lualatex with
#: fontspec, and a font with CJK glyphs (WenQuanYi Micro Hei: 1.6 MB, Chinese, kana, Hangul).
UNICODE_APT_PACKAGES = ("texlive-luatex", "fonts-wqy-microhei")
UNICODE_INSTALL_COMMAND = "apt-get install -y --no-install-recommends " + " ".join(UNICODE_APT_PACKAGES)
#: Fonts for the characters Latin Modern lacks, first found is used: (file, Debian package).
FALLBACK_FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "fonts-wqy-microhei"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "fonts-wqy-zenhei"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "fonts-noto-cjk"),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", "fonts-droid-fallback"),
)
#: The engines, by the name a .tex file asks for in its first line (``% !TEX program = ...``).
ENGINES = ("pdflatex", "lualatex")
_PROGRAM = re.compile(r"%\s*!TEX program\s*=\s*(\w+)")
_OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\) .*?(?:lines? (\d+))", re.M)
_MISSING_CHAR = re.compile(r"^Missing character: There is no (.+?) in font", re.M)
OVERFULL_LIMIT_PT = 1.0
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SIG = 8  # significant figures of the answers in a key


class PdfError(QuizgenError):
    """pdflatex is missing or could not compile a file."""


def typesetter(engine: str = "pdflatex") -> str | None:
    """The path of ``engine`` (pdflatex or lualatex), or None when it is not installed."""
    if engine not in ENGINES:
        raise ValueError(f"unknown TeX engine {engine!r}; use one of {', '.join(ENGINES)}")
    return shutil.which(engine)


def fallback_font() -> str | None:
    """The first of :data:`FALLBACK_FONTS` installed (a file path), or None."""
    return next((path for path, _ in FALLBACK_FONTS if Path(path).exists()), None)


def _engine_setup(unicode: bool) -> str:
    if not unicode:  # < > and list bullets from Computer Modern's math fonts, not a bitmap font
        return "\n".join(
            [
                r"\usepackage[utf8]{inputenc}",
                r"\DeclareTextCommandDefault{\textbullet}{\ensuremath{\bullet}}",
                r"\DeclareTextCommandDefault{\textless}{\ensuremath{<}}",
                r"\DeclareTextCommandDefault{\textgreater}{\ensuremath{>}}",
            ]
        )
    lines = [r"\usepackage{fontspec}"]
    font = fallback_font()
    if font:
        lines.append(rf'\directlua{{luaotfload.add_fallback("qgfallback", {{"[{font}]:mode=node;"}})}}')
        for family in ("main", "sans", "mono"):
            face = {"main": "Roman", "sans": "Sans", "mono": "Mono"}[family]
            lines.append(rf"\set{family}font{{Latin Modern {face}}}[RawFeature={{fallback=qgfallback}}]")
    return "\n".join(lines)


def _needs_unicode(text: str) -> bool:
    """Whether ``text`` has a character pdflatex cannot print (it would come out as ?)."""
    missing: list[str] = []
    latex_escape(text, missing.append)
    return bool(missing)


def _unicode_escape(text: str) -> str:
    """Plain text for lualatex: specials escaped, every other character kept as it is."""
    return "".join(ch if not ch.isascii() else latex_escape(ch) for ch in unicodedata.normalize("NFC", text))


_PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
%(engine_setup)s
\usepackage{amsmath,amssymb}
\usepackage{booktabs,array}
\usepackage{graphicx}
\usepackage[margin=2cm]{geometry}
\usepackage{fancyhdr}
\setcounter{MaxMatrixCols}{40}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\setlength{\headheight}{14pt}
%% Lines that cannot break within the margins stretch their spaces instead of running over.
\setlength{\emergencystretch}{5em}
\tolerance=2000
\hbadness=10000
\newsavebox{\qgbox}
%% \qgdisplay{one line}{the same in rows}: a display equation on one line when it fits, else its
%% rows (broken at its = signs, or a matrix's column blocks), else (last resort) scaled to fit.
\newcommand{\qgdisplay}[2]{\sbox{\qgbox}{$\displaystyle #1$}%%
  \ifdim\wd\qgbox>\linewidth\sbox{\qgbox}{$\displaystyle\begin{aligned}#2\end{aligned}$}\fi
  \ifdim\wd\qgbox>\linewidth\sbox{\qgbox}{\resizebox{\linewidth}{!}{\usebox{\qgbox}}}\fi
  \[\usebox{\qgbox}\]}
%% \qgfit{math}: inline math, scaled down only if wider than the line (a cell of a table).
\newcommand{\qgfit}[1]{\sbox{\qgbox}{$#1$}%%
  \ifdim\wd\qgbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\qgbox}}\else\usebox{\qgbox}\fi}
%% The box under a part, labelled with its question and part ("Answer 3(b)") so that the
%% prompt and its box can be found on the same page; both sit in one unbreakable block.
\newcommand{\answerbox}[2][]{\par\nopagebreak\noindent\fbox{\parbox[t][#2][t]{\dimexpr\linewidth-2\fboxsep-2\fboxrule\relax}{\strut\hfill{\scriptsize\textsf{#1}}}}\par}
\newenvironment{qgpart}{\par\noindent\begin{minipage}{\linewidth}\setlength{\parskip}{0.5em}}{\end{minipage}\par}
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


_DISPLAY = re.compile(r"(?<!\\)\\\[(.*?)(?<!\\)\\\]", re.S)
_TEXTTT = re.compile(r"\\texttt\{([^{}]{16,})\}")
_RELATIONS = ("=", r"\approx")
_MATH_TOKEN = re.compile(r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\[A-Za-z]+|\\.|.", re.S)
_BREAK_AFTER = re.compile(r"(\\_|[./,(=])")


def _math_rows(math: str) -> str:
    r"""``math`` as ``aligned`` rows: a new row at each top-level ``\qquad`` and before each
    top-level relation after the first (``=``, ``\approx``), aligned on the relation."""
    rows: list[str] = []
    row, depth, relation_seen = "", 0, False
    for m in _MATH_TOKEN.finditer(math):
        token = m.group(0)
        if token in ("{", r"\left") or token.startswith(r"\begin"):
            depth += 1
        elif token in ("}", r"\right") or token.startswith(r"\end"):
            depth -= 1
        elif depth == 0 and token == r"\qquad":
            rows.append(row.strip().rstrip(","))
            row, relation_seen = "", False
            continue
        elif depth == 0 and token in _RELATIONS:
            if relation_seen:
                rows.append(row.rstrip())
                row = ""
            row += "&" + token
            relation_seen = True
            continue
        row += token
    rows.append(row.strip())
    return r" \\ ".join(r for r in rows if r)


def _display(math: str) -> str:
    r"""A display equation that keeps within the margins (``\qgdisplay`` in the preamble)."""
    return rf"\qgdisplay{{{math}}}{{{_math_rows(math)}}}"


def _fit_lines(latex: str) -> str:
    r"""LaTeX from :func:`to_latex` made to keep within the margins: display equations through
    ``\qgdisplay``, long ``\texttt`` (code, identifiers) breakable after ``_ . / , ( =``."""
    latex = _DISPLAY.sub(lambda m: _display(m.group(1).strip()), latex)
    return _TEXTTT.sub(lambda m: r"\texttt{" + _BREAK_AFTER.sub(r"\1\\allowbreak{}", m.group(1)) + "}", latex)


def _tex(text: str, warn) -> str:
    return _fit_lines(to_latex(text, warn))


def _matrix_display(arr: np.ndarray) -> str:
    r"""A 2-D array as a display: the whole ``bmatrix`` when it fits, else blocks of columns
    ("columns 1--4", ...), each about 60 characters wide."""
    full = mat(arr, SIG)
    rows = np.atleast_2d(arr)
    widths = [max(len(num(v, SIG)) for v in col) + 3 for col in rows.T.tolist()]
    blocks, start, width = [], 0, 0
    for j, w in enumerate(widths):
        if j > start and width + w > 60:
            blocks.append((start, j))
            start, width = j, 0
        width += w
    blocks.append((start, len(widths)))
    if len(blocks) == 1:
        return _display(full)
    split = r" \\ ".join(rf"&\text{{columns {a + 1}--{b}: }} {mat(rows[:, a:b], SIG)}" for a, b in blocks)
    return rf"\qgdisplay{{{full}}}{{{split}}}"


def answer_latex(part: InstancePart, warn=None) -> str:
    """The expected answer as LaTeX: an option letter and text, a shape, a number or a bmatrix
    (arrays of more than two dimensions as one matrix per leading index); the text-option
    kinds: the letters, then the options' texts (markup, not code)."""
    if is_selection(part.kind):
        texts = "; ".join(_tex(option_of(part, x), warn) for x in split_letters(part.expected))
        return rf"\textbf{{{latex_escape(part.expected)}}}: {texts}"
    if part.options:
        option = part.options[LETTERS.index(part.expected)]
        return rf"\textbf{{{part.expected}}}: \texttt{{{latex_escape(option)}}}"
    if part.kind == "shape":
        return rf"\texttt{{{shape(part.expected)}}}"
    arr = np.asarray(part.expected, dtype=np.float64)
    squeezed = arr
    while squeezed.ndim > 2 and squeezed.shape[0] == 1:
        squeezed = squeezed[0]
    if squeezed.ndim == 0:
        return f"$ {mat(arr, SIG)} $"
    if squeezed.ndim <= 2:
        return _matrix_display(squeezed)
    return "".join(rf"\par\texttt{{{label}}}" + _matrix_display(s) for label, s in _slices(squeezed))


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
            gives = (
                rf"\qgfit{{{mat(v, 6)}}}"
                if v.ndim <= 2
                else r"\textit{(array of shape " + str(v.shape) + ")}"
            )
        ident = latex_escape(m.id).replace(r"\_", r"\_\allowbreak{}")
        rows.append(rf"\texttt{{{ident}}} & {gives} & {_tex(m.feedback, warn)} \\")
    return "\n".join(
        [
            r"\par\smallskip{\small",
            r"\begin{tabular}{@{}>{\raggedright\arraybackslash}p{0.22\linewidth}"
            r" >{\raggedright\arraybackslash}p{0.36\linewidth}"
            r" >{\raggedright\arraybackslash}p{\dimexpr0.42\linewidth-4\tabcolsep\relax}@{}}",
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


def _part(part: InstancePart, number: int, key: bool, warn) -> list[str]:
    """A part: its prompt and, on a paper, its options or its box labelled ``Answer 3(b)``, kept
    on one page (``qgpart``); in a key, the answer, tolerance and known mistakes."""
    label = latex_escape(part.id)
    out = [] if key else [r"\begin{qgpart}"]
    out.append(rf"\textbf{{({label})}} {_tex(part.prompt, warn)} \hfill [{num(part.points)}]")
    if is_selection(part.kind):  # option texts are markup (math, code spans), not numbers
        items = "\n".join(
            rf"  \item[{letter}.] {_tex(option, warn)}"
            for letter, option in zip(labels(part), part.options, strict=False)
        )
        out.append("\\begin{itemize}\n" + items + "\n\\end{itemize}")
        if not key:
            out.append(rf"\par\textit{{{latex_escape(answer_hint(part))}}}")
    elif part.options:
        items = "\n".join(
            rf"  \item[{letter}.] \texttt{{{latex_escape(option, warn)}}}"
            for letter, option in zip(LETTERS, part.options, strict=False)
        )
        out.append("\\begin{itemize}\n" + items + "\n\\end{itemize}")
    elif not key:
        out.append(rf"\answerbox[Answer {number}({label})]{{{_box_height(part)}}}")
    if not key:
        out.append(r"\end{qgpart}")
    if key:
        tolerance = (
            ""
            if part.tolerance.mode == "exact"
            else f" (tolerance: {latex_escape(part.tolerance.describe())})"
        )
        out.append(rf"\textbf{{Answer:}} {answer_latex(part, warn)}{tolerance}")
        table = _mistake_table(part, warn)
        if table:
            out.append(table)
    return out


def _header_texts(exam: Mapping, paper: StudentPaper) -> tuple[str, str, str]:
    """(title, course, who) as printed at the top of a paper."""
    who = f"{paper.name or paper.id} ({paper.id})" if paper.name else paper.id
    return str(exam.get("title", "Exam")), str(exam.get("course", "")), who


def needs_unicode(exam: Mapping, paper: StudentPaper) -> bool:
    """Whether the paper's header (the student's name, the title) needs a Unicode engine."""
    return any(_needs_unicode(t) for t in _header_texts(exam, paper))


def paper_tex(
    exam: Mapping,
    paper: StudentPaper,
    *,
    key: bool,
    warn: Callable[[str], None] | None = None,
    unicode: bool = False,
) -> str:
    """The LaTeX source of a student's paper (``key=False``) or answer key. With ``unicode``
    it is for lualatex (first line ``% !TEX program = lualatex``) and prints the header's names
    in any script; else for pdflatex, where characters without a LaTeX form print as ?."""
    title, course, who = _header_texts(exam, paper)

    def esc(text: str) -> str:
        return _unicode_escape(text) if unicode else latex_escape(text, warn)

    head = {
        "engine_setup": _engine_setup(unicode),
        "head_left": esc(title) + (" --- answer key" if key else ""),
        "head_right": esc(who),
    }
    lines = [f"% !TEX program = {'lualatex' if unicode else 'pdflatex'}\n" + _PREAMBLE % head]
    lines += [r"\begin{document}", r"\begin{center}"]
    lines.append(rf"{{\Large\bfseries {esc(title)}{' --- answer key' if key else ''}}}\\[4pt]")
    meta = [course, who, f"{num(paper.points)} points"]
    lines.append(r" \quad$\cdot$\quad ".join(esc(m) for m in meta if m))
    lines.append(r"\end{center}")
    if exam.get("instructions"):
        lines.append(_tex(str(exam["instructions"]), warn))
    for section, questions in _sections(paper):
        if section:
            lines.append(rf"\section*{{{latex_escape(section, warn)}}}")
        for q in questions:
            inst = q.instance
            heading = rf"Question {q.number}. {latex_escape(inst.title, warn)}"
            lines.append(
                rf"\subsection*{{{heading} \hfill \normalfont\normalsize ({num(inst.points)} points)}}"
            )
            lines.append(_tex(inst.text, warn))
            for part in inst.parts:
                lines.append(r"\medskip")
                lines.extend(_part(part, q.number, key, warn))
            if key and inst.solution.strip():
                lines.append(r"\medskip\textbf{Worked solution.} " + _tex(inst.solution, warn))
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


def layout_problems(log: str, source: str = "") -> list[str]:
    """What a TeX log says went wrong on the page: lines more than :data:`OVERFULL_LIMIT_PT`
    too wide ("papers/s1.tex line 120: a line 12.3 pt too wide") and characters no font had."""
    where = f"{source} " if source else ""
    out = [
        f"{where}line {m.group(2)}: a line {float(m.group(1)):.1f} pt too wide for the page"
        for m in _OVERFULL.finditer(log)
        if float(m.group(1)) > OVERFULL_LIMIT_PT
    ]
    missing = sorted(set(_MISSING_CHAR.findall(log)))
    if missing:
        out.append(
            f"{where}no font has {' '.join(missing)}; install a font with them, for example"
            f" {UNICODE_APT_PACKAGES[-1]} (see docs/pdf.md)"
        )
    return out


def tex_engine(tex_path: str | Path) -> str:
    """The engine a .tex file asks for in its first line (``% !TEX program = lualatex``),
    pdflatex when it names none."""
    with open(tex_path, encoding="utf-8") as f:
        m = _PROGRAM.match(f.readline())
    engine = m.group(1) if m else "pdflatex"
    if engine not in ENGINES:
        raise PdfError(
            f"asks for TeX engine {engine!r}; use one of {', '.join(ENGINES)}", source=str(tex_path)
        )
    return engine


def compile_pdf(tex_path: str | Path, *, timeout: float = 120, problems: list[str] | None = None) -> Path:
    """Run the file's engine (:func:`tex_engine`) on ``tex_path`` in a scratch folder; only the
    PDF is kept beside it. Layout problems in the log (:func:`layout_problems`) are appended
    to ``problems``."""
    tex_path = Path(tex_path)
    engine = tex_engine(tex_path)
    exe = typesetter(engine)
    if exe is None:
        install = UNICODE_INSTALL_COMMAND if engine == "lualatex" else INSTALL_COMMAND
        raise PdfError(f"{engine} is not installed; install it with: {install} (see docs/pdf.md)")
    with tempfile.TemporaryDirectory(prefix="quizgen-tex-") as scratch:
        cmd = [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
               f"-output-directory={scratch}", str(tex_path.resolve())]  # fmt: skip
        env = dict(os.environ, TEXMFOUTPUT=scratch, openout_any="p")
        try:
            proc = subprocess.run(
                cmd, cwd=scratch, capture_output=True, timeout=timeout, env=env, check=False
            )
        except subprocess.TimeoutExpired:
            raise PdfError(f"{engine} took longer than {timeout:g} s", source=str(tex_path)) from None
        pdf = Path(scratch) / (tex_path.stem + ".pdf")
        log_file = Path(scratch) / (tex_path.stem + ".log")
        log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
        if proc.returncode != 0 or not pdf.exists():
            raise PdfError(
                f"{engine} failed: {_latex_error(log or proc.stdout.decode(errors='replace'))}",
                source=str(tex_path),
            )
        if problems is not None:
            problems.extend(layout_problems(log, str(tex_path)))
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
    has_lualatex = typesetter("lualatex") is not None
    exam = source.manifest.exam
    for paper in source.manifest.students:
        unicode = needs_unicode(exam, paper) and (has_lualatex or not compile)
        if needs_unicode(exam, paper) and not unicode:
            warn(
                f"{paper.id}: the name or title has characters pdflatex cannot print (they print"
                f" as ?); install lualatex and a font for them: {UNICODE_INSTALL_COMMAND}"
            )
        elif unicode and compile and fallback_font() is None:
            warn(
                f"{paper.id}: no font for Chinese, Japanese or Korean is installed; install one:"
                f" {UNICODE_INSTALL_COMMAND}"
            )
        name = student_file_stem(paper.id, names)
        for folder, is_key in (("papers", False), ("keys", True)):
            if is_key and not keys:
                continue
            path = out / folder / f"{name}.tex"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(paper_tex(exam, paper, key=is_key, warn=warn, unicode=unicode), encoding="utf-8")
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
        problems: list[str] = []
        # one lualatex file first, alone: a machine's first lualatex run builds luaotfload's
        # list of the system's fonts, which parallel first runs would all build at once
        first = next((i for i, t in enumerate(tex_files) if tex_engine(t) == "lualatex"), None)
        done = {} if first is None else {first: compile_pdf(tex_files[first], problems=problems)}
        rest = [i for i in range(len(tex_files)) if i not in done]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done.update(
                zip(rest, pool.map(lambda i: compile_pdf(tex_files[i], problems=problems), rest), strict=True)
            )
        result.files.extend(done[i] for i in range(len(tex_files)))
        for problem in sorted(problems):
            warn(problem)
    return result
