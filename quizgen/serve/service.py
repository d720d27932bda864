"""The plain functions behind the routes: tokens and sessions, practice, homework.

Nothing here knows HTTP. Every expected value stays on the server: a practice variant is
rebuilt from its seed when graded, and the worked solution is returned only once the student
has asked for it (or after ``solution_after`` tries); homework answers are saved as drafts and
graded only by the final submit (or when the deadline closes the exam), into the gradebook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property, lru_cache
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite

from quizgen import engine
from quizgen.cli_grade import bank_recompute_factory
from quizgen.errors import SpecError
from quizgen.graders.analysis import item_analysis, student_totals
from quizgen.graders.gradebook import Gradebook, grades_csv, regrade_class
from quizgen.graders.gradebook_sql import default_reports_dir
from quizgen.graders.numeric import grade_instance
from quizgen.graders.parse import MAX_CHARS
from quizgen.graders.responses import Answer, ResponseSet
from quizgen.markup import to_html
from quizgen.models import GradeResult, Instance

from . import db
from .course import Course

__all__ = [
    "INSTRUCTOR",
    "Attempt",
    "Ctx",
    "Identity",
    "Refused",
    "check_answers",
    "close_exam",
    "drafts",
    "final_submit",
    "issue_token",
    "mastery",
    "new_variant",
    "practice_answer",
    "save_drafts",
    "sign_in",
    "submission",
    "variant",
]

INSTRUCTOR = "instructor"
STUDENT = "student"
#: A session lasts this long (seconds) after sign-in.
SESSION_SECONDS = 12 * 3600


class Refused(ValueError):
    """A request that changes nothing, with the message the student sees and an HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Ctx:
    """What a route needs: the course, the database, the gradebook file and the rules."""

    course: Course
    engine: sa.Engine
    gradebook: str
    exam: str  # the gradebook's exam key
    secret: bytes
    deadline: datetime | None = None
    solution_after: int = 3
    clock: object = time.time  # () -> seconds since the epoch (tests move it)
    #: code assignments by id (``--assignment``), and the sandbox's options for them
    assignments: Mapping[str, object] = field(default_factory=dict)
    sandbox: object = None
    #: where uploads are graded: a graders.executors.Grader (None: here, in the request's thread)
    grader: object = None

    @cached_property
    def recompute_factory(self):
        """``quizgen grade``'s factory for error carried forward, made once per process: it
        loads the bank on first use and keeps it (a final submit must not reload the bank)."""
        return bank_recompute_factory(self.course.bank_dirs)

    @cached_property
    def practice_instance(self):
        """(template id, seed) -> the practice variant's instance, the last 2,048 kept (frozen,
        so shared): a student opens a variant, answers it and opens it again, and each would
        rebuild it from its seed."""
        bank = self.course.bank
        return lru_cache(maxsize=2048)(
            lambda template_id, seed: engine.build_instance(bank.get(template_id), seed)
        )

    @cached_property
    def reader(self) -> sa.Engine:
        """The engine for reading: each statement on its own, with no BEGIN and no ROLLBACK
        around it (on PostgreSQL those are two more round trips per read, which every request
        waited for: about 0.5 ms a read instead of 0.25). Writes go through ``engine.begin()``.
        SQLite keeps the plain engine: in the same process a BEGIN costs nothing, and switching
        the isolation level at each checkout would cost 0.03 ms a read."""
        if self.engine.dialect.name == "sqlite":
            return self.engine
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    def closed(self) -> bool:
        return self.deadline is not None and self.now() >= self.deadline


@dataclass(frozen=True)
class Identity:
    subject: str  # a student id, or "instructor"
    role: str
    csrf: str


# The statements of the requests every student sends, built once (with bound parameters):
# building a statement and its cache key on every call was about a third of the database time.
_b = sa.bindparam
_SESSION = sa.select(db.sessions).where(db.sessions.c.session_hash == _b("b_hash"))
_LAST_COUNTER = sa.select(sa.func.max(db.variants.c.counter)).where(db.variants.c.student == _b("b_student"))
_VARIANT = sa.select(db.variants).where(
    db.variants.c.id == _b("b_id"), db.variants.c.student == _b("b_student")
)
_ADD_TRY = sa.update(db.variants).where(db.variants.c.id == _b("b_id")).values(tries=db.variants.c.tries + 1)
_LAST_ATTEMPT = (
    sa.select(db.attempts.c.results)
    .where(db.attempts.c.variant_id == _b("b_id"), db.attempts.c.student == _b("b_student"))
    .order_by(db.attempts.c.id.desc())
    .limit(1)
)
_SUBMITTED = sa.select(db.submissions.c.submitted_at).where(
    db.submissions.c.exam == _b("b_exam"), db.submissions.c.student == _b("b_student")
)
_ADD_VARIANT = sa.insert(db.variants)
_ADD_ATTEMPT = sa.insert(db.attempts)
_DRAFTS = sa.select(db.drafts).where(db.drafts.c.exam == _b("b_exam"), db.drafts.c.student == _b("b_student"))


_BOOKS = threading.local()
_OPEN_BOOKS = 4


@contextmanager
def _gradebook(ctx: Ctx) -> Iterator[Gradebook]:
    """``ctx``'s gradebook, opened once per thread of this process and kept open: opening one
    is a new connection and a schema check (on PostgreSQL about 8 ms, which a request would
    wait for and, the routes being synchronous, every other request with it). Its connection
    is in autocommit mode, each write its own transaction, so nothing stays open between
    requests. If a request fails inside, the gradebook is closed and the next one opens it
    again (a connection the database server dropped is not kept)."""
    if getattr(_BOOKS, "pid", None) != os.getpid():  # new, or forked: the parent's are not ours
        _BOOKS.open, _BOOKS.pid = OrderedDict(), os.getpid()
    books = _BOOKS.open
    book = books.get(ctx.gradebook)
    if book is None:
        book = books[ctx.gradebook] = Gradebook(ctx.gradebook)
        while len(books) > _OPEN_BOOKS:  # a server has one; the tests make many
            books.popitem(last=False)[1].close()
    try:
        yield book
    except BaseException:
        books.pop(ctx.gradebook, None)
        book.close()
        raise


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stamp(ctx: Ctx) -> str:
    return ctx.now().isoformat(timespec="seconds")


# ------------------------------------------------------------------------------ tokens, sessions


def issue_token(ctx: Ctx, subject: str, role: str = STUDENT) -> str:
    """A new sign-in token for a roster student (or the instructor); only its hash is stored."""
    if role == STUDENT and ctx.course.paper(subject) is None:
        raise ValueError(f"no student {subject!r} in the roster {ctx.course.roster_path}")
    token = secrets.token_urlsafe(32)
    with ctx.engine.begin() as conn:
        conn.execute(
            sa.insert(db.tokens).values(
                token_hash=_hash(token), subject=subject, role=role, created_at=_stamp(ctx), revoked=False
            )
        )
    return token


def sign_in(ctx: Ctx, token: str) -> tuple[str, Identity]:
    """(session id for the cookie, who) for a valid token; :class:`Refused` otherwise."""
    if not token or len(token) > 200:
        raise Refused("That sign-in link is not valid. Ask your instructor for a new one.", 403)
    with ctx.engine.begin() as conn:
        row = conn.execute(
            sa.select(db.tokens).where(db.tokens.c.token_hash == _hash(token), db.tokens.c.revoked.is_(False))
        ).first()
        if row is None:
            raise Refused("That sign-in link is not valid. Ask your instructor for a new one.", 403)
        session, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        conn.execute(
            sa.insert(db.sessions).values(
                session_hash=_hash(session),
                subject=row.subject,
                role=row.role,
                csrf=csrf,
                expires_at=ctx.clock() + SESSION_SECONDS,
            )
        )
    return session, Identity(row.subject, row.role, csrf)


def identity(ctx: Ctx, session: str | None) -> Identity | None:
    if not session or len(session) > 200:
        return None
    with ctx.reader.connect() as conn:
        row = conn.execute(_SESSION, {"b_hash": _hash(session)}).first()
    if row is None or row.expires_at < ctx.clock():
        return None
    return Identity(row.subject, row.role, row.csrf)


def sign_out(ctx: Ctx, session: str) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(db.sessions).where(db.sessions.c.session_hash == _hash(session)))


# ------------------------------------------------------------------------------ practice


def practice_seed(secret: bytes, student: str, counter: int) -> int:
    """seed = first 63 bits of HMAC-SHA256(secret, student \\x1f counter): the same variant
    every time for the server, unguessable without the secret."""
    digest = hmac.new(secret, f"{student}\x1f{counter}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


#: How many times a new variant retries when another process took the same counter.
_COUNTER_TRIES = 8


def new_variant(ctx: Ctx, student: str, template_id: str) -> int:
    """A fresh variant of ``template_id`` for ``student`` (their next counter); its id.

    The next counter is the student's largest plus one, read and then inserted: two server
    processes (``--workers``) serving the same student at once can read the same largest, and
    the UNIQUE (student, counter) refuses the second insert; that one then reads again and takes
    the next counter (so counters stay distinct, 1, 2, 3, ..., and the seeds with them)."""
    if template_id not in ctx.course.bank.templates:
        raise Refused(f"There is no template {template_id!r}; pick one from the practice list.", 404)
    for _ in range(_COUNTER_TRIES):
        try:
            with ctx.engine.begin() as conn:
                last = conn.execute(_LAST_COUNTER, {"b_student": student}).scalar()
                counter = (last or 0) + 1
                result = conn.execute(
                    _ADD_VARIANT,
                    {
                        "student": student,
                        "template_id": template_id,
                        "counter": counter,
                        "seed": practice_seed(ctx.secret, student, counter),
                        "tries": 0,
                        "solution_shown": False,
                        "created_at": _stamp(ctx),
                    },
                )
                return int(result.inserted_primary_key[0])
        except sa.exc.IntegrityError:
            continue  # another process took this counter just now: read again, take the next
    raise Refused("The server is busy; ask for the new question again.", 503)


@dataclass(frozen=True)
class Variant:
    id: int
    template_id: str
    topic: str
    instance: Instance
    tries: int
    solution_shown: bool

    @property
    def show_solution(self) -> bool:
        return self.solution_shown


def variant(ctx: Ctx, student: str, variant_id: int) -> Variant:
    """The student's own variant (another student's is "not found", never shown)."""
    with ctx.reader.connect() as conn:
        row = conn.execute(_VARIANT, {"b_id": variant_id, "b_student": student}).first()
    if row is None:
        raise Refused("No such practice question.", 404)
    template = ctx.course.bank.get(row.template_id)
    instance = ctx.practice_instance(row.template_id, int(row.seed))
    shown = bool(row.solution_shown) or row.tries >= ctx.solution_after
    return Variant(row.id, row.template_id, template.topic, instance, row.tries, shown)


@dataclass(frozen=True)
class Attempt:
    results: tuple[GradeResult, ...]
    responses: Mapping[str, str]

    @property
    def score(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.results)


def check_answers(parts, form: Mapping[str, str], prefix: str = "") -> dict[str, str]:
    """The typed answers for ``parts`` from ``form`` (field ``prefix + part id``); an unknown
    field or an answer past the parser's length limit is :class:`Refused`."""
    allowed = {prefix + p.id: p.id for p in parts}
    for name in form:
        if name != "csrf" and name not in allowed:
            raise Refused(f"Unknown answer field {name!r}; nothing was saved.")
    out = {}
    for name, pid in allowed.items():
        text = form.get(name)
        if text is None:
            continue
        if len(text) > MAX_CHARS:
            raise Refused(
                f"The answer to part ({pid}) is longer than {MAX_CHARS} characters; nothing was saved."
            )
        out[pid] = text
    return out


def practice_answer(
    ctx: Ctx, student: str, variant_id: int, form: Mapping[str, str], *, loaded: Variant | None = None
) -> Attempt:
    """Grade one practice attempt (error carried forward as ``quizgen grade`` does) and record it.
    ``loaded``: the variant as :func:`variant` just read it for this student (not read again)."""
    v = loaded if loaded is not None and loaded.id == variant_id else variant(ctx, student, variant_id)
    responses = check_answers(v.instance.parts, form)
    template = ctx.course.bank.get(v.template_id)
    params = v.instance.params
    results = grade_instance(
        v.instance,
        responses,
        recompute=lambda overrides: engine.carried_pipeline(template, params, overrides),
    )
    attempt = Attempt(tuple(results), responses)
    stored = [
        {
            "part": r.part_id,
            "score": r.score,
            "max_points": r.max_points,
            "status": r.status.value,
            "feedback": r.feedback,
            "mistake": r.mistake,
            "carried_forward": r.carried_forward,
            "response": responses.get(r.part_id),
        }
        for r in results
    ]
    with ctx.engine.begin() as conn:
        conn.execute(
            _ADD_ATTEMPT,
            {
                "variant_id": v.id,
                "student": student,
                "topic": v.topic,
                "score": attempt.score,
                "max_points": attempt.max_points,
                "results": json.dumps(stored),
                "at": _stamp(ctx),
            },
        )
        conn.execute(_ADD_TRY, {"b_id": v.id})
    return attempt


def last_attempt(ctx: Ctx, student: str, variant_id: int) -> list[dict] | None:
    with ctx.reader.connect() as conn:
        row = conn.execute(_LAST_ATTEMPT, {"b_id": variant_id, "b_student": student}).first()
    return None if row is None else json.loads(row.results)


def show_solution(ctx: Ctx, student: str, variant_id: int) -> None:
    variant(ctx, student, variant_id)  # the student's own, or Refused
    with ctx.engine.begin() as conn:
        conn.execute(sa.update(db.variants).where(db.variants.c.id == variant_id).values(solution_shown=True))


def mastery(ctx: Ctx, student: str, last: int = 5) -> dict[str, tuple[float, int]]:
    """topic -> (mastery, variants tried): the mean over the ``last`` variants tried in the
    topic of each variant's best attempt, as a fraction of its points."""
    with ctx.reader.connect() as conn:
        rows = conn.execute(
            sa.select(
                db.attempts.c.topic,
                db.attempts.c.variant_id,
                sa.func.max(db.attempts.c.score / db.attempts.c.max_points).label("best"),
            )
            .where(db.attempts.c.student == student, db.attempts.c.max_points > 0)
            .group_by(db.attempts.c.topic, db.attempts.c.variant_id)
            .order_by(db.attempts.c.variant_id)
        ).all()
    by_topic: dict[str, list[float]] = {}
    for r in rows:
        by_topic.setdefault(r.topic, []).append(float(r.best))
    return {t: (sum(v[-last:]) / len(v[-last:]), len(v)) for t, v in sorted(by_topic.items())}


# ------------------------------------------------------------------------------ homework


def submission(ctx: Ctx, student: str) -> str | None:
    """When the student's paper was handed in (final submit or the deadline), or None."""
    with ctx.reader.connect() as conn:
        return conn.execute(_SUBMITTED, {"b_exam": ctx.exam, "b_student": student}).scalar()


def drafts(ctx: Ctx, student: str) -> dict[tuple[int, str], str | None]:
    with ctx.reader.connect() as conn:
        rows = conn.execute(_DRAFTS, {"b_exam": ctx.exam, "b_student": student}).all()
    return {(r.number, r.part): r.text for r in rows}


def _paper_answers(ctx: Ctx, student: str, form: Mapping[str, str]) -> dict[tuple[int, str], str]:
    paper = ctx.course.paper(student)
    if paper is None:
        raise Refused("You have no paper in this course.", 403)
    parts = [(q.number, p) for q in paper.questions for p in q.instance.parts]
    fields = {f"q{n}.{p.id}": (n, p.id) for n, p in parts}
    for name in form:
        if name != "csrf" and name not in fields:
            raise Refused(f"Unknown answer field {name!r}; nothing was saved.")
    out = {}
    for name, key in fields.items():
        if name in form:
            if len(form[name]) > MAX_CHARS:
                raise Refused(
                    f"The answer to {name} is longer than {MAX_CHARS} characters; nothing was saved."
                )
            out[key] = form[name]
    return out


def _check_open(ctx: Ctx, student: str) -> None:
    if submission(ctx, student) is not None:
        raise Refused("Your paper was already handed in; nothing was saved.", 409)
    if ctx.closed():
        raise Refused(f"The deadline ({ctx.deadline.isoformat()}) has passed; nothing was saved.", 403)


def _draft_rows(ctx: Ctx, student: str, answers: Mapping[tuple[int, str], str]) -> list[dict]:
    now = _stamp(ctx)
    return [
        {"exam": ctx.exam, "student": student, "number": number, "part": part, "text": text, "saved_at": now}
        for (number, part), text in answers.items()
    ]


#: database dialect -> the statement that makes the transaction wait for, then hold until it
#: ends, a lock of one student's paper (``b_key``: :func:`_paper_lock_key`). Only PostgreSQL needs
#: it: SQLite's transactions here start with a write, which holds the database's one write lock.
_PAPER_LOCKS = {"postgresql": sa.text("SELECT pg_advisory_xact_lock(:b_key)")}


def _paper_lock_key(ctx: Ctx, student: str) -> int:
    """A signed 64-bit key for (exam, student): the first 8 bytes of their SHA-256."""
    digest = hashlib.sha256(f"quizgen serve paper\0{ctx.exam}\0{student}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock_paper(conn: sa.Connection, ctx: Ctx, student: str) -> None:
    """Take (and keep until the transaction ends) the lock of ``student``'s paper, where the
    database needs one (:data:`_PAPER_LOCKS`): an autosave and a hand-in of one paper then take
    turns. Without it, on PostgreSQL an autosave could check "not handed in", a hand-in claim and
    read the drafts, and the autosave then commit answers the grading never saw."""
    statement = _PAPER_LOCKS.get(conn.dialect.name)
    if statement is not None:
        conn.execute(statement, {"b_key": _paper_lock_key(ctx, student)})


def save_drafts(ctx: Ctx, student: str, form: Mapping[str, str]) -> int:
    """Autosave: store the posted answers as drafts (not graded); how many were saved.

    The hand-in check is made again after the drafts are written, in the same transaction: an
    autosave that another process's hand-in overtook is rolled back, not left in the drafts as
    if it had been handed in (with SQLite the writes take turns: the autosave's transaction
    holds the write lock from its first statement)."""
    answers = _paper_answers(ctx, student, form)
    _check_open(ctx, student)
    rows = _draft_rows(ctx, student, answers)
    if rows:
        with ctx.engine.begin() as conn:
            _lock_paper(conn, ctx, student)
            conn.execute(_drafts_upsert(conn.dialect.name), rows)  # one statement, every answer
            if conn.execute(_SUBMITTED, {"b_exam": ctx.exam, "b_student": student}).first() is not None:
                raise Refused("Your paper was already handed in; nothing was saved.", 409)
    return len(rows)


#: database dialect -> its INSERT with ON CONFLICT (SQLite's and PostgreSQL's spell it alike)
_INSERTS = {"sqlite": sa.dialects.sqlite.insert, "postgresql": sa.dialects.postgresql.insert}


@lru_cache(maxsize=4)
def _drafts_upsert(dialect: str):
    """INSERT a draft, or on its key (exam, student, number, part) UPDATE its text and time."""
    if dialect not in _INSERTS:
        raise ValueError(f"quizgen serve keeps drafts in SQLite or PostgreSQL, not {dialect}")
    ins = _INSERTS[dialect](db.drafts)
    return ins.on_conflict_do_update(
        index_elements=[db.drafts.c.exam, db.drafts.c.student, db.drafts.c.number, db.drafts.c.part],
        set_={"text": ins.excluded.text, "saved_at": ins.excluded.saved_at},
    )


@lru_cache(maxsize=4)
def _claim(dialect: str):
    """INSERT a hand-in (exam, student), or nothing if the paper was already handed in; the
    row it returns (or none) says whether this request is the one handing it in. (RETURNING,
    not the row count, which SQLAlchemy does not keep for an INSERT with psycopg.)"""
    if dialect not in _INSERTS:
        raise ValueError(f"quizgen serve keeps hand-ins in SQLite or PostgreSQL, not {dialect}")
    return (
        _INSERTS[dialect](db.submissions)
        .on_conflict_do_nothing(index_elements=[db.submissions.c.exam, db.submissions.c.student])
        .returning(db.submissions.c.student)
    )


def _claimed(conn: sa.Connection, ctx: Ctx, student: str, how: str) -> bool:
    """Claim ``student``'s hand-in in ``conn``'s transaction (their paper locked first, so that
    an autosave under way commits before, and the drafts read after the claim are complete)."""
    _lock_paper(conn, ctx, student)
    row = {"exam": ctx.exam, "student": student, "submitted_at": _stamp(ctx), "how": how}
    return conn.execute(_claim(conn.dialect.name), row).first() is not None


def _store_and_grade(ctx: Ctx, students: list[str], how: str) -> None:
    """Store the drafts of ``students`` in the gradebook as their responses and grade them
    (``Gradebook.grade`` of these students only: one with no stored answer stays absent)."""
    answers = []
    for sid in students:
        paper = ctx.course.paper(sid)
        saved = drafts(ctx, sid)
        for q in paper.questions:
            for p in q.instance.parts:
                answers.append(
                    Answer(sid, q.number, p.id, saved.get((q.number, p.id)), f"quizgen serve ({how})")
                )
    with _gradebook(ctx) as book:
        book.store_responses(ctx.exam, ResponseSet(tuple(answers), source="quizgen serve"))
        # only the students handing in: the others' grades stay as they are (a regrade of the
        # whole class gives each the same result), with the settings of the last run
        book.grade(ctx.exam, book.last_settings(ctx.exam), ctx.recompute_factory, students=students)


def _hand_in(ctx: Ctx, students: list[str], how: str) -> None:
    """Store the drafts of ``students``, whose hand-in this request has just claimed (a row in
    serve_submissions that no other request could insert), in the gradebook as their responses,
    and grade them (``Gradebook.grade`` of these students only: one with no stored answer stays
    absent). Should storing or grading fail, the claims are taken back, so that the students'
    papers are handed in by the next submit or page load rather than never graded."""
    try:
        _store_and_grade(ctx, students, how)
    except BaseException:
        with ctx.engine.begin() as conn:
            conn.execute(
                sa.delete(db.submissions).where(
                    db.submissions.c.exam == ctx.exam, db.submissions.c.student.in_(students)
                )
            )
        raise


def finish_hand_ins(ctx: Ctx) -> list[str]:
    """Grade the papers that were handed in but never graded: a process ended (killed, the
    machine stopped) after its request claimed the hand-in and before the grades were stored.
    Their answers are the autosaved drafts, which the claiming transaction saved, so handing
    them in again gives what that request would have. The students it graded, in order.

    Called when the server starts (before any worker serves) and by the instructor's Regrade;
    a paper whose grading is under way in another process at that moment is graded twice,
    from the same answers, to the same grades."""
    with ctx.reader.connect() as conn:
        claimed = set(
            conn.execute(
                sa.select(db.submissions.c.student).where(db.submissions.c.exam == ctx.exam)
            ).scalars()
        )
    if not claimed:
        return []
    with _gradebook(ctx) as book:
        pending = sorted(claimed - book.graded(ctx.exam))
    if pending:
        _store_and_grade(ctx, pending, "recovered")
    return pending


def warm(ctx: Ctx) -> None:
    """Do at start what the first requests would otherwise do while students wait: load the
    bank behind error carried forward (the first final submit), and compile every template's
    plan and text (a template's first variant takes about 30 ms, the next ones 2 ms; one
    server process serves one request at a time)."""
    for paper in ctx.course.manifest.students[:1]:
        for q in paper.questions:
            ctx.recompute_factory(q.instance)
    for template in ctx.course.bank.templates.values():
        instance = engine.build_instance(template, 0)
        to_html(instance.text)


def final_submit(ctx: Ctx, student: str, form: Mapping[str, str]) -> None:
    """Save the posted answers, hand the paper in and grade it (one final submit).

    Handed in exactly once whatever the number of server processes: the posted answers are
    saved in the transaction that claims the hand-in (its first statement inserts the
    student's serve_submissions row, or nothing if it is there), so of two submits at once (a
    double click reaching two workers) one hands in and grades, the other is refused with
    "already handed in" and saves nothing."""
    answers = _paper_answers(ctx, student, form)
    _check_open(ctx, student)  # the usual messages; the claim below decides
    with ctx.engine.begin() as conn:
        if not _claimed(conn, ctx, student, "final"):
            raise Refused("Your paper was already handed in; nothing was saved.", 409)
        rows = _draft_rows(ctx, student, answers)
        if rows:
            conn.execute(_drafts_upsert(conn.dialect.name), rows)
    _hand_in(ctx, [student], "final")


def close_exam(ctx: Ctx) -> int:
    """After the deadline: hand in every student's autosaved answers who did not submit
    (students with no draft at all stay absent); how many this call handed in.

    Every page load after the deadline calls it, in every server process: each student is
    claimed (a serve_submissions row inserted, or nothing if another process did) in one
    transaction, and a process hands in and grades only the students it claimed."""
    if not ctx.closed():
        return 0
    with ctx.reader.connect() as conn:
        done = set(
            conn.execute(
                sa.select(db.submissions.c.student).where(db.submissions.c.exam == ctx.exam)
            ).scalars()
        )
        drafted = set(
            conn.execute(
                sa.select(db.drafts.c.student).where(db.drafts.c.exam == ctx.exam).distinct()
            ).scalars()
        )
    todo = sorted(drafted - done)  # read first: once all are handed in, a page load writes nothing
    if not todo:
        return 0
    with ctx.engine.begin() as conn:
        mine = [sid for sid in todo if _claimed(conn, ctx, sid, "deadline")]
    if mine:
        _hand_in(ctx, mine, "deadline")
    return len(mine)


def graded_paper(ctx: Ctx, student: str) -> dict[tuple[int, str], GradeResult]:
    """The student's own effective grades from the gradebook (after hand-in): (number, part) -> result."""
    with _gradebook(ctx) as book:
        records = book.records(ctx.exam, student)  # theirs alone: not the class's, decoded and dropped
    return {(r.number, r.part.id): r.result for r in records}


def class_grades(ctx: Ctx) -> list[dict]:
    """Every roster student with their hand-in time and total from the gradebook (the
    instructor's list)."""
    with _gradebook(ctx) as book:
        totals = {t.student_id: t for t in student_totals(book.records(ctx.exam))}
    with ctx.reader.connect() as conn:
        handed = {
            r.student: (r.submitted_at, r.how)
            for r in conn.execute(sa.select(db.submissions).where(db.submissions.c.exam == ctx.exam))
        }
    out = []
    for paper in ctx.course.manifest.students:
        total = totals.get(paper.id)
        at, how = handed.get(paper.id, (None, None))
        out.append(
            {
                "id": paper.id,
                "name": paper.name,
                "submitted_at": at,
                "how": how,
                "points": total.points if total else None,
                "max": paper.points,
            }
        )
    return out


# ------------------------------------------------------------------------------ instructor


def item_stats(ctx: Ctx) -> list:
    """The item analysis of the papers handed in (:func:`quizgen.graders.analysis.item_analysis`,
    as in ``quizgen report``'s item_analysis.csv)."""
    with _gradebook(ctx) as book:
        return item_analysis(book.records(ctx.exam))


@dataclass(frozen=True)
class StudentAnswers:
    """One student's paper for the instructor: graded parts once handed in, drafts before."""

    paper: object  # StudentPaper
    submitted_at: str | None
    records: Mapping[tuple[int, str], object]  # (number, part) -> PartRecord
    drafts: Mapping[tuple[int, str], str | None]

    @property
    def total(self) -> float | None:
        return sum(r.points for r in self.records.values()) if self.records else None


def student_answers(ctx: Ctx, student: str) -> StudentAnswers:
    paper = ctx.course.paper(student)
    if paper is None:
        raise Refused(f"No student {student!r} in this course.", 404)
    with _gradebook(ctx) as book:
        records = {(r.number, r.part.id): r for r in book.records(ctx.exam, student)}
    return StudentAnswers(paper, submission(ctx, student), records, drafts(ctx, student))


def grades_csv_text(ctx: Ctx) -> str:
    """The grades CSV exactly as ``quizgen grade`` / ``report`` write grades.csv."""
    with _gradebook(ctx) as book:
        return grades_csv(book.records(ctx.exam), book.students(ctx.exam))


def reports_dir(ctx: Ctx) -> Path:
    """Where the reports go: where they were last written, else ``<gradebook>-reports`` beside it."""
    with _gradebook(ctx) as book:
        known = book.reports_dir(ctx.exam)
    return known or default_reports_dir(ctx.gradebook)


def regrade(ctx: Ctx):
    """``quizgen regrade`` on the gradebook (the last run's settings, every report rewritten);
    its :class:`~quizgen.graders.gradebook.GradingOutcome`. Refused while nothing was graded.
    Papers handed in but never graded (:func:`finish_hand_ins`) are graded first."""
    finish_hand_ins(ctx)
    try:
        return regrade_class(
            ctx.gradebook, out_dir=reports_dir(ctx), exam=ctx.exam, recompute_factory=ctx.recompute_factory
        )
    except SpecError as exc:
        raise Refused(f"Nothing regraded: {exc.args[0] if exc.args else exc}", 409) from None


def revoke(ctx: Ctx, subject: str) -> tuple[int, int]:
    """Revoke every sign-in token of ``subject`` and end their sessions: (tokens, sessions).
    A new token (``quizgen serve tokens --student``) signs them in again."""
    if subject != INSTRUCTOR and ctx.course.paper(subject) is None:
        raise Refused(f"No student {subject!r} in this course; nothing was revoked.", 404)
    with ctx.engine.begin() as conn:
        tokens = conn.execute(
            sa.update(db.tokens)
            .where(db.tokens.c.subject == subject, db.tokens.c.revoked.is_(False))
            .values(revoked=True)
        ).rowcount
        sessions = conn.execute(sa.delete(db.sessions).where(db.sessions.c.subject == subject)).rowcount
    return tokens, sessions


def token_counts(ctx: Ctx) -> dict[str, tuple[int, int]]:
    """subject -> (valid tokens, revoked tokens)."""
    out: dict[str, list[int]] = {}
    with ctx.reader.connect() as conn:
        for subject, revoked, n in conn.execute(
            sa.select(db.tokens.c.subject, db.tokens.c.revoked, sa.func.count()).group_by(
                db.tokens.c.subject, db.tokens.c.revoked
            )
        ):
            out.setdefault(subject, [0, 0])[1 if revoked else 0] += n
    return {k: (v[0], v[1]) for k, v in out.items()}
