"""Collusion flags: pairs of students who share answers the class's own answers make improbable.

What counts as shared, for a student A, a classmate B and one part (a template's part, whatever
printed number it had): A's answer is wrong for A's own variant (not correct, not carried
forward from A's own earlier answer, not a choice letter, not blank) and equals, to 3
significant figures (integers exactly), B's expected answer for B's variant ("B's key") or B's
own answer. How improbable that is comes from the class itself::

    p_j = m_j / (n_j - 1)

where ``n_j`` students had the part and ``m_j`` of A's classmates have A's value as their key or
their answer. That is the chance that a classmate picked at random matches A on the part: a
small integer that is the key of a quarter of the class gives p_j ≈ 0.25; a real number that is
B's key alone gives 1 / (n_j - 1). When A and B had the same variant and B's answer is the same
wrong value, a common slip of that variant explains it as well, so p_j is raised to the larger
of the value's frequency among the other students of that variant and, for a named mistake,
the mistake's rate on the part.

The evidence of a pair is ``S = -Σ log p_j`` over the parts A shares with B whose value is rare
(``m_j`` at most 1% of the class, or 2). Its p-value is the chance that a classmate drawn at random
reaches S with A, each of A's rare parts matching independently with probability p_j (computed
exactly over A's rare parts); the flag is kept when that p-value times the number of ordered
pairs n(n-1) (Bonferroni) is at most ``alpha`` (0.05), so an honest class is expected to get
fewer than ``alpha`` flags. Each direction of a pair is tested; a pair is listed once, with the
direction of the smaller p-value. A flag is evidence to look at, not proof.

Only values shared by at most a few students are ever paired up, through an index from (part,
value) to the students with that key or answer, so the work grows with the pairs that share
something rare, not with n^2.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from quizgen.models import ANSWER_KINDS, Status

from .analysis import PartRecord, answer_key

__all__ = ["CollusionFlag", "SharedAnswer", "collusion_flags"]

#: A shared value is rare when at most this fraction of the class (or 2 students) has it.
RARE_FRACTION = 0.01
#: Resolution of the evidence S in the exact tail computation (nats; rounded conservatively).
_STEP = 0.01


@dataclass(frozen=True)
class SharedAnswer:
    """One part on which ``student``'s wrong answer equals ``other``'s key or answer.

    ``how`` is ``"key"`` (the other student's right answer for their own variant) or ``"answer"``
    (the same wrong answer); ``matches`` classmates of the student have this value as key or
    answer, of ``classmates``; ``rarity`` is the p_j the pair's evidence used."""

    template_id: str
    part_id: str
    number: int
    other_number: int
    value: str
    own_key: str
    how: str
    matches: int
    classmates: int
    rarity: float

    def describe(self, student_id: str, other_id: str) -> str:
        where = f"q{self.number}.{self.part_id} ({self.template_id})"
        if self.how == "key":
            what = f"{student_id}'s answer {self.value} to {where} is {other_id}'s right answer for their own variant"
        else:
            what = f"{student_id} and {other_id} both answered {self.value} to {where}"
        return (
            f"{what} (right for {student_id}: {self.own_key}); {self.matches} of {self.classmates} "
            f"classmates have this value as key or answer (p = {self.rarity:.2g})"
        )


@dataclass(frozen=True)
class CollusionFlag:
    """A pair whose sharing is improbable: ``student_id``'s wrong answers match ``other_id``.

    ``p_value``: the chance that a classmate drawn at random shares this much with the student;
    ``corrected``: ``p_value`` times the number of ordered pairs n(n-1), at most 1."""

    student_id: str
    other_id: str
    p_value: float
    corrected: float
    shared: tuple[SharedAnswer, ...]

    @property
    def evidence(self) -> tuple[str, ...]:
        return tuple(s.describe(self.student_id, self.other_id) for s in self.shared)


def _value_keys(values: Sequence, integral: bool) -> list[bytes | None]:
    """Each value as bytes that are equal exactly when the values agree to 3 significant
    figures (integers: exactly) and in shape; None for a value that is not numeric."""
    out: list[bytes | None] = []
    for v in values:
        if v is None or isinstance(v, str):
            out.append(None)
            continue
        try:
            arr = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            out.append(None)
            continue
        if not np.all(np.isfinite(arr)):
            out.append(None)
            continue
        flat = arr.reshape(-1)
        if integral:
            mant, exp = np.rint(flat), np.zeros(flat.shape)
        else:
            with np.errstate(divide="ignore"):
                exp = np.where(flat == 0, 0.0, np.floor(np.log10(np.abs(flat))))
            mant = np.rint(flat / 10.0 ** (exp - 2))
            over = np.abs(mant) >= 1000  # 9.996 rounds up to 1000 x 10^(e-2): renormalise
            mant, exp = np.where(over, np.rint(mant / 10), mant), np.where(over, exp + 1, exp)
        out.append(
            np.asarray(arr.shape, dtype=np.int64).tobytes()
            + b"|"
            + mant.astype(np.int64).tobytes()
            + exp.astype(np.int64).tobytes()
        )
    return out


@dataclass
class _Rare:
    """A rare wrong value of one student on one part, and who shares it."""

    record: PartRecord
    value: bytes
    p: float
    matches: int
    classmates: int
    same_variant_p: float  # p for a classmate of the same variant with the same wrong answer


def _tail(rares: Sequence[float], observed: float) -> float:
    """P(Σ X_j w_j ≥ observed) with X_j ~ Bernoulli(p_j) independent and w_j = -log p_j, for
    ``rares`` the p_j. Exact on a grid of ``_STEP``: weights rounded up, ``observed`` down."""
    target = math.floor(observed / _STEP + 1e-9)
    if target <= 0:
        return 1.0
    dist = {0: 1.0}
    for p in rares:
        k = math.ceil(-math.log(p) / _STEP - 1e-9)
        nxt: dict[int, float] = defaultdict(float)
        for s, q in dist.items():
            nxt[s] += q * (1.0 - p)
            nxt[min(s + k, target)] += q * p
        dist = nxt
    return min(1.0, dist.get(target, 0.0))


def collusion_flags(records: Sequence[PartRecord], *, alpha: float = 0.05) -> list[CollusionFlag]:
    """The pairs whose shared answers are improbable (rules above), smallest p-value first."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha: expected a probability in (0, 1], got {alpha}")
    items: dict[tuple[str, str], list[PartRecord]] = defaultdict(list)
    for r in records:
        if not ANSWER_KINDS[r.part.kind].choice:
            items[(r.template_id, r.part.id)].append(r)
    n = len({r.student_id for r in records})
    rare_of: dict[str, list[_Rare]] = defaultdict(list)  # student -> rare wrong values
    candidates: dict[tuple[str, str], list[tuple[_Rare, PartRecord, str, bool]]] = defaultdict(list)
    for group in items.values():
        classmates = len(group) - 1
        if classmates < 1:
            continue
        integral = ANSWER_KINDS[group[0].part.kind].integral
        keys = _value_keys([r.part.expected for r in group], integral)
        answers = _value_keys([r.parsed for r in group], integral)
        holders: dict[bytes, set[int]] = defaultdict(set)  # value -> records with it as key or answer
        variant_answers: dict[bytes | None, Counter] = defaultdict(Counter)
        for i, (k, a) in enumerate(zip(keys, answers, strict=True)):
            variant_answers[k][a] += 1
            for v in (k, a):
                if v is not None:
                    holders[v].add(i)
        mistakes = Counter(r.result.mistake for r in group if r.result.mistake)
        limit = max(2, RARE_FRACTION * classmates)
        for i, r in enumerate(group):
            a = answers[i]
            if a is None or a == keys[i] or r.result.status is Status.CORRECT or r.result.carried_forward:
                continue
            others = holders[a] - {i}
            if not others or len(others) > limit:
                continue
            variant = variant_answers[keys[i]]
            same = sum(variant.values()) - 1  # the others of this variant
            rate = (variant[a] - 1) / same if same else 1.0
            if r.result.mistake:
                rate = max(rate, (mistakes[r.result.mistake] - 1) / classmates)
            p = len(others) / classmates
            rare = _Rare(r, a, p, len(others), classmates, max(p, rate))
            rare_of[r.student_id].append(rare)
            for j in sorted(others):
                how = "key" if keys[j] == a else "answer"
                same_variant = keys[j] is not None and keys[j] == keys[i]
                candidates[(r.student_id, group[j].student_id)].append((rare, group[j], how, same_variant))
    by_pair: dict[frozenset, CollusionFlag] = {}
    pairs = max(1, n * (n - 1))
    for (sid, oid), shared in candidates.items():
        observed, out = 0.0, []
        for rare, o, how, same_variant in shared:
            p = rare.same_variant_p if same_variant else rare.p
            observed += -math.log(p)
            out.append(
                SharedAnswer(
                    rare.record.template_id,
                    rare.record.part.id,
                    rare.record.number,
                    o.number,
                    answer_key(rare.record.parsed),
                    answer_key(rare.record.part.expected),
                    how,
                    rare.matches,
                    rare.classmates,
                    p,
                )
            )
        p_value = _tail([x.p for x in rare_of[sid]], observed)
        corrected = min(1.0, p_value * pairs)
        if corrected > alpha:
            continue
        flag = CollusionFlag(
            sid, oid, p_value, corrected, tuple(sorted(out, key=lambda s: (s.rarity, s.number)))
        )
        key = frozenset((sid, oid))
        if key not in by_pair or p_value < by_pair[key].p_value:
            by_pair[key] = flag
    return sorted(by_pair.values(), key=lambda f: (f.p_value, f.student_id, f.other_id))
