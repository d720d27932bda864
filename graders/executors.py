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
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from importlib import metadata

from quizgen.errors import QuizgenError

from . import sandbox
from .assignment import Assignment
from .autograde import SubmissionGrade, grade_submission, rejected_grade
from .sandbox import Options

__all__ = [
    "EXECUTORS",
    "ExecutorError",
    "Job",
    "grade_job",
    "run_dask",
    "run_jobs",
    "run_local",
]

#: Seconds to wait for a Dask scheduler to answer, and then for it to have a worker.
CONNECT_SECONDS = 10.0

Progress = Callable[[SubmissionGrade], None]


class ExecutorError(QuizgenError):
    """The executor cannot run at all (unknown name, cluster unreachable or without workers)."""


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
            shared = client.scatter(assignment, broadcast=True)
            futures = client.map(
                _grade_on_worker,
                [job for _, job in remote],
                assignment=shared,
                hidden=hidden,
                options=options,
                pure=False,
            )
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


#: Executors by exact name (the CLI's ``--executor``).
EXECUTORS: dict[str, Callable[..., list[SubmissionGrade]]] = {"local": run_local, "dask": run_dask}


def run_jobs(executor: str, assignment: Assignment, jobs: Sequence[Job], **settings) -> list[SubmissionGrade]:
    """Grade ``jobs`` with the executor named ``executor`` (``settings``: see :func:`run_local`)."""
    try:
        run = EXECUTORS[executor]
    except KeyError:
        raise ExecutorError(f"executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}") from None
    return run(assignment, jobs, **settings)
