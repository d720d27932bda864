"""Shared by the serve tests: the example course for two students, a movable clock, and a
fresh database and gradebook per test (``ctx``)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

pytest.importorskip("starlette")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

from quizgen.graders.gradebook import Gradebook
from quizgen.serve import db, service
from quizgen.serve.course import load_course

SPEC = "examples/midterm.yaml"


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    roster = tmp_path_factory.mktemp("roster") / "roster.csv"
    roster.write_text(
        "id,name,email\ns001,Ada Lovelace,a@x.edu\ns002,Alan Turing,b@x.edu\n", encoding="utf-8"
    )
    return load_course(SPEC, roster)


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 12, 1, 12, tzinfo=timezone.utc).timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def ctx(course, tmp_path):
    engine = db.connect(f"sqlite:///{tmp_path / 'serve.sqlite'}")
    book = db.gradebook_path(engine, None)
    with Gradebook(book) as gb:
        key = gb.import_manifest(course.manifest, bank=course.bank)
    deadline = datetime(2026, 12, 1, 13, tzinfo=timezone.utc)  # an hour after the clock starts
    return service.Ctx(course, engine, str(book), key, db.secret(engine), deadline, 3, Clock())
