"""Check a Moodle XML file the way Moodle's importer reads it (question/format/xml and the
question types' own parsers), with the standard library's XML parser.

- the root is ``<quiz>``; every ``<question>`` has a known ``type``;
- categories: a ``$course$/...`` (or ``$system$``, ``$module$``, ``$coursecategory$``) path
  without empty names;
- every question: a non-empty name of at most 255 characters, ``questiontext`` with a known
  format and a ``text``, a numeric ``defaultgrade`` >= 0, ``penalty`` in [0, 1];
- numerical: at least one answer; each answer a number Moodle reads (or ``*``) with a numeric
  tolerance >= 0; grades from Moodle's list (:data:`~.moodle.ALLOWED_FRACTIONS`, within the
  importer's 1e-5); one answer at 100%;
- multichoice: ``single``, at least two answers, allowed grades, one at 100% when single;
  with ``single=false`` the positive grades add up to 100% (qtype_multichoice's check);
- truefalse: the answers ``true`` and ``false``, one at 100% and the other at 0%;
- ordering (qtype_ordering, core since 4.4; its ``import_from_xml``): layout, select, grading
  and show settings it knows, two or more distinct items, listed in the right order (the
  importer ignores ``fraction`` and numbers the items in file order);
- marks: a question imports worth its ``defaultgrade`` (import_headers; 1 when absent), except
  cloze, worth the sum of its blank weights, each a whole number, 1 when empty or 0
  (qtype_multianswer_extract_question; format/xml's import_multianswer never reads
  ``defaultgrade``): :attr:`MoodleQuestion.mark`, and :attr:`MoodleQuestion.exact_mark` as the
  exact decimal the file writes, to compare shares of a quiz's total without float noise;
- numerical grading: :func:`matching_answer` picks the first answer whose tolerance holds a
  response, as Moodle does, so the tests can check which feedback each known value gets;
- cloze: the embedded answers parsed with Moodle's own regular expressions
  (qtype_multianswer: ``ANSWER_REGEX`` and friends) and checked like
  ``qtype_multianswer_validate_question``: known types, numbers in NUMERICAL answers, an answer
  at 100% in each, two or more options in MULTICHOICE; and nothing left in the text that looks
  like the start of an embedded answer but did not parse.

:func:`validate_moodle` returns the problems and what it read (answers with their texts), so
the tests can check the numbers too.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction

from .common import moodle_accepts
from .moodle import ALLOWED_FRACTIONS

__all__ = [
    "MoodleAnswer",
    "MoodleQuestion",
    "MoodleReport",
    "matching_answer",
    "parse_cloze",
    "validate_moodle",
]

QUESTION_TYPES = {
    "category",
    "numerical",
    "multichoice",
    "cloze",
    "shortanswer",
    "truefalse",
    "ordering",
    "essay",
    "description",
    "matching",
    "calculated",
    "calculatedsimple",
    "calculatedmulti",
    "ddwtos",
    "gapselect",
}
TEXT_FORMATS = {"html", "moodle_auto_format", "plain_text", "markdown"}
NUMBERINGS = {"none", "abc", "ABCD", "123", "iii", "IIII"}
CONTEXTS = ("$course$", "$system$", "$module$", "$coursecategory$", "$cat1$", "$cat2$", "$cat3$")

# qtype_multianswer's expressions, in Python syntax (PCRE's lookbehind with alternatives of
# different lengths becomes one lookbehind per alternative).
_FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
_ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
_FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
_ALTERNATIVE = f"({_FRACTION})?({_ANSWER})(#({_FEEDBACK}))?"
_NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
NUMERICAL_ALTERNATIVE = re.compile(f"^({_NUMBER})(:{_NUMBER})?$", re.S)
_TYPES = (
    r"(NUMERICAL|NM)|(MULTICHOICE|MC)|(MULTICHOICE_V|MCV)|(MULTICHOICE_H|MCH)|"
    r"(SHORTANSWER|SA|MW)|(SHORTANSWER_C|SAC|MWC)|"
    r"(MULTICHOICE_S|MCS)|(MULTICHOICE_VS|MCVS)|(MULTICHOICE_HS|MCHS)|"
    r"(MULTIRESPONSE|MR)|(MULTIRESPONSE_H|MRH)|(MULTIRESPONSE_S|MRS)|(MULTIRESPONSE_HS|MRHS)"
)
_START = r"\{([0-9]*):(" + _TYPES + "):"
ANSWER_REGEX = re.compile(_START + "(" + _ALTERNATIVE + "(~" + _ALTERNATIVE + ")*)\\}", re.S)
ALTERNATIVE_REGEX = re.compile("~?" + _ALTERNATIVE, re.S)
LOOKS_LIKE_START = re.compile(r"\{[0-9]*:(?:" + _TYPES + "):")
# Moodle's group numbers: 1 weight, 2 type, 3 numerical, 4-15 the other types, 16 alternatives.
_GROUP_TYPES = {3: "NUMERICAL", 7: "SHORTANSWER", 8: "SHORTANSWER"} | {
    g: "MULTICHOICE" for g in (4, 5, 6, 9, 10, 11)
}
_GROUP_TYPES |= {g: "MULTIRESPONSE" for g in (12, 13, 14, 15)}

#: What qtype_numerical's answer processor reads as a number (sign, digits, exponent).
_MOODLE_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?$")


@dataclass
class MoodleAnswer:
    text: str
    fraction: float  # 0..1
    tolerance: str | None = None
    feedback: str = ""


@dataclass
class MoodleQuestion:
    type: str
    name: str
    idnumber: str
    category: str
    answers: list[MoodleAnswer] = field(default_factory=list)
    subquestions: list[tuple[str, int, list[MoodleAnswer]]] = field(default_factory=list)  # cloze
    mark: float = 1.0  # the mark the question imports with (its default mark)
    exact_mark: Fraction = Fraction(1)  # the same, as the exact decimal written


@dataclass
class MoodleReport:
    problems: list[str]
    questions: list[MoodleQuestion]


def matching_answer(answers: list[MoodleAnswer], value: float) -> MoodleAnswer | None:
    """The answer Moodle grades a numerical response ``value`` with: the first, in the file's
    order, whose tolerance interval holds it (qtype_numerical_question::get_matching_answer;
    ``*`` holds anything), or None (no credit, no feedback)."""
    for a in answers:
        if a.text.strip() == "*":
            return a
        if a.tolerance is not None and moodle_accepts(a.text.replace(",", "."), a.tolerance, value):
            return a
    return None


def _fraction_ok(fraction: float) -> bool:
    return any(abs(fraction - f) < 1e-5 for f in ALLOWED_FRACTIONS)


def _text(el: ET.Element | None, path: str = "text") -> str | None:
    if el is None:
        return None
    found = el.find(path)
    return None if found is None else (found.text or "")


def parse_cloze(text: str) -> tuple[list[tuple[str, int, list[MoodleAnswer]]], list[str]]:
    """The embedded answers of a cloze question text as Moodle reads them:
    ``(type, weight, answers)`` per blank, and the problems Moodle would report."""
    subs, problems = [], []
    rest = text
    position = 0
    while True:
        m = ANSWER_REGEX.search(rest)
        if not m:
            break
        position += 1
        kind = next((t for g, t in _GROUP_TYPES.items() if m.group(g)), "?")
        weight = int(m.group(1)) or 1 if m.group(1) else 1  # PHP: empty('0') is true
        answers = []
        remaining = m.group(16)
        while remaining:
            alt = ALTERNATIVE_REGEX.match(remaining)
            if not alt or not alt.group(0):
                problems.append(f"blank {position}: cannot read the alternatives {remaining!r}")
                break
            if alt.group(1) == "=":
                fraction = 1.0
            elif alt.group(2):
                fraction = 0.01 * float(alt.group(2).replace(",", "."))
            else:
                fraction = 0.0
            feedback = html.unescape(alt.group(5) or "").replace("\\}", "}").replace("\\#", "#")
            raw = alt.group(3)
            tolerance = None
            if kind == "NUMERICAL" and (num := NUMERICAL_ALTERNATIVE.match(raw)):
                answer_text, tolerance = num.group(1), num.group(6) or "0"
            else:
                answer_text = html.unescape(raw).replace("\\}", "}").replace("\\#", "#")
            answers.append(MoodleAnswer(answer_text, fraction, tolerance, feedback))
            remaining = remaining[alt.end() :]
        subs.append((kind, weight, answers))
        rest = rest[: m.start()] + "{#" + str(position) + "}" + rest[m.end() :]
    if LOOKS_LIKE_START.search(rest):
        bad = LOOKS_LIKE_START.search(rest)
        problems.append(f"malformed embedded answer near {rest[bad.start() : bad.start() + 60]!r}")
    for position, (kind, _weight, answers) in enumerate(subs, 1):
        where = f"blank {position} ({kind})"
        if kind not in ("NUMERICAL", "MULTICHOICE"):
            problems.append(f"{where}: quizgen writes only NUMERICAL and MULTICHOICE blanks")
        if not answers:
            problems.append(f"{where}: no answers")
        for a in answers:
            if kind == "NUMERICAL" and a.tolerance is None and a.text.strip() != "*":
                problems.append(f"{where}: {a.text!r} is not a number Moodle reads")
            if not _fraction_ok(a.fraction):
                problems.append(f"{where}: grade {100 * a.fraction:g}% is not one Moodle offers")
        if answers and max(a.fraction for a in answers) != 1.0:
            problems.append(f"{where}: no answer is worth 100%")
        if kind == "MULTICHOICE" and len(answers) < 2:
            problems.append(f"{where}: a multiple-choice blank needs at least two options")
    if not subs:
        problems.append("a cloze question without embedded answers")
    return subs, problems


def _answers(q: ET.Element, problems: list[str], where: str, *, numerical: bool) -> list[MoodleAnswer]:
    out = []
    for a in q.findall("answer"):
        try:
            fraction = float(a.get("fraction", "0")) / 100
        except ValueError:
            problems.append(f"{where}: answer grade {a.get('fraction')!r} is not a number")
            continue
        if not _fraction_ok(fraction):
            problems.append(f"{where}: answer grade {a.get('fraction')}% is not one Moodle offers")
        text = _text(a) or ""
        tolerance = None
        if numerical:
            if text.strip() != "*" and not _MOODLE_NUMBER.match(text.strip()):
                problems.append(f"{where}: answer {text!r} is not a number Moodle reads")
            tolerance = _text(a, "tolerance")
            if tolerance is None:
                problems.append(f"{where}: answer {text!r} has no tolerance")
            else:
                try:
                    if float(tolerance) < 0:
                        problems.append(f"{where}: negative tolerance {tolerance}")
                except ValueError:
                    problems.append(f"{where}: tolerance {tolerance!r} is not a number")
        elif not text.strip():
            problems.append(f"{where}: an empty answer")
        out.append(MoodleAnswer(text, fraction, tolerance, _text(a.find("feedback")) or ""))
    return out


def _check_common(q: ET.Element, problems: list[str], where: str) -> None:
    qt = q.find("questiontext")
    if qt is None or qt.find("text") is None:
        problems.append(f"{where}: no questiontext/text")
    elif qt.get("format", "html") not in TEXT_FORMATS:
        problems.append(f"{where}: unknown questiontext format {qt.get('format')!r}")
    for tag, low, high in (("defaultgrade", 0.0, float("inf")), ("penalty", 0.0, 1.0)):
        value = q.findtext(tag)
        if value is None:
            continue
        try:
            if not low <= float(value) <= high:
                problems.append(f"{where}: {tag} {value} is outside [{low:g}, {high:g}]")
        except ValueError:
            problems.append(f"{where}: {tag} {value!r} is not a number")
    if q.findtext("hidden", "0") not in ("0", "1"):
        problems.append(f"{where}: hidden must be 0 or 1")


#: qtype_ordering's settings (core since Moodle 4.4) and the names its importer
#: (``set_layout_select_count_grading``) maps; any other value silently becomes its default.
ORDERING_SETTINGS = {
    "layouttype": {"VERTICAL", "VERT", "V", "0", "HORIZONTAL", "HORI", "H", "1"},
    "selecttype": {"ALL", "EXACT", "RANDOM", "REL", "CONTIGUOUS", "CONTIG"},
    "gradingtype": {
        "ALL_OR_NOTHING",
        "ABS",
        "ABSOLUTE",
        "ABSOLUTE_POSITION",
        "REL",
        "RELATIVE",
        "RELATIVE_NEXT_EXCLUDE_LAST",
        "RELATIVE_NEXT_INCLUDE_LAST",
        "RELATIVE_ONE_PREVIOUS_AND_NEXT",
        "RELATIVE_ALL_PREVIOUS_AND_NEXT",
        "LONGEST_ORDERED_SUBSET",
        "LONGEST_CONTIGUOUS_SUBSET",
        "RELATIVE_TO_CORRECT",
    },
    "showgrading": {"SHOW", "TRUE", "YES", "HIDE", "FALSE", "NO", "1", "0"},
}


def _ordering_problems(q: ET.Element, where: str) -> list[str]:
    """An ordering question as qtype_ordering's ``import_from_xml`` reads it: settings it knows
    (anything else silently becomes its default, so our intent would be lost), at least two
    items, distinct and not empty. The right order is the items' order in the file (the
    importer resets each ``fraction`` to the item's position when it saves the question)."""
    out = []
    for tag, known in ORDERING_SETTINGS.items():
        value = (q.findtext(tag) or "").strip().upper()
        if value not in known:
            out.append(
                f"{where}: {tag} {value!r} is not one qtype_ordering knows; it would fall back to its default"
            )
    items = q.findall("answer")
    if len(items) < 2:
        out.append(f"{where}: an ordering question needs at least two items")
    texts = [(_text(a) or "").strip() for a in items]
    if len(set(texts)) != len(texts) or not all(texts):
        out.append(f"{where}: the items' texts must be distinct and not empty")
    count = (q.findtext("selectcount") or "").strip()
    if (
        (q.findtext("selecttype") or "").strip().upper() in ("ALL", "EXACT")
        and count.isdigit()
        and int(count) not in (0, len(items))
    ):
        out.append(
            f"{where}: selectcount {count} with selecttype ALL: give the number of items, {len(items)}"
        )
    return out


def validate_moodle(xml_text: str) -> MoodleReport:
    """Problems Moodle's importer would have with ``xml_text``, and the questions it holds."""
    problems: list[str] = []
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        return MoodleReport([f"not well-formed XML: {exc}"], [])
    if root.tag != "quiz":
        return MoodleReport([f"the root element is <{root.tag}>, Moodle expects <quiz>"], [])
    questions: list[MoodleQuestion] = []
    category = ""
    ids: set[tuple[str, str]] = set()
    for n, q in enumerate(root, 1):
        if q.tag != "question":
            problems.append(f"element {n}: <{q.tag}> where Moodle expects <question>")
            continue
        kind = q.get("type", "")
        if kind not in QUESTION_TYPES:
            problems.append(f"question {n}: unknown type {kind!r}")
            continue
        if kind == "category":
            category = _text(q.find("category")) or ""
            names = re.split(r"(?<!/)/(?!/)", category)
            if not category.startswith(CONTEXTS) or any(not s.strip() for s in names):
                problems.append(f"question {n}: bad category path {category!r}")
            continue
        name = (_text(q.find("name")) or "").strip()
        where = f"question {n} ({name or 'no name'})"
        if not name:
            problems.append(f"{where}: no name")
        elif len(name) > 255:
            problems.append(f"{where}: name longer than 255 characters")
        idnumber = q.findtext("idnumber", "") or ""
        if idnumber:
            if (category, idnumber) in ids:
                problems.append(f"{where}: idnumber {idnumber!r} repeats in category {category!r}")
            ids.add((category, idnumber))
            if len(idnumber) > 100:
                problems.append(f"{where}: idnumber longer than 100 characters")
        _check_common(q, problems, where)
        parsed = MoodleQuestion(kind, name, idnumber, category)
        try:  # import_headers reads <defaultgrade> (default 1) for every type but cloze
            parsed.exact_mark = Fraction(q.findtext("defaultgrade", "1").strip())
            parsed.mark = float(parsed.exact_mark)
        except ValueError:
            parsed.mark, parsed.exact_mark = 1.0, Fraction(1)
        if kind == "numerical":
            parsed.answers = _answers(q, problems, where, numerical=True)
            if not parsed.answers:
                problems.append(f"{where}: no answers")
            elif max(a.fraction for a in parsed.answers) != 1.0:
                problems.append(f"{where}: no answer is worth 100%")
        elif kind == "multichoice":
            single = q.findtext("single", "true").strip().lower()
            if single not in ("true", "false", "1", "0"):
                problems.append(f"{where}: single must be true or false")
            if q.findtext("answernumbering", "abc") not in NUMBERINGS:
                problems.append(f"{where}: unknown answernumbering {q.findtext('answernumbering')!r}")
            parsed.answers = _answers(q, problems, where, numerical=False)
            if len(parsed.answers) < 2:
                problems.append(f"{where}: a multiple-choice question needs at least two answers")
            elif single in ("true", "1") and max(a.fraction for a in parsed.answers) != 1.0:
                problems.append(f"{where}: no answer is worth 100%")
            elif single in ("false", "0"):
                # qtype_multichoice save_question_options: with several answers allowed, the
                # positive grades must add up to 100%
                total = sum(a.fraction for a in parsed.answers if a.fraction > 0)
                if abs(total - 1.0) > 1e-4:
                    problems.append(f"{where}: the positive grades add up to {total:.2%}, not 100%")
        elif kind == "truefalse":
            # import_truefalse: an answer whose text is 'true' and one whose text is 'false';
            # the one at 100% is the right one
            parsed.answers = _answers(q, problems, where, numerical=False)
            words = sorted((a.text or "").strip().lower() for a in parsed.answers)
            if words != ["false", "true"]:
                problems.append(
                    f"{where}: a true/false question needs the answers 'true' and 'false', got {words}"
                )
            elif sorted(a.fraction for a in parsed.answers) != [0.0, 1.0]:
                problems.append(f"{where}: one of 'true' and 'false' must be worth 100% and the other 0%")
        elif kind == "ordering":
            problems.extend(_ordering_problems(q, where))
            parsed.answers = [
                MoodleAnswer(_text(a) or "", float(a.get("fraction", "0") or 0)) for a in q.findall("answer")
            ]
        elif kind == "cloze":
            subs, cloze_problems = parse_cloze(_text(q.find("questiontext")) or "")
            parsed.subquestions = subs
            # qtype_multianswer_extract_question: the mark is the sum of the blank weights;
            # the importer does not read <defaultgrade> for cloze
            parsed.exact_mark = Fraction(sum(w for _k, w, _a in subs))
            parsed.mark = float(parsed.exact_mark)
            problems.extend(f"{where}: {p}" for p in cloze_problems)
        questions.append(parsed)
    return MoodleReport(problems, questions)
