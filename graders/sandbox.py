"""Run untrusted student code in an isolated child process; the parent keeps the answers.

A fork server (:mod:`quizgen.graders._forkserver`, its own ``python -I -S`` interpreter that
imports only the standard library and NumPy) forks one child per submission. The child, before
any student code runs:

- starts its own session (so the parent can kill its whole process group);
- as an ordinary user, enters a user namespace of its own (where the kernel allows it), which
  gives it the namespaces below, and a pid namespace (it cannot signal the grader);
- leaves the network (a new network namespace: only a downed loopback);
- sees only a filesystem view built in a new mount namespace: a fresh tmpfs root holding the
  system folders, the standard library and NumPy read-only, a private size- and inode-capped
  /tmp and /dev/shm, four device files and nothing else (no spec, solution, grader source, other
  students' files, /proc or host folders anyone can write to);
- applies resource limits: CPU seconds, address space (what is already mapped plus
  ``memory_mb``), processes, file size, open files, no core dumps;
- when the server runs as root (as on Gradescope), drops to a uid of its own (1e9 + pid, or
  nobody where such uids are not mapped), so it cannot signal the grader, and every process it
  starts can be killed at once; as a user, gives up the namespace's capabilities;
- replaces sys.stdout/sys.stderr by a capture that keeps the first ``output_bytes`` characters per
  call, removes quizgen from the import system, and runs in its own working directory.

Then it imports the student's file and answers calls. Inputs go to the child, outputs come back:
``.npy`` bytes (never pickles) and JSON, which the parent parses with ``allow_pickle=False`` and
validates (:mod:`quizgen.graders._forkserver` ``decode``). The child never sees expected values or
the reference; results are computed and written by the parent only. Each call has a wall-clock
limit enforced here (the child's process group and, as root, its uid are killed); a call that
kills or hangs its child loses only itself: a new child runs the remaining calls, replaying
earlier calls whose results they use (see :class:`Ref`).

What each isolation layer needs, and what happens without it, is recorded per run in
:class:`Isolation` (``applied`` and ``unavailable`` with the reason). Where the namespaces cannot
be had (an ordinary user on a kernel without unprivileged user namespaces), the child refuses
to run student code and :class:`Unsandboxed` is raised, unless ``Options.allow_unsandboxed``:
then it runs as the grader's own user with the limits only. docs/autograding.md has the threat
model, layer by layer.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import _forkserver as wire
from ._forkserver import Missing, Opaque, Ref, WireError

__all__ = [
    "STATUSES",
    "Call",
    "CallOutcome",
    "ForkServer",
    "Frame",
    "Isolation",
    "Limits",
    "Missing",
    "Opaque",
    "Options",
    "Ref",
    "SandboxError",
    "SubmissionRun",
    "Unsandboxed",
    "default_server",
    "preflight",
    "run",
    "run_submission",
]

#: Every status a call can end with.
STATUSES = (
    "ok",
    "exception",
    "timeout",
    "memory",
    "crashed",
    "bad_output",
    "syntax_error",
    "missing_function",
    "skipped",
)

MAX_SOURCE_BYTES = 1 << 20
_SETUP_SECONDS = 20.0  # for the sandbox itself to start (not charged to the student)
_CONTROL_SECONDS = 30.0


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the student's code): grading cannot go on."""


class Unsandboxed(SandboxError):
    """The OS lacks an isolation layer untrusted code needs, and running without it was not
    allowed (``Options.allow_unsandboxed``)."""


def _positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
        raise ValueError(f"Limits: {name} must be a positive finite number, got {value!r}")


@dataclass(frozen=True)
class Limits:
    """What one submission may use.

    ``call_seconds``: wall-clock seconds per call; ``import_seconds``: for importing the file;
    ``submission_seconds``: wall clock for all calls together (also the CPU-time limit);
    ``memory_mb``: address space beyond what the interpreter and NumPy already map;
    ``processes``: processes (and threads) the submission may have, itself included;
    ``file_size_mb``: largest file it may write (and the size of its private /tmp);
    ``output_bytes``: characters of printed output kept per call; ``open_files``: descriptors;
    ``result_mb``: largest result one call may send back.
    """

    call_seconds: float = 2.0
    import_seconds: float = 5.0
    submission_seconds: float = 60.0
    memory_mb: float = 512.0
    processes: int = 1
    file_size_mb: float = 4.0
    output_bytes: int = 2000
    open_files: int = 64
    result_mb: float = 64.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            _positive(name, value)
        for name in ("processes", "output_bytes", "open_files"):
            if not isinstance(getattr(self, name), int):
                raise ValueError(f"Limits: {name} must be an integer, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping | None) -> Limits:
        data = dict(data or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"Limits: unknown setting(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}"
            )
        return cls(**data)


@dataclass(frozen=True)
class Options:
    """Which isolation layers to ask for (each is used only where the OS allows it), and
    ``hide``: extra paths (folders or files) the child must not see, e.g. the submissions folder,
    the results folder and the assignment spec. quizgen's own folders are always hidden."""

    drop_user: bool = True
    private_network: bool = True
    private_tmp: bool = True
    hide: tuple[str, ...] = ()
    allow_unsandboxed: bool = False


@dataclass(frozen=True)
class Call:
    """Call ``function(*args, **kwargs)`` in the student's module.

    Arguments are None, bools, numbers, str, NumPy arrays, tuples, lists, str-keyed dicts, or a
    :class:`Ref` to an earlier call's result (which stays in the child, e.g. a layer's cache).
    ``select`` lists the parts of the result to send back, as paths (``((0,),)`` for the first
    element of a returned tuple); None sends the whole result. ``seconds`` overrides
    ``Limits.call_seconds`` for this call.
    """

    function: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    select: tuple[tuple, ...] | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.function, str) or not self.function.isidentifier():
            raise ValueError(f"Call: function must be a Python identifier, got {self.function!r}")

    def refs(self) -> list[int]:
        """The earlier calls whose results this call uses."""
        found: list[int] = []

        def walk(v) -> None:
            if isinstance(v, Ref):
                found.append(v.call)
            elif isinstance(v, (tuple, list)):
                for x in v:
                    walk(x)
            elif isinstance(v, Mapping):
                for x in v.values():
                    walk(x)

        walk(self.args)
        walk(dict(self.kwargs))
        return sorted(set(found))


@dataclass(frozen=True)
class Frame:
    """One frame of the student's own code in a traceback."""

    line: int
    function: str
    code: str


@dataclass(frozen=True)
class CallOutcome:
    """How one call ended. ``value`` is validated data (plain ndarrays, numbers, tuples, ...;
    :class:`Opaque` for objects, :class:`Missing` for selected parts that were not there)."""

    status: str
    value: Any = None
    error: str = ""
    exc_type: str = ""
    exc_message: str = ""
    frames: tuple[Frame, ...] = ()
    stdout: str = ""
    seconds: float = 0.0

    def trace(self, *, show_message: bool = True, filename: str = "your file") -> str:
        """The traceback trimmed to the student's own frames (empty when there was no exception).
        ``show_message=False`` leaves out the exception's message (it may quote hidden inputs)."""
        if not self.exc_type:
            return ""
        lines = [f"  {filename}, line {f.line}, in {f.function}\n    {f.code}" for f in self.frames]
        last = f"{self.exc_type}: {self.exc_message}" if show_message and self.exc_message else self.exc_type
        return "\n".join(["Traceback (your code only):", *lines, last])

    @property
    def traceback(self) -> str:
        return self.trace()


@dataclass(frozen=True)
class Isolation:
    """The layers one child applied, and those it could not (name -> reason)."""

    applied: tuple[str, ...] = ()
    unavailable: tuple[tuple[str, str], ...] = ()

    def has(self, prefix: str) -> bool:
        return any(a.startswith(prefix) for a in self.applied)


@dataclass(frozen=True)
class SubmissionRun:
    """Everything :func:`run` learned: per-call outcomes, the isolation of the first child, the
    file's top-level functions (for "did you mean ...?") and the total wall time."""

    outcomes: tuple[CallOutcome, ...]
    isolation: Isolation
    functions: tuple[str, ...] = ()
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# the fork server (parent side)

_BOOTSTRAP = (
    "import sys;sys.path.append(sys.argv[2]);import importlib.util as u;"
    "s=u.spec_from_file_location('_quizgen_forkserver',sys.argv[3]);m=u.module_from_spec(s);"
    "sys.modules[s.name]=m;s.loader.exec_module(m);m.serve(int(sys.argv[1]))"
)


class ForkServer:
    """A running fork server; thread-safe. Restarts itself if it dies (e.g. a child killed it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._ctl: socket.socket | None = None
        self.root = False
        self.restarts = -1

    def _start(self) -> None:
        with contextlib.suppress(OSError):  # a submission running as our user (no namespaces
            wire.prctl(wire.PR_SET_DUMPABLE, 0)  # allowed) may not ptrace us or write our memory
        ours, theirs = socket.socketpair()
        numpy_dir = str(Path(np.__file__).resolve().parent.parent)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        cmd = [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-c",
            _BOOTSTRAP,
            str(theirs.fileno()),
            numpy_dir,
            wire.__file__,
        ]
        self._proc = subprocess.Popen(
            cmd,
            pass_fds=[theirs.fileno()],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
            cwd="/",
        )
        theirs.close()
        self._ctl = ours
        try:
            hello, _ = wire.read_frame(ours, deadline=time.monotonic() + _CONTROL_SECONDS)
        except (OSError, EOFError, WireError) as exc:
            self._discard()
            raise SandboxError(f"the sandbox's fork server did not start ({exc})") from None
        self.root = bool(hello.get("root"))
        self.restarts += 1

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return None if self._proc is None else self._proc.pid

    def _discard(self) -> None:
        if self._ctl is not None:
            self._ctl.close()
        if self._proc is not None:
            with contextlib.suppress(OSError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._ctl = self._proc = None

    def request(self, header: dict, blobs: Sequence[bytes] = (), fd: int | None = None) -> dict:
        """Send one request and return the reply, restarting a dead server once."""
        with self._lock:
            for attempt in (0, 1):
                if self._ctl is None:
                    self._start()
                try:
                    if fd is None:
                        self._ctl.sendall(b"N")
                    else:
                        socket.send_fds(self._ctl, [b"F"], [fd])
                    wire.write_frame(self._ctl, header, list(blobs))
                    reply, _ = wire.read_frame(self._ctl, deadline=time.monotonic() + _CONTROL_SECONDS)
                    return reply
                except (OSError, EOFError, WireError):
                    self._discard()
                    if attempt:
                        raise SandboxError("the sandbox's fork server stopped responding") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._discard()


_default: ForkServer | None = None
_default_lock = threading.Lock()


def default_server() -> ForkServer:
    """The process-wide fork server, started on first use and stopped at exit."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ForkServer()
            atexit.register(_default.close)
        return _default


# ---------------------------------------------------------------------------------------------
# one child


def _quizgen_dirs() -> list[str]:
    dirs = []
    for name in ("quizgen", "quizgen.reference", "quizgen.graders", "quizgen.question_bank"):
        try:
            dirs.extend(str(Path(p).resolve()) for p in importlib.import_module(name).__path__)
        except ImportError:
            continue
    return dirs


def _hide_list(extra: Sequence[str]) -> list[str]:
    """Paths to cover in the child, leaving out any that would hide the interpreter or NumPy."""
    needed = [Path(np.__file__).resolve().parent, Path(sysconfig.get_paths()["stdlib"]).resolve()]
    out = []
    for p in [*_quizgen_dirs(), *(str(Path(x).resolve()) for x in extra)]:
        path = Path(p)
        if any(n == path or path in n.parents for n in needed) or p in out:
            continue
        out.append(p)
    return out


def _text(value, cap: int) -> str:
    return value[:cap] if isinstance(value, str) else ""


def _exception_fields(exc) -> dict:
    """Validated exception details from the child (type, message, own frames)."""
    if not isinstance(exc, dict):
        return {"exc_type": "Exception"}
    frames = []
    raw = exc.get("frames")
    for f in raw[:20] if isinstance(raw, list) else []:
        if isinstance(f, list) and len(f) == 3 and type(f[0]) is int:
            frames.append(Frame(f[0], _text(f[1], 100), _text(f[2], 200)))
    exc_type = _text(exc.get("type"), 100) or "Exception"
    message = _text(exc.get("message"), 1000)
    return {
        "exc_type": exc_type,
        "exc_message": message,
        "frames": tuple(frames),
        "error": f"{exc_type}: {message}" if message else exc_type,
    }


#: What a signal that ended the student's process says it did (others: "killed by signal NAME").
#: A time-out or a kill by the grader is reported as such before this; running out of memory is
#: a MemoryError under the address-space limit, so a SIGKILL is never guessed to be one.
_SIGNAL_TEXT = {
    signal.SIGABRT: "your code called abort (SIGABRT)",
    signal.SIGSEGV: "your code crashed with a segmentation fault (SIGSEGV)",
    signal.SIGBUS: "your code crashed with a bus error (SIGBUS)",
    signal.SIGFPE: "your code crashed with an arithmetic fault (SIGFPE)",
    signal.SIGILL: "your code crashed with an illegal instruction (SIGILL)",
}


def _signal_text(number) -> str:
    if type(number) is not int or number not in signal.valid_signals():
        return f"your code was killed by signal {number!r}"
    sig = signal.Signals(number)
    return _SIGNAL_TEXT.get(sig, f"your code was killed by signal {sig.name}")


def _stdout(header: dict, cap: int) -> str:
    text = _text(header.get("stdout"), cap)
    dropped = header.get("dropped")
    if type(dropped) is int and dropped > 0:
        text += f"\n... [{dropped} more characters of output not shown]"
    return text


class _Child:
    """The parent's handle on one sandboxed child."""

    def __init__(
        self, server: ForkServer, source: bytes, name: str, limits: Limits, options: Options
    ) -> None:
        self.server, self.limits = server, limits
        self.workdir = tempfile.mkdtemp(prefix="quizgen-sbx-")
        self.done: set[int] = set()
        self.alive = False
        self.pid = self.uid = None
        self.isolation = Isolation()
        ours, theirs = socket.socketpair()
        self.sock = ours
        request = {
            "op": "spawn",
            "name": name,
            "workdir": self.workdir,
            "limits": limits.to_dict(),
            "options": {
                "drop_user": options.drop_user,
                "private_network": options.private_network,
                "private_tmp": options.private_tmp,
                "allow_unsandboxed": options.allow_unsandboxed,
            },
            "hide": _hide_list(options.hide),
        }
        try:
            reply = server.request(request, fd=theirs.fileno())
        finally:
            theirs.close()
        self.pid, self.uid, self.alive = int(reply["pid"]), int(reply["uid"]), True
        self.generation = server.restarts
        # the source goes to the child alone, never through the fork server: every later child
        # is a fork of the server and would find it in its memory (freed is not wiped)
        with contextlib.suppress(OSError):  # a child that refused or died says so below
            wire.write_frame(ours, {"op": "source"}, [source])
        try:
            ready, _ = wire.read_frame(ours, deadline=time.monotonic() + _SETUP_SECONDS)
        except (OSError, EOFError, WireError) as exc:
            self.close()
            raise SandboxError(f"the sandboxed process did not start ({exc})") from None
        report = ready.get("report") if ready.get("op") == "ready" else None
        report = report if isinstance(report, dict) else {}
        self.isolation = Isolation(
            tuple(_text(a, 200) for a in report.get("applied", []) if isinstance(a, str)),
            tuple((_text(k, 200), _text(v, 300)) for k, v in dict(report.get("unavailable", {})).items()),
        )
        if ready.get("refused"):
            self.close()
            raise Unsandboxed(
                "refusing to run untrusted code without the sandbox's isolation, missing: "
                f"{_text(ready['refused'], 1000)}; run as root, or where unprivileged user namespaces "
                "are allowed, or pass --allow-unsandboxed (Options(allow_unsandboxed=True)) to run it anyway"
            )

    def import_module(self, deadline: float) -> tuple[CallOutcome | None, tuple[str, ...]]:
        """None and the file's functions when the import worked; else the outcome for every call."""
        start = time.monotonic()
        import_deadline = min(deadline, start + self.limits.import_seconds)
        try:
            header, _ = wire.read_frame(self.sock, deadline=import_deadline, max_bytes=0)
        except TimeoutError:
            self.kill()
            why = (
                "the submission's total time limit ran out"
                if import_deadline == deadline
                else f"importing your file took longer than {self.limits.import_seconds:g} s "
                "(code at the top level of your file runs on import)"
            )
            return CallOutcome("timeout", error=why, seconds=time.monotonic() - start), ()
        except (OSError, EOFError, WireError) as exc:
            when = "while your file was being imported"
            ended = self._ended(exc, start, when)
            return ended or CallOutcome("crashed", error=f"the process that started yours died {when}"), ()
        status = header.get("status")
        stdout = _stdout(header, self.limits.output_bytes)
        if header.get("op") != "imported" or status not in ("ok", "syntax_error", "exception", "memory"):
            self.kill()
            return CallOutcome("bad_output", error="the sandbox protocol was broken on import"), ()
        if status == "ok":
            names = header.get("functions")
            names = tuple(_text(n, 100) for n in names[:200]) if isinstance(names, list) else ()
            return None, names
        self.kill()
        fields = _exception_fields(header.get("exc"))
        prefix = {
            "syntax_error": "your file has a syntax error",
            "memory": "your file ran out of memory on import",
        }
        fields["error"] = (
            prefix.get(status, "your file raised an exception on import") + ": " + fields["error"]
        )
        return CallOutcome(status, stdout=stdout, seconds=time.monotonic() - start, **fields), ()

    def call(self, cid: int, call: Call, deadline: float, total_deadline: float) -> CallOutcome | None:
        """The call's outcome, or None when the child was found dead before the call started."""
        blobs: list[bytes] = []
        header = {
            "op": "call",
            "id": cid,
            "function": call.function,
            "args": wire.encode(tuple(call.args), blobs),
            "kwargs": wire.encode(dict(call.kwargs), blobs),
            "select": None if call.select is None else [list(p) for p in call.select],
        }
        start = time.monotonic()
        started = False
        try:
            wire.write_frame(self.sock, header, blobs)
            while True:
                reply, rblobs = wire.read_frame(
                    self.sock, deadline=deadline, max_bytes=int(self.limits.result_mb * 2**20)
                )
                if started or reply.get("op") != "started" or reply.get("id") != cid:
                    break
                started = True
        except TimeoutError:
            self.kill()
            limit = self.limits.call_seconds if call.seconds is None else call.seconds
            why = (
                "not finished when the submission's total time limit ran out"
                if deadline >= total_deadline
                else f"took longer than the limit of {limit:g} s"
            )
            return CallOutcome("timeout", error=why, seconds=time.monotonic() - start)
        except WireError as exc:
            self.kill()
            return CallOutcome(
                "bad_output", error=f"the result could not be read: {exc}", seconds=time.monotonic() - start
            )
        except (OSError, EOFError) as exc:
            if not started:  # it died before this call began (e.g. of the previous call's doing)
                self.kill()
                return None
            return self._ended(exc, start, "during this call")
        seconds = time.monotonic() - start
        status = reply.get("status")
        if reply.get("op") != "result" or reply.get("id") != cid:
            self.kill()
            return CallOutcome("bad_output", error="the sandbox protocol was broken", seconds=seconds)
        self.done.add(cid)
        stdout = _stdout(reply, self.limits.output_bytes)
        if status == "ok":
            try:
                value = wire.decode(reply.get("value"), rblobs)
            except (WireError, RecursionError) as exc:
                return CallOutcome(
                    "bad_output",
                    error=f"the returned value could not be read: {exc}",
                    stdout=stdout,
                    seconds=seconds,
                )
            return CallOutcome("ok", value=value, stdout=stdout, seconds=seconds)
        if status in ("exception", "memory"):
            fields = _exception_fields(reply.get("exc"))
            if status == "memory":
                fields["error"] = (
                    f"ran out of memory (limit {self.limits.memory_mb:g} MB): " + fields["error"]
                )
            return CallOutcome(status, stdout=stdout, seconds=seconds, **fields)
        if status == "missing_function":
            return CallOutcome(
                "missing_function", error=f"your file defines no function {call.function}", seconds=seconds
            )
        if status == "bad_output":
            return CallOutcome(
                "bad_output", error=_text(reply.get("error"), 300), stdout=stdout, seconds=seconds
            )
        if status == "bad_input":
            return CallOutcome("skipped", error="not run: " + _text(reply.get("error"), 300), seconds=seconds)
        self.kill()
        return CallOutcome("bad_output", error="the sandbox protocol was broken", seconds=seconds)

    def _ended(self, exc, start: float, when: str) -> CallOutcome | None:
        """The child hung up or died: say how, from its exit status (None: not its own doing)."""
        seconds = time.monotonic() - start
        status = self._wait(0.5)
        self.kill()
        if self.server.restarts != self.generation:  # the fork server died, taking this child along
            return None
        if status.get("signal") == signal.SIGXCPU:
            return CallOutcome(
                "timeout", error=f"used more CPU time than the submission's limit {when}", seconds=seconds
            )
        if "signal" in status:
            return CallOutcome("crashed", error=f"{_signal_text(status['signal'])} {when}", seconds=seconds)
        if "exit" in status:
            return CallOutcome(
                "crashed",
                error=f"the process ended with exit status {status['exit']} {when} "
                "(os._exit, or killing its own process; sys.exit is caught and reported as an exception)",
                seconds=seconds,
            )
        return CallOutcome("crashed", error=f"the process stopped answering {when}", seconds=seconds)

    def _wait(self, timeout: float) -> dict:
        try:
            return self.server.request({"op": "wait", "pid": self.pid, "timeout": timeout})
        except SandboxError:
            return {}

    def kill(self) -> None:
        if not self.alive:
            return
        self.alive = False
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)
        # what it left behind dies with its pid namespace; with a uid of its own and a process
        # limit of 1 it cannot leave anything; else every process of its uid is killed
        if self.server.root and self.limits.processes > 1 and not self.isolation.has("own pid namespace"):
            with contextlib.suppress(SandboxError):
                self.server.request({"op": "sweep", "uid": self.uid})
        self._wait(2.0)

    def close(self) -> None:
        if self.alive:
            with contextlib.suppress(OSError):
                wire.write_frame(self.sock, {"op": "exit"})
        self.kill()
        self.sock.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# running a submission


def _display_name(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "_-." else "_" for c in name)[:80]
    return safe if safe.endswith(".py") and safe not in (".py",) else "submission.py"


def _fill(outcomes: list, start: int, outcome: CallOutcome) -> None:
    for k in range(start, len(outcomes)):
        if outcomes[k] is None:
            outcomes[k] = outcome


class _RunState:
    """The current child of one run, started on demand, and what the first child reported."""

    def __init__(self, server, source, name, limits: Limits, options: Options, total_deadline: float):
        self.args = (server, source, name, limits, options)
        self.limits, self.total_deadline = limits, total_deadline
        self.child: _Child | None = None
        self.isolation: Isolation | None = None
        self.functions: tuple[str, ...] = ()

    def ensure_child(self) -> CallOutcome | None:
        """Start a child if there is none; the import's failure outcome, if it failed."""
        if self.child is not None:
            return None
        self.child = _Child(*self.args)
        self.isolation = self.isolation or self.child.isolation
        failed, names = self.child.import_module(self.total_deadline)
        self.functions = self.functions or names
        if failed is not None:
            self.drop_child()
        return failed

    def drop_child(self) -> None:
        if self.child is not None:
            self.child.close()
            self.child = None

    def _deadline(self, call: Call) -> float:
        seconds = self.limits.call_seconds if call.seconds is None else call.seconds
        return min(time.monotonic() + seconds, self.total_deadline)

    def run_call(self, calls: Sequence[Call], i: int) -> CallOutcome | None:
        """Call i, after replaying the earlier calls it uses that ran in an earlier child."""
        child = self.child
        for j in _closure(calls, i):
            if j in child.done:
                continue
            replay = child.call(j, calls[j], self._deadline(calls[j]), self.total_deadline)
            if replay is None:
                return None
            if replay.status != "ok":
                return CallOutcome(
                    "skipped", error=f"not run: re-running call {j}, whose result it uses, failed"
                )
        return child.call(i, calls[i], self._deadline(calls[i]), self.total_deadline)


def run(
    source_path: str | os.PathLike,
    calls: Sequence[Call],
    limits: Limits = Limits(),
    *,
    options: Options = Options(),
    server: ForkServer | None = None,
    source: bytes | None = None,
) -> SubmissionRun:
    """Run ``calls`` against the student's file in the sandbox; see the module docstring.

    ``source``, when given, is the file's content, read elsewhere (e.g. on the machine that sent
    this work to a cluster): ``source_path`` then only names the file and need not exist here.
    """
    server = server or default_server()
    begin = time.monotonic()
    total_deadline = begin + limits.submission_seconds
    calls = list(calls)
    for i, c in enumerate(calls):
        if any(j >= i for j in c.refs()):
            raise ValueError(f"run: call {i} refers to a call that does not come before it")
    outcomes: list[CallOutcome | None] = [None] * len(calls)
    path = Path(source_path)
    if source is None:
        try:
            source = path.read_bytes()
        except OSError as exc:
            why = f"your file could not be read ({exc.strerror})"
            _fill(outcomes, 0, CallOutcome("syntax_error", error=why))
            return SubmissionRun(tuple(outcomes), Isolation())
    if len(source) > MAX_SOURCE_BYTES:
        _fill(
            outcomes,
            0,
            CallOutcome("syntax_error", error=f"your file is larger than {MAX_SOURCE_BYTES} bytes"),
        )
        return SubmissionRun(tuple(outcomes), Isolation())
    name = _display_name(path.name)
    state = _RunState(server, source, name, limits, options, total_deadline)
    try:
        for i, call in enumerate(calls):
            if time.monotonic() >= total_deadline:
                gone = CallOutcome("timeout", error="not run: the submission's total time limit was used up")
                _fill(outcomes, i, gone)
                break
            blocked = [j for j in call.refs() if outcomes[j].status != "ok"]
            if blocked:
                why = f"not run: it uses the result of call {blocked[0]}, which failed"
                outcomes[i] = CallOutcome("skipped", error=why)
                continue
            for _attempt in range(2):  # once more in a fresh child if the old one was already dead
                failed = state.ensure_child()
                if failed is not None:
                    _fill(outcomes, i, failed)
                    break
                outcomes[i] = state.run_call(calls, i)
                if not state.child.alive:
                    state.drop_child()
                if outcomes[i] is not None:
                    break
            else:
                why = "the process died twice during this call or just before it (did it kill its parent?)"
                outcomes[i] = CallOutcome("crashed", error=why)
            if failed is not None:
                break
    finally:
        state.drop_child()
    _fill(outcomes, 0, CallOutcome("crashed", error="not run"))
    isolation = state.isolation or Isolation()
    return SubmissionRun(tuple(outcomes), isolation, state.functions, time.monotonic() - begin)


def _closure(calls: Sequence[Call], i: int) -> list[int]:
    """The earlier calls that call i depends on, directly or through others, in order."""
    need: set[int] = set()
    stack = list(calls[i].refs())
    while stack:
        j = stack.pop()
        if j not in need:
            need.add(j)
            stack.extend(calls[j].refs())
    return sorted(need)


def preflight(options: Options = Options(), server: ForkServer | None = None) -> Isolation:
    """The isolation a submission would get with ``options``, found by starting one child that
    runs nothing; raises :class:`Unsandboxed` (with the way out) when it would refuse to run
    untrusted code. Commands call this once before grading a class."""
    child = _Child(server or default_server(), b"", "probe.py", Limits(), options)
    child.close()
    return child.isolation


def run_submission(
    source_path: str | os.PathLike,
    calls: Sequence[Call],
    limits: Limits = Limits(),
    *,
    options: Options = Options(),
    server: ForkServer | None = None,
) -> list[CallOutcome]:
    """The outcome of each call, in order (see :func:`run` for the isolation report too)."""
    return list(run(source_path, calls, limits, options=options, server=server).outcomes)
