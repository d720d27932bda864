"""quizgen/manifest.py: the one view of a manifest, as ``quizgen generate`` writes it and as
grading, the gradebook, the exports and ``quizgen serve`` read it."""

import json
from pathlib import Path

import pytest

from quizgen import exam
from quizgen.graders.gradebook import Gradebook
from quizgen.manifest import Manifest, load_manifest

EXAMS = Path(__file__).parent / "fixtures" / "exams"


@pytest.fixture
def written(tmp_path, fixture_bank):
    built = exam.build_exam(
        exam.load_spec(EXAMS / "small.yaml", fixture_bank), exam.load_roster(EXAMS / "roster.csv")
    )
    path = tmp_path / "manifest.json"
    built.save(path)
    return built, path


def test_the_written_manifest_reads_back_equal_with_its_source(written):
    built, path = written
    loaded = load_manifest(path)
    assert loaded == Manifest.from_dict(json.loads(built.to_json()))  # source takes no part in equality
    assert loaded.source == str(path) and built.source == ""


def test_papers_by_student_id_and_questions_by_number_or_key(written):
    _, path = written
    loaded = load_manifest(path)
    first = loaded.students[0]
    assert loaded.paper(first.id) is first and loaded.paper("nobody") is None
    q = first.questions[0]
    assert first.question(q.number) is q and first.question(999) is None
    assert first.question_by_key(f" q{q.number} ") is q
    assert first.question_by_key(q.instance.template_id) is q
    assert first.question_by_key("no.such.template") is None
    assert first.points == sum(x.instance.points for x in first.questions)


def test_a_repeated_student_id_finds_the_first_paper(written):
    built, _ = written
    first, second = built.students[0], built.students[1]
    twice = Manifest(
        built.exam,
        (first, Manifest.from_dict({"students": [{**second.to_dict(), "id": first.id}]}).students[0]),
    )
    assert twice.paper(first.id) is first


def test_the_gradebook_gives_back_the_papers_it_imported(written, tmp_path, fixture_bank):
    _, path = written
    loaded = load_manifest(path)
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        stored = book.manifest(book.import_manifest(loaded, bank=fixture_bank))
    assert stored.source == str(tmp_path / "gradebook.sqlite")
    assert [(p.id, p.name, p.email) for p in stored.students] == [
        (p.id, p.name, p.email) for p in loaded.students
    ]
    for mine, theirs in zip(stored.students, loaded.students, strict=True):
        # the gradebook keeps number, slot and instance (not the section heading)
        assert [(q.number, q.slot, q.instance) for q in mine.questions] == [
            (q.number, q.slot, q.instance) for q in sorted(theirs.questions, key=lambda q: q.number)
        ]
