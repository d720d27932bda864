"""Bad command-line options to every command: exit 1 or 2, one line naming the option (or the
file), no traceback, nothing written or changed."""

from pathlib import Path

import pytest
from bad_input import refused
from click.testing import CliRunner

from quizgen import bank
from quizgen.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = FIXTURES / "exams" / "small.yaml"
ROSTER = FIXTURES / "exams" / "roster.csv"


@pytest.fixture(autouse=True)
def _fixture_bank_only(monkeypatch):
    monkeypatch.setattr(bank, "builtin_bank_dir", lambda: FIXTURES / "banks" / "valid")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("graded")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bank, "builtin_bank_dir", lambda: FIXTURES / "banks" / "valid")
        exam = root / "exam"
        assert (
            CliRunner()
            .invoke(main, ["generate", str(SPEC), "--roster", str(ROSTER), "--out", str(exam)])
            .exit_code
            == 0
        )
        args = [
            "grade",
            str(exam / "manifest.json"),
            str(exam / "responses_template.csv"),
            "--out",
            str(root / "g"),
        ]
        assert CliRunner().invoke(main, args).exit_code == 0
    return root  # fmt: skip


def _cases(root: Path, tmp: Path):
    exam, g = root / "exam", root / "g"
    db = g / "gradebook.sqlite"
    a_file = tmp / "notes.txt"
    grade = ["grade", exam / "manifest.json", exam / "responses_template.csv"]
    return {
        "preview_negative_seed": (["preview", "fixture.l2_chain", "--seed", "-1"], "--seed"),
        "preview_huge_seed": (["preview", "fixture.l2_chain", "--seed", str(2**64)], "--seed"),
        "preview_unknown_template": (["preview", "nope.x"], "no template 'nope.x'"),
        "generate_jobs_zero": (["generate", SPEC, "--roster", ROSTER, "--out", tmp / "o", "-j", "0"], "--jobs"),
        "generate_out_is_a_file": (["generate", SPEC, "--roster", ROSTER, "--out", a_file], "notes.txt"),
        "generate_bad_formats": (["generate", SPEC, "--roster", ROSTER, "--out", tmp / "o", "--formats", "docx"], "--formats"),
        "generate_over_an_exam": (["generate", SPEC, "--roster", ROSTER, "--out", exam], "--overwrite"),
        "validate_zero_seeds": (["bank", "validate", FIXTURES / "banks" / "valid", "--seeds", "0"], "--seeds"),
        "grade_rtol_nan": ([*grade, "--out", tmp / "o", "--tolerance", "fixture.l2_chain=rtol:nan"], "rtol"),
        "grade_rtol_inf": ([*grade, "--out", tmp / "o", "--tolerance", "fixture.l2_chain=rtol:inf"], "rtol"),
        "grade_atol_negative": ([*grade, "--out", tmp / "o", "--tolerance", "*=atol:-1"], "atol"),
        "grade_unknown_template": ([*grade, "--out", tmp / "o", "--tolerance", "nope=rtol:0.1"], "no template 'nope'"),
        "grade_out_is_a_file": ([*grade, "--out", a_file], "notes.txt"),
        "grade_credit_above_one": ([*grade, "--out", tmp / "o", "--carry-forward-credit", "2"], "--carry-forward-credit"),
        "regrade_unknown_student": (["regrade", "--db", db, "--override", "zz:q1.a=1", "--reason", "r"], "'zz'"),
        "regrade_unknown_part": (["regrade", "--db", db, "--override", "a1:q1.zz=1", "--reason", "r"], "'zz'"),
        "regrade_no_reason": (["regrade", "--db", db, "--override", "a1:q1.a=0"], "--reason"),
        "regrade_bad_override": (["regrade", "--db", db, "--override", "junk"], "STUDENT:qNUMBER.PART=POINTS"),
        "regrade_unknown_exam": (["regrade", "--db", db, "--exam", "ffff"], "no single exam 'ffff'"),
        "report_no_gradebook": (["report", "--db", tmp / "none.sqlite", "--out", tmp / "r"], "no such gradebook"),
        "report_not_a_gradebook": (["report", "--db", a_file, "--out", tmp / "r"], "not a quizgen gradebook"),
        "export_variants_zero": (["export", "moodle", "--template", "fixture.l2_chain", "--variants", "0", "--out", tmp / "m.xml"], "--variants"),
        "export_no_source": (["export", "qti", "--out", tmp / "q.zip"], "--manifest"),
        "unknown_command": (["gnerate"], "No such command"),
    }  # fmt: skip


CASES = list(_cases(Path("/r"), Path("/t")))


@pytest.mark.parametrize("name", CASES)
def test_a_bad_option_is_one_line_and_changes_nothing(tmp_path, graded, name):
    (tmp_path / "notes.txt").write_text("keep")
    args, says = _cases(graded, tmp_path)[name]
    before_notes = (tmp_path / "notes.txt").read_bytes()
    refused(args, watch=graded, names=says)
    assert (tmp_path / "notes.txt").read_bytes() == before_notes
    assert not [p for p in tmp_path.iterdir() if p.name != "notes.txt"], name
