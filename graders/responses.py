"""Read a class's answers and match them to the manifest's papers.

Accepted files (UTF-8, or UTF-16/UTF-32 with a byte-order mark as Excel's "Unicode text"
writes; a spreadsheet's UTF-8 byte-order mark is fine):

- CSV, wide form (the generator's ``responses_template.csv``): ``student_id,name,q1.a,q1.b,...``,
  one row per student, a column per printed question number and part;
- CSV, long form: ``student_id,question,part,answer``, one row per answer; ``question`` is the
  printed number (``3`` or ``q3``) or the question's template id;
- JSON or YAML: ``{student_id: {"q1.a": "...", ...}}``, or nested ``{student_id: {"q1": {"a": ...}}}``;
  numbers and lists are taken as written (``0.5``, ``[[1, 2], [3, 4]]``); a ``name`` key is ignored.
  Every value is text for the answer parser, exactly as written: YAML is read without YAML's
  own typing (``1:30`` is not 90, ``010`` not 8, ``0x10`` not 16, ``yes`` not True, ``null``
  and ``~`` are the text ``null`` and ``~``; only an empty value is blank, and ids such as
  ``007`` keep their zeros), and JSON numbers keep their digits (``1e400`` is not inf).

Hostile files are refused in one line naming the file and the place, before anything is
graded: text in another encoding (a cp1252 or Latin-1 file from Excel is refused with how to
save it as UTF-8, rather than guessed: a wrong guess would garble names silently), UTF-16
without a byte-order mark, a binary file, a file that is not a regular file or is larger than
:data:`MAX_FILE_BYTES`, a cell or value longer than :data:`MAX_CELL` characters (the answer
parser reads no more), YAML aliases (``*name``; they would let a few lines expand to
gigabytes), nesting deeper than :data:`MAX_DEPTH` levels, and a file without a single student.

A CSV may be separated by commas, semicolons or tabs (detected from the header). Nothing is
dropped silently: an answer by a student who is not in the manifest, to a question or part that
is not on that student's paper, or given twice, becomes a warning naming the file and the line;
a student with no answers at all is listed too. A file that cannot be read at all raises
:class:`~quizgen.errors.SpecError` with one line naming the file, the place and the fix.

The manifest is :mod:`quizgen.manifest`'s (:class:`~quizgen.manifest.Manifest`, read by
:func:`~quizgen.manifest.load_manifest`): its ``paper()`` and each paper's ``question_by_key()``
say which students and questions a file may name.
"""

from __future__ import annotations

import csv
import io
import json
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import yaml

from quizgen import csvsafe
from quizgen.errors import SpecError
from quizgen.fsutil import decode_text
from quizgen.manifest import Manifest
from quizgen.yamlio import LineDict, _LineLoader

from .parse import MAX_CHARS, MAX_NESTING

__all__ = [
    "MAX_CELL",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "Answer",
    "ResponseSet",
    "read_responses",
]


# ----------------------------------------------------------------------------------- responses


@dataclass(frozen=True)
class Answer:
    """One typed answer: to printed question ``number``, part ``part_id``; ``where`` is the
    file and line (or key) it came from."""

    student_id: str
    number: int
    part_id: str
    text: str | None
    where: str


@dataclass(frozen=True)
class ResponseSet:
    """The answers that match the manifest, and a warning for everything else."""

    answers: tuple[Answer, ...]
    warnings: tuple[str, ...] = ()
    source: str = ""
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for a in self.answers:
            self._index.setdefault(a.student_id, {}).setdefault(a.number, {})[a.part_id] = a.text

    @property
    def students(self) -> tuple[str, ...]:
        return tuple(self._index)

    def for_question(self, student_id: str, number: int) -> dict[str, str | None]:
        """part id -> text for one student's question (empty when none)."""
        return dict(self._index.get(student_id, {}).get(number, {}))


#: Longest cell or value read, in characters: the longest answer the parser reads.
MAX_CELL = MAX_CHARS
#: Deepest nesting of a JSON or YAML file: student, question, part, then an answer's lists.
MAX_DEPTH = MAX_NESTING + 3
#: Largest responses file read.
MAX_FILE_BYTES = 256 * 2**20

_COLUMN = re.compile(r"^\s*[qQ]\s*(\d+)\s*[.:_/ -]\s*\(?\s*([^()\s]+?)\s*\)?\s*$")
_ALIASES = {
    "student_id": ("student_id", "student", "id", "sid"),
    "question": ("question", "q", "slot", "number"),
    "part": ("part",),
    "answer": ("answer", "response", "value"),
}


def _as_text(value, where: str, depth: int = 0) -> str | None:
    """A JSON/YAML value as the text a student would have typed (lists of texts as
    ``[a, b]``); longer than :data:`MAX_CELL` or nested deeper than :data:`MAX_NESTING` is a
    :class:`SpecError` at ``where``."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, (int, float)):
        text = json.dumps(value)
    elif isinstance(value, (list, tuple)):
        if depth >= MAX_NESTING:
            raise SpecError(
                f"an answer nested more than {MAX_NESTING} levels deep; write the answer as an array of at most "
                f"{MAX_NESTING} dimensions",
                source=where,
            )
        text = "[" + ", ".join(str(_as_text(v, where, depth + 1)) for v in value) + "]"
    else:
        text = str(value)
    _check_cell(text, where)
    return text


def _check_cell(text: str, where: str, column: str = "") -> None:
    """A cell (``column`` names a CSV's) or value longer than :data:`MAX_CELL` is refused."""
    if len(text) > MAX_CELL:
        hint = " (is a closing quote missing?)" if column else ""
        raise SpecError(
            f"{column}a cell of {len(text):,} characters; an answer is at most {MAX_CELL:,} characters{hint}",
            source=where,
        )


class _Collector:
    """Checks raw (student, question key, part, text, where) against the papers."""

    def __init__(self, manifest: Manifest | None, source: str, missing_students: bool = True) -> None:
        self.missing_students = missing_students
        self.manifest = manifest
        self.source = source
        self.answers: dict[tuple[str, int, str], Answer] = {}
        self.warnings: list[str] = []
        self.unknown_students: dict[str, str] = {}
        self.students: dict[str, str] = {}  # every student id the file names -> where first
        self.end = source  # the end of the file, where a student was expected

    def add(self, sid: str, qkey: str, part: str, text: str | None, where: str, *, strict_blank: bool = True):
        sid, part = str(sid).strip(), str(part).strip().strip("()").strip()
        self.students.setdefault(sid, where)
        blank = text is None or not str(text).strip()
        if self.manifest is None:
            m = re.fullmatch(r"\s*[qQ]?\s*(\d+)\s*", str(qkey))
            if not m:
                self.warnings.append(f"{where}: question {qkey!r} is not a number; not read")
                return
            number = int(m.group(1))
        else:
            paper = self.manifest.paper(sid)
            if paper is None:
                if sid not in self.unknown_students:
                    self.unknown_students[sid] = where
                return
            q = paper.question_by_key(str(qkey))
            if q is None or part not in {p.id for p in q.instance.parts}:
                if blank and not strict_blank:
                    return  # a wide sheet's column for another student's paper, left empty
                what = f"question {qkey}" if q is None else f"question {q.number} has no part {part!r}"
                self.warnings.append(
                    f"{where}: {sid}: {what} on their paper; the answer {_short(text)} is not graded"
                )
                return
            number = q.number
        key = (sid, number, part)
        if key in self.answers:
            first = self.answers[key]
            if blank:
                return
            if first.text is not None and str(first.text).strip():
                self.warnings.append(
                    f"{where}: {sid} q{number}.{part} is answered again (first at {first.where}); the later answer is used"
                )
        self.answers[key] = Answer(sid, number, part, None if blank else str(text), where)

    def result(self) -> ResponseSet:
        if not self.students:
            raise SpecError(
                "no student's answers in the file (only a header, or no row names a student); expected one row "
                "per student such as s001,Ada,0.5,...",
                source=self.end,
            )
        if self.manifest is not None and all(self.manifest.paper(sid) is None for sid in self.students):
            sid, where = next(iter(self.students.items()))
            raise SpecError(
                f"none of the {len(self.students)} students in the file is in the manifest"
                f"{' ' + self.manifest.source if self.manifest.source else ''} "
                f"(here the first, {_short(sid)}); are these the responses to another exam?",
                source=where,
            )
        for sid, where in self.unknown_students.items():
            self.warnings.append(
                f"{where}: student {_short(sid)} is not in the manifest; their answers are not graded"
            )
        if self.manifest is not None and self.missing_students:
            answered = {a.student_id for a in self.answers.values() if a.text is not None}
            for p in self.manifest.students:
                if p.id not in answered:
                    self.warnings.append(
                        f"{self.source}: no answers from student {p.id!r} ({p.name}); graded as blank"
                    )
        return ResponseSet(tuple(self.answers.values()), tuple(self.warnings), self.source)


def _short(text) -> str:
    t = repr(text if text is None else str(text))
    return t if len(t) <= 40 else t[:37] + "..."


def _find_column(header: list[str], name: str) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for alias in _ALIASES[name]:
        if alias in lowered:
            return lowered.index(alias)
    return None


def _read_csv(path: Path, text: str, collector: _Collector) -> None:
    first = text.split("\n", 1)[0]
    delimiter = "," if "," in first else ";" if ";" in first else "\t" if "\t" in first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows, starts, previous = [], [], 0
    try:
        for row in reader:  # a quoted cell may span lines: keep each row's first line
            if max(map(len, row), default=0) > MAX_CELL:
                i = next(i for i, cell in enumerate(row) if len(cell) > MAX_CELL)
                name = f" ({_short(rows[0][i])})" if rows and i < len(rows[0]) else ""
                _check_cell(row[i], f"{path}:{previous + 1}", f"column {i + 1}{name}: ")
            rows.append(row)
            starts.append(previous + 1)
            previous = reader.line_num
    except csv.Error as exc:  # such as a cell beyond the csv module's own limit (131,072 characters)
        if "field limit" in str(exc):
            raise SpecError(
                f"a cell of more than {csv.field_size_limit():,} characters; an answer is at most {MAX_CELL:,} "
                "characters (is a closing quote missing?)",
                source=f"{path}:{previous + 1}",
            ) from None
        raise SpecError(
            f"not a readable CSV ({exc}); fix the row there", source=f"{path}:{previous + 1}"
        ) from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise SpecError(
            "the file is empty; expected a header such as student_id,name,q1.a,q1.b", source=f"{path}:1"
        )
    header = rows[0]
    sid_col = _find_column(header, "student_id")
    if sid_col is None:
        raise SpecError(
            f"no student_id column in the header {','.join(header[:4])!r}...; start it with student_id "
            "(wide form: student_id,name,q1.a,...; long form: student_id,question,part,answer)",
            source=f"{path}:1",
        )
    q_col, part_col, ans_col = (_find_column(header, n) for n in ("question", "part", "answer"))
    long_form = q_col is not None and part_col is not None and ans_col is not None
    if long_form:
        for lineno, row in zip(starts[1:], rows[1:], strict=True):
            if not any(c.strip() for c in row):
                continue
            if len(row) <= max(sid_col, q_col, part_col):
                collector.warnings.append(
                    f"{path}:{lineno}: the row has {len(row)} cells, fewer than the header; not read"
                )
                continue
            answer = row[ans_col] if ans_col < len(row) else ""
            sid = csvsafe.unescape_cell(row[sid_col].strip())
            collector.add(sid, row[q_col], row[part_col], answer, f"{path}:{lineno}")
        return
    columns: dict[int, tuple[str, str]] = {}
    for i, name in enumerate(header):
        if i == sid_col or name.strip().lower() in ("name", "email", ""):
            continue
        m = _COLUMN.match(name)
        if m is None:
            collector.warnings.append(
                f"{path}:1: column {name!r} is not of the form q<number>.<part> (such as q1.a); its answers are not read"
            )
            continue
        columns[i] = (m.group(1), m.group(2))
    for lineno, row in zip(starts[1:], rows[1:], strict=True):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            collector.warnings.append(
                f"{path}:{lineno}: the row has {len(row)} cells but the header {len(header)}; the extra cells are not read "
                "(quote answers that contain the separator)"
            )
        sid = csvsafe.unescape_cell(row[sid_col].strip()) if sid_col < len(row) else ""
        if not sid:
            collector.warnings.append(f"{path}:{lineno}: no student_id; the row is not read")
            continue
        for i, (qkey, part) in columns.items():
            cell = row[i] if i < len(row) else ""
            collector.add(sid, qkey, part, cell, f"{path}:{lineno}", strict_blank=False)


def _line(container, key, path: Path) -> str:
    if isinstance(container, LineDict):
        return f"{path}:{container.line_of(key)}"
    return f"{path}"


def _read_mapping(path: Path, data, collector: _Collector) -> None:
    if not isinstance(data, Mapping):
        raise SpecError(
            f'expected a mapping of student ids to answers such as {{"s001": {{"q1.a": "0.5"}}}}, got {type(data).__name__}',
            source=f"{path}:1",
        )
    for sid, answers in data.items():
        where = _line(data, sid, path)
        collector.students.setdefault(str(sid).strip(), where)  # named, even with no answers
        if not isinstance(answers, Mapping):
            collector.warnings.append(
                f'{where}: the answers of {_short(sid)} are not a mapping such as {{"q1.a": "0.5"}}; not read'
            )
            continue
        for key, value in answers.items():
            kwhere = _line(answers, key, path) if isinstance(answers, LineDict) else f"{path}: {sid}.{key}"
            kwhere = kwhere[: len(str(path)) + 120]
            if str(key).strip().lower() in ("name", "email"):
                continue
            if isinstance(value, Mapping):
                m = re.fullmatch(r"\s*[qQ]?\s*(\d+)\s*", str(key))
                if m is None:
                    collector.warnings.append(
                        f"{kwhere}: key {_short(key)} of {_short(sid)} is not a question such as q1; not read"
                    )
                    continue
                for part, text in value.items():
                    pwhere = _line(value, part, path) if isinstance(value, LineDict) else f"{kwhere}.{part}"
                    collector.add(str(sid), m.group(1), str(part), _as_text(text, pwhere), pwhere)
                continue
            m = _COLUMN.match(str(key))
            if m is None:
                collector.warnings.append(
                    f"{kwhere}: key {_short(key)} of {_short(sid)} is not of the form q<number>.<part> (such as q1.a); not read"
                )
                continue
            collector.add(str(sid), m.group(1), m.group(2), _as_text(value, kwhere), kwhere)


_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}\n]')


def _too_deep(text: str, limit: int) -> int:
    """The 1-based line where ``text`` (JSON) first nests deeper than ``limit``, or 0."""
    depth, line = 0, 1
    for m in _JSON_NESTING.finditer(text):
        c = m.group(0)
        if c == "\n":
            line += 1
        elif c in "[{":
            depth += 1
            if depth > limit:
                return line
        elif c in "]}":
            depth -= 1
        else:
            line += c.count("\n")
    return 0


def _read_json(path: Path, text: str, collector: _Collector) -> None:
    line = _too_deep(text, MAX_DEPTH)
    if line:
        raise SpecError(
            f"nested more than {MAX_DEPTH} levels deep; expected {{student: {{question.part: answer}}}} with "
            f"answers of at most {MAX_NESTING} dimensions",
            source=f"{path}:{line}",
        )
    try:  # numbers are kept as written, as text for the answer parser (1e400 is not inf)
        data = json.loads(text, parse_int=str, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"not valid JSON ({exc.msg}); fix the syntax there", source=f"{path}:{exc.lineno}"
        ) from None
    _read_mapping(path, data, collector)


_PLAIN_TAGS = {
    yaml.ScalarNode: yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG,
    yaml.SequenceNode: yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
    yaml.MappingNode: yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
}


class _Refused(yaml.MarkedYAMLError):
    """What a responses file may not hold, though YAML allows it."""


class _TextLoader(_LineLoader):
    """YAML with every scalar a string (no YAML 1.1 typing: ``1:30``, ``010``, ``0x10``, ``yes``
    stay as written; explicit tags such as ``!!int`` are ignored too), no aliases, and at most
    :data:`MAX_DEPTH` levels of nesting."""

    yaml_implicit_resolvers: ClassVar[dict] = {}

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                None,
                None,
                f"an alias (*{event.anchor}) is not allowed in a responses file (aliases can expand a few lines "
                "to gigabytes); write each answer out",
                event.start_mark,
            )
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(
                None,
                None,
                f"nested more than {MAX_DEPTH} levels deep; expected student: question.part: answer, with answers "
                f"of at most {MAX_NESTING} dimensions",
                event.start_mark,
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        node.tag = _PLAIN_TAGS[type(node)]  # explicit tags too: !!int 010 is the text 010
        return node


def _read_yaml(path: Path, text: str, collector: _Collector) -> None:
    loader = None
    try:
        loader = _TextLoader(text)  # the reader refuses control characters here already
        data = loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise SpecError(
            f"invalid YAML: the character U+{exc.character:04X} is not allowed in YAML text; remove it there",
            source=f"{path}:{line}",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        what = exc.problem or exc.context or "invalid YAML"
        if isinstance(exc, _Refused):
            raise SpecError(what, source=where) from None
        raise SpecError(f"invalid YAML: {what}; fix the syntax there", source=where) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {' '.join(str(exc).split())[:200]}", source=f"{path}:1") from None
    finally:
        if loader is not None:
            loader.dispose()
    _read_mapping(path, data, collector)


_READERS = {
    ".csv": _read_csv,
    ".tsv": _read_csv,
    ".txt": _read_csv,
    ".json": _read_json,
    ".yaml": _read_yaml,
    ".yml": _read_yaml,
}


_SAVE_AS_UTF8 = (
    "save the sheet as CSV UTF-8 (Excel: Save As, 'CSV UTF-8 (Comma delimited)'), "
    "or convert it with iconv -f cp1252 -t utf-8"
)


def _decode(path: Path, data: bytes) -> str:
    """The file's text (:func:`quizgen.fsutil.decode_text`), refused in one line with how to
    save the file as UTF-8."""
    return decode_text(data, str(path), error=SpecError, what="responses file", fix=_SAVE_AS_UTF8)


def read_responses(
    path: str | Path, manifest: Manifest | None = None, *, missing_students: bool = True
) -> ResponseSet:
    """Read a responses file (CSV wide or long, JSON, YAML; chosen by the extension) and match
    it against ``manifest``'s papers (without a manifest, questions must be numbers and nothing
    is checked). Unmatched answers are in ``warnings``, and so are students with no answer
    unless ``missing_students`` is False (a file of late or corrected answers)."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise SpecError(
            f"unknown responses format {path.suffix or '(no extension)'!r}; use a .csv, .json or .yaml file",
            source=str(path),
        )
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(
                "not a regular file; pass the responses file (.csv, .json or .yaml)", source=str(path)
            )
        if info.st_size > MAX_FILE_BYTES:
            raise SpecError(
                f"{info.st_size:,} bytes is larger than a responses file can be ({MAX_FILE_BYTES:,} bytes)",
                source=str(path),
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the responses ({exc.strerror})", source=str(path)) from None
    text = _decode(path, data[: MAX_FILE_BYTES + 1])
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    collector = _Collector(manifest, str(path), missing_students)
    lines = text.rstrip("\n").count("\n") + 1
    collector.end = (
        f"{path}:{lines + 1 if reader is _read_csv else lines}"  # where a (next) student was expected
    )
    reader(path, text, collector)
    return collector.result()
