"""Assignment specs: the shipped examples load, their reference solutions pass every case for
any student variant, starters compile and score zero, cases are deterministic, and malformed
specs fail with the file, line and field named."""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from quizgen.errors import SpecError
from quizgen.graders.assignment import (
    build_cases,
    load_assignment,
    parse_assignment,
    starter,
    with_hidden_key,
)
from quizgen.graders.autograde import grade_submission
from quizgen.yamlio import load_yaml

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "examples" / "assignments").glob("*.yaml"))
SOLUTIONS = ROOT / "examples" / "assignments" / "solutions"
KEY = b"0123456789abcdef0123456789abcdef-test-key"


def load_keyed(path):
    """An assignment holding an instructor's key, so its hidden cases can be drawn."""
    return with_hidden_key(load_assignment(path), KEY)


def test_at_least_six_assignments_ship_covering_the_course():
    ids = {load_assignment(p).id for p in SPECS}
    assert {"conv2d", "maxpool", "softmax_cross_entropy", "mlp_backprop", "optimizers", "batchnorm"} <= ids


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_reference_solution_passes_every_case_for_several_students(spec):
    assignment = load_keyed(spec)
    for variant in ("", "student-1", "student-2"):
        grade = grade_submission(assignment, SOLUTIONS / f"{assignment.id}.py", variant=variant)
        failed = [c.output for c in grade.cases if not c.passed]
        assert not failed, "\n".join(failed)
        assert grade.score == grade.max_score > 0
        assert any(c.hidden for c in grade.cases)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_starter_compiles_defines_every_function_and_scores_zero(spec, tmp_path):
    assignment = load_keyed(spec)
    text = starter(assignment)
    tree = ast.parse(text)
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert defined == {f.name for f in assignment.functions}
    for f in assignment.functions:
        assert f"def {f.name}({f.params}):" in text
        assert f'raise NotImplementedError("{f.name}")' in text
    path = tmp_path / "starter.py"
    path.write_text(text)
    grade = grade_submission(assignment, path, hidden=False)
    assert grade.score == 0
    assert "NotImplementedError" in grade.cases[0].output


def test_starter_docstrings_carry_shapes_and_formula():
    text = starter(load_assignment(ROOT / "examples/assignments/conv2d.yaml"))
    assert "x: (N, C, H, W) input; w: (F, C, KH, KW) filters" in text
    assert "H' = (H + 2*padding - KH) // stride + 1" in text
    assert "Returns: dx, dw, db" in text


def test_visible_cases_are_the_same_for_everyone_and_hidden_ones_differ_per_student():
    assignment = load_keyed(ROOT / "examples/assignments/conv2d.yaml")
    a, b = build_cases(assignment, variant="alice"), build_cases(assignment, variant="bob")
    again = build_cases(assignment, variant="alice")
    for x, y, z in zip(a, b, again, strict=True):
        assert x.label == y.label and x.seed == z.seed
        np.testing.assert_array_equal(x.calls[0].args[0], z.calls[0].args[0])
        assert (x.seed == y.seed) == (not x.hidden)
    assert [c.label for c in build_cases(assignment, hidden=False)] == [c.label for c in a if not c.hidden]


def test_edge_cases_fix_their_parameters():
    assignment = load_keyed(ROOT / "examples/assignments/conv2d.yaml")
    edge = next(c for c in build_cases(assignment) if c.label == "no padding, stride 2")
    assert (edge.params["padding"], edge.params["stride"], edge.params["K"]) == (0, 2, 3)
    tiny = next(c for c in build_cases(assignment) if c.label == "padding 2, 1x1 input")
    assert np.shape(tiny.params["x"])[2:] == (1, 1)


def test_ties_test_really_has_tied_maxima():
    assignment = load_keyed(ROOT / "examples/assignments/maxpool.yaml")
    for case in (c for c in build_cases(assignment) if c.test == "ties"):
        x, k, s = np.asarray(case.params["x"]), case.params["kernel"], case.params["stride"]
        tied = [
            (window == window.max()).sum() > 1
            for i in range(0, x.shape[2] - k + 1, s)
            for j in range(0, x.shape[3] - k + 1, s)
            for window in x[:, :, i : i + k, j : j + k].reshape(-1, k * k)
        ]
        assert sum(tied) >= len(tied) // 2


def test_reference_values_are_computed_in_the_parent_and_never_sent():
    assignment = load_keyed(ROOT / "examples/assignments/conv2d.yaml")
    case = build_cases(assignment)[0]
    sent = [v for call in case.calls for v in (*call.args, *call.kwargs.values())]
    expected = case.checks[0].expected
    assert not any(
        isinstance(v, np.ndarray) and v.shape == expected.shape and np.allclose(v, expected) for v in sent
    )


BASE = """
id: demo
title: Demo
functions:
  - {name: double, params: "x", returns: "y"}
tests:
  - id: t
    params: {x: {array: [3], real: [-1, 1, 0.1]}}
    steps:
      - name: s
        call: double
        args: [x]
        reference: {call: activations.relu, args: {x: x}}
        checks: [{name: y, expected: ""}]
"""


def _parse(tmp_path, text: str):
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return parse_assignment(load_yaml(path, error=SpecError), str(path))


def test_a_minimal_spec_parses(tmp_path):
    assignment = _parse(tmp_path, BASE)
    assert assignment.tests[0].steps[0].checks[0].expected == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("call: double", "call: triple"), "unknown function 'triple'"),
        (("activations.relu", "activations.nope"), "unknown reference function 'activations.nope'"),
        (("args: {x: x}", "args: {x: z}"), "unknown name(s) z"),
        (("params: {", "parms: {"), "unknown key 'parms'"),
        (('params: "x"', 'params: "x,,"'), "not a parameter list"),
        (
            (
                '[{name: y, expected: ""}]',
                '[{name: y, expected: "", mistakes: [{id: m, feedback: f, transform: flip}]}]',
            ),
            "unknown transform",
        ),
        (("real: [-1, 1, 0.1]", "rael: [-1, 1, 0.1]"), "unknown setting(s) ['rael']"),
    ],
)
def test_malformed_specs_name_the_line_and_field(tmp_path, change, message):
    old, new = change
    assert old in BASE
    with pytest.raises(SpecError, match=re.escape(message)) as info:
        _parse(tmp_path, BASE.replace(old, new))
    assert str(tmp_path / "spec.yaml") + ":" in str(info.value)


def test_a_student_result_ref_must_name_an_earlier_step(tmp_path):
    text = BASE.replace("args: [x]", "args: [{result: later}]")
    with pytest.raises(SpecError, match="not an earlier step"):
        _parse(tmp_path, text)


def test_limits_in_a_spec_are_validated(tmp_path):
    text = BASE.replace("tests:", "limits: {call_seconds: -1}\ntests:")
    with pytest.raises(SpecError, match="call_seconds must be a positive"):
        _parse(tmp_path, text)


def test_specs_are_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("id: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(SpecError):
        load_assignment(path)
    assert yaml  # the loader is quizgen.yamlio's safe loader, not yaml.load


def test_starter_keeps_backslashes_in_docstrings_without_warnings(tmp_path):
    text = BASE.replace('returns: "y"}', 'returns: "y", doc: "y = \\\\sigma(x)"}')
    assignment = _parse(tmp_path, text)
    source = starter(assignment)
    assert 'r"""y = \\sigma(x)' in source
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(source, "starter.py", "exec")


def _passes_trivially(expected, tolerance, inputs) -> str:
    """Which trivial answer a check's expected value accepts, judged here with NumPy alone."""
    e = np.asarray(expected, dtype=np.float64)
    if tolerance.accepts(e, np.zeros_like(e)):
        return "all zeros"
    if tolerance.accepts(e, np.ones_like(e)):
        return "all ones"
    for name, value in inputs.items():
        v = np.asarray(value, dtype=np.float64) if not isinstance(value, str) else None
        if v is not None and v.shape == e.shape and tolerance.accepts(e, v):
            return f"the input {name}"
    return ""


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_no_case_of_any_shipped_assignment_is_passed_by_a_trivial_answer(spec):
    assignment = load_keyed(spec)
    exempt = {c.name for t in assignment.tests for s in t.steps for c in s.checks if c.may_equal_input}
    for variant in [f"student-{k}" for k in range(25)]:
        for case in build_cases(assignment, variant=variant):
            for check in case.checks:
                inputs = {} if check.name in exempt else case.params
                what = _passes_trivially(check.expected, check.tolerance, inputs)
                assert not what, f"{case.name} of {variant}: {check.name} is passed by {what}"


def test_an_all_zeros_answer_scores_nothing_where_it_used_to_score(tmp_path):
    # ReLU of inputs that may all be negative: before redrawing, such cases gave zeros full marks
    text = BASE.replace("real: [-1, 1, 0.1]", "real: [-1, 0.3, 0.1]")  # all <= 0 in ~half the draws
    path = tmp_path / "returns_zeros.py"
    path.write_text("import numpy as np\n\n\ndef double(x):\n    return np.zeros_like(x)\n")
    text = text.replace("params: {x:", "visible: 30\n    params: {x:")
    assignment = _parse(tmp_path, text)
    grade = grade_submission(assignment, path, hidden=False)
    assert len(grade.cases) == 30 and grade.score == 0


def test_a_case_no_draw_can_make_non_degenerate_is_a_spec_error(tmp_path):
    text = BASE.replace("real: [-1, 1, 0.1]", "real: [-1, -0.1, 0.1]")  # ReLU is always all zeros
    assignment = _parse(tmp_path, text)
    with pytest.raises(SpecError, match=r"spec\.yaml.*test t.*degenerate \(check y: all zeros passes\)"):
        build_cases(assignment, hidden=False)


def test_a_check_whose_answer_is_an_input_by_design_may_say_so(tmp_path):
    text = BASE.replace("real: [-1, 1, 0.1]", "real: [0.1, 1, 0.1]")  # ReLU of x > 0 is x
    with pytest.raises(SpecError, match="the input x passes"):
        build_cases(_parse(tmp_path, text), hidden=False)
    marked = text.replace('expected: ""}', 'expected: "", may_equal_input: true}')
    assert build_cases(_parse(tmp_path, marked), hidden=False)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("params: {x:", "hidden: 100000000\n    params: {x:"), "tests[0].hidden"),
        (("params: {x:", "visible: 51\n    params: {x:"), "tests[0].visible"),
        (("params: {x:", "points: .nan\n    params: {x:"), "tests[0].points"),
        (("params: {x:", "call_seconds: .inf\n    params: {x:"), "tests[0].call_seconds"),
        (("array: [3]", "array: [100000, 100000]"), "tests[0].params.x.array"),
        (("tests:", "limits: {memory_mb: 1.0e+9}\ntests:"), "limits.memory_mb"),
        (("tests:", "limits: {submission_seconds: 1.0e+9}\ntests:"), "limits.submission_seconds"),
    ],
)
def test_absurd_sizes_in_a_spec_are_refused_at_once_naming_the_field(tmp_path, change, field):
    old, new = change
    assert old in BASE
    with pytest.raises(SpecError) as info:
        _parse(tmp_path, BASE.replace(old, new, 1))
    assert str(tmp_path / "spec.yaml") + ":" in str(info.value) and field in str(info.value)
    assert "\n" not in str(info.value)


def test_an_array_sized_by_a_drawn_parameter_is_capped_before_it_is_drawn(tmp_path):
    text = BASE.replace("params: {x: {array: [3],", "params: {n: {int: [100000, 100001]}, x: {array: [n, n],")
    assignment = _parse(tmp_path, text)
    with pytest.raises(SpecError, match=r"params\.x\.array.*at most 1,000,000 elements"):
        build_cases(assignment, hidden=False)
