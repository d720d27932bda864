"""The sandbox against the holes found by attacking it (issue 14), as root and as an ordinary
user in the same test run: one in-process run as root, one run of the same attacks under
``setpriv`` as nobody (the sandbox then relies on what an unprivileged user can have: user,
mount, network and pid namespaces). Each attack is a fixture in fixtures/submissions/ named by
what it tries; :func:`observe` runs them all once per user and each test checks one hole."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from quizgen.graders import _forkserver, sandbox
from quizgen.graders.assignment import load_assignment, with_hidden_key
from quizgen.graders.autograde import grade_submission
from quizgen.graders.sandbox import Call, Limits

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "submissions"
REPO = HERE.parent.parent
SPEC = REPO / "examples" / "assignments" / "softmax_cross_entropy.yaml"
SOLUTION = REPO / "examples" / "assignments" / "solutions" / "softmax_cross_entropy.py"
LIMITS = Limits(call_seconds=2.0, import_seconds=2.0, submission_seconds=20.0, memory_mb=128)
X = np.array([1.0, -2.0, 3.5])
NOBODY = 65534
HOST_WRITABLE = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm", "/dev/mqueue", "/run", "/var/lock")


def _points(grade) -> tuple[float, float]:
    return sum(c.points for c in grade.cases), sum(c.max_points for c in grade.cases)


def observe(work: str) -> dict:
    """Run every attack once in this process's sandbox; JSON-ready observations. ``work`` is a
    folder readable by whoever runs this, standing for the course's files and the output."""
    work_dir = Path(work)
    course, others, out = work_dir / "course", work_dir / "submissions", work_dir / "out"
    server = sandbox.ForkServer()
    seen: dict = {}
    try:
        # 1. the solution, the spec, other students' files and the grader's source are out of sight
        attack = (FIXTURES / "runs_solution_file.py").read_text()
        sub = work_dir / "attacker.py"
        paths = [str(SOLUTION), str(course / "solution.py")]
        sub.write_text(attack.replace("SOLUTION_PATHS: list = []", f"SOLUTION_PATHS: list = {paths!r}"))
        # hidden cases are drawn from an instructor's key; any fixed key serves here
        assignment = with_hidden_key(load_assignment(SPEC), b"sandbox-attack-tests-" + b"k" * 32)
        grade = grade_submission(assignment, sub, variant="s1", server=server)
        seen["runs_solution_file points"] = list(_points(grade))
        secrets = [
            str(SOLUTION), str(course / "solution.py"), str(course / "spec.yaml"), str(course),
            str(others / "other_student.py"), str(SPEC), str(REPO / "quizgen"), str(REPO / "reference"),
            str(Path(sandbox.__file__).resolve()), str(out),
        ]  # fmt: skip
        run = sandbox.run(sub, [Call("look", (secrets,))], LIMITS, server=server)
        seen["look"] = run.outcomes[0].value
        seen["isolation"] = list(run.isolation.applied)
        seen["unavailable"] = dict(run.isolation.unavailable)

        run = sandbox.run(
            FIXTURES / "escapes_the_view.py", [Call("attack", (str(SOLUTION),))], LIMITS, server=server
        )
        seen["escape"] = run.outcomes[0].value if run.outcomes[0].status == "ok" else run.outcomes[0].error

        # 2. writes to the host's shared folders and the output folder, and the tmpfs caps
        marker = f"quizgen-attack-{os.getpid()}"
        calls = [
            Call("attack", (marker, str(out))),
            Call("fill_inodes", ("/tmp",)),
            Call("fill_inodes", ("/dev/shm",)),
        ]
        run = sandbox.run(FIXTURES / "writes_host_folders.py", calls, LIMITS, server=server)
        seen["writes"] = run.outcomes[0].value
        seen["tmp inodes"], seen["shm inodes"] = run.outcomes[1].value, run.outcomes[2].value
        seen["host files"] = [
            f for f in (*HOST_WRITABLE, str(out)) if os.path.lexists(os.path.join(f, marker))
        ]
        seen["planted symlink"] = os.path.lexists(out / "results.json")
        for f in seen["host files"]:
            os.unlink(os.path.join(f, marker))

        # 3. the grader's process: memory, environment, limits, signals
        before = resource.getrlimit(resource.RLIMIT_NOFILE)
        server_before = resource.prlimit(server.pid, resource.RLIMIT_NOFILE) if server.pid else None
        calls = [Call("attack", (os.getpid(), server.pid)), Call("double", (X,))]
        run = sandbox.run(FIXTURES / "attacks_grader_process.py", calls, LIMITS, server=server)
        seen["grader"] = run.outcomes[0].value if run.outcomes[0].status == "ok" else run.outcomes[0].error
        seen["after grader attack"] = [run.outcomes[1].status, run.outcomes[1].value.tolist()]
        seen["grader limits kept"] = resource.getrlimit(resource.RLIMIT_NOFILE) == before
        seen["server limits kept"] = resource.prlimit(server.pid, resource.RLIMIT_NOFILE) == server_before
        seen["server restarts"] = server.restarts

        # 4. fork bombs: no process beyond its own (Limits.processes = 1), none left behind
        calls = [Call("count_forks"), Call("attack"), Call("double", (X,))]
        run = sandbox.run(
            FIXTURES / "fork_bomb.py", calls, Limits(call_seconds=0.5, memory_mb=128), server=server
        )
        seen["fork_bomb"] = [run.outcomes[0].value, run.outcomes[1].status, run.outcomes[2].status]

        # 5. honest code: signals it sent itself, stdlib imports, scalars NumPy treats as scalars
        calls = [Call("sigkill"), Call("sigterm"), Call("calls_abort"), Call("double", (X,))]
        run = sandbox.run(FIXTURES / "kills_itself.py", calls, LIMITS, server=server)
        seen["kills_itself"] = [[o.status, o.error] for o in run.outcomes]
        run = sandbox.run(
            FIXTURES / "imports_stdlib_modules.py", [Call("double", (X,))], LIMITS, server=server
        )
        seen["stdlib"] = [run.outcomes[0].status, run.outcomes[0].error]
        calls = [Call(f, (X,)) for f in ("total", "total_f32", "count", "total_and_double")]
        run = sandbox.run(FIXTURES / "returns_0d_array.py", calls, LIMITS, server=server)
        seen["scalars"] = [type(o.value).__name__ for o in run.outcomes[:3]]
        seen["scalar in tuple"] = type(run.outcomes[3].value[0]).__name__
        zero_d = work_dir / "zero_d.py"
        zero_d.write_text(SOLUTION.read_text().replace("return float(loss),", "return np.asarray(loss),"))
        seen["0-d loss points"] = list(
            _points(grade_submission(assignment, zero_d, variant="s1", server=server))
        )
    finally:
        server.close()
    return seen


# ---------------------------------------------------------------------------------------------
# running observe() as nobody


def _blocked_ancestors(paths) -> list[Path]:
    """Folders on the way to ``paths`` that nobody cannot enter (e.g. /root holding pyenv)."""
    blocked = []
    for path in paths:
        for parent in reversed(Path(path).parents):
            if not os.stat(parent).st_mode & 0o001 and parent not in blocked:
                blocked.append(parent)
    return blocked


def _as_nobody(work: Path, function: str) -> str:
    """A shell script that runs ``function(work)`` of this file as nobody and prints its JSON;
    run it in a private mount namespace, where the folders holding the interpreter and this
    checkout are made passable (nothing on the host changes): a blocked folder is covered by a
    tmpfs holding only the needed entry."""
    needed = [Path(sys.executable).resolve(), Path(sys.prefix).resolve(), REPO, Path(np.__file__).resolve()]
    lines = ["set -e"]
    for i, folder in enumerate(_blocked_ancestors(needed)):
        keep = sorted({p.relative_to(folder).parts[0] for p in needed if folder in p.parents})
        for j, name in enumerate(keep):
            lines.append(f"mkdir -p {work}/keep{i}_{j} && mount --bind {folder}/{name} {work}/keep{i}_{j}")
        lines.append(f"mount -t tmpfs -o mode=755,size=64k tmpfs {folder}")
        for j, name in enumerate(keep):
            lines.append(f"mkdir -p {folder}/{name} && mount --bind {work}/keep{i}_{j} {folder}/{name}")
    code = (
        "import json, runpy, sys; m = runpy.run_path(sys.argv[1]); "
        f"print('OBSERVED' + json.dumps(m['{function}'](sys.argv[2])))"
    )
    lines.append(
        f"cd {work} && exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups --inh-caps=-all "
        f'env -i HOME={work} PATH=/usr/bin:/bin {sys.executable} -c "{code}" {__file__} {work}'
    )
    return "\n".join(lines)


#: Runs a shell script (argv[1]) as root of a new user namespace that maps uids 0-65535 to
#: themselves and allows no nested user namespace: nobody in it is an ordinary user on a
#: kernel that refuses unprivileged user namespaces.
_NO_USERNS = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
ready, go = os.pipe(), os.pipe()
pid = os.fork()
if pid == 0:
    if libc.unshare(0x10000000 | 0x00020000) != 0:
        os._exit(3)
    os.write(ready[1], b"x")
    os.read(go[0], 1)
    os.execvp("sh", ["sh", "-c", "echo 0 > /proc/sys/user/max_user_namespaces; " + sys.argv[1]])
os.read(ready[0], 1)
for name in ("uid_map", "gid_map"):
    with open(f"/proc/{pid}/{name}", "w") as f:
        f.write("0 0 65536")
os.write(go[1], b"x")
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def _run_as_nobody(work: Path, function: str, *, user_namespaces: bool = True) -> dict:
    """``function(work)`` of this file run as nobody (with or without user namespaces)."""
    script = _as_nobody(work, function)
    if user_namespaces:
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
    else:
        command = [sys.executable, "-c", _NO_USERNS, script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    marked = [line for line in done.stdout.splitlines() if line.startswith("OBSERVED")]
    assert done.returncode == 0 and marked, (
        f"the run as nobody failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return json.loads(marked[-1][len("OBSERVED") :])


def _make_work(root: Path, owner: int | None) -> Path:
    for sub in ("course", "submissions", "out"):
        (root / sub).mkdir(parents=True)
    shutil.copy(SOLUTION, root / "course" / "solution.py")
    shutil.copy(SPEC, root / "course" / "spec.yaml")
    (root / "submissions" / "other_student.py").write_text("def f():\n    return 1\n")
    root.chmod(0o755)
    if owner is not None:
        for p in [root, *root.rglob("*")]:
            os.chown(p, owner, owner)
    return root


@pytest.fixture(scope="module", params=["root", "nobody"])
def seen(request):
    """Observations per user: "root" (skipped unless root) and "nobody" (skipped without root to
    switch users, or without setpriv/unshare)."""
    if os.geteuid() != 0:
        if request.param == "nobody":
            pytest.skip("switching to nobody needs root; this run is the ordinary user's")
        with tempfile.TemporaryDirectory() as tmp:  # an ordinary user's run: observe as we are
            return observe(str(_make_work(Path(tmp) / "w", None)))
    if request.param == "root":
        with tempfile.TemporaryDirectory() as tmp:
            return observe(str(_make_work(Path(tmp) / "w", None)))
    if not (shutil.which("setpriv") and shutil.which("unshare")):
        pytest.skip("setpriv and unshare (util-linux) are needed to run the sandbox as nobody")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        return _run_as_nobody(_make_work(Path(tmp) / "w", NOBODY), "observe")


# ---------------------------------------------------------------------------------------------
# one test per hole


def test_running_the_solution_file_scores_nothing(seen):
    got, most = seen["runs_solution_file points"]
    assert most > 0 and got == 0, seen["runs_solution_file points"]


def test_solution_spec_other_students_and_grader_source_are_out_of_sight(seen):
    leaked = {p: v for p, v in seen["look"].items() if v not in ("missing", "denied")}
    assert leaked == {}
    assert "filesystem view" in seen["isolation"], seen["unavailable"]


def test_no_way_out_of_the_filesystem_view(seen):
    escaped = {k: v for k, v in seen["escape"].items() if v == "done" or v.startswith("read ")}
    assert escaped == {}, seen["escape"]


def test_no_write_reaches_the_hosts_shared_folders_or_the_output_folder(seen):
    assert seen["host files"] == []
    assert not seen["planted symlink"]
    assert seen["writes"]["symlink"] != "planted"


def test_private_tmpfs_mounts_have_an_inode_cap(seen):
    made, error = seen["tmp inodes"]
    assert made <= _forkserver.TMP_INODES and error == "OSError", seen["tmp inodes"]
    made, error = seen["shm inodes"]
    assert made <= _forkserver.SHM_INODES and error == "OSError", seen["shm inodes"]


def test_grader_memory_environment_limits_and_signals_are_out_of_reach(seen):
    reached = {k: v for k, v in seen["grader"].items() if v == "done" and "(sent)" not in k}
    assert reached == {}, seen["grader"]
    assert seen["grader limits kept"] and seen["server limits kept"]
    assert seen["server restarts"] == 0  # and the process that observed this is alive
    assert seen["after grader attack"][0] == "ok"
    # as root its own uid keeps it from signalling anything; as nobody, its own pid namespace
    assert any(layer.startswith(("own pid namespace", "unprivileged uid")) for layer in seen["isolation"])
    assert "no network" in seen["isolation"]


def test_a_fork_bomb_cannot_fork(seen):
    forks, bomb, after = seen["fork_bomb"]
    assert forks == 0 and bomb == "timeout" and after == "ok", seen["fork_bomb"]


def test_a_process_that_killed_itself_is_told_which_signal(seen):
    (kill, kill_why), (term, term_why), (abort, abort_why), (after, _) = seen["kills_itself"]
    assert kill == term == abort == "crashed"
    assert "killed by signal SIGKILL" in kill_why
    assert "killed by signal SIGTERM" in term_why
    assert "called abort" in abort_why
    assert not any("memory" in why for _, why in seen["kills_itself"])
    assert after == "ok"


def test_ordinary_stdlib_imports_work_in_the_sandbox(seen):
    assert seen["stdlib"] == ["ok", ""]


def test_what_numpy_treats_as_a_scalar_arrives_as_a_number(seen):
    assert seen["scalars"] == ["float", "float", "int"]
    assert seen["scalar in tuple"] == "float"
    got, most = seen["0-d loss points"]
    assert got == most > 0


# ---------------------------------------------------------------------------------------------
# without the namespaces, and the fork server dying under honest students


def observe_without_namespaces(work: str) -> dict:
    """Where no namespace can be had: what preflight, a run and the CLI say, with and without
    the flag that allows running unsandboxed."""
    from click.testing import CliRunner

    from quizgen.cli import main

    seen: dict = {}
    try:
        seen["preflight"] = list(sandbox.preflight().applied)
    except sandbox.Unsandboxed as exc:
        seen["preflight"] = str(exc)
    try:
        seen["run"] = (
            sandbox.run(FIXTURES / "passes_all.py", [Call("double", (X,))], LIMITS).outcomes[0].status
        )
    except sandbox.Unsandboxed as exc:
        seen["run"] = str(exc)
    options = sandbox.Options(allow_unsandboxed=True)
    run = sandbox.run(FIXTURES / "passes_all.py", [Call("double", (X,))], LIMITS, options=options)
    seen["allowed run"] = run.outcomes[0].status
    seen["allowed unavailable"] = dict(run.isolation.unavailable)
    for flag in ([], ["--allow-unsandboxed"]):
        result = CliRunner().invoke(main, ["check", str(SPEC), str(SOLUTION), *flag])
        seen[f"check {flag}"] = [result.exit_code, result.output]
    return seen


def test_without_user_namespaces_grading_is_refused_unless_allowed():
    if os.geteuid() != 0 or not (shutil.which("setpriv") and shutil.which("unshare")):
        pytest.skip("needs root, setpriv and unshare to stand for a user without user namespaces")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        work = _make_work(Path(tmp) / "w", NOBODY)
        seen = _run_as_nobody(work, "observe_without_namespaces", user_namespaces=False)
    assert "refusing to run untrusted code" in seen["preflight"], seen["preflight"]
    assert "--allow-unsandboxed" in seen["preflight"]
    assert "own pid namespace" in seen["run"] and "filesystem view" in seen["run"]
    assert seen["allowed run"] == "ok"
    assert "filesystem view" in seen["allowed unavailable"]
    code, output = seen["check []"]
    assert code == 2 and "--allow-unsandboxed" in output and "Traceback" not in output
    code, output = seen["check ['--allow-unsandboxed']"]
    assert code == 0, output


def test_a_turned_off_layer_is_the_callers_choice_and_not_refused():
    report = {"applied": [], "unavailable": {"no network": "turned off"}}
    assert _forkserver.refusal(report, {"private_network": False}) == ""
    assert "no network" in _forkserver.refusal(report, {})


def test_killing_the_fork_server_costs_honest_students_nothing(tmp_path):
    sub = tmp_path / "slow.py"
    sub.write_text("import time\ndef double(x):\n    time.sleep(0.15)\n    return 2.0 * x\n")
    server = sandbox.ForkServer()
    runs = []
    try:
        sandbox.run(sub, [Call("double", (X,))], LIMITS, server=server)
        thread = threading.Thread(
            target=lambda: runs.append(sandbox.run(sub, [Call("double", (X,))] * 6, LIMITS, server=server))
        )
        thread.start()
        time.sleep(0.35)
        os.kill(server.pid, signal.SIGKILL)
        thread.join(30)
    finally:
        server.close()
    assert [o.status for o in runs[0].outcomes] == ["ok"] * 6
    assert server.restarts >= 1
