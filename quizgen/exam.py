"""Exam specs, rosters, and building every student's paper.

An exam spec (YAML)::

    title: Midterm
    course: DL101
    seed: 20261123            # the exam seed; with the student id and slot it seeds each question
    instructions: "Answer every part. Give real numbers to 4 significant figures."
    sections:
      - title: Convolution
        pick: 2               # how many templates this section draws from its pool
        topic: convolution    # pool filters: ids, topic, tags, difficulty (any combination)
        difficulty: [1, 2]
        points: 10            # points per question (parts are scaled to it)
        order: shuffled       # or fixed: the order of this section's questions on each paper

The templates a section uses are chosen once from the exam seed, so every student answers the
same questions with their own numbers. Instance seed = stable_seed(exam seed, student id, slot):
adding a student changes nobody else's paper, and regenerating is byte-identical.
"""

from __future__ import annotations

import csv
import ctypes
import hashlib
import io
import os
import signal
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import __version__, engine, output
from .bank import Bank
from .errors import BankError, SpecError
from .fsutil import read_text
from .manifest import Manifest, Question, StudentPaper
from .manifest_check import template_fingerprint
from .models import Template
from .seeding import make_rng, stable_seed
from .yamlio import LineDict, load_yaml

_SPEC_KEYS = {"title": str, "course": str, "seed": int, "instructions": str, "sections": list}
_SECTION_KEYS = {
    "title": str,
    "pick": int,
    "ids": list,
    "topic": str,
    "tags": list,
    "difficulty": (int, list),
    "points": (int, float),
    "order": str,
}
ORDERS = ("fixed", "shuffled")
#: The most points a section may give a question.
MAX_POINTS = 1e6


def _as_list(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Section:
    title: str
    templates: tuple[Template, ...]
    points: float | None
    order: str


@dataclass(frozen=True)
class ExamSpec:
    title: str
    course: str
    seed: int
    instructions: str
    sections: tuple[Section, ...]
    sha256: str = ""


@dataclass(frozen=True)
class Student:
    id: str
    name: str
    email: str = ""


def _line(node, key=None) -> int:
    return node.line_of(key) if isinstance(node, LineDict) else 0


def _check_keys(node, allowed: dict, required: Iterable[str], source: str, where: str) -> None:
    if not isinstance(node, dict):
        raise SpecError("expected a mapping", source=source, where=where)
    for key in node:
        if key not in allowed:
            raise SpecError(
                f"unknown key {key!r}; expected one of {', '.join(allowed)}",
                source=f"{source}:{_line(node, key)}",
                where=where,
            )
    for key in required:
        if key not in node:
            raise SpecError(f"missing required key {key!r}", source=f"{source}:{_line(node)}", where=where)
    for key, typ in allowed.items():
        if key in node and (not isinstance(node[key], typ) or isinstance(node[key], bool)):
            raise SpecError(
                f"{key} has the wrong type ({type(node[key]).__name__})",
                source=f"{source}:{_line(node, key)}",
                where=where,
            )


def load_spec(path: str | Path, bank: Bank) -> ExamSpec:
    """Read and validate an exam spec against the bank; errors name the file, line and fix."""
    path = Path(path)
    data = load_yaml(path, error=SpecError)
    src = str(path)
    _check_keys(data, _SPEC_KEYS, ("title", "seed", "sections"), src, "exam")
    if not 0 <= data["seed"] < 2**64:
        raise SpecError(
            f"seed must be a whole number from 0 to 2**64 - 1, got {data['seed']}",
            source=f"{src}:{_line(data, 'seed')}",
            where="exam",
        )
    if not data["sections"]:
        raise SpecError(
            "the exam has no sections; add at least one (see the example in 'quizgen --help')",
            source=f"{src}:{_line(data, 'sections')}",
            where="exam",
        )
    sections = []
    used: set[str] = set()
    for i, node in enumerate(data["sections"]):
        where = f"sections[{i}]"
        _check_keys(node, _SECTION_KEYS, ("pick",), src, where)
        line = f"{src}:{_line(node)}"
        order = node.get("order", "fixed")
        if order not in ORDERS:
            raise SpecError(
                f"order must be one of {', '.join(ORDERS)}, got {order!r}", source=line, where=where
            )
        for key in ("ids", "tags"):
            if any(not isinstance(v, str) for v in node.get(key) or ()):
                raise SpecError(
                    f"{key} must be a list of strings", source=f"{src}:{_line(node, key)}", where=where
                )
        difficulty = node.get("difficulty")
        if any(not isinstance(d, int) or isinstance(d, bool) for d in _as_list(difficulty)):
            raise SpecError(
                f"difficulty must be a number or a list of numbers, got {difficulty!r}",
                source=f"{src}:{_line(node, 'difficulty')}",
                where=where,
            )
        try:
            pool = bank.select(
                ids=node.get("ids"), topic=node.get("topic"), tags=node.get("tags"), difficulty=difficulty
            )
        except BankError as exc:
            raise SpecError(exc.message, source=line, where=where) from None
        pool = [t for t in pool if t.id not in used]
        pick = node["pick"]
        if pick < 1 or pick > len(pool):
            raise SpecError(
                f"pick is {pick} but the filters match {len(pool)} unused template(s); "
                "widen the filters or pick fewer (see 'quizgen bank list')",
                source=line,
                where=where,
            )
        if node.get("ids"):
            chosen = pool[:pick]
        else:
            rng = make_rng(stable_seed(data["seed"], "section", i))
            chosen = [pool[j] for j in sorted(rng.choice(len(pool), size=pick, replace=False))]
        used.update(t.id for t in chosen)
        points = node.get("points")
        if points is not None and not (0 < points <= MAX_POINTS):
            raise SpecError(
                f"points must be a number > 0 and <= {MAX_POINTS:g}, got {points}",
                source=f"{src}:{_line(node, 'points')}",
                where=where,
            )
        sections.append(Section(node.get("title", f"Section {i + 1}"), tuple(chosen), points, order))
    return ExamSpec(
        title=data["title"],
        course=data.get("course", ""),
        seed=data["seed"],
        instructions=data.get("instructions", ""),
        sections=tuple(sections),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


#: How to fix a roster quizgen cannot read.
ROSTER_FIX = "save it as UTF-8 CSV (in Excel: File > Save As > 'CSV UTF-8 (Comma delimited)')"


def load_roster(path: str | Path) -> list[Student]:
    """A roster CSV with columns id, name and optionally email (header required), in UTF-8
    (with or without a BOM) or UTF-16 with a BOM; other encodings are refused with
    :data:`ROSTER_FIX` (see :func:`quizgen.fsutil.read_text`)."""
    path = Path(path)
    text = read_text(path, error=SpecError, what="roster", fix=ROSTER_FIX)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _roster_rows(path, reader)
    except csv.Error as exc:
        line = reader.line_num + 1  # the line being read when it failed
        raise SpecError(f"not a readable CSV ({exc})", source=f"{path}:{line}") from None


def _roster_rows(path: Path, reader: csv.DictReader) -> list[Student]:
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "id" not in header or "name" not in header:
        raise SpecError(
            "the first line must be a header with columns id,name (and optionally email)", source=f"{path}:1"
        )
    students, seen = [], {}
    for row in reader:
        lineno = reader.line_num
        row = {k.strip().lower(): v.strip() for k, v in row.items() if k is not None and isinstance(v, str)}
        sid = row.get("id", "")
        if not sid:
            raise SpecError("empty student id; every row needs an id", source=f"{path}:{lineno}")
        same = unicodedata.normalize("NFC", sid)  # "é" typed as one character or as e + accent
        if same in seen:
            raise SpecError(
                f"student id {sid!r} already on line {seen[same]}; ids must be unique",
                source=f"{path}:{lineno}",
            )
        seen[same] = lineno
        students.append(Student(sid, row.get("name", ""), row.get("email", "")))
    if not students:
        raise SpecError("the roster has no students", source=str(path))
    return students


def build_paper(spec: ExamSpec, student: Student) -> StudentPaper:
    """One student's paper: every question instance, numbered in this student's order."""
    return build_papers(spec, [student])[0]


def build_papers(spec: ExamSpec, students: list[Student]) -> list[StudentPaper]:
    """:func:`build_paper` for each student, built one question slot at a time across the
    students (:func:`engine.build_instances`); every instance depends only on its own seed, so
    the papers are the same either way."""
    sections = []  # per section: (slot, template) in the spec's order
    slot = 0
    for section in spec.sections:
        sections.append([(slot := slot + 1, template) for template in section.templates])
    instances = {
        q_slot: engine.build_instances(
            template, [stable_seed(spec.seed, s.id, q_slot) for s in students], points=section.points
        )
        for section, slots in zip(spec.sections, sections, strict=True)
        for q_slot, template in slots
    }
    papers = []
    for i, student in enumerate(students):
        questions = []
        for s_index, (section, slots) in enumerate(zip(spec.sections, sections, strict=True)):
            if section.order == "shuffled":
                rng = make_rng(stable_seed(spec.seed, student.id, "order", s_index))
                slots = [slots[j] for j in rng.permutation(len(slots))]
            for q_slot, _ in slots:
                questions.append(Question(len(questions) + 1, q_slot, section.title, instances[q_slot][i]))
        papers.append(StudentPaper(student.id, student.name, student.email, tuple(questions)))
    return papers


def exam_info(spec: ExamSpec) -> dict:
    """The manifest's ``exam`` entry."""
    points = sum((s.points if s.points is not None else t.points) for s in spec.sections for t in s.templates)
    return {
        "title": spec.title,
        "course": spec.course,
        "seed": spec.seed,
        "instructions": spec.instructions,
        "points": float(points),
        "quizgen_version": __version__,
        "spec_sha256": spec.sha256,
        "templates": [t.id for s in spec.sections for t in s.templates],
        "template_sha256": {t.id: template_fingerprint(t) for s in spec.sections for t in s.templates},
    }


def response_columns(spec: ExamSpec) -> list[str]:
    """``q<number>.<part>`` for every printed position: with a shuffled section a position may
    hold any of the section's templates, so it gets the union of their part ids."""
    columns: dict[str, None] = {}
    number = 0
    for section in spec.sections:
        part_ids: dict[str, None] = {}
        for t in section.templates:
            part_ids.update(dict.fromkeys(p.id for p in t.parts))
        for t in section.templates:
            number += 1
            ids = part_ids if section.order == "shuffled" else dict.fromkeys(p.id for p in t.parts)
            columns.update(dict.fromkeys(f"q{number}.{pid}" for pid in ids))
    return list(columns)


#: How many students a worker builds together (one question slot at a time across them).
CHUNK = 16


def _chunks(students: list[Student], jobs: int) -> list[list[Student]]:
    """The roster in order, in chunks of :data:`CHUNK`; with several workers, smaller chunks if
    that is what it takes to give each worker several."""
    size = CHUNK if jobs == 1 else max(1, min(CHUNK, -(-len(students) // (4 * jobs))))
    return [students[i : i + size] for i in range(0, len(students), size)]


def build_exam(
    spec: ExamSpec, students: list[Student], *, progress: Callable[[Student], None] | None = None
) -> Manifest:
    """Every student's paper, in roster order, in memory (see :func:`generate` for large classes)."""
    papers = []
    for chunk in _chunks(students, 1):
        papers.extend(build_papers(spec, chunk))
        if progress:
            for student in chunk:
                progress(student)
    return Manifest(exam_info(spec), tuple(papers))


_WORKER_SPEC: ExamSpec | None = None
_WORKER_FORMATS: tuple = ()


def die_with_parent() -> None:
    """Make this worker process die when its parent does (Linux ``prctl(PR_SET_PDEATHSIG,
    SIGKILL)``), so a ``kill -9`` of ``generate`` leaves no worker running; exit at once if the
    parent is already gone. Elsewhere a no-op: the pool's own pipes end the workers there."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() == 1:  # pragma: no cover - the parent died before prctl
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _init_worker(spec: ExamSpec, formats: tuple, in_worker: bool = False) -> None:
    global _WORKER_SPEC, _WORKER_FORMATS
    if in_worker:
        die_with_parent()
    _WORKER_SPEC, _WORKER_FORMATS = spec, formats


def _rendered_papers(students: list[Student]) -> list[output.RenderedPaper]:
    info = exam_info(_WORKER_SPEC)
    return [
        output.render_student(info, paper, _WORKER_FORMATS) for paper in build_papers(_WORKER_SPEC, students)
    ]


def generate(
    spec: ExamSpec,
    students: list[Student],
    out: str | Path,
    *,
    jobs: int = 1,
    formats: tuple = ("html", "md"),
    progress: Callable[[Student], None] | None = None,
    overwrite: bool = False,
) -> int:
    """Build and write every student's paper and key, streaming (flat memory), optionally in
    ``jobs`` worker processes (never more than there are chunks of students; each dies with
    this process); output order and bytes do not depend on ``jobs``. ``progress`` is called
    with each student once their files are written. ``out`` holding an exam is refused unless
    ``overwrite`` (see :class:`output.ExamWriter`). Returns how many files were written."""
    chunks = _chunks(students, jobs)
    jobs = min(jobs, len(chunks))
    columns = response_columns(spec)
    with output.ExamWriter(out, exam_info(spec), columns, formats=formats, overwrite=overwrite) as writer:
        if jobs > 1:
            initargs = (spec, formats, True)
            with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=initargs) as pool:
                for chunk, done in zip(chunks, pool.map(_rendered_papers, chunks), strict=True):
                    _write(writer, chunk, done, progress)
        else:
            _init_worker(spec, formats)
            for chunk in chunks:
                _write(writer, chunk, _rendered_papers(chunk), progress)
        return writer.commit()


def _write(writer: output.ExamWriter, students: list[Student], done: list, progress) -> None:
    for student, rendered in zip(students, done, strict=True):
        writer.add(rendered)
        if progress:
            progress(student)
