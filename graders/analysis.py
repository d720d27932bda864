"""Item analysis and collusion flags over a class's graded parts (pure functions, no database).

Item statistics per template and part (classical test theory):

- ``mean_points`` of ``max_points`` (points differ per exam section, so also the fraction);
- ``difficulty`` p = the mean fractional score (1 = everybody right; higher is easier);
- ``discrimination`` = the corrected item-total correlation: Pearson's r between the part's score
  and the student's total *without this part*, over the students who had the part (None when
  fewer than 3 students or either side does not vary);
- the most common wrong answers, the known mistakes matched, and the mean score broken down by
  each parameter that takes a few (2 to 8) distinct scalar values, e.g. stride 1 against stride 2.

A collusion flag is raised when a student's wrong answer (not a known mistake of their own
variant, not explained by error carried forward, not a choice letter) equals another student's
expected answer within the part's tolerance, that other variant's answer differing from the
student's own; values shared by more than a third of the other variants are not distinctive and
are not flagged. Flags are evidence to look at, not proof.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quizgen.formatting import plain
from quizgen.models import ANSWER_KINDS, EXACT, GradeResult, InstancePart, Status, Tolerance

from .batch import close_rows

__all__ = [
    "CollusionFlag",
    "ItemStats",
    "PairFlags",
    "ParamBreakdown",
    "PartRecord",
    "StudentTotal",
    "collusion_flags",
    "item_analysis",
    "student_totals",
]


@dataclass(frozen=True)
class PartRecord:
    """One student's graded part with everything the reports and statistics need.

    ``result`` is the effective grade (a manual override applied); ``parsed`` the answer as
    read (JSON-ready: number, nested lists or a letter; None when blank or unreadable).
    """

    student_id: str
    name: str
    number: int
    slot: int
    template_id: str
    title: str
    params: Mapping[str, Any]
    part: InstancePart
    response: str | None
    result: GradeResult
    parsed: Any = None
    override_reason: str | None = None

    @property
    def points(self) -> float:
        return self.result.points


@dataclass(frozen=True)
class StudentTotal:
    student_id: str
    name: str
    points: float
    max_points: float
    by_slot: Mapping[int, float]


def student_totals(records: Iterable[PartRecord]) -> list[StudentTotal]:
    """Each student's total and points per exam slot, in first-seen order."""
    points: dict[str, float] = {}
    maxima: dict[str, float] = defaultdict(float)
    slots: dict[str, dict[int, float]] = {}
    names: dict[str, str] = {}
    for r in records:
        names.setdefault(r.student_id, r.name)
        points[r.student_id] = points.get(r.student_id, 0.0) + r.points
        maxima[r.student_id] += r.part.points
        by = slots.setdefault(r.student_id, {})
        by[r.slot] = by.get(r.slot, 0.0) + r.points
    return [StudentTotal(s, names[s], points[s], maxima[s], dict(sorted(slots[s].items()))) for s in points]


@dataclass(frozen=True)
class ParamBreakdown:
    """Mean score per value of one parameter: (value as text, n, mean score)."""

    name: str
    values: tuple[tuple[str, int, float], ...]


@dataclass(frozen=True)
class ItemStats:
    template_id: str
    part_id: str
    title: str
    kind: str
    n: int
    mean_points: float
    max_points: float
    difficulty: float
    full_credit: float
    discrimination: float | None
    blank: float
    format_errors: float
    common_wrong: tuple[tuple[str, int], ...]
    mistakes: tuple[tuple[str, str, int], ...]  # (mistake id, feedback, count)
    by_param: tuple[ParamBreakdown, ...]


def _pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    if len(x) < 3:
        return None
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    a, b = a - a.mean(), b - b.mean()
    denom = math.sqrt(float(a @ a) * float(b @ b))
    if denom <= 1e-12:
        return None
    return float(a @ b) / denom


def answer_key(value) -> str:
    """A wrong answer as text for counting: numbers to 4 significant figures, letters as is."""
    if isinstance(value, str):
        return value
    try:
        return plain(value, sig=4)
    except (TypeError, ValueError):
        return str(value)


def _scalar_param(value) -> bool:
    return isinstance(value, (bool, int, float, str)) and not (isinstance(value, float) and math.isnan(value))


def _by_param(group: Sequence[PartRecord]) -> tuple[ParamBreakdown, ...]:
    names = sorted({k for r in group for k in r.params})
    out = []
    for name in names:
        values = [r.params.get(name) for r in group]
        if not all(_scalar_param(v) for v in values):
            continue
        distinct = sorted(set(values), key=lambda v: (str(type(v)), v))
        if not 2 <= len(distinct) <= 8:
            continue
        rows = []
        for v in distinct:
            scores = [r.result.score for r in group if r.params.get(name) == v]
            rows.append((answer_key(v) if not isinstance(v, str) else v, len(scores), float(np.mean(scores))))
        out.append(ParamBreakdown(name, tuple(rows)))
    return tuple(out)


def item_analysis(records: Sequence[PartRecord], *, top: int = 3) -> list[ItemStats]:
    """Statistics per (template id, part id), in order of first appearance."""
    totals = {t.student_id: t.points for t in student_totals(records)}
    groups: dict[tuple[str, str], list[PartRecord]] = defaultdict(list)
    for r in records:
        groups[(r.template_id, r.part.id)].append(r)
    out = []
    for (tid, pid), group in groups.items():
        scores = [r.result.score for r in group]
        rest = [totals[r.student_id] - r.points for r in group]
        wrong = Counter(
            answer_key(r.parsed)
            for r in group
            if r.result.status in (Status.INCORRECT, Status.PARTIAL) and r.parsed is not None
        )
        feedback = {m.id: m.feedback for r in group for m in r.part.mistakes}
        mistakes = Counter(r.result.mistake for r in group if r.result.mistake)
        n = len(group)
        out.append(
            ItemStats(
                template_id=tid,
                part_id=pid,
                title=group[0].title,
                kind=group[0].part.kind,
                n=n,
                mean_points=float(np.mean([r.points for r in group])),
                max_points=float(np.mean([r.part.points for r in group])),
                difficulty=float(np.mean(scores)),
                full_credit=sum(r.result.status is Status.CORRECT for r in group) / n,
                discrimination=_pearson(scores, rest),
                blank=sum(r.result.status is Status.BLANK for r in group) / n,
                format_errors=sum(r.result.status is Status.FORMAT_ERROR for r in group) / n,
                common_wrong=tuple(wrong.most_common(top)),
                mistakes=tuple((m, feedback.get(m, ""), c) for m, c in mistakes.most_common()),
                by_param=_by_param(group),
            )
        )
    return out


# --------------------------------------------------------------------------------- collusion


@dataclass(frozen=True)
class CollusionFlag:
    """``student_id``'s answer equals ``other_id``'s expected answer (not their own)."""

    student_id: str
    other_id: str
    template_id: str
    part_id: str
    number: int
    other_number: int
    evidence: str


@dataclass(frozen=True)
class PairFlags:
    """All flags of one (student, other) pair, most matches first in the list of pairs."""

    student_id: str
    other_id: str
    flags: tuple[CollusionFlag, ...]


def _tolerance(part: InstancePart) -> Tolerance:
    return EXACT if ANSWER_KINDS[part.kind].integral else part.tolerance


def _as_array(value) -> np.ndarray | None:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def collusion_flags(records: Sequence[PartRecord]) -> list[PairFlags]:
    """Pairs of students where one's wrong answers match the other's variant (rules above).

    The wrong answers to a part are compared with all variants of their shape in a few array
    operations (:func:`~quizgen.graders.batch.close_rows`), not pair by pair."""
    groups: dict[tuple[str, str], list[tuple[PartRecord, np.ndarray]]] = defaultdict(list)
    for r in records:
        if ANSWER_KINDS[r.part.kind].choice:
            continue
        expected = _as_array(r.part.expected)
        if expected is not None:
            groups[(r.template_id, r.part.id)].append((r, expected))
    pairs: dict[tuple[str, str], list[CollusionFlag]] = defaultdict(list)
    for (tid, pid), group in groups.items():
        keys: dict[int, str] = {}  # a record's expected answer as written in evidence
        for r, given, tol, matches in _matches(group):
            answered = _answered_the_same(given, tol, [o for o, _ in matches])
            said, own = answer_key(r.parsed), answer_key(r.part.expected)
            for (o, _), same in zip(matches, answered, strict=True):
                theirs = keys.get(id(o))
                if theirs is None:
                    theirs = keys[id(o)] = answer_key(o.part.expected)
                evidence = (
                    f"{r.student_id}'s answer {said} to q{r.number}.{pid} ({tid}) equals "
                    f"{o.student_id}'s expected answer {theirs}, not their own "
                    f"{own}" + (f"; {o.student_id} answered the same" if same else "")
                )
                pairs[(r.student_id, o.student_id)].append(
                    CollusionFlag(r.student_id, o.student_id, tid, pid, r.number, o.number, evidence)
                )
    out = [PairFlags(a, b, tuple(flags)) for (a, b), flags in pairs.items()]
    out.sort(key=lambda p: (-len(p.flags), p.student_id, p.other_id))
    return out


#: Elements compared at once when matching wrong answers against variants (bounds memory).
_BLOCK = 1 << 21


def _matches(group: list[tuple[PartRecord, np.ndarray]]):
    """(record, its answer, tolerance, [(other record, its expected)]) for each wrong answer in
    ``group`` (one part) that equals other students' variants and not its own, in group order,
    when few enough other variants match to be distinctive."""
    ids = np.array([r.student_id for r, _ in group], dtype=object)
    per_student = Counter(ids.tolist())
    by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for k, (_, e) in enumerate(group):
        by_shape[e.shape].append(k)
    variants = {
        shape: (np.asarray(ks), np.stack([group[k][1] for k in ks])) for shape, ks in by_shape.items()
    }
    asked: dict[tuple, list[int]] = defaultdict(list)  # (shape, tolerance) -> wrong answers
    given: dict[int, np.ndarray] = {}
    for k, (r, _) in enumerate(group):
        if (
            r.parsed is None
            or r.result.status is Status.CORRECT
            or r.result.mistake
            or r.result.carried_forward
            or r.override_reason
        ):
            continue
        g = _as_array(r.parsed)
        if g is not None and g.shape in variants:
            given[k] = g
            asked[(g.shape, _tolerance(r.part))].append(k)
    hits: dict[int, np.ndarray] = {}
    for (shape, tol), ks in asked.items():
        rows, stacked = variants[shape]
        flat = stacked.reshape(len(rows), -1)
        if flat.shape[1] == 0:  # empty arrays: every variant of the shape equals
            first = np.zeros(len(rows))
            near_enough = np.full(len(rows), np.inf)
        else:
            # A variant can only match when its first element does: a loose bound on that (ten
            # times the margin, as sigfigs margins may differ by a power of ten at an edge) picks
            # the few candidates, which are then judged exactly.
            first = flat[:, 0]
            with np.errstate(over="ignore", invalid="ignore"):
                near_enough = 10.0 * np.asarray(tol.margin(first)) * (1 + 1e-6)
        step = max(1, _BLOCK // len(rows))
        for start in range(0, len(ks), step):
            chunk = np.asarray(ks[start : start + step])
            g_first = np.array([given[k].reshape(-1)[0] if given[k].size else 0.0 for k in chunk])
            with np.errstate(invalid="ignore", over="ignore"):
                near = np.abs(g_first[:, None] - first[None, :]) <= near_enough[None, :]
            near &= ids[rows][None, :] != ids[chunk][:, None]
            ci, cj = np.nonzero(near)
            found = np.zeros(len(ci), dtype=bool)
            if len(ci):
                e = stacked[cj]
                g = np.stack([given[k] for k in chunk[ci]])
                found = _all(close_rows(tol, e, g))
                own = np.stack(
                    [group[k][1] if group[k][1].shape == shape else np.full(shape, np.nan) for k in chunk[ci]]
                )
                found &= ~_all(close_rows(tol, own, e))
            bounds = np.searchsorted(ci, np.arange(len(chunk) + 1))  # ci is sorted
            for i, k in enumerate(chunk.tolist()):
                at = slice(bounds[i], bounds[i + 1])
                hits[k] = rows[cj[at][found[at]]]
    for k in sorted(hits):
        r, _ = group[k]
        n_others = len(group) - per_student[r.student_id]
        if 0 < len(hits[k]) <= max(1, n_others // 3):
            yield r, given[k], _tolerance(r.part), [group[j] for j in hits[k]]


def _answered_the_same(given: np.ndarray, tol: Tolerance, others: list[PartRecord]) -> list[bool]:
    """Whether each other student's own answer equals ``given`` within ``tol``."""
    same = [False] * len(others)
    theirs = [(j, a) for j, o in enumerate(others) if o.parsed is not None for a in [_as_array(o.parsed)]]
    alike = [(j, a) for j, a in theirs if a is not None and a.shape == given.shape]
    if alike:
        stacked = np.stack([a for _, a in alike])
        ok = _all(close_rows(tol, np.broadcast_to(given, stacked.shape), stacked))
        for (j, _), v in zip(alike, ok.tolist(), strict=True):
            same[j] = v
    return same


def _all(ok: np.ndarray) -> np.ndarray:
    return ok.reshape(len(ok), -1).all(axis=1)
