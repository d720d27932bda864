"""The grade, regrade and report commands end to end, on real bank templates and the engine's
recompute for error carried forward."""

import csv
import io
import json

import click
import pytest
from click.testing import CliRunner

from quizgen import engine
from quizgen.cli import QuizgenGroup
from quizgen.cli_grade import grade_commands, parse_tolerance, register
from quizgen.errors import SpecError
from quizgen.graders.gradebook import Gradebook, GradeSettings
from quizgen.manifest import Manifest, Question, StudentPaper
from quizgen.models import Tolerance
from quizgen.seeding import stable_seed


@pytest.fixture(scope="module")
def cli():
    group = QuizgenGroup("quizgen")
    register(group)
    assert [c.name for c in grade_commands] == ["grade", "regrade", "report"]
    return group


@pytest.fixture(autouse=True)
def _bank_loaded_once(monkeypatch, builtin_bank):
    """Each command loads the bank (about a second); load it once for the module."""
    monkeypatch.setattr("quizgen.cli_grade.bank_mod.load_bank", lambda dirs=(): builtin_bank)


@pytest.fixture(scope="module")
def instances(builtin_bank):
    b = builtin_bank
    neuron = b.get("mlp.neuron_forward")  # (a) z = w.x + b, (b) sigmoid(z), b depends on a
    # seeded as generate seeds them (exam seed 7, slot 1): grade redraws and checks every paper
    return {sid: engine.build_instance(neuron, stable_seed(7, sid, 1)) for sid in ("s1", "s2", "s3")}, neuron


@pytest.fixture
def course(tmp_path, instances):
    insts, neuron = instances
    papers = tuple(
        StudentPaper(sid, f"Student {sid}", f"{sid}@example.edu", (Question(1, 1, "Neurons", inst),))
        for sid, inst in insts.items()
    )
    Manifest({"title": "Quiz", "course": "DL", "seed": 7}, papers).save(tmp_path / "manifest.json")
    s2 = insts["s2"]
    wrong_z = s2.part("a").expected + 0.75
    carried = engine.recompute(neuron, s2.params, {"a": wrong_z})["b"]  # sigmoid of the wrong z
    s1 = insts["s1"]
    rows = [
        ["student_id", "name", "q1.a", "q1.b"],
        ["s1", "Student s1", repr(s1.part("a").expected), repr(s1.part("b").expected)],
        ["s2", "Student s2", repr(wrong_z), f"{carried:.6f}"],
        ["s3", "Student s3", "0.3.1", ""],
    ]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    (tmp_path / "responses.csv").write_text(buf.getvalue())
    return tmp_path


def _run(cli, args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_grade_command_grades_with_error_carried_forward_and_writes_reports(cli, course):
    result = _run(cli, ["grade", course / "manifest.json", course / "responses.csv", "--out", course / "out"])
    assert result.exit_code == 0, result.output
    assert "graded 3 students in run 1" in result.output
    grades = (course / "out" / "grades.csv").read_text().splitlines()
    assert grades == [
        "student_id,name,total,slot1",
        "s1,Student s1,2,2",
        "s2,Student s2,1,1",
        "s3,Student s3,0,0",
    ]
    s2 = (course / "out" / "feedback" / "s2.md").read_text()
    assert "carried forward: this part is right given it" in s2
    s3 = (course / "out" / "feedback" / "s3.md").read_text()
    assert "could not be read" in s3 and "expected a single number" in s3


def test_grade_command_json_summary_and_options(cli, course):
    result = _run(
        cli,
        [
            "grade", course / "manifest.json", course / "responses.csv", "--out", course / "out",
            "--carry-forward-credit", "0.5", "--tolerance", "mlp.neuron_forward:a=rtol:0.5", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["graded"] == 3 and summary["warnings"] == [] and len(summary["files"]) == 10


def test_regrade_and_report_commands(cli, course):
    _run(cli, ["grade", course / "manifest.json", course / "responses.csv", "--out", course / "out"])
    result = _run(cli, ["regrade", "--out", course / "out", "--carry-forward-credit", "0.5"])
    assert result.exit_code == 0, result.output
    assert "changed: s2 (Student s2) q1.b: 1 -> 0.5 of 1 (correct -> partial; regraded)" in result.output
    result = _run(cli, ["regrade", "--out", course / "out", "--override", "s3:q1.a=1", "--reason", "typo"])
    assert (
        "changed: s3 (Student s3) q1.a: 0 -> 1 of 1 (format_error -> correct; set by hand: typo)"
        in result.output
    )
    result = _run(cli, ["report", "--db", course / "out" / "gradebook.sqlite", "--out", course / "again"])
    assert result.exit_code == 0 and "10 files in" in result.output
    assert "s3,Student s3,1,1" in (course / "again" / "grades.csv").read_text()


def test_user_errors_are_one_line_with_exit_status_2(cli, course, tmp_path):
    bad = tmp_path / "responses.csv"
    bad.write_text("name,q1.a\nx,1\n")
    result = CliRunner().invoke(
        cli, ["grade", str(course / "manifest.json"), str(bad), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}:1: no student_id column")
    result = CliRunner().invoke(cli, ["regrade", "--out", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "no such gradebook" in result.output
    result = CliRunner().invoke(cli, ["regrade"])
    assert result.exit_code == 2 and "give the gradebook with --db" in result.output


@pytest.mark.parametrize(
    "text, key, tol",
    [
        ("conv.size=rtol:0.05", "conv.size", Tolerance(rtol=0.05)),
        ("adam:m=sigfigs:3", "adam:m", Tolerance(sigfigs=3)),
        ("t=rtol:0,atol:0.001", "t", Tolerance(rtol=0.0, atol=0.001)),
        ("t=exact", "t", Tolerance(exact=True)),
    ],
)
def test_tolerance_options_parse(text, key, tol):
    assert parse_tolerance(text) == (key, tol)


@pytest.mark.parametrize(
    "text",
    ["conv.size", "t=speed:3", "t=rtol:x", "t=sigfigs:0", "t=exact,sigfigs:2", "t=rtol:nan", "t=rtol:inf",
     "t=atol:-1", "t=atol:inf", "t=rtol:-0.1"],
)  # fmt: skip
def test_bad_tolerance_options_say_how_to_write_them(text):
    with pytest.raises(click.BadParameter):
        parse_tolerance(text)


def test_non_finite_tolerances_are_refused_by_the_type_itself():
    for bad in ({"rtol": float("nan")}, {"rtol": float("inf")}, {"atol": float("nan")}, {"atol": -1.0}):
        with pytest.raises(ValueError, match="finite numbers >= 0"):
            Tolerance(**bad)


def _snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _graded(cli, course):
    result = _run(cli, ["grade", course / "manifest.json", course / "responses.csv", "--out", course / "out"])
    assert result.exit_code == 0, result.output
    return course / "out" / "gradebook.sqlite"


def _fails(cli, args, *fragments):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "tolerance, fragment",
    [
        ("conv.size=rtol:0.5", "the exam has no template 'conv.size' (its templates: mlp.neuron_forward)"),
        ("mlp.neuron_forward:z=rtol:0.5", "has no part 'z'"),
    ],
)
def test_tolerances_that_would_be_ignored_are_errors(cli, course, tolerance, fragment):
    _fails(cli, ["grade", course / "manifest.json", course / "responses.csv", "--out", course / "o",
                 "--tolerance", tolerance], fragment)  # fmt: skip
    assert not (course / "o").exists()
    db = _graded(cli, course)
    before = _snapshot(course / "out")
    _fails(cli, ["regrade", "--db", db, "--tolerance", tolerance], fragment)
    assert _snapshot(course / "out") == before


def test_a_tolerance_on_exactly_graded_parts_is_an_error():
    settings = GradeSettings(tolerances={"conv.size": Tolerance(rtol=0.5)})
    with pytest.raises(SpecError, match=r"a \(integer\), b \(shape\) graded exactly"):
        settings.check({"conv.size": {"a": "integer", "b": "shape"}})
    GradeSettings(tolerances={"conv.size": Tolerance(rtol=0.5)}).check(
        {"conv.size": {"a": "integer", "b": "real"}}
    )


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("nobody:q1.a=1", "student 'nobody' has no question 1"),
        ("s1:q9.a=1", "student 's1' has no question 9"),
        ("s1:q1.z=1", "has no part 'z'"),
        ("s1:q1.a=5", "points must be in [0, 1], got 5"),
        ("s1:q1.a=nan", "points must be in [0, 1], got nan"),
    ],
)
def test_a_bad_override_changes_nothing_and_records_no_run(cli, course, override, fragment):
    db = _graded(cli, course)
    before = _snapshot(course / "out")
    _fails(cli, ["regrade", "--db", db, "--carry-forward-credit", "0.5", "--override", override,
                 "--reason", "r"], fragment)  # fmt: skip
    assert _snapshot(course / "out") == before
    with Gradebook(db) as book:
        assert [r[0] for r in book.db.execute("SELECT kind FROM runs")] == ["grade"]


def test_regrade_refuses_the_manifest_of_another_exam(cli, course, instances):
    db = _graded(cli, course)
    before = _snapshot(course / "out")
    insts, _ = instances
    papers = (StudentPaper("s1", "S", "", (Question(1, 1, "Neurons", insts["s1"]),)),)
    Manifest({"title": "Final", "course": "DL", "seed": 8}, papers).save(course / "other.json")
    _fails(cli, ["regrade", "--db", db, "--manifest", course / "other.json"],
           f"error: {course / 'other.json'}: this manifest is of another exam ('Final'", "'quizgen grade'")  # fmt: skip
    assert _snapshot(course / "out") == before


def test_regrade_with_only_db_rewrites_the_reports_where_they_were(cli, course):
    db = _graded(cli, course)
    result = _run(cli, ["regrade", "--db", db, "--override", "s3:q1.a=1", "--reason", "typo"])
    assert result.exit_code == 0, result.output
    assert f"reports in {(course / 'out').resolve()}" in result.output
    assert "s3,Student s3,1,1" in (course / "out" / "grades.csv").read_text()


class _Killed(BaseException):
    """Stands for kill -9: the process stops between two commits."""


def test_an_interrupted_grade_is_marked_and_report_says_to_grade_again(cli, course, monkeypatch):
    real = Gradebook._commit_student
    calls = []

    def killed_after_the_first_student(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise _Killed
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Gradebook, "_commit_student", killed_after_the_first_student)
    with pytest.raises(_Killed):
        _run(cli, ["grade", course / "manifest.json", course / "responses.csv", "--out", course / "out"])
    monkeypatch.setattr(Gradebook, "_commit_student", real)
    db = course / "out" / "gradebook.sqlite"
    message = "did not finish (1 students graded; interrupted?); run 'quizgen grade' again"
    _fails(cli, ["report", "--db", db, "--out", course / "rep"], message)
    assert not (course / "rep").exists()
    _fails(cli, ["regrade", "--db", db, "--out", course / "out"], message)
    result = _run(cli, ["grade", course / "manifest.json", course / "responses.csv", "--out", course / "out"])
    assert "resumed: 1 were already done" in result.output
    assert _run(cli, ["report", "--db", db, "--out", course / "rep"]).exit_code == 0
