"""Formula injection: text cells a spreadsheet would run are escaped; numbers stay numbers."""

import csv
import io

import pytest

from quizgen import csvsafe
from quizgen.graders.gradebook import grades_csv
from quizgen.manifest import StudentPaper
from quizgen.output import response_template


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\r=1", "-", "+"]
)
def test_formula_text_gets_a_leading_quote(text):
    assert csvsafe.escape_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-0.5", "+3", "1e-3", "-1.5E+2", "Ann", "", 3, -0.5, None, "a=b"])
def test_numbers_and_ordinary_text_are_unchanged(value):
    assert csvsafe.escape_cell(value) == value


def test_grades_and_response_template_escape_names():
    # no records: both students are absent, so their totals are blank (not 0)
    rows = list(csv.reader(io.StringIO(grades_csv([], [("s1", "=1+1"), ("s2", "-0.5")]))))
    assert rows[1][:3] == ["s1", "'=1+1", ""] and rows[2][1] == "-0.5"
    papers = [StudentPaper("s1", "@evil", "", ())]
    assert response_template(papers, ["q1.a"]).splitlines()[1] == "s1,'@evil,"


def test_a_filled_in_response_template_grades_students_whose_ids_look_like_formulas(tmp_path):
    """The template escapes an id such as "+s1" as "'+s1"; the instructor fills it in and hands
    it back to grade, which must read the id as "+s1" (it refused the file, or counted those
    students absent when others matched)."""
    from pathlib import Path

    from click.testing import CliRunner

    from quizgen import bank
    from quizgen.cli import main

    fixtures = Path(__file__).parent / "fixtures"
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n+s1,=Ann\nb2,Bob\n", encoding="utf-8")
    exam = tmp_path / "exam"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bank, "builtin_bank_dir", lambda: fixtures / "banks" / "valid")
        spec = str(fixtures / "exams" / "small.yaml")
        done = CliRunner().invoke(main, ["generate", spec, "--roster", str(roster), "--out", str(exam)])
        assert done.exit_code == 0, done.output
        rows = list(csv.reader((exam / "responses_template.csv").open(encoding="utf-8")))
        assert rows[1][0] == "'+s1"
        for row in rows[1:]:
            row[2] = "1"  # an answer, right or wrong, in the first part
        filled = tmp_path / "filled.csv"
        with filled.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
        out = tmp_path / "graded"
        done = CliRunner().invoke(
            main, ["grade", str(exam / "manifest.json"), str(filled), "--out", str(out)]
        )
    assert done.exit_code == 0, done.output
    graded = {r["student_id"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    assert graded["'+s1"]["total"] != ""  # graded (the id is escaped again in grades.csv), not absent


@pytest.mark.parametrize("text", ["=1+1", "+s1", "@x", "-a", "-0.5", "Ann", "'quoted", "''=x", ""])
def test_unescape_undoes_escape(text):
    assert csvsafe.unescape_cell(csvsafe.escape_cell(text)) == text
