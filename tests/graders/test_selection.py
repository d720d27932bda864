"""The text-option kinds' grading rules (graders/selection.py) through the one grading path."""

import pytest

from quizgen import engine
from quizgen.bank import load_bank
from quizgen.graders.numeric import grade_part
from quizgen.graders.parse import FormatError, parse_answer
from quizgen.graders.selection import longest_ordered, multi_select_score, ordering_score
from quizgen.models import InstancePart, KnownMistake, Status, Tolerance


def _part(kind, expected, options, mistakes=()):
    return InstancePart("a", kind, "", expected, Tolerance(exact=True), 2.0, tuple(mistakes), tuple(options))


def test_multi_select_right_minus_wrong_floored_everything_and_nothing_earn_nothing():
    right = {"A", "C"}
    assert multi_select_score(right, {"A", "C"}, 5) == 1.0
    assert multi_select_score(right, {"A", "B", "C", "D", "E"}, 5) == 0.0  # 2/2 - 3/3
    assert multi_select_score(right, set(), 5) == 0.0
    assert multi_select_score(right, {"A"}, 5) == pytest.approx(0.5)
    assert multi_select_score(right, {"A", "C", "B"}, 5) == pytest.approx(1 - 1 / 3)
    assert multi_select_score(right, {"B", "D"}, 5) == 0.0  # floored, not negative


def test_ordering_longest_ordered_subsequence():
    assert longest_ordered([0, 2, 1, 3]) == 3
    assert ordering_score("ABCD", "ABCD") == 1.0
    assert ordering_score("ABCD", "DCBA") == 0.0
    assert ordering_score("ABCDE", "ABDCE") == pytest.approx(3 / 4)  # one swap: L = 4


@pytest.mark.parametrize(
    ("text", "kind", "read"),
    [
        ("b", "text_choice", "B"),
        (" (c) ", "text_choice", "C"),
        ("true", "true_false", "T"),
        ("F", "true_false", "F"),
        ("c, a", "multi_select", "A,C"),
        ("A C", "multi_select", "A,C"),
        ("cab", "ordering", "C,A,B"),
        ("C, A, B", "ordering", "C,A,B"),
    ],
)
def test_answers_are_read_in_each_kinds_format(text, kind, read):
    assert parse_answer(text, kind) == read


@pytest.mark.parametrize(
    ("text", "kind"), [("maybe", "true_false"), ("A,A", "multi_select"), ("1,2", "ordering")]
)
def test_malformed_answers_are_format_errors(text, kind):
    with pytest.raises(FormatError):
        parse_answer(text, kind)


def test_a_letter_that_is_not_an_option_or_a_missing_item_is_a_format_error_not_a_crash():
    mc = _part("text_choice", "B", ["x", "y", "z"])
    assert grade_part(mc, "E").status is Status.FORMAT_ERROR
    order = _part("ordering", "B,A,C", ["x", "y", "z"])
    result = grade_part(order, "B,A")
    assert result.status is Status.FORMAT_ERROR and "C missing" in result.feedback
    assert grade_part(order, "").status is Status.BLANK


def test_text_choice_and_true_false_name_the_misconception():
    mistake = KnownMistake("forgot_padding", "The claim leaves out the padding.", "T", True)
    tf = _part("true_false", "F", ["True", "False"], [mistake])
    assert grade_part(tf, "false").score == 1.0
    wrong = grade_part(tf, "true")
    assert (wrong.score, wrong.mistake, wrong.feedback) == (
        0.0,
        "forgot_padding",
        "The claim leaves out the padding.",
    )
    partial = KnownMistake("close", "Nearly.", "A", True, 0.5, "a defensible reading")
    mc = _part("text_choice", "B", ["x", "y", "z"], [partial])
    got = grade_part(mc, "a")
    assert got.status is Status.PARTIAL and got.score == 0.5 and got.mistake == "close"


def test_multi_select_feedback_names_each_wrongly_marked_option():
    mistakes = [
        KnownMistake("lr", "The learning rate is a hyperparameter.", "C", True),
        KnownMistake("gamma", "Gamma is learned.", "A,B,C", True),
        KnownMistake("w", "Weights are learned.", "A,C,D", True),
    ]
    part = _part("multi_select", "A,C", ["lr", "gamma", "width", "w"], mistakes)
    one = grade_part(part, "C")
    assert one.mistake == "lr" and one.score == pytest.approx(0.5) and "left out A" in one.feedback
    two = grade_part(part, "A,B,C,D")
    assert two.score == 0.0 and two.mistake is None
    assert "Gamma is learned." in two.feedback and "Weights are learned." in two.feedback


def test_every_concepts_template_grades_its_key_full_and_each_mistake_as_itself():
    """What bank validate's self-test checks, here on a few seeds of the concepts family."""
    bank = load_bank()
    templates = [t for t in bank.select() if t.family == "concepts"]
    kinds = {p.kind for t in templates for p in t.parts}
    assert {"text_choice", "true_false", "multi_select", "ordering"} <= kinds
    for t in templates:
        for seed in range(5):
            for part in engine.build_instance(t, seed).parts:
                assert grade_part(part, part.expected).score == 1.0
                for m in part.mistakes:
                    if m.distinguishable:
                        graded = grade_part(part, m.value)
                        assert graded.score < 1.0 and graded.mistake == m.id, (t.id, m.id)


def test_an_lms_true_false_answer_reads_as_t_or_f_and_a_text_choice_by_its_text():
    """Moodle's and Canvas's response reports give the option's text ("True", the option)."""
    from quizgen.graders.lms_responses import _choice_letter

    assert _choice_letter("True", ("True", "False"), "TF") == "T"
    assert _choice_letter("false", ("True", "False"), "TF") == "F"
    assert _choice_letter("the dev set", ("the test set", "the dev set"), "AB") == "B"
