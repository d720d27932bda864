"""Malformed exam specs fed to every command that reads one (generate): exit 1 or 2, one line
naming the file and the place, no traceback, nothing written."""

from pathlib import Path

import pytest
from bad_input import refused

from quizgen import bank

FIXTURES = Path(__file__).parent / "fixtures"
ROSTER = FIXTURES / "exams" / "roster.csv"
GOOD = "title: Quiz\nseed: 1\nsections:\n  - {pick: 1, topic: regularization, points: 5}\n"


def _bomb() -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


CORPUS = {
    "latin1": ("title: Pr\xfcfung\nseed: 1\n".encode("latin-1"), "exam.yaml:1", "save it as UTF-8"),
    "binary": (b"\x00\x01\x02", "exam.yaml:1", "binary"),
    "points_nan": (GOOD.replace("points: 5", "points: .nan").encode(), "exam.yaml:4", "points must be"),
    "points_inf": (GOOD.replace("points: 5", "points: .inf").encode(), "exam.yaml:4", "points must be"),
    "points_negative": (GOOD.replace("points: 5", "points: -2").encode(), "exam.yaml:4", "points must be"),
    "seed_negative": (GOOD.replace("seed: 1", "seed: -1").encode(), "exam.yaml:2", "seed must be"),
    "seed_huge": (GOOD.replace("seed: 1", "seed: 1" + "0" * 30).encode(), "exam.yaml:2", "seed must be"),
    "no_sections": (b"title: Quiz\nseed: 1\nsections: []\n", "exam.yaml:3", "no sections"),
    "pick_zero": (GOOD.replace("pick: 1", "pick: 0").encode(), "exam.yaml:4", "pick is 0"),
    "unknown_template": (GOOD.replace("topic: regularization", "ids: [nope.x]").encode(), "exam.yaml:4", "nope.x"),
    "ids_not_strings": (GOOD.replace("topic: regularization", "ids: [[1]]").encode(), "exam.yaml:4", "ids"),
    "tags_not_strings": (GOOD.replace("topic: regularization", "tags: [{a: 1}]").encode(), "exam.yaml:4", "tags"),
    "difficulty_text": (GOOD.replace("topic: regularization", "difficulty: [x]").encode(), "exam.yaml:4", "difficulty"),
    "unknown_key": (GOOD.replace("seed: 1", "seed: 1\nsead: 2").encode(), "exam.yaml:3", "unknown key 'sead'"),
    "syntax": (b"title: [unclosed\nseed: 1\n", "exam.yaml:2", "invalid YAML"),
    "a_list": (b"- 1\n- 2\n", "exam.yaml", "expected a mapping"),
    "section_not_mapping": (b"title: Q\nseed: 1\nsections: [1]\n", "exam.yaml", "sections[0]"),
    "sections_text": (b"title: Q\nseed: 1\nsections: abc\n", "exam.yaml:3", "sections has the wrong type"),
    "deep": (b"title: " + b"[" * 100 + b"]" * 100 + b"\n", "exam.yaml", "nested"),
    "alias_bomb": (_bomb().encode(), "exam.yaml", "aliases"),
    "duplicate_key": (b"title: a\ntitle: b\n", "exam.yaml:2", "duplicate key"),
}  # fmt: skip


@pytest.fixture(autouse=True)
def _fixture_bank_only(monkeypatch):
    monkeypatch.setattr(bank, "builtin_bank_dir", lambda: FIXTURES / "banks" / "valid")


@pytest.mark.parametrize("name", CORPUS)
def test_generate_refuses_a_bad_spec(tmp_path, name):
    data, where, says = CORPUS[name]
    spec = tmp_path / "exam.yaml"
    spec.write_bytes(data)
    refused(["generate", spec, "--roster", ROSTER, "--out", tmp_path / "out"], watch=tmp_path, names=where,
            where=says)  # fmt: skip


def test_a_bad_spec_leaves_an_existing_exam_alone(tmp_path):
    from click.testing import CliRunner

    from quizgen.cli import main

    spec = tmp_path / "exam.yaml"
    spec.write_text(GOOD)
    out = tmp_path / "out"
    assert (
        CliRunner()
        .invoke(main, ["generate", str(spec), "--roster", str(ROSTER), "--out", str(out)])
        .exit_code
        == 0
    )
    spec.write_text(GOOD.replace("points: 5", "points: .nan"))
    refused(
        ["generate", spec, "--roster", ROSTER, "--out", out, "--overwrite"], watch=out, names="exam.yaml:4"
    )
