"""Malformed bank folders (``--bank DIR``) fed to every command that reads one: exit 1 or 2,
one line naming the file and the place, no traceback, nothing written."""

from pathlib import Path

import pytest
from bad_input import refused

from quizgen import bank

FIXTURES = Path(__file__).parent / "fixtures"
VALID = (FIXTURES / "banks" / "valid" / "penalty.yaml").read_text()
OTHER = VALID.replace("id: fixture.l2_chain", "id: fixture.other")
ROSTER = FIXTURES / "exams" / "roster.csv"
SPEC = FIXTURES / "exams" / "small.yaml"

CORPUS = {
    "latin1": (OTHER.replace("L2 penalty", "L2 P\xe9nalit\xe9").encode("cp1252", "replace"), "t.yaml:", "not UTF-8"),
    "utf16_no_bom": (OTHER.encode("utf-16-le"), "t.yaml:", "save it as UTF-8"),
    "syntax": (OTHER.replace("difficulty: 2", "difficulty: [2").encode(), "t.yaml:", "invalid YAML"),
    "redefines_builtin": (VALID.encode(), "t.yaml:3", "duplicate template id"),
    "not_a_mapping": (b"- 1\n", "t.yaml", "expected"),
    "unknown_function": (OTHER.replace("regularization.l2_penalty", "regularization.nope").encode(), "t.yaml:", "nope"),
    "deep": (b"family: x\ntemplates: " + b"[" * 100 + b"]" * 100 + b"\n", "t.yaml", "nested"),
    "alias_loop": (b"family: x\ntemplates: &t [*t]\n", "t.yaml:2", "alias"),
    # YAML 1.1 reads 1e-06 (no point) as text, which reached Tolerance and raised a TypeError
    "tolerance_as_text": (OTHER.replace("        kind: real\n", "        kind: real\n        tolerance: {atol: 1e-06}\n", 1).encode(), "t.yaml:25", "write it with a point"),
}  # fmt: skip
#: A template that loads but whose constraint asks for 10 ** (10 ** 10) when drawn.
HUGE_POWER = OTHER.replace('- "lam != 0.5"', '- "lam != 0.5 and 10 ** (10 ** 10) > 0"')


@pytest.fixture(autouse=True)
def _fixture_bank_is_builtin(monkeypatch):
    """The valid fixture bank stands for the built-in one (fixture.l2_chain is 'built in')."""
    monkeypatch.setattr(bank, "builtin_bank_dir", lambda: FIXTURES / "banks" / "valid")


def _commands(folder, out):
    return {
        "list": ["bank", "list", "--bank", folder],
        "show": ["bank", "show", "fixture.l2_chain", "--bank", folder],
        "preview": ["preview", "fixture.l2_chain", "--bank", folder],
        "generate": ["generate", SPEC, "--bank", folder, "--roster", ROSTER, "--out", out],
        "validate": ["bank", "validate", folder, "--quiet", "--seeds", "3"],
    }


@pytest.mark.parametrize("command", ["list", "show", "preview", "generate", "validate"])
@pytest.mark.parametrize("name", CORPUS)
def test_commands_refuse_a_bad_bank(tmp_path, name, command):
    data, where, says = CORPUS[name]
    folder = tmp_path / "mybank"
    folder.mkdir()
    (folder / "t.yaml").write_bytes(data)
    args = _commands(folder, tmp_path / "out")[command]
    refused(args, watch=tmp_path, names=where, where=says, status=(1,) if command == "validate" else (2,))


@pytest.mark.parametrize("command", ["preview", "generate", "validate"])
def test_a_huge_power_in_a_template_is_refused_not_computed(tmp_path, command):
    folder = tmp_path / "mybank"
    folder.mkdir()
    (folder / "t.yaml").write_text(HUGE_POWER)
    args = _commands(folder, tmp_path / "out")[command]
    if command == "preview":
        args[1] = "fixture.other"
    if command == "generate":
        spec = tmp_path / "exam.yaml"
        spec.write_text("title: Q\nseed: 1\nsections:\n  - {pick: 1, ids: [fixture.other]}\n")
        args[1] = spec
    refused(args, watch=tmp_path, names="t.yaml:3", where="is too large",
            status=(1,) if command == "validate" else (2,))  # fmt: skip
