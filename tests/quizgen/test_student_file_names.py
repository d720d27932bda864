"""Files named after student ids (papers, keys, feedback) never overwrite one another and never
fail for a long id: the id is sanitized, cut to fit a file name and made unique."""

from pathlib import Path

from click.testing import CliRunner

from quizgen.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _generate(tmp_path, roster_text):
    roster = tmp_path / "roster.csv"
    roster.write_text(roster_text, encoding="utf-8")
    out = tmp_path / "exam"
    done = CliRunner().invoke(
        main,
        [
            "generate",
            str(ROOT / "examples/midterm.yaml"),
            "--roster",
            str(roster),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    return done, out


def test_ids_that_sanitize_alike_get_a_paper_each(tmp_path):
    done, out = _generate(tmp_path, "id,name\na_b-2,Victim\na_b,Second\na/b,Attacker\n")
    assert done.exit_code == 0, done.output
    papers = sorted((out / "papers").glob("*.md"))
    assert len(papers) == 3
    owners = sorted(w for p in papers for w in ("Victim", "Second", "Attacker") if w in p.read_text())
    assert owners == ["Attacker", "Second", "Victim"]


def test_a_long_student_id_still_gets_its_paper(tmp_path):
    done, out = _generate(tmp_path, "id,name\n" + "é" * 200 + ",Long\ns2,Short\n")
    assert done.exit_code == 0, done.output
    assert len(list((out / "papers").glob("*.md"))) == 2
