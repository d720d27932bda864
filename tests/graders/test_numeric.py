import numpy as np
import pytest

from quizgen.graders.numeric import grade_instance, grade_instance_detail, grade_part
from quizgen.models import Instance, InstancePart, KnownMistake, Status, Tolerance


def part(pid="a", kind="real", expected=0.5, *, points=2.0, mistakes=(), options=(), depends_on=(), tol=None):
    return InstancePart(
        id=pid,
        kind=kind,
        prompt="",
        expected=expected,
        tolerance=tol or Tolerance(),
        points=points,
        mistakes=tuple(mistakes),
        options=tuple(options),
        depends_on=tuple(depends_on),
    )


ADAM = part(
    "m_hat",
    expected=0.5,
    mistakes=[
        KnownMistake("same", "never shown", 0.5, distinguishable=False),
        KnownMistake(
            "no_bias_correction", "This is Adam without bias correction: divide m by 1 - beta1^t.", 0.05
        ),
    ],
)


@pytest.mark.parametrize("response", [None, "", "   \n"])
def test_blank_answers_are_blank_not_wrong(response):
    r = grade_part(ADAM, response)
    assert (r.status, r.score, r.points, r.max_points) == (Status.BLANK, 0.0, 0.0, 2.0)


def test_right_answer_in_any_notation_scores_full():
    for text in ("0.5", "1/2", "5e-1", "50%", "sqrt(1/4)"):
        r = grade_part(ADAM, text)
        assert (r.status, r.score, r.points, r.feedback) == (Status.CORRECT, 1.0, 2.0, "Correct.")


def test_unreadable_answer_is_a_format_error_with_the_parser_message_kept_apart():
    r = grade_part(ADAM, "0.5.1")
    assert r.status is Status.FORMAT_ERROR and r.score == 0.0
    assert r.format_error.startswith("expected a single number such as 0.25")
    assert r.feedback == f"Could not read the answer: {r.format_error}." and r.mistake is None


def test_known_mistake_is_named_in_the_feedback():
    r = grade_part(ADAM, "0.0500")
    assert r.status is Status.INCORRECT and r.score == 0.0
    assert r.mistake == "no_bias_correction"
    assert r.feedback == "This is Adam without bias correction: divide m by 1 - beta1^t."


def test_indistinguishable_mistake_never_names_a_right_answer_and_other_wrong_answers_say_how_far_off():
    assert grade_part(ADAM, "0.5").mistake is None
    r = grade_part(ADAM, "0.6")
    assert r.mistake is None and r.status is Status.INCORRECT
    assert r.feedback.startswith("Too high by 0.1 (0.2 relative); it must be within ±0.005 of the key")


def test_integer_parts_are_exact_whatever_the_tolerance_says():
    p = part(kind="integer", expected=100, tol=Tolerance(rtol=0.1))
    assert grade_part(p, "100").status is Status.CORRECT
    assert grade_part(p, "99").status is Status.INCORRECT
    assert grade_part(p, "99.5").status is Status.FORMAT_ERROR


def test_shapes_are_exact_all_or_nothing_and_count_dimensions():
    p = part(
        kind="shape",
        expected=[4, 4, 10],
        mistakes=[KnownMistake("no_padding", "You forgot the padding.", [2, 2, 10])],
    )
    assert grade_part(p, "4x4x10").status is Status.CORRECT
    assert grade_part(p, "(4, 4, 10)").score == 1.0
    wrong = grade_part(p, "4x4x9")
    assert (wrong.score, wrong.status) == (0.0, Status.INCORRECT)
    assert grade_part(p, "2 x 2 x 10").mistake == "no_padding"
    assert grade_part(p, "4x4").feedback == "Expected a shape with 3 dimensions, got 2."


def test_matrix_partial_credit_per_element_or_all_or_nothing():
    p = part(kind="matrix", expected=[[1.0, 2.0], [3.0, 4.0]])
    r = grade_part(p, "[1 2; 3 5]")
    assert r.status is Status.PARTIAL and r.score == pytest.approx(0.75) and r.points == pytest.approx(1.5)
    assert r.feedback.startswith("1 of 4 element is off (at [1, 1]")
    r = grade_part(p, "[1 2; 3 5]", partial=False)
    assert r.status is Status.INCORRECT and r.score == 0.0


def test_wrong_shape_scores_zero_with_both_shapes():
    p = part(kind="matrix", expected=[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    r = grade_part(p, "[1 4; 2 5; 3 6]")
    assert r.score == 0.0
    assert (
        r.feedback == "Expected shape (2, 3), got shape (3, 2); the answer is the transpose of the right one."
    )


def test_kind_mismatch_is_a_format_error():
    p = part(kind="matrix", expected=[[1.0, 2.0], [3.0, 4.0]])
    r = grade_part(p, "[1, 2, 3, 4]")
    assert r.status is Status.FORMAT_ERROR and "expected a 2-d matrix" in r.format_error


def test_expected_override_replaces_the_key():
    assert grade_part(ADAM, "0.7", expected_override=0.7).status is Status.CORRECT


CHOICE = part(
    "c",
    kind="choice",
    expected="B",
    options=("0.5", "0.05", "5", "0.25"),
    mistakes=[
        KnownMistake("no_bias_correction", "Forgot the bias correction.", "A"),
        KnownMistake("dup", "Same value as the answer.", "B", distinguishable=False),
    ],
)


def test_choice_letters_in_any_case():
    assert grade_part(CHOICE, "(b)").status is Status.CORRECT
    assert grade_part(CHOICE, "b").score == 1.0


def test_choice_of_a_mistakes_option_names_the_mistake():
    r = grade_part(CHOICE, "a")
    assert (r.status, r.mistake, r.feedback) == (
        Status.INCORRECT,
        "no_bias_correction",
        "Forgot the bias correction.",
    )
    r = grade_part(CHOICE, "C")
    assert r.mistake is None and r.feedback == "Option C is not the answer."


def test_choice_past_the_last_option_is_a_format_error():
    r = grade_part(CHOICE, "F")
    assert r.status is Status.FORMAT_ERROR
    assert r.format_error == "expected an option letter from A to D; got 'F', which is not an option"


# ------------------------------------------------------------------------- error carried forward
# A chain: a = 2 * x with x = 3 (so 6), b = a + 1 (7), c = b^2 (49); d is independent (5).


def chain_recompute(calls):
    def recompute(overrides):
        calls.append(dict(overrides))
        a = float(overrides.get("a", 6.0))
        b = float(overrides.get("b", a + 1))
        return {"a": 6.0, "b": a + 1, "c": b**2, "d": 5.0}

    return recompute


CHAIN = Instance(
    template_id="chain",
    seed=1,
    params={"x": 3},
    text="",
    parts=(
        part("a", expected=6.0, mistakes=[KnownMistake("half", "You halved instead of doubling.", 1.5)]),
        part("b", expected=7.0, depends_on=["a"]),
        part(
            "c",
            expected=49.0,
            depends_on=["a", "b"],
            mistakes=[KnownMistake("sq_a", "c is b squared, not a.", 36.0)],
        ),
        part("d", expected=5.0),
    ),
    solution="",
)


def test_right_chain_scores_full_without_recomputing():
    calls = []
    results = grade_instance(
        CHAIN, {"a": "6", "b": "7", "c": "49", "d": "5"}, recompute=chain_recompute(calls)
    )
    assert [r.status for r in results] == [Status.CORRECT] * 4
    assert calls == [] and not any(r.carried_forward for r in results)


def test_later_parts_right_given_a_wrong_earlier_answer_earn_carried_forward_credit():
    calls = []
    # a wrong (1.5: the known mistake), b = 1.5 + 1, c = 2.5^2: right given a; d wrong and independent
    results = grade_instance(
        CHAIN, {"a": "1.5", "b": "2.5", "c": "6.25", "d": "4"}, recompute=chain_recompute(calls)
    )
    a, b, c, d = results
    assert a.mistake == "half" and a.score == 0.0 and not a.carried_forward
    assert b.status is Status.CORRECT and b.score == 1.0 and b.carried_forward
    assert (
        b.feedback
        == "Graded with your earlier answer to part (a) carried forward: this part is right given it."
    )
    assert c.carried_forward and c.score == 1.0 and "parts (a), (b)" in c.feedback
    assert d.status is Status.INCORRECT and not d.carried_forward
    assert calls == [{"a": np.asarray(1.5)}, {"a": np.asarray(1.5), "b": np.asarray(2.5)}]


def test_carried_forward_uses_the_students_own_values_for_every_wrong_dependency():
    # a right, b wrong (8), c = 8^2 = 64 right given b
    results = grade_instance(CHAIN, {"a": "6", "b": "8", "c": "64"}, recompute=chain_recompute([]))
    assert [r.carried_forward for r in results] == [False, False, True, False]
    assert results[2].score == 1.0
    assert results[3].status is Status.BLANK


def test_carry_forward_credit_is_configurable_and_partial():
    results = grade_instance(
        CHAIN, {"a": "1.5", "b": "2.5"}, recompute=chain_recompute([]), carry_forward_credit=0.5
    )
    assert results[1].status is Status.PARTIAL and results[1].score == 0.5
    assert "(50% credit)" in results[1].feedback


def test_no_carry_forward_without_recompute_or_when_wrong_either_way():
    assert grade_instance(CHAIN, {"a": "1.5", "b": "2.5"})[1].score == 0.0
    r = grade_instance(CHAIN, {"a": "1.5", "b": "3.5"}, recompute=chain_recompute([]))[1]
    assert r.score == 0.0 and not r.carried_forward and r.feedback.startswith("Too low by 3.5")


def test_known_mistake_is_still_named_when_carrying_forward_does_not_help():
    r = grade_instance(CHAIN, {"a": "6", "b": "7", "c": "36"}, recompute=chain_recompute([]))[2]
    assert r.mistake == "sq_a" and not r.carried_forward


def test_blank_or_unreadable_earlier_answers_are_not_carried_forward():
    calls = []
    results = grade_instance(CHAIN, {"a": "six", "b": "2.5"}, recompute=chain_recompute(calls))
    assert results[0].status is Status.FORMAT_ERROR
    assert results[1].score == 0.0 and calls == []


def test_recompute_that_rejects_the_students_values_gives_no_carry_forward():
    def failing(overrides):
        raise ValueError("negative variance")

    r = grade_instance(CHAIN, {"a": "1.5", "b": "2.5"}, recompute=failing)[1]
    assert r.score == 0.0 and not r.carried_forward


def test_detail_keeps_the_parsed_answers():
    details = grade_instance_detail(CHAIN, {"a": "3/2", "b": "x"})
    assert float(details[0].value) == 1.5 and not details[0].matches_key
    assert details[1].value is None


def test_bad_carry_forward_credit_is_rejected():
    with pytest.raises(ValueError, match=r"carry_forward_credit: expected a number in \[0, 1\], got 1.5"):
        grade_instance(CHAIN, {}, carry_forward_credit=1.5)
