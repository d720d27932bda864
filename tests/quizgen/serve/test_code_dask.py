"""Code uploads graded on a Dask cluster (``quizgen serve --executor dask --scheduler ...``):
the same score and feedback as grading here; a cluster that cannot grade an upload (unreachable,
no workers, too slow) tells the student to try again, records nothing and logs why; one that
cannot be used at start stops the server with one line."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("distributed", reason="the dask extra (distributed) is not installed")

import distributed
from click.testing import CliRunner
from starlette.testclient import TestClient

from quizgen.cli import main
from quizgen.graders import executors, sandbox
from quizgen.graders.assignment import load_assignment
from quizgen.serve import app as serve_app
from quizgen.serve import code, service

SPEC = Path("examples/assignments/softmax_cross_entropy.yaml")
SOLUTION = Path("examples/assignments/solutions/softmax_cross_entropy.py")
WRONG = SOLUTION.read_bytes().replace(b"return float(loss), dlogits / n", b"return float(loss), dlogits")
AID = "softmax_cross_entropy"
UNAVAILABLE = "Grading is unavailable right now"

try:
    sandbox.preflight(sandbox.Options())
    NO_SANDBOX = None
except sandbox.SandboxError as exc:
    NO_SANDBOX = str(exc)

pytestmark = pytest.mark.skipif(NO_SANDBOX is not None, reason=f"no sandbox here: {NO_SANDBOX}")


@pytest.fixture(scope="module")
def cluster(dask_cluster):
    return dask_cluster


@pytest.fixture
def coded(ctx):
    spec = load_assignment(SPEC)
    return dataclasses.replace(ctx, assignments={spec.id: spec}, sandbox=sandbox.Options())


@pytest.fixture
def quick(monkeypatch):
    """Connections and tasks give up after a fraction of a second."""
    monkeypatch.setattr(executors, "CONNECT_SECONDS", 0.5)
    monkeypatch.setattr(executors, "TASK_SECONDS", 0.5)


def _client(ctx, sid, **limits):
    c = TestClient(serve_app.create_app(ctx, **limits), base_url="http://testserver")
    r = c.post("/signin", data={"token": service.issue_token(ctx, sid)}, follow_redirects=False)
    assert r.status_code == 303
    return c, re.search(r'name="csrf" value="([^"]+)"', c.get("/code").text).group(1)


def _upload(c, csrf, name, data):
    return c.post(f"/code/{AID}", data={"csrf": csrf}, files={"file": (name, data)}, follow_redirects=False)


def _logged(caplog) -> list[str]:
    """What the server logged for the instructor."""
    return [rec.getMessage() for rec in caplog.records if rec.name == "quizgen.serve"]


def _body(summary: str) -> list[str]:
    """A summary but its first line (it names the student's file) and the time it took."""
    return [re.sub(r", [\d.]+ s$", "", line) for line in summary.splitlines()[1:]]


def test_an_upload_graded_on_the_cluster_gets_the_same_score_and_feedback_as_here(
    coded, cluster, monkeypatch
):
    here, csrf_here = _client(coded, "s001")
    for name, data in [("ok.py", SOLUTION.read_bytes()), ("wrong.py", WRONG)]:
        assert _upload(here, csrf_here, name, data).status_code == 303
    local = code.last_results(coded, "s001")[AID]

    grader = executors.open_grader("dask", cluster.scheduler_address)
    try:
        on_cluster = dataclasses.replace(coded, grader=grader)
        # grading in this process now fails: what follows can only have been graded on a worker
        monkeypatch.setattr(executors, "grade_job", lambda *a, **k: pytest.fail("graded here"))
        c, csrf = _client(on_cluster, "s002")
        assert _upload(c, csrf, "ok.py", SOLUTION.read_bytes()).status_code == 303
        first = code.last_results(on_cluster, "s002")[AID]
        assert first.score == first.max_score > 0 and first.filename == "ok.py"
        r = _upload(c, csrf, "wrong.py", WRONG)
        assert r.status_code == 303, r.text
    finally:
        grader.close()
    remote = code.last_results(coded, "s002")[AID]
    assert (remote.filename, remote.score, remote.max_score) == (local.filename, local.score, local.max_score)
    assert remote.score < remote.max_score and "FAIL" in remote.summary
    assert _body(remote.summary) == _body(local.summary) and len(_body(local.summary)) > 2
    assert remote.summary.splitlines()[0].endswith("s002/wrong.py")
    assert f"{remote.score:g} of {remote.max_score:g} points" in c.get("/code").text


def test_an_unreachable_scheduler_tells_the_student_to_retry_stores_nothing_and_logs_why(
    coded, quick, caplog
):
    grader = executors.DaskGrader("tcp://127.0.0.1:9")  # nothing listens on the discard port
    c, csrf = _client(dataclasses.replace(coded, grader=grader), "s001", practice_per_minute=3)
    with caplog.at_level(logging.WARNING, logger="quizgen.serve"):
        r = _upload(c, csrf, "ok.py", SOLUTION.read_bytes())
        assert r.status_code == 503 and UNAVAILABLE in r.text and "try again" in r.text
        again = _upload(c, csrf, "ok.py", SOLUTION.read_bytes())  # at once, without a new wait
        assert again.status_code == 503 and UNAVAILABLE in again.text
    assert code.last_results(coded, "s001") == {}
    logged = _logged(caplog)
    assert len(logged) == 2 and all(
        line.startswith(f"upload ok.py of s001 for {AID} not graded: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
        for line in logged
    )  # fmt: skip
    # the size and rate limits still come first: nothing is sent for these
    big = _upload(c, csrf, "big.py", b"#" * (code.MAX_UPLOAD + 100_000))
    assert big.status_code == 413 and "larger than" in big.text
    assert _upload(c, csrf, "notes.txt", b"x = 1").status_code == 400
    assert _upload(c, csrf, "ok.py", SOLUTION.read_bytes()).status_code == 429
    assert len(_logged(caplog)) == 2
    # the page still serves
    assert c.get("/code").status_code == 200


def test_a_cluster_without_workers_or_too_slow_tells_the_student_to_retry(coded, cluster, quick, caplog):
    caplog.set_level(logging.WARNING, logger="quizgen.serve")
    # a scheduler whose only worker leaves after the server connected
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as small:
        grader = executors.open_grader("dask", small.scheduler_address)
        try:
            small.scale(0)
            with distributed.Client(small, set_as_default=False) as watcher:
                for _ in range(100):
                    if not watcher.scheduler_info(n_workers=1)["workers"]:
                        break
                    time.sleep(0.05)
                else:
                    pytest.fail("the worker did not leave")
            c, csrf = _client(dataclasses.replace(coded, grader=grader), "s001")
            r = _upload(c, csrf, "ok.py", SOLUTION.read_bytes())
        finally:
            grader.close()
    assert r.status_code == 503 and UNAVAILABLE in r.text
    said = _logged(caplog)[-1]
    assert said.endswith(f"has no workers; start some with: dask worker {small.scheduler_address}")
    # a task that takes longer than TASK_SECONDS (0.5 s here): given up, cancelled, not recorded
    grader = executors.open_grader("dask", cluster.scheduler_address)
    try:
        c, csrf = _client(dataclasses.replace(coded, grader=grader), "s002")
        slow = b"import time\ntime.sleep(2)\n" + SOLUTION.read_bytes()
        r = _upload(c, csrf, "slow.py", slow)
    finally:
        grader.close()
    assert r.status_code == 503 and UNAVAILABLE in r.text
    assert _logged(caplog)[-1].endswith("did not grade s002/slow.py within 0.5 s")
    # a task that fails on its worker (here: options it cannot use) is not a grade either
    grader = executors.open_grader("dask", cluster.scheduler_address)
    try:
        job = executors.Job("s002", "s002/ok.py", source=SOLUTION.read_bytes())
        with pytest.raises(executors.Unavailable, match=r"could not grade s002/ok.py: \w+Error"):
            grader(coded.assignments[AID], job, hidden=False, options="not options")
    finally:
        grader.close()
    assert code.last_results(coded, "s001") == {} and code.last_results(coded, "s002") == {}


def test_a_cluster_that_cannot_be_used_at_start_stops_the_server_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_SECONDS", 0.5)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\ns001,Ada,a@x\n", encoding="utf-8")
    db = tmp_path / "serve.sqlite"
    course = ["serve", "examples/midterm.yaml", "--roster", str(roster), "--database", f"sqlite:///{db}"]
    for options, says in [
        (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
        (["--executor", "dask", "--scheduler", "bogus://x"], "--scheduler bogus://x: not a Dask scheduler address"),
        (["--executor", "dask"], "--executor dask needs --scheduler ADDRESS"),
        (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler applies only to --executor dask"),
    ]:  # fmt: skip
        result = CliRunner().invoke(main, [*course, "--assignment", str(SPEC), *options])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and says in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not db.exists()  # the server never started: nothing was written
