"""The plain functions behind the routes: a final submit grades only the student handing in,
with the same results a regrade of the whole class gives."""

from __future__ import annotations

import sqlite3

import pytest

pytest.importorskip("sqlalchemy")

from quizgen.formatting import plain
from quizgen.graders.gradebook import Gradebook
from quizgen.output import answer_text
from quizgen.serve import service


def _answers(paper, how: str) -> dict[str, str]:
    """A paper's answers as its form fields: right, a known mistake, blank and wrong answers
    in turn (``how`` shifts the turn, so two students answer differently)."""
    out, turn = {}, {"a": 0, "b": 1}[how]
    for q in paper.questions:
        for p in q.instance.parts:
            mistakes = [m for m in p.mistakes if m.distinguishable and not p.options]
            choice = turn % 4
            if choice == 0:
                text = p.expected if p.options else answer_text(p)
            elif choice == 1 and mistakes:
                text = plain(mistakes[0].value)
            elif choice == 2:
                text = ""
            else:
                text = "3"
            out[f"q{q.number}.{p.id}"] = text
            turn += 1
    return out


def _grade_rows(path) -> dict[tuple[str, int, str], tuple]:
    """(student, number, part) -> (score, status, mistake, carried forward, run) from the gradebook."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT student, number, part, score, status, mistake, carried_forward, run FROM grades"
        ).fetchall()
    return {(r[0], r[1], r[2]): r[3:] for r in rows}


def test_a_final_submit_grades_only_that_student_as_a_whole_class_regrade_would(ctx):
    service.final_submit(ctx, "s001", _answers(ctx.course.paper("s001"), "a"))
    first = _grade_rows(ctx.gradebook)
    assert {k[0] for k in first} == {"s001"}  # s002 has not handed in: not graded, not absent-graded
    statuses = {row[1] for row in first.values()}
    assert {"correct", "incorrect"} <= statuses and any(row[2] for row in first.values())  # a named mistake

    service.final_submit(ctx, "s002", _answers(ctx.course.paper("s002"), "b"))
    second = _grade_rows(ctx.gradebook)
    # s001's rows were not written again: same values, same run
    assert {k: v for k, v in second.items() if k[0] == "s001"} == first
    assert {k[0] for k in second} == {"s001", "s002"}
    assert len({v[-1] for k, v in second.items() if k[0] == "s002"} - {first[next(iter(first))][-1]}) == 1

    # the whole class graded again from the stored answers: not one result changes
    with Gradebook(ctx.gradebook) as book:
        run = book.grade(ctx.exam, book.last_settings(ctx.exam), ctx.recompute_factory, kind="regrade")
    assert run.graded == 2 and run.changes == ()
    regraded = _grade_rows(ctx.gradebook)
    assert {k: v[:-1] for k, v in regraded.items()} == {k: v[:-1] for k, v in second.items()}


def test_a_submit_keeps_the_settings_of_the_last_run(ctx):
    """After an instructor's regrade without partial credit, a later submit is graded the same way."""
    from quizgen.graders.gradebook import GradeSettings

    service.final_submit(ctx, "s001", _answers(ctx.course.paper("s001"), "a"))
    with Gradebook(ctx.gradebook) as book:
        book.grade(ctx.exam, GradeSettings(partial=False), ctx.recompute_factory, kind="regrade")
    service.final_submit(ctx, "s002", _answers(ctx.course.paper("s002"), "b"))
    with Gradebook(ctx.gradebook) as book:
        assert book.last_settings(ctx.exam) == GradeSettings(partial=False)
        run = book.grade(ctx.exam, GradeSettings(partial=False), ctx.recompute_factory, kind="regrade")
    assert run.changes == ()


def test_a_students_graded_paper_is_read_alone_and_equals_their_rows_of_the_class(ctx):
    """The exam page reads one student's grades (``Gradebook.records(exam, student)``), not the
    whole class's: the same records, overrides included, and nobody else's."""
    service.final_submit(ctx, "s001", _answers(ctx.course.paper("s001"), "a"))
    service.final_submit(ctx, "s002", _answers(ctx.course.paper("s002"), "b"))
    with Gradebook(ctx.gradebook) as book:
        paper = ctx.course.paper("s002")
        q, p = paper.questions[0].number, paper.questions[0].instance.parts[0]
        book.set_override(ctx.exam, "s002", q, p.id, p.points / 4, "a kind reading")
        everyone = book.records(ctx.exam)
        for sid in ("s001", "s002"):
            assert book.records(ctx.exam, sid) == [r for r in everyone if r.student_id == sid]
    mine = service.graded_paper(ctx, "s002")
    assert mine[(q, p.id)].score == pytest.approx(0.25)  # the override, as the class list has it
    assert set(mine) == {(r.number, r.part.id) for r in everyone if r.student_id == "s002"}


def _claimed_but_never_graded(ctx, student: str, form: dict[str, str]) -> None:
    """What a server killed mid hand-in leaves: the drafts saved and the hand-in claimed (one
    transaction, as final_submit's first), and no grade in the gradebook."""
    with ctx.engine.begin() as conn:
        assert service._claimed(conn, ctx, student, "final")
        rows = service._draft_rows(ctx, student, service._paper_answers(ctx, student, form))
        conn.execute(service._drafts_upsert(conn.dialect.name), rows)
    with Gradebook(ctx.gradebook) as book:
        assert student not in book.graded(ctx.exam)


def test_a_paper_handed_in_but_never_graded_is_graded_when_the_server_starts(ctx, monkeypatch):
    import uvicorn
    from click.testing import CliRunner

    from quizgen.cli import main

    _claimed_but_never_graded(ctx, "s001", _answers(ctx.course.paper("s001"), "a"))
    assert service.submission(ctx, "s001") is not None  # it looks handed in ...
    assert service.graded_paper(ctx, "s001") == {}  # ... and has no grade
    course = [
        str(ctx.course.spec_path),
        "--roster",
        str(ctx.course.roster_path),
        "--database",
        str(ctx.engine.url),
    ]
    # 'tokens' (which may run beside a live server) leaves it alone ...
    assert CliRunner().invoke(main, ["serve", "tokens", *course]).exit_code == 0
    assert service.graded_paper(ctx, "s001") == {}
    # ... and the server, started again on the same database (and gradebook), grades it first
    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    result = CliRunner().invoke(main, ["serve", *course])
    assert result.exit_code == 0 and len(served) == 1, result.output
    assert "graded 1 paper(s) handed in before the server stopped but never graded: s001" in result.output
    rows = _grade_rows(ctx.gradebook)
    parts = sum(len(q.instance.parts) for q in ctx.course.paper("s001").questions)
    assert {k[0] for k in rows} == {"s001"} and len(rows) == parts
    assert {"correct", "incorrect"} <= {row[1] for row in rows.values()} and any(
        row[2] for row in rows.values()
    )
    # graded as a final submit grades: a whole-class regrade changes nothing
    with Gradebook(ctx.gradebook) as book:
        run = book.grade(ctx.exam, book.last_settings(ctx.exam), ctx.recompute_factory, kind="regrade")
    assert run.graded == 1 and run.changes == ()
    assert service.finish_hand_ins(ctx) == []  # nothing left to grade


def test_the_instructors_regrade_grades_a_paper_handed_in_but_never_graded(ctx):
    service.final_submit(ctx, "s002", _answers(ctx.course.paper("s002"), "b"))  # something to regrade
    _claimed_but_never_graded(ctx, "s001", _answers(ctx.course.paper("s001"), "a"))
    service.regrade(ctx)
    with Gradebook(ctx.gradebook) as book:
        assert book.graded(ctx.exam) == {"s001", "s002"}
