"""The gradebook on PostgreSQL as on SQLite (graders/gradebook_sql.py): locations, the SQL
translation, exact scores, the writers' lock, one-line errors, and the example class graded into
either database giving the same files."""

import builtins
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.bank import load_bank
from quizgen.cli import main
from quizgen.cli_grade import bank_recompute_factory
from quizgen.errors import SpecError
from quizgen.exam import build_exam, load_roster, load_spec
from quizgen.graders import gradebook_sql
from quizgen.graders.gradebook import Gradebook, grade_class
from quizgen.graders.gradebook_sql import LOCK_KEY, default_reports_dir, locate, pg_sql, shown

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    if request.param == "sqlite":
        return tmp_path / "gradebook.sqlite"
    return request.getfixturevalue("postgres_url")


# ------------------------------------------------------------------------------ locations


def test_a_path_or_a_url_says_which_database_and_a_password_is_never_shown():
    assert locate("out/gradebook.sqlite").dialect.name == "sqlite"
    assert locate(Path("out/g.sqlite")).path == Path("out/g.sqlite")
    assert locate("sqlite:///out/g.sqlite").path == Path("out/g.sqlite")
    assert locate("sqlite:////abs/g.sqlite").path == Path("/abs/g.sqlite")
    pg = locate("postgres://ta:s3cret@db.example.edu:5432/grades")
    assert pg.dialect.name == "postgresql" and pg.path is None
    assert pg.target == "postgresql://ta:s3cret@db.example.edu:5432/grades"  # what libpq reads
    assert pg.shown == "postgresql://ta:***@db.example.edu:5432/grades"
    assert locate("postgresql+psycopg://u@h/d").target == "postgresql://u@h/d"
    assert "hunter2" not in shown("postgresql://u@h/d?password=hunter2&sslmode=require")
    assert default_reports_dir("out/g.sqlite") == Path("out/g-reports")
    assert default_reports_dir("postgresql://u@h/grades") == Path("grades-reports")
    with pytest.raises(
        ValueError, match=r"'mysql://u@h/d': not a database quizgen knows; write a SQLite file"
    ):
        locate("mysql://u@h/d")


def test_placeholders_are_translated_once_outside_quotes():
    assert pg_sql("SELECT a FROM t WHERE k='?' AND v=? AND w LIKE '5%'") == (
        "SELECT a FROM t WHERE k='?' AND v=%s AND w LIKE '5%%'"
    )
    pg_sql.cache_clear()
    pg_sql("SELECT ?")
    pg_sql("SELECT ?")
    assert pg_sql.cache_info().hits == 1


def test_every_db_option_takes_a_url_and_refuses_another_scheme_in_one_line(tmp_path):
    for command in (
        ["report", "--out", str(tmp_path)],
        ["export", "grades", "--lms", "canvas", "--out", "x.csv"],
    ):
        result = CliRunner().invoke(main, [*command, "--db", "mysql://u@h/d"])
        assert result.exit_code == 2 and "not a database quizgen knows" in result.output, result.output
    result = CliRunner().invoke(main, ["report", "--help"])
    assert "postgresql://" in result.output


# ------------------------------------------------------------------------------ both databases


def test_scores_round_trip_exactly(location):
    """PostgreSQL's REAL is a 4-byte float: the schema's scores are doubles on both."""
    scores = [0.1 + 0.2, 1 / 3, 2 / 3, 1e-17, 0.7 * 3]
    with Gradebook(location) as book:
        with book.transaction() as db:
            db.executemany(
                "INSERT INTO overrides VALUES (?, ?, ?, ?, ?, ?, ?)",
                [("e", f"s{i}", 1, "a", x, "r", "now") for i, x in enumerate(scores)],
            )
        rows = book.db.execute("SELECT student, score FROM overrides ORDER BY student").fetchall()
    assert [r["score"] for r in rows] == scores and [r[1] for r in rows] == scores


def test_text_keys_sort_by_bytes_whatever_the_locale(location):
    """SQLite orders text by bytes; PostgreSQL would use the database's locale (where "a_2"
    and "B" sort otherwise): the gradebook's text columns are "C" there."""
    parts = ["b", "B", "a_2", "a1", "é", "Z"]
    with Gradebook(location) as book:
        with book.transaction() as db:
            db.executemany(
                "INSERT INTO changes VALUES (1, 'e', 's', 1, ?, NULL, 1, 1, NULL, 'correct', 'r', 'now')",
                [(p,) for p in parts],
            )
        got = [r[0] for r in book.db.execute("SELECT part FROM changes ORDER BY part")]
        if book.path is None:  # whatever the test server's own locale is
            collation = (
                "SELECT collation_name FROM information_schema.columns WHERE table_name=? AND column_name=?"
            )
            assert book.db.execute(collation, ("changes", "part")).fetchone()[0] == "C"
    assert got == sorted(parts, key=lambda p: p.encode())


def test_example_class_graded_into_postgresql_gives_the_same_files_as_sqlite(postgres_url, tmp_path):
    """examples/midterm.yaml for examples/roster.csv, graded from examples/responses.csv (as
    tests/test_examples.py does, the papers built in-process and the bank loaded once)."""
    the_bank = load_bank()
    manifest = build_exam(
        load_spec(EXAMPLES / "midterm.yaml", the_bank), load_roster(EXAMPLES / "roster.csv")
    )
    (tmp_path / "manifest.json").write_text(manifest.to_json())
    recompute = bank_recompute_factory(bank=the_bank)
    outs = {"sqlite": tmp_path / "sqlite", "postgresql": tmp_path / "pg"}
    for name, db in (("sqlite", None), ("postgresql", postgres_url)):
        grade_class(
            tmp_path / "manifest.json", EXAMPLES / "responses.csv", outs[name], db_path=db,
            recompute_factory=recompute, bank=the_bank,
        )  # fmt: skip
    assert not (outs["postgresql"] / "gradebook.sqlite").exists()
    for name in ("grades.csv", "item_analysis.csv", "flags.csv"):
        assert (outs["postgresql"] / name).read_bytes() == (outs["sqlite"] / name).read_bytes(), name
    assert len((outs["postgresql"] / "grades.csv").read_text().splitlines()) == 31


# ------------------------------------------------------------------------------ PostgreSQL


def test_writers_take_turns_on_postgresql(postgres_url):
    """A writer's transaction holds the advisory lock (as BEGIN IMMEDIATE holds SQLite's write
    lock): another connection cannot take it until the first commits."""
    with Gradebook(postgres_url) as first, Gradebook(postgres_url) as second:
        with first.transaction():
            taken = second.db.execute(f"SELECT pg_try_advisory_lock({LOCK_KEY})").fetchone()[0]
        assert taken is False
        assert second.db.execute(f"SELECT pg_try_advisory_lock({LOCK_KEY})").fetchone()[0] is True


def test_postgresql_problems_are_one_line_errors_naming_the_fix(postgres_url, monkeypatch):
    with pytest.raises(SpecError, match=r"no gradebook in this database; run 'quizgen grade --db"):
        Gradebook.existing(postgres_url)
    bad = "postgresql://ta:s3cret@/nodb?host=/nonexistent-socket-dir"
    with pytest.raises(SpecError) as caught:
        Gradebook(bad)
    message = str(caught.value)
    assert "\n" not in message and "s3cret" not in message and "ta:***@" in message
    assert "cannot connect to the PostgreSQL gradebook" in message and "check that the server runs" in message

    real_import = builtins.__import__

    def no_psycopg(name, *args, **kw):
        if name == "psycopg":
            raise ImportError(name)
        return real_import(name, *args, **kw)

    monkeypatch.delitem(sys.modules, "psycopg")
    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(SpecError, match=r"needs psycopg; pip install 'quizgen\[postgres\]'"):
        gradebook_sql.locate(postgres_url).dialect.connect(gradebook_sql.locate(postgres_url))
