"""Building the text-option parts (quizgen/selection.py; named apart from tests/graders/test_selection.py,
which pytest needs as test basenames are unique): keys decided by the draw, options
shuffled per student, the manifest round trip, and a clear error for a draw with no key."""

import re

import pytest

from quizgen import engine, selfcheck
from quizgen.bank import load_bank, load_file
from quizgen.errors import BankError
from quizgen.models import InstancePart
from quizgen.reference.conv import conv_output_size
from quizgen.selection import option_of, split_letters


@pytest.fixture(scope="module")
def concepts():
    return {t.id: t for t in load_bank().select() if t.family == "concepts"}


def test_true_false_truth_comes_from_the_reference_and_false_claims_are_named(concepts):
    t = concepts["concepts.conv_size_claim"]
    truths = []
    for seed in range(60):
        inst = engine.build_instance(t, seed)
        part = inst.parts[0]
        truths.append(part.expected == "T")
        applying = [m.id for m in part.mistakes if m.distinguishable]
        assert len(applying) == 1  # exactly one misconception names the wrong answer
        claimed = int(re.search(r"\$(\d+) \\times", part.prompt).group(1))
        p = inst.params
        right = conv_output_size(p["H"], p["K"], stride=p["S"], padding=p["P"])
        assert (claimed == right) == (part.expected == "T")
        assert (applying == ["doubted_right_claim"]) == (part.expected == "T")
    assert 0.3 <= sum(truths) / len(truths) <= 0.7


def test_options_are_shuffled_per_student_but_the_same_for_a_seed(concepts):
    t = concepts["concepts.bias_variance"]
    orders = {engine.build_instance(t, seed).parts[0].options for seed in range(12)}
    assert len(orders) > 3
    a, b = engine.build_instance(t, 5), engine.build_instance(t, 5)
    assert a.parts[0] == b.parts[0]
    assert engine.build_instances(t, [5])[0].parts[0] == a.parts[0]


def test_the_key_names_the_option_that_is_right_in_this_draw(concepts):
    t = concepts["concepts.bias_variance"]
    for seed in range(20):
        inst = engine.build_instance(t, seed)
        part = inst.parts[0]
        case = inst.params["case"]
        text = option_of(part, part.expected)
        assert {"bias": "High bias (", "variance": "High variance", "both": "High bias and"}[case] in text


def test_ordering_is_never_shown_in_the_right_order(concepts):
    t = concepts["concepts.batchnorm_order"]
    for seed in range(40):
        part = engine.build_instance(t, seed).parts[0]
        assert split_letters(part.expected) != sorted(split_letters(part.expected))


def test_text_option_parts_survive_the_manifest_round_trip(concepts):
    for t in concepts.values():
        for part in engine.build_instance(t, 3).parts:
            assert InstancePart.from_dict(part.to_dict()) == part


def test_a_draw_where_no_option_is_right_is_a_bank_error_naming_the_template(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        """family: t
templates:
  - id: t.none_right
    title: t
    topic: t
    difficulty: 1
    params: {n: {int: [1, 9]}}
    steps: {}
    text: "n = {{ n }}"
    parts:
      - id: a
        kind: text_choice
        options:
          - {id: big, text: "big", correct: "n > 5", feedback: "n is small."}
          - {id: huge, text: "huge", correct: "n > 100", feedback: "n is at most 9."}
    solution: "."
"""
    )
    (template,), problems = load_file(path)
    assert problems == []
    with pytest.raises(BankError, match=r"t\.none_right.*exactly one option must be correct"):
        for seed in range(50):
            engine.build_instance(template, seed)


def test_the_self_test_reports_a_misconception_no_draw_reaches(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        """family: t
templates:
  - id: t.unreached
    title: t
    topic: t
    difficulty: 1
    params: {n: {int: [1, 9]}}
    steps: {}
    text: "n = {{ n }}"
    parts:
      - id: a
        kind: true_false
        prompt: "n is positive."
        truth: "n > 0"
        mistakes:
          - {id: never, when: "n > 100", feedback: "n is at most 9."}
          - {id: doubted, feedback: "n is drawn from 1 to 9."}
    solution: "."
"""
    )
    (template,), _ = load_file(path)
    report = selfcheck.check_template(template, seeds=20)
    assert len(report.problems) == 1 and "mistake never never differs" in report.problems[0]
    assert report.distinguishable["a/doubted"] == 20


def test_a_text_choice_option_right_in_every_draw_names_no_misconception(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        """family: t
templates:
  - id: t.always_right
    title: t
    topic: t
    difficulty: 1
    params: {n: {int: [1, 9]}}
    steps: {}
    text: "n = {{ n }}"
    parts:
      - id: a
        kind: text_choice
        options:
          - {id: fact, text: "n is positive", correct: true}
          - {id: negative, text: "n is negative", feedback: "n is drawn from 1 to 9."}
          - {id: zero, text: "n is zero", feedback: "n is at least 1."}
    solution: "."
"""
    )
    (template,), problems = load_file(path)
    assert problems == []
    report = selfcheck.check_template(template, seeds=20)
    assert report.problems == []
    assert report.distinguishable["a/negative"] == 20 and "a/fact" not in report.distinguishable
