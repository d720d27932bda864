"""What ``quizgen serve COURSE`` serves: the bank, the exam spec and roster, every paper.

COURSE is an exam spec (its roster given, or ``roster.csv`` beside it) or a folder holding
``exam.yaml`` and ``roster.csv``. Papers are built exactly as ``quizgen generate`` builds them
(same seeds: ``sha256(exam seed, student id, slot)``), in memory, and imported into the
gradebook as ``quizgen grade`` imports a manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from quizgen import bank as bank_mod
from quizgen import exam
from quizgen.bank import Bank
from quizgen.errors import SpecError
from quizgen.manifest import Manifest, StudentPaper

__all__ = ["Course", "load_course"]


@dataclass(frozen=True)
class Course:
    """The course served: ``manifest`` has every student's paper (the key inside: never sent
    to a browser before the final submit)."""

    spec_path: Path
    roster_path: Path
    bank: Bank
    bank_dirs: tuple[Path, ...]
    manifest: Manifest

    @property
    def title(self) -> str:
        return str(self.manifest.exam.get("title", "exam"))

    def paper(self, student_id: str) -> StudentPaper | None:
        return self.manifest.paper(student_id)

    @cached_property
    def topics(self) -> dict[str, list]:
        """topic -> the bank's templates of that topic, sorted by id (practice picks from these)."""
        out: dict[str, list] = {}
        for t in sorted(self.bank.templates.values(), key=lambda t: t.id):
            out.setdefault(t.topic, []).append(t)
        return dict(sorted(out.items()))


def _paths(course: Path, roster: Path | None) -> tuple[Path, Path]:
    if course.is_dir():
        spec, roster = course / "exam.yaml", roster or course / "roster.csv"
        if not spec.is_file():
            raise SpecError(
                "a course folder holds exam.yaml and roster.csv; exam.yaml is missing", source=str(course)
            )
    else:
        spec, roster = course, roster or course.parent / "roster.csv"
    if not roster.is_file():
        raise SpecError(
            "no roster: pass --roster R.csv (columns id,name,email) or put roster.csv beside the exam spec",
            source=str(roster),
        )
    return spec, roster


def load_course(course: str | Path, roster: str | Path | None = None, bank_dirs=()) -> Course:
    """Load and build the course; errors name the file and the fix (:class:`SpecError`)."""
    spec_path, roster_path = _paths(Path(course), Path(roster) if roster else None)
    bank = bank_mod.load_bank(bank_dirs)
    spec = exam.load_spec(spec_path, bank)
    students = exam.load_roster(roster_path)
    built = exam.build_exam(spec, students)
    manifest = Manifest.from_dict(json.loads(built.to_json()), source=str(spec_path))
    return Course(spec_path, roster_path, bank, tuple(Path(d) for d in bank_dirs), manifest)
