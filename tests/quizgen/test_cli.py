import json
from pathlib import Path

from click.testing import CliRunner

from quizgen.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
VALID = str(FIXTURES / "banks" / "valid")


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_bank_list_json_includes_the_extra_bank():
    result = run("bank", "list", "--bank", VALID, "--topic", "regularization", "--json")
    assert result.exit_code == 0
    ids = [t["id"] for t in json.loads(result.output)]
    assert "fixture.l2_chain" in ids


def test_preview_prints_question_answers_mistakes_and_solution():
    result = run("preview", "fixture.l2_chain", "--bank", VALID, "--seed", "3")
    assert result.exit_code == 0
    for fragment in ("L2 penalty", "answer:", "mistake half_convention", "Worked solution"):
        assert fragment in result.output


def test_generate_writes_the_exam_and_reports_json(tmp_path):
    out = tmp_path / "out"
    result = run(
        "generate",
        str(FIXTURES / "exams" / "small.yaml"),
        "--bank",
        VALID,
        "--roster",
        str(FIXTURES / "exams" / "roster.csv"),
        "--out",
        str(out),
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["students"] == 3 and (out / "manifest.json").exists()
    assert summary["jobs"] == 1  # auto: a class of 3 is built in one process


def test_auto_jobs_uses_every_cpu_only_for_a_large_class(monkeypatch):
    from quizgen import cli

    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert cli.auto_jobs(cli.AUTO_JOBS_MIN_STUDENTS - 1) == 1
    assert cli.auto_jobs(cli.AUTO_JOBS_MIN_STUDENTS) == 3


def test_jobs_must_be_a_positive_number_or_auto(tmp_path):
    args = ["generate", str(FIXTURES / "exams" / "small.yaml"), "--bank", VALID]
    args += ["--roster", str(FIXTURES / "exams" / "roster.csv"), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, [*args, "-j", "0"])
    assert result.exit_code == 2 and "expected a number of processes >= 1 or 'auto'" in result.output
    assert not (tmp_path / "o").exists()
    assert run(*args, "-j", "2", "--quiet").exit_code == 0


def test_user_errors_are_one_line_with_exit_status_2(tmp_path):
    spec = tmp_path / "exam.yaml"
    spec.write_text("title: t\nseed: 1\nsections:\n  - {pick: 9, topic: regularization}\n")
    result = CliRunner().invoke(
        main,
        [
            "generate",
            str(spec),
            "--bank",
            VALID,
            "--roster",
            str(FIXTURES / "exams" / "roster.csv"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "exam.yaml:4" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_unknown_template_is_a_one_line_error():
    result = CliRunner().invoke(main, ["preview", "no.such", "--bank", VALID])
    assert result.exit_code == 2 and "no template 'no.such'" in result.output


def test_formats_choose_the_page_files(tmp_path):
    args = ["generate", str(FIXTURES / "exams" / "small.yaml"), "--bank", VALID]
    args += ["--roster", str(FIXTURES / "exams" / "roster.csv"), "--quiet"]
    assert run(*args, "--out", str(tmp_path / "h"), "--formats", "html").exit_code == 0
    assert {p.suffix for p in (tmp_path / "h" / "keys").iterdir()} == {".html"}
    bad = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "x"), "--formats", "html,pdf"])
    assert bad.exit_code == 2 and "expected a comma-separated list of html, md" in bad.output
    assert not (tmp_path / "x").exists()


def _generate_args(out):
    return ["generate", str(FIXTURES / "exams" / "small.yaml"), "--bank", VALID, "--roster",
            str(FIXTURES / "exams" / "roster.csv"), "--out", str(out)]  # fmt: skip


def test_generate_into_an_existing_exam_needs_overwrite(tmp_path):
    out = tmp_path / "o"
    assert run(*_generate_args(out), "--quiet").exit_code == 0
    before = (out / "manifest.json").read_bytes()
    result = CliRunner().invoke(main, _generate_args(out))
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {out}: already holds an exam (manifest.json, papers/, keys/); pass --overwrite to "
        "replace all of it, or choose another --out"
    )
    assert (out / "manifest.json").read_bytes() == before
    assert run(*_generate_args(out), "--overwrite", "--quiet").exit_code == 0


def test_out_naming_a_file_is_a_usage_error(tmp_path):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    result = CliRunner().invoke(main, _generate_args(existing))
    assert result.exit_code == 2 and "is a file" in result.output and "Traceback" not in result.output
    assert existing.read_text() == "keep me"


def test_jobs_are_capped_with_a_warning(monkeypatch):
    from quizgen import cli

    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert cli.max_jobs() == 8
    assert cli._parse_jobs("100000") == 8
    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: set(range(512)), raising=False)
    assert cli.max_jobs() == cli.MAX_JOBS == 64


def test_preview_refuses_a_negative_seed():
    result = CliRunner().invoke(main, ["preview", "fixture.l2_chain", "--bank", VALID, "--seed", "-1"])
    assert result.exit_code == 2 and "--seed" in result.output and "Traceback" not in result.output


def test_bank_validate_refuses_zero_seeds():
    result = CliRunner().invoke(main, ["bank", "validate", VALID, "--seeds", "0"])
    assert result.exit_code == 2 and "--seeds" in result.output


def test_bank_validate_of_a_folder_reusing_a_builtin_id_fails(tmp_path):
    from quizgen.bank import builtin_bank_dir

    (tmp_path / "mine.yaml").write_bytes((builtin_bank_dir() / "regularization.yaml").read_bytes())
    result = CliRunner().invoke(main, ["bank", "validate", str(tmp_path), "--quiet", "--seeds", "2"])
    assert result.exit_code == 1
    assert "duplicate template id, first defined at" in result.output


def test_bank_validate_of_a_builtin_file_checks_its_templates():
    from quizgen.bank import builtin_bank_dir

    path = str(builtin_bank_dir() / "regularization.yaml")
    result = CliRunner().invoke(main, ["bank", "validate", path, "--seeds", "2", "--quality-seeds", "0"])
    assert "duplicate template id" not in result.output
    assert "0 templates checked" not in result.output
    assert "regularization." in result.output
