"""``quizgen export``: from a generated exam's manifest and straight from the bank."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen import bank
from quizgen import exam as exam_mod
from quizgen.cli import main
from quizgen.export.validate_moodle import validate_moodle
from quizgen.export.validate_qti import validate_qti

FIXTURES = Path(__file__).parent.parent / "fixtures"
VALID = str(FIXTURES / "banks" / "valid")


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def exam(tmp_path_factory) -> Path:
    """The fixture exam for its three students (the manifest only, built in this process)."""
    out = tmp_path_factory.mktemp("cli") / "exam"
    the_bank = bank.load_bank([VALID], include_builtin=False)
    spec = exam_mod.load_spec(FIXTURES / "exams" / "small.yaml", the_bank)
    manifest = exam_mod.build_exam(spec, exam_mod.load_roster(FIXTURES / "exams" / "roster.csv"))
    manifest.save(out / "manifest.json")
    return out


def test_moodle_from_a_manifest_has_one_variant_per_student_in_the_slots_category(exam, tmp_path):
    result = run(
        "export",
        "moodle",
        "--manifest",
        str(exam / "manifest.json"),
        "--out",
        str(tmp_path / "m.xml"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["questions"] == 3
    # 8 blanks: four parts of 2 points, two of them split in thirds: every question x3, and
    # the note says to set the quiz's maximum grade to the exam's 8 points
    assert summary["warnings"] == []
    assert summary["notes"] == [
        "Moodle: cloze blanks take whole-number weights, so every question imports worth 3 x its exam "
        "points (marks sum to 24); after importing, set the quiz's Maximum grade to the exam's total, 8"
    ]
    report = validate_moodle((tmp_path / "m.xml").read_text())
    assert report.problems == []
    assert {q.category for q in report.questions} == {"$course$/top/Fixture quiz/fixture.l2_chain"}
    assert len({q.idnumber for q in report.questions}) == 3


def test_qti_from_the_bank_warns_on_stderr_and_strict_exits_1(tmp_path):
    args = ["export", "qti", "--bank", VALID, "--template", "fixture.l2_chain", "--variants", "2"]
    result = run(*args, "--out", str(tmp_path), "--strict")
    assert result.exit_code == 1
    assert "warning: 1 of 1 questions need several answers per variant (fixture.l2_chain)" in result.stderr
    assert "qti: 2 questions" in result.stdout
    assert validate_qti(tmp_path / "canvas_qti.zip").problems == []


def test_pdf_tex_only_from_a_manifest_folder(exam, tmp_path):
    result = run("export", "pdf", "--manifest", str(exam), "--out", str(tmp_path / "print"), "--tex-only")
    assert result.exit_code == 0, result.output
    written = sorted(
        p.relative_to(tmp_path / "print").as_posix() for p in (tmp_path / "print").rglob("*.tex")
    )
    assert written == [f"{d}/{s}.tex" for d in ("keys", "papers") for s in ("a1", "b2", "c3")]


def test_export_needs_exactly_one_source(exam, tmp_path):
    neither = run("export", "moodle", "--out", str(tmp_path))
    assert neither.exit_code == 2 and "give either --manifest or at least one --template" in neither.output
    both = run("export", "moodle", "--manifest", str(exam), "--template", "x", "--out", str(tmp_path))
    assert both.exit_code == 2


def test_an_unknown_template_is_a_one_line_error(tmp_path):
    result = run("export", "moodle", "--template", "no.such", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no template 'no.such' in the bank; see 'quizgen bank list'"
