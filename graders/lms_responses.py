"""Responses from a quiz delivered in the LMS, as a grading manifest and a responses file.

An LMS draws a variant per student, so a quiz taken in Canvas or Moodle is graded against the
variants each student was *served*, not the ones the exam's manifest assigned. This module reads
the LMS's report, finds which exported variant (and which part and element) each column or
cell answers, and writes

- ``manifest.json``: one paper per student holding the variants they were served (question
  number = the exam slot), in the layout :meth:`quizgen.manifest.Manifest.from_dict` reads;
- ``responses.json``: ``{student_id: {"q<slot>.<part>": "answer text"}}``, matrices and vectors
  assembled from their elements as ``[[a, b], [c, d]]``;

so that ``quizgen grade manifest.json responses.json`` grades them with named mistakes and error
carried forward, as for a paper exam. Roster students who took nothing keep their paper from the
exam's manifest with no answers: absent, blank in every grade export.

Which variant: the export is rebuilt from the same source (the exam's manifest, or the same
``--template``/``--variants``) and each exported question's text is compared with the text the
report shows, after removing markup, whitespace, case and everything that is not a letter or a
digit (the LMSs strip HTML in slightly different ways). The Canvas item's own identifier
(:func:`quizgen.export.qti.item_ident`) then gives its part and element; Moodle's question
``idnumber`` (``template:seed``) gives the variant.

Canvas versions: when the QTI zip holds versions of the quiz (a variant with several answers is
several items, so the entries of every variant read alike, "(a) row 1, column 2"), each version
is its own Canvas quiz with its own Student Analysis, whose columns are that quiz's questions in
its order. A report is therefore matched as a whole: its version is the one whose items are the
report's columns in order (a text-only item with or without its column), and each column is the
item at its place; a report that fits no version, or two alike, is refused. The pooled export
(one item per variant, drawn from question groups) is matched column by column by text.

Formats read (as the LMSs write them):

- Canvas Classic Quizzes, Quiz Statistics → "Student Analysis" CSV, one per quiz
  (``Quizzes::QuizStatistics::StudentAnalysis#to_csv``): ``name, id, sis_id, [root_account],
  section, section_id, [section_sis_id], submitted, [attempt]``, then per question of the quiz's
  ``quiz_data`` in order (text-only items included; questions drawn from a group in the order
  submissions first show them) two columns,
  ``"<canvas question id>: <question text without tags>"`` with the answer and one headed by the
  question's points with the points scored (empty when the student was not given the question),
  then ``n correct, n incorrect, score``. A numerical answer is the text typed, a multiple-choice
  answer the option's text (our options read ``B. text``).
- Moodle quiz, Results → Responses, with "Question text" and "Response" ticked, downloaded as
  CSV: identity columns (``ID number``, ``Email address``, ``Username``, ``First name``,
  ``Last name``/``Surname``, as the site shows them), ``State``, ..., then ``Question N``
  (the question's summary: its text as plain text, a cloze blank as ``_____``) and
  ``Response N`` (a numerical answer as typed; a multiple choice as the option's text; a cloze
  question as ``part 1: 0.5; part 2: 3; ...``, one part per blank in the export's order).

Students are matched to the roster by SIS id / ID number (the roster's ``id``), then email,
then name; a student not on the roster keeps the LMS's identifier, with a warning.
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from quizgen.errors import SpecError
from quizgen.export.common import ExportSource, blanks, layout
from quizgen.export.moodle import moodle_xml
from quizgen.export.qti import QTI_NS, item_ident, qti_files
from quizgen.fsutil import atomic_write_text, read_text
from quizgen.manifest import Manifest, Question, StudentPaper
from quizgen.models import Instance
from quizgen.selection import labels as option_labels

__all__ = [
    "LMS_READERS",
    "ImportedResponses",
    "LmsItem",
    "import_lms_responses",
    "read_canvas_student_analysis",
    "read_moodle_responses",
    "write_imported",
]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class LmsItem:
    """What one exported LMS question asks: a variant at an exam ``slot``, and, for a Canvas
    item asking one part or one element, that ``part_id`` and element ``index``. A Canvas
    text-only item (the question text, or a matrix part's prompt) is not ``answerable``."""

    slot: int
    instance: Instance
    part_id: str | None = None
    index: tuple[int, ...] = ()
    text: str = ""  # normalised text, to match against the report
    answerable: bool = True


@dataclass(frozen=True)
class LmsQuiz:
    """One quiz (assessment) of a Canvas export, its items in the quiz's order.

    ``drawn``: the quiz's items sit in question groups that each draw one (the pooled export),
    so a report lists the items students met, in the order it first met them; otherwise (a
    version of the quiz) the report lists every item in the quiz's order."""

    name: str
    items: tuple[LmsItem, ...]
    drawn: bool


@dataclass(frozen=True)
class Served:
    """One student's row: who, and (item, answer text) for every question they were given."""

    where: str
    lms_id: str
    name: str
    email: str
    answers: tuple[tuple[LmsItem, str], ...]


@dataclass(frozen=True)
class ImportedResponses:
    """The grading manifest (as a dict) and the responses, with every warning."""

    manifest: Manifest
    responses: dict[str, dict[str, str]]
    warnings: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------- matching

_TAG = re.compile(r"<[^>]*>")
_CLOZE = re.compile(r"\{\d*:[A-Z_]+:(?:\\.|[^}])*\}")
_BRACED = re.compile(r"\{[^{}]*\}")


def normalise(text: str) -> str:
    """Text to compare across the LMSs' ways of stripping HTML: no cloze codes or ``{...}``
    lists, no tags, entities decoded, lower case, letters and digits only."""
    text = _CLOZE.sub(" ", text)
    text = html.unescape(_TAG.sub(" ", text))
    text = _BRACED.sub(" ", html.unescape(text))
    return "".join(c for c in text.lower() if c.isalnum())


class _Matcher:
    """Finds the item whose text is the report's text: equal after :func:`normalise`, else the
    closest (ratio at least 0.9) and clearly closer than any other variant."""

    def __init__(self, items: Sequence[LmsItem]) -> None:
        self.items = list(items)
        self.exact: dict[str, list[LmsItem]] = {}
        for it in self.items:
            self.exact.setdefault(it.text, []).append(it)
        self.cache: dict[str, LmsItem | None] = {}

    def find(self, text: str) -> LmsItem | None:
        key = normalise(text)
        if key in self.cache:
            return self.cache[key]
        found = self.exact.get(key)
        if found:
            result: LmsItem | None = found[0]
        else:  # the length and character-count bounds first: most texts are ruled out cheaply
            scored = []
            for text in self.exact:
                sm = difflib.SequenceMatcher(None, key, text, autojunk=False)
                if sm.real_quick_ratio() >= 0.9 and sm.quick_ratio() >= 0.9:
                    scored.append((sm.ratio(), text))
            scored.sort(reverse=True)
            result = None
            if scored and scored[0][0] >= 0.9 and (len(scored) == 1 or scored[0][0] - scored[1][0] > 0.005):
                result = self.exact[scored[0][1]][0]
        self.cache[key] = result
        return result


def _variants(source: ExportSource) -> dict[tuple[str, int], tuple[int, Instance]]:
    return {(i.template_id, i.seed): (g.slot, i) for g in source.groups for i in g.instances}


def canvas_quizzes(source: ExportSource) -> list[LmsQuiz]:
    """The quizzes of the QTI export of ``source`` (one pooled quiz, or one per version), each
    with its items in order, found by their identifiers (:func:`~quizgen.export.qti.item_ident`)."""
    files, _, _ = qti_files(source)
    count = max((len(g.instances) for g in source.groups), default=0)
    scopes = ["pool", *(f"version{k}" for k in range(count))]
    idents: dict[str, LmsItem] = {}
    for group in source.groups:
        for inst in group.instances:
            for scope in scopes:
                idents[item_ident(scope, inst, None, ("stem",))] = LmsItem(group.slot, inst, answerable=False)
            for part in inst.parts:
                indices = [()] if part.options else [b.index for b in blanks(part)]
                for scope in scopes:
                    stem = item_ident(scope, inst, part, ("stem",))
                    idents[stem] = LmsItem(group.slot, inst, part.id, answerable=False)
                    for index in indices:
                        idents[item_ident(scope, inst, part, index)] = LmsItem(
                            group.slot, inst, part.id, index
                        )
    quizzes = []
    ns = {"q": QTI_NS}
    for name, data in files.items():
        if name == "imsmanifest.xml":
            continue
        root = ET.fromstring(data)
        assessment = root.find("q:assessment", ns)
        items = []
        for item in root.iter(f"{{{QTI_NS}}}item"):
            found = idents.get(item.get("ident", ""))
            mattext = item.find("q:presentation/q:material/q:mattext", ns)
            if found is None or mattext is None:
                continue
            items.append(replace(found, text=normalise(mattext.text or "")))
        drawn = root.find(".//q:selection_number", ns) is not None
        title = assessment.get("title", name) if assessment is not None else name
        quizzes.append(LmsQuiz(title, tuple(items), drawn))
    return quizzes


def moodle_items(source: ExportSource) -> list[LmsItem]:
    """Every question of the Moodle XML export of ``source``, found by its idnumber."""
    text, _, _ = moodle_xml(source)
    variants = _variants(source)
    items = []
    for q in ET.fromstring(text.encode("utf-8")).iter("question"):
        idnumber = q.findtext("idnumber") or ""
        tid, _, seed = idnumber.rpartition(":")
        if not tid or not seed.lstrip("-").isdigit() or (tid, int(seed)) not in variants:
            continue
        slot, inst = variants[(tid, int(seed))]
        items.append(LmsItem(slot, inst, None, (), normalise(q.findtext("questiontext/text") or "")))
    return items


# ---------------------------------------------------------------------------------- reading


def _rows(path: Path) -> list[list[str]]:
    text = read_text(path, error=SpecError, what="LMS report", fix="download the report again as CSV (UTF-8)")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    first = text.split("\n", 1)[0]
    delimiter = (
        ","
        if first.count(",") >= max(first.count(";"), first.count("\t"))
        else (";" if first.count(";") >= first.count("\t") else "\t")
    )
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise SpecError(f"not a readable CSV ({exc})", source=str(path)) from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise SpecError("the file is empty; expected the LMS report's header row", source=f"{path}:1")
    return rows


def _col(header: list[str], *names: str) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for n in names:
        if n in lowered:
            return lowered.index(n)
    return None


def _cells(row: list[str]) -> Callable[[int | None], str]:
    """``cell(i)``: column i of ``row``, stripped ('' when the row is short or i is None)."""
    return lambda i: row[i].strip() if i is not None and i < len(row) else ""


_CANVAS_QUESTION = re.compile(r"^\s*(\d+)\s*:\s*(.*)$", re.S)


def _same(a: str, b: str) -> float:
    return 1.0 if a == b else 0.0


def _similar(a: str, b: str) -> float:
    """The texts' similarity when at least 0.9 (difflib's ratio), else 0."""
    if a == b:
        return 1.0
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if sm.real_quick_ratio() < 0.9 or sm.quick_ratio() < 0.9:
        return 0.0
    r = sm.ratio()
    return r if r >= 0.9 else 0.0


def _align(
    texts: Sequence[str], items: Sequence[LmsItem], fit: Callable[[str, str], float]
) -> tuple[list[LmsItem], float] | None:
    """Column k's item when the columns are the quiz's items in its order (a text-only item may
    have its column or none), with the summed fit; None when they are not."""
    out, total, pos = [], 0.0, 0
    for text in texts:
        while pos < len(items) and not fit(text, items[pos].text):
            if items[pos].answerable:
                return None
            pos += 1  # a text-only item without a column
        if pos == len(items):
            return None
        out.append(items[pos])
        total += fit(text, items[pos].text)
        pos += 1
    if any(it.answerable for it in items[pos:]):
        return None
    return out, total


def _which_version(path: Path, texts: Sequence[str], quizzes: Sequence[LmsQuiz]) -> list[LmsItem]:
    """The items of the one version whose questions are the report's columns, in order: equal
    texts first, else the clearly closest (each column at least 0.9 similar). A Student Analysis
    report belongs to one quiz, and lists the quiz's questions in its order, so identical texts
    (the short '(a) row 1, column 2' items) are told apart by their place."""
    for fit in (_same, _similar):
        fits = sorted(
            ((got[1], quiz.name, got[0]) for quiz in quizzes if (got := _align(texts, quiz.items, fit))),
            key=lambda f: -f[0],
        )
        if len(fits) > 1 and fits[0][0] - fits[1][0] <= 0.005 * len(texts):
            raise SpecError(
                f"the report's question columns fit {fits[0][1]!r} and {fits[1][1]!r} of the export alike "
                "(their questions read the same), so which one this report belongs to is unknown; export "
                "versions whose questions differ (other seeds or more --variants) before delivering",
                source=f"{path}:1",
            )
        if fits:
            return fits[0][2]
    raise SpecError(
        f"the report's {len(texts)} question columns are not the questions of any of the export's "
        f"{len(quizzes)} quiz versions in order; download one Student Analysis per version from the quiz "
        "imported from this export, and pass the manifest (or --template/--variants) it was exported from",
        source=f"{path}:1",
    )


def read_canvas_student_analysis(
    path: str | Path, quizzes: Sequence[LmsQuiz]
) -> tuple[list[Served], list[str]]:
    """The rows of Canvas's Student Analysis CSV of one quiz of the export, each answer tied to
    its item.

    A version of the quiz (several items per variant) is found from the report's question
    columns as a whole (:func:`_which_version`), and its columns are the version's items in
    order. The pooled quiz's columns (items drawn from groups) are matched one by one by text."""
    path = Path(path)
    rows = _rows(path)
    header = rows[0]
    name_col, id_col, sis_col = _col(header, "name"), _col(header, "id"), _col(header, "sis_id")
    if id_col is None or name_col is None:
        raise SpecError(
            f"not a Canvas Student Analysis report: no 'name' and 'id' columns in {','.join(header[:5])!r}...; "
            "download it from Quiz Statistics > Student Analysis (not anonymous)",
            source=f"{path}:1",
        )
    questions = [
        (i, m.group(1), m.group(2))
        for i, h in enumerate(header)
        if i not in (name_col, id_col, sis_col) and (m := _CANVAS_QUESTION.match(h))
    ]
    warnings: list[str] = []
    columns: list[tuple[int, LmsItem]] = []
    versions = [q for q in quizzes if not q.drawn]
    if versions:
        texts = [normalise(text) for _, _, text in questions]
        items = _which_version(path, texts, versions)
        columns = [(i, item) for (i, _, _), item in zip(questions, items, strict=True) if item.answerable]
    else:
        matcher = _Matcher([it for q in quizzes for it in q.items if it.answerable])
        for i, cid, text in questions:
            item = matcher.find(text)
            if item is None:
                warnings.append(
                    f"{path}:1: column {i + 1} (Canvas question {cid}) matches no exported question; "
                    "is this the quiz exported from this manifest? Its answers are not read"
                )
                continue
            columns.append((i, item))
        if not columns and len(header) > 3:
            raise SpecError(
                "no column of the report matches an exported question; pass the manifest (or "
                "--template/--variants) the quiz was exported from",
                source=f"{path}:1",
            )
    served, seen = [], set()
    for lineno, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        cell = _cells(row)
        lms_id = cell(sis_col) or cell(id_col)
        if not lms_id and not cell(name_col):
            continue
        if (lms_id, cell(name_col)) in seen:
            warnings.append(
                f"{path}:{lineno}: another attempt of {cell(name_col)!r}; the latest (first) is graded"
            )
            continue
        seen.add((lms_id, cell(name_col)))
        answers = []
        for i, item in columns:
            points = row[i + 1].strip() if i + 1 < len(row) else ""
            answer = row[i] if i < len(row) else ""
            if points or answer.strip():  # given the question (Canvas leaves both empty when not)
                answers.append((item, answer))
        served.append(Served(f"{path}:{lineno}", lms_id, cell(name_col), "", tuple(answers)))
    return served, warnings


_MOODLE_COLUMN = re.compile(r"^\s*(question|response|right answer)\s+(\d+)\s*$", re.I)
_SUBPART = re.compile(r"(?:^|;\s*)[^\s:;]+\s+(\d+)\s*:\s?")


def read_moodle_responses(path: str | Path, items: Sequence[LmsItem]) -> tuple[list[Served], list[str]]:
    """The rows of Moodle's quiz Responses report (with question text), each response tied to
    the variant its "Question N" text names."""
    path = Path(path)
    rows = _rows(path)
    header = rows[0]
    questions: dict[int, int] = {}
    responses: dict[int, int] = {}
    for i, h in enumerate(header):
        m = _MOODLE_COLUMN.match(h)
        if m:
            kind, n = m.group(1).lower(), int(m.group(2))
            if kind == "question":
                questions[n] = i
            elif kind == "response":
                responses[n] = i
    if not responses:
        raise SpecError(
            f"not a Moodle Responses report: no 'Response 1' column in {','.join(header[:6])!r}...; download "
            "Results > Responses with 'Question text' and 'Response' ticked",
            source=f"{path}:1",
        )
    missing = sorted(set(responses) - set(questions))
    if missing:
        raise SpecError(
            f"the report has no 'Question {missing[0]}' column: without the question text the variant each student "
            "got is unknown; download Responses again with 'Question text' ticked",
            source=f"{path}:1",
        )
    idn = _col(header, "id number", "idnumber")
    email = _col(header, "email address", "email")
    user = _col(header, "username")
    first, last = _col(header, "first name", "firstname"), _col(header, "last name", "surname", "lastname")
    matcher = _Matcher(items)
    warnings: list[str] = []
    served = []
    for lineno, row in enumerate(rows[1:], 2):
        cell = _cells(row)
        name = " ".join(x for x in (cell(first), cell(last)) if x)
        lms_id = cell(idn) or cell(user) or cell(email)
        if not lms_id and not name:
            continue  # the report's average rows
        if name.lower().startswith("overall average"):
            continue
        answers = []
        for n, ri in sorted(responses.items()):
            qtext = cell(questions[n])
            if not qtext:
                continue
            item = matcher.find(qtext)
            if item is None:
                warnings.append(
                    f"{path}:{lineno}: Question {n}'s text matches no exported variant; its response is not read"
                )
                continue
            answers.append((item, row[ri] if ri < len(row) else ""))
        served.append(Served(f"{path}:{lineno}", lms_id, name, cell(email), tuple(answers)))
    return served, warnings


#: LMS name -> (the export's items, the report's reader).
LMS_READERS: dict[str, tuple[Callable, Callable]] = {
    "canvas": (canvas_quizzes, read_canvas_student_analysis),
    "moodle": (moodle_items, read_moodle_responses),
}


# ---------------------------------------------------------------------------------- answers


def _choice_letter(text: str, options: Sequence[str], labels: str = LETTERS) -> str:
    """The letter of the option ``text`` names (``B. text``, ``B``, or the option's text);
    ``labels``: the part's letters (``TF`` for true/false, whose LMS answer is True or False)."""
    t = text.strip()
    m = re.match(r"^\(?([A-Za-z])[).:]?(?:\s|$)", t)
    if m and m.group(1).upper() in labels[: len(options)]:
        return m.group(1).upper()
    key = normalise(t)
    for letter, option in zip(labels, options, strict=False):
        if normalise(option) == key:
            return letter
    return t  # as given: the grader reports it as not a letter


def _array_text(values) -> str:
    """Nested lists of element texts as ``[[a, b], [c, d]]``."""
    if not isinstance(values, list):
        return str(values)
    return "[" + ", ".join(_array_text(v) for v in values) + "]"


def _assemble(instance: Instance, elements: dict[str, dict[tuple, str]]) -> dict[str, str]:
    """part id -> answer text, arrays assembled from their elements (a missing element is left
    empty, which the grader reports as a format error)."""
    out = {}
    for part in instance.parts:
        got = elements.get(part.id)
        if not got:
            continue
        if part.options or np.ndim(part.expected) == 0:
            out[part.id] = got.get((), "")
            continue
        if not any(v.strip() for v in got.values()):
            out[part.id] = ""
            continue
        shape = np.shape(part.expected)
        grid = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            grid[index] = got.get(tuple(int(i) for i in index), "").strip()
        out[part.id] = _array_text(grid.tolist())
    return out


def _moodle_parts(instance: Instance, response: str) -> dict[str, dict[tuple, str]]:
    """A Moodle response summary split into part id -> {element index: text}."""
    kind = layout(instance)
    if kind != "multi":
        part = instance.parts[0]
        text = (
            _choice_letter(response, part.options, option_labels(part)) if part.options else response.strip()
        )
        return {part.id: {(): text}}
    pieces: dict[int, str] = {}
    marks = list(_SUBPART.finditer(response))
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(response)
        pieces[int(m.group(1))] = response[m.end() : end].strip()
    out: dict[str, dict[tuple, str]] = {}
    n = 0
    for part in instance.parts:  # the export's cloze order: parts in order, elements in C order
        if part.options:
            n += 1
            out[part.id] = {
                (): _choice_letter(pieces.get(n, ""), part.options, option_labels(part))
                if pieces.get(n)
                else ""
            }
            continue
        for b in blanks(part):
            n += 1
            out.setdefault(part.id, {})[b.index] = pieces.get(n, "")
    return out


# ---------------------------------------------------------------------------------- import


@dataclass
class _Roster:
    papers: list[dict]
    by_id: dict[str, dict] = field(default_factory=dict)
    by_email: dict[str, dict] = field(default_factory=dict)
    by_name: dict[str, list[dict]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for p in self.papers:
            self.by_id.setdefault(p["id"].strip().lower(), p)
            if p.get("email"):
                self.by_email.setdefault(p["email"].strip().lower(), p)
            self.by_name.setdefault(" ".join(p.get("name", "").lower().split()), []).append(p)

    def find(self, s: Served) -> dict | None:
        for key, table in ((s.lms_id, self.by_id), (s.email, self.by_email), (s.lms_id, self.by_email)):
            if key and key.strip().lower() in table:
                return table[key.strip().lower()]
        named = self.by_name.get(" ".join(s.name.lower().split()), [])
        return named[0] if len(named) == 1 else None


def import_lms_responses(
    lms: str, reports: str | Path | Sequence[str | Path], source: ExportSource
) -> ImportedResponses:
    """Read ``lms``'s reports of a quiz exported from ``source`` (see the module's docstring):
    for Canvas one Student Analysis per quiz taken (each version of the quiz is its own Canvas
    quiz with its own report), for Moodle the Responses report (or several)."""
    if lms not in LMS_READERS:
        raise ValueError(f"unknown LMS {lms!r}; use one of {', '.join(sorted(LMS_READERS))}")
    paths = [reports] if isinstance(reports, (str, Path)) else list(reports)
    if not paths:
        raise ValueError("give at least one report")
    make_items, read = LMS_READERS[lms]
    items = make_items(source)
    served: list[Served] = []
    warnings: list[str] = []
    for path in paths:
        got, said = read(path, items)
        served += got
        warnings += said
    roster = _Roster(
        [
            {"id": p.id, "name": p.name, "email": p.email, "questions": p.questions}
            for p in source.manifest.students
            if not p.id.startswith("variant-")  # a bank export's papers are variants, not students
        ]
    )
    papers: list[StudentPaper] = []
    responses: dict[str, dict[str, str]] = {}
    taken: set[str] = set()
    for s in served:
        on_roster = roster.find(s)
        if on_roster is None:
            sid = s.lms_id or s.name
            if roster.papers:
                warnings.append(
                    f"{s.where}: {s.name or sid!r} ({sid}) is not on the exam's roster; graded as {sid!r}"
                )
            name, email = s.name, s.email
        else:
            sid, name, email = on_roster["id"], on_roster["name"], on_roster["email"]
        if sid in taken:
            warnings.append(f"{s.where}: {sid!r} appears twice; the first row is graded")
            continue
        taken.add(sid)
        by_slot: dict[int, Instance] = {}
        elements: dict[int, dict[str, dict[tuple, str]]] = {}
        for item, answer in s.answers:
            held = by_slot.setdefault(item.slot, item.instance)
            if held != item.instance:
                warnings.append(
                    f"{s.where}: {sid} answered two variants of question {item.slot} "
                    f"({held.template_id} seed {held.seed} and seed {item.instance.seed}); the first is graded"
                )
                continue
            into = elements.setdefault(item.slot, {})
            if lms == "moodle":
                for pid, got in _moodle_parts(item.instance, answer).items():
                    into.setdefault(pid, {}).update(got)
            else:
                part = item.instance.part(item.part_id)
                text = (
                    _choice_letter(answer, part.options, option_labels(part))
                    if part.options and answer.strip()
                    else answer.strip()
                )
                into.setdefault(item.part_id, {})[item.index] = text
        questions = tuple(Question(slot, slot, "", inst) for slot, inst in sorted(by_slot.items()))
        papers.append(StudentPaper(sid, name, email, questions))
        answers = {}
        for slot, inst in sorted(by_slot.items()):
            for pid, text in _assemble(inst, elements.get(slot, {})).items():
                answers[f"q{slot}.{pid}"] = text
        responses[sid] = answers
    for p in roster.papers:  # took nothing in the LMS: their exam paper, no answers (absent)
        if p["id"] not in taken:
            questions = tuple(Question(q.slot, q.slot, q.section, q.instance) for q in p["questions"])
            papers.append(StudentPaper(p["id"], p["name"], p["email"], questions))
    if not served:
        raise SpecError("no student's row in the report", source=", ".join(str(p) for p in paths))
    exam = dict(source.manifest.exam)
    exam.setdefault("title", source.title)
    exam["delivered_in"] = lms
    return ImportedResponses(Manifest(exam, tuple(papers)), responses, tuple(warnings))


def write_imported(imported: ImportedResponses, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``manifest.json`` and ``responses.json`` into ``out_dir`` (each atomically)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest, responses = out / "manifest.json", out / "responses.json"
    imported.manifest.save(manifest)
    atomic_write_text(responses, json.dumps(imported.responses, indent=1, ensure_ascii=False) + "\n")
    return manifest, responses
