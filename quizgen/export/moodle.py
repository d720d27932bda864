"""Moodle XML: a category per exam slot (bank export: per template) holding its variants, so a
Moodle quiz can draw a random variant per student ("Add a random question" from the category).

Each variant is one question:

- one number: ``numerical``; the correct answer with the accepted half-width
  (``Tolerance.margin``) as its tolerance, then each distinguishable known mistake as an answer
  with its own tolerance and feedback, graded with the mistake's credit (0 unless the template
  gives it a share; Moodle's nearest allowed grade, with a warning when that differs);
- one multiple-choice part: ``multichoice`` (single answer, options in the instance's order,
  lettered A, B, ... as on the paper), the known mistakes' feedback and credit on their options;
- anything else (several parts, vectors, matrices, tensors, shapes): ``cloze`` (embedded
  answers), one ``{w:NUMERICAL:=value:margin#...}`` blank per element in C order, laid out as a
  row or a table, plus ``{w:MULTICHOICE:...}`` for choice parts; a part's points are split
  evenly over its elements, each blank weighted with its points × the export's mark factor.

Marks (:func:`moodle_marks`): every question imports worth its exam points × one factor k for
the whole export, the smallest that makes each cloze blank's weight a whole number (Moodle's
cloze is worth the sum of its whole-number weights): k = 1 when the exam's split allows it;
otherwise the export notes the quiz's maximum grade to set.

Numbers are written so that they read back exactly (:func:`~.common.number_text`), and every
answer and margin is checked against Moodle's acceptance rule before it is written. Worked
solutions are the general feedback. Math is LaTeX in ``\\(...\\)`` and ``$$...$$``.
"""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..fsutil import atomic_write_text
from ..graders.compare import mistake_feedback
from ..graders.selection import option_weights
from ..models import Instance, InstancePart
from ..selection import flipped_option, is_selection, labels, option_of, split_letters
from .common import (
    Blank,
    ExportResult,
    ExportSource,
    VariantGroup,
    blanks,
    export_path,
    interval_problem,
    layout,
    moodle_accepts,
    number_text,
    where,
)
from .text import to_lms_html, to_lms_inline

__all__ = [
    "ALLOWED_FRACTIONS",
    "MoodleMarks",
    "blank_weights",
    "category_path",
    "cloze_escape",
    "cloze_weights",
    "export_moodle",
    "fraction_text",
    "moodle_marks",
    "moodle_xml",
    "snap_fraction",
]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Moodle's grade options for an answer (question_bank::fraction_options_full), as fractions.
_POSITIVE = (
    1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333,
    0.3, 0.25, 0.2, 0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05,
)  # fmt: skip
ALLOWED_FRACTIONS: tuple[float, ...] = (*_POSITIVE, 0.0, *(-f for f in reversed(_POSITIVE)))


def snap_fraction(fraction: float) -> float:
    """The nearest grade Moodle allows (its importer rejects any other)."""
    return min(ALLOWED_FRACTIONS, key=lambda f: abs(f - fraction))


def fraction_text(fraction: float) -> str:
    """A fraction as Moodle XML's percentage: 1 -> '100', 1/3 -> '33.33333'."""
    percent = round(100 * snap_fraction(fraction), 5)
    return format(percent, "f").rstrip("0").rstrip(".") if percent != 0 else "0"


def category_path(title: str, key: str) -> str:
    """``$course$/top/<title>/<key>``; a '/' inside a name is doubled, as Moodle expects."""
    return "$course$/top/" + "/".join(name.replace("/", "//") for name in (title, key))


def _text_el(parent: ET.Element, tag: str, text: str, *, fmt: str | None = "html") -> ET.Element:
    el = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(el, "text").text = text
    return el


def _simple(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _grade_text(points: float) -> str:
    return format(round(points, 7), "f").rstrip("0").rstrip(".") or "0"


def _header(q: ET.Element, instance: Instance, questiontext: str, points: float) -> None:
    name = f"{instance.title or instance.template_id} [{instance.template_id} seed {instance.seed}]"
    _text_el(q, "name", name[:255], fmt=None)
    _text_el(q, "questiontext", questiontext)
    _text_el(q, "generalfeedback", to_lms_html(instance.solution) if instance.solution.strip() else "")
    _simple(q, "defaultgrade", _grade_text(points))
    _simple(q, "penalty", "0")
    _simple(q, "hidden", "0")
    _simple(q, "idnumber", f"{instance.template_id}:{instance.seed}"[:100])


def _prompt_html(part: InstancePart, label: bool) -> str:
    prompt = to_lms_html(part.prompt) if part.prompt.strip() else ""
    if not label:
        return prompt
    head = f"<strong>({html.escape(part.id)})</strong> "
    return prompt.replace("<p>", "<p>" + head, 1) if prompt.startswith("<p>") else f"<p>{head}</p>{prompt}"


def _checked(blank: Blank, value: float, instance: Instance, part: InstancePart, warnings: list[str]):
    """(answer text, margin text) for ``value``, with Moodle's rule checked against ours."""
    answer, margin = number_text(value), number_text(float(blank.tolerance.margin(value)))
    problem = interval_problem(value, blank.tolerance, answer, margin, moodle_accepts)
    if problem:
        warnings.append(f"{where(instance, part, blank.index)}: Moodle would grade differently: {problem}")
    return answer, margin


def _merged_feedback(feedbacks: list[str]) -> str:
    unique = list(dict.fromkeys(f for f in feedbacks if f))
    if len(unique) < 2:
        return unique[0] if unique else ""
    listed = " ".join(f"({k}) {' '.join(f.split())}" for k, f in enumerate(unique, 1))
    return f"One of these mistakes, which give numbers too close to tell apart: {listed}"


def _indistinct(blank: Blank) -> tuple[list[list[bool]], list[list[int]]]:
    """``holds[i][j]``: mistake i's Moodle interval holds mistake j's value; ``together[i]``:
    the mistakes whose intervals hold each other's values (directly or through others) with i."""
    mistakes = blank.mistakes
    n = len(mistakes)
    texts = [(number_text(m.value), number_text(float(blank.tolerance.margin(m.value)))) for m in mistakes]
    holds = [[i != j and moodle_accepts(*texts[i], mistakes[j].value) for j in range(n)] for i in range(n)]
    reach = [row[:] for row in holds]
    for k in range(n):
        for i in range(n):
            if reach[i][k]:
                for j in range(n):
                    reach[i][j] = reach[i][j] or reach[k][j]
    return holds, [[j for j in range(n) if j == i or (reach[i][j] and reach[j][i])] for i in range(n)]


def answer_order(blank: Blank) -> list[tuple[float, float, str]]:
    """``(value, fraction, feedback)`` for a numerical blank, in the order Moodle must try them.

    Moodle grades a numerical response with the first answer, in order, whose tolerance holds it
    (qtype_numerical_question::get_matching_answer). So the correct answer comes first, and a
    known mistake comes before every other mistake whose interval holds its value. Mistakes whose
    intervals hold each other's values (directly or through others) cannot be told apart in any
    order: they share one feedback that names each of them. A mistake's fraction is its credit
    (:func:`credit_problems` says when Moodle cannot give it exactly)."""
    mistakes = blank.mistakes
    n = len(mistakes)
    holds, together = _indistinct(blank)
    feedback = [_merged_feedback([mistakes[j].feedback for j in together[i]]) for i in range(n)]
    order: list[int] = []
    while len(order) < n:
        # the first mistake (in the instance's order) all of whose held values are already placed
        nxt = next(
            i
            for i in range(n)
            if i not in order and all(j in order or j in together[i] for j in range(n) if holds[i][j])
        )
        order.append(nxt)
    return [(blank.expected, 1.0, ""), *((mistakes[i].value, mistakes[i].credit, feedback[i]) for i in order)]


def _snap_problem(credit: float) -> str | None:
    if snap_fraction(credit) == credit or abs(snap_fraction(credit) - credit) < 5e-8:
        return None
    return f"Moodle allows no grade of {credit:.4g}: the mistake earns {fraction_text(credit)}% there"


def credit_problems(blank: Blank) -> list[str]:
    """Where Moodle cannot give a numerical blank's mistakes their credit: a credit that is not
    one of Moodle's grades (:data:`ALLOWED_FRACTIONS`; the nearest is written), and mistakes
    too close to tell apart with different credits (Moodle gives the first one's)."""
    out = [p for m in blank.mistakes if m.credit and (p := _snap_problem(m.credit))]
    _, together = _indistinct(blank)
    for group in {tuple(g) for g in together if len(g) > 1}:
        credits = sorted({blank.mistakes[j].credit for j in group})
        if len(credits) > 1:
            values = ", ".join(number_text(blank.mistakes[j].value) for j in group)
            out.append(
                f"the mistakes giving {values} are too close to tell apart but earn different credit "
                f"({', '.join(f'{c:.0%}' for c in credits)}): Moodle gives a response near them one of these"
            )
    return out


def _credit_warnings(blank: Blank, instance: Instance, part: InstancePart, warnings: list[str]) -> None:
    warnings.extend(f"{where(instance, part, blank.index)}: {p}" for p in credit_problems(blank))


# ------------------------------------------------------------------------------- numerical


def _numerical(instance: Instance, warnings: list[str], marks: MoodleMarks) -> ET.Element:
    part = instance.parts[0]
    (blank,) = blanks(part)
    q = ET.Element("question", {"type": "numerical"})
    text = to_lms_html(instance.text) + "\n" + _prompt_html(part, False)
    _header(q, instance, text, part.points * marks.factor)
    _credit_warnings(blank, instance, part, warnings)
    for value, fraction, feedback in answer_order(blank):
        answer, margin = _checked(blank, value, instance, part, warnings)
        a = ET.SubElement(q, "answer", {"fraction": fraction_text(fraction), "format": "moodle_auto_format"})
        _simple(a, "text", answer)
        _simple(a, "tolerance", margin)
        _text_el(a, "feedback", to_lms_html(feedback) if feedback else "")
    _simple(q, "unitgradingtype", "0")
    _simple(q, "unitpenalty", "0.1000000")
    _simple(q, "showunits", "3")
    _simple(q, "unitsleft", "0")
    return q


# ------------------------------------------------------------------------------- multichoice


def _option_mistakes(part: InstancePart) -> dict[str, tuple[str, float]]:
    """option letter -> (the feedback, the credit) of the first known mistake that picks it."""
    out: dict[str, tuple[str, float]] = {}
    for m in part.mistakes:
        if m.distinguishable and isinstance(m.value, str):
            out.setdefault(m.value, (mistake_feedback(m), m.credit))
    return out


def _option_grades(instance: Instance, part: InstancePart, warnings: list[str]) -> list[tuple[float, str]]:
    """(fraction, feedback) per option: 1 for the key, a mistake's credit for its option, else 0."""
    mistaken = _option_mistakes(part)
    out = []
    for letter, _ in zip(LETTERS, part.options, strict=False):
        feedback, credit = mistaken.get(letter, ("", 0.0))
        if letter == part.expected:
            credit = 1.0
        elif credit and (problem := _snap_problem(credit)):
            warnings.append(f"{where(instance, part)}: option {letter}: {problem}")
        out.append((credit, feedback))
    return out


def _multichoice(instance: Instance, warnings: list[str], marks: MoodleMarks) -> ET.Element:
    part = instance.parts[0]
    q = ET.Element("question", {"type": "multichoice"})
    text = to_lms_html(instance.text) + "\n" + _prompt_html(part, False)
    _header(q, instance, text, part.points * marks.factor)
    _simple(q, "single", "true")
    _simple(q, "shuffleanswers", "false")  # the paper's order: the letters stay meaningful
    _simple(q, "answernumbering", "ABCD")
    _simple(q, "showstandardinstruction", "0")
    for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        _text_el(q, tag, "")
    for option, (fraction, feedback) in zip(
        part.options, _option_grades(instance, part, warnings), strict=True
    ):
        a = ET.SubElement(q, "answer", {"fraction": fraction_text(fraction), "format": "html"})
        _simple(a, "text", html.escape(option, quote=False))
        _text_el(a, "feedback", to_lms_html(feedback) if feedback else "")
    return q


# ------------------------------------------------------------------------ text options
# A variant whose one part is of a text-option kind (quizgen.selection) is one question of
# Moodle's own type for it: text choice -> multichoice (single), true/false -> truefalse,
# multiple select -> multichoice with single=false, ordering -> ordering (core since 4.4).


def _options_question(instance: Instance, kind: str) -> tuple[ET.Element, InstancePart]:
    part = instance.parts[0]
    q = ET.Element("question", {"type": kind})
    _header(q, instance, to_lms_html(instance.text) + "\n" + _prompt_html(part, False), part.points)
    return q, part


def _choice_header(q: ET.Element, single: bool) -> None:
    _simple(q, "single", "true" if single else "false")
    _simple(q, "shuffleanswers", "false")  # the paper's order: the letters stay meaningful
    _simple(q, "answernumbering", "ABCD")
    _simple(q, "showstandardinstruction", "0")
    for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        _text_el(q, tag, "")


def _option_answer(q: ET.Element, fraction: float, text: str, feedback: str) -> None:
    a = ET.SubElement(q, "answer", {"fraction": fraction_text(fraction), "format": "html"})
    _simple(a, "text", to_lms_inline(text))
    _text_el(a, "feedback", to_lms_html(feedback) if feedback else "")


def _text_choice(instance: Instance, warnings: list[str], notes: dict) -> ET.Element:
    """One right option at 100%, each wrong one with its misconception's feedback (and credit)."""
    q, part = _options_question(instance, "multichoice")
    _choice_header(q, True)
    for option, (fraction, feedback) in zip(
        part.options, _option_grades(instance, part, warnings), strict=True
    ):
        _option_answer(q, fraction, option, feedback)
    return q


def _true_false(instance: Instance, warnings: list[str], notes: dict) -> ET.Element:
    """Moodle's truefalse: answers ``true`` and ``false``, the right one at 100%, the wrong
    one with the feedback of the misconception it shows in this variant."""
    q, part = _options_question(instance, "truefalse")
    wrong = next((m for m in part.mistakes if m.distinguishable), None)
    for letter, word in (("T", "true"), ("F", "false")):
        right = letter == part.expected
        a = ET.SubElement(q, "answer", {"fraction": "100" if right else "0", "format": "moodle_auto_format"})
        _simple(a, "text", word)
        feedback = "" if right or wrong is None else mistake_feedback(wrong)
        _text_el(a, "feedback", to_lms_html(feedback) if feedback else "")
        if not right and wrong is not None and wrong.credit:
            warnings.append(
                f"{where(instance, part)}: Moodle's true/false gives no partial credit: {wrong.id} earns 0 there"
            )
    return q


def _multi_select(instance: Instance, warnings: list[str], notes: dict) -> ET.Element:
    """multichoice with single=false: each right option +1/k, each wrong one -1/(n-k), which
    with Moodle's floor at 0 is quizgen's rule (docs/grading.md) when the fractions are among
    Moodle's allowed grades; otherwise the nearest allowed grade, with a warning."""
    q, part = _options_question(instance, "multichoice")
    _choice_header(q, False)
    right = set(split_letters(part.expected))
    gain, cost = option_weights(len(part.options), len(right))
    for fraction in (gain, -cost):
        if abs(snap_fraction(fraction) - fraction) >= 5e-8:
            warnings.append(
                f"{where(instance, part)}: Moodle allows no grade of {fraction:.4g}: an option earns "
                f"{fraction_text(fraction)}% there, so partial grades differ slightly from quizgen's"
            )
    for letter, option in zip(labels(part), part.options, strict=True):
        m = next(
            (m for m in part.mistakes if m.value is not None and flipped_option(part, m.value) == letter),
            None,
        )
        _option_answer(q, gain if letter in right else -cost, option, m.feedback if m is not None else "")
    return q


def _ordering(instance: Instance, warnings: list[str], notes: dict) -> ET.Element:
    """qtype_ordering (core since Moodle 4.4): the items in the right order (Moodle shuffles
    them for each attempt), graded by the longest ordered subset, which Moodle scores L/n
    where quizgen scores (L - 1)/(n - 1): the export says so once per slot."""
    q, part = _options_question(instance, "ordering")
    _simple(q, "layouttype", "VERTICAL")
    _simple(q, "selecttype", "ALL")
    _simple(q, "selectcount", str(len(part.options)))
    _simple(q, "gradingtype", "LONGEST_ORDERED_SUBSET")
    _simple(q, "showgrading", "SHOW")
    _simple(q, "numberingstyle", "none")
    for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        _text_el(q, tag, "")
    # the importer takes the right order from the items' order in the file; ``fraction`` is
    # written as the position, as Moodle's own export does
    for position, letter in enumerate(split_letters(part.expected), 1):
        a = ET.SubElement(q, "answer", {"fraction": str(position), "format": "html"})
        _simple(a, "text", to_lms_inline(option_of(part, letter)))
    note = (
        f"part {part.id}: Moodle grades an ordering's longest ordered subset as L/n (qtype_ordering's "
        "question.php), quizgen as (L - 1)/(n - 1): the right order scores full in both, but a reversed "
        "order earns 1/n there and 0 here, and Moodle's feedback does not name the wrong order's misconception"
    )
    notes.setdefault(note, []).append(instance.seed)
    return q


#: text-option kind -> its Moodle question builder.
_SELECTION_BUILDERS = {
    "text_choice": _text_choice,
    "true_false": _true_false,
    "multi_select": _multi_select,
    "ordering": _ordering,
}


# ------------------------------------------------------------------------------- cloze


def cloze_escape(fragment: str) -> str:
    """An HTML fragment as an answer or feedback inside an embedded answer. Moodle's parser ends
    them at ``~``, ``#`` and ``}``, then HTML-entity-decodes them and unescapes ``\\}`` and
    ``\\#``. So: HTML-escape once (the decode gives the fragment back), escape ``}`` and ``#``
    with a backslash, and write ``~`` as ``&#126;`` (decoded to ``~``)."""
    out = html.escape(fragment, quote=False)
    out = out.replace("}", "\\}").replace("#", "\\#")
    return out.replace("~", "&#126;")


#: The largest exam-wide mark factor the export uses to keep every share exact (see
#: :func:`moodle_marks`); past it, cloze blanks' shares are rounded instead, with a warning.
MAX_FACTOR = 1000


def _exact(x: float) -> Fraction | None:
    """The fraction a float of the exam stands for (8/3 for 2.6666666666666665), or None."""
    f = Fraction(x).limit_denominator(10**6)
    return f if abs(float(f) - x) <= 1e-12 * max(abs(x), 1.0) else None


def blank_weights(instance: Instance) -> list[float]:
    """The points of each blank of ``instance``'s cloze question, in order: a part's points split
    evenly over its elements, a choice part's whole (they sum to the question's points)."""
    weights: list[float] = []
    for part in instance.parts:
        n = 1 if part.options else len(blanks(part))
        weights.extend([part.points / n] * n)
    return weights


@dataclass(frozen=True)
class MoodleMarks:
    """How an export's questions import into Moodle: each worth ``factor`` × its exam points.

    Moodle's importer ignores ``<defaultgrade>`` for cloze: the question is worth the sum of its
    blank weights (qtype_multianswer_extract_question adds up each blank's ``{w:`` weight, 1
    when empty or 0), and a weight is a whole number. So one factor k for the whole export, the
    smallest that makes every cloze blank's points × k whole, scales every question (cloze,
    numerical and multichoice alike): each question's mark / the marks' total is then exactly
    its points / the exam's ``total``, and each blank's share of its question is exact. With
    k > 1 the instructor sets the quiz's maximum grade to ``total`` (Moodle rescales the sum of
    marks to it). Past :data:`MAX_FACTOR` (``exact`` False), the factor only makes each
    question's points whole and at least its number of blanks, and the blanks' shares are
    rounded (:func:`cloze_weights` says by how much)."""

    factor: int
    exact: bool
    total: float
    wanted: int = 0  # the exact factor, when it is over MAX_FACTOR

    def note(self) -> str | None:
        """The one line to print when the marks are not the exam's points, else None."""
        if self.factor == 1:
            return None
        return (
            f"Moodle: cloze blanks take whole-number weights, so every question imports worth "
            f"{self.factor} x its exam points (marks sum to {_grade_text(self.total * self.factor)}); "
            f"after importing, set the quiz's Maximum grade to the exam's total, {_grade_text(self.total)}"
        )


def _exportable(source: ExportSource):
    for group in source.groups:
        for instance in group.instances:
            if _representable(instance) is None:
                yield instance


def moodle_marks(source: ExportSource) -> MoodleMarks:
    """The export's mark factor (:class:`MoodleMarks`)."""
    total = float(sum(group.points for group in source.groups))
    factor, exact = 1, True
    points_factor, fit = 1, 1  # the fallback: whole points, at least a mark per blank
    for instance in _exportable(source):
        points = _exact(instance.points)
        if points is None:
            exact = False
        elif 10**7 % points.denominator:  # a defaultgrade is stored to 7 decimals
            points_factor = math.lcm(points_factor, points.denominator)
        if layout(instance) != "multi":
            if points is not None and 10**7 % points.denominator:
                factor = math.lcm(factor, points.denominator)
            continue
        weights = blank_weights(instance)
        shares = [_exact(w) for w in weights]
        if points is None or None in shares or sum(shares) != points:
            exact = False
        else:
            factor = math.lcm(factor, *(f.denominator for f in shares))
            points_factor = math.lcm(points_factor, points.denominator)
        fit = max(fit, math.ceil(len(weights) / instance.points))
    if exact and factor <= MAX_FACTOR:
        return MoodleMarks(factor, True, total)
    base = points_factor if points_factor <= MAX_FACTOR else 1
    return MoodleMarks(base * math.ceil(fit / base), False, total, factor if exact else 0)


def cloze_weights(weights: list[float], points: float, factor: int) -> tuple[list[int], float | None]:
    """Whole-number blank weights for a cloze question worth ``points`` × ``factor`` in Moodle:
    each blank's points × ``factor`` (exact: None), or, when those are not whole, the question's
    mark split in the blanks' proportions by largest remainders, each at least 1 (Moodle counts
    a 0 weight as 1), and the largest error of a blank's share of the question."""
    shares = [_exact(w) for w in weights]
    if None not in shares and all((f * factor).denominator == 1 for f in shares):
        return [int(f * factor) for f in shares], None
    mark = max(round(points * factor), len(weights))
    whole = sum(weights)
    ideal = [w / whole * mark for w in weights]
    ints = [max(1, math.floor(x)) for x in ideal]
    by_remainder = sorted(range(len(ints)), key=lambda i: ideal[i] - ints[i], reverse=True)
    for i in by_remainder[: max(0, mark - sum(ints))]:
        ints[i] += 1
    while sum(ints) > mark:  # the 1s given to tiny shares: taken from the most over their share
        i = max((j for j in range(len(ints)) if ints[j] > 1), key=lambda j: ints[j] - ideal[j])
        ints[i] -= 1
    return ints, max(abs(n / mark - w / whole) for n, w in zip(ints, weights, strict=True))


def _numerical_blank(weight: int, blank: Blank, instance: Instance, part: InstancePart, warnings) -> str:
    alternatives = []
    _credit_warnings(blank, instance, part, warnings)
    for value, fraction, feedback in answer_order(blank):
        answer, margin = _checked(blank, value, instance, part, warnings)
        mark = "=" if fraction == 1.0 else f"%{fraction_text(fraction)}%"
        alternatives.append(
            f"{mark}{answer}:{margin}" + (f"#{cloze_escape(to_lms_inline(feedback))}" if feedback else "")
        )
    return "{" + f"{weight}:NUMERICAL:" + "~".join(alternatives) + "}"


def _choice_blank(weight: int, instance: Instance, part: InstancePart, warnings: list[str]) -> str:
    alternatives = []
    grades = _option_grades(instance, part, warnings)
    for letter, option, (fraction, feedback) in zip(LETTERS, part.options, grades, strict=False):
        mark = "=" if fraction == 1.0 else f"%{fraction_text(fraction)}%"
        text = cloze_escape(html.escape(f"{letter}. {option}", quote=False))
        fb = f"#{cloze_escape(to_lms_inline(feedback))}" if feedback else ""
        alternatives.append(f"{mark}{text}{fb}")
    return "{" + f"{weight}:MULTICHOICE:" + "~".join(alternatives) + "}"


def _grid(shape: tuple[int, ...], cells: list[str]) -> str:
    """Blanks laid out like the answer: a single number inline, a vector as one row, a matrix
    as a table, higher dimensions as one table per leading index."""
    if shape == ():
        return f"<p>{cells[0]}</p>"
    arr = np.array(cells, dtype=object).reshape(shape)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim == 2:
        rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in arr)
        return f'<table class="quizgen-answer">{rows}</table>'
    out = []
    for lead in np.ndindex(arr.shape[:-2]):
        label = "[" + ", ".join(str(i) for i in lead) + ", :, :]"
        out.append(f"<p>{label}</p>" + _grid(arr.shape[-2:], list(arr[lead].reshape(-1))))
    return "".join(out)


def _cloze(instance: Instance, warnings: list[str], marks: MoodleMarks) -> ET.Element:
    """The cloze question, its blanks weighted to import worth its points × ``marks.factor``."""
    weights = blank_weights(instance)
    if not weights or min(weights) <= 0:
        raise ValueError("every part needs positive points for a cloze question")
    ints, error = cloze_weights(weights, instance.points, marks.factor)
    if error is not None:
        why = f"x{marks.wanted}" if marks.wanted else "a factor"
        warnings.append(
            f"{where(instance)}: cloze blanks' shares rounded to whole weights out of {sum(ints)} "
            f"(largest error {error:.2%} of the question's mark): exact ones would need every "
            f"question {why} (over {MAX_FACTOR})"
        )
    per_part = [blanks(p) if not p.options else None for p in instance.parts]
    body = [to_lms_html(instance.text)]
    k = 0
    for part, bl in zip(instance.parts, per_part, strict=True):
        body.append(_prompt_html(part, True))
        if bl is None:
            body.append(f"<p>{_choice_blank(ints[k], instance, part, warnings)}</p>")
            k += 1
            continue
        cells = [_numerical_blank(ints[k + i], b, instance, part, warnings) for i, b in enumerate(bl)]
        k += len(bl)
        body.append(_grid(np.shape(part.expected), cells))
    q = ET.Element("question", {"type": "cloze"})
    _header(q, instance, "\n".join(body), sum(ints))
    return q


# ------------------------------------------------------------------------------- document

_BUILDERS = {
    "numerical": lambda instance, warnings, marks: _numerical(instance, warnings, marks),
    "multichoice": lambda instance, warnings, marks: _multichoice(instance, warnings, marks),
    "multi": lambda instance, warnings, marks: _cloze(instance, warnings, marks),
}


def _representable(instance: Instance) -> str | None:
    if not instance.parts:
        return "it has no parts to answer"
    for part in instance.parts:
        if is_selection(part.kind) and len(instance.parts) > 1:
            return (
                f"part {part.id} is a {part.kind} part in a question of several parts, which a Moodle cloze "
                "cannot ask; give the question one part"
            )
        if part.options and len(part.options) < 2:
            return f"part {part.id} is multiple choice with a single option (Moodle needs at least two)"
        if part.points <= 0:
            return f"part {part.id} is worth {part.points} points"
    return None


def _category(root: ET.Element, title: str, group: VariantGroup) -> None:
    q = ET.SubElement(root, "question", {"type": "category"})
    _text_el(q, "category", category_path(title, group.key), fmt=None)
    n = len(group.instances)
    info = (
        f"<p>{html.escape(group.title)}: {n} variant{'s' if n != 1 else ''} of {html.escape(group.template_id)}, "
        f"worth {_grade_text(group.points)} points in the exam (give its quiz slot this maximum mark)</p>"
    )
    _text_el(q, "info", info)


def moodle_xml(source: ExportSource) -> tuple[str, int, list[str]]:
    """The Moodle XML text, the number of questions in it, and the warnings; every question
    imports worth its exam points × :func:`moodle_marks`'s factor."""
    root = ET.Element("quiz")
    warnings: list[str] = []
    count = 0
    marks = moodle_marks(source)
    for group in source.groups:
        _category(root, source.title, group)
        notes: dict[str, list[int]] = {}  # a note on a slot's variants -> their seeds, said once
        for instance in group.instances:
            problem = _representable(instance)
            if problem:
                warnings.append(f"{where(instance)}: not exported to Moodle: {problem}")
                continue
            builder = _SELECTION_BUILDERS.get(instance.parts[0].kind) if len(instance.parts) == 1 else None
            if builder is not None:
                q = builder(instance, warnings, notes)
                # one part, worth its points x the export's factor like every other question
                q.find("defaultgrade").text = _grade_text(instance.points * marks.factor)
            else:
                q = _BUILDERS[layout(instance)](instance, warnings, marks)
            root.append(q)
            count += 1
        for note, seeds in notes.items():
            which = "every variant" if len(seeds) == len(group.instances) else f"seeds {seeds}"
            warnings.append(f"{group.key} ({which}): {note}")
    ET.indent(root, space=" ")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return text, count, warnings


def export_moodle(source: ExportSource, out: str | Path) -> ExportResult:
    """Write ``out`` (a .xml file; a folder gets ``moodle.xml`` inside it)."""
    path = export_path(out, ".xml", "moodle.xml")
    text, count, warnings = moodle_xml(source)
    atomic_write_text(path, text)
    note = moodle_marks(source).note()
    return ExportResult([path], count, warnings, [note] if note else [])
