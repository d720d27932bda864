"""Grade typed answers: the ladder blank → format → kind and shape → values → which mistake.

Each rung has its own outcome and message (after PrairieLearn's grader):

1. blank (no response or only spaces): :attr:`Status.BLANK`, score 0;
2. format: an answer :func:`~quizgen.graders.parse.parse_answer` cannot read is
   :attr:`Status.FORMAT_ERROR` (score 0, the parser's message in ``format_error``) and is not
   counted as a wrong answer; so is a choice letter past the last option;
3. kind and shape: the parser enforces the kind (a single number, a vector, a 2-d matrix, ...);
   a shape other than the expected one scores 0 with ``expected shape (2, 3), got shape (3, 2)``;
4. values within the part's tolerance (integer and shape answers are exact; shapes and
   single numbers all-or-nothing; vectors, matrices and tensors earn the fraction of elements
   right when ``partial``, else all-or-nothing);
5. a wrong answer that equals a known mistake of the instance within the tolerance gets that
   mistake's feedback; otherwise the feedback says how far off it is.

:func:`grade_instance` adds error carried forward: a part that depends on earlier parts the
student got wrong is also graded against the reference recomputed from the student's own
earlier answers, and earns ``carry_forward_credit`` when it is right against that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from quizgen.models import ANSWER_KINDS, EXACT, GradeResult, Instance, InstancePart, Status, Tolerance

from . import carry
from .compare import compare_arrays, match_mistake
from .parse import FormatError, parse_answer

__all__ = [
    "LETTERS",
    "GradedPart",
    "grade_instance",
    "grade_instance_detail",
    "grade_part",
    "grade_part_detail",
]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: recompute(overrides: part id -> the student's parsed answer) -> part id -> expected value
#: (or a quizgen.engine.CarriedPipeline, whose details give mistakes and rounding slack).
Recompute = Callable[[dict[str, np.ndarray]], Mapping[str, Any]]


@dataclass(frozen=True)
class GradedPart:
    """A part's grade with the parsed answer (None when blank or unreadable) and whether it
    equals the answer key (``matches_key``: what later parts carry forward when False)."""

    result: GradeResult
    value: np.ndarray | str | None
    matches_key: bool


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _tolerance(part: InstancePart) -> Tolerance:
    return EXACT if ANSWER_KINDS[part.kind].integral else part.tolerance


def _is_blank(response) -> bool:
    return response is None or (isinstance(response, str) and not response.strip())


def _format_error(part: InstancePart, message: str) -> GradedPart:
    """Not graded as wrong: the parser's message kept apart in ``format_error``."""
    feedback = f"Could not read the answer: {message}."
    return GradedPart(
        GradeResult(part.id, 0.0, part.points, Status.FORMAT_ERROR, feedback, format_error=message),
        None,
        False,
    )


def _grade_choice(part: InstancePart, letter: str) -> GradedPart:
    n = len(part.options)
    if n and LETTERS.index(letter) >= n:
        message = (
            f"expected an option letter from A to {LETTERS[n - 1]}; got {letter!r}, which is not an option"
        )
        return _format_error(part, message)
    if letter == str(part.expected).strip().upper():
        return GradedPart(GradeResult(part.id, 1.0, part.points, Status.CORRECT, "Correct."), letter, True)
    mistake = match_mistake(letter, part.mistakes, EXACT)
    feedback = mistake.feedback if mistake else f"Option {letter} is not the answer."
    return GradedPart(
        GradeResult(
            part.id, 0.0, part.points, Status.INCORRECT, feedback, mistake=mistake.id if mistake else None
        ),
        letter,
        False,
    )


def _grade_value(part: InstancePart, value: np.ndarray, expected, partial: bool) -> GradedPart:
    tol = _tolerance(part)
    spec = ANSWER_KINDS[part.kind]
    elementwise = partial and spec.ndim != 0 and part.kind != "shape"
    cmp = compare_arrays(expected, value, tol, partial=elementwise, describe=False)
    if cmp.correct:
        return GradedPart(GradeResult(part.id, 1.0, part.points, cmp.status, "Correct."), value, True)
    mistake = match_mistake(value, part.mistakes, tol)
    if mistake:
        feedback = mistake.feedback
    elif part.kind == "shape" and not cmp.shape_ok:
        want, got = np.asarray(expected).size, value.size
        feedback = f"Expected a shape with {want} dimension{'s' if want != 1 else ''}, got {got}."
    else:
        feedback = _capital(compare_arrays(expected, value, tol, partial=elementwise).message) + "."
    result = GradeResult(
        part.id, cmp.score, part.points, cmp.status, feedback, mistake=mistake.id if mistake else None
    )
    return GradedPart(result, value, False)


def grade_part_detail(
    part: InstancePart, response: str | None, *, partial: bool = True, expected_override=None
) -> GradedPart:
    """:func:`grade_part` with the parsed answer kept (for carrying it forward and for
    statistics of wrong answers)."""
    if _is_blank(response):
        return GradedPart(GradeResult(part.id, 0.0, part.points, Status.BLANK, "No answer."), None, False)
    try:
        value = parse_answer(response, part.kind)
    except FormatError as exc:
        return _format_error(part, exc.message)
    if ANSWER_KINDS[part.kind].choice:
        return _grade_choice(part, value)
    expected = part.expected if expected_override is None else expected_override
    return _grade_value(part, value, expected, partial)


def grade_part(
    part: InstancePart, response: str | None, *, partial: bool = True, expected_override=None
) -> GradeResult:
    """Grade one typed response to one part (the ladder in the module docstring).

    ``expected_override`` replaces ``part.expected`` (error carried forward, a corrected key);
    ``partial`` gives vectors, matrices and tensors per-element credit.
    """
    return grade_part_detail(part, response, partial=partial, expected_override=expected_override).result


def grade_instance(
    instance: Instance,
    responses: Mapping[str, str | None],
    *,
    recompute: Recompute | None = None,
    carry_forward_credit: float = 1.0,
    partial: bool = True,
) -> list[GradeResult]:
    """Grade every part of one instance, in order, with error carried forward.

    ``responses`` maps part id to the typed answer (missing means blank). ``recompute`` receives
    {earlier part id: the student's parsed answer} for the earlier parts in a part's
    ``depends_on`` that the student got wrong, and returns {part id: expected value}; a part
    wrong against the key but right against that earns ``carry_forward_credit`` (in [0, 1])
    and says so in its feedback, with ``carried_forward=True``.
    """
    if not 0.0 <= carry_forward_credit <= 1.0:
        raise ValueError(f"carry_forward_credit: expected a number in [0, 1], got {carry_forward_credit}")
    return [
        g.result for g in grade_instance_detail(instance, responses, recompute, carry_forward_credit, partial)
    ]


def grade_instance_detail(
    instance: Instance,
    responses: Mapping[str, str | None],
    recompute: Recompute | None = None,
    carry_forward_credit: float = 1.0,
    partial: bool = True,
) -> list[GradedPart]:
    """:func:`grade_instance` with each part's parsed answer kept."""
    earlier: dict[str, GradedPart] = {}
    out = []
    for part in instance.parts:
        response = responses.get(part.id)
        graded = grade_part_detail(part, response, partial=partial)
        wrong = graded.result.status in (Status.INCORRECT, Status.PARTIAL)
        if wrong and recompute is not None and part.depends_on and carry_forward_credit > 0:
            carried = carry.carry_forward(
                part, response, graded, earlier, recompute, carry_forward_credit, partial, instance.parts
            )
            graded = carried or graded
        earlier[part.id] = graded
        out.append(graded)
    return out
