"""The instructor's key: read from a key file or the environment, too short a key refused, and
hidden cases that depend on it (and on the student) but on nothing a student holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from quizgen.errors import SpecError
from quizgen.graders.assignment import build_cases, load_assignment, with_hidden_key
from quizgen.graders.hidden_key import ENV, MissingHiddenKey, hidden_seed, load_hidden_key, make_key

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples/assignments/softmax_cross_entropy.yaml"
KEY_A, KEY_B = b"a" * 40, b"b" * 40


def _hidden_inputs(key: bytes, variant: str) -> list[str]:
    assignment = with_hidden_key(load_assignment(SPEC), key)
    return [repr(c.params) for c in build_cases(assignment, variant=variant) if c.hidden]


def test_hidden_cases_depend_on_the_key_and_the_student_and_visible_ones_on_neither():
    assert _hidden_inputs(KEY_A, "alice") == _hidden_inputs(KEY_A, "alice")  # deterministic
    assert _hidden_inputs(KEY_A, "alice") != _hidden_inputs(KEY_B, "alice")
    assert _hidden_inputs(KEY_A, "alice") != _hidden_inputs(KEY_A, "bob")
    visible = [
        [repr(c.params) for c in build_cases(with_hidden_key(load_assignment(SPEC), k), hidden=False)]
        for k in (KEY_A, KEY_B, None)
    ]
    assert visible[0] == visible[1] == visible[2]


def test_without_a_key_hidden_cases_are_not_drawn():
    with pytest.raises(MissingHiddenKey, match=ENV):
        build_cases(load_assignment(SPEC), variant="alice")
    assert build_cases(load_assignment(SPEC), hidden=False)  # visible cases need no key


def test_seeds_are_an_hmac_of_every_part():
    seeds = {hidden_seed(KEY_A, "a", "t", "hidden", k, v) for k in range(3) for v in ("x", "y")}
    assert len(seeds) == 6 and all(0 <= s < 2**63 for s in seeds)
    assert hidden_seed(KEY_A, "a", "t", "hidden", 0, "x") != hidden_seed(KEY_B, "a", "t", "hidden", 0, "x")


def test_the_key_comes_from_a_file_or_the_environment(tmp_path):
    key = make_key()
    path = tmp_path / "hidden.key"
    path.write_text(key + "\n")
    assert load_hidden_key(path, environ={}) == key.encode()
    assert load_hidden_key(None, environ={ENV: key}) == key.encode()
    assert load_hidden_key(path, environ={ENV: "x" * 40}) == key.encode()  # the file wins
    assert load_hidden_key(None, environ={}) is None


def test_a_short_or_missing_key_file_is_a_one_line_error_naming_it(tmp_path):
    path = tmp_path / "hidden.key"
    path.write_text("secret\n")
    with pytest.raises(SpecError, match=r"hidden\.key.*at least 32"):
        load_hidden_key(path, environ={})
    with pytest.raises(SpecError, match=r"missing\.key.*cannot be read"):
        load_hidden_key(tmp_path / "missing.key", environ={})
    with pytest.raises(SpecError, match=f"{ENV}.*at least 32"):
        load_hidden_key(None, environ={ENV: "short"})
