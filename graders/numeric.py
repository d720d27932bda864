"""Grade typed answers one at a time: the ladder blank → format → kind and shape → values →
which mistake. One answer is graded as a column of one by :mod:`quizgen.graders.batch`, the one
implementation of these rules (docs/grading.md states them with examples).

Each rung has its own outcome and message (after PrairieLearn's grader):

1. blank (no response or only spaces): :attr:`Status.BLANK`, score 0;
2. format: an answer :func:`~quizgen.graders.parse.parse_answer` cannot read is
   :attr:`Status.FORMAT_ERROR` (score 0, the parser's message in ``format_error``) and is not
   counted as a wrong answer; so is a choice letter past the last option; a number that is not
   whole for an integer part is a wrong answer ("Expected a whole number"), not a format error;
3. kind and shape: the parser enforces the kind (a single number, a vector, a 2-d matrix, ...);
   a shape other than the expected one scores 0 with ``expected shape (2, 3), got shape (3, 2)``;
4. values within the part's tolerance (integer and shape answers are exact; shapes and
   single numbers all-or-nothing; vectors, matrices and tensors, when ``partial``, earn what
   they get right beyond the best trivial answer (:func:`~quizgen.graders.compare.element_scores`:
   all zeros, all equal, sign-flipped or a transposed square matrix earn 0), else all-or-nothing);
5. a wrong answer that equals a known mistake of the instance within the tolerance gets that
   mistake's credit (0 unless the template gives some) and feedback, never per-element credit;
   otherwise the feedback says how far off it is.

:func:`grade_instance` adds error carried forward: a part that depends on earlier parts the
student got wrong is also graded against the reference recomputed from the student's own
earlier answers, and earns ``carry_forward_credit`` when it is right against that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from quizgen.models import (
    ANSWER_KINDS,
    EXACT,
    GradeResult,
    Instance,
    InstancePart,
    Status,
    Tolerance,
    quick_init,
)

from . import carry

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


@quick_init  # one per answer graded
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


def grade_part_detail(
    part: InstancePart, response: str | None, *, partial: bool = True, expected_override=None
) -> GradedPart:
    """:func:`grade_part` with the parsed answer kept (for carrying it forward and for
    statistics of wrong answers): a column of one for :func:`~quizgen.graders.batch.grade_parts`."""
    from .batch import grade_parts  # batch builds on this module's types

    expected = None if expected_override is None else (expected_override,)
    return grade_parts(((part, response),), partial=partial, expected=expected)[0]


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
