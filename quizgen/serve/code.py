"""Code assignments online: a student uploads a .py file or a Jupyter notebook and gets the
feedback ``quizgen check`` gives, from the same sandbox.

A notebook's code cells are joined in order into one module; IPython's own lines (``%magic``,
``!shell``, ``?help``) are commented out, as they are not Python. The upload is graded by
:func:`quizgen.graders.executors.grade_job` on the visible and edge cases (``quizgen check``
without ``--hidden``), in the sandbox's own process with its limits; the student's code never
sees an expected value, and the summary it returns is what ``quizgen check`` prints.

Where it is graded is the server's executor (``ctx.grader``, ``quizgen serve --executor``, the
names of ``quizgen autograde``'s): here, in the request's thread, or as one task on a Dask
cluster, whose worker runs the same function in its own sandbox. A cluster that cannot grade
the upload now (no workers, a worker lost, too slow) records nothing: the student is told to
try again (503) and the reason is logged for the instructor (logger ``quizgen.serve``).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import sqlalchemy as sa

from quizgen.graders import executors, results
from quizgen.graders.sandbox import MAX_SOURCE_BYTES

from . import db
from .service import Ctx, Refused, _stamp

__all__ = ["MAX_UPLOAD", "CodeResult", "last_results", "notebook_code", "submit_code"]

#: The largest upload accepted (bytes): a notebook carries outputs and images beside its code.
MAX_UPLOAD = 2 * MAX_SOURCE_BYTES
_IPYTHON_LINE = re.compile(r"^\s*[%!?]")
_LOG = logging.getLogger("quizgen.serve")
#: grades here when the server was given no executor (``ctx.grader`` None)
_HERE = executors.LocalGrader()


def notebook_code(data: bytes, name: str = "notebook") -> bytes:
    """The code cells of a Jupyter notebook (nbformat 4) as one module; :class:`Refused`
    naming the problem when it is not one."""
    try:
        nb = json.loads(data.decode("utf-8"))
        cells = nb["cells"]
        if not isinstance(cells, list):
            raise TypeError
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise Refused(
            f"{name} is not a Jupyter notebook (a JSON file with a list of cells); upload the .ipynb "
            "file itself or a .py file. Nothing was graded."
        ) from None
    out = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        lines = [f"# {line}" if _IPYTHON_LINE.match(line) else line for line in text.splitlines()]
        out.append(f"# cell {i + 1}\n" + "\n".join(lines))
    if not out:
        raise Refused(f"{name} has no code cell; nothing was graded.")
    return ("\n\n".join(out) + "\n").encode("utf-8")


@dataclass(frozen=True)
class CodeResult:
    assignment: str
    filename: str
    score: float
    max_score: float
    summary: str
    at: str


def _source(filename: str, data: bytes) -> bytes:
    if not filename:
        raise Refused("Choose a .py file or a Jupyter notebook (.ipynb) to upload; nothing was graded.")
    if filename.endswith(".ipynb"):
        source = notebook_code(data, filename)
    elif filename.endswith(".py"):
        source = data
    else:
        raise Refused(f"{filename}: upload a .py file or a Jupyter notebook (.ipynb); nothing was graded.")
    if len(source) > MAX_SOURCE_BYTES:
        raise Refused(
            f"{filename}: its code is larger than {MAX_SOURCE_BYTES // 1024} KB; nothing was graded."
        )
    return source


def submit_code(ctx: Ctx, student: str, assignment_id: str, filename: str, data: bytes) -> CodeResult:
    """Grade an upload of ``student`` for ``assignment_id`` as ``quizgen check`` does and
    record it. Slow (the sandbox runs the code): call it off the event loop."""
    assignment = ctx.assignments.get(assignment_id)
    if assignment is None:
        raise Refused(f"There is no code assignment {assignment_id!r}.", 404)
    filename = filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
    source = _source(filename, data)
    job = executors.Job(student, f"{student}/{filename}", source=source)
    try:
        grade = (ctx.grader or _HERE)(assignment, job, hidden=False, options=ctx.sandbox)
    except executors.Unavailable as exc:
        _LOG.warning("upload %s of %s for %s not graded: %s", filename, student, assignment.id, exc)
        raise Refused(
            "Grading is unavailable right now (the grading machines did not answer); try again in a "
            "few minutes. Nothing was graded or recorded.",
            503,
        ) from None
    result = CodeResult(
        assignment.id, filename, grade.score, grade.max_score, results.summary(grade), _stamp(ctx)
    )
    with ctx.engine.begin() as conn:
        conn.execute(
            sa.insert(db.code_attempts).values(
                student=student,
                assignment=assignment.id,
                filename=result.filename,
                score=result.score,
                max_score=result.max_score,
                summary=result.summary,
                at=result.at,
            )
        )
    return result


def last_results(ctx: Ctx, student: str) -> dict[str, CodeResult]:
    """assignment id -> the student's last graded upload."""
    out: dict[str, CodeResult] = {}
    with ctx.reader.connect() as conn:
        rows = conn.execute(
            sa.select(db.code_attempts)
            .where(db.code_attempts.c.student == student)
            .order_by(db.code_attempts.c.id)
        )
        for r in rows:
            out[r.assignment] = CodeResult(r.assignment, r.filename, r.score, r.max_score, r.summary, r.at)
    return out
