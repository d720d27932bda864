"""Error carried forward: grading a part against the key recomputed from the student's own
wrong earlier answers.

A part that depends on earlier parts the student got wrong (``InstancePart.depends_on``) is
graded again against the reference pipeline re-run with the student's values in place of those
parts' (``recompute``); it earns ``carry_forward_credit`` when it is right given them. The
ladder (:mod:`quizgen.graders.numeric`) and the batch path (:mod:`quizgen.graders.batch`) both
call these functions, so the rules live here once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from quizgen.engine import CarriedPipeline, Recomputed
from quizgen.models import Instance, InstancePart, Status

from . import numeric

if TYPE_CHECKING:
    from .numeric import GradedPart, Recompute

__all__ = [
    "ROUNDING_GAIN",
    "CarriedKey",
    "carried_grade",
    "carried_key",
    "carried_keys",
    "carry_forward",
    "grade_carried",
    "memoized",
    "refined_key",
]

_WRONG = (Status.INCORRECT, Status.PARTIAL)


def _part_names(ids) -> str:
    ids = list(ids)
    names = ", ".join(f"({i})" for i in ids)
    return f"part{'s' if len(ids) > 1 else ''} {names}"


#: How much a computation may magnify the relative rounding of its carried inputs before an
#: answer that far from a recomputed value is taken as not a matter of rounding: the slack is
#: worked out only for answers within ROUNDING_GAIN times the carried answers' largest
#: relative margin of the key or a mistake (at 4 significant figures, 1%), because it costs
#: two pipeline runs per carried element.
ROUNDING_GAIN = 20.0


@dataclass(frozen=True)
class CarriedKey:
    """What a part is graded against when earlier parts it depends on were wrong.

    ``overrides``: the student's wrong earlier answers that were carried (part id -> parsed
    value); ``part``: the part with ``expected`` the key recomputed from them, and
    ``mistakes`` its known mistakes made on that same pipeline once :func:`refined_key` has
    worked them out (before that: none, or the part's own when ``recompute`` gives plain
    keys); ``pipeline``: the :class:`~quizgen.engine.CarriedPipeline` they come from, when
    ``recompute`` gives one (what :func:`refined_key` needs)."""

    overrides: Mapping[str, Any]
    part: InstancePart
    pipeline: CarriedPipeline | None = field(default=None, compare=False, repr=False)


def carry_forward(
    part: InstancePart,
    response: str,
    graded: GradedPart,
    earlier: Mapping[str, GradedPart],
    recompute: Recompute,
    credit: float,
    partial: bool,
    parts: Sequence[InstancePart] = (),
) -> GradedPart | None:
    """The grade against the key recomputed from the student's wrong earlier answers, when
    that is better than ``graded`` or names a mistake; else None. ``parts``: the instance's
    parts (their tolerances say how far a carried answer may be rounded)."""
    carried = carried_key(part, earlier, recompute)
    if carried is None:
        return None
    again = numeric.grade_part_detail(carried.part, response, partial=partial)
    if again.result.status is not Status.CORRECT and carried.pipeline is not None:
        refined = refined_key(carried, graded.value, parts)
        if refined is not None:
            again = numeric.grade_part_detail(refined.part, response, partial=partial)
    return carried_grade(graded, again, carried.overrides, credit)


def carried_key(
    part: InstancePart, earlier: Mapping[str, GradedPart], recompute: Recompute
) -> CarriedKey | None:
    """The key of ``part`` recomputed from the student's wrong earlier answers it depends on
    (one ``recompute(overrides)`` call, which a question's parts share), or None when there
    is nothing to carry or the reference rejects those values."""
    overrides = {
        pid: earlier[pid].value
        for pid in part.depends_on
        if pid in earlier and earlier[pid].value is not None and not earlier[pid].matches_key
    }
    if not overrides:
        return None
    try:
        result = recompute(dict(overrides))
        entry = result.get(part.id)
    except (ValueError, ArithmeticError, TypeError, KeyError, IndexError):
        return None  # the reference rejects the student's earlier values: nothing to carry
    if entry is None:
        return None
    if not isinstance(result, CarriedPipeline):
        return CarriedKey(
            overrides, replace(part, expected=entry.key if isinstance(entry, Recomputed) else entry)
        )
    return CarriedKey(overrides, replace(part, expected=entry.key, mistakes=()), result)


def refined_key(carried: CarriedKey, value, parts: Sequence[InstancePart]) -> CarriedKey | None:
    """For an answer (``value``, parsed) that is not right against ``carried``'s key: the part
    with its known mistakes made on the carried pipeline and, when the answer is within reach
    (:data:`ROUNDING_GAIN`) of the key or of a mistake, the key and each mistake moved towards
    the answer by at most their slack: how far each moves while every carried answer moves
    within the rounding its part allowed (its tolerance; ``parts``: the instance's parts). So
    a student who typed an earlier answer rounded as asked, and worked on with the unrounded
    value, loses nothing by it. None when that adds nothing (no mistakes, no slack) or there
    is no pipeline to work them out on."""
    part, overrides, pipeline = carried.part, carried.overrides, carried.pipeline
    if pipeline is None:
        return None
    entry = pipeline.detail(part.id)
    if entry is None:
        return None
    tol = numeric._tolerance(part)
    if isinstance(value, np.ndarray) and not tol.exact and parts:
        margins = _margins(overrides, {p.id: p for p in parts})
        reach = ROUNDING_GAIN * _relative(margins, overrides)
        if margins and _within_reach(value, entry, tol, reach):
            entry = _widened(pipeline.detail(part.id, margins), value)
    if not entry.mistakes and entry.key is carried.part.expected:
        return None  # nothing to add to the grade against the key
    return replace(carried, part=replace(part, expected=entry.key, mistakes=entry.mistakes))


def _relative(margins: Mapping[str, np.ndarray], overrides: Mapping[str, Any]) -> float:
    """The largest margin relative to its carried value."""
    worst = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for pid, margin in margins.items():
            size = np.abs(np.asarray(overrides[pid], dtype=np.float64))
            positive = size > 0
            if positive.all():  # the common case: no zero to step around
                ratio = margin / size
            else:
                ratio = np.where(positive, margin / np.where(positive, size, 1.0), 0.0)
            worst = max(worst, float(np.max(ratio, initial=0.0)))
    return worst


def _within_reach(value: np.ndarray, entry: Recomputed, tol, reach: float) -> bool:
    """Is the answer within ``reach`` (relative to the largest element) of the key or a
    mistake, but not within tolerance of a mistake (which is named as it stands)?"""
    candidates = [entry.key] + [m.value for m in entry.mistakes if m.distinguishable and m.value is not None]
    try:
        c = np.array(candidates, dtype=np.float64)
    except (TypeError, ValueError):  # values of other shapes: the key alone
        c = np.array([entry.key], dtype=np.float64) if np.shape(entry.key) == value.shape else None
    if c is None or c.shape[1:] != value.shape:
        return False
    rows = c.reshape(len(c), -1)
    with np.errstate(invalid="ignore", over="ignore"):
        if len(c) > 1 and np.all(tol.close(c[1:], value[None]).reshape(len(c) - 1, -1), axis=1).any():
            return False
        scale = reach * np.max(np.abs(rows), axis=1, initial=0.0)[:, None]
        near = np.abs(value.reshape(1, -1) - rows) <= np.asarray(tol.margin(rows)) + scale
    return bool(np.all(near, axis=1).any())


def _margins(overrides: Mapping[str, Any], parts: Mapping[str, InstancePart]) -> dict[str, np.ndarray]:
    """part id -> the half-width of the rounding its question allowed around the student's
    value (the part's tolerance margin; none for exact parts), for the carried parts."""
    out = {}
    for pid, given in overrides.items():
        tol = numeric._tolerance(parts[pid])
        if tol.exact:
            continue
        try:
            margin = np.asarray(tol.margin(np.asarray(given, dtype=np.float64)), dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if np.any(margin > 0):
            out[pid] = margin
    return out


def _nearest(value: np.ndarray, center, slack):
    """The point within ``slack`` of ``center`` nearest ``value`` (``center`` when the shapes
    differ or there is no slack), JSON-ready like a key."""
    try:
        c = np.asarray(center, dtype=np.float64)
    except (TypeError, ValueError):
        return center
    if slack is None or c.shape != value.shape or np.shape(slack) != c.shape:
        return center
    s = np.nan_to_num(np.asarray(slack, dtype=np.float64), nan=0.0, posinf=0.0)
    nearest = np.clip(value, c - s, c + s)
    return float(nearest) if nearest.ndim == 0 else nearest.tolist()


def _widened(entry: Recomputed, value: np.ndarray) -> Recomputed:
    """``entry`` with its key and each mistake moved towards ``value`` within their slack."""
    slacks = entry.mistake_slack or (None,) * len(entry.mistakes)
    mistakes = tuple(
        replace(m, value=_nearest(value, m.value, s)) if m.value is not None else m
        for m, s in zip(entry.mistakes, slacks, strict=True)
    )
    return replace(entry, key=_nearest(value, entry.key, entry.slack), mistakes=mistakes)


def carried_grade(
    graded: GradedPart, again: GradedPart, overrides: Mapping[str, Any], credit: float
) -> GradedPart | None:
    """What error carried forward makes of ``graded``, given ``again`` (the same answer graded
    against the carried key), or None to keep ``graded``:

    - right given the carried values: ``credit`` (or the direct score, when that is higher),
      and the feedback says it was carried forward whatever the score;
    - a known mistake made on the carried values: that mistake (rather than any the direct
      grade named), with its score times ``credit``;
    - partly right given them: that score times ``credit``, when it beats the direct score and
      the direct grade named no mistake."""
    direct = graded.result.score
    names = _part_names(overrides)
    full = again.result.status is Status.CORRECT
    if full:
        score = max(credit, direct)
        status = Status.CORRECT if score >= 1.0 else Status.PARTIAL
        feedback = f"Graded with your earlier answer to {names} carried forward: this part is right given it"
        if credit < 1.0:
            feedback += f" ({credit:.0%} credit)"
        feedback += "."
        if direct > credit:
            feedback += f" Your answer earns more against the key itself ({direct:.0%}), which is kept."
        result = replace(
            again.result, score=score, status=status, feedback=feedback, mistake=None, carried_forward=True
        )
        return numeric.GradedPart(result, again.value, False)
    if again.result.mistake is not None:
        score = again.result.score * credit
        result = replace(
            again.result,
            score=score,
            status=Status.PARTIAL if score > 0 else Status.INCORRECT,
            feedback=f"Graded with your earlier answer to {names} carried forward: {again.result.feedback}",
            carried_forward=True,
        )
        return numeric.GradedPart(result, again.value, False)
    score = again.result.score * credit
    if score <= direct or graded.result.mistake is not None:
        return None
    feedback = (
        f"Graded with your earlier answer to {names} carried forward: this part is partly right given it"
        + (f" ({credit:.0%} credit)" if credit < 1.0 else "")
        + ". "
        + again.result.feedback
    )
    result = replace(
        again.result,
        score=score,
        status=Status.PARTIAL,
        feedback=feedback,
        mistake=None,
        carried_forward=True,
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


def carried_keys(
    instance: Instance, graded: list[GradedPart], recompute: Recompute
) -> list[tuple[int, CarriedKey]]:
    """(part index, :class:`CarriedKey`) for each wrong part that depends on wrong earlier
    parts. A part
    graded by error carried forward keeps the parsed answer and stays "not the key", so later
    parts carry the same values whether or not it was: grading the recomputed keys after the
    first pass is what the ladder's part-by-part loop does."""
    out = []
    earlier: dict[str, GradedPart] = {}
    memo = None
    for j, (part, g) in enumerate(zip(instance.parts, graded, strict=True)):
        if part.depends_on and g.result.status in _WRONG:
            memo = memo or memoized(recompute)
            carried = carried_key(part, earlier, memo)
            if carried is not None:
                out.append((j, carried))
        earlier[part.id] = g
    return out


def grade_carried(questions, graded, carry, credit: float, partial: bool, grade_parts) -> None:
    """Error carried forward for the (question, part index, CarriedKey) in ``carry``, as one
    batch against the recomputed keys, then one for the answers still wrong against them, with
    the mistakes made on the carried values (what :func:`carry_forward` does for one answer).
    ``grade_parts`` is :func:`quizgen.graders.batch.grade_parts`; ``graded`` (per question,
    its parts' grades) is updated in place."""
    responses = [questions[q][1].get(c.part.id) for q, _, c in carry]
    again = grade_parts([(c.part, r) for (_, _, c), r in zip(carry, responses, strict=True)], partial=partial)
    refine = []
    for k, ((q, j, c), a) in enumerate(zip(carry, again, strict=True)):
        if a.result.status is not Status.CORRECT and c.pipeline is not None:
            refined = refined_key(c, graded[q][j].value, questions[q][0].parts)
            if refined is not None:
                refine.append((k, refined))
    if refine:
        redone = grade_parts([(r.part, responses[k]) for k, r in refine], partial=partial)
        for (k, _), a in zip(refine, redone, strict=True):
            again[k] = a
    for (q, j, c), a in zip(carry, again, strict=True):
        better = carried_grade(graded[q][j], a, c.overrides, credit)
        if better is not None:
            graded[q][j] = better
