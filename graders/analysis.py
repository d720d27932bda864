"""Item analysis over a class's graded parts (pure functions, no database); collusion flags
are in :mod:`.collusion`.

Item statistics per template and part (classical test theory):

- ``mean_points`` of ``max_points`` (points differ per exam section, so also the fraction);
- ``difficulty`` p = the mean fractional score (1 = everybody right; higher is easier);
- ``discrimination`` = the corrected item-total correlation: Pearson's r between the part's score
  and the student's total *without this part*, over the students who had the part (None when
  fewer than 3 students or either side does not vary);
- the most common wrong answers (for the text-option kinds by the options' texts, since each
  student's options are shuffled), the known mistakes matched, and the mean score broken down by
  each parameter that takes a few (2 to 8) distinct scalar values, e.g. stride 1 against stride 2.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quizgen.formatting import plain
from quizgen.models import GradeResult, InstancePart, Status
from quizgen.selection import is_selection, option_of, split_letters

__all__ = [
    "ItemStats",
    "ParamBreakdown",
    "PartRecord",
    "StudentTotal",
    "answer_key",
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


def _wrong_key(record: PartRecord) -> str:
    """A wrong answer as text for counting across students. The text-option kinds shuffle
    their options per student, so a letter means a different option on each paper: their
    answers are counted by the options' texts (in the order given for ordering)."""
    part = record.part
    if is_selection(part.kind) and isinstance(record.parsed, str):
        try:
            texts = [option_of(part, x) for x in split_letters(record.parsed)]
        except ValueError:  # a letter that is no option here: graded as a format error anyway
            return record.parsed
        return " | ".join(texts if part.kind == "ordering" else sorted(texts))
    return answer_key(record.parsed)


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
            _wrong_key(r)
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
