"""Grade a student's code file against an assignment: run it in the sandbox, judge every check.

Each check climbs the ladder and stops at the first step that fails, with that step's message:

1. the call itself: an exception (with the traceback trimmed to the student's own code), a
   timeout, running out of memory, a crash, a missing function ("did you mean ...?"), output that
   is not data;
2. None ("a missing return statement?"), or a part of the result that is not there ("expected a
   tuple, got ndarray");
3. type: an array where an array is expected, a number where a number is;
4. dtype: floating point, float64;
5. shape, then values under the tolerance (:func:`quizgen.graders.compare.compare_arrays`: how
   many elements are off, where, the largest error), then which known mistake the values match
   (kernel flipped, gradient transposed, bias correction missing, ...).

A hidden case says that it passed or failed and at which step of the ladder (an exception's type,
a timeout, None, a dtype, a known mistake's feedback), never a number from which its inputs or
expected values follow: no inputs, no expected shape, no size or direction of an error, no
exception message (it may quote inputs), no printed output.
"""

from __future__ import annotations

import builtins
import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from quizgen.models import Status

from . import sandbox
from .assignment import Assignment, Case, CheckPlan, build_cases
from .compare import compare_arrays, match_mistake
from .sandbox import Call, CallOutcome, Frame, Isolation, Missing, Opaque, Options, Ref
from .untrusted import Refused, clean_text, read_submission

__all__ = [
    "HIDDEN_WRONG",
    "CaseGrade",
    "CheckGrade",
    "SubmissionGrade",
    "grade_submission",
    "judge",
    "rejected_grade",
    "run_cases",
]


@dataclass(frozen=True)
class CheckGrade:
    """One check of one case: score in [0, 1], a status, the message, the matched mistake."""

    name: str
    score: float
    status: Status
    message: str
    mistake: str | None = None

    @property
    def correct(self) -> bool:
        return self.status is Status.CORRECT


@dataclass(frozen=True)
class CaseGrade:
    """One case: its points, its checks and the text a student sees."""

    name: str
    test: str
    label: str
    hidden: bool
    points: float
    max_points: float
    checks: tuple[CheckGrade, ...]
    output: str
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(c.correct for c in self.checks)


@dataclass(frozen=True)
class SubmissionGrade:
    """A whole submission. ``error`` is set when grading itself failed, ``rejected`` when the
    submission could not be graded (no single Python file); either way ``cases`` may be empty and
    the score is 0, and writers still produce valid output from it."""

    assignment: str
    title: str
    submission: str
    cases: tuple[CaseGrade, ...]
    seconds: float = 0.0
    isolation: Isolation = field(default_factory=Isolation)
    error: str = ""
    student: str = ""
    rejected: str = ""

    @property
    def score(self) -> float:
        return float(sum(c.points for c in self.cases))

    @property
    def max_score(self) -> float:
        return float(sum(c.max_points for c in self.cases))

    @property
    def passed(self) -> bool:
        return not self.error and not self.rejected and all(c.passed for c in self.cases)


# ---------------------------------------------------------------------------------------------
# the ladder


#: What a wrong hidden check says: pass or fail, never a shape, an error size or a direction
#: from which its expected value (or its hidden inputs) would follow.
HIDDEN_WRONG = "wrong (a hidden case says only whether it passed, not how far off it is)"


#: Exception types a hidden case may name: Python's and NumPy's own. Any other name is the
#: submission's choice (``type("Leak3141", (Exception,), {})``) and could carry a hidden input out.
KNOWN_ERRORS = frozenset(
    {
        n
        for module in (builtins, getattr(np, "exceptions", builtins), np.linalg)
        for n, v in vars(module).items()
        if isinstance(v, type) and issubclass(v, BaseException)
    }
)
#: What a hidden case says of an exception of another type (most likely the submission's own).
OWN_ERROR = "an exception of a type Python and NumPy do not define (a hidden case does not name it)"


def _fail(name: str, message: str, status: Status = Status.INCORRECT) -> CheckGrade:
    return CheckGrade(name, 0.0, status, message)


def _kind(value, hidden: bool = False) -> str:
    """A value's kind as a student would say it; on a hidden case without the parts the
    submission chose (a type's name, a number, a length, a shape), any of which could encode a
    hidden input."""
    if hidden:
        kinds = ((np.ndarray, "a NumPy array"), (bool, "a bool"), ((int, float), "a number"),
                 (tuple, "a tuple"), (list, "a list"), (str, "a text"), (dict, "a dict"))  # fmt: skip
        return next((text for kind, text in kinds if isinstance(value, kind)), "an object")
    if isinstance(value, Opaque):
        return f"a {clean_text(value.type_name, 100)} object"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return f"the number {value!r}" if np.isfinite(value) else f"{value!r}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


def _call_message(outcome: CallOutcome, hidden: bool, functions: Sequence[str]) -> str:
    if outcome.status == "exception":
        head = f"raised {outcome.exc_type}" + (
            "" if hidden or not outcome.exc_message else f": {outcome.exc_message}"
        )
        if outcome.exc_type == "NotImplementedError":
            head += " (not written yet?)"
        trace = outcome.trace(show_message=not hidden)
        return head + ("\n" + trace if outcome.frames else "")
    if outcome.status == "missing_function":
        close = difflib.get_close_matches(outcome.error.rsplit(" ", 1)[-1], functions, n=1)
        return outcome.error + (f"; did you mean {close[0]}?" if close else "")
    if outcome.status == "syntax_error":
        return outcome.error + ("\n" + outcome.trace() if outcome.frames else "")
    if outcome.status == "skipped":
        return "not run: it uses the result of an earlier call in this case, which failed"
    return outcome.error or outcome.status


def judge(
    outcome: CallOutcome, check: CheckPlan, *, hidden: bool = False, functions: Sequence[str] = ()
) -> CheckGrade:
    """Climb the ladder for one check (see the module docstring)."""
    name = check.name
    if outcome.status != "ok":
        status = (
            Status.FORMAT_ERROR
            if outcome.status in ("syntax_error", "missing_function")
            else Status.INCORRECT
        )
        return _fail(name, _call_message(outcome, hidden, functions), status)
    parts = outcome.value
    if not isinstance(parts, tuple) or check.pick >= len(parts):
        return _fail(name, "the result could not be read", Status.FORMAT_ERROR)
    value = parts[check.pick]
    if isinstance(value, Missing):
        reason = "the result does not have the part this check reads" if hidden else value.reason
        return _fail(name, clean_text(reason, 300), Status.FORMAT_ERROR)
    if value is None:
        return _fail(name, "returned None (a missing return statement?)", Status.FORMAT_ERROR)
    expected = np.asarray(check.expected, dtype=np.float64)
    if expected.ndim == 0:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)):
            return _fail(name, f"expected a number, got {_kind(value, hidden)}", Status.FORMAT_ERROR)
    elif not isinstance(value, np.ndarray):
        hint = " (convert it with np.asarray)" if isinstance(value, (list, tuple)) else ""
        shape = "" if hidden else f" of shape {expected.shape}"
        got = _kind(value, hidden)
        return _fail(name, f"expected a NumPy array{shape}, got {got}{hint}", Status.FORMAT_ERROR)
    if isinstance(value, np.ndarray) and value.dtype != np.float64:
        why = "floating-point numbers" if value.dtype.kind != "f" else "float64 (double precision)"
        return _fail(name, f"expected {why}, got an array of dtype {value.dtype}", Status.FORMAT_ERROR)
    comparison = compare_arrays(expected, value, check.tolerance, partial=False, show_values=not hidden)
    if comparison.correct:
        return CheckGrade(name, 1.0, Status.CORRECT, "correct")
    mistake = match_mistake(value, check.mistakes, check.tolerance)
    message = HIDDEN_WRONG if hidden else comparison.message
    message += f"\n  known mistake: {mistake.feedback}" if mistake else ""
    return CheckGrade(name, 0.0, comparison.status, message, mistake.id if mistake else None)


# ---------------------------------------------------------------------------------------------
# running and grading


def _shift(value, offset: int):
    return Ref(value.call + offset, value.path) if isinstance(value, Ref) else value


def _flatten(cases: Sequence[Case]) -> tuple[list[Call], list[int]]:
    """All cases' calls in one list (refs shifted to their place in it) and each case's offset."""
    calls: list[Call] = []
    offsets = []
    for case in cases:
        offsets.append(len(calls))
        for c in case.calls:
            args = tuple(_shift(a, offsets[-1]) for a in c.args)
            kwargs = {k: _shift(v, offsets[-1]) for k, v in c.kwargs.items()}
            calls.append(Call(c.function, args, kwargs, c.select, c.seconds))
    return calls, offsets


def _inputs_line(case: Case) -> str:
    shown = []
    for k, v in case.params.items():
        if isinstance(v, list):
            shape = np.shape(v)
            shown.append(f"{k}: array {shape}" if np.size(v) > 8 else f"{k}={v}")
        else:
            shown.append(f"{k}={v}")
    return "inputs: " + ", ".join(shown)


def _case_output(case: Case, checks: Sequence[CheckGrade], outcomes: Sequence[CallOutcome]) -> str:
    n_ok = sum(c.correct for c in checks)
    lines = [f"{case.name}: {n_ok}/{len(checks)} checks passed"]
    if not case.hidden:
        lines.append("  " + _inputs_line(case) + f" (seed {case.seed})")
    groups: list[tuple[list[str], str]] = []  # checks failing the same way are listed once
    for c in checks:
        if groups and groups[-1][1] == c.message and not c.correct:
            groups[-1][0].append(c.name)
        else:
            groups.append(([c.name], c.message))
    for names, message in groups:
        lines.append(f"  {', '.join(names)}: " + message.replace("\n", "\n    "))
    if n_ok < len(checks) and case.hint and not any(c.mistake for c in checks):
        lines.append(f"  hint: {case.hint}")
    if not case.hidden:
        printed = "".join(o.stdout for o in outcomes).strip()
        if printed:
            lines.append("  your printed output:\n    " + printed.replace("\n", "\n    "))
    return "\n".join(lines)


def blind_outcome(outcome: CallOutcome, functions: Sequence[str]) -> CallOutcome:
    """``outcome`` as a hidden case may show it: no exception message, an exception type only
    when Python or NumPy defines it, and in the traceback only function names the file defines
    at its top level (a function made at run time may be named after a hidden input)."""
    if not outcome.exc_type:
        return outcome
    exc_type = outcome.exc_type if outcome.exc_type in KNOWN_ERRORS else OWN_ERROR
    known = set(functions) | {"<module>", "<lambda>", "<listcomp>", "<dictcomp>", "<genexpr>"}
    frames = tuple(replace(f, function=f.function if f.function in known else "...") for f in outcome.frames)
    return replace(outcome, exc_type=exc_type, exc_message="", frames=frames)


def clean_outcome(outcome: CallOutcome) -> CallOutcome:
    """``outcome`` with every text the submission could have chosen made safe
    (:func:`~quizgen.graders.untrusted.clean_text`): where the child's output enters the results."""
    return replace(
        outcome,
        error=clean_text(outcome.error),
        exc_type=clean_text(outcome.exc_type, 200),
        exc_message=clean_text(outcome.exc_message, 2000),
        frames=tuple(
            Frame(f.line, clean_text(f.function, 200), clean_text(f.code, 400)) for f in outcome.frames
        ),
        stdout=clean_text(outcome.stdout),
    )


def run_cases(
    assignment: Assignment,
    cases: Sequence[Case],
    submission: str | os.PathLike,
    *,
    options: Options | None = None,
    server: sandbox.ForkServer | None = None,
    source: bytes | None = None,
) -> SubmissionGrade:
    """Run every case's calls in one sandboxed run of the submission and grade the results
    (``source``: the file's content when it was read elsewhere, see :func:`sandbox.run`)."""
    calls, offsets = _flatten(cases)
    run = sandbox.run(
        submission, calls, assignment.limits, options=options or Options(), server=server, source=source
    )
    all_outcomes = [clean_outcome(o) for o in run.outcomes]
    functions = tuple(clean_text(f, 200) for f in run.functions)
    graded = []
    for case, offset in zip(cases, offsets, strict=True):
        outcomes = all_outcomes[offset : offset + len(case.calls)]
        if case.hidden:
            outcomes = [blind_outcome(o, functions) for o in outcomes]
        checks = []
        for plan in case.checks:
            checks.append(judge(outcomes[plan.call], plan, hidden=case.hidden, functions=functions))
        if not case.checks:  # a case that only has to run
            checks = [
                CheckGrade("runs", 1.0, Status.CORRECT, "correct")
                if all(o.status == "ok" for o in outcomes)
                else _fail(
                    "runs",
                    _call_message(next(o for o in outcomes if o.status != "ok"), case.hidden, functions),
                )
            ]
        fraction = sum(c.score for c in checks) / len(checks)
        graded.append(
            CaseGrade(
                name=case.name,
                test=case.test,
                label=case.label,
                hidden=case.hidden,
                points=case.points * fraction,
                max_points=case.points,
                checks=tuple(checks),
                output=_case_output(case, checks, outcomes),
                seconds=sum(o.seconds for o in outcomes),
            )
        )
    return SubmissionGrade(
        assignment=assignment.id,
        title=assignment.title,
        submission=clean_text(str(submission), 1000),
        cases=tuple(graded),
        seconds=run.seconds,
        isolation=run.isolation,
    )


def grade_submission(
    assignment: Assignment,
    submission: str | os.PathLike,
    *,
    variant: str = "",
    hidden: bool = True,
    student: str = "",
    options: Options | None = None,
    server: sandbox.ForkServer | None = None,
    source: bytes | None = None,
) -> SubmissionGrade:
    """Grade one file: visible and edge cases, plus (``hidden``) the hidden cases of ``variant``.
    ``source`` is the file's content when it was read elsewhere (``submission`` then only names
    it, in the results); without it the file is read here without following a link
    (:func:`~quizgen.graders.untrusted.read_submission`), and one that is refused (a link, not a
    regular file, too large) is graded as :func:`rejected_grade` with the reason.

    Never raises for anything the submission does; if grading itself fails (the sandbox cannot
    start, a reference call fails), the grade carries ``error`` and a score of 0.
    """
    path = Path(submission)
    student = clean_text(student, 200)
    if source is None:
        try:
            source = read_submission(path)
        except Refused as exc:
            return rejected_grade(assignment, path, str(exc), variant=variant, hidden=hidden, student=student)
    try:
        cases = build_cases(assignment, variant=variant, hidden=hidden)
        grade = run_cases(assignment, cases, path, options=options, server=server, source=source)
    except Exception as exc:  # the grader's own failure must still produce a result to write
        return SubmissionGrade(
            assignment.id,
            assignment.title,
            clean_text(str(path), 1000),
            (),
            error=clean_text(f"{type(exc).__name__}: {exc}"),
            student=student,
        )
    return SubmissionGrade(
        grade.assignment,
        grade.title,
        grade.submission,
        grade.cases,
        grade.seconds,
        grade.isolation,
        "",
        student,
    )


def rejected_grade(
    assignment: Assignment,
    submission: str | os.PathLike,
    reason: str,
    *,
    variant: str = "",
    hidden: bool = True,
    student: str = "",
) -> SubmissionGrade:
    """The grade of a submission that cannot be run at all (e.g. no single Python file): every
    case fails with ``reason``, so the maximum score stays that of the assignment."""
    reason, student = clean_text(reason, 1000), clean_text(student, 200)
    cases = []
    for case in build_cases(assignment, variant=variant, hidden=hidden):
        check = CheckGrade("submission", 0.0, Status.FORMAT_ERROR, reason)
        cases.append(
            CaseGrade(
                case.name,
                case.test,
                case.label,
                case.hidden,
                0.0,
                case.points,
                (check,),
                f"{case.name}: {reason}",
            )
        )
    return SubmissionGrade(
        assignment.id,
        assignment.title,
        clean_text(str(submission), 1000),
        tuple(cases),
        student=student,
        rejected=reason,
    )
