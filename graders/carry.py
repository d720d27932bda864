"""Error carried forward: grading a part against the key recomputed from the student's own
wrong earlier answers.

A part that depends on earlier parts the student got wrong (``InstancePart.depends_on``) is
graded again against the reference pipeline re-run with the student's values in place of those
parts' (``recompute``); it earns ``carry_forward_credit`` when it is right given them. The
ladder (:mod:`quizgen.graders.numeric`) and the batch path (:mod:`quizgen.graders.batch`) both
call these functions, so the rules live here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from quizgen.models import Instance, InstancePart, Status

from . import numeric

if TYPE_CHECKING:
    from .numeric import GradedPart, Recompute

__all__ = ["carried_grade", "carried_key", "carried_keys", "carry_forward", "memoized"]

_WRONG = (Status.INCORRECT, Status.PARTIAL)


def _part_names(ids) -> str:
    ids = list(ids)
    names = ", ".join(f"({i})" for i in ids)
    return f"part{'s' if len(ids) > 1 else ''} {names}"


def carry_forward(
    part: InstancePart,
    response: str,
    graded: GradedPart,
    earlier: Mapping[str, GradedPart],
    recompute: Recompute,
    credit: float,
    partial: bool,
) -> GradedPart | None:
    """The grade against the key recomputed from the student's wrong earlier answers, when
    that is better than ``graded``; else None."""
    carried = carried_key(part, earlier, recompute)
    if carried is None:
        return None
    overrides, expected = carried
    again = numeric.grade_part_detail(part, response, partial=partial, expected_override=expected)
    return carried_grade(graded, again, overrides, credit)


def carried_key(
    part: InstancePart, earlier: Mapping[str, GradedPart], recompute: Recompute
) -> tuple[dict[str, Any], Any] | None:
    """(the student's wrong earlier answers that ``part`` depends on, the key recomputed from
    them), or None when there is nothing to carry or the reference rejects those values."""
    overrides = {
        pid: earlier[pid].value
        for pid in part.depends_on
        if pid in earlier and earlier[pid].value is not None and not earlier[pid].matches_key
    }
    if not overrides:
        return None
    try:
        expected = dict(recompute(dict(overrides))).get(part.id)
    except (ValueError, ArithmeticError, TypeError, KeyError, IndexError):
        return None  # the reference rejects the student's earlier values: nothing to carry
    if expected is None:
        return None
    return overrides, expected


def carried_grade(
    graded: GradedPart, again: GradedPart, overrides: Mapping[str, Any], credit: float
) -> GradedPart | None:
    """``again`` (the answer graded against the recomputed key) with ``credit``, when that beats
    ``graded``; else None."""
    score = again.result.score * credit
    if score <= graded.result.score:
        return None
    full = again.result.status is Status.CORRECT
    status = Status.CORRECT if full and credit >= 1.0 else Status.PARTIAL
    how = "right" if full else "partly right"
    feedback = (
        f"Graded with your earlier answer to {_part_names(overrides)} carried forward: this part is {how} "
        f"given it" + (f" ({credit:.0%} credit)" if credit < 1.0 else "") + "."
    )
    if not full:
        feedback += " " + again.result.feedback
    result = replace(
        again.result, score=score, status=status, feedback=feedback, mistake=None, carried_forward=True
    )
    return numeric.GradedPart(result, again.value, False)


def memoized(recompute: Recompute) -> Recompute:
    """``recompute`` called once per distinct set of carried values."""
    seen: dict = {}

    def key(value):
        if isinstance(value, np.ndarray):
            return (value.dtype.str, value.shape, value.tobytes())
        return ("value", repr(value))

    def call(overrides):
        k = tuple(sorted((pid, key(v)) for pid, v in overrides.items()))
        if k not in seen:
            try:
                seen[k] = (True, recompute(overrides))
            except Exception as exc:
                seen[k] = (False, exc)  # raised again to each caller, which decides
        ok, value = seen[k]
        if not ok:
            raise value
        return value

    return call


def carried_keys(instance: Instance, graded: list[GradedPart], recompute: Recompute) -> list[tuple]:
    """(part index, carried values, recomputed key) for each wrong part that depends on wrong
    earlier parts. A part graded by error carried forward keeps the parsed answer and stays
    "not the key", so later parts carry the same values whether or not it was: grading the
    recomputed keys after the first pass is what the ladder's part-by-part loop does."""
    out = []
    earlier: dict[str, GradedPart] = {}
    memo = None
    for j, (part, g) in enumerate(zip(instance.parts, graded, strict=True)):
        if part.depends_on and g.result.status in _WRONG:
            memo = memo or memoized(recompute)
            carried = carried_key(part, earlier, memo)
            if carried is not None:
                out.append((j, *carried))
        earlier[part.id] = g
    return out
