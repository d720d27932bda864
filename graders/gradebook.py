"""The gradebook: exams, students, instances, responses, grades, grading runs, overrides, in a
SQLite file (the default, ``OUT/gradebook.sqlite``) or a PostgreSQL database
(``postgresql://user@host/dbname``, for a department: ``quizgen serve`` keeps its own tables
beside it). One SQL text serves both; :mod:`.gradebook_sql` holds the few differences (types,
placeholders, the writers' lock) and opens the connection.

Every write is a transaction, and writers take turns (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's
advisory lock). A grading run grades the class a few hundred students at a time,
column by column (:mod:`.batch`, the same results as the per-answer ladder), and commits one
student at a time (their grades, the changes against their previous grades and a "done" mark,
together), so killing the process
mid-run loses nothing already committed, and running the same job again (same exam, settings
and stored inputs) resumes the unfinished run where it stopped; primary keys on (exam, student,
question number, part) with ``INSERT ... ON CONFLICT DO UPDATE`` make a rerun write no duplicates.

Grading reads the instances stored from the manifest and never re-samples. A regrade after a
change (a corrected manifest, a new tolerance, other settings) recomputes every grade from the
stored responses and returns what changed for whom; a manual override replaces a part's score
(the automatic grade is kept underneath, and regrades never touch overrides).

A student with no stored answer at all (no row in any responses file) is *absent*: not graded,
blank in ``grades.csv``, left out of the statistics and listed as absent in the class report. A
student whose row has only blank cells handed in blanks and is graded 0.

Outputs written by :func:`write_reports` (each file atomically): ``grades.csv`` (student_id, name,
total, then points per exam slot ``slot1, slot2, ...``: the same question for everybody whatever
order their paper printed; every cell empty for an absent student, so that an LMS import records
no grade rather than 0), ``item_analysis.csv``, ``flags.csv``, ``report.html`` and
``feedback/<student>.html`` and ``.md``; ``warnings.txt`` when the responses had problems.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from quizgen import csvsafe
from quizgen.bank import Bank
from quizgen.errors import SpecError
from quizgen.fsutil import atomic_write_text, student_file_stem
from quizgen.manifest import Manifest, Question, StudentPaper, load_manifest
from quizgen.manifest_check import check_manifest, instance_digest, instance_json, sealed_by_key
from quizgen.models import ANSWER_KINDS, GradeResult, Instance, Status, Tolerance

from .analysis import PartRecord, item_analysis, student_totals
from .batch import collector_paused, grade_questions
from .collusion import collusion_flags
from .gradebook_sql import Location, locate
from .numeric import Recompute
from .reports import class_report_html, student_report_html, student_report_md
from .responses import ResponseSet, read_responses

__all__ = [
    "Change",
    "GradeSettings",
    "Gradebook",
    "GradingOutcome",
    "RunResult",
    "exam_key",
    "grade_class",
    "parse_override",
    "regrade_class",
    "report",
    "write_reports",
]

SCHEMA_VERSION = "1"

#: Students graded together in one batch (memory stays bounded for large classes).
_CHUNK = 500

#: The tables, written once for both databases: ``{real}``, ``{text}``, ``{serial}`` and ``{rowid}``
#: are each database's own (:attr:`.gradebook_sql.Dialect.types`).
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key {text} PRIMARY KEY, value {text} NOT NULL);
CREATE TABLE IF NOT EXISTS exams (
    key {text} PRIMARY KEY, title {text} NOT NULL, data {text} NOT NULL, imported_at {text} NOT NULL);
CREATE TABLE IF NOT EXISTS students (
    exam {text} NOT NULL REFERENCES exams(key), id {text} NOT NULL, name {text} NOT NULL,
    email {text} NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (exam, id));
CREATE TABLE IF NOT EXISTS instances (
    exam {text} NOT NULL, student {text} NOT NULL, number INTEGER NOT NULL, slot INTEGER NOT NULL,
    template_id {text} NOT NULL, data {text} NOT NULL, PRIMARY KEY (exam, student, number),
    FOREIGN KEY (exam, student) REFERENCES students(exam, id){rowid});
CREATE TABLE IF NOT EXISTS responses (
    exam {text} NOT NULL, student {text} NOT NULL, number INTEGER NOT NULL, part {text} NOT NULL,
    text {text}, source {text} NOT NULL, stored_at {text} NOT NULL,
    PRIMARY KEY (exam, student, number, part));
CREATE TABLE IF NOT EXISTS runs (
    id {serial}, exam {text} NOT NULL, kind {text} NOT NULL,
    settings {text} NOT NULL, inputs {text} NOT NULL, warnings {text} NOT NULL,
    started_at {text} NOT NULL, finished_at {text});
CREATE TABLE IF NOT EXISTS run_students (
    run INTEGER NOT NULL REFERENCES runs(id), student {text} NOT NULL, PRIMARY KEY (run, student));
CREATE TABLE IF NOT EXISTS grades (
    exam {text} NOT NULL, student {text} NOT NULL, number INTEGER NOT NULL, part {text} NOT NULL,
    score {real} NOT NULL, max_points {real} NOT NULL, status {text} NOT NULL, feedback {text} NOT NULL,
    mistake {text}, format_error {text}, carried_forward INTEGER NOT NULL, parsed {text},
    run INTEGER NOT NULL, PRIMARY KEY (exam, student, number, part));
CREATE TABLE IF NOT EXISTS verified (digest {text} PRIMARY KEY);
CREATE TABLE IF NOT EXISTS overrides (
    exam {text} NOT NULL, student {text} NOT NULL, number INTEGER NOT NULL, part {text} NOT NULL,
    score {real} NOT NULL, reason {text} NOT NULL, created_at {text} NOT NULL,
    PRIMARY KEY (exam, student, number, part));
CREATE TABLE IF NOT EXISTS changes (
    run INTEGER, exam {text} NOT NULL, student {text} NOT NULL, number INTEGER NOT NULL,
    part {text} NOT NULL, old_score {real}, new_score {real} NOT NULL, max_points {real} NOT NULL,
    old_status {text}, new_status {text} NOT NULL, reason {text} NOT NULL, at {text} NOT NULL{rowid});
"""


def _exact_kind(kind: str) -> bool:
    """Integer, shape and choice answers: compared exactly, whatever the tolerance."""
    info = ANSWER_KINDS.get(kind)
    return info is None or info.integral or info.choice


def template_parts(instances: Iterable[Instance]) -> dict[str, dict[str, str]]:
    """template id -> {part id: answer kind}, for :meth:`GradeSettings.check`."""
    return {i.template_id: {p.id: p.kind for p in i.parts} for i in instances}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def exam_key(exam: Mapping) -> str:
    """A short stable id for an exam: a hash of its title, course, seed and spec hash."""
    ident = {k: exam.get(k) for k in ("title", "course", "seed", "spec_sha256")}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class GradeSettings:
    """How to grade: per-element partial credit, the credit for error carried forward, and
    tolerance overrides keyed by ``template_id:part_id``, ``template_id`` (all its parts) or
    ``*`` (every part of the exam), the most specific first. Integer, shape and choice parts
    stay exact whatever the override."""

    partial: bool = True
    carry_forward_credit: float = 1.0
    tolerances: Mapping[str, Tolerance] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.carry_forward_credit <= 1.0:
            raise ValueError(
                f"carry_forward_credit: expected a number in [0, 1], got {self.carry_forward_credit}"
            )

    def to_json(self) -> str:
        return json.dumps(
            {
                "partial": self.partial,
                "carry_forward_credit": self.carry_forward_credit,
                "tolerances": {k: t.to_dict() for k, t in sorted(self.tolerances.items())},
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> GradeSettings:
        d = json.loads(text)
        return cls(
            partial=bool(d.get("partial", True)),
            carry_forward_credit=float(d.get("carry_forward_credit", 1.0)),
            tolerances={k: Tolerance.from_dict(v) for k, v in d.get("tolerances", {}).items()},
        )

    def check(self, parts: Mapping[str, Mapping[str, str]], source: str = "") -> None:
        """SpecError for a tolerance override that would be silently ignored: a template the
        exam does not use, a part it lacks, or only exactly graded parts (integer, shape,
        choice). ``parts``: template id -> {part id: answer kind}."""
        for key in self.tolerances:
            if key == "*":
                continue
            tid, _, pid = key.partition(":")
            if tid not in parts:
                listed = ", ".join(sorted(parts)) or "none"
                raise SpecError(
                    f"--tolerance {key}: the exam has no template {tid!r} (its templates: {listed})",
                    source=source,
                )
            kinds = parts[tid] if not pid else {pid: parts[tid][pid]} if pid in parts[tid] else {}
            if not kinds:
                raise SpecError(
                    f"--tolerance {key}: template {tid} has no part {pid!r} (its parts: {', '.join(parts[tid])})",
                    source=source,
                )
            if all(_exact_kind(k) for k in kinds.values()):
                what = ", ".join(f"{p} ({k})" for p, k in kinds.items())
                raise SpecError(
                    f"--tolerance {key}: {what} graded exactly, a tolerance does not apply; "
                    "use --override to give points by hand",
                    source=source,
                )

    def apply(self, instance: Instance) -> Instance:
        """``instance`` with the tolerance overrides applied to its parts."""
        if not self.tolerances:
            return instance
        parts = []
        for p in instance.parts:
            keys = (f"{instance.template_id}:{p.id}", instance.template_id, "*")
            tol = next((self.tolerances[k] for k in keys if k in self.tolerances), None)
            parts.append(p if tol is None else replace(p, tolerance=tol))
        return replace(instance, parts=tuple(parts))


@dataclass(frozen=True)
class Change:
    """A part whose effective score or status changed."""

    student_id: str
    name: str
    number: int
    part_id: str
    old_points: float | None
    new_points: float
    max_points: float
    old_status: str | None
    new_status: str
    reason: str

    def describe(self) -> str:
        old = "—" if self.old_points is None else f"{self.old_points:g}"
        return (
            f"{self.student_id} ({self.name}) q{self.number}.{self.part_id}: {old} -> {self.new_points:g} "
            f"of {self.max_points:g} ({self.old_status} -> {self.new_status}; {self.reason})"
        )


@dataclass(frozen=True)
class RunResult:
    run_id: int
    exam: str
    kind: str
    graded: int  # students graded by this call
    resumed: int  # students already graded by an interrupted run of the same job
    changes: tuple[Change, ...]
    absent: tuple[str, ...] = ()  # students with no stored answer: not graded


def _to_json(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return json.dumps(value)


def _score_status(score: float) -> Status:
    return Status.CORRECT if score >= 1.0 else Status.PARTIAL if score > 0.0 else Status.INCORRECT


class Gradebook:
    """A gradebook: a SQLite file or a PostgreSQL database (``postgresql://...``, see
    :mod:`.gradebook_sql`); use as a context manager or call :meth:`close`.

    ``db`` is the connection (``sqlite3.Connection``, or :class:`.gradebook_sql.PgConnection`):
    ``execute(sql, params)`` with ``?`` placeholders, rows read by index and by name."""

    @classmethod
    def existing(cls, location: str | Path | Location) -> Gradebook:
        """The gradebook at ``location``, which a ``quizgen grade`` must have made (opening a
        missing one would create an empty file or empty tables): one line saying so otherwise."""
        return cls(location, create=False)

    def __init__(self, location: str | Path | Location, *, create: bool = True) -> None:
        try:
            self.location = locate(location)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        self.path = self.location.path  # the SQLite file; None for a PostgreSQL database
        self.source = self.location.shown  # where, for messages (a URL without its password)
        dialect = self.location.dialect
        if not create and self.path is not None and not self.path.exists():
            raise SpecError("no such gradebook; run 'quizgen grade' first or pass --db", source=self.source)
        self._begin = dialect.begin
        self.db = dialect.connect(self.location)
        try:
            if not create and not dialect.has_schema(self.db):
                raise SpecError(
                    "no gradebook in this database; run 'quizgen grade --db ...' into it first or pass "
                    "another --db",
                    source=self.source,
                )
            dialect.create(self.db, SCHEMA.format_map(dialect.types))
            row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        except dialect.error() as exc:
            self.db.close()
            detail = " ".join(str(exc).split())
            raise SpecError(
                f"not a quizgen gradebook ({detail}); pass the .sqlite file or database 'quizgen grade' "
                "wrote, or a new one",
                source=self.source,
            ) from None
        except BaseException:
            self.db.close()
            raise
        if row is not None and row["value"] != SCHEMA_VERSION:
            self.db.close()
            raise SpecError(
                f"gradebook schema {row['value']}, this quizgen reads {SCHEMA_VERSION}; use a matching quizgen",
                source=self.source,
            )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self):
        """All or nothing: BEGIN IMMEDIATE ... COMMIT (on PostgreSQL, BEGIN and the writers'
        advisory lock), rolled back on any exception; yields the connection."""
        for statement in self._begin:
            self.db.execute(statement)
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------------------------ exams

    def import_manifest(self, manifest: Manifest, *, bank: Bank | None = None, key: str | None = None) -> str:
        """Store (or update) the manifest's exam, students and instances; returns the exam key.
        ``key`` stores a corrected manifest under an existing exam.

        Every instance is first checked against ``bank`` (None: the built-in bank) by
        :func:`quizgen.manifest_check.check_manifest`: a manifest whose answer keys, mistakes,
        options, tolerances, points or seeds are not what the bank draws is refused before
        anything is written. The gradebook remembers each verified instance (the SHA-256 of its
        stored text), so importing the same papers again redraws nothing; nor is an instance
        redrawn whose seal from generate checks under the instructor's key."""
        key = key or exam_key(manifest.exam)
        title = str(manifest.exam.get("title", "exam"))
        texts = [[instance_json(q.instance) for q in paper.questions] for paper in manifest.students]
        digests = [[instance_digest(t) for t in row] for row in texts]
        known = {r[0] for r in self.db.execute("SELECT digest FROM verified")}
        skip = {
            (paper.id, q.number)
            for paper, row in zip(manifest.students, digests, strict=True)
            for q, d in zip(paper.questions, row, strict=True)
            if d in known
        }
        by_question = {
            (paper.id, q.number): text
            for paper, row in zip(manifest.students, texts, strict=True)
            for q, text in zip(paper.questions, row, strict=True)
        }
        check_manifest(manifest, bank, skip=skip | sealed_by_key(manifest, by_question))
        with self.transaction() as db:
            db.execute(
                "INSERT INTO exams VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET title=excluded.title, "
                "data=excluded.data",
                (key, title, json.dumps(dict(manifest.exam), default=str), _now()),
            )
            db.executemany(
                "INSERT INTO verified VALUES (?) ON CONFLICT (digest) DO NOTHING",
                [(d,) for row in digests for d in row if d not in known],
            )
            for position, (paper, row) in enumerate(zip(manifest.students, texts, strict=True)):
                db.execute(
                    "INSERT INTO students VALUES (?, ?, ?, ?, ?) ON CONFLICT(exam, id) DO UPDATE SET "
                    "name=excluded.name, email=excluded.email, position=excluded.position",
                    (key, paper.id, paper.name, paper.email, position),
                )
                db.execute("DELETE FROM instances WHERE exam=? AND student=?", (key, paper.id))
                for q, text in zip(paper.questions, row, strict=True):
                    db.execute(
                        "INSERT INTO instances VALUES (?, ?, ?, ?, ?, ?)",
                        (key, paper.id, q.number, q.slot, q.instance.template_id, text),
                    )
                numbers = [q.number for q in paper.questions]
                marks = ",".join("?" * len(numbers))
                db.execute(
                    f"DELETE FROM grades WHERE exam=? AND student=? AND number NOT IN ({marks})",
                    (key, paper.id, *numbers),
                )
        return key

    def exams(self) -> list[tuple[str, str]]:
        return [
            (r["key"], r["title"])
            for r in self.db.execute("SELECT key, title FROM exams ORDER BY imported_at")
        ]

    def resolve_exam(self, exam: str | None = None) -> str:
        """The exam key: the given key (or a unique prefix), or the only exam in the gradebook."""
        exams = self.exams()
        if exam is None:
            if len(exams) == 1:
                return exams[0][0]
            if not exams:
                raise SpecError(
                    "the gradebook holds no exam yet; run 'quizgen grade' first", source=self.source
                )
            listed = ", ".join(f"{k} ({t})" for k, t in exams)
            raise SpecError(
                f"the gradebook holds several exams ({listed}); choose one with --exam", source=self.source
            )
        found = [k for k, _ in exams if k.startswith(exam)]
        if len(found) != 1:
            listed = ", ".join(k for k, _ in exams) or "none"
            raise SpecError(f"no single exam {exam!r} in the gradebook (exams: {listed})", source=self.source)
        return found[0]

    def exam_title(self, exam: str) -> str:
        row = self.db.execute("SELECT title FROM exams WHERE key=?", (exam,)).fetchone()
        return row["title"] if row else exam

    def store_responses(self, exam: str, responses: ResponseSet) -> None:
        """Store every answer in ``responses``, replacing the stored answer to the same part;
        answers the file does not mention are kept (a blank cell stores a blank)."""
        now = _now()
        with self.transaction() as db:
            known = {r["id"] for r in db.execute("SELECT id FROM students WHERE exam=?", (exam,))}
            db.executemany(
                "INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (exam, student, number, part) "
                "DO UPDATE SET text=excluded.text, source=excluded.source, stored_at=excluded.stored_at",
                [
                    (exam, a.student_id, a.number, a.part_id, a.text, a.where, now)
                    for a in responses.answers
                    if a.student_id in known
                ],
            )

    # ------------------------------------------------------------------------------ grading

    def _inputs_hash(self, exam: str, students: Sequence[str] | None = None) -> str:
        """A digest of the stored papers and answers (what makes two grading jobs the same):
        each table named, each value length-prefixed (None as -1), so no two inputs read alike.
        ``students``: of these students only."""
        h = hashlib.sha256()
        only, args = "", ()
        if students is not None:
            only, args = f" AND student IN ({','.join('?' * len(students))})", tuple(students)
        for table, cols in (
            ("instances", "student, number, data"),
            ("responses", "student, number, part, text"),
        ):
            h.update(f"{table}\n".encode())
            query = f"SELECT {cols} FROM {table} WHERE exam=?{only} ORDER BY {cols}"
            for row in self.db.execute(query, (exam, *args)):
                for v in row:
                    if v is None:
                        h.update(b"-1:")
                    else:
                        b = str(v).encode()
                        h.update(b"%d:" % len(b))
                        h.update(b)
        return h.hexdigest()

    def _questions(self, exam: str, sids: Sequence[str], settings: GradeSettings):
        """(student, number, instance with the settings applied, answers by part) for the
        students ``sids``, in their order and paper order."""
        marks = ",".join("?" * len(sids))
        answers: dict[tuple[str, int], dict[str, str | None]] = {}
        for r in self.db.execute(
            f"SELECT student, number, part, text FROM responses WHERE exam=? AND student IN ({marks})",
            (exam, *sids),
        ):
            answers.setdefault((r[0], r[1]), {})[r[2]] = r[3]
        by_student: dict[str, list] = {sid: [] for sid in sids}
        for r in self.db.execute(
            f"SELECT student, number, data FROM instances WHERE exam=? AND student IN ({marks}) ORDER BY number",
            (exam, *sids),
        ):
            instance = settings.apply(Instance.from_dict(json.loads(r[2])))
            by_student[r[0]].append((r[1], instance, answers.get((r[0], r[1]), {})))
        return [(sid, number, instance, a) for sid in sids for number, instance, a in by_student[sid]]

    def _grade_students(
        self,
        exam: str,
        sids: Sequence[str],
        settings: GradeSettings,
        factory: Callable[[Instance], Recompute | None] | None,
    ) -> dict[str, list[tuple[int, GradeResult, str | None]]]:
        """Every part of the students ``sids``, graded together (:mod:`.batch`): student ->
        [(question number, result, the parsed answer as JSON)]."""
        questions = self._questions(exam, sids, settings)
        graded = grade_questions(
            [(instance, answers) for _, _, instance, answers in questions],
            recompute_factory=factory,
            carry_forward_credit=settings.carry_forward_credit,
            partial=settings.partial,
        )
        rows: dict[str, list[tuple[int, GradeResult, str | None]]] = {sid: [] for sid in sids}
        for (sid, number, _, _), parts in zip(questions, graded, strict=True):
            rows[sid].extend((number, d.result, _to_json(d.value)) for d in parts)
        return rows

    def _effective(self, exam: str, sid: str) -> dict[tuple[int, str], tuple[float, str, float]]:
        rows = self.db.execute(
            "SELECT g.number, g.part, COALESCE(o.score, g.score) AS score, g.status, o.score AS o_score, g.max_points "
            "FROM grades g LEFT JOIN overrides o USING (exam, student, number, part) WHERE g.exam=? AND g.student=?",
            (exam, sid),
        )
        return {
            (r["number"], r["part"]): (
                r["score"],
                _score_status(r["o_score"]).value if r["o_score"] is not None else r["status"],
                r["max_points"],
            )
            for r in rows
        }

    def _commit_student(
        self, exam: str, sid: str, rows: list[tuple[int, GradeResult, str | None]], run_id: int, reason: str
    ) -> None:
        """One student's grades, their changes and the run's "done" mark, in one transaction."""
        now = _now()
        with self.transaction() as db:
            before = self._effective(exam, sid)
            overridden = {
                (r["number"], r["part"])
                for r in db.execute(
                    "SELECT number, part FROM overrides WHERE exam=? AND student=?", (exam, sid)
                )
            }
            db.executemany(
                "INSERT INTO grades VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (exam, student, number, part) DO UPDATE SET score=excluded.score, "
                "max_points=excluded.max_points, status=excluded.status, feedback=excluded.feedback, "
                "mistake=excluded.mistake, format_error=excluded.format_error, "
                "carried_forward=excluded.carried_forward, parsed=excluded.parsed, run=excluded.run",
                [
                    (exam, sid, number, res.part_id, res.score, res.max_points, res.status.value, res.feedback,
                     res.mistake, res.format_error, int(res.carried_forward), parsed, run_id)
                    for number, res, parsed in rows
                ],
            )  # fmt: skip
            changes = []
            for number, res, _ in rows:
                old = before.get((number, res.part_id))
                if old is None or (number, res.part_id) in overridden:
                    continue
                if abs(old[0] - res.score) > 1e-12 or old[1] != res.status.value:
                    changes.append(
                        (run_id, exam, sid, number, res.part_id, old[0], res.score, res.max_points,
                         old[1], res.status.value, reason, now)
                    )  # fmt: skip
            db.executemany("INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", changes)
            db.execute("INSERT INTO run_students VALUES (?, ?)", (run_id, sid))

    @collector_paused()
    def grade(
        self,
        exam: str,
        settings: GradeSettings = GradeSettings(),
        recompute_factory: Callable[[Instance], Recompute | None] | None = None,
        *,
        kind: str = "grade",
        warnings: Sequence[str] = (),
        progress: Callable[[str], None] | None = None,
        students: Sequence[str] | None = None,
    ) -> RunResult:
        """Grade every student of ``exam`` from the stored instances and responses, one
        committed transaction per student; resumes an unfinished run of the same job.
        ``students``: grade only these (a final submit online); the others keep their grades,
        and such a run never resumes another."""
        settings_json, inputs = settings.to_json(), self._inputs_hash(exam, students)
        row = None
        if students is None:
            row = self.db.execute(
                "SELECT id FROM runs WHERE exam=? AND kind=? AND settings=? AND inputs=? AND finished_at IS NULL "
                "ORDER BY id DESC LIMIT 1",
                (exam, kind, settings_json, inputs),
            ).fetchone()
        if row is not None:
            run_id = row["id"]
            done = {
                r["student"]
                for r in self.db.execute("SELECT student FROM run_students WHERE run=?", (run_id,))
            }
        else:
            with self.transaction() as db:
                run_id = db.execute(
                    "INSERT INTO runs (exam, kind, settings, inputs, warnings, started_at) VALUES (?, ?, ?, ?, ?, ?) "
                    "RETURNING id",
                    (exam, kind, settings_json, inputs, json.dumps(list(warnings)), _now()),
                ).fetchone()[0]
            done = set()
        absent = {sid for sid, _ in self.absent(exam)}
        if students is not None:
            absent &= set(students)
        if absent:  # grades left from before a student's answers were known as absent
            with self.transaction() as db:
                db.executemany(
                    "DELETE FROM grades WHERE exam=? AND student=?", [(exam, sid) for sid in sorted(absent)]
                )
        wanted = None if students is None else set(students)
        roster = [
            s
            for s in self.db.execute("SELECT id, name FROM students WHERE exam=? ORDER BY position", (exam,))
            if wanted is None or s["id"] in wanted
        ]
        graded = 0
        reason = "regraded" if kind == "regrade" else "graded again"
        todo = [s["id"] for s in roster if s["id"] not in done and s["id"] not in absent]
        for start in range(0, len(todo), _CHUNK):
            sids = todo[start : start + _CHUNK]
            graded_rows = self._grade_students(exam, sids, settings, recompute_factory)
            for sid in sids:
                self._commit_student(exam, sid, graded_rows.pop(sid), run_id, reason)
                graded += 1
                if progress is not None:
                    progress(sid)
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_at=? WHERE id=?", (_now(), run_id))
        return RunResult(
            run_id,
            exam,
            kind,
            graded,
            len(done),
            tuple(self.changes(exam, run_id=run_id)),
            tuple(s["id"] for s in roster if s["id"] in absent),
        )

    def changes(self, exam: str, *, run_id: int | None = None) -> list[Change]:
        """Recorded changes: of one run, or (``run_id=None``) every manual override, oldest first."""
        where = "c.run=?" if run_id is not None else "c.run IS NULL"
        order = "s.position, c.number, c.part, c.rowid" if run_id is not None else "c.rowid"
        rows = self.db.execute(
            f"SELECT c.*, s.name FROM changes c JOIN students s ON s.exam=c.exam AND s.id=c.student "
            f"WHERE c.exam=? AND {where} ORDER BY {order}",
            (exam, run_id) if run_id is not None else (exam,),
        )
        return [
            Change(
                r["student"],
                r["name"],
                r["number"],
                r["part"],
                None if r["old_score"] is None else r["old_score"] * r["max_points"],
                r["new_score"] * r["max_points"],
                r["max_points"],
                r["old_status"],
                r["new_status"],
                r["reason"],
            )
            for r in rows
        ]

    def template_parts(self, exam: str) -> dict[str, dict[str, str]]:
        """template id -> {part id: answer kind} over the exam's stored instances."""
        rows = self.db.execute(
            "SELECT data FROM instances WHERE rowid IN (SELECT MIN(rowid) FROM instances WHERE exam=? "
            "GROUP BY template_id)",
            (exam,),
        )
        return template_parts(Instance.from_dict(json.loads(r["data"])) for r in rows)

    def check_finished(self, exam: str) -> None:
        """SpecError unless the exam's last grading run finished: a run is committed with no
        ``finished_at`` when it starts and marked when every student is graded, so a run
        killed midway (or that failed) is seen here, and the way out is to run it again."""
        row = self.db.execute(
            "SELECT id, kind, started_at, finished_at FROM runs WHERE exam=? ORDER BY id DESC LIMIT 1",
            (exam,),
        ).fetchone()
        if row is None:
            raise SpecError(
                "no grading run of this exam has finished; run 'quizgen grade' first", source=self.source
            )
        if row["finished_at"] is None:
            done = self.db.execute("SELECT COUNT(*) FROM run_students WHERE run=?", (row["id"],)).fetchone()[
                0
            ]
            raise SpecError(
                f"the last grading run ({row['kind']} run {row['id']}, started {row['started_at']}) did not finish "
                f"({done} students graded; interrupted?); run 'quizgen {row['kind']}' again with the same "
                "inputs to finish it",
                source=self.source,
            )

    def reports_dir(self, exam: str) -> Path | None:
        """Where the exam's reports were last written (None if never)."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (f"reports_dir:{exam}",)).fetchone()
        return None if row is None else Path(row["value"])

    def set_reports_dir(self, exam: str, out_dir: str | Path) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (f"reports_dir:{exam}", str(Path(out_dir).resolve())),
            )

    def last_settings(self, exam: str) -> GradeSettings:
        """The settings of the last finished run (an interrupted or failed one does not count)."""
        row = self.db.execute(
            "SELECT settings FROM runs WHERE exam=? AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
            (exam,),
        ).fetchone()
        return GradeSettings() if row is None else GradeSettings.from_json(row["settings"])

    def last_warnings(self, exam: str) -> list[str]:
        row = self.db.execute(
            "SELECT warnings FROM runs WHERE exam=? AND kind='grade' ORDER BY id DESC LIMIT 1", (exam,)
        ).fetchone()
        return [] if row is None else json.loads(row["warnings"])

    # ------------------------------------------------------------------------------ overrides

    def _part_max(self, exam: str, sid: str, number: int, part_id: str) -> float:
        row = self.db.execute(
            "SELECT data FROM instances WHERE exam=? AND student=? AND number=?", (exam, sid, number)
        ).fetchone()
        if row is None:
            raise SpecError(
                f"student {sid!r} has no question {number} in exam {exam}; check the id and number"
            )
        try:
            return Instance.from_dict(json.loads(row["data"])).part(part_id).points
        except ValueError:
            raise SpecError(
                f"question {number} of {sid!r} has no part {part_id!r}; check the part id"
            ) from None

    def _record_override_change(
        self, db, exam, sid, number, part_id, old, new_score, max_points, reason
    ) -> None:
        db.execute(
            "INSERT INTO changes VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (exam, sid, number, part_id, None if old is None else old[0], new_score, max_points,
             None if old is None else old[1], _score_status(new_score).value, reason, _now()),
        )  # fmt: skip

    def set_override(
        self, exam: str, sid: str, number: int, part_id: str, points: float, reason: str
    ) -> Change:
        """Give ``points`` for one part by hand (kept through regrades); returns the change."""
        max_points = self._part_max(exam, sid, number, part_id)
        where = f"override {sid}:q{number}.{part_id}"
        if not 0.0 <= points <= max_points:
            raise SpecError(f"{where}: points must be in [0, {max_points:g}], got {points:g}")
        if not reason.strip():
            raise SpecError(f"{where}: give a reason (--reason)")
        if sid in {a for a, _ in self.absent(exam)}:
            raise SpecError(
                f"{where}: {sid} is absent (no answer stored), so has no grade to override; "
                "store their answers first (quizgen regrade --responses FILE)"
            )
        score = points / max_points if max_points > 0 else 1.0
        with self.transaction() as db:
            old = self._effective(exam, sid).get((number, part_id))
            db.execute(
                "INSERT INTO overrides VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (exam, student, number, part) "
                "DO UPDATE SET score=excluded.score, reason=excluded.reason, created_at=excluded.created_at",
                (exam, sid, number, part_id, score, reason, _now()),
            )
            self._record_override_change(
                db, exam, sid, number, part_id, old, score, max_points, f"set by hand: {reason}"
            )
        return self.changes(exam)[-1]

    def clear_override(self, exam: str, sid: str, number: int, part_id: str) -> Change | None:
        """Remove a manual override (the automatic grade applies again); the change, or None if
        there was no override."""
        max_points = self._part_max(exam, sid, number, part_id)
        with self.transaction() as db:
            old = self._effective(exam, sid).get((number, part_id))
            cur = db.execute(
                "DELETE FROM overrides WHERE exam=? AND student=? AND number=? AND part=?",
                (exam, sid, number, part_id),
            )
            if cur.rowcount == 0:
                return None
            new = self._effective(exam, sid).get((number, part_id))
            if new is None:
                return None
            self._record_override_change(
                db, exam, sid, number, part_id, old, new[0], max_points, "override removed"
            )
        return self.changes(exam)[-1]

    def manifest(self, exam: str) -> Manifest:
        """The stored papers of ``exam`` (to read more responses against)."""
        data = json.loads(self.db.execute("SELECT data FROM exams WHERE key=?", (exam,)).fetchone()["data"])
        papers = []
        for s in self.db.execute(
            "SELECT id, name, email FROM students WHERE exam=? ORDER BY position", (exam,)
        ).fetchall():
            questions = tuple(
                Question(r["number"], r["slot"], "", Instance.from_dict(json.loads(r["data"])))
                for r in self.db.execute(
                    "SELECT number, slot, data FROM instances WHERE exam=? AND student=? ORDER BY number",
                    (exam, s["id"]),
                )
            )
            papers.append(StudentPaper(s["id"], s["name"], s["email"], questions))
        return Manifest(data, tuple(papers), self.source)

    # ------------------------------------------------------------------------------ reading

    def records(self, exam: str, student: str | None = None) -> list[PartRecord]:
        """Every graded part with its effective grade, in student and paper order; ``student``:
        that student's only (read alone, not filtered from the class's)."""
        return self._records(exam, student)[0]

    @collector_paused()
    def _records(
        self, exam: str, student: str | None = None
    ) -> tuple[list[PartRecord], dict[str, dict[int, str]]]:
        """:meth:`records` and :meth:`question_texts`, from one reading of the instances."""
        only, args = ("", (exam,)) if student is None else (" AND student=?", (exam, student))
        texts: dict[str, dict[int, str]] = {}
        grades = {
            (r["student"], r["number"], r["part"]): r
            for r in self.db.execute(
                "SELECT g.*, o.score AS o_score, o.reason AS o_reason FROM grades g "
                f"LEFT JOIN overrides o USING (exam, student, number, part) WHERE g.exam=?{only}",
                args,
            )
        }
        responses = {
            (r["student"], r["number"], r["part"]): r["text"]
            for r in self.db.execute(
                f"SELECT student, number, part, text FROM responses WHERE exam=?{only}", args
            )
        }
        out = []
        rows = self.db.execute(
            "SELECT i.student, s.name, i.number, i.slot, i.data FROM instances i JOIN students s "
            f"ON s.exam=i.exam AND s.id=i.student WHERE i.exam=?{only.replace('student', 'i.student')} "
            "ORDER BY s.position, i.number",
            args,
        )
        for row in rows:
            instance = Instance.from_dict(json.loads(row["data"]))
            texts.setdefault(row["student"], {})[row["number"]] = instance.text
            for part in instance.parts:
                g = grades.get((row["student"], row["number"], part.id))
                if g is None:
                    continue
                result = GradeResult(
                    part.id,
                    g["score"],
                    g["max_points"],
                    Status(g["status"]),
                    g["feedback"],
                    g["mistake"],
                    g["format_error"],
                    bool(g["carried_forward"]),
                )
                if g["o_score"] is not None:
                    result = replace(result, score=g["o_score"], status=_score_status(g["o_score"]))
                out.append(
                    PartRecord(
                        student_id=row["student"],
                        name=row["name"],
                        number=row["number"],
                        slot=row["slot"],
                        template_id=instance.template_id,
                        title=instance.title,
                        params=instance.params,
                        part=part,
                        response=responses.get((row["student"], row["number"], part.id)),
                        result=result,
                        parsed=None if g["parsed"] is None else json.loads(g["parsed"]),
                        override_reason=g["o_reason"],
                    )
                )
        return out, texts

    def question_texts(self, exam: str) -> dict[str, dict[int, str]]:
        out: dict[str, dict[int, str]] = {}
        for r in self.db.execute("SELECT student, number, data FROM instances WHERE exam=?", (exam,)):
            out.setdefault(r["student"], {})[r["number"]] = json.loads(r["data"]).get("text", "")
        return out

    def graded(self, exam: str) -> set[str]:
        """The ids of the students with at least one grade stored for ``exam``."""
        return {r[0] for r in self.db.execute("SELECT DISTINCT student FROM grades WHERE exam=?", (exam,))}

    def absent(self, exam: str) -> list[tuple[str, str]]:
        """(id, name) of the students with no stored answer, not even a blank one, in roster order."""
        return [
            (r["id"], r["name"])
            for r in self.db.execute(
                "SELECT id, name FROM students s WHERE exam=? AND NOT EXISTS "
                "(SELECT 1 FROM responses r WHERE r.exam=s.exam AND r.student=s.id) ORDER BY position",
                (exam,),
            )
        ]

    def blank_only(self, exam: str) -> list[tuple[str, str]]:
        """(id, name) of the students whose stored answers are all blank (graded 0), in roster order."""
        return [
            (r["id"], r["name"])
            for r in self.db.execute(
                "SELECT s.id, s.name FROM students s JOIN responses r ON r.exam=s.exam AND r.student=s.id "
                "WHERE s.exam=? GROUP BY s.id, s.name, s.position HAVING COUNT(r.text)=0 ORDER BY s.position",
                (exam,),
            )
        ]

    def students(self, exam: str) -> list[tuple[str, str]]:
        return [
            (r["id"], r["name"])
            for r in self.db.execute("SELECT id, name FROM students WHERE exam=? ORDER BY position", (exam,))
        ]


# ------------------------------------------------------------------------------ exports


def _num(x: float) -> str:
    return f"{round(x, 4):g}"


def grades_csv(records: Sequence[PartRecord], students: Sequence[tuple[str, str]]) -> str:
    """student_id, name, total, then points per exam slot (``slot1``, ...). A student with no
    graded part (absent) gets empty cells: an LMS import then records no grade, where a 0
    would be a grade."""
    totals = {t.student_id: t for t in student_totals(records)}
    slots = sorted({r.slot for r in records})
    buf = io.StringIO()
    w = csvsafe.writer(buf, lineterminator="\n")
    w.writerow(["student_id", "name", "total", *(f"slot{s}" for s in slots)])
    for sid, name in students:
        t = totals.get(sid)
        if t is None:
            w.writerow([sid, name, "", *("" for _ in slots)])
            continue
        w.writerow([sid, name, _num(t.points), *(_num(t.by_slot.get(s, 0.0)) for s in slots)])
    return buf.getvalue()


def _item_csv(items) -> str:
    buf = io.StringIO()
    w = csvsafe.writer(buf, lineterminator="\n")
    w.writerow(
        ["template_id", "part", "n", "mean_points", "max_points", "difficulty", "full_credit", "discrimination",
         "blank", "format_errors", "common_wrong", "mistakes", "by_param"]
    )  # fmt: skip
    for it in items:
        w.writerow(
            [
                it.template_id,
                it.part_id,
                it.n,
                _num(it.mean_points),
                _num(it.max_points),
                f"{it.difficulty:.3f}",
                f"{it.full_credit:.3f}",
                "" if it.discrimination is None else f"{it.discrimination:.3f}",
                f"{it.blank:.3f}",
                f"{it.format_errors:.3f}",
                "; ".join(f"{a} x{c}" for a, c in it.common_wrong),
                "; ".join(f"{m} x{c}" for m, _, c in it.mistakes),
                " | ".join(
                    f"{b.name}: " + ", ".join(f"{v}={s:.2f} (n={n})" for v, n, s in b.values)
                    for b in it.by_param
                ),
            ]
        )
    return buf.getvalue()


def _flags_csv(flags) -> str:
    """One row per shared answer of each flagged pair (:mod:`.collusion`)."""
    buf = io.StringIO()
    w = csvsafe.writer(buf, lineterminator="\n")
    w.writerow(
        ["student_id", "other_id", "p_value", "corrected_p", "template_id", "part", "number", "other_number",
         "value", "shared_as", "classmates_with_value", "classmates", "rarity", "evidence"]
    )  # fmt: skip
    for f in flags:
        for s, text in zip(f.shared, f.evidence, strict=True):
            w.writerow(
                [f.student_id, f.other_id, f"{f.p_value:.3g}", f"{f.corrected:.3g}", s.template_id, s.part_id,
                 s.number, s.other_number, s.value, "other's key" if s.how == "key" else "same wrong answer",
                 s.matches, s.classmates, f"{s.rarity:.3g}", text]
            )  # fmt: skip
    return buf.getvalue()


@collector_paused()
def write_reports(db_path: str | Path, out_dir: str | Path, *, exam: str | None = None) -> list[Path]:
    """Write the grades CSV, item analysis, collusion flags, class report and every student's
    feedback (HTML and Markdown) from the gradebook (a SQLite file or a ``postgresql://`` URL)
    into ``out_dir``; returns the files."""
    out = Path(out_dir)
    with Gradebook(db_path) as book:
        key = book.resolve_exam(exam)
        title = book.exam_title(key)
        records, texts = book._records(key)
        students = book.students(key)
        absent = book.absent(key)
        warnings = book.last_warnings(key)
    files: dict[Path, str] = {}
    files[out / "grades.csv"] = grades_csv(records, students)
    items = item_analysis(records)
    pairs = collusion_flags(records)
    files[out / "item_analysis.csv"] = _item_csv(items)
    files[out / "flags.csv"] = _flags_csv(pairs)
    files[out / "report.html"] = class_report_html(
        title, student_totals(records), items, pairs, warnings, absent=absent
    )
    by_student: dict[str, list[PartRecord]] = {}
    for r in records:
        by_student.setdefault(r.student_id, []).append(r)
    taken: set[str] = set()
    for sid, name in students:
        stem = student_file_stem(sid, taken)
        recs = by_student.get(sid, [])
        files[out / "feedback" / f"{stem}.html"] = student_report_html(
            title, sid, name, recs, texts.get(sid, {})
        )
        files[out / "feedback" / f"{stem}.md"] = student_report_md(title, sid, name, recs, texts.get(sid, {}))
    if warnings:
        files[out / "warnings.txt"] = "\n".join(warnings) + "\n"
    for path, text in files.items():
        atomic_write_text(path, text)
    return list(files)


# ------------------------------------------------------------------------------ commands


@dataclass(frozen=True)
class GradingOutcome:
    """What a grade or regrade did: the run, the responses' warnings, files written, totals."""

    exam: str
    db_path: Path | str  # the SQLite file, or the PostgreSQL URL
    run: RunResult | None
    warnings: tuple[str, ...]
    files: tuple[Path, ...]
    overrides: tuple[Change, ...] = ()

    @property
    def changes(self) -> tuple[Change, ...]:
        return (self.run.changes if self.run else ()) + self.overrides


@collector_paused()
def grade_class(
    manifest_path: str | Path,
    responses_path: str | Path,
    out_dir: str | Path,
    *,
    db_path: str | Path | None = None,
    settings: GradeSettings = GradeSettings(),
    recompute_factory: Callable[[Instance], Recompute | None] | None = None,
    progress: Callable[[str], None] | None = None,
    bank: Bank | None = None,
) -> GradingOutcome:
    """Read the manifest and the responses, store them, grade everybody and write the reports.
    The gradebook (a SQLite file or a ``postgresql://`` URL) defaults to
    ``out_dir/gradebook.sqlite``; running again resumes or repeats the job without duplicating
    anything. The manifest's papers must be what ``bank`` (None: the
    built-in bank) draws from their seeds (:meth:`Gradebook.import_manifest`)."""
    manifest = load_manifest(manifest_path)
    settings.check(template_parts(q.instance for p in manifest.students for q in p.questions))
    # who handed nothing in is judged from the gradebook (every file stored so far), not this file
    responses = read_responses(responses_path, manifest, missing_students=False)
    db_path = _location(db_path) if db_path is not None else Path(out_dir) / "gradebook.sqlite"
    file = locate(db_path).path
    new_dirs = [] if file is None else [d for d in (file.parent, *file.parent.parents) if not d.exists()]
    new_book = file is not None and not file.exists()
    with Gradebook(db_path) as book:
        try:
            key = book.import_manifest(manifest, bank=bank)
        except SpecError:
            if new_book:  # a refused manifest leaves nothing behind: no empty gradebook, no folder
                book.close()
                for path in (file, *(file.with_name(file.name + x) for x in ("-wal", "-shm"))):
                    path.unlink(missing_ok=True)
                for d in new_dirs:
                    d.rmdir()
            raise
        book.store_responses(key, responses)
        run = book.grade(key, settings, recompute_factory, warnings=responses.warnings, progress=progress)
        book.set_reports_dir(key, out_dir)
        # said once, not kept with the run: the report lists the absent from the gradebook itself
        warnings = responses.warnings + _attendance_warnings(book, key)
    files = write_reports(db_path, out_dir, exam=key)
    return GradingOutcome(key, db_path, run, warnings, tuple(files))


def _location(db: str | Path) -> Path | str:
    """A gradebook given by a caller: a server URL kept as text, anything else a path."""
    try:
        return db if locate(db).path is None else Path(locate(db).target)
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def _attendance_warnings(book: Gradebook, exam: str) -> tuple[str, ...]:
    """One line per absent student and per student who handed in only blanks, from every
    answer stored so far (a second, partial file keeps the earlier answers)."""
    absent = [
        f"no answers from student {sid!r} ({name}) in any responses file: absent, not graded "
        "(empty in grades.csv)"
        for sid, name in book.absent(exam)
    ]
    blank = [
        f"student {sid!r} ({name}) handed in only blank answers: graded 0"
        for sid, name in book.blank_only(exam)
    ]
    return tuple(absent + blank)


_OVERRIDE = re.compile(r"^\s*([^:\s]+)\s*:\s*[qQ]?(\d+)\s*\.\s*([^=\s]+)\s*(?:=\s*(\S+)\s*)?$")


def parse_override(text: str, *, points: bool = True) -> tuple[str, int, str, float | None]:
    """``STUDENT:qNUMBER.PART=POINTS`` (e.g. ``s002:q3.b=1.5``) as (student, number, part,
    points); with ``points=False``, ``STUDENT:qNUMBER.PART`` alone (points None)."""
    shape = (
        "STUDENT:qNUMBER.PART=POINTS, such as s002:q3.b=1.5"
        if points
        else "STUDENT:qNUMBER.PART, such as s002:q3.b"
    )
    m = _OVERRIDE.match(text)
    if m is None or (m.group(4) is None) == points:
        raise SpecError(f"override {text!r}: write {shape}")
    if not points:
        return m.group(1), int(m.group(2)), m.group(3), None
    try:
        value = float(m.group(4))
    except ValueError:
        raise SpecError(f"override {text!r}: {m.group(4)!r} is not a number of points") from None
    return m.group(1), int(m.group(2)), m.group(3), value


@collector_paused()
def regrade_class(
    db_path: str | Path,
    *,
    out_dir: str | Path | None = None,
    exam: str | None = None,
    manifest_path: str | Path | None = None,
    responses_path: str | Path | None = None,
    settings: GradeSettings | None = None,
    recompute_factory: Callable[[Instance], Recompute | None] | None = None,
    overrides: Iterable[str] = (),
    clear_overrides: Iterable[str] = (),
    reason: str = "",
    progress: Callable[[str], None] | None = None,
    bank: Bank | None = None,
) -> GradingOutcome:
    """Recompute every grade from the stored responses (after a corrected manifest, late or
    corrected responses, new settings or tolerances) and apply manual overrides; returns what changed for whom and
    rewrites the reports in ``out_dir``, or (None) where they were last written.
    ``settings=None`` keeps the last run's.

    Everything given is checked before anything is written: the gradebook's last run must
    have finished (:meth:`Gradebook.check_finished`), a manifest must be of the same exam
    (:func:`exam_key`: title, course, seed and spec), tolerances must apply to some part, and
    overrides must name a student, question and part of the exam with points in range; a
    corrected manifest is checked against ``bank`` as :func:`grade_class` checks one."""
    db_path = _location(db_path)
    warnings: tuple[str, ...] = ()
    with Gradebook.existing(db_path) as book:
        key = book.resolve_exam(exam)
        last = book.db.execute(
            "SELECT kind, finished_at FROM runs WHERE exam=? ORDER BY id DESC LIMIT 1", (key,)
        ).fetchone()
        if last is None or (last["finished_at"] is None and last["kind"] != "regrade"):
            book.check_finished(key)  # an unfinished regrade is resumed by running it again
        manifest = None
        if manifest_path is not None:
            manifest = load_manifest(manifest_path)
            other = exam_key(manifest.exam)
            if other != key:
                raise SpecError(
                    f"this manifest is of another exam ({manifest.exam.get('title', '?')!r}, key {other}) than "
                    f"the gradebook's {key} ({book.exam_title(key)!r}): a corrected manifest must come from the "
                    "same exam spec and seed; grade another exam with 'quizgen grade' into its own --out/--db",
                    source=str(manifest_path),
                )
        if out_dir is None:
            out_dir = book.reports_dir(key)
            if out_dir is None:
                raise SpecError(
                    "the gradebook does not say where its reports are; pass --out to write them",
                    source=book.source,
                )
        parts = (
            template_parts(q.instance for p in manifest.students for q in p.questions)
            if manifest is not None
            else book.template_parts(key)
        )
        if settings is not None:
            settings.check(parts)
        cleared = [parse_override(spec, points=False)[:3] for spec in clear_overrides]
        given = [parse_override(spec) for spec in overrides]
        for sid, number, part, points in [(*c, None) for c in cleared] + given:
            max_points = book._part_max(key, sid, number, part)
            if points is not None:
                where = f"override {sid}:q{number}.{part}"
                if not 0.0 <= points <= max_points:  # NaN fails too
                    raise SpecError(f"{where}: points must be in [0, {max_points:g}], got {points:g}")
                if not reason.strip():
                    raise SpecError(f"{where}: give a reason (--reason)")
        if manifest is not None:
            book.import_manifest(manifest, bank=bank, key=key)
        if responses_path is not None:
            rs = read_responses(responses_path, book.manifest(key), missing_students=False)
            book.store_responses(key, rs)
            warnings = rs.warnings + _attendance_warnings(book, key)
        settings = settings if settings is not None else book.last_settings(key)
        run = book.grade(
            key, settings, recompute_factory, kind="regrade", warnings=warnings, progress=progress
        )
        done = []
        for sid, number, part in cleared:
            change = book.clear_override(key, sid, number, part)
            if change is not None:
                done.append(change)
        for sid, number, part, points in given:
            done.append(book.set_override(key, sid, number, part, points, reason))
        book.set_reports_dir(key, out_dir)
    files = write_reports(db_path, out_dir, exam=key)
    return GradingOutcome(key, db_path, run, warnings, tuple(files), tuple(done))


def report(db_path: str | Path, out_dir: str | Path, *, exam: str | None = None) -> list[Path]:
    """Rewrite every report from the gradebook (alias of :func:`write_reports`)."""
    with Gradebook.existing(db_path) as book:
        key = book.resolve_exam(exam)
        book.check_finished(key)
        book.set_reports_dir(key, out_dir)
    return write_reports(db_path, out_dir, exam=key)
