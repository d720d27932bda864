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
