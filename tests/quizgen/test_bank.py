from pathlib import Path

import pytest

from quizgen import bank, engine
from quizgen.errors import BankError
from quizgen.models import Instance

FIXTURES = Path(__file__).parent / "fixtures"

INVALID = FIXTURES / "banks" / "invalid" / "problems.yaml"


def _problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "b.yaml"
    path.write_text(text)
    _, problems = bank.load_file(path)
    return [str(p) for p in problems]


def test_valid_fixture_bank_loads_with_its_parts_and_mistakes(fixture_bank):
    t = fixture_bank.get("fixture.l2_chain")
    assert [p.id for p in t.parts] == ["a", "b", "c", "d"]
    assert t.part("a").mistakes[0].changes["pen"].args == {"half": True}
    assert t.source.endswith("penalty.yaml:3")


def test_each_problem_is_one_line_with_file_line_template_and_field():
    _, problems = bank.load_file(INVALID)
    lines = [str(p) for p in problems]
    assert all("\n" not in line for line in lines)
    expected = [
        ("problems.yaml:12:", "broken.unknown_key", "field colour", "unknown key 'colour'"),
        ("problems.yaml:18:", "broken.unknown_function", "field steps.s.call", "unknown reference function"),
        ("problems.yaml:28:", "broken.undefined_variable", "field text", "uses 'b'"),
        ("problems.yaml:34:", "broken.wrong_type", "field difficulty", "expected an integer, got str"),
    ]
    assert len(lines) == len(expected)
    for line, parts in zip(lines, expected, strict=True):
        for fragment in parts:
            assert fragment in line


def test_strict_loading_raises_the_first_problem():
    with pytest.raises(BankError, match="unknown key 'colour'"):
        bank.load_bank([INVALID], include_builtin=False)


@pytest.mark.parametrize(
    "snippet, message",
    [
        ("steps: {s: {call: regularization.l1_penalty, args: {w: zz, lam: 1}}}", "uses 'zz'"),
        ("steps: {s: {pick: nothing.here}}", "uses 'nothing'"),
        ("steps: {s: {call: regularization.l1_penalty, pick: a}}", "either call (with args) or pick"),
        (
            "steps: {s: {call: regularization.l1_penalty, args: {w: 'a +', lam: 1}}}",
            "expression syntax error",
        ),
    ],
)
def test_step_problems_are_reported(tmp_path, snippet, message):
    text = f"""family: f
templates:
  - id: f.t
    title: t
    topic: x
    difficulty: 1
    params: {{a: {{int: [1, 3]}}}}
    {snippet}
    text: "{{{{ a }}}}"
    parts: [{{id: a, kind: real, answer: s}}]
    solution: "x"
"""
    problems = _problems(tmp_path, text)
    assert any(message in p for p in problems), problems


@pytest.mark.parametrize(
    "part, message",
    [
        ("{id: a, kind: number, answer: s}", "unknown answer kind 'number'"),
        ("{id: a, kind: real, answer: nope}", "answer must name a step"),
        ("{id: a, kind: choice, answer: s}", "needs choices: N"),
        ("{id: a, kind: real, answer: s, tolerance: {sigfigs: 2, decimals: 2}}", "choose one of"),
        (
            "{id: a, kind: real, answer: s, mistakes: [{id: m, feedback: f, change: {zz: {}}}]}",
            "no step 'zz'",
        ),
        ("{id: a, kind: real, answer: s, points: -1}", "points must be > 0"),
        (
            "{id: a, kind: real, answer: s, mistakes: [{id: m, feedback: 'w = {{ a }}', change: {s: {args: {lam: 2}}}}]}",
            "feedback is shown as written",
        ),
        (
            "{id: a, kind: real, answer: s, mistakes: [{id: m, feedback: f, change: {s: {args: {lam: t}}}}]}",
            "uses 't', which is not defined before it",
        ),
        (
            "{id: a, kind: real, answer: s, mistakes: [{id: m, feedback: f, change: {s: {args: {lam: 2}}}, credit: 1.5, credit_reason: r}]}",
            "credit must be a number in [0, 1], got 1.5",
        ),
        (
            "{id: a, kind: real, answer: s, mistakes: [{id: m, feedback: f, change: {s: {args: {lam: 2}}}, credit: 0.5}]}",
            "credit 0.5 needs a credit_reason",
        ),
        (
            "{id: a, kind: real, answer: s, mistakes: [{id: m, feedback: f, change: {s: {args: {lam: 2}}}, credit: half}]}",
            "field parts[0].mistakes[0].credit",
        ),
    ],
)
def test_part_problems_are_reported(tmp_path, part, message):
    text = f"""family: f
templates:
  - id: f.t
    title: t
    topic: x
    difficulty: 1
    params: {{a: {{int: [1, 3]}}}}
    steps: {{s: {{call: regularization.l1_penalty, args: {{w: a, lam: 1}}}}, t: {{pick: s.penalty}}}}
    text: "{{{{ a }}}}"
    parts: [{part}]
    solution: "x"
"""
    problems = _problems(tmp_path, text)
    assert any(message in p for p in problems), problems


def test_yaml_syntax_error_names_the_line(tmp_path):
    problems = _problems(tmp_path, "family: f\ntemplates:\n  - id: [unclosed\n")
    assert len(problems) == 1 and "b.yaml:" in problems[0] and "invalid YAML" in problems[0]


def test_duplicate_ids_across_folders_are_reported(tmp_path):
    src = (FIXTURES / "banks" / "valid" / "penalty.yaml").read_text()
    (tmp_path / "copy.yaml").write_text(src)
    _, problems = bank.load_bank(
        [FIXTURES / "banks" / "valid", tmp_path], include_builtin=False, strict=False
    )
    assert any("duplicate template id" in str(p) for p in problems)


def test_select_filters_by_topic_tag_and_difficulty(fixture_bank):
    assert [t.id for t in fixture_bank.select(topic="regularization")] == ["fixture.l2_chain"]
    assert fixture_bank.select(tags=["nope"]) == []
    assert fixture_bank.select(difficulty=[1]) == []
    with pytest.raises(BankError, match=r"no template 'x\.y'"):
        fixture_bank.get("x.y")


def test_a_mistake_earns_no_credit_unless_the_template_gives_it_with_a_reason(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text(
        """family: f
templates:
  - id: f.t
    title: t
    topic: x
    difficulty: 1
    params: {a: {int: [1, 3]}}
    steps: {s: {call: regularization.l1_penalty, args: {w: a, lam: 1}}, t: {pick: s.penalty}}
    text: "{{ a }}"
    parts: [{id: a, kind: real, answer: t, mistakes: [
      {id: double, feedback: f, change: {s: {args: {lam: 2}}}},
      {id: half, feedback: g, change: {s: {args: {lam: 0.5}}}, credit: 0.5, credit_reason: " a slip "}]}]
    solution: "x"
"""
    )
    templates, problems = bank.load_file(path)
    assert problems == []
    double, half = templates[0].part("a").mistakes
    assert (double.credit, double.credit_reason) == (0.0, "")
    assert (half.credit, half.credit_reason) == (0.5, "a slip")
    # the instance, and so the manifest, carries the credit to grading
    instance = Instance.from_dict(engine.build_instance(templates[0], 3).to_dict())
    assert [(m.id, m.credit, m.credit_reason) for m in instance.part("a").mistakes] == [
        ("double", 0.0, ""),
        ("half", 0.5, "a slip"),
    ]
