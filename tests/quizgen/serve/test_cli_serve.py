"""``quizgen serve tokens``: one link per student, only hashes stored; a missing extra is named."""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("sqlalchemy")

from click.testing import CliRunner

from quizgen.cli import main
from quizgen.errors import QuizgenError
from quizgen.serve import require


def test_tokens_prints_one_link_per_student_and_stores_only_hashes(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\ns001,Ada,a@x\ns002,Alan,b@x\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    args = ["serve", "tokens", "examples/midterm.yaml", "--roster", str(roster), "--database", url]
    result = CliRunner().invoke(main, [*args, "--base-url", "https://quiz.example/"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "id,name,link" and len(lines) == 3
    token = lines[1].split("token=")[1]
    assert lines[1].startswith("s001,Ada,https://quiz.example/signin?token=")
    for stored in tmp_path.glob("serve.sqlite*"):  # the database and its journal
        assert token.encode() not in stored.read_bytes()
    bad = CliRunner().invoke(main, [*args, "--student", "s999"])
    assert bad.exit_code == 2 and "no student s999" in bad.output


def test_a_missing_extra_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "alembic" else real(name))
    with pytest.raises(QuizgenError, match=r"pip install 'quizgen\[serve\]'"):
        require()


def test_revoke_ends_a_students_links_and_asks_whom(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\ns001,Ada,a@x\ns002,Alan,b@x\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    course = ["examples/midterm.yaml", "--roster", str(roster), "--database", url]
    runner = CliRunner()
    assert runner.invoke(main, ["serve", "tokens", *course]).exit_code == 0
    result = runner.invoke(main, ["serve", "revoke", *course, "--student", "s001"])
    assert result.exit_code == 0 and "s001: revoked 1 links, ended 0 sessions" in result.output
    result = runner.invoke(main, ["serve", "revoke", *course])
    assert result.exit_code != 0 and "--student" in result.output
