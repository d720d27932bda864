import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from grading_fixtures import WIDE_CSV, chain, manifest_dict, recompute_chain, write_manifest

from quizgen.errors import SpecError
from quizgen.graders.gradebook import (
    Gradebook,
    GradeSettings,
    grade_class,
    parse_override,
    regrade_class,
    report,
)
from quizgen.models import Tolerance

HERE = Path(__file__).parent

pytestmark = pytest.mark.usefixtures("hand_written_papers")


@pytest.fixture
def course(tmp_path):
    write_manifest(tmp_path / "manifest.json")
    (tmp_path / "responses.csv").write_text(WIDE_CSV)
    return tmp_path


@pytest.fixture(params=["sqlite", "postgresql"])
def book(request, course):
    """Where the gradebook is, for the tests run on both databases: OUT/gradebook.sqlite (grade's
    default), or an empty PostgreSQL database of the test's own (skipped, saying why, where no
    server can be started)."""
    if request.param == "sqlite":
        return course / "out" / "gradebook.sqlite"
    return request.getfixturevalue("postgres_url")


def _grade(course, book=None, **kw):
    return grade_class(
        course / "manifest.json",
        course / "responses.csv",
        course / "out",
        db_path=book,
        recompute_factory=recompute_chain,
        **kw,
    )


def _count(book, table):
    with Gradebook.existing(book) as gradebook:
        return gradebook.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_grading_a_class_writes_the_gradebook_grades_csv_and_every_report(course, book):
    outcome = _grade(course, book)
    assert outcome.run.graded == 3 and outcome.run.resumed == 0 and outcome.warnings == ()
    # s1 all right (4 + 2); s2: conv shape right (1), choice the flip mistake (0), chain a wrong,
    # b right by error carried forward (2); s3 nothing right. Slots, not printed numbers.
    assert (course / "out" / "grades.csv").read_text() == (
        "student_id,name,total,slot1,slot2\n"
        "s1,Ada Lovelace,6,4,2\n"
        "s2,Alan Turing,3,2,1\n"
        "s3,Grace <Hopper>,0,0,0\n"
    )
    names = sorted(p.relative_to(course / "out").as_posix() for p in outcome.files)
    assert names == sorted(
        ["grades.csv", "item_analysis.csv", "flags.csv", "report.html"]
        + [f"feedback/s{i}.{ext}" for i in (1, 2, 3) for ext in ("html", "md")]
    )
    # PostgreSQL holds everything: no SQLite file beside the reports
    assert (course / "out" / "gradebook.sqlite").exists() == isinstance(book, Path)
    assert _count(book, "exams") == 1
    s2 = (course / "out" / "feedback" / "s2.md").read_text()
    assert "Graded with your earlier answer to part (a) carried forward" in s2
    assert "You flipped the kernel." in s2


def test_grading_again_replaces_grades_without_duplicates_or_changes(course, book):
    _grade(course, book)
    again = _grade(course, book)
    assert again.run.run_id == 2 and again.run.changes == ()
    assert _count(book, "grades") == 12 and _count(book, "responses") == 12 and _count(book, "students") == 3


KILL_SCRIPT = """
import os, signal, sys
sys.path.insert(0, {fixtures!r})
from grading_fixtures import recompute_chain
from quizgen.graders import gradebook
from quizgen.graders.gradebook import grade_class
gradebook.check_manifest = lambda manifest, bank, skip=(): None  # hand-written papers (conftest.py)
def die(student_id):
    os.kill(os.getpid(), signal.SIGKILL)
grade_class({manifest!r}, {responses!r}, {out!r}, db_path={db!r}, recompute_factory=recompute_chain, progress=die)
"""


def test_a_killed_run_loses_nothing_and_rerunning_finishes_it_without_duplicates(course, book):
    script = KILL_SCRIPT.format(
        fixtures=str(HERE),
        manifest=str(course / "manifest.json"),
        responses=str(course / "responses.csv"),
        out=str(course / "out"),
        db=str(book),
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -9  # killed right after the first student's commit
    assert _count(book, "grades") == 4 and _count(book, "run_students") == 1
    outcome = _grade(course, book)
    assert (outcome.run.run_id, outcome.run.resumed, outcome.run.graded) == (1, 1, 2)
    assert _count(book, "grades") == 12 and _count(book, "run_students") == 3 and _count(book, "runs") == 1
    assert (course / "out" / "grades.csv").read_text().splitlines()[2] == "s2,Alan Turing,3,2,1"


def test_a_failed_transaction_writes_nothing(course, book):
    _grade(course, book)
    with Gradebook(book) as gradebook:
        key = gradebook.resolve_exam()
        with pytest.raises(RuntimeError), gradebook.transaction() as db:
            db.execute("DELETE FROM grades")
            raise RuntimeError("killed")
        assert len(gradebook.records(key)) == 12


def test_regrade_with_a_new_tolerance_lists_what_changed_for_whom(course, book):
    _grade(course, book)
    # s3 answered 2.5 for a = 10 and 6 for b = 11: a tolerance of 100% accepts both
    outcome = regrade_class(
        book,
        out_dir=course / "out",
        settings=GradeSettings(tolerances={"chain": Tolerance(rtol=1.0)}),
        recompute_factory=recompute_chain,
    )
    described = [c.describe() for c in outcome.changes]
    assert described == [
        "s2 (Alan Turing) q2.a: 0 -> 2 of 2 (incorrect -> correct; regraded)",
        "s3 (Grace <Hopper>) q1.a: 0 -> 2 of 2 (incorrect -> correct; regraded)",
        "s3 (Grace <Hopper>) q1.b: 0 -> 2 of 2 (incorrect -> correct; regraded)",
    ]
    assert outcome.run.kind == "regrade"
    assert "s3,Grace <Hopper>,4,4,0" in (course / "out" / "grades.csv").read_text()


def test_an_exam_wide_tolerance_applies_where_no_template_override_does():
    settings = GradeSettings(tolerances={"*": Tolerance(rtol=0.5), "chain:b": Tolerance(sigfigs=2)})
    inst = settings.apply(chain(3.0))
    assert [p.tolerance for p in inst.parts] == [Tolerance(rtol=0.5), Tolerance(sigfigs=2)]


def test_regrade_with_more_responses_reads_them_against_the_stored_papers(course, book):
    _grade(course, book)
    fix = course / "late.csv"
    fix.write_text("student_id,question,part,answer\ns3,1,a,10\ns3,chain,b,11\n")
    outcome = regrade_class(book, responses_path=fix, recompute_factory=recompute_chain)
    assert [(c.student_id, c.number, c.part_id, c.new_points) for c in outcome.changes] == [
        ("s3", 1, "a", 2.0),
        ("s3", 1, "b", 2.0),
    ]
    assert outcome.warnings == ()


def test_regrade_without_settings_keeps_the_last_runs_and_changes_nothing(course):
    _grade(course, settings=GradeSettings(carry_forward_credit=0.5))
    outcome = regrade_class(course / "out" / "gradebook.sqlite", recompute_factory=recompute_chain)
    assert outcome.changes == ()
    # without out_dir the reports are rewritten where grade wrote them, not left stale
    assert course / "out" / "grades.csv" in outcome.files


def test_regrade_with_a_corrected_manifest_recomputes_from_stored_responses(course, book):
    _grade(course, book)
    corrected = manifest_dict()
    corrected["students"][0]["questions"][0]["instance"]["parts"][0]["expected"] = 7.0  # s1's a: was 6
    path = course / "corrected.json"
    path.write_text(json.dumps(corrected))
    outcome = regrade_class(book, manifest_path=path, recompute_factory=recompute_chain)
    assert [(c.student_id, c.number, c.part_id, c.new_points) for c in outcome.changes] == [
        ("s1", 1, "a", 0.0)
    ]


def test_manual_override_survives_regrades_and_can_be_cleared(course, book):
    _grade(course, book)
    outcome = regrade_class(book, overrides=["s3:q1.b=1.5"], reason="right method, slip at the end")
    (change,) = outcome.overrides
    assert change.describe() == (
        "s3 (Grace <Hopper>) q1.b: 0 -> 1.5 of 2 (incorrect -> partial; set by hand: right method, slip at the end)"
    )
    again = regrade_class(book, out_dir=course / "out", settings=GradeSettings(partial=False))
    assert again.run.changes == ()
    assert "s3,Grace <Hopper>,1.5,1.5,0" in (course / "out" / "grades.csv").read_text()
    assert "set by hand: right method" in (course / "out" / "feedback" / "s3.md").read_text()
    cleared = regrade_class(book, clear_overrides=["s3:q1.b"])
    assert [c.new_points for c in cleared.overrides] == [0.0]


@pytest.mark.parametrize(
    "spec, reason, message",
    [
        ("s3:q1.b=5", "r", r"override s3:q1.b: points must be in \[0, 2\], got 5"),
        ("s3:q1.b=1", "", r"override s3:q1.b: give a reason"),
        ("s3:q1.z=1", "r", r"question 1 of 's3' has no part 'z'"),
        ("s9:q1.a=1", "r", r"student 's9' has no question 1"),
        ("s3-q1.b=1", "r", r"override 's3-q1.b=1': write STUDENT:qNUMBER.PART=POINTS, such as s002:q3.b=1.5"),
        ("s3:q1.b=lots", "r", r"'lots' is not a number of points"),
    ],
)
def test_bad_overrides_fail_in_one_line(course, spec, reason, message):
    _grade(course)
    with pytest.raises(SpecError, match=message):
        regrade_class(course / "out" / "gradebook.sqlite", overrides=[spec], reason=reason)


def test_parse_override_reads_student_question_part_and_points():
    assert parse_override("s002:q3.b=1.5") == ("s002", 3, "b", 1.5)
    assert parse_override(" s002 : 3 . dx = 0 ") == ("s002", 3, "dx", 0.0)
    assert parse_override("s002:q3.b", points=False) == ("s002", 3, "b", None)


def test_response_warnings_are_kept_with_the_run_and_written_out(course):
    (course / "responses.csv").write_text(WIDE_CSV + "s9,Mallory,1,2,3,4\n")
    outcome = _grade(course)
    assert any("student 's9' is not in the manifest" in w for w in outcome.warnings)
    assert "s9" in (course / "out" / "warnings.txt").read_text()
    assert "Mallory" not in (course / "out" / "grades.csv").read_text()


def test_report_rewrites_everything_from_the_gradebook_alone(course, book):
    _grade(course, book)
    before = (course / "out" / "grades.csv").read_text()
    for f in (course / "out").glob("*.csv"):
        f.unlink()
    files = report(book, course / "again")
    assert (course / "again" / "grades.csv").read_text() == before
    assert len(files) == 10 and (course / "again" / "report.html").read_text().count("<rect") == 10


def test_unusable_gradebook_paths_fail_in_one_line(tmp_path, course):
    with pytest.raises(SpecError, match="no such gradebook; run 'quizgen grade' first"):
        regrade_class(tmp_path / "missing.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not sqlite" * 100)
    with pytest.raises(SpecError, match=r"junk\.sqlite: not a quizgen gradebook"):
        report(junk, tmp_path / "out")
    _grade(course)
    with pytest.raises(SpecError, match=r"no single exam 'zzz' in the gradebook \(exams: "):
        report(course / "out" / "gradebook.sqlite", tmp_path / "o", exam="zzz")


def test_two_exams_in_one_gradebook_need_a_choice(course):
    _grade(course)
    other = manifest_dict()
    other["exam"]["title"] = "Quiz 2"
    (course / "m2.json").write_text(json.dumps(other))
    grade_class(
        course / "m2.json",
        course / "responses.csv",
        course / "out2",
        db_path=course / "out" / "gradebook.sqlite",
    )
    with pytest.raises(SpecError, match=r"several exams .*Quiz 1.*Quiz 2.*; choose one with --exam"):
        report(course / "out" / "gradebook.sqlite", course / "o")


# ------------------------------------------------------------------------------ absent students

# s1 answers everything right, s2 hands in a row of blanks, s3 hands in nothing (absent).
ABSENT_CSV = """student_id,name,q1.a,q1.b,q2.a,q2.b
s1,Ada Lovelace,6,7,4x4x8,B
s2,Alan Turing,,,,
"""


def _grades(path):
    with open(path, newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def test_an_absent_student_is_blank_in_grades_csv_and_one_who_handed_in_blanks_gets_0(course, book):
    (course / "responses.csv").write_text(ABSENT_CSV)
    outcome = _grade(course, book)
    assert outcome.run.graded == 2 and outcome.run.absent == ("s3",)
    rows = _grades(course / "out" / "grades.csv")
    assert list(rows) == ["s1", "s2", "s3"]  # the roster, absent included
    assert (rows["s1"]["total"], rows["s1"]["slot1"], rows["s1"]["slot2"]) == ("6", "4", "2")
    assert (rows["s2"]["total"], rows["s2"]["slot1"], rows["s2"]["slot2"]) == ("0", "0", "0")
    assert (rows["s3"]["name"], rows["s3"]["total"], rows["s3"]["slot1"], rows["s3"]["slot2"]) == (
        "Grace <Hopper>",
        "",
        "",
        "",
    )
    assert _count(book, "grades") == 8  # 4 parts each for s1 and s2
    assert outcome.warnings == (
        "no answers from student 's3' (Grace <Hopper>) in any responses file: absent, not graded "
        "(empty in grades.csv)",
        "student 's2' (Alan Turing) handed in only blank answers: graded 0",
    )


def test_absent_students_are_left_out_of_item_analysis_and_listed_in_the_report(course):
    (course / "responses.csv").write_text(ABSENT_CSV)
    _grade(course)
    with open(course / "out" / "item_analysis.csv", newline="") as fh:
        items = list(csv.DictReader(fh))
    assert len(items) == 4
    for it in items:  # s1 and s2 only; s2's blank is counted as a blank, s3 not at all
        assert (it["n"], it["blank"], it["difficulty"]) == ("2", "0.500", "0.500"), it
    html = (course / "out" / "report.html").read_text()
    assert "2 students graded, 1 absent" in html
    absent = html.split("<h2>Absent</h2>", 1)[1]
    assert "<li>s3 (Grace &lt;Hopper&gt;)</li>" in absent and "s2" not in absent.split("</ul>")[0]
    assert "absent, not graded" in (course / "out" / "feedback" / "s3.md").read_text()
    with pytest.raises(SpecError, match=r"override s3:q1.a: s3 is absent \(no answer stored\)"):
        regrade_class(course / "out" / "gradebook.sqlite", overrides=["s3:q1.a=1"], reason="r")


def test_a_second_partial_file_keeps_earlier_answers_without_calling_them_blank(course):
    (course / "responses.csv").write_text(ABSENT_CSV)
    _grade(course)
    (course / "responses.csv").write_text("student_id,name,q1.a,q1.b,q2.a,q2.b\ns3,Grace Hopper,2.5,6,,\n")
    outcome = _grade(course)
    assert outcome.run.absent == () and outcome.run.graded == 3
    assert not any("s1" in w for w in outcome.warnings), outcome.warnings
    assert outcome.warnings == ("student 's2' (Alan Turing) handed in only blank answers: graded 0",)
    rows = _grades(course / "out" / "grades.csv")
    assert rows["s1"]["total"] == "6"  # kept from the first file
    assert (rows["s3"]["total"], rows["s3"]["slot1"], rows["s3"]["slot2"]) == ("0", "0", "0")
    assert "<h2>Absent</h2>\n<p>None.</p>" in (course / "out" / "report.html").read_text()


def test_late_answers_of_an_absent_student_are_graded_by_a_regrade(course, book):
    (course / "responses.csv").write_text(ABSENT_CSV)
    _grade(course, book)
    late = course / "late.csv"
    late.write_text("student_id,question,part,answer\ns3,1,a,10\ns3,chain,b,11\n")
    outcome = regrade_class(
        book, out_dir=course / "out", responses_path=late,
        recompute_factory=recompute_chain,
    )  # fmt: skip
    assert outcome.run.absent == ()
    assert outcome.warnings == ("student 's2' (Alan Turing) handed in only blank answers: graded 0",)
    assert _grades(course / "out" / "grades.csv")["s3"]["total"] == "4"
