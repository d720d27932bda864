"""``quizgen serve --workers 2``: two real server processes on one SQLite database behave as one.

A server is started as a subprocess on 127.0.0.1 (a free port), once for the module. Each test
sends its requests at the same moment from several threads, each on its own connection, so
that both workers take some (the
kernel hands a new connection to whichever worker accepts it first; a test checks that both
worked, from their CPU time in /proc). Then it reads the database and the gradebook:

- the 21st grading in a minute is refused, whichever worker takes it (the limit is in the
  database, not in a worker's memory);
- "new variant" requests at once never fail and get distinct counters;
- a double final submit hands in and grades once, the other request is told "already handed
  in";
- page loads after the deadline hand each paper in once (here in threads, each with its own
  database connections, calling what a page load calls: a second server start would cost
  several seconds of CPU for the same claim in the database).

The rate limiter itself is tested without a server below, on SQLite and on PostgreSQL, and so
are the hand-in claims and the practice counter on PostgreSQL (its gradebook a SQLite file).
"""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

import httpx
import sqlalchemy as sa

from quizgen.graders.gradebook import Gradebook
from quizgen.serve import db, service
from quizgen.serve.course import load_course
from quizgen.serve.limits import RateLimit

SPEC = "examples/midterm.yaml"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")

_READY = re.compile(r"quizgen serve: worker (\d+) ready")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_ns(pid: int) -> int:
    """Nanoseconds process ``pid`` (its main thread) ran on a core (/proc/PID/schedstat)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    database: Path
    log: Path
    workers: tuple[int, ...] = ()

    def wait_ready(self, timeout: float = 120) -> None:
        """Until both workers said they are ready (bank compiled) and the port answers."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server ended: {self.log.read_text()[-2000:]}")
            pids = tuple(int(p) for p in _READY.findall(self.log.read_text()))
            if len(pids) >= 2:
                try:
                    if httpx.get(self.base + "/", timeout=5).status_code == 200:
                        self.workers = pids
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not start in {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _prepare(course, folder: Path, drafts_of=()) -> tuple[str, dict[str, str]]:
    """A migrated database with the papers imported (as the server's parent would), a token
    per student and the instructor, and drafts saved for ``drafts_of`` (the exam still open)."""
    folder.mkdir()
    engine = db.connect(f"sqlite:///{folder / 'serve.sqlite'}")
    book = db.gradebook_path(engine, None)
    with Gradebook(book) as gb:
        key = gb.import_manifest(course.manifest, bank=course.bank)
    ctx = service.Ctx(course, engine, str(book), key, db.secret(engine))
    tokens = {p.id: service.issue_token(ctx, p.id) for p in course.manifest.students}
    tokens["instructor"] = service.issue_token(ctx, "instructor", service.INSTRUCTOR)
    for sid in drafts_of:
        paper = course.paper(sid)
        service.save_drafts(
            ctx, sid, {f"q{q.number}.{p.id}": "1" for q in paper.questions for p in q.instance.parts}
        )
    engine.dispose()
    return key, tokens


def _start(course, folder: Path, *extra: str) -> Server:
    port = _free_port()
    log = folder / "server.log"
    database = folder / "serve.sqlite"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from quizgen.cli import main; sys.exit(main())",
                "serve",
                SPEC,
                "--roster",
                str(course.roster_path),
                "--database",
                f"sqlite:///{database}",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "2",
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(proc, f"http://127.0.0.1:{port}", database, log)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``quizgen serve --workers 2`` on a migrated database with the papers imported; with a
    sign-in token per student (five: s003-s005 are spares for a test that needs another try)."""
    root = tmp_path_factory.mktemp("workers")
    roster = root / "roster.csv"
    roster.write_text(
        "id,name,email\n" + "".join(f"s00{i},Student {i},\n" for i in range(1, 6)), encoding="utf-8"
    )
    five = load_course(SPEC, roster)
    key, tokens = _prepare(five, root / "serve")
    started = _start(five, root / "serve")
    try:
        started.wait_ready()
        yield started, key, tokens
    finally:
        started.stop()


def _session(base: str, token: str, page: str) -> tuple[dict, str]:
    """(cookies, CSRF token) of a signed-in session."""
    with httpx.Client(base_url=base) as client:
        r = client.post("/signin", data={"token": token})
        assert r.status_code == 303, r.text
        csrf = _CSRF.search(client.get(page).text)
        return dict(client.cookies), csrf.group(1) if csrf else ""


def _at_once(base: str, cookies: dict, requests: list[tuple[str, str, dict | None]]) -> list[httpx.Response]:
    """Send ``requests`` (method, path, form) at the same moment, each from its own thread on
    its own connection; the responses in order."""
    barrier = threading.Barrier(len(requests))
    out: list = [None] * len(requests)

    def send(i: int, method: str, path: str, form: dict | None) -> None:
        with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
            barrier.wait()
            try:
                out[i] = client.request(method, path, data=form)
            except httpx.HTTPError as exc:  # a failed connection is a failure of the test
                out[i] = exc

    threads = [threading.Thread(target=send, args=(i, *r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _both_worked(server: Server, before: dict[int, int]) -> None:
    """Each worker ran for at least a millisecond more than it did idle (a request costs 1-10 ms)."""
    ran = {pid: (_cpu_ns(pid) - ns) / 1e6 for pid, ns in before.items()}
    assert all(ms > 1.0 for ms in ran.values()), f"a worker served nothing (ms of CPU per worker: {ran})"


def _statuses(responses) -> list:
    return [r.status_code if isinstance(r, httpx.Response) else repr(r) for r in responses]


def _rows(path: Path, query: str, *args) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query, args).fetchall()


def test_the_21st_grading_in_a_minute_is_refused_whichever_worker_takes_it(server):
    server, _, tokens = server
    cookies, csrf = _session(server.base, tokens["s001"], "/practice")
    with httpx.Client(base_url=server.base, cookies=cookies) as client:
        r = client.post("/practice/new", data={"csrf": csrf, "template_id": "conv.output_size"})
        assert r.status_code == 303, r.text
        vid = r.headers["location"]
    before = {pid: _cpu_ns(pid) for pid in server.workers}
    answers = _at_once(server.base, cookies, [("POST", vid + "/answer", {"csrf": csrf})] * 21)
    _both_worked(server, before)
    statuses = _statuses(answers)
    assert sorted(statuses) == [303] * 20 + [429], statuses
    refused = next(r for r in answers if r.status_code == 429)
    assert "Too many submissions in a minute" in refused.text
    attempts = _rows(server.database, "SELECT COUNT(*) FROM serve_attempts WHERE student='s001'")
    assert attempts == [(20,)]


def test_new_variants_at_once_never_fail_and_get_distinct_counters(server):
    server, _, tokens = server
    cookies, csrf = _session(server.base, tokens["s002"], "/practice")
    form = {"csrf": csrf, "template_id": "conv.output_size"}
    before = {pid: _cpu_ns(pid) for pid in server.workers}
    responses = _at_once(server.base, cookies, [("POST", "/practice/new", form)] * 12)
    _both_worked(server, before)
    assert _statuses(responses) == [303] * 12
    assert len({r.headers["location"] for r in responses}) == 12
    counters = _rows(
        server.database, "SELECT counter FROM serve_variants WHERE student='s002' ORDER BY counter"
    )
    assert [c for (c,) in counters] == list(range(1, 13))


def test_a_double_final_submit_grades_once_and_the_other_is_told_it_was_handed_in(server):
    server, key, tokens = server
    served = {pid: 0.0 for pid in server.workers}
    # which worker accepts a connection is the kernel's choice: four submits at once can all
    # reach one worker; then the next student tries, until both workers have taken part
    for sid in ("s002", "s003", "s004", "s005"):
        cookies, csrf = _session(server.base, tokens[sid], "/exam")
        page = httpx.get(server.base + "/exam", cookies=cookies).text
        fields = sorted(set(re.findall(r'<textarea id="(q\d+\.[^"]+)"', page)))
        assert fields, "the exam page has answer fields"
        form = {"csrf": csrf, "final": "1", **{name: "1" for name in fields}}
        before = {pid: _cpu_ns(pid) for pid in server.workers}
        responses = _at_once(server.base, cookies, [("POST", "/exam/submit", form)] * 4)
        for pid, ns in before.items():
            served[pid] = (_cpu_ns(pid) - ns) / 1e6
        statuses = _statuses(responses)
        assert sorted(statuses) == [303, 409, 409, 409], (sid, statuses)
        for r in responses:
            if r.status_code == 409:
                assert "already handed in" in r.text
        rows = _rows(server.database, "SELECT how FROM serve_submissions WHERE student=?", sid)
        assert rows == [("final",)]
        assert _rows(server.database, "SELECT COUNT(*) FROM run_students WHERE student=?", sid) == [(1,)]
        assert (
            _rows(server.database, "SELECT COUNT(*) FROM grades WHERE exam=? AND student=?", key, sid)[0][0]
            > 0
        )
        if all(ms > 1.0 for ms in served.values()):
            break
    assert all(ms > 1.0 for ms in served.values()), (
        f"a worker served nothing (ms of CPU per worker: {served})"
    )


def _in_threads(fn, n: int) -> list:
    """``fn(i)`` in ``n`` threads started at the same moment; the results (or the exceptions)."""
    barrier = threading.Barrier(n)
    out: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fn(i)
        except Exception as exc:  # the test looks at each
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _worker_ctxs(ctx, n: int) -> list:
    """``n`` copies of ``ctx``, each with its own engine (its own connections, as a worker
    process has), sharing the clock and the bank behind error carried forward."""
    url = ctx.engine.url.render_as_string(hide_password=False)
    copies = [replace(ctx, engine=db.connect(url, migrations=False)) for _ in range(n)]
    for c in copies:
        c.__dict__["recompute_factory"] = ctx.recompute_factory  # loaded once, not per copy
    return copies


def test_after_the_deadline_concurrent_page_loads_hand_each_paper_in_once(ctx):
    """What every page load after the deadline does (service.close_exam), in four workers at
    once: each student handed in and graded once, by one of them. (In threads on their own
    database connections rather than in server processes: the claim is made by the database;
    a second server start would cost seconds of CPU for the same check.)"""
    for sid in ("s001", "s002"):
        paper = ctx.course.paper(sid)
        service.save_drafts(
            ctx, sid, {f"q{q.number}.{p.id}": "1" for q in paper.questions for p in q.instance.parts}
        )
    ctx.clock.t = ctx.deadline.timestamp() + 1
    workers = _worker_ctxs(ctx, 4)
    handed = _in_threads(lambda i: service.close_exam(workers[i]), 4)
    assert all(isinstance(n, int) for n in handed), handed  # no error in any
    assert sum(handed) == 2, handed
    book = Path(ctx.gradebook)
    assert _rows(book, "SELECT student, how FROM serve_submissions ORDER BY student") == [
        ("s001", "deadline"),
        ("s002", "deadline"),
    ]
    graded = _rows(book, "SELECT student, COUNT(*) FROM run_students GROUP BY student ORDER BY student")
    assert graded == [("s001", 1), ("s002", 1)]
    assert service.close_exam(workers[0]) == 0


def test_a_final_submit_racing_the_deadline_hand_in_grades_once(ctx):
    """A final submit at the moment another worker's page load hands the paper in at the
    deadline (its last second): one of them hands it in, the other is refused or skips it."""
    paper = ctx.course.paper("s001")
    form = {f"q{q.number}.{p.id}": "2" for q in paper.questions for p in q.instance.parts}
    service.save_drafts(ctx, "s001", form)
    submitter, closer = _worker_ctxs(ctx, 2)
    ctx.clock.t = ctx.deadline.timestamp() - 0.5  # the deadline is about to pass

    def close() -> int:
        ctx.clock.t = ctx.deadline.timestamp() + 1  # it passes: the submit may still be past its check
        return service.close_exam(closer)

    out = _in_threads(lambda i: close() if i else service.final_submit(submitter, "s001", form), 2)
    refused = [o for o in out if isinstance(o, service.Refused)]
    assert all(r.status in (403, 409) for r in refused), out
    book = Path(ctx.gradebook)
    assert len(_rows(book, "SELECT how FROM serve_submissions WHERE student='s001'")) == 1
    assert _rows(book, "SELECT COUNT(*) FROM run_students WHERE student='s001'") == [(1,)]


# ------------------------------------------------------------------------------ the rate limiter


class Clock:
    def __init__(self) -> None:
        self.t = 1_796_000_000.0

    def __call__(self) -> float:
        return self.t


def _limiter_checks(engine: sa.Engine) -> None:
    clock = Clock()
    grading = RateLimit(engine, "grading", 3, clock)
    saves = RateLimit(engine, "autosave", 1, clock)
    assert [grading.allow("s001") for _ in range(4)] == [True, True, True, False]
    assert grading.allow("s002") and saves.allow("s001")  # per student, per kind
    assert not saves.allow("s001")
    clock.t += 30
    assert not grading.allow("s001")  # the first three are 30 s old: still in the window
    clock.t += 30.5
    assert grading.allow("s001")  # 60.5 s after the first three: they left the window
    # a refused request is not counted, and the row holds only the window (pruned)
    with engine.connect() as conn:
        recent = conn.execute(
            sa.select(db.rate_limits.c.recent).where(
                db.rate_limits.c.student == "s001", db.rate_limits.c.kind == "grading"
            )
        ).scalar_one()
    assert recent == f"[{clock.t}]"


def _limiter_at_once(url: str, threads: int = 8, per_thread: int = 5, limit: int = 20) -> list[bool]:
    """``threads`` threads, each on its own engine (as separate processes would be), each
    asking ``per_thread`` times for one student at once: the answers."""
    barrier = threading.Barrier(threads)
    answers: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        engine = db.connect(url, migrations=False)
        limit_ = RateLimit(engine, "grading", limit, time.time)
        barrier.wait()
        got = [limit_.allow("s001") for _ in range(per_thread)]
        with lock:
            answers.extend(got)
        engine.dispose()

    pool = [threading.Thread(target=ask) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return answers


def test_the_rate_limit_counts_in_a_sliding_minute_per_student_and_kind(tmp_path):
    _limiter_checks(db.connect(f"sqlite:///{tmp_path / 'serve.sqlite'}"))


def test_the_rate_limit_holds_for_connections_asking_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    db.connect(url).dispose()
    answers = _limiter_at_once(url)
    assert len(answers) == 40 and answers.count(True) == 20


def test_the_rate_limit_on_postgresql(postgres_url):
    pytest.importorskip("psycopg")
    url = postgres_url  # db.connect drives postgresql:// with psycopg 3 itself
    _limiter_checks(db.connect(url))
    with db.connect(url).begin() as conn:
        conn.execute(sa.delete(db.rate_limits))
    answers = _limiter_at_once(url)
    assert len(answers) == 40 and answers.count(True) == 20


def test_a_worker_builds_its_ctx_from_the_settings_without_migrating(ctx, tmp_path, monkeypatch):
    from quizgen.serve.app import SETTINGS_ENV, ServeSettings

    settings = ServeSettings.of(ctx)
    again = ServeSettings.from_json(settings.to_json())
    assert again == settings and Path(again.database.split("///", 1)[1]).is_absolute()
    # a worker grades code uploads where its parent does (each opens its own Dask client)
    dask = ServeSettings.from_json(ServeSettings.of(ctx, executor="dask", scheduler="tcp://h:8786").to_json())
    assert (dask.executor, dask.scheduler) == ("dask", "tcp://h:8786")
    monkeypatch.setattr(db, "migrate", lambda engine: pytest.fail("a worker must not migrate"))
    worker = again.ctx()
    assert (worker.exam, worker.gradebook, worker.secret) == (ctx.exam, ctx.gradebook, ctx.secret)
    monkeypatch.setenv(SETTINGS_ENV, "")
    from quizgen.serve.app import factory

    with pytest.raises(RuntimeError, match="--workers"):
        factory()


def test_on_postgresql_a_double_final_submit_and_new_variants_at_once(course, postgres_url, tmp_path):
    """The claims and the counter retry on PostgreSQL (READ COMMITTED: two transactions can read
    the same largest counter, and neither sees the other's uncommitted hand-in), with the
    gradebook in the same PostgreSQL database (its writers take turns on an advisory lock)."""
    pytest.importorskip("psycopg")
    url = postgres_url  # db.connect drives postgresql:// with psycopg 3 itself
    engine = db.connect(url)
    book = db.gradebook_path(engine, None)
    assert str(book).startswith("postgresql://")
    with Gradebook(book) as gb:
        key = gb.import_manifest(course.manifest, bank=course.bank)
    ctx = service.Ctx(course, engine, str(book), key, db.secret(engine))
    workers = _worker_ctxs(ctx, 4)
    ids = _in_threads(lambda i: service.new_variant(workers[i], "s001", "conv.output_size"), 4)
    assert all(isinstance(v, int) for v in ids) and len(set(ids)) == 4, ids
    with engine.connect() as conn:
        counters = conn.execute(
            sa.select(db.variants.c.counter).where(db.variants.c.student == "s001")
        ).scalars()
        assert sorted(counters) == [1, 2, 3, 4]
    paper = course.paper("s002")
    form = {f"q{q.number}.{p.id}": "1" for q in paper.questions for p in q.instance.parts}
    out = _in_threads(lambda i: service.final_submit(workers[i], "s002", form), 4)
    assert sum(o is None for o in out) == 1, out
    assert all(o is None or (isinstance(o, service.Refused) and o.status == 409) for o in out), out
    import psycopg

    with psycopg.connect(book) as conn:
        assert conn.execute("SELECT COUNT(*) FROM run_students WHERE student='s002'").fetchall() == [(1,)]
        assert conn.execute("SELECT COUNT(*) FROM grades WHERE student='s002'").fetchone()[0] == len(form)
    for w in workers:
        w.engine.dispose()
    engine.dispose()


def test_workers_must_be_at_least_one():
    from click.testing import CliRunner

    from quizgen.cli import main

    result = CliRunner().invoke(main, ["serve", SPEC, "--workers", "0"])
    assert result.exit_code == 2 and "--workers" in result.output and "x>=1" in result.output
