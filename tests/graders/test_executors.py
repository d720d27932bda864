"""Executors: a class graded on a real local Dask cluster (worker processes, each with its own
fork server) gives the same grades, CSV, JSON, JUnit and feedback as the local threads; and a
cluster that cannot be used is a one-line error with exit status 2."""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.cli import main
from quizgen.cli_autograde import autograde_class
from quizgen.graders import executors
from quizgen.graders.assignment import load_assignment, with_hidden_key
from quizgen.graders.executors import ExecutorError, Job, run_dask, run_jobs

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples/assignments/softmax_cross_entropy.yaml"
SOLUTION = ROOT / "examples/assignments/solutions/softmax_cross_entropy.py"
FAILS = Path(__file__).parent / "fixtures/mistakes/softmax_naive_sum.py"
CRASHES = "import os\n\n\ndef softmax_cross_entropy(logits, y):\n    os._exit(3)\n"


KEY = "0123456789abcdef0123456789abcdef-test-key"


@pytest.fixture(autouse=True)
def instructor_key(monkeypatch):
    """The instructor's key for hidden cases (hidden cases are drawn only with one)."""
    monkeypatch.setenv("QUIZGEN_HIDDEN_KEY", KEY)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def cluster(dask_cluster):
    return dask_cluster


@pytest.fixture
def submissions(tmp_path):
    subs = tmp_path / "subs"
    (subs / "dave").mkdir(parents=True)  # nothing to grade: rejected
    shutil.copy(SOLUTION, subs / "alice.py")
    shutil.copy(FAILS, subs / "bob.py")
    (subs / "carol.py").write_text(CRASHES)
    return subs


def _untimed(grade) -> tuple:
    """Everything of a grade but its wall times and the sandbox's per-run ids."""
    cases = tuple(replace(c, seconds=0.0) for c in grade.cases)
    return (grade.student, grade.submission, grade.assignment, grade.error, grade.rejected, cases)


def _timeless(path: Path) -> str:
    """A report with its wall times and per-run ids (sandbox uid, hidden-path count) blanked."""
    text = path.read_text()
    text = re.sub(r'time="[0-9.]+"', 'time=""', text)
    text = re.sub(r"[0-9.]+ s$", "s", text, flags=re.M)
    return re.sub(r"(uid|hidden grader files \()\d+", r"\1N", text)


def _without_seconds(path: Path) -> list[dict]:
    subs = json.loads(path.read_text())["submissions"]
    for sub in subs:
        sub.pop("seconds")
        sub["isolation"]["applied"] = [re.sub(r"\d+", "N", a) for a in sub["isolation"]["applied"]]
    return subs


def test_a_dask_cluster_grades_a_class_exactly_like_local_threads(cluster, submissions, tmp_path):
    local = autograde_class(SPEC, submissions, tmp_path / "local", jobs=2)
    seen = []
    remote = autograde_class(
        SPEC,
        submissions,
        tmp_path / "dask",
        executor="dask",
        scheduler=cluster.scheduler_address,
        progress=lambda g: seen.append(g.student),
    )
    assert [g.student for g in remote] == ["alice", "bob", "carol", "dave"]  # submission order
    assert sorted(seen) == ["alice", "bob", "carol", "dave"]
    assert [(g.score, g.max_score) for g in remote] == [(20, 20), (6, 20), (0, 20), (0, 20)]
    assert [_untimed(g) for g in remote] == [_untimed(g) for g in local]
    assert (
        "exit status 3" in remote[2].cases[0].output and "hint: exp overflows" in remote[1].cases[-1].output
    )
    assert remote[3].rejected.startswith("no single Python file")
    assert all(g.isolation.has("memory limit") and g.isolation.has("private /tmp") for g in remote[:3])
    assert "hidden grader files" in " ".join(remote[0].isolation.applied)

    out_local, out_dask = tmp_path / "local", tmp_path / "dask"
    assert (out_dask / "grades.csv").read_bytes() == (out_local / "grades.csv").read_bytes()
    assert _without_seconds(out_dask / "results.json") == _without_seconds(out_local / "results.json")
    assert _timeless(out_dask / "junit.xml") == _timeless(out_local / "junit.xml")
    for student in ("alice", "bob", "carol", "dave"):
        feedback = f"feedback/{student}.txt"
        assert _timeless(out_dask / feedback) == _timeless(out_local / feedback)


def test_a_task_that_fails_on_its_worker_is_that_submissions_error_and_unreadable_files_stay_here(
    cluster, tmp_path
):
    assignment = with_hidden_key(load_assignment(SPEC), KEY.encode())
    gone = Job("erin", str(tmp_path / "erin.py"))  # cannot be read here: fails at once, as locally
    ok = Job("alice", str(SOLUTION))
    grades = run_dask(assignment, [gone, ok], scheduler=cluster.scheduler_address)
    assert grades[0].score == 0 and "your file could not be read" in grades[0].cases[0].output
    assert grades[1].passed
    broken = run_dask(assignment, [ok], scheduler=cluster.scheduler_address, options="not options")
    assert broken[0].error.startswith("the Dask task failed: ") and broken[0].student == "alice"


def test_without_a_scheduler_the_dask_executor_starts_a_local_cluster(submissions, tmp_path):
    pytest.importorskip("distributed", reason="the dask extra (distributed) is not installed")
    (submissions / "bob.py").unlink()
    shutil.rmtree(submissions / "dave")
    result = invoke("autograde", SPEC, submissions, "--out", tmp_path / "out", "--executor", "dask")
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "out/grades.csv").read_text().splitlines()
    assert [r.split(",")[:3] for r in rows[1:]] == [
        ["alice", str(submissions / "alice.py"), "20"],
        ["carol", str(submissions / "carol.py"), "0"],
    ]


def test_an_unreachable_scheduler_is_a_one_line_error_with_exit_status_2(submissions, tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="the dask extra (distributed) is not installed")
    monkeypatch.setattr(executors, "CONNECT_SECONDS", 0.5)
    for address, says in [
        ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler at tcp://127.0.0.1:9: OSError"),
        ("bogus://x", "--scheduler bogus://x: not a Dask scheduler address"),
        ("localhost", "missing port number"),
    ]:
        result = invoke(
            "autograde", SPEC, submissions, "--out", tmp_path / "out", "--executor", "dask", "--scheduler", address
        )  # fmt: skip
        assert result.exit_code == 2
        assert result.output.startswith("error: ") and says in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_scheduler_without_workers_says_how_to_start_one(monkeypatch):
    distributed = pytest.importorskip("distributed", reason="the dask extra (distributed) is not installed")
    monkeypatch.setattr(executors, "CONNECT_SECONDS", 0.5)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty:
        address = empty.scheduler_address
        with pytest.raises(ExecutorError) as raised:
            run_dask(load_assignment(SPEC), [Job("alice", str(SOLUTION))], scheduler=address)
    assert str(raised.value) == (
        f"the Dask scheduler at {address} has no workers after 0.5 s; start some with: dask worker {address}"
    )


def test_workers_without_this_quizgen_are_refused_before_any_task(cluster, monkeypatch):
    monkeypatch.setattr(executors, "_quizgen_version", lambda: "9.9.9")
    with pytest.raises(
        ExecutorError, match=r"the Dask worker at tcp://\S+ has quizgen \S+ and this is quizgen 9.9.9"
    ):
        run_dask(load_assignment(SPEC), [Job("alice", str(SOLUTION))], scheduler=cluster.scheduler_address)


def test_scheduler_only_applies_to_dask_and_executors_are_named_exactly(submissions, tmp_path):
    result = invoke("autograde", SPEC, submissions, "--out", tmp_path / "o", "--scheduler", "tcp://h:1")
    assert result.exit_code == 2 and "error: --scheduler applies only to --executor dask" in result.output
    with pytest.raises(ExecutorError, match="executor: expected one of local, dask, got 'Dask'"):
        run_jobs("Dask", load_assignment(SPEC), [])


def test_without_distributed_the_dask_executor_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(ExecutorError, match=r"pip install 'quizgen\[dask\]'"):
        run_dask(load_assignment(SPEC), [Job("alice", str(SOLUTION))])
