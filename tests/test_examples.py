"""The example course: the README's main job works and its responses file is current."""

import csv
import importlib.util
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def midterm(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("midterm")
    result = CliRunner().invoke(
        main,
        [
            "generate",
            str(EXAMPLES / "midterm.yaml"),
            "--roster",
            str(EXAMPLES / "roster.csv"),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_example_responses_file_matches_the_current_bank(midterm):
    spec = importlib.util.spec_from_file_location("make_responses", EXAMPLES / "make_responses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.make_responses(midterm / "manifest.json")
    committed = (EXAMPLES / "responses.csv").read_text(encoding="utf-8")
    assert fresh == committed, (
        "regenerate it: python examples/make_responses.py OUT/manifest.json examples/responses.csv"
    )


def test_grading_the_example_meets_every_kind_of_answer(midterm, tmp_path):
    out = tmp_path / "grades"
    result = CliRunner().invoke(
        main, ["grade", str(midterm / "manifest.json"), str(EXAMPLES / "responses.csv"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        rows = db.execute("select status, mistake is not null, carried_forward from grades").fetchall()
    statuses = {r[0] for r in rows}
    assert {"correct", "incorrect", "format_error", "blank"} <= statuses
    assert sum(r[1] for r in rows) > 0, "no known mistake was named"
    assert sum(r[2] for r in rows) > 0, "no answer was credited by error carried forward"
    assert len((out / "grades.csv").read_text().splitlines()) == 31
    # its wrong answers are systematic (off by one, scaled) but independent: nothing to flag
    with open(out / "flags.csv", newline="") as fh:
        pairs = {(row["student_id"], row["other_id"]) for row in csv.DictReader(fh)}
    assert len(pairs) <= 1, pairs
