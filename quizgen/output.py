"""Write a generated exam to its output folder.

    OUT/manifest.json                 every instance, expected answers and mistakes (for grading)
    OUT/papers/<student>.html, .md    one paper per student (self-contained HTML, MathML math)
    OUT/keys/<student>.html, .md      answer key with worked solutions
    OUT/overview.html                 templates used, variants, answer ranges
    OUT/responses_template.csv        one row per student, a column per q<number>.<part>

:class:`ExamWriter` takes one student's paper at a time, so memory stays flat however large the
class. Everything is first written into a fresh folder inside OUT (``.quizgen-<pid>-...``) and
moved into place only when all of it has been written, so a failure never leaves a half-written
exam or loses an earlier one's files; the manifest is moved last.

A folder that already holds an exam is refused unless ``overwrite`` is given; then the old
exam's entries (:data:`EXAM_ENTRIES`: the manifest first, whole ``papers/`` and ``keys/``
folders, so no paper of a student no longer on the roster stays behind) are renamed aside and
the new ones renamed in, one rename each, and the old ones deleted. A staging folder left by a
run that was killed (its process is gone) is deleted by the next run into the same folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
from markupsafe import Markup

from . import csvsafe
from .errors import SpecError
from .formatting import FILTERS, num, plain
from .fsutil import student_file_stem
from .manifest import MANIFEST_TAIL, Manifest, StudentPaper, manifest_head, student_json, student_separator
from .manifest_check import sealed_student
from .markup import to_html
from .models import InstancePart, Tolerance, flat_numbers
from .selection import answer_hint, is_selection
from .selection import answer_text as selection_answer_text
from .selection import labels as option_labels

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def answer_text(part: InstancePart) -> str:
    """The expected answer as a student would type it (option letter and text for choices)."""
    if is_selection(part.kind):
        return selection_answer_text(part)
    if part.options:
        return f"{part.expected} ({part.options[LETTERS.index(part.expected)]})"
    return plain(part.expected, sig=8)


def known_mistakes(part: InstancePart) -> list:
    """The mistakes a key lists: those whose answer tells them apart."""
    return [m for m in part.mistakes if m.distinguishable]


def md_code(text) -> str:
    """A CommonMark code span of ``text`` on one line: fenced with more backticks than any run
    inside it, padded when it starts or ends with a backtick."""
    text = " ".join(str(text).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def answer_box_rows(part: InstancePart) -> int:
    """Lines an HTML answer box needs: one per row of a matrix (a tensor's rows over all its
    leading indices, plus a line between blocks), one for anything else."""
    shape = np.shape(part.expected) if not part.options else ()
    if len(shape) < 2:
        return 1
    blocks = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return blocks * shape[-2] + (blocks - 1)


def html_inline(text: str) -> Markup:
    """:func:`to_html` of a one-paragraph text without its ``<p>``, to sit after an option's
    letter on the same line (a text of several blocks keeps them)."""
    out = str(to_html(text)).strip()
    if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return Markup(out)


def _page_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("quizgen", "templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a template is read once per process: no stat of its file per page
    )
    env.filters.update(FILTERS)
    env.filters["html"] = to_html
    env.filters["answer_text"] = answer_text
    env.filters["known_mistakes"] = known_mistakes
    env.filters["md_code"] = md_code
    env.filters["box_rows"] = answer_box_rows
    # a filter, not a method call in the template: jinja's call of a method checks how to call it
    # every time, ~3 us, 50 times a key
    env.filters["describe"] = Tolerance.describe
    env.filters["option_labels"] = option_labels
    env.filters["text_options"] = lambda part: is_selection(part.kind)
    env.filters["answer_hint"] = answer_hint
    env.filters["html_inline"] = html_inline
    return env


PAGES = _page_env()


def _sections(paper: StudentPaper) -> list[tuple[str, list]]:
    out: list[tuple[str, list]] = []
    for q in paper.questions:
        if not out or out[-1][0] != q.section:
            out.append((q.section, []))
        out[-1][1].append(q)
    return out


#: The page formats a paper and key can be written in (a paper.<fmt>.j2 template each).
PAGE_FORMATS = ("html", "md")


def render_paper(exam: Mapping, paper: StudentPaper, *, key: bool, fmt: str) -> str:
    """A student's paper (``key=False``) or answer key, as ``html`` or ``md``."""
    title = f"{exam['title']} — {paper.name or paper.id}" + (" — answer key" if key else "")
    return PAGES.get_template(f"paper.{fmt}.j2").render(
        title=title, exam=exam, paper=paper, sections=_sections(paper), key=key
    )


def render_pages(exam: Mapping, paper: StudentPaper, formats=("html", "md")) -> dict[str, str]:
    """A student's paper and key in each format, keyed ``papers/<fmt>`` and ``keys/<fmt>``."""
    pages = {}
    for fmt in formats:
        pages[f"papers/{fmt}"] = render_paper(exam, paper, key=False, fmt=fmt)
        pages[f"keys/{fmt}"] = render_paper(exam, paper, key=True, fmt=fmt)
    return pages


@dataclass(frozen=True)
class RenderedPaper:
    """Everything :class:`ExamWriter` needs of one student's paper, made where the paper was
    built: in a worker process this is what travels back instead of the paper (unpickling a
    paper's instances cost the writing process more than the rest of its work)."""

    id: str
    name: str
    manifest_entry: bytes  # the student's manifest.json entry, as UTF-8 JSON
    overview: tuple  # Overview.record(paper)
    pages: Mapping[str, bytes]  # render_pages(...), UTF-8 encoded: the bytes of each file


def render_student(exam: Mapping, paper: StudentPaper, formats=("html", "md")) -> RenderedPaper:
    """The pages and manifest entry are encoded here, once: bytes cross the process boundary as
    they are, where a str is encoded by pickle, decoded in the writing process and encoded again
    to be written."""
    return RenderedPaper(
        paper.id,
        paper.name,
        student_json(sealed_student(paper)).encode(),
        Overview.record(paper),
        {rel: text.encode() for rel, text in render_pages(exam, paper, formats).items()},
    )


# --------------------------------------------------------------------------------- overview


def answer_range(expected) -> tuple[tuple[int, ...], float, float]:
    """(shape, smallest entry, largest entry) of a numeric expected answer: ``((), x, x)`` for
    a number, ``((2, 3), lo, hi)`` for a 2 x 3 nested list. The JSON-ready answers the engine
    makes (plain numbers, regular nested lists of them) are read without NumPy; anything else,
    and a list holding a NaN, goes through :func:`_answer_range_numpy`, which this equals."""
    if type(expected) is float or type(expected) is int:
        x = float(expected)
        return (), x, x
    if type(expected) is list:
        flat = flat_numbers(expected)
        if flat is not None and flat[1]:
            shape, values = flat
            total = sum(values)
            if total == total:  # no NaN (nor inf - inf): Python's min and max skip a NaN, NumPy's do not
                return shape, float(min(values)), float(max(values))
    return _answer_range_numpy(expected)


def _answer_range_numpy(expected) -> tuple[tuple[int, ...], float, float]:
    arr = np.asarray(expected, dtype=np.float64)
    return arr.shape, float(arr.min()), float(arr.max())


@dataclass
class _PartStats:
    kind: str
    low: float = np.inf
    high: float = -np.inf
    shapes: set = field(default_factory=set)
    letters: Counter = field(default_factory=Counter)
    known_mistakes: int = 0
    count: int = 0

    @staticmethod
    def record(part: InstancePart) -> tuple:
        """What :meth:`add` needs of a part (small, so it crosses processes cheaply)."""
        known = sum(m.distinguishable for m in part.mistakes)
        if part.options:
            return known, part.expected, None, 0.0, 0.0
        return (known, None, *answer_range(part.expected))

    def add(self, record: tuple) -> None:
        known, letter, shape, low, high = record
        self.count += 1
        self.known_mistakes += known
        if letter is not None:
            self.letters[letter] += 1
            return
        self.shapes.add(shape)
        self.low = min(self.low, low)
        self.high = max(self.high, high)

    def range_text(self) -> str:
        if self.letters:
            return "correct option: " + ", ".join(f"{k}×{self.letters[k]}" for k in sorted(self.letters))
        text = f"{num(self.low)} … {num(self.high)}"
        if self.shapes != {()}:
            text = f"shapes {', '.join(map(str, sorted(self.shapes)))}; entries {text}"
        return text


@dataclass
class Overview:
    """Per exam slot: the template, how many distinct variants, and each part's answer range.
    Accumulates one paper at a time: per slot a few counters and an 8-byte digest per paper,
    so counting distinct variants costs 160 bytes a student for 20 questions."""

    slots: dict = field(default_factory=dict)

    @staticmethod
    def record(paper: StudentPaper) -> tuple:
        """What :meth:`add` needs of a paper: per question its slot, section, template, title,
        a 64-bit digest of its parameters and a record per part."""
        return tuple(
            (
                q.slot,
                q.section,
                q.instance.template_id,
                q.instance.title,
                int.from_bytes(
                    hashlib.blake2b(repr(sorted(q.instance.params.items())).encode(), digest_size=8).digest(),
                    "big",
                ),
                tuple((p.id, p.kind, _PartStats.record(p)) for p in q.instance.parts),
            )
            for q in paper.questions
        )

    def add(self, record: tuple) -> None:
        """Count one paper, given as :meth:`record` of it."""
        for slot, section, template, title, digest, parts in record:
            entry = self.slots.get(slot)
            if entry is None:
                entry = self.slots[slot] = {
                    "section": section,
                    "template": template,
                    "title": title,
                    "variants": array("Q"),  # 8 bytes a paper: memory stays nearly flat
                    "parts": {pid: _PartStats(kind) for pid, kind, _ in parts},
                }
            entry["variants"].append(digest)
            for pid, _, part in parts:
                entry["parts"][pid].add(part)

    def rows(self) -> list[dict]:
        rows = []
        for slot in sorted(self.slots):
            e = self.slots[slot]
            for pid, stats in e["parts"].items():
                rows.append(
                    {
                        "slot": slot,
                        "section": e["section"],
                        "template": e["template"],
                        "title": e["title"],
                        "variants": len(np.unique(np.frombuffer(e["variants"], dtype=np.uint64))),
                        "part": pid,
                        "kind": stats.kind,
                        "range": stats.range_text(),
                        "mistakes": f"{stats.known_mistakes / max(stats.count, 1):.1f} distinguishable on average",
                    }
                )
        return rows


# --------------------------------------------------------------------------------- responses


def response_columns(papers: Iterable[StudentPaper]) -> list[str]:
    """``q<number>.<part>`` for every printed question part, in paper order."""
    columns: dict[str, None] = {}
    for paper in papers:
        for q in paper.questions:
            for part in q.instance.parts:
                columns.setdefault(f"q{q.number}.{part.id}")
    return list(columns)


def _csv_row(values: list[str]) -> str:
    buf = io.StringIO()
    csvsafe.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def response_template(papers: Iterable[StudentPaper], columns: list[str]) -> str:
    """A CSV to fill in: student_id, name, then one column per printed question part."""
    return _csv_row(["student_id", "name", *columns]) + "".join(
        _csv_row([p.id, p.name, *([""] * len(columns))]) for p in papers
    )


# --------------------------------------------------------------------------------- writing


#: What a generated exam consists of in its folder, in the order a replacement moves them
#: (the manifest, which says "this folder holds an exam", leaves first and arrives last).
EXAM_ENTRIES = ("manifest.json", "papers", "keys", "overview.html", "responses_template.csv")
#: Prefix of the staging folders inside OUT.
STAGING_PREFIX = ".quizgen-"


def holds_exam(out: Path) -> bool:
    """Whether ``out`` holds a generated exam: a manifest, or papers or keys."""
    return (out / "manifest.json").exists() or any(
        (out / sub).is_dir() and any((out / sub).iterdir()) for sub in ("papers", "keys")
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_staging(out: Path) -> list[Path]:
    """Delete the staging folders in ``out`` whose process is gone (a run killed with -9 or a
    power cut); returns them. A folder of a running generate (another process) is kept."""
    removed = []
    for entry in out.glob(f"{STAGING_PREFIX}*"):
        pid_text = entry.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if not entry.is_dir() or (pid_text.isdigit() and _pid_alive(int(pid_text))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


class ExamWriter:
    """Stages an exam's files in a temporary folder inside ``out``; :meth:`commit` moves them
    into place (manifest last); leaving the ``with`` block without committing removes them.
    ``out`` holding an exam already is a :class:`SpecError` unless ``overwrite``."""

    def __init__(
        self, out: str | Path, exam: Mapping, columns: list[str], *, formats=("html", "md"), overwrite=False
    ) -> None:
        self.out = Path(out)
        self.overwrite = overwrite
        self.exam = dict(exam)
        self.columns = columns
        self.formats = formats
        self.overview = Overview()
        self.files: list[str] = []  # written so far, relative to the staging folder (and to out)
        self._names: set[str] = set()
        self.count = 0  # students written

    def __enter__(self) -> ExamWriter:
        if self.out.exists() and not self.out.is_dir():
            raise SpecError("is a file, not a folder; choose a folder for --out", source=str(self.out))
        if not self.overwrite and self.out.is_dir() and holds_exam(self.out):
            raise SpecError(
                "already holds an exam (manifest.json, papers/, keys/); pass --overwrite to replace "
                "all of it, or choose another --out",
                source=str(self.out),
            )
        self.out.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(self.out)
        self.staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=self.out))
        for sub in ("papers", "keys"):
            (self.staging / sub).mkdir()
        self._manifest = open(self.staging / "manifest.json", "wb")
        self._responses = open(self.staging / "responses_template.csv", "w", encoding="utf-8")
        self._manifest.write(manifest_head(self.exam).encode())
        self._responses.write(_csv_row(["student_id", "name", *self.columns]))
        return self

    def _put(self, rel: str, data: bytes) -> None:
        with open(os.path.join(self.staging, rel), "wb") as fh:
            fh.write(data)
        self.files.append(rel)

    def add(self, paper: StudentPaper | RenderedPaper) -> None:
        """Write one student's paper and key (a :class:`RenderedPaper`, rendered here from a
        paper), and append the student to the manifest and overview."""
        done = paper if isinstance(paper, RenderedPaper) else render_student(self.exam, paper, self.formats)
        name = student_file_stem(done.id, self._names)
        for rel, data in done.pages.items():
            folder, fmt = rel.split("/")
            self._put(f"{folder}/{name}.{fmt}", data)
        self._manifest.write(student_separator(first=self.count == 0).encode())
        self._manifest.write(done.manifest_entry)
        self.count += 1
        self._responses.write(_csv_row([done.id, done.name, *([""] * len(self.columns))]))
        self.overview.add(done.overview)

    def commit(self) -> int:
        """Finish the manifest and overview and move everything into ``out``; returns how many
        files were written (their paths relative to ``out`` are :attr:`files`, manifest last).
        A count, not a list of paths: the caller of a 10,000-student build keeps its memory."""
        self._manifest.write(MANIFEST_TAIL.encode())
        self._manifest.close()
        self._responses.close()
        self._put(
            "overview.html",
            PAGES.get_template("overview.html.j2")
            .render(
                title=f"{self.exam['title']}: overview",
                exam=self.exam,
                n_students=self.count,
                rows=self.overview.rows(),
            )
            .encode(),
        )
        self.files += ["responses_template.csv", "manifest.json"]
        if not self.overwrite and holds_exam(self.out):  # another run finished meanwhile
            raise SpecError(
                "an exam appeared here while this one was built; pass --overwrite to replace it",
                source=str(self.out),
            )
        old = self.staging / ".old"
        old.mkdir()
        for name in EXAM_ENTRIES:  # the old manifest leaves first
            if os.path.lexists(self.out / name):
                os.rename(self.out / name, old / name)
        for name in reversed(EXAM_ENTRIES):  # the new manifest arrives last
            os.rename(self.staging / name, self.out / name)
        shutil.rmtree(old, ignore_errors=True)
        return len(self.files)

    def __exit__(self, *exc) -> None:
        for fh in (self._manifest, self._responses):
            fh.close()
        shutil.rmtree(self.staging, ignore_errors=True)


def write_exam(
    manifest: Manifest, out: str | Path, *, formats=("html", "md"), progress=None, overwrite=False
) -> list[Path]:
    """Write an exam built in memory; returns the paths written (manifest last)."""
    columns = response_columns(manifest.students)
    with ExamWriter(out, manifest.exam, columns, formats=formats, overwrite=overwrite) as writer:
        for paper in manifest.students:
            writer.add(paper)
            if progress:
                progress(paper)
        writer.commit()
        return [writer.out / rel for rel in writer.files]
