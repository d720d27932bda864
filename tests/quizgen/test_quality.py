"""The quality rules (quizgen.quality) on small banks written for each outcome."""

import json
import textwrap

from click.testing import CliRunner

from quizgen import bank, quality
from quizgen.cli import main

HIDDEN_PADDING = """
family: conv
templates:
  - id: fixture.hidden_padding
    title: Output size
    topic: convolution
    difficulty: 1
    params:
      H: {int: [5, 40]}
      P: {int: [0, 1]}
    steps:
      size: {call: conv.conv_output_size, args: {size: H, kernel: 3, padding: P, stride: 1}}
    text: "An input of height {{ H }} and padding {{ P }}."
    parts:
      - id: a
        kind: integer
        answer: size
        mistakes:
          - id: forgot_padding
            feedback: "Use H + 2P - K."
            change: {size: {args: {padding: 0}}}
    solution: "$H + 2P - K + 1 = {{ size }}$"
"""

DECLARED = """
    quality:
      - {check: visibility, part: a, mistake: forgot_padding, MIN reason: "half the draws have no padding"}
      - {check: variants, reason: "a fixture with a small space"}
"""


def _write(tmp_path, text: str, name: str = "fixture.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _template(tmp_path, text: str):
    templates, problems = bank.load_file(_write(tmp_path, text))
    assert problems == []
    return templates[0]


def test_a_hidden_mistake_and_a_small_space_are_problems(tmp_path):
    report = quality.measure(_template(tmp_path, HIDDEN_PADDING), seeds=200)
    (visibility,) = report.visibility()
    assert 0.35 < visibility.value < 0.65  # P = 0 in about half the draws
    assert report.variants == 72  # 36 heights x 2 paddings, all seen in 1,000 draws
    assert len(report.problems) == 2
    assert "mistake forgot_padding: differs from the key in" in report.problems[0]
    assert "fixture.yaml:4: template fixture.hidden_padding" in report.problems[0]
    assert "72 distinct parameter sets in 1000 draws (needs 200)" in report.problems[1]


def test_declared_exceptions_with_reasons_pass(tmp_path):
    template = _template(tmp_path, HIDDEN_PADDING + DECLARED.replace("MIN ", ""))
    report = quality.measure(template, seeds=200)
    assert report.problems == ()
    assert "(declared: half the draws have no padding)" in "\n".join(quality.format_stats(report))


def test_a_declared_minimum_still_fails_below_it(tmp_path):
    template = _template(tmp_path, HIDDEN_PADDING + DECLARED.replace("MIN ", "min: 0.9, "))
    (problem,) = quality.measure(template, seeds=200).problems
    assert "forgot_padding" in problem and "below the declared minimum 0.9" in problem


def test_an_exception_needs_a_reason_and_must_name_what_exists(tmp_path):
    broken = (
        HIDDEN_PADDING
        + """
    quality:
      - {check: visibility, part: a, mistake: forgot_padding, reason: ""}
      - {check: visibility, part: a, mistake: no_such, reason: "r"}
      - {check: visibility, part: z, reason: "r"}
      - {check: loveliness, reason: "r"}
    """
    )
    _, problems = bank.load_file(_write(tmp_path, broken))
    lines = [str(p) for p in problems]
    assert len(lines) == 5, lines
    assert "quality[0].reason: an exception needs a reason" in lines[0]
    assert "part a has no mistake 'no_such'" in lines[1]
    assert "a visibility exception names the mistake it is about" in lines[2]
    assert "no part 'z'; parts are a" in lines[3]
    assert "unknown check 'loveliness'" in lines[4]


CHOICE_CONSTANT = """
family: metrics
templates:
  - id: fixture.few_options
    title: Few options
    topic: metrics
    difficulty: 1
    params:
      H: {int: [5, 40]}
    steps:
      size: {call: conv.conv_output_size, args: {size: H, kernel: 3, padding: 1, stride: 1}}
      zero: {call: conv.conv_output_size, args: {size: 3, kernel: 3, padding: 0, stride: 1}}
    text: "Height {{ H }}."
    parts:
      - id: a
        kind: choice
        choices: 4
        answer: size
        mistakes:
          - id: forgot_padding
            feedback: "Use H + 2P - K."
            change: {size: {args: {padding: 0}}}
      - id: b
        kind: integer
        answer: zero
    solution: "{{ size }}"
"""


def test_few_options_a_constant_answer_and_a_part_without_mistakes_are_problems(tmp_path):
    report = quality.measure(_template(tmp_path, CHOICE_CONSTANT), seeds=100)
    found = {(f.check, f.part) for f in report.findings if not f.ok}
    assert found == {("options", "a"), ("constant", "b"), ("no_mistake", "b"), ("variants", "")}
    assert any("as few as 2 distinct options (needs 4)" in p for p in report.problems)


def test_text_rules_catch_unparenthesized_negatives_noise_and_empty_placeholders():
    assert len(quality.text_problems("$1 - \\tanh^2(x) = 1 - -0.4621^2$")) == 2
    assert quality.text_problems("$0.37 + -0.5 \\cdot 0.2$")
    assert quality.text_problems("$w - 0.1 \\cdot -0.03$")
    assert quality.text_problems("$\\begin{bmatrix} 1.11022 \\times 10^{-16} \\end{bmatrix}$")
    assert quality.text_problems("[0.25, 1.110223e-16]")
    assert quality.text_problems("$z = σ(·_r + ·_r)$")
    assert quality.text_problems("As in course note 001, a binary image")
    for clean in (
        "$1 - (-0.4621)^2 = 0.7864$",
        "$e^{-0.5} = 0.6065$ and $\\begin{bmatrix} 1 & -0.5 \\end{bmatrix}$",
        "call `model.eval()` then `nn.GELU()`",
        "$x = -0.5$, $[1, -2]$, 1.5e-8",
    ):
        assert quality.text_problems(clean) == [], clean


def test_cli_validate_lists_each_problem_and_stats_prints_the_figures(tmp_path):
    path = _write(tmp_path, HIDDEN_PADDING)
    runner = CliRunner()
    result = runner.invoke(main, ["bank", "validate", str(path), "--seeds", "20", "--quality-seeds", "50"])
    assert result.exit_code == 1
    assert "mistake forgot_padding: differs from the key" in result.output
    assert "72 distinct parameter sets" in result.output
    result = runner.invoke(
        main, ["bank", "stats", "--bank", str(path), "fixture.hidden_padding", "--seeds", "50"]
    )
    assert result.exit_code == 0
    assert result.output.startswith(
        "fixture.hidden_padding: 72 variants in 1000 draws\n  a/forgot_padding: visible in"
    )
    listed = runner.invoke(main, ["bank", "list", "--bank", str(path), "--topic", "convolution", "--json"])
    by_id = {t["id"]: t for t in json.loads(listed.output)}
    assert by_id["fixture.hidden_padding"]["variants"] == 72
