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
