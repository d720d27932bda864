"""Canvas QTI 1.2 zip (Classic Quizzes import), in the dialect Canvas itself exports.

    imsmanifest.xml                      one resource of type imsqti_xmlv1p2
    <assessment id>/<assessment id>.xml  the assessment: a section (question group) per slot

- A variant with one number is one ``numerical_question`` item: an exact answer with the
  accepted half-width as its margin, written as Canvas writes it,
  ``<or><varequal>x</varequal><and><vargte>x-m</vargte><varlte>x+m</varlte></and></or>``, where
  ``x`` and ``m`` read back exactly as our floats and the bounds are their exact decimal
  difference and sum (Canvas recovers the margin as ``upper - exact`` in BigDecimal).
- A variant with one multiple-choice part is one ``multiple_choice_question`` item, the known
  mistakes' feedback on their options.
- The variants of a slot form a question group that picks one (``selection_number`` 1) with the
  slot's points per item, so every student gets one random variant.
- Classic Quizzes' quiz page saves a typed number with 4 decimals (``toFixed(4)``) and blanks
  e-notation, so each number is asked in the largest unit 10^-p (p = 0, 3, ..., 12) in which
  the answer typed in full is saved inside the margin and every known mistake outside it
  (:func:`~.common.canvas_scale`); the prompt states the unit and the answer, margin and bounds
  are exact decimal shifts. A number no unit makes answerable is not exported (a warning names
  it).
- A variant with several answers (several parts, or a vector, matrix or tensor) cannot be one
  Canvas item (Classic Quizzes has no item with several numerical answers), and a group cannot
  draw several items of the same variant together. Such a variant becomes a text-only item
  with the question text, then per part one item (a number or a choice), or a text-only item
  with the part's prompt and one short item per entry ("(a) row 1, column 2"); the zip then
  holds versions of the quiz, and the export warns, naming the templates.
- Canvas numerical answers all score 100%: a known mistake cannot get its own feedback there
  (multiple-choice options can). Nor can a known mistake that earns partial credit in quizgen
  (``credit: 0.5``) earn it in Canvas: a numerical answer scores 100% or 0, and a Classic
  Quizzes multiple-choice option is right or wrong. It earns 0 there, and the export warns,
  naming the template, the part and the mistake (grade with quizgen, importing the LMS's
  responses, to give it).

Identifiers are hashes of the content's names (template id, seed, part, element), so rebuilding
gives the same zip byte for byte (entries are written with a fixed date).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np

from ..models import Instance, InstancePart
from ..selection import flipped_option, is_selection, split_letters
from ..selection import labels as option_labels
from . import common
from .common import (
    Blank,
    ExportResult,
    ExportSource,
    VariantGroup,
    blanks,
    canvas_accepts,
    canvas_scale,
    export_path,
    interval_problem,
    layout,
    number_text,
    stable_id,
    where,
)
from .text import to_lms_html, to_lms_inline

__all__ = ["QTI_NS", "decimal_text", "export_qti", "item_ident", "margin_bounds", "qti_files"]

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def item_ident(scope: str, instance: Instance, part: InstancePart | None = None, index: tuple = ()) -> str:
    """The stable identifier of the item asking ``instance`` (or one part / element of it) in
    ``scope`` ('pool', or 'version<k>' when the zip holds versions)."""
    return stable_id("item", scope, instance.template_id, instance.seed, part.id if part else "", index)


def decimal_text(d: Decimal) -> str:
    """A decimal written exactly, positional where that is short, else with an exponent."""
    return format(d, "f") if -7 <= d.adjusted() <= 15 else format(d, "e")


def margin_bounds(answer_text: str, margin_text: str) -> tuple[str, str]:
    """The exact decimal ``answer - margin`` and ``answer + margin``."""
    with localcontext() as ctx:
        ctx.prec = 200
        a, m = Decimal(answer_text), Decimal(margin_text)
        return decimal_text(a - m), decimal_text(a + m)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _meta(item: ET.Element, fields: dict[str, str]) -> None:
    qm = _sub(_sub(item, "itemmetadata"), "qtimetadata")
    for label, entry in fields.items():
        f = _sub(qm, "qtimetadatafield")
        _sub(f, "fieldlabel", label)
        _sub(f, "fieldentry", entry)


def _mattext(parent: ET.Element, html_text: str) -> None:
    _sub(_sub(parent, "material"), "mattext", f"<div>{html_text}</div>", texttype="text/html")


def _feedback(item: ET.Element, ident: str, html_text: str) -> None:
    fb = _sub(item, "itemfeedback", ident=ident)
    _mattext(_sub(fb, "flow_mat"), html_text)


def _points_text(points: float) -> str:
    return repr(float(points))


def _start_item(ident: str, title: str, qtype: str, points: float, answer_ids: list[str]) -> ET.Element:
    item = ET.Element("item", {"ident": ident, "title": title[:255]})
    _meta(
        item,
        {
            "question_type": qtype,
            "points_possible": _points_text(points),
            "original_answer_ids": ",".join(answer_ids),
        },
    )
    return item


def _general_feedback(resprocessing: ET.Element) -> None:
    cond = _sub(resprocessing, "respcondition", **{"continue": "Yes"})
    _sub(_sub(cond, "conditionvar"), "other")
    _sub(cond, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")


def _resprocessing(item: ET.Element, with_general: bool) -> ET.Element:
    rp = _sub(item, "resprocessing")
    _sub(_sub(rp, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    if with_general:
        _general_feedback(rp)
    return rp


def unit_note(power: int) -> str:
    """The sentence telling students the unit a scaled number is asked in ('' at power 0)."""
    if power == 0:
        return ""
    example = common.positional(Decimal("1.5").scaleb(-power))
    return (
        f"<p><em>Enter this number in units of 10<sup>\u2212{power}</sup> "
        f"(for example {example} is entered as 1.5).</em></p>"
    )


def _numerical_item(
    ident: str,
    instance: Instance,
    part: InstancePart,
    blank: Blank,
    text_html: str,
    points: float,
    title: str,
    warnings,
) -> ET.Element:
    answer_id = stable_id("answer", ident, prefix="a")
    item = _start_item(ident, title, "numerical_question", points, [answer_id])
    scale = canvas_scale(blank)
    pres = _sub(item, "presentation")
    _mattext(pres, text_html + unit_note(scale.power))
    rs = _sub(pres, "response_str", ident="response1", rcardinality="Single")
    _sub(_sub(rs, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
    solution = instance.solution.strip()
    rp = _resprocessing(item, bool(solution))
    exact, margin = number_text(blank.expected), number_text(blank.margin)
    problem = interval_problem(blank.expected, blank.tolerance, exact, margin, canvas_accepts)
    if problem:
        warnings.append(f"{where(instance, part, blank.index)}: Canvas would grade differently: {problem}")
    exact, margin = scale.exact_text, scale.margin_text
    cond = _sub(rp, "respcondition", **{"continue": "No"})
    either = _sub(_sub(cond, "conditionvar"), "or")
    _sub(either, "varequal", exact, respident="response1")
    if blank.margin > 0:
        low, high = margin_bounds(exact, margin)
        both = _sub(either, "and")
        _sub(both, "vargte", low, respident="response1")
        _sub(both, "varlte", high, respident="response1")
    _sub(cond, "setvar", "100", action="Set", varname="SCORE")
    if solution:
        _feedback(item, "general_fb", to_lms_html(instance.solution))
    return item


def _choice_item(
    ident: str, instance: Instance, part: InstancePart, text_html: str, points: float, title: str
) -> ET.Element:
    answer_ids = [stable_id("option", ident, i, prefix="a") for i in range(len(part.options))]
    item = _start_item(ident, title, "multiple_choice_question", points, answer_ids)
    pres = _sub(item, "presentation")
    _mattext(pres, text_html)
    lid = _sub(pres, "response_lid", ident="response1", rcardinality="Single")
    rc = _sub(lid, "render_choice")
    for letter, option, aid in zip(LETTERS, part.options, answer_ids, strict=False):
        label = _sub(rc, "response_label", ident=aid)
        _sub(_sub(label, "material"), "mattext", f"{letter}. {option}", texttype="text/plain")
    solution = instance.solution.strip()
    rp = _resprocessing(item, bool(solution))
    feedback: dict[str, str] = {}
    for m in part.mistakes:
        if m.distinguishable and isinstance(m.value, str) and m.value in LETTERS[: len(part.options)]:
            feedback.setdefault(m.value, m.feedback)
    for letter, aid in zip(LETTERS, answer_ids, strict=False):
        if letter in feedback:
            cond = _sub(rp, "respcondition", **{"continue": "Yes"})
            _sub(_sub(cond, "conditionvar"), "varequal", aid, respident="response1")
            _sub(cond, "displayfeedback", feedbacktype="Response", linkrefid=f"{aid}_fb")
    correct = answer_ids[LETTERS.index(part.expected)]
    cond = _sub(rp, "respcondition", **{"continue": "No"})
    _sub(_sub(cond, "conditionvar"), "varequal", correct, respident="response1")
    _sub(cond, "setvar", "100", action="Set", varname="SCORE")
    if solution:
        _feedback(item, "general_fb", to_lms_html(instance.solution))
    for letter, aid in zip(LETTERS, answer_ids, strict=False):
        if letter in feedback:
            _feedback(item, f"{aid}_fb", to_lms_html(feedback[letter]))
    return item


#: text-option kind -> (Canvas question type, response cardinality); ordering is not here:
#: Canvas Classic has no ordering type, and such a variant is refused with a warning.
_SELECTION_TYPES = {
    "text_choice": ("multiple_choice_question", "Single"),
    "true_false": ("true_false_question", "Single"),
    "multi_select": ("multiple_answers_question", "Multiple"),
}


def canvas_multi_select_note(part: InstancePart) -> str:
    """How Canvas Classic's multiple-answers score differs from quizgen's for this part.
    Canvas (quiz_question/multiple_answers_question.rb and user_answer.rb) scores
    (right_selected - wrong_selected)/k, floored at 0; quizgen right/k - wrong/(n - k)."""
    n, k = len(part.options), len(split_letters(part.expected))
    everything = max(0.0, (2 * k - n) / k)
    return (
        "Canvas Classic scores a multiple-answers question (right - wrong selected)/k, floored at 0, where "
        f"quizgen scores right/k - wrong/(n - k) (here k = {k} of n = {n}): a right selection scores full in "
        f"both, partial grades differ, and selecting every option earns {everything:.0%} in Canvas, 0 in quizgen"
    )


def _selection_item(
    ident: str, instance: Instance, part: InstancePart, text_html: str, points: float, title: str
) -> ET.Element:
    """A text-option part as Canvas's own type: options as HTML (math, code), the right
    option(s) setting SCORE to 100 (multiple answers: every right one selected and no wrong
    one, from which Canvas works out its own partial credit), each misconception's feedback
    on the option that shows it."""
    qtype, cardinality = _SELECTION_TYPES[part.kind]
    shown = option_labels(part)
    answer_ids = [stable_id("option", ident, i, prefix="a") for i in range(len(part.options))]
    item = _start_item(ident, title, qtype, points, answer_ids)
    pres = _sub(item, "presentation")
    _mattext(pres, text_html)
    lid = _sub(pres, "response_lid", ident="response1", rcardinality=cardinality)
    rc = _sub(lid, "render_choice")
    for option, aid in zip(part.options, answer_ids, strict=True):
        label = _sub(rc, "response_label", ident=aid)
        _sub(_sub(label, "material"), "mattext", to_lms_inline(option), texttype="text/html")
    solution = instance.solution.strip()
    rp = _resprocessing(item, bool(solution))
    feedback: dict[str, str] = {}
    for m in part.mistakes:
        if not (m.distinguishable and isinstance(m.value, str)):
            continue
        letter = flipped_option(part, m.value) if part.kind == "multi_select" else m.value
        feedback.setdefault(letter, m.feedback)
    for letter, aid in zip(shown, answer_ids, strict=True):
        if letter in feedback:
            cond = _sub(rp, "respcondition", **{"continue": "Yes"})
            _sub(_sub(cond, "conditionvar"), "varequal", aid, respident="response1")
            _sub(cond, "displayfeedback", feedbacktype="Response", linkrefid=f"{aid}_fb")
    right = set(split_letters(part.expected))
    cond = _sub(rp, "respcondition", **{"continue": "No"})
    var = _sub(cond, "conditionvar")
    if cardinality == "Single":
        _sub(var, "varequal", answer_ids[shown.index(part.expected)], respident="response1")
    else:
        both = _sub(var, "and")
        for letter, aid in zip(shown, answer_ids, strict=True):
            target = both if letter in right else _sub(both, "not")
            _sub(target, "varequal", aid, respident="response1")
    _sub(cond, "setvar", "100", action="Set", varname="SCORE")
    if solution:
        _feedback(item, "general_fb", to_lms_html(instance.solution))
    for letter, aid in zip(shown, answer_ids, strict=True):
        if letter in feedback:
            _feedback(item, f"{aid}_fb", to_lms_html(feedback[letter]))
    return item


def _prompt(part: InstancePart, label: str) -> str:
    prompt = to_lms_html(part.prompt) if part.prompt.strip() else ""
    return f"<p><strong>{label}</strong></p>{prompt}" if label else prompt


def element_label(shape: tuple[int, ...], index: tuple[int, ...]) -> str:
    """Where an element sits, counted from 1 as people count: 'entry 2' of a vector, 'row 1,
    column 3' of a matrix, 'entry [1, 2, 1]' of a tensor."""
    one = [i + 1 for i in index]
    if len(shape) == 1:
        return f"entry {one[0]}"
    if len(shape) == 2:
        return f"row {one[0]}, column {one[1]}"
    return "entry [" + ", ".join(str(i) for i in one) + "]"


def _shape_words(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"the {shape[0]} entries of the vector"
    if len(shape) == 2:
        return f"the {shape[0]} \u00d7 {shape[1]} matrix, one item per entry (row and column counted from 1)"
    dims = " \u00d7 ".join(str(n) for n in shape)
    return f"the {dims} array, one item per entry (indices counted from 1)"


def _text_item(ident: str, title: str, html_text: str) -> ET.Element:
    """A Canvas text-only item (no answer, no points): the shared question text."""
    item = _start_item(ident, title, "text_only_question", 0.0, [])
    _mattext(_sub(item, "presentation"), html_text)
    return item


def _variant_items(instance: Instance, scope: str, warnings: list[str]) -> list[ET.Element]:
    """The items asking one variant: one item unless it has several answers. Then a text-only
    item holds the question text, and each part follows: a choice or a number is one item with
    the part's prompt; a vector, matrix or tensor is a text-only item with the part's prompt
    and one short numerical item per entry ('(a) row 1, column 2'), so the stem is not
    repeated in every entry (Canvas Classic has no item with several numerical answers)."""
    text = to_lms_html(instance.text)
    title = f"{instance.title or instance.template_id} [{instance.template_id} seed {instance.seed}]"
    if layout(instance) != "multi":
        part = instance.parts[0]
        body = text + _prompt(part, "")
        if part.kind in _SELECTION_TYPES:
            if part.kind == "multi_select":
                warnings.append(f"{where(instance, part)}: {canvas_multi_select_note(part)}")
            return [
                _selection_item(item_ident(scope, instance, part), instance, part, body, part.points, title)
            ]
        if part.options:
            return [_choice_item(item_ident(scope, instance, part), instance, part, body, part.points, title)]
        (blank,) = blanks(part)
        ident = item_ident(scope, instance, part, blank.index)
        return [_numerical_item(ident, instance, part, blank, body, part.points, title, warnings)]
    items = [_text_item(item_ident(scope, instance, None, ("stem",)), title, text)]
    for part in instance.parts:
        label = f"({part.id})"
        if part.options:
            ident = item_ident(scope, instance, part)
            body = _prompt(part, label)
            items.append(_choice_item(ident, instance, part, body, part.points, f"{title} {label}"))
            continue
        part_blanks = blanks(part)
        shape = tuple(np.shape(part.expected))
        if shape:
            stem = _prompt(part, label) + f"<p>Answer {_shape_words(shape)}.</p>"
            items.append(_text_item(item_ident(scope, instance, part, ("stem",)), f"{title} {label}", stem))
        for blank in part_blanks:
            if blank.index:
                where_text = f"{label} {element_label(shape, blank.index)}"
                body = f"<p><strong>{where_text}</strong></p>"
            else:
                where_text, body = label, _prompt(part, label)
            points = part.points / len(part_blanks)
            ident = item_ident(scope, instance, part, blank.index)
            items.append(
                _numerical_item(ident, instance, part, blank, body, points, f"{title} {where_text}", warnings)
            )
    return items


def _representable(instance: Instance) -> str | None:
    if not instance.parts:
        return "it has no parts to answer"
    for part in instance.parts:
        if is_selection(part.kind) and part.kind not in _SELECTION_TYPES:
            return (
                f"part {part.id} is an ordering question, and Canvas Classic Quizzes have no ordering type; "
                "use the Moodle export, or grade it from the paper's response sheet"
            )
        if is_selection(part.kind) and len(instance.parts) > 1:
            return f"part {part.id} is a {part.kind} part in a question of several parts; give the question one part"
        if part.options:
            if len(part.options) < 2:
                return f"part {part.id} is multiple choice with a single option"
            continue
        for blank in blanks(part):
            scale = canvas_scale(blank)
            if scale.problem:
                index = "[" + ", ".join(str(i) for i in blank.index) + "]" if blank.index else ""
                return (
                    f"part {part.id}{index} cannot be answered on Canvas's quiz page, which keeps 4 "
                    f"decimals and blanks e-notation, even in units down to 10^-{common.MAX_CANVAS_POWER}: "
                    f"{scale.problem}; give the template a wider tolerance or use the Moodle export"
                )
    return None


def _section(
    parent: ET.Element, ident: str, title: str, pick: int | None, points: float | None
) -> ET.Element:
    section = _sub(parent, "section", ident=ident, title=title[:255])
    if pick is not None:
        sel = _sub(_sub(section, "selection_ordering"), "selection")
        _sub(sel, "selection_number", str(pick))
        if points is not None:
            _sub(_sub(sel, "selection_extension"), "points_per_item", _points_text(points))
    return section


def _assessment(title: str, ident: str) -> tuple[ET.Element, ET.Element]:
    """A questestinterop with one assessment; returns (root, its root section)."""
    root = ET.Element(
        "questestinterop",
        {
            "xmlns": QTI_NS,
            "xmlns:xsi": XSI,
            "xsi:schemaLocation": f"{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd",
        },
    )
    assessment = _sub(root, "assessment", ident=ident, title=title[:255])
    f = _sub(_sub(assessment, "qtimetadata"), "qtimetadatafield")
    _sub(f, "fieldlabel", "cc_maxattempts")
    _sub(f, "fieldentry", "1")
    return root, _sub(assessment, "section", ident="root_section")


def _pooled(source: ExportSource, groups: list[tuple[VariantGroup, list[Instance]]], warnings) -> ET.Element:
    """One assessment: a question group per slot that picks one of its variants."""
    ident = stable_id(
        "assessment",
        source.title,
        [(g.key, [(i.template_id, i.seed) for i in v]) for g, v in groups],
        prefix="a",
    )
    root, top = _assessment(source.title, ident)
    for group, instances in groups:
        points = {i.points for i in instances}
        if len(points) > 1:
            warnings.append(
                f"{group.key}: the variants are worth different points {sorted(points)}; each item keeps its own"
            )
        section = _section(
            top,
            stable_id("group", ident, group.key, prefix="g"),
            group.title or group.key,
            1,
            instances[0].points if len(points) == 1 else None,
        )
        for instance in instances:
            section.extend(_variant_items(instance, "pool", warnings))
    return root


def _versions(
    source: ExportSource, groups: list[tuple[VariantGroup, list[Instance]]], warnings
) -> list[ET.Element]:
    """One assessment per variant number k, holding variant k of every slot (cycling through a
    slot's variants when it has fewer)."""
    count = max(len(v) for _, v in groups)
    roots = []
    for k in range(count):
        chosen = [(g, v[k % len(v)]) for g, v in groups]
        title = f"{source.title} (version {k + 1} of {count})"
        ident = stable_id(
            "version", source.title, k, [(g.key, i.template_id, i.seed) for g, i in chosen], prefix="a"
        )
        root, top = _assessment(title, ident)
        for group, instance in chosen:
            section = _section(
                top, stable_id("slot", ident, group.key, prefix="g"), group.title or group.key, None, None
            )
            section.extend(_variant_items(instance, f"version{k}", warnings))
        roots.append(root)
    return roots


def _xml(root: ET.Element) -> bytes:
    ET.indent(root, space=" ")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return text.encode("utf-8")


def _manifest(resources: list[tuple[str, str]]) -> ET.Element:
    manifest = ET.Element(
        "manifest",
        {
            "identifier": stable_id("manifest", *(r for r, _ in resources), prefix="m"),
            "xmlns": CP_NS,
            "xmlns:xsi": XSI,
            "xsi:schemaLocation": f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd",
        },
    )
    meta = _sub(manifest, "metadata")
    _sub(meta, "schema", "IMS Content")
    _sub(meta, "schemaversion", "1.1.3")
    _sub(manifest, "organizations")
    node = _sub(manifest, "resources")
    for ident, href in resources:
        _sub(_sub(node, "resource", identifier=ident, type="imsqti_xmlv1p2"), "file", href=href)
    return manifest


def _credit_warnings(instances) -> list[str]:
    """One warning per template, part and known mistake that earns partial credit in quizgen,
    which a Canvas item cannot give (it earns 0 there)."""
    seen: dict[tuple[str, str, str], float] = {}
    for instance in instances:
        for part in instance.parts:
            for m in part.mistakes:
                if m.credit and m.distinguishable:
                    seen.setdefault((instance.template_id, part.id, m.id), m.credit)
    return [
        f"{template}, part {part}: the known mistake {mistake} earns {credit:.0%} credit in quizgen, but a "
        "Canvas numerical answer scores 100% or 0 and a multiple-choice option is right or wrong: it earns 0 "
        "in Canvas; grade with quizgen (quizgen import-responses, then quizgen grade) to give it"
        for (template, part, mistake), credit in seen.items()
    ]


def qti_files(source: ExportSource) -> tuple[dict[str, bytes], int, list[str]]:
    """The zip's files by name, the number of variants exported, and the warnings.

    When every variant is one item, one assessment with a pick-one group per slot; when some
    variant needs several items, one assessment per variant number ("versions"), since a
    Canvas question group cannot draw a variant's several items together."""
    warnings: list[str] = []
    groups = []
    for group in source.groups:
        kept = []
        for instance in group.instances:
            problem = _representable(instance)
            if problem:
                warnings.append(f"{where(instance)}: not exported to Canvas: {problem}")
            else:
                kept.append(instance)
        if kept:
            groups.append((group, kept))
    warnings.extend(_credit_warnings(i for _, kept in groups for i in kept))
    multi = [g.key for g, v in groups if any(layout(i) == "multi" for i in v)]
    if not groups:
        roots = []
    elif multi:
        roots = _versions(source, groups, warnings)
        warnings.append(
            f"{len(multi)} of {len(groups)} questions need several answers per variant "
            f"({', '.join(multi[:5])}{', ...' if len(multi) > 5 else ''}): Canvas gets one item per number, "
            "and as a Canvas question group cannot draw one variant's items together, the zip holds "
            f"{len(roots)} versions of the quiz (version k asks variant k of every question); assign each "
            "version to a group of students. Moodle's cloze questions keep a variant in one random question."
        )
    else:
        roots = [_pooled(source, groups, warnings)]
    files: dict[str, bytes] = {}
    resources = []
    for root in roots:
        ident = next(iter(root)).get("ident", "")
        href = f"{ident}/{ident}.xml"
        files[href] = _xml(root)
        resources.append((ident, href))
    files["imsmanifest.xml"] = _xml(_manifest(resources))
    return files, sum(len(v) for _, v in groups), warnings


def export_qti(source: ExportSource, out: str | Path) -> ExportResult:
    """Write the zip to ``out`` (a .zip file; a folder gets ``canvas_qti.zip`` inside it)."""
    path = export_path(out, ".zip", "canvas_qti.zip")
    files, count, warnings = qti_files(source)
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files, key=lambda n: (n != "imsmanifest.xml", n)):
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    tmp.replace(path)
    return ExportResult([path], count, warnings)
