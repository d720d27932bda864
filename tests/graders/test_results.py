"""Result writers: Gradescope's results.json checked field by field against its specification,
GitHub Classroom's reporter payload, JUnit XML, JSON, the grades CSV, the summary and exit codes,
for a passing grade, a failing one with hidden cases, a rejected submission and a grading error."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import xml.etree.ElementTree as ET

import pytest

from quizgen.graders import results
from quizgen.graders.autograde import CaseGrade, CheckGrade, SubmissionGrade
from quizgen.models import Status

# https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format")
TOP_KEYS = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
TEST_KEYS = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
FORMATS = {"text", "simple_format", "html", "md", "ansi"}


def assert_gradescope_valid(data: dict) -> None:
    json.dumps(data, allow_nan=False)  # strict JSON: no NaN or infinity anywhere
    assert set(data) <= TOP_KEYS
    assert isinstance(data["score"], (int, float)) and math.isfinite(data["score"])  # no per-test-only scores
    assert isinstance(data.get("execution_time", 0), int)
    assert isinstance(data.get("output", ""), str)
    for key in ("output_format", "test_output_format", "test_name_format"):
        assert data.get(key, "text") in FORMATS
    for key in ("visibility", "stdout_visibility"):
        assert data.get(key, "visible") in results.VISIBILITIES
    assert isinstance(data["tests"], list)
    for t in data["tests"]:
        assert set(t) <= TEST_KEYS
        assert t["status"] in ("passed", "failed")
        assert isinstance(t["name"], str) and isinstance(t.get("output", ""), str)
        for key in ("score", "max_score"):
            assert isinstance(t[key], (int, float)) and math.isfinite(t[key])
        assert t.get("visibility", "visible") in results.VISIBILITIES
        assert isinstance(t.get("number", ""), str)
        assert all(isinstance(tag, str) for tag in t.get("tags", []))


def case(label: str, ok: bool, hidden: bool = False, points: float = 2.0) -> CaseGrade:
    check = CheckGrade(
        "out",
        1.0 if ok else 0.0,
        Status.CORRECT if ok else Status.INCORRECT,
        "correct" if ok else "3 of 4 elements are off",
    )
    name = f"forward [{label}]"
    return CaseGrade(
        name,
        "forward",
        label,
        hidden,
        points if ok else 0.0,
        points,
        (check,),
        f"{name}: {check.message}",
        0.01,
    )


PASSING = SubmissionGrade(
    "conv2d",
    "Convolution",
    "a.py",
    (case("visible 1", True), case("hidden 1", True, True)),
    1.5,
    student="alice",
)
FAILING = SubmissionGrade(
    "conv2d",
    "Convolution",
    "b.py",
    (case("visible 1", True), case("hidden 1", False, True)),
    0.2,
    student="bob",
)
REJECTED = SubmissionGrade(
    "conv2d",
    "Convolution",
    "c/",
    (case("visible 1", False),),
    student="carol",
    rejected="no single Python file",
)
BROKEN = SubmissionGrade(
    "conv2d", "Convolution", "d.py", (), error="SandboxError: the fork server did not start", student="dave"
)


@pytest.mark.parametrize(
    "grade", [PASSING, FAILING, REJECTED, BROKEN], ids=["passing", "failing", "rejected", "broken"]
)
def test_gradescope_results_follow_the_specification(grade):
    assert_gradescope_valid(results.gradescope_results(grade))


def test_gradescope_scores_statuses_and_hidden_visibility():
    data = results.gradescope_results(FAILING, hidden_visibility="after_published")
    assert data["score"] == 2.0 and data["execution_time"] == 1
    assert [t["status"] for t in data["tests"]] == ["passed", "failed"]
    assert [t["visibility"] for t in data["tests"]] == ["visible", "after_published"]
    assert data["tests"][1]["max_score"] == 2.0 and data["tests"][1]["score"] == 0.0
    assert data["output_format"] == "text"  # a student's printed HTML is never rendered
    with pytest.raises(ValueError, match="hidden_visibility"):
        results.gradescope_results(FAILING, hidden_visibility="secret")


def test_gradescope_results_explain_a_grading_failure_to_the_student():
    data = results.gradescope_results(BROKEN)
    assert data["score"] == 0
    assert "not a problem with your code" in data["output"]
    assert data["tests"][-1]["name"] == "autograder" and data["tests"][-1]["status"] == "failed"
    rejected = results.gradescope_results(REJECTED)
    assert "could not be graded: no single Python file" in rejected["output"]


def test_classroom_payload_is_base64_json_the_reporter_reads():
    payload = json.loads(base64.b64decode(results.classroom_output(FAILING)))
    assert payload["version"] == 1 and payload["status"] == "fail" and payload["max_score"] == 4.0
    assert [t["status"] for t in payload["tests"]] == ["pass", "fail"]
    assert payload["tests"][0]["message"] is None and "elements are off" in payload["tests"][1]["message"]
    assert sum(t["score"] for t in payload["tests"]) == 2.0
    assert results.classroom_results(PASSING)["status"] == "pass"
    assert results.classroom_results(BROKEN)["status"] == "error"


def test_junit_counts_failures_and_errors():
    root = ET.fromstring(results.junit_xml([PASSING, FAILING, REJECTED, BROKEN]))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["alice"].get("failures") == "0" and suites["bob"].get("failures") == "1"
    assert suites["carol"].get("failures") == "2"  # its one case and the rejection
    assert suites["dave"].get("errors") == "1" and suites["dave"].find("testcase/error") is not None
    failure = suites["bob"].find("testcase/failure")
    assert failure.get("message").startswith("0/2 points: 3 of 4 elements are off")


def test_json_and_csv_agree_on_scores():
    grades = [PASSING, FAILING, REJECTED, BROKEN]
    data = results.json_results(grades)
    assert [s["score"] for s in data["submissions"]] == [4.0, 2.0, 0.0, 0.0]
    rows = list(csv.DictReader(io.StringIO(results.grades_csv(grades))))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave"]
    assert [r["score"] for r in rows] == ["4", "2", "0", "0"]
    assert rows[1]["forward"] == "2" and rows[1]["percent"] == "50.0"
    assert rows[2]["error"] == "no single Python file" and rows[3]["error"].startswith("SandboxError")


def test_summary_shows_each_case_failures_in_detail_and_the_total():
    text = results.summary(FAILING)
    assert "PASS  forward [visible 1]" in text and "FAIL  forward [hidden 1]" in text
    assert "total 2.00 / 4 (50%), 1/2 cases passed" in text
    assert "not a problem with your code" in results.summary(BROKEN)


def test_exit_codes_for_ci():
    assert results.exit_code([PASSING]) == results.EXIT_OK == 0
    assert results.exit_code([PASSING, FAILING]) == results.EXIT_FAILED == 1
    assert results.exit_code([REJECTED]) == results.EXIT_FAILED
    assert results.exit_code([FAILING, BROKEN]) == results.EXIT_ERROR == 3


def _hostile_grade():
    """A grade whose every text came from a hostile child through the parent's boundary."""
    from quizgen.graders.autograde import _call_message, clean_outcome
    from quizgen.graders.sandbox import CallOutcome, Frame

    bad = "\ud800\udfff \x00\x01\x1b[2J\x7f\x85\x9b\u202e\ufffe\uffff\r" * 20
    outcome = clean_outcome(
        CallOutcome(
            "exception",
            error=bad,
            exc_type="Err" + bad,
            exc_message=bad,
            frames=(Frame(3, bad, bad),),
            stdout=bad * 100,
        )
    )
    message = _call_message(outcome, False, ())
    check = CheckGrade("out", 0.0, Status.INCORRECT, message)
    case = CaseGrade("t [visible 1]", "t", "visible 1", False, 0.0, 1.0, (check,), message + outcome.stdout)
    return SubmissionGrade("a", "A", "sub.py", (case,), 0.5, student="s")


def test_every_writer_stays_valid_for_text_that_came_from_a_hostile_child():
    grade = _hostile_grade()
    texts = [
        results.junit_xml([grade]),
        json.dumps(results.json_results([grade]), ensure_ascii=False),  # escapes would hide them
        json.dumps(results.gradescope_results(grade), ensure_ascii=False),
        results.grades_csv([grade]),
        results.summary(grade),
        json.dumps(json.loads(base64.b64decode(results.classroom_output(grade))), ensure_ascii=False),
    ]
    ET.fromstring(texts[0].split("\n", 1)[1])
    for text in texts:
        text.encode("utf-8")  # no lone surrogate left
        assert not any(ch in text for ch in "\x00\x01\x1b\x7f\x85\x9b\u202e\ufffe\uffff\r")
    assert json.loads(texts[1])["submissions"][0]["cases"][0]["checks"][0]["message"].startswith("raised Err")
