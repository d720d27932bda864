"""Grades back into the LMS: a Canvas gradebook CSV and a Moodle grade-import CSV.

Both are one row per student of the gradebook's roster, in roster order, with the student's
total points (rounded to 4 decimals, as ``grades.csv``). An **absent** student (no stored
answer at all, :meth:`~.gradebook.Gradebook.absent`) gets an **empty** grade cell: both LMSs read
an empty cell as "no grade", never as 0.

The roster must carry the LMS's identifiers: the roster ``id`` is the student's SIS id
(Canvas "SIS User ID", Moodle "ID number") and ``email`` their login (Canvas "SIS Login ID",
Moodle "Email address"); the name is the fallback both LMSs use last.

Canvas (the gradebook importer, ``GradebookImporter``): the header must start ``Student, ID``
and the last student column must be ``Section``; with ``SIS User ID, SIS Login ID`` between them a
student is found by Canvas ID, then SIS User ID, then SIS Login ID, then by name. The assignment
column is ``Title (canvas assignment id)`` to update an existing assignment (``Title`` alone
matches an assignment of exactly that title, or creates one). A second row whose first cell is
``Points Possible`` gives the assignment's points. An empty cell (or ``-``) is "no score": it
changes nothing for a student without a grade (and clears a grade entered in Canvas since).

Moodle (``grade/import/csv``): any header; on the import page map "ID number" to the user field
*idnumber* (or "Email address" to *email*) and the grade column to the quiz's grade item. An
empty cell (or ``-``) imports as no grade. Moodle refuses the whole file when one row names a
user it does not know, so every row names a roster student and no identifier is left blank.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from quizgen import csvsafe
from quizgen.fsutil import atomic_write_text

from .analysis import student_totals
from .gradebook import Gradebook

__all__ = [
    "LMS_GRADE_FORMATS",
    "StudentGrade",
    "canvas_gradebook_csv",
    "moodle_grades_csv",
    "write_lms_grades",
]


@dataclass(frozen=True)
class StudentGrade:
    """One roster student: ids, name, email, and total points (None when absent)."""

    student_id: str
    name: str
    email: str
    points: float | None


def _num(x: float) -> str:
    return f"{round(x, 4):g}"


def _cell(grade: StudentGrade) -> str:
    return "" if grade.points is None else _num(grade.points)


_TITLE_AND_ID = re.compile(r"\A(.*)\s+\((\d+)\)\Z")


def canvas_assignment_header(title: str, assignment_id: str | None = None) -> str:
    """``Title (id)`` as Canvas's ``Assignment.title_and_id`` reads it back, or ``Title``; a
    title that itself ends in ``(digits)`` without an id would be misread as an id: refused."""
    title = " ".join(title.split()) or "quizgen exam"
    if assignment_id is not None:
        if not str(assignment_id).isdigit():
            raise ValueError(
                f"the Canvas assignment id must be digits (the number in the assignment's URL), got {assignment_id!r}"
            )
        return f"{title} ({assignment_id})"
    if _TITLE_AND_ID.match(title):
        raise ValueError(
            f"the title {title!r} ends in '(digits)', which Canvas reads as an assignment id; pass the assignment "
            "id or another title"
        )
    return title


def canvas_gradebook_csv(
    grades: list[StudentGrade], title: str, points_possible: float, assignment_id: str | None = None
) -> str:
    """Canvas's gradebook import: ``Student, ID, SIS User ID, SIS Login ID, Section, <Title (id)>``,
    a ``Points Possible`` row, then one row per student (Canvas ID left empty: the SIS ids find them)."""
    buf = io.StringIO()
    w = csvsafe.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "Student",
            "ID",
            "SIS User ID",
            "SIS Login ID",
            "Section",
            canvas_assignment_header(title, assignment_id),
        ]
    )
    w.writerow(["Points Possible", "", "", "", "", _num(points_possible)])
    for g in grades:
        w.writerow([g.name, "", g.student_id, g.email, "", _cell(g)])
    return buf.getvalue()


def moodle_grades_csv(grades: list[StudentGrade], title: str, points_possible: float = 0.0) -> str:
    """Moodle's CSV grade import: ``ID number, Email address, Name, <title>`` (map "ID number"
    to idnumber, or "Email address" to email, and the last column to the grade item)."""
    buf = io.StringIO()
    w = csvsafe.writer(buf, lineterminator="\n")
    w.writerow(["ID number", "Email address", "Name", " ".join(title.split()) or "quizgen exam"])
    for g in grades:
        w.writerow([g.student_id, g.email, g.name, _cell(g)])
    return buf.getvalue()


#: LMS name -> writer ``(grades, title, points_possible, assignment_id) -> csv text``.
LMS_GRADE_FORMATS: dict[str, Callable[..., str]] = {
    "canvas": canvas_gradebook_csv,
    "moodle": lambda grades, title, points, assignment_id=None: moodle_grades_csv(grades, title, points),
}


def class_grades(db_path: str | Path, exam: str | None = None) -> tuple[str, float, list[StudentGrade]]:
    """(exam title, points possible, every roster student's grade) from the gradebook."""
    with Gradebook.existing(db_path) as book:
        key = book.resolve_exam(exam)
        book.check_finished(key)
        title = book.exam_title(key)
        papers = book.manifest(key).students
        absent = {sid for sid, _ in book.absent(key)}
        totals = {t.student_id: t for t in student_totals(book.records(key))}
    points_possible = max((p.points for p in papers), default=0.0)
    grades = []
    for p in papers:
        t = totals.get(p.id)
        grades.append(StudentGrade(p.id, p.name, p.email, None if p.id in absent or t is None else t.points))
    return title, points_possible, grades


def write_lms_grades(
    db_path: str | Path,
    out: str | Path,
    lms: str,
    *,
    exam: str | None = None,
    title: str | None = None,
    assignment_id: str | None = None,
) -> Path:
    """Write ``lms``'s grade-import CSV for the gradebook's exam to ``out`` (atomically)."""
    if lms not in LMS_GRADE_FORMATS:
        raise ValueError(f"unknown LMS {lms!r}; use one of {', '.join(sorted(LMS_GRADE_FORMATS))}")
    exam_title, points, grades = class_grades(db_path, exam)
    text = LMS_GRADE_FORMATS[lms](grades, title or exam_title, points, assignment_id)
    atomic_write_text(out, text)
    return Path(out)
