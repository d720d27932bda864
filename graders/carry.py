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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from quizgen.engine import Recomputed
from quizgen.models import Instance, InstancePart, Status

from . import numeric

if TYPE_CHECKING:
    from .numeric import GradedPart, Recompute

__all__ = ["CarriedKey", "carried_grade", "carried_key", "carried_keys", "carry_forward", "memoized"]

_WRONG = (Status.INCORRECT, Status.PARTIAL)


def _part_names(ids) -> str:
    ids = list(ids)
    names = ", ".join(f"({i})" for i in ids)
    return f"part{'s' if len(ids) > 1 else ''} {names}"


@dataclass(frozen=True)
class CarriedKey:
    """What a part is graded against when earlier parts it depends on were wrong.

    ``overrides``: the student's wrong earlier answers that were carried (part id -> parsed
    value); ``part``: the part with ``expected`` the key recomputed from them and ``mistakes``
    its known mistakes made on that same pipeline (the part's own mistakes when ``recompute``
    gives plain keys)."""

    overrides: Mapping[str, Any]
    part: InstancePart


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
    that is better than ``graded`` or names a mistake ``graded`` did not; else None.
    ``parts``: the instance's parts (their tolerances say how far a carried answer may be
    rounded, see :func:`carried_key`)."""
    carried = carried_key(part, graded, earlier, recompute, parts)
    if carried is None:
        return None
    again = numeric.grade_part_detail(carried.part, response, partial=partial)
    return carried_grade(graded, again, carried.overrides, credit)


def _margins(part_ids, instance_parts: Mapping[str, InstancePart], overrides) -> dict[str, np.ndarray]:
    """part id -> the half-width of the rounding its question allowed around the student's
    value (the part's tolerance margin; 0 for exact parts), for the carried parts that have one."""
    out = {}
    for pid in part_ids:
        tol = numeric._tolerance(instance_parts[pid])
        if tol.exact:
            continue
        try:
            value = np.asarray(overrides[pid], dtype=np.float64)
        except (TypeError, ValueError):
            continue
        margin = np.asarray(tol.margin(value), dtype=np.float64)
        if np.any(margin > 0):
            out[pid] = margin
    return out


def carried_key(
    part: InstancePart,
    graded: GradedPart,
    earlier: Mapping[str, GradedPart],
    recompute: Recompute,
    parts: Sequence[InstancePart] = (),
) -> CarriedKey | None:
    """The key of ``part`` recomputed from the student's wrong earlier answers it depends on,
    or None when there is nothing to carry or the reference rejects those values.

    When ``recompute`` gives :class:`~quizgen.engine.Recomputed` entries, the part's mistakes
    are the recomputed ones, and if the answer (``graded.value``) is not within tolerance of
    the recomputed key, the key is moved towards it by at most the key's slack: how far the
    key moves while each carried answer moves within the rounding its part allowed
    (``parts``: the instance's parts, for their tolerances). So a student who typed an
    earlier answer rounded as asked, and worked on with the unrounded value, is not marked
    down for the difference."""
    overrides = {
        pid: earlier[pid].value
        for pid in part.depends_on
        if pid in earlier and earlier[pid].value is not None and not earlier[pid].matches_key
    }
    if not overrides:
        return None
    try:
        entry = dict(recompute(dict(overrides))).get(part.id)
    except (ValueError, ArithmeticError, TypeError, KeyError, IndexError):
        return None  # the reference rejects the student's earlier values: nothing to carry
    if entry is None:
        return None
    if not isinstance(entry, Recomputed):
        return CarriedKey(overrides, replace(part, expected=entry))
    value = graded.value
    if parts and isinstance(value, np.ndarray) and not numeric._tolerance(part).exact:
        entry = _widened(part, entry, value, recompute, overrides, {p.id: p for p in parts})
    return CarriedKey(overrides, replace(part, expected=entry.key, mistakes=entry.mistakes))


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


def _widened(part: InstancePart, entry: Recomputed, value: np.ndarray, recompute, overrides, parts):
    """``entry``, or when the answer ``value`` is not within tolerance of its key, the key and
    each mistake moved towards the answer by at most their slack: how far each moves while
    the carried answers move within the rounding their parts allowed (their tolerance)."""
    tol = numeric._tolerance(part)
    try:
        k = np.asarray(entry.key, dtype=np.float64)
    except (TypeError, ValueError):
        return entry
    if k.shape != value.shape or not np.all(np.isfinite(value)) or np.all(tol.close(k, value)):
        return entry
    margins = _margins(overrides, parts, overrides)
    if not margins:
        return entry
    try:
        wide = dict(recompute(dict(overrides), margins=margins)).get(part.id)
    except (ValueError, ArithmeticError, TypeError, KeyError, IndexError):
        return entry
    if wide is None:
        return entry
    mistakes = tuple(
        replace(m, value=_nearest(value, m.value, s)) if m.value is not None else m
        for m, s in zip(wide.mistakes, wide.mistake_slack or (None,) * len(wide.mistakes), strict=True)
    )
    return replace(wide, key=_nearest(value, wide.key, wide.slack), mistakes=mistakes)


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

    def call(overrides, **options):
        # options (margins, mistakes) follow from the overrides within one instance
        k = (tuple(sorted((pid, key(v)) for pid, v in overrides.items())), tuple(sorted(options)))
        if k not in seen:
            try:
                seen[k] = (True, recompute(overrides, **options))
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
    parts. A part graded by error carried forward keeps the parsed answer and stays
    "not the key", so later parts carry the same values whether or not it was: grading the
    recomputed keys after the first pass is what the ladder's part-by-part loop does."""
    out = []
    earlier: dict[str, GradedPart] = {}
    memo = None
    for j, (part, g) in enumerate(zip(instance.parts, graded, strict=True)):
        if part.depends_on and g.result.status in _WRONG:
            memo = memo or memoized(recompute)
            carried = carried_key(part, g, earlier, memo, instance.parts)
            if carried is not None:
                out.append((j, carried))
        earlier[part.id] = g
    return out
