"""``quizgen serve --database postgresql://...``: the serve tables and the gradebook in one
PostgreSQL database; a final submit lands in it and ``quizgen report --db`` reads it."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

from click.testing import CliRunner
from test_app import _fields, student

from quizgen.cli import main
from quizgen.graders.gradebook import Gradebook
from quizgen.output import answer_text
from quizgen.serve import db, service


def test_a_final_submit_lands_in_the_postgresql_gradebook_and_report_reads_it(course, postgres_url, tmp_path):
    engine = db.connect(postgres_url)
    assert engine.dialect.driver == "psycopg"  # psycopg 3 for the serve tables too, not psycopg2
    book = db.gradebook_path(engine, None)
    assert book.startswith("postgresql://")  # the same database: no --gradebook needed
    with Gradebook(book) as gb:
        key = gb.import_manifest(course.manifest, bank=course.bank)
    start = datetime(2026, 12, 1, 12, tzinfo=timezone.utc).timestamp()
    deadline = datetime(2026, 12, 1, 13, tzinfo=timezone.utc)
    ctx = service.Ctx(course, engine, book, key, db.secret(engine), deadline, 3, lambda: start)

    b = student(ctx)
    _, parts = _fields(ctx, "s001")
    (n1, p1), (n2, p2) = parts[0], parts[1]
    right = answer_text(p1) if not p1.options else p1.expected
    assert b.post("/exam/submit", {f"q{n1}.{p1.id}": right, f"q{n2}.{p2.id}": "7"}).status_code == 303
    with Gradebook.existing(postgres_url) as gb:
        records = {(r.number, r.part.id): r for r in gb.records(key, "s001")}
        tables = {r[0] for r in gb.db.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert records[(n1, p1.id)].result.status.value == "correct"
    assert records[(n2, p2.id)].response == "7"
    assert {"grades", "serve_submissions", "serve_drafts"} <= tables  # one database holds everything

    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", "--db", postgres_url, "--out", str(out), "--exam", key])
    assert result.exit_code == 0, result.output
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    total = sum(r.points for r in records.values())
    assert float(rows["s001"]["total"]) == round(total, 4) and rows["s002"]["total"] == ""  # s002 absent


def test_on_postgresql_the_deadline_hand_in_waits_for_an_autosave_under_way_and_grades_its_answers(
    course, postgres_url
):
    """An autosave whose transaction has begun (its check "not handed in" passed) when the
    deadline's hand-in claims the paper: the hand-in waits for it (the paper's lock) and grades
    the answers it saves. Without the lock it read the drafts from before and graded those."""
    import threading

    engine = db.connect(postgres_url)
    book = db.gradebook_path(engine, None)
    with Gradebook(book) as gb:
        key = gb.import_manifest(course.manifest, bank=course.bank)
    deadline = datetime(2026, 12, 1, 13, tzinfo=timezone.utc)
    now = [deadline.timestamp() - 60]
    ctx = service.Ctx(course, engine, book, key, db.secret(engine), deadline, 3, lambda: now[0])
    q = course.paper("s001").questions[0]
    field = f"q{q.number}.{q.instance.parts[0].id}"
    service.save_drafts(ctx, "s001", {field: "1"})

    autosave = engine.connect()
    tx = autosave.begin()
    service._lock_paper(autosave, ctx, "s001")  # what save_drafts does first, then it writes:
    rows = service._draft_rows(ctx, "s001", {(q.number, q.instance.parts[0].id): "2"})
    autosave.execute(service._drafts_upsert("postgresql"), rows)
    now[0] = deadline.timestamp() + 1  # the deadline passes; a page load hands the papers in
    handed = []
    hand_in = threading.Thread(target=lambda: handed.append(service.close_exam(ctx)))
    hand_in.start()
    hand_in.join(0.5)
    assert hand_in.is_alive(), "the hand-in went ahead of the autosave under way"
    tx.commit()
    autosave.close()
    hand_in.join(30)
    assert handed == [1]
    with Gradebook.existing(book) as gb:
        records = {(r.number, r.part.id): r for r in gb.records(key, "s001")}
    assert records[(q.number, q.instance.parts[0].id)].response == "2"
