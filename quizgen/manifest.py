"""manifest.json: every student's questions, the authority for grading.

Layout (``format`` is ``quizgen-manifest/1``)::

    {"format": "quizgen-manifest/1",
     "exam": {"title", "course", "seed", "points", "quizgen_version", "spec_sha256",
              "templates": [template id per exam slot], "template_sha256": {template id: fingerprint}},
     "students": [{"id", "name", "email",
                   "questions": [{"number": 1, "slot": 1, "section": "Convolution",
                                  "instance": Instance.to_dict(), "seal": "..."}, ...]}, ...]}

``number`` is the question's number as printed on that student's paper (the order may be
shuffled per student); ``slot`` is its place in the exam spec, the same for everybody, and the
third part of the instance seed. Response sheets name answers by printed number and part:
``q{number}.{part}``.

These frozen types are the one view of a manifest: ``quizgen generate`` builds and writes them,
and grading, the gradebook, the exports, LMS imports and ``quizgen serve`` read them
(:func:`load_manifest`, :meth:`Manifest.from_dict`). Grading looks papers up by student id
(:meth:`Manifest.paper`) and questions by printed number or key
(:meth:`StudentPaper.question`, :meth:`StudentPaper.question_by_key`).

A manifest is a file anybody may have edited: its papers enter the gradebook only after
:func:`quizgen.manifest_check.check_manifest` has redrawn them from the bank and their seeds
(``template_sha256``, written by generate since this check, names a template that changed since).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SpecError
from .fsutil import atomic_write_text, read_text
from .models import Instance

FORMAT = "quizgen-manifest/1"


@dataclass(frozen=True)
class Question:
    """One question on one student's paper: its printed ``number``, its exam ``slot``, and the
    ``seal`` generate wrote for its instance (:func:`quizgen.manifest_check.seal`; "" for none)."""

    number: int
    slot: int
    section: str
    instance: Instance
    seal: str = field(default="", compare=False)

    def to_dict(self) -> dict:
        d = {
            "number": self.number,
            "slot": self.slot,
            "section": self.section,
            "instance": self.instance.to_dict(),
        }
        if self.seal:
            d["seal"] = self.seal
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Question:
        """``number`` (the printed number, which response sheets use) defaults to ``slot``, and
        ``slot`` to ``number``."""
        return cls(
            int(d.get("number", d.get("slot"))),
            int(d.get("slot", d.get("number"))),
            d.get("section", ""),
            Instance.from_dict(d["instance"]),
            str(d.get("seal", "")),
        )


@dataclass(frozen=True)
class StudentPaper:
    """One student's paper."""

    id: str
    name: str
    email: str
    questions: tuple[Question, ...]

    @property
    def points(self) -> float:
        return float(sum(q.instance.points for q in self.questions))

    def question(self, number: int) -> Question | None:
        """The question printed as ``number``, or None when the paper has none."""
        for q in self.questions:
            if q.number == number:
                return q
        return None

    def question_by_key(self, key: str) -> Question | None:
        """A question by printed number (``3``, ``q3``) or template id, or None."""
        m = _NUMBER_KEY.fullmatch(key)
        if m:
            return self.question(int(m.group(1)))
        for q in self.questions:
            if q.instance.template_id == key.strip():
                return q
        return None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "questions": [q.to_dict() for q in self.questions],
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> StudentPaper:
        return cls(
            str(d["id"]),
            d.get("name", ""),
            d.get("email", ""),
            tuple(Question.from_dict(q) for q in d["questions"]),
        )


_NUMBER_KEY = re.compile(r"\s*[qQ]?\s*(\d+)\s*")


@dataclass(frozen=True)
class Manifest:
    """Every student's paper; ``source`` names where it was read from (a file, a gradebook,
    an exam spec) for messages, and takes no part in equality."""

    exam: Mapping
    students: tuple[StudentPaper, ...]
    source: str = field(default="", compare=False)
    _index: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for p in self.students:
            self._index.setdefault(p.id, p)  # the first paper of an id, as a scan would find

    def paper(self, student_id: str) -> StudentPaper | None:
        """``student_id``'s paper (the first, should the id repeat), or None."""
        return self._index.get(student_id)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "exam": dict(self.exam), "students": [s.to_dict() for s in self.students]}

    def to_json(self) -> str:
        return "".join(json_chunks(self.exam, (s.to_dict() for s in self.students)))

    @classmethod
    def from_dict(cls, d: Mapping, source: str = "") -> Manifest:
        """A manifest from its JSON data (the layout above; ``exam`` may be missing)."""
        return cls(dict(d.get("exam", {})), tuple(StudentPaper.from_dict(s) for s in d["students"]), source)

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, self.to_json())


# Manifest data is fresh dicts and lists (to_dict), never circular, so the encoder skips the
# circular-reference bookkeeping: ~10% of a student's entry, with the same text.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=False)


def _dump(obj) -> str:
    return _ENCODER.encode(obj)


def manifest_head(exam: Mapping) -> str:
    """The text of manifest.json before the first student."""
    return '{"format":' + _dump(FORMAT) + ',\n"exam":' + _dump(dict(exam)) + ',\n"students":['


def student_json(student: Mapping) -> str:
    """A student's entry of manifest.json (``StudentPaper.to_dict()``) as JSON."""
    return _dump(student)


def student_separator(*, first: bool) -> str:
    """What goes before a student's entry in manifest.json: one entry per line."""
    return "\n" if first else ",\n"


def manifest_student(student: Mapping, *, first: bool) -> str:
    """One student's line of manifest.json."""
    return student_separator(first=first) + student_json(student)


MANIFEST_TAIL = "\n]}\n"


def json_chunks(exam: Mapping, students: Iterable[Mapping]) -> Iterator[str]:
    """manifest.json as text pieces, one student per line, so an exam of any size can be
    streamed to disk student by student with flat memory."""
    yield manifest_head(exam)
    for i, student in enumerate(students):
        yield manifest_student(student, first=i == 0)
    yield MANIFEST_TAIL


#: Deepest nesting of lists and objects a manifest may have (a real one has about a dozen).
MAX_DEPTH = 64
#: The largest manifest read (a class of 10,000 is a few hundred MB).
MAX_BYTES = 4 * 2**30


def json_depth(data) -> int:
    """How deeply ``data`` (decoded JSON) nests lists and dicts, counted without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return deepest


def read_manifest_json(path: str | Path) -> dict:
    """manifest.json's data; a missing, malformed or foreign file (not UTF-8 text, binary,
    nested deeper than :data:`MAX_DEPTH`, no students) is a one-line :class:`SpecError`
    (the first half of :func:`load_manifest`)."""
    path = Path(path)
    fix = "pass the manifest.json 'quizgen generate' wrote"
    text = read_text(path, error=SpecError, what="manifest", fix=fix, max_bytes=MAX_BYTES)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"not valid JSON ({exc.msg}); regenerate it with 'quizgen generate'",
            source=f"{path}:{exc.lineno}",
        ) from None
    except RecursionError:
        raise SpecError(f"nested more than {MAX_DEPTH} levels deep; {fix}", source=str(path)) from None
    if json_depth(data) > MAX_DEPTH:
        raise SpecError(f"nested more than {MAX_DEPTH} levels deep; {fix}", source=str(path))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SpecError(
            f"not a quizgen manifest (expected format {FORMAT!r}); {fix}",
            source=str(path),
        )
    students = data.get("students")
    if not isinstance(students, list) or not students:
        raise SpecError(
            "the manifest has no students; generate the exam again with a roster that lists them",
            source=str(path),
        )
    return data


def load_manifest(path: str | Path) -> Manifest:
    """Read a manifest (its ``source`` is ``path``); a missing, malformed or foreign file is a
    one-line :class:`SpecError` naming the file."""
    data = read_manifest_json(path)
    try:
        return Manifest.from_dict(data, str(path))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        raise SpecError(
            f"not a quizgen manifest ({type(exc).__name__}: {exc}); pass the manifest.json 'quizgen generate' wrote",
            source=str(path),
        ) from None
