"""Where a class's submissions are graded: executors in a registry keyed by exact name.

Every executor grades each :class:`Job` with the same plain function, :func:`grade_job`, and
returns the grades in the jobs' order:

- ``"local"``: ``workers`` threads in this process, sharing its fork server.
- ``"dask"``: one task per submission on a Dask cluster (the optional ``distributed`` package,
  ``pip install 'quizgen[dask]'``), at ``scheduler`` or, without one, on a local cluster of
  ``workers`` processes. A task carries the parsed assignment and the file's bytes, so workers
  need no shared filesystem; each worker computes the expected values from the assignment and
  runs the file in its own fork server, and sends back the plain grade.

A task that fails on its worker (e.g. a worker that keeps dying) becomes that submission's
grade with ``error`` set, as when grading fails locally. A cluster that cannot be used at all
(unreachable, no workers, a worker without this quizgen, which could not even read a task) is
an :class:`ExecutorError`, one line for the user.

``quizgen serve`` grades one upload at a time as students send them: :func:`open_grader` gives
a :class:`Grader` by the same executor names, called with one job; the Dask one keeps one
client of the cluster (checked when it is opened, as above) and sends each job as one task, and
a job the cluster cannot grade now (no workers, a worker lost, too slow) is
:class:`Unavailable` rather than a grade, so nothing is recorded and the student can retry.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from importlib import metadata
from typing import Protocol

from quizgen.errors import QuizgenError

from . import sandbox
from .assignment import Assignment
from .autograde import SubmissionGrade, grade_submission, rejected_grade
from .sandbox import Options

__all__ = [
    "EXECUTORS",
    "GRADERS",
    "DaskGrader",
    "ExecutorError",
    "Grader",
    "Job",
    "Unavailable",
    "grade_job",
    "open_grader",
    "run_dask",
    "run_jobs",
    "run_local",
]

#: Seconds to wait for a Dask scheduler to answer, and then for it to have a worker.
CONNECT_SECONDS = 10.0
#: Seconds a single job sent by a :class:`DaskGrader` may take, queueing included (below a
#: reverse proxy's usual 120 s read timeout, so the student gets the message and not a 504).
TASK_SECONDS = 90.0
#: After a failed (re)connection, a :class:`DaskGrader` answers :class:`Unavailable` at once
#: for this many seconds rather than making each waiting upload try again.
RETRY_SECONDS = 15.0

Progress = Callable[[SubmissionGrade], None]


class ExecutorError(QuizgenError):
    """The executor cannot run at all (unknown name, cluster unreachable or without workers)."""


class Unavailable(ExecutorError):
    """A :class:`Grader` could not grade this job now (the cluster is unreachable, has no
    workers, lost the task's worker or took too long); nothing was graded, a retry may work."""


@dataclass(frozen=True)
class Job:
    """One submission to grade: whose (``student`` also seeds their hidden cases), the file's
    path as results show it, and its bytes when they were read elsewhere (None: read ``path``
    where it is graded). ``rejected`` says why there is nothing to run (then the file is unused)."""

    student: str
    path: str
    source: bytes | None = None
    rejected: str = ""


def grade_job(
    assignment: Assignment,
    job: Job,
    *,
    hidden: bool = True,
    options: Options | None = None,
    server: sandbox.ForkServer | None = None,
) -> SubmissionGrade:
    """Grade one job in this process (the fork server: ``server`` or this process's own)."""
    if job.rejected:
        return rejected_grade(
            assignment, job.path, job.rejected, variant=job.student, hidden=hidden, student=job.student
        )
    return grade_submission(
        assignment,
        job.path,
        variant=job.student,
        hidden=hidden,
        student=job.student,
        options=options,
        server=server,
        source=job.source,
    )


def _failed(assignment: Assignment, job: Job, why: str) -> SubmissionGrade:
    """The grade of a job whose grading failed outside :func:`grade_job` (score 0, ``error``)."""
    return SubmissionGrade(assignment.id, assignment.title, job.path, (), error=why, student=job.student)


def run_local(
    assignment: Assignment,
    jobs: Sequence[Job],
    *,
    hidden: bool = True,
    options: Options | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[SubmissionGrade]:
    """Grade ``jobs`` in ``workers`` threads of this process; ``progress`` is called (from those
    threads) with each grade as it is done."""
    if scheduler:
        raise ExecutorError("--scheduler applies only to --executor dask")

    def one(job: Job) -> SubmissionGrade:
        grade = grade_job(assignment, job, hidden=hidden, options=options)
        if progress is not None:
            progress(grade)
        return grade

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, jobs))


# ---------------------------------------------------------------------------------------------
# Dask


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ExecutorError(
            "--executor dask needs the distributed package: pip install 'quizgen[dask]'"
        ) from None
    return distributed


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _read_source(path: str) -> bytes | None:
    """The file's bytes, enough of them for the sandbox's size check; None if it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(sandbox.MAX_SOURCE_BYTES + 1)
    except OSError:
        return None


def _grade_on_worker(job: Job, *, assignment: Assignment, hidden: bool, options: Options) -> SubmissionGrade:
    """A Dask task: grade one job in the worker's process, hiding the worker's own scratch
    folder (where it may spill other tasks' data, other students' files included) too."""
    from distributed import get_worker

    scratch = os.path.abspath(get_worker().local_directory)
    return grade_job(assignment, job, hidden=hidden, options=replace(options, hide=(*options.hide, scratch)))


def _submit(client, assignment: Assignment, jobs: Sequence[Job], *, hidden: bool, options: Options) -> list:
    """One task per job on ``client``'s cluster (Dask futures, in the jobs' order); with
    several jobs the assignment is sent to every worker once rather than with each task."""
    shared = client.scatter(assignment, broadcast=True) if len(jobs) > 1 else assignment
    return client.map(
        _grade_on_worker, list(jobs), assignment=shared, hidden=hidden, options=options, pure=False
    )


def _connect(distributed, scheduler: str | None, workers: int):
    """A client of the cluster at ``scheduler`` (which must have a worker), or of a new local
    cluster of ``workers`` processes; and that cluster, to close (None for a remote one)."""
    cluster = None
    where = f"the Dask scheduler at {scheduler}"
    if scheduler:
        # checked first: a client that fails on a malformed address hangs for 20 s when collected
        try:
            distributed.comm.resolve_address(scheduler)
        except (OSError, ValueError) as exc:
            raise ExecutorError(
                f"--scheduler {scheduler}: not a Dask scheduler address that resolves ({_one_line(exc)}); "
                "expected e.g. tcp://10.0.0.5:8786"
            ) from None
    try:
        if scheduler:
            client = distributed.Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
        else:
            where = "a local Dask cluster"
            cluster = distributed.LocalCluster(
                n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = distributed.Client(cluster, set_as_default=False)
    except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a local cluster did not start
        if cluster is not None:
            cluster.close()
        verb = "cannot reach" if scheduler else "cannot start"
        raise ExecutorError(f"{verb} {where}: {_one_line(exc)}") from None
    try:
        try:
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError):
            hint = f"; start some with: dask worker {scheduler}" if scheduler else ""
            raise ExecutorError(f"{where} has no workers after {CONNECT_SECONDS:g} s{hint}") from None
        _check_workers(client)
    except BaseException:
        client.close()
        if cluster is not None:
            cluster.close()
        raise
    return client, cluster


def _quizgen_version() -> str | None:
    try:
        return metadata.version("quizgen")
    except metadata.PackageNotFoundError:
        return None


def _check_workers(client) -> None:
    """Every worker must have this quizgen: a worker without it cannot even read a task (the
    task then waits forever), and another version may compute other expected values."""
    here = _quizgen_version()
    workers = client.get_versions(check=False, packages=["quizgen"]).get("workers", {})
    for address, info in sorted(workers.items()):
        there = (info.get("packages") or {}).get("quizgen")
        if there != here:
            has = f"quizgen {there}" if there else "no quizgen"
            raise ExecutorError(
                f"the Dask worker at {address} has {has} and this is quizgen {here}: "
                "install the same quizgen on every worker (pip install 'quizgen[dask]')"
            )


def run_dask(
    assignment: Assignment,
    jobs: Sequence[Job],
    *,
    hidden: bool = True,
    options: Options | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[SubmissionGrade]:
    """Grade ``jobs`` on the Dask cluster at ``scheduler`` (without one: a local cluster of
    ``workers`` processes, one thread each); ``progress`` is called here with each grade as it
    arrives. A file that cannot be read here is graded here (it fails at once, running nothing)."""
    distributed = _import_distributed()
    options = options or Options()
    jobs = list(jobs)
    grades: list[SubmissionGrade | None] = [None] * len(jobs)
    remote: list[tuple[int, Job]] = []
    for i, job in enumerate(jobs):
        if not job.rejected and job.source is None:
            job = replace(job, source=_read_source(job.path))
            if job.source is None:  # it fails at once, as it would in the local executor
                grades[i] = grade_job(assignment, job, hidden=hidden, options=options)
                if progress is not None:
                    progress(grades[i])
                continue
        remote.append((i, job))
    if remote:
        client, cluster = _connect(distributed, scheduler, workers)
        try:
            futures = _submit(client, assignment, [job for _, job in remote], hidden=hidden, options=options)
            place = {future.key: k for k, future in enumerate(futures)}
            for future in distributed.as_completed(futures, loop=client.loop):
                i, job = remote[place[future.key]]
                try:
                    grades[i] = future.result()
                except Exception as exc:  # the task failed on its worker: that grade says so
                    grades[i] = _failed(assignment, job, f"the Dask task failed: {_one_line(exc)}")
                if progress is not None:
                    progress(grades[i])
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return grades


# ---------------------------------------------------------------------------------------------
# One job at a time (quizgen serve)


class Grader(Protocol):
    """Grades one job as :func:`grade_job` does, wherever its executor runs it; raises
    :class:`Unavailable` when it cannot grade it now. ``close()`` releases what it holds."""

    def __call__(
        self, assignment: Assignment, job: Job, *, hidden: bool, options: Options
    ) -> SubmissionGrade: ...

    def close(self) -> None: ...


class LocalGrader:
    """Grades in the calling thread, in this process's fork server (``--executor local``)."""

    def __call__(
        self, assignment: Assignment, job: Job, *, hidden: bool, options: Options
    ) -> SubmissionGrade:
        return grade_job(assignment, job, hidden=hidden, options=options)

    def close(self) -> None:
        pass


#: clients a forked process inherited from its parent, kept so that they are never collected
_FORKED_CLIENTS: list = []


class DaskGrader:
    """Grades each job as one task on the Dask cluster at ``scheduler`` (``--executor dask``),
    through one client per process, opened on first use (or by :meth:`connect`) and opened
    again after the cluster went away. Safe to call from several threads at once; a copy in
    another process (pickled or forked) opens its own client.

    A job takes at most :data:`TASK_SECONDS`, queueing included; a job the cluster cannot grade
    (unreachable, no workers, its worker lost for good, too slow) raises :class:`Unavailable`
    with the reason, and the task is cancelled."""

    def __init__(self, scheduler: str) -> None:
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._client = None
        self._pid = 0
        self._failed: tuple[float, str] | None = None  # (when, why) of the last failed connection

    def __getstate__(self) -> dict:
        return {"scheduler": self.scheduler}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["scheduler"])

    def connect(self) -> None:
        """Open this process's client now: :class:`ExecutorError` if the cluster cannot be used
        (unreachable, no workers, a worker without this quizgen), as ``quizgen autograde`` says."""
        with self._lock:
            self._open()

    def _open(self):
        """This process's client, opened if need be (call with the lock held)."""
        if self._pid != os.getpid():  # a copy made by fork: the client's thread is not here
            if self._client is not None:
                _FORKED_CLIENTS.append(self._client)  # closing (or collecting) it here would hang
            self._client, self._pid = None, os.getpid()
        if self._client is not None and self._client.status in ("running", "connecting"):
            return self._client
        if self._client is not None:  # it gave up on the scheduler: start over
            self._client.close()
            self._client = None
        self._client, _ = _connect(_import_distributed(), self.scheduler, 1)
        return self._client

    def _client_or_unavailable(self):
        with self._lock:
            if self._failed is not None and time.monotonic() - self._failed[0] < RETRY_SECONDS:
                raise Unavailable(self._failed[1])
            try:
                client = self._open()
            except ExecutorError as exc:
                self._failed = (time.monotonic(), str(exc))
                raise Unavailable(str(exc)) from None
            self._failed = None
            return client

    def __call__(
        self, assignment: Assignment, job: Job, *, hidden: bool, options: Options
    ) -> SubmissionGrade:
        client = self._client_or_unavailable()
        where = f"the Dask scheduler at {self.scheduler}"
        future = None
        try:
            if not client.scheduler_info(n_workers=1).get("workers"):
                if client.status != "running":  # its last known state, from before it was lost
                    raise Unavailable(f"lost {where} (the client is {client.status})")
                raise Unavailable(f"{where} has no workers; start some with: dask worker {self.scheduler}")
            (future,) = _submit(client, assignment, [job], hidden=hidden, options=options or Options())
            return future.result(timeout=TASK_SECONDS)
        except Unavailable:
            raise
        except TimeoutError:
            raise Unavailable(f"{where} did not grade {job.path} within {TASK_SECONDS:g} s") from None
        except Exception as exc:  # a worker lost for good (KilledWorker), the scheduler gone, ...
            raise Unavailable(f"{where} could not grade {job.path}: {_one_line(exc)}") from None
        finally:
            if future is not None and not future.done():
                future.cancel()

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            self._client = None


def _open_local(scheduler: str | None) -> Grader:
    if scheduler:
        raise ExecutorError("--scheduler applies only to --executor dask")
    return LocalGrader()


def _open_dask(scheduler: str | None) -> Grader:
    if not scheduler:
        raise ExecutorError(
            "--executor dask needs --scheduler ADDRESS here, a cluster that outlives the server "
            "(start one with: dask scheduler; dask worker ADDRESS)"
        )
    grader = DaskGrader(scheduler)
    grader.connect()
    return grader


#: Graders of one job at a time by executor name (``quizgen serve --executor``), each opened
#: with the ``--scheduler`` given (or None).
GRADERS: dict[str, Callable[[str | None], Grader]] = {"local": _open_local, "dask": _open_dask}


def open_grader(executor: str, scheduler: str | None = None) -> Grader:
    """The grader of one job at a time for the executor named ``executor``, opened and checked:
    :class:`ExecutorError` (one line) if it cannot be used, as :func:`run_jobs` would say."""
    try:
        open_ = GRADERS[executor]
    except KeyError:
        raise ExecutorError(f"executor: expected one of {', '.join(GRADERS)}, got {executor!r}") from None
    return open_(scheduler)


#: Executors by exact name (the CLI's ``--executor``).
EXECUTORS: dict[str, Callable[..., list[SubmissionGrade]]] = {"local": run_local, "dask": run_dask}


def run_jobs(executor: str, assignment: Assignment, jobs: Sequence[Job], **settings) -> list[SubmissionGrade]:
    """Grade ``jobs`` with the executor named ``executor`` (``settings``: see :func:`run_local`)."""
    try:
        run = EXECUTORS[executor]
    except KeyError:
        raise ExecutorError(f"executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}") from None
    return run(assignment, jobs, **settings)
