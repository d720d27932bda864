"""A simulated class over every template of the bank, graded through the one grading path.

For a few seeds of every template, each part is answered: exactly, rounded as the question asks
(its tolerance), with each known mistake, all zeros, sign-flipped, all equal, transposed and,
for integer parts, a number that is not whole. The rules of docs/grading.md must hold for
every answer: a right answer is accepted; no wrong answer earns full credit; a named mistake
earns its credit (0 by default) and never per-element credit; a trivial array (all zeros, all
equal, sign-flipped, a transposed square matrix) earns 0; typing 0 is never "off by a factor".

The same class with wrong earlier parts (each mistake after a wrong earlier part is named, every
chain consistent with the student's own earlier answers is credited, rounding as asked costs
nothing) is graded over every template in tests/graders/test_carry.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from quizgen import bank, engine
from quizgen.formatting import plain
from quizgen.graders.batch import grade_parts
from quizgen.graders.selection import multi_select_score, ordering_score
from quizgen.models import ANSWER_KINDS, Instance, InstancePart, Status, Tolerance

SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Answer:
    """One simulated answer: what was typed and what the student meant by it."""

    template_id: str
    seed: int
    part: InstancePart
    text: str
    how: str  # "exact", "rounded", "mistake:<id>", "zeros", "flipped", "constant", "transposed", "not whole"
    value: object = None  # the number(s) typed, when numeric


def _rounded_text(part: InstancePart) -> str:
    """The key rounded as the question asks: to its significant figures or decimals, or for a
    relative tolerance r to the figures that keep the rounding within it (r = 1e-2: 3)."""
    tol, e = part.tolerance, np.asarray(part.expected, dtype=np.float64)
    if tol.sigfigs is not None:
        return plain(part.expected, sig=tol.sigfigs)
    if tol.decimals is not None:
        return plain(np.round(e, tol.decimals), sig=15)
    if tol.exact or ANSWER_KINDS[part.kind].integral:
        return plain(part.expected, sig=17)
    return plain(part.expected, sig=max(1, math.ceil(-math.log10(tol.rtol)) + 1))


def _answers(instance: Instance) -> list[Answer]:
    out = []

    def add(part, text, how, value=None):
        out.append(Answer(instance.template_id, instance.seed, part, text, how, value))

    for part in instance.parts:
        if ANSWER_KINDS[part.kind].texts:
            _text_option_answers(part, add)
            continue
        if part.kind == "choice":
            add(part, part.expected, "exact")
            for m in part.mistakes:
                if m.distinguishable:
                    add(part, m.value, f"mistake:{m.id}")
            continue
        e = np.asarray(part.expected, dtype=np.float64)
        add(part, plain(part.expected, sig=12), "exact", e)
        add(part, _rounded_text(part), "rounded", e)
        for m in part.mistakes:
            if m.distinguishable and m.value is not None:
                add(part, plain(m.value, sig=12), f"mistake:{m.id}", np.asarray(m.value, dtype=np.float64))
        if part.kind == "shape":
            continue
        zeros = np.zeros_like(e)
        add(part, plain(zeros, sig=12), "zeros", zeros)
        add(part, plain(-e, sig=12), "flipped", -e)
        if e.ndim:
            constant = np.full_like(e, e.reshape(-1)[np.argmax(np.abs(e.reshape(-1)))])
            add(part, plain(constant, sig=12), "constant", constant)
        if e.ndim == 2 and min(e.shape) >= 2:
            add(part, plain(e.T, sig=12), "transposed", e.T)
        if part.kind == "integer":
            add(part, plain(float(e) + 0.5, sig=15), "not whole")
    return out


def _text_option_answers(part: InstancePart, add) -> None:
    """A text-option part (text choice, true/false, multiple select, ordering): the key as
    given and as a student may also write it (lower case, spaces), each named misconception,
    and the trivial answers of its kind: every option selected (multiple select), the right
    order reversed (ordering). The numeric trivial answers (zeros, sign-flipped, constant,
    transposed, not whole) do not apply to option letters."""
    add(part, part.expected, "exact")
    spaced = ", ".join(part.expected.split(",")).lower()
    if part.kind == "true_false":
        spaced = {"T": "true", "F": "False"}[part.expected]
    add(part, spaced, "rounded")  # "written as the question allows"
    for m in part.mistakes:
        if m.distinguishable:
            add(part, m.value, f"mistake:{m.id}")
    letters = [chr(ord("A") + i) for i in range(len(part.options))]
    if part.kind == "multi_select":
        add(part, ",".join(letters), "everything")
    if part.kind == "ordering":
        add(part, ",".join(reversed(part.expected.split(","))), "reversed")


@pytest.fixture(scope="module")
def the_bank():
    return bank.load_bank()


@pytest.fixture(scope="module")
def graded(the_bank) -> list[tuple[Answer, object]]:
    templates = the_bank.select()
    answers = [a for t in templates for seed in SEEDS for a in _answers(engine.build_instance(t, seed))]
    results = grade_parts([(a.part, a.text) for a in answers])
    return list(zip(answers, results, strict=True))


def _right(part: InstancePart, value) -> bool:
    """Is ``value`` the key within the part's tolerance (exact for whole numbers)?"""
    tol = Tolerance(exact=True) if ANSWER_KINDS[part.kind].integral else part.tolerance
    return value is not None and tol.accepts(np.asarray(part.expected, dtype=np.float64), value)


def _where(a: Answer, g) -> str:
    return f"{a.template_id} seed {a.seed} part {a.part.id} {a.how} {a.text!r}: {g.result}"


def test_the_class_covers_every_template_and_every_kind_of_answer(graded, the_bank):
    templates = {t.id for t in the_bank.select()}
    assert {a.template_id for a, _ in graded} == templates
    hows = {a.how.split(":")[0] for a, _ in graded}
    assert hows == {
        "exact",
        "rounded",
        "mistake",
        "zeros",
        "flipped",
        "constant",
        "transposed",
        "not whole",
        "everything",  # multiple select: every option selected
        "reversed",  # ordering: the right order reversed
    }
    assert sum(a.how.startswith("mistake:") for a, _ in graded) > 300
    assert {a.part.kind for a, _ in graded} >= {"text_choice", "true_false", "multi_select", "ordering"}


def test_every_right_answer_is_accepted_exact_or_rounded_as_asked(graded):
    wrong = [
        _where(a, g)
        for a, g in graded
        if a.how in ("exact", "rounded") and g.result.status is not Status.CORRECT
    ]
    assert wrong == []


def test_no_wrong_answer_earns_full_credit(graded):
    bad = [
        _where(a, g)
        for a, g in graded
        if a.how not in ("exact", "rounded")
        and g.result.score == 1.0
        and not (a.value is not None and _right(a.part, a.value))
    ]
    assert bad == []


def test_a_named_mistake_earns_its_credit_and_is_named(graded):
    checked = 0
    for a, g in graded:
        if not a.how.startswith("mistake:"):
            continue
        m = next(m for m in a.part.mistakes if m.id == a.how.split(":", 1)[1])
        if ANSWER_KINDS[a.part.kind].texts:
            _check_text_option_mistake(a, g, m)
            checked += 1
            continue
        if a.part.kind == "choice":
            same = {k.id for k in a.part.mistakes if k.value == m.value}
        else:
            same = {
                k.id
                for k in a.part.mistakes
                if k.distinguishable and k.value is not None and a.part.tolerance.accepts(k.value, m.value)
            }
        assert g.result.mistake in same, _where(a, g)
        named = next(k for k in a.part.mistakes if k.id == g.result.mistake)
        assert g.result.score == named.credit == 0.0, _where(a, g)  # the bank gives no mistake credit
        assert g.result.status is Status.INCORRECT and g.result.feedback == named.feedback, _where(a, g)
        checked += 1
    assert checked > 300


def _check_text_option_mistake(a: Answer, g, m) -> None:
    """A text-option misconception is named with its feedback; its score is the kind's rule
    (docs/grading.md): the mistake's credit for text choice and true/false, right minus wrong
    for multiple select, (L - 1)/(n - 1) for ordering; never full credit."""
    assert g.result.mistake == m.id and m.feedback in g.result.feedback, _where(a, g)
    expected = a.part.expected.split(",")
    if a.part.kind == "multi_select":
        rule = multi_select_score(set(expected), set(m.value.split(",")), len(a.part.options))
    elif a.part.kind == "ordering":
        rule = ordering_score(expected, m.value.split(","))
    else:
        rule = m.credit
    assert g.result.score == pytest.approx(rule) and g.result.score < 1.0, _where(a, g)


def test_a_trivial_selection_earns_nothing(graded):
    """Every option selected (multiple select) and the reversed order (ordering) score 0."""
    seen = [(a, g) for a, g in graded if a.how in ("everything", "reversed")]
    assert seen and all(g.result.score == 0.0 for _, g in seen), [
        _where(a, g) for a, g in seen if g.result.score
    ]


@pytest.mark.parametrize("how", ["zeros", "flipped", "constant", "transposed"])
def test_a_trivial_answer_earns_nothing_unless_it_is_the_key(graded, how):
    seen = 0
    for a, g in graded:
        if a.how != how or _right(a.part, a.value):
            continue
        seen += 1
        assert g.result.score == 0.0 and g.result.status is Status.INCORRECT, _where(a, g)
        if how == "transposed" and g.result.mistake is None:
            assert "transpose of the right one" in g.result.feedback, _where(a, g)
    assert seen > 10


def test_typing_zero_is_never_off_by_a_power_of_ten_or_flipped(graded):
    bad = [
        _where(a, g)
        for a, g in graded
        if a.how == "zeros"
        and g.result.mistake is None
        and ("factor of 10" in g.result.feedback or "sign is flipped" in g.result.feedback)
    ]
    assert bad == []


def test_a_number_that_is_not_whole_for_an_integer_part_is_a_wrong_answer(graded):
    seen = [(a, g) for a, g in graded if a.how == "not whole"]
    assert len(seen) > 20
    for a, g in seen:
        assert g.result.status is Status.INCORRECT and g.result.format_error is None, _where(a, g)
        assert g.result.feedback.startswith("Expected a whole number"), _where(a, g)


@pytest.mark.parametrize("seed", range(6))
def test_the_issues_examples_maxpool_backward_and_relu_kink_earn_nothing_for_trivial_or_named_answers(
    the_bank, seed
):
    pool = engine.build_instance(the_bank.get("pool.maxpool_backward"), seed).part("b")
    relu = engine.build_instance(the_bank.get("activations.relu_kink"), seed).part("b")
    key = np.asarray(pool.expected, dtype=np.float64)
    texts = [plain(np.zeros_like(key)), plain(-key), plain(np.full_like(key, key.max()))]
    texts += [plain(m.value, sig=12) for m in (*pool.mistakes, *relu.mistakes) if m.distinguishable]
    items = [(pool, t) for t in texts[:3]] + [(pool, t) for t in texts[3 : 3 + len(pool.mistakes)]]
    items += [(relu, t) for t in texts[3 + len(pool.mistakes) :]]
    for (_, text), g in zip(items, grade_parts(items), strict=True):
        assert g.result.score == 0.0 and g.result.status is Status.INCORRECT, (seed, text, g.result)
    one_off = key.copy()
    one_off[np.unravel_index(np.argmax(np.abs(key)), key.shape)] += 0.5  # one gradient value wrong
    floor = int((key == 0).sum())
    graded = grade_parts([(pool, plain(one_off, sig=12))])[0].result
    assert graded.score == pytest.approx((key.size - 1 - floor) / (key.size - floor))
