"""The sandbox against one attack each: every fixture in fixtures/submissions/ is named by what it
tries, and each test checks that grading is neither fooled nor broken, and that the calls around
the attack are still answered."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from quizgen.graders import sandbox
from quizgen.graders.compare import compare_arrays
from quizgen.graders.sandbox import Call, Limits, Opaque, Options, Ref
from quizgen.models import Tolerance

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
LIMITS = Limits(call_seconds=0.5, import_seconds=1.0, submission_seconds=10.0, memory_mb=128)
X = np.array([1.0, -2.0, 3.5])
DOUBLE = Call("double", (X,))
ROOT = os.geteuid() == 0


def run(fixture: str, calls, limits: Limits = LIMITS, **kw) -> sandbox.SubmissionRun:
    return sandbox.run(FIXTURES / fixture, calls, limits, **kw)


def _stat(pid: int) -> tuple[str, int]:
    """(state, parent pid) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def sandbox_processes() -> list[int]:
    """Live (not zombie) processes under a sandbox uid that descend from this test process's
    fork server (other test runs on the machine have their own)."""
    server = sandbox.default_server().pid
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid < 1_000_000_000:
                continue
            state, pid = _stat(int(entry))
            if state == "Z":
                continue
            while pid > 1 and pid != server:
                pid = _stat(pid)[1]
        except (OSError, ValueError, IndexError):
            continue
        if pid == server:
            found.append(int(entry))
    return found


def assert_doubles(outcome: sandbox.CallOutcome) -> None:
    assert outcome.status == "ok", outcome.error
    assert type(outcome.value) is np.ndarray
    np.testing.assert_array_equal(outcome.value, 2 * X)


def test_passes_all_gets_every_value_back_as_plain_arrays():
    result = run("passes_all.py", [DOUBLE, Call("attack"), DOUBLE])
    assert_doubles(result.outcomes[0])
    assert result.outcomes[1].value == "nothing to see"
    assert_doubles(result.outcomes[2])
    assert result.functions == ("attack", "double")


@pytest.mark.skipif(not ROOT, reason="namespaces and uid changes need root")
def test_passes_all_runs_with_every_isolation_layer_as_root():
    isolation = run("passes_all.py", [DOUBLE]).isolation
    layers = ("own process group", "no network", "private /tmp", "hidden grader files", "unprivileged uid")
    limits = ("CPU time", "memory", "processes", "file size", "open files", "core dumps")
    for layer in (*layers, *(f"{name} limit" for name in limits)):
        assert isolation.has(layer), (layer, isolation)
    assert isolation.unavailable == ()


def test_with_every_optional_layer_turned_off_the_reasons_are_recorded():
    options = Options(drop_user=False, private_network=False, private_tmp=False)
    result = run("passes_all.py", [DOUBLE], options=options)
    assert_doubles(result.outcomes[0])
    unavailable = dict(result.isolation.unavailable)
    assert unavailable["no network"] == unavailable["private /tmp"] == "turned off"
    assert result.isolation.has("memory limit") and result.isolation.has("own process group")


def test_results_stay_in_the_child_and_are_used_through_refs():
    calls = [Call("double", (X,)), Call("double", (Ref(0),)), Call("double", (Ref(1),), select=((),))]
    outcomes = run("passes_all.py", calls).outcomes
    np.testing.assert_array_equal(outcomes[2].value[0], 8 * X)


def test_loops_forever_times_out_and_the_other_calls_are_still_graded():
    start = time.monotonic()
    outcomes = run("loops_forever.py", [DOUBLE, Call("attack"), DOUBLE]).outcomes
    assert time.monotonic() - start < 3
    assert_doubles(outcomes[0])
    assert outcomes[1].status == "timeout"
    assert "longer than the limit of 0.5 s" in outcomes[1].error
    assert_doubles(outcomes[2])  # answered by a fresh child
    assert sandbox_processes() == []


def test_loops_on_import_times_out_every_call_without_retrying_the_import():
    start = time.monotonic()
    outcomes = run("loops_on_import.py", [DOUBLE, DOUBLE, DOUBLE]).outcomes
    assert time.monotonic() - start < 2.5
    assert [o.status for o in outcomes] == ["timeout"] * 3
    assert "importing your file took longer" in outcomes[0].error


def test_sleeps_past_limit_is_stopped_by_the_wall_clock():
    start = time.monotonic()
    outcomes = run("sleeps_past_limit.py", [Call("attack"), DOUBLE]).outcomes
    assert time.monotonic() - start < 2.5
    assert outcomes[0].status == "timeout"
    assert_doubles(outcomes[1])


def test_submission_time_limit_stops_the_rest():
    limits = Limits(call_seconds=0.6, submission_seconds=1.0, memory_mb=128)
    outcomes = run("sleeps_past_limit.py", [Call("attack"), Call("attack"), DOUBLE], limits).outcomes
    assert [o.status for o in outcomes] == ["timeout"] * 3
    assert "total time limit" in outcomes[2].error


def test_memory_bomb_is_reported_as_out_of_memory():
    limits = Limits(call_seconds=3.0, memory_mb=128)
    outcomes = run("memory_bomb.py", [Call("attack"), Call("attack_numpy"), DOUBLE], limits).outcomes
    assert outcomes[0].status == "memory", outcomes[0].error
    assert outcomes[1].status == "memory"
    assert "limit 128 MB" in outcomes[1].error
    assert_doubles(outcomes[2])


@pytest.mark.skipif(not ROOT, reason="an own uid per child needs root")
def test_fork_bomb_cannot_fork_and_leaves_no_process_behind():
    outcomes = run("fork_bomb.py", [Call("count_forks"), Call("attack"), DOUBLE]).outcomes
    assert outcomes[0].value == 0  # Limits.processes = 1: the submission itself only
    assert outcomes[1].status == "timeout"
    assert_doubles(outcomes[2])
    assert sandbox_processes() == []


def test_fork_bomb_with_processes_allowed_is_swept_up():
    limits = Limits(call_seconds=0.5, submission_seconds=10.0, memory_mb=128, processes=30)
    outcomes = run("fork_bomb.py", [Call("count_forks"), Call("attack"), DOUBLE], limits).outcomes
    assert 0 < outcomes[0].value <= 20
    assert outcomes[1].status in ("timeout", "crashed", "memory")
    assert_doubles(outcomes[2])
    time.sleep(0.1)
    assert sandbox_processes() == []


def test_huge_output_is_cut_to_the_limit_and_the_value_still_graded():
    limits = Limits(call_seconds=3.0, submission_seconds=10.0, memory_mb=256, output_bytes=300)
    outcome = run("huge_output.py", [DOUBLE], limits).outcomes[0]
    assert_doubles(outcome)
    assert outcome.stdout.startswith("spam spam")
    assert len(outcome.stdout) < 400
    assert "more characters of output not shown" in outcome.stdout


def test_calls_sys_exit_is_an_exception_not_the_end_of_grading():
    outcomes = run("calls_sys_exit.py", [Call("attack"), DOUBLE]).outcomes
    assert outcomes[0].status == "exception"
    assert outcomes[0].exc_type == "SystemExit"
    assert "line 11, in attack" in outcomes[0].traceback
    assert_doubles(outcomes[1])


def test_calls_os_exit_is_a_crash_and_the_next_call_runs_in_a_new_child():
    outcomes = run("calls_os_exit.py", [DOUBLE, Call("attack"), DOUBLE]).outcomes
    assert_doubles(outcomes[0])
    assert outcomes[1].status == "crashed"
    assert "exit status 0" in outcomes[1].error
    assert_doubles(outcomes[2])


def test_kills_parent_cannot_reach_the_fork_server_from_its_pid_namespace():
    server = sandbox.ForkServer()
    try:
        result = run("kills_parent.py", [DOUBLE, Call("attack"), DOUBLE], server=server)
        outcomes = result.outcomes
        assert result.isolation.has("own pid namespace") or result.isolation.has("unprivileged uid")
        assert_doubles(outcomes[0])
        assert outcomes[1].value != "killed"  # out of its pid namespace, or another uid
        assert_doubles(outcomes[2])
        assert server.restarts == 0
    finally:
        server.close()


def test_kills_parent_without_uid_drop_still_leaves_the_fork_server_running():
    server = sandbox.ForkServer()
    try:
        options = Options(drop_user=False)
        result = run("kills_parent.py", [DOUBLE, Call("attack"), DOUBLE], server=server, options=options)
        outcomes = result.outcomes
        assert_doubles(outcomes[0])
        assert outcomes[1].value != "killed"
        assert_doubles(outcomes[2])
        assert server.restarts == 0
    finally:
        server.close()


def test_returns_ndarray_subclass_arrives_as_a_plain_array_of_its_true_values():
    outcome = run("returns_ndarray_subclass.py", [DOUBLE]).outcomes[0]
    assert type(outcome.value) is np.ndarray
    assert outcome.value.shape == X.shape  # not the (2, 3) it claimed
    np.testing.assert_array_equal(outcome.value, np.zeros_like(X))
    assert not compare_arrays(2 * X, outcome.value, Tolerance(rtol=1e-6)).correct


def test_returns_always_equal_arrives_as_an_opaque_object():
    outcomes = run("returns_always_equal.py", [DOUBLE, Call("double_pretend", (X,))]).outcomes
    assert outcomes[0].value == Opaque("AlwaysEqual")
    assert outcomes[1].value == Opaque("PretendArray")  # its __class__ said ndarray
    assert not compare_arrays(2 * X, outcomes[0].value, Tolerance()).correct


def test_returns_nan_is_data_that_compares_wrong():
    outcome = run("returns_nan.py", [DOUBLE]).outcomes[0]
    assert np.isnan(outcome.value).all()
    comparison = compare_arrays(2 * X, outcome.value, Tolerance())
    assert comparison.score == 0 and "not a finite number" in comparison.message


def test_monkeypatches_numpy_changes_nothing_in_the_parent():
    outcomes = run("monkeypatches_numpy.py", [DOUBLE, Call("corrupt_wire", (X,))]).outcomes
    np.testing.assert_array_equal(outcomes[0].value, X)  # its wrong answer arrives as it is
    assert not np.allclose(outcomes[0].value, 2 * X)  # the parent's numpy is its own
    assert abs(-1) == 1
    assert outcomes[1].status == "bad_output"  # a pickle instead of .npy is refused
    assert "could not be read" in outcomes[1].error


@pytest.mark.skipif(not ROOT, reason="hiding folders needs a mount namespace")
def test_imports_quizgen_reference_finds_every_route_blocked():
    outcome = run("imports_quizgen_reference.py", [Call("attack")]).outcomes[0]
    assert outcome.status == "exception", outcome.value
    assert outcome.exc_type == "ImportError"
    assert "every route was blocked" in outcome.exc_message


@pytest.fixture
def grader_file(tmp_path):
    secret = tmp_path / "grader" / "expected.json"
    secret.parent.mkdir()
    secret.write_text('{"answer": 42}')
    secret.chmod(0o600)
    return secret


@pytest.mark.skipif(not ROOT, reason="the uid drop needs root")
def test_reads_grader_files_is_refused_by_permissions_alone(grader_file):
    options = Options(private_tmp=False)
    outcomes = run(
        "reads_grader_files.py",
        [Call("attack", (str(grader_file),)), Call("read_parent_environ")],
        options=options,
    ).outcomes
    assert outcomes[0].exc_type == "PermissionError"
    # the fork server is outside its pid namespace (its parent pid reads 0) and not dumpable
    assert outcomes[1].exc_type in ("PermissionError", "FileNotFoundError")


@pytest.mark.skipif(not ROOT, reason="hiding folders needs a mount namespace")
def test_reads_grader_files_finds_hidden_folders_empty(grader_file):
    grader_file.chmod(0o644)  # even a world-readable file is out of reach once its folder is hidden
    options = Options(hide=(str(grader_file.parent),), private_tmp=True)
    outcome = run("reads_grader_files.py", [Call("attack", (str(grader_file),))], options=options).outcomes[0]
    assert outcome.status == "exception"
    assert outcome.exc_type in ("FileNotFoundError", "PermissionError")


@pytest.mark.skipif(not ROOT, reason="the uid drop and a private /tmp need root")
def test_writes_results_file_cannot_touch_it_or_leave_files_in_tmp(tmp_path):
    results = tmp_path / "results.json"
    results.write_text('{"score": 0}')
    marker = f"quizgen-escape-{os.getpid()}.txt"
    calls = [Call("attack", (str(results),)), Call("write_tmp", (marker,)), Call("write_big_file")]
    outcomes = run("writes_results_file.py", calls, options=Options(private_tmp=False)).outcomes
    assert outcomes[0].exc_type == "PermissionError"
    assert outcomes[2].exc_type == "OSError"  # file size limit (4 MB), not a killed process
    assert results.read_text() == '{"score": 0}'
    assert Path("/tmp", marker).exists()  # without a private /tmp, the shared one is writable...
    Path("/tmp", marker).unlink()
    outcomes = run("writes_results_file.py", calls).outcomes
    assert outcomes[1].value == "written"  # ...with it, the write lands in a throwaway tmpfs
    assert not Path("/tmp", marker).exists()


def test_syntax_error_is_reported_with_its_line_for_every_call():
    outcomes = run("syntax_error.py", [DOUBLE, DOUBLE]).outcomes
    assert [o.status for o in outcomes] == ["syntax_error"] * 2
    assert "line 4" in outcomes[0].traceback
    assert "def double(x)" in outcomes[0].traceback


def test_missing_function_is_named():
    outcome = run("passes_all.py", [Call("conv2d_forward")]).outcomes[0]
    assert outcome.status == "missing_function"
    assert "conv2d_forward" in outcome.error


def test_a_call_whose_input_failed_is_skipped():
    calls = [Call("attack"), Call("double", (Ref(0),))]
    outcomes = run("calls_os_exit.py", calls).outcomes
    assert outcomes[1].status == "skipped"
    assert "call 0" in outcomes[1].error


def test_a_ref_into_a_crashed_child_is_replayed_in_the_next_one():
    calls = [Call("double", (X,)), Call("attack"), Call("double", (Ref(0),))]
    outcomes = run("calls_os_exit.py", calls).outcomes
    np.testing.assert_array_equal(outcomes[2].value, 4 * X)


def test_limits_reject_nonsense_with_the_setting_named():
    with pytest.raises(ValueError, match="call_seconds must be a positive"):
        Limits(call_seconds=0)
    with pytest.raises(ValueError, match="processes must be an integer"):
        Limits(processes=1.5)
    with pytest.raises(ValueError, match="unknown setting"):
        Limits.from_dict({"seconds": 3})


def test_the_child_is_killed_even_when_the_parent_gives_up_early():
    before = sandbox_processes()
    run("sleeps_past_limit.py", [Call("attack")], Limits(call_seconds=0.2, memory_mb=64))
    assert sandbox_processes() == before


def test_sigkill_of_a_child_from_outside_is_reported_as_a_crash(tmp_path):
    src = tmp_path / "kill_self.py"
    src.write_text(f"import os\ndef attack():\n    os.kill(os.getpid(), {int(signal.SIGKILL)})\n")
    outcome = sandbox.run(src, [Call("attack")], LIMITS).outcomes[0]
    assert outcome.status == "crashed"
    assert "SIGKILL" in outcome.error


def test_numpy_installed_under_tmp_still_gets_the_filesystem_view(tmp_path):
    """A virtual environment under /tmp (as .ci/run makes with mktemp -d): NumPy's folder is bound
    at its own path inside the view, where the private /tmp also goes; the view must still be
    built (it failed with "File exists: .../tmp", so grading was refused)."""
    import subprocess
    import sys

    site = Path(np.__file__).resolve().parent.parent
    copy = tmp_path / "site-packages"  # hard links where the file system allows: no data copied
    copy.mkdir()
    for name in ("numpy", "numpy.libs"):
        if (site / name).is_dir():
            subprocess.run(["cp", "-al" if site.stat().st_dev == tmp_path.stat().st_dev else "-a",
                            str(site / name), str(copy)], check=True)  # fmt: skip
    code = (
        f"import sys; sys.path.insert(0, {str(copy)!r}); import numpy;"
        f"assert numpy.__file__.startswith({str(copy)!r});"
        "from quizgen.cli import main; main()"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code, "check", str(root / "examples/assignments/softmax_cross_entropy.yaml"),
         str(root / "examples/assignments/solutions/softmax_cross_entropy.py"), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_submission_cannot_find_an_earlier_submissions_source_in_its_memory(tmp_path):
    """Every child is a fork of the fork server: a source the server once held (freed, not
    wiped) would be in the memory of every later child, where another student can read it."""
    victim = tmp_path / "victim.py"
    body = "".join(f"    x{i} = {i} * 2.0  # a line of an ordinary solution\n" for i in range(7))
    victim.write_text("# quizgen-victim-" + f"source-7c1e: a clever solution\ndef f():\n{body}    return 1\n")
    limits = Limits(call_seconds=20.0, submission_seconds=30.0, memory_mb=256)
    server = sandbox.ForkServer()
    try:
        assert sandbox.run(victim, [Call("f")], limits, server=server).outcomes[0].value == 1
        attack = FIXTURES / "reads_other_students_source_from_memory.py"
        run = sandbox.run(attack, [Call("find", ("quizgen-victim-", "source-7c1e"))], limits, server=server)
    finally:
        server.close()
    assert run.outcomes[0].status == "ok", run.outcomes[0].error
    assert run.outcomes[0].value == 0
