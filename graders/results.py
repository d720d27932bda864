"""Writers for autograding results: Gradescope's results.json, GitHub Classroom's reporter
payload, JUnit XML, JSON, a grades CSV, a terminal summary, and exit codes for CI.

Every writer takes :class:`~quizgen.graders.autograde.SubmissionGrade` values and produces valid
output even when grading itself failed (``grade.error``): the student then sees a score of 0 and
a sentence saying the autograder could not grade the file, never a missing or broken file.

Gradescope (https://gradescope-autograders.readthedocs.io/en/latest/specs/): top-level
``score``, ``execution_time`` (seconds), ``output``, formats, ``stdout_visibility``, and
``tests``, each with ``name``, ``number``, ``score``, ``max_score``, ``status`` ("passed" or
"failed"), ``output``, ``tags`` and ``visibility`` ("hidden", "after_due_date",
"after_published" or "visible"). All text is sent as plain text (no HTML rendering).

GitHub Classroom's autograding-grading-reporter reads, per runner, an environment variable
``<RUNNER>_RESULTS`` holding base64 JSON: ``{"version": 1, "status": "pass"|"fail"|"error",
"max_score": ..., "tests": [{"name", "status", "message", "score", ...}]}``.
"""

from __future__ import annotations

import base64
import io
import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from quizgen import csvsafe

from .autograde import SubmissionGrade

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILED",
    "EXIT_OK",
    "VISIBILITIES",
    "classroom_output",
    "classroom_results",
    "exit_code",
    "grades_csv",
    "gradescope_results",
    "json_results",
    "junit_xml",
    "summary",
]

#: Exit codes: all passed; something failed; grading itself failed (2 is the CLI's usage error).
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 3

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")

_FAILED_TO_GRADE = (
    "The autograder could not grade this submission; this is not a problem with your code. "
    "Please tell your instructor. Details: "
)


def _points(x: float) -> float:
    return round(float(x), 4)


def _headline(grade: SubmissionGrade) -> str:
    if grade.error:
        return _FAILED_TO_GRADE + grade.error
    if grade.rejected:
        return "This submission could not be graded: " + grade.rejected
    passed = sum(c.passed for c in grade.cases)
    return (
        f"{grade.title}: {_points(grade.score):g}/{_points(grade.max_score):g} points; "
        f"{passed} of {len(grade.cases)} test cases passed."
    )


def gradescope_results(grade: SubmissionGrade, *, hidden_visibility: str = "after_due_date") -> dict:
    """The results.json object for one submission. Hidden cases get ``hidden_visibility``."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(
            f"hidden_visibility: expected one of {', '.join(VISIBILITIES)}, got {hidden_visibility!r}"
        )
    tests = []
    for k, case in enumerate(grade.cases, start=1):
        tests.append(
            {
                "name": case.name,
                "number": str(k),
                "score": _points(case.points),
                "max_score": _points(case.max_points),
                "status": "passed" if case.passed else "failed",
                "output": case.output,
                "tags": [case.test],
                "visibility": hidden_visibility if case.hidden else "visible",
            }
        )
    if grade.error or grade.rejected:
        tests.append(
            {
                "name": "autograder" if grade.error else "submission",
                "score": 0.0,
                "max_score": 0.0,
                "status": "failed",
                "output": _headline(grade),
                "visibility": "visible",
            }
        )
    return {
        "score": _points(grade.score),
        "execution_time": math.ceil(grade.seconds),
        "output": _headline(grade),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def classroom_results(grade: SubmissionGrade) -> dict:
    """The GitHub Classroom reporter's runner result for one submission."""
    tests = [
        {
            "name": case.name,
            "status": "pass" if case.passed else "fail",
            "message": None if case.passed else case.output,
            "score": _points(case.points),
            "max_score": _points(case.max_points),
            "duration": round(case.seconds * 1000),
        }
        for case in grade.cases
    ]
    if grade.error:
        tests.append({"name": "autograder", "status": "error", "message": _headline(grade), "score": 0})
    elif grade.rejected:
        tests.append({"name": "submission", "status": "fail", "message": _headline(grade), "score": 0})
    status = "error" if grade.error else ("pass" if grade.passed else "fail")
    return {"version": 1, "status": status, "max_score": _points(grade.max_score), "tests": tests}


def classroom_output(grade: SubmissionGrade) -> str:
    """``classroom_results`` as the base64 text the reporter decodes."""
    return base64.b64encode(json.dumps(classroom_results(grade)).encode("utf-8")).decode("ascii")


def junit_xml(grades: Sequence[SubmissionGrade]) -> str:
    """One <testsuite> per submission, one <testcase> per case (failure text = its feedback)."""
    root = ET.Element("testsuites", name="quizgen autograde")
    for grade in grades:
        failures = sum(not c.passed for c in grade.cases)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=grade.student or grade.submission,
            tests=str(len(grade.cases) + bool(grade.error or grade.rejected)),
            failures=str(failures + bool(grade.rejected)),
            errors=str(int(bool(grade.error))),
            time=f"{grade.seconds:.3f}",
        )
        for case in grade.cases:
            tc = ET.SubElement(
                suite,
                "testcase",
                classname=f"{grade.assignment}.{case.test}",
                name=case.label,
                time=f"{case.seconds:.3f}",
            )
            if not case.passed:
                first = next((c.message.splitlines()[0] for c in case.checks if not c.correct), "failed")
                failure = ET.SubElement(
                    tc, "failure", message=f"{case.points:g}/{case.max_points:g} points: {first}"[:500]
                )
                failure.text = case.output
        if grade.error:
            tc = ET.SubElement(suite, "testcase", classname=grade.assignment, name="autograder")
            ET.SubElement(tc, "error", message=grade.error[:500]).text = grade.error
        elif grade.rejected:
            tc = ET.SubElement(suite, "testcase", classname=grade.assignment, name="submission")
            ET.SubElement(tc, "failure", message=grade.rejected[:500]).text = grade.rejected
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def json_results(grades: Sequence[SubmissionGrade]) -> dict:
    """Everything, for other tools: per submission, per case, per check."""
    return {
        "submissions": [
            {
                "student": g.student,
                "submission": g.submission,
                "assignment": g.assignment,
                "score": _points(g.score),
                "max_score": _points(g.max_score),
                "passed": g.passed,
                "error": g.error or None,
                "rejected": g.rejected or None,
                "seconds": round(g.seconds, 3),
                "isolation": {
                    "applied": list(g.isolation.applied),
                    "unavailable": dict(g.isolation.unavailable),
                },
                "cases": [
                    {
                        "name": c.name,
                        "test": c.test,
                        "label": c.label,
                        "hidden": c.hidden,
                        "points": _points(c.points),
                        "max_points": _points(c.max_points),
                        "passed": c.passed,
                        "checks": [
                            {
                                "name": k.name,
                                "score": k.score,
                                "status": k.status.value,
                                "message": k.message,
                                "mistake": k.mistake,
                            }
                            for k in c.checks
                        ],
                    }
                    for c in g.cases
                ],
            }
            for g in grades
        ]
    }


def grades_csv(grades: Sequence[SubmissionGrade]) -> str:
    """One row per submission: student, file, total, maximum, percent, then points per test."""
    test_ids: list[str] = []
    for g in grades:
        for c in g.cases:
            if c.test not in test_ids:
                test_ids.append(c.test)
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\n")
    writer.writerow(["student", "submission", "score", "max_score", "percent", *test_ids, "error"])
    for g in grades:
        per_test = {t: sum(c.points for c in g.cases if c.test == t) for t in test_ids}
        percent = 100.0 * g.score / g.max_score if g.max_score else 0.0
        writer.writerow(
            [
                g.student,
                g.submission,
                f"{_points(g.score):g}",
                f"{_points(g.max_score):g}",
                f"{percent:.1f}",
                *(f"{_points(per_test[t]):g}" for t in test_ids),
                g.error or g.rejected,
            ]
        )
    return out.getvalue()


def summary(grade: SubmissionGrade, *, details: bool = True) -> str:
    """A readable terminal report: one line per case, the feedback of failed ones, the total."""
    lines = [f"{grade.title} ({grade.assignment}): {grade.submission}"]
    if grade.error or grade.rejected:
        return "\n".join([*lines, "  " + _headline(grade)])
    width = max((len(c.name) for c in grade.cases), default=10)
    for case in grade.cases:
        mark = "PASS" if case.passed else "FAIL"
        lines.append(f"  {mark}  {case.name:<{width}}  {case.points:6.2f} / {case.max_points:g}")
        if details and not case.passed:
            body = case.output.split("\n", 1)[1] if "\n" in case.output else ""
            lines.extend("        " + line for line in body.splitlines())
    percent = 100.0 * grade.score / grade.max_score if grade.max_score else 0.0
    passed = sum(c.passed for c in grade.cases)
    lines.append(
        f"  total {grade.score:.2f} / {grade.max_score:g} ({percent:.0f}%), "
        f"{passed}/{len(grade.cases)} cases passed, {grade.seconds:.2f} s"
    )
    return "\n".join(lines)


def exit_code(grades: Sequence[SubmissionGrade]) -> int:
    """EXIT_ERROR if grading failed for any submission, else EXIT_FAILED if any case failed."""
    if any(g.error for g in grades):
        return EXIT_ERROR
    return EXIT_OK if all(g.passed for g in grades) else EXIT_FAILED
