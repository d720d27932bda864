"""Collusion flags: improbable sharing under the class's own answers, with a p-value and evidence.

The acceptance test simulates a class of 800 on real bank templates (instances from the engine):
honest students make independent mistakes at a realistic rate, and a few planted copiers take
three or more answers from a classmate's paper."""

import math

import numpy as np
import pytest

from quizgen import engine
from quizgen.graders.analysis import PartRecord
from quizgen.graders.collusion import collusion_flags
from quizgen.models import ANSWER_KINDS, GradeResult, InstancePart, KnownMistake, Status, Tolerance


def rec(
    sid, expected, parsed, *, tid="t", pid="a", kind="real", mistake=None, cf=False, number=1, mistakes=()
):
    right = parsed is not None and _same(parsed, expected)
    status = Status.BLANK if parsed is None else Status.CORRECT if right else Status.INCORRECT
    part = InstancePart(pid, kind, "", expected, Tolerance(), 1.0, tuple(mistakes))
    return PartRecord(
        sid, sid.upper(), number, 1, tid, "T", {}, part, None,
        GradeResult(pid, float(right), 1.0, status, "", mistake, carried_forward=cf), parsed,
    )  # fmt: skip


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b))


def _class(n, parts=("a", "b", "c", "d")):
    """n students, each part's key a distinct real per student, everybody right."""
    return {(f"s{i:03d}", p): 1.0 + i + 0.001 * k + 0.123 for i in range(n) for k, p in enumerate(parts)}


def _records(keys, answers=None, **kw):
    answers = answers or {}
    return [rec(sid, e, answers.get((sid, p), e), pid=p, **kw) for (sid, p), e in keys.items()]


def test_wrong_answers_that_are_a_classmates_keys_on_three_parts_are_flagged_with_evidence():
    keys = _class(200)
    answers = {("s001", p): keys[("s002", p)] for p in "abc"}  # s001 wrote s002's right answers
    (flag,) = collusion_flags(_records(keys, answers))
    assert (flag.student_id, flag.other_id) == ("s001", "s002")
    assert [s.part_id for s in flag.shared] == ["a", "b", "c"]
    assert all((s.how, s.matches, s.classmates) == ("key", 1, 199) for s in flag.shared)
    # three parts each matched by 1 of 199 classmates: p = (1/199)^3, corrected by 200 * 199 pairs
    assert flag.p_value == pytest.approx(199.0**-3, rel=1e-6)
    assert flag.corrected == pytest.approx(200 * 199 * 199.0**-3, rel=1e-6)
    assert flag.evidence[0] == (
        "s001's answer 3.123 to q1.a (t) is s002's right answer for their own variant (right for s001: "
        "2.123); 1 of 199 classmates have this value as key or answer (p = 0.005)"
    )


def test_one_or_two_shared_rare_answers_are_not_enough_in_a_large_class():
    keys = _class(200)
    answers = {("s001", p): keys[("s002", p)] for p in "ab"}
    assert collusion_flags(_records(keys, answers)) == []


def test_the_same_rare_wrong_answers_are_flagged_as_shared_answers():
    keys = _class(300)
    answers = {}
    for k, p in enumerate("abcd"):
        answers[("s010", p)] = answers[("s020", p)] = 77.7 + k  # nobody's key, nobody else's answer
    (flag,) = collusion_flags(_records(keys, answers))
    assert {flag.student_id, flag.other_id} == {"s010", "s020"}
    assert [s.how for s in flag.shared] == ["answer"] * 4
    assert "both answered 77.7 to q1.a (t)" in flag.evidence[0]


def test_off_by_one_integers_that_equal_many_classmates_keys_are_not_evidence():
    # keys are small integers shared by many variants; everybody who is wrong is off by one
    rng = np.random.default_rng(0)
    records = []
    for i in range(400):
        for p in "abcdef":
            key = int(rng.integers(1, 12))
            wrong = rng.random() < 0.4
            records.append(rec(f"s{i:03d}", key, key + 1 if wrong else key, pid=p, kind="integer"))
    assert collusion_flags(records) == []


def test_right_answers_carried_forward_answers_choices_and_blanks_are_not_evidence():
    keys = _class(200)
    base = _records(keys)
    extra = []
    for k, p in enumerate("wxyz"):
        e1, e2 = 500.0 + k, 600.0 + k
        extra += [
            rec("s001", e1, e2, pid=p, cf=True),  # carried forward from s001's own earlier answer
            rec("s002", e2, e2, pid=p),
            rec("s003", "A", "B", pid="ch" + p, kind="choice"),
            rec("s004", "B", "B", pid="ch" + p, kind="choice"),
            rec("s005", 700.0 + k, None, pid=p),
        ]
    assert collusion_flags(base + extra) == []


def test_a_named_mistake_shared_by_students_of_the_same_variant_is_explained():
    # the parts have 40 variants of 5 students each; a tenth of the class makes the named mistake
    records = []
    for i in range(200):
        for k, p in enumerate("abcd"):
            key = 10.0 + (i // 5) + 0.1 * k
            slip = KnownMistake("m", "Halved.", key / 2)
            mistaken = i % 10 == 3 or i in (4, 5)  # s004 and s005 share a variant (group 0..4 is s000..s004)
            records.append(
                rec(f"s{i:03d}", key, key / 2 if mistaken else key, pid=p, mistake="m" if mistaken else None,
                    mistakes=[slip])
            )  # fmt: skip
    assert collusion_flags(records) == []


def test_alpha_outside_0_1_is_refused():
    with pytest.raises(ValueError, match=r"alpha: expected a probability in \(0, 1\], got 0"):
        collusion_flags([], alpha=0)


# ------------------------------------------------------------------------------ a simulated class

TEMPLATES = (
    "conv.receptive_field",
    "conv.single_output",
    "conv.feature_map",
    "pool.maxpool_forward",
    "losses.softmax_batch",
    "activations.derivatives_at_zero",
    "norm.bn_forward_train",
)
N = 800


@pytest.fixture(scope="module")
def papers(builtin_bank):
    """Each student's parts: [(number, template id, InstancePart)], instances from the engine."""
    the_bank = builtin_bank
    built = [
        engine.build_instances(the_bank.get(tid), range(100_000 * k, 100_000 * k + N))
        for k, tid in enumerate(TEMPLATES)
    ]
    return [
        [(k + 1, tid, part) for k, tid in enumerate(TEMPLATES) for part in built[k][i].parts]
        for i in range(N)
    ]


def _random_error(rng, part):
    """A wrong answer not in the catalogue: slips that real classes share naturally."""
    e = np.asarray(part.expected, dtype=np.float64)
    integral = ANSWER_KINDS[part.kind].integral
    kind = int(rng.integers(0, 6))
    if kind == 0:
        wrong = e + (1 if rng.random() < 0.5 else -1)  # off by one
    elif kind == 1:
        wrong = -e  # sign
    elif kind == 2:
        wrong = e * 10.0  # a power of ten
    elif kind == 3:
        wrong = np.zeros_like(e)
    elif kind == 4:
        wrong = e.T if e.ndim == 2 else e[::-1] if e.ndim == 1 else e + 0.5  # transposed, reversed
    else:
        wrong = e * (1.0 + rng.normal(0.0, 0.2, size=e.shape))  # an arithmetic slip
    wrong = (
        np.rint(wrong)
        if integral
        else np.asarray([float(f"{v:.4g}") for v in wrong.reshape(-1)]).reshape(wrong.shape)
    )
    return wrong.tolist()


def _answer(rng, part):
    """(parsed answer, mistake id): right with probability 0.7, else half a named mistake, half a slip."""
    if part.kind == "choice":
        return part.expected, None
    if rng.random() < 0.7:
        return part.expected, None
    known = [m for m in part.mistakes if m.distinguishable and m.value is not None]
    if known and rng.random() < 0.5:
        m = known[int(rng.integers(0, len(known)))]
        return m.value, m.id
    return _random_error(rng, part), None


def _record(sid, number, tid, part, parsed, mistake):
    right = _same(parsed, part.expected)
    status = Status.CORRECT if right else Status.INCORRECT
    return PartRecord(
        sid, sid, number, number, tid, tid, {}, part, None,
        GradeResult(part.id, float(right), part.points, status, "", None if right else mistake), parsed,
    )  # fmt: skip


def _simulate(papers, seed, copies=None):
    """Records of the class; ``copies`` maps copier -> (source, [part index]): the copier writes
    the source's right answers to the source's own variant on those parts."""
    rng = np.random.default_rng(seed)
    answers = [[_answer(rng, part) for _, _, part in paper] for paper in papers]
    for copier, (source, where) in (copies or {}).items():
        for j in where:  # the source had it right; the copier wrote it down
            answers[source][j] = answers[copier][j] = (papers[source][j][2].expected, None)
    return [
        _record(f"s{i:04d}", number, tid, part, *answers[i][j])
        for i, paper in enumerate(papers)
        for j, (number, tid, part) in enumerate(paper)
    ]


def _plants(papers, rng, pairs):
    """``pairs`` copiers -> (source, parts): each copier writes three to five of the source's
    right answers to the source's own variant, on parts where that key is the key of at most
    two students of the class (copying a value that many classmates have as key or answer,
    such as a small integer or all zeros, cannot be told from chance)."""
    held: dict = {}
    for paper in papers:
        for j, (_, _, part) in enumerate(paper):
            k = (j, str(part.expected))
            held[k] = held.get(k, 0) + 1
    students = rng.permutation(len(papers))[: 2 * pairs].tolist()
    copies = {}
    for k in range(pairs):
        copier, source = students[2 * k], students[2 * k + 1]
        parts = [
            j
            for j, (_, _, part) in enumerate(papers[source])
            if part.kind != "choice"
            and held[(j, str(part.expected))] <= 2
            and str(part.expected) != str(papers[copier][j][2].expected)
        ]
        copies[copier] = (source, rng.choice(parts, size=3 + k % 3, replace=False).tolist())
    return copies


def test_an_honest_class_of_800_gets_at_most_one_flag(papers):
    for seed in (1, 2):
        flags = collusion_flags(_simulate(papers, seed))
        assert len(flags) <= 1, [f.evidence for f in flags]


def test_planted_copiers_of_three_or_more_answers_are_all_flagged(papers):
    copies = _plants(papers, np.random.default_rng(7), 12)
    records = _simulate(papers, 3, copies)
    flags = collusion_flags(records)
    flagged = {frozenset((f.student_id, f.other_id)): f for f in flags}
    planted = {frozenset((f"s{c:04d}", f"s{s:04d}")) for c, (s, _) in copies.items()}
    assert planted <= set(flagged), sorted(map(sorted, planted - set(flagged)))
    assert len(set(flagged) - planted) <= 1
    for pair in planted:
        f = flagged[pair]
        assert f.corrected <= 0.05 and len(f.shared) >= 3
        assert math.isclose(f.corrected, min(1.0, f.p_value * N * (N - 1)))
    # the copied answers include the source's right answers to the source's own variant
    assert any(s.how == "key" for pair in planted for s in flagged[pair].shared)
