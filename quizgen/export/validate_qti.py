"""Check a Canvas QTI 1.2 zip the way Canvas's importer reads it, with the standard library.

- ``imsmanifest.xml`` parses, and every resource's files exist in the zip; each
  ``imsqti_xmlv1p2`` resource is a ``questestinterop`` with an ``assessment``;
- identifiers are unique (items, sections, answer labels);
- question groups: ``selection_number`` a whole number from 1 to the number of items in the
  section, ``points_per_item`` a number;
- every item: ``question_type`` one Canvas knows, ``points_possible`` a number >= 0;
- text-only items (the shared stem of a several-answer variant): a question text, no points;
- numerical items: answerable on Classic Quizzes' quiz page, which saves a typed number with 4
  decimals (``toFixed(4)``) and blanks e-notation: the exact answer typed in full is saved
  inside its margin (or a range holds a multiple of 10⁻⁴); and a ``response_str`` with a ``render_fib``, and each condition that sets
  SCORE to 100 in one of the numeric patterns Canvas reads: exact (``varequal``), exact with
  margin (``or`` of ``varequal`` and ``and(vargte, varlte)`` symmetric around it), precision
  (``vargt``/``varlte``) or range (``vargte`` and ``varlte``), with numbers Canvas parses;
- multiple choice and true/false: a ``response_lid`` with two or more ``response_label`` s,
  exactly one condition that sets SCORE to 100, naming a label that exists;
- multiple answers: a ``response_lid`` with ``rcardinality="Multiple"`` and one full-score
  condition, an ``and`` naming each right label in ``varequal`` and each wrong one in ``not``;
- every ``displayfeedback`` names an ``itemfeedback`` of the item.

:func:`validate_qti` returns the problems and what it read: each numerical item's exact answer
and margin texts (``margin`` is ``upper - exact`` as Canvas computes it), so the tests can
check the numbers.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation, localcontext
from pathlib import Path

from .common import CANVAS_PAGE_DECIMALS, canvas_page_accepts, positional

__all__ = ["QtiItem", "QtiReport", "validate_qti"]

QTI_TYPES = {
    "numerical_question",
    "multiple_choice_question",
    "multiple_answers_question",
    "true_false_question",
    "short_answer_question",
    "fill_in_multiple_blanks_question",
    "multiple_dropdowns_question",
    "matching_question",
    "essay_question",
    "calculated_question",
    "text_only_question",
    "file_upload_question",
}
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


@dataclass
class QtiItem:
    ident: str
    type: str
    points: float
    section: str
    exact: list[tuple[str, str]] = field(default_factory=list)  # (exact text, margin text)
    ranges: list[tuple[str, str]] = field(default_factory=list)  # (low, high)
    correct_option: str = ""
    options: list[str] = field(default_factory=list)
    text: str = ""  # the question text (HTML) as Canvas shows it


@dataclass
class QtiReport:
    problems: list[str]
    items: list[QtiItem]
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)  # ident -> (pick, items)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _child(el: ET.Element | None, name: str) -> ET.Element | None:
    if el is None:
        return None
    found = _children(el, name)
    return found[0] if found else None


def _descendants(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el.iter() if _local(c.tag) == name]


def _number(text: str | None) -> Decimal | None:
    if text is None or not _NUMBER.match(text.strip()):
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def _meta(item: ET.Element) -> dict[str, str]:
    out = {}
    for f in _descendants(item, "qtimetadatafield"):
        label, entry = _child(f, "fieldlabel"), _child(f, "fieldentry")
        if label is not None:
            out[(label.text or "").strip()] = (entry.text or "").strip() if entry is not None else ""
    return out


def _sets_full_score(cond: ET.Element) -> bool:
    for setvar in _children(cond, "setvar"):
        if setvar.get("varname", "SCORE") == "SCORE" and (setvar.text or "").strip() in ("100", "100.0"):
            return True
    return False


def _numeric_condition(cv: ET.Element, where: str, problems: list[str], item: QtiItem) -> None:
    kids = list(cv)
    names = [_local(k.tag) for k in kids]
    if names == ["or"]:
        inner = list(kids[0])
        inner_names = [_local(k.tag) for k in inner]
        if not inner_names or inner_names[0] != "varequal":
            problems.append(f"{where}: an exact answer needs <varequal> first in <or>")
            return
        exact_text = (inner[0].text or "").strip()
        exact = _number(exact_text)
        if exact is None:
            problems.append(f"{where}: exact answer {exact_text!r} is not a number Canvas reads")
            return
        if inner_names == ["varequal"]:
            item.exact.append((exact_text, "0"))
            return
        if inner_names != ["varequal", "and"]:
            problems.append(f"{where}: unexpected <or> content {inner_names}")
            return
        bounds = {_local(k.tag): (k.text or "").strip() for k in inner[1]}
        if set(bounds) == {"vargte", "varlte"}:
            low, high = _number(bounds["vargte"]), _number(bounds["varlte"])
            if low is None or high is None:
                problems.append(f"{where}: margin bounds {bounds} are not numbers Canvas reads")
                return
            with localcontext() as ctx:
                ctx.prec = 200
                if exact - low != high - exact:
                    problems.append(f"{where}: bounds {low}..{high} are not symmetric around {exact}")
                if high < exact:
                    problems.append(f"{where}: the upper bound {high} is below the answer {exact}")
                item.exact.append((exact_text, str(high - exact)))
        elif set(bounds) == {"vargt", "varlte"}:
            item.ranges.append((bounds["vargt"], bounds["varlte"]))  # Canvas's precision answers
        else:
            problems.append(f"{where}: unexpected margin pattern {sorted(bounds)}")
    elif sorted(names) == ["vargte", "varlte"]:
        values = {n: (k.text or "").strip() for n, k in zip(names, kids, strict=True)}
        low, high = _number(values["vargte"]), _number(values["varlte"])
        if low is None or high is None or low > high:
            problems.append(f"{where}: range {values} is not an interval of numbers")
            return
        item.ranges.append((values["vargte"], values["varlte"]))
    else:
        problems.append(f"{where}: a numeric pattern Canvas does not read: {names}")


def _page_answerable(item: QtiItem) -> bool:
    """Whether some answer of a numerical item can be typed on Classic Quizzes' quiz page: the
    exact answer typed with all its digits is saved (4 decimals) inside its margin, or a range
    holds a multiple of 10^-4 (the page saves nothing finer)."""
    for exact, margin in item.exact:
        if canvas_page_accepts(exact, margin, positional(Decimal(exact))):
            return True
    with localcontext() as ctx:
        ctx.prec = 200
        for low_text, high_text in item.ranges:
            low, high = Decimal(low_text), Decimal(high_text)
            step = Decimal(1).scaleb(-CANVAS_PAGE_DECIMALS)
            if (low / step).to_integral_value(rounding=ROUND_CEILING) * step <= high:
                return True
    return False


def _check_item(item_el: ET.Element, section: str, problems: list[str], seen: set[str]) -> QtiItem | None:
    ident = item_el.get("ident", "")
    where = f"item {ident or '?'}"
    if not ident:
        problems.append("an item without ident")
    elif ident in seen:
        problems.append(f"{where}: ident repeats")
    seen.add(ident)
    meta = _meta(item_el)
    qtype = meta.get("question_type", "")
    if qtype not in QTI_TYPES:
        problems.append(f"{where}: question_type {qtype!r} is not one Canvas knows")
    try:
        points = float(meta.get("points_possible", ""))
        if points < 0:
            problems.append(f"{where}: negative points_possible")
    except ValueError:
        problems.append(f"{where}: points_possible {meta.get('points_possible')!r} is not a number")
        points = 0.0
    item = QtiItem(ident, qtype, points, section)
    presentation = _child(item_el, "presentation")
    if presentation is None or _child(presentation, "material") is None:
        problems.append(f"{where}: no presentation/material (the question text)")
        return item
    item.text = "".join(m.text or "" for m in _descendants(_child(presentation, "material"), "mattext"))
    if qtype == "text_only_question":
        if points != 0:
            problems.append(f"{where}: a text-only item is worth no points, not {points:g}")
        return item
    resprocessing = _child(item_el, "resprocessing")
    if resprocessing is None:
        problems.append(f"{where}: no resprocessing")
        return item
    conditions = _children(resprocessing, "respcondition")
    full = [c for c in conditions if _sets_full_score(c)]
    feedback_ids = {f.get("ident") for f in _children(item_el, "itemfeedback")}
    for d in _descendants(resprocessing, "displayfeedback"):
        if d.get("linkrefid") not in feedback_ids:
            problems.append(f"{where}: displayfeedback names a missing itemfeedback {d.get('linkrefid')!r}")
    if qtype == "numerical_question":
        rs = _child(presentation, "response_str")
        if rs is None or _child(rs, "render_fib") is None:
            problems.append(f"{where}: a numerical question needs response_str/render_fib")
        if not full:
            problems.append(f"{where}: no condition gives full score")
        for cond in full:
            cv = _child(cond, "conditionvar")
            if cv is None:
                problems.append(f"{where}: respcondition without conditionvar")
                continue
            _numeric_condition(cv, where, problems, item)
        if full and not _page_answerable(item):
            problems.append(
                f"{where}: no number a student can type is saved inside an accepted answer (the quiz page "
                f"keeps {CANVAS_PAGE_DECIMALS} decimals and blanks e-notation): {item.exact or item.ranges}"
            )
    elif qtype == "multiple_answers_question":
        # Canvas's converter reads the right answers from the full-score condition: an ``and``
        # of ``varequal`` (right) and ``not``/``varequal`` (wrong) over the response_lid's labels
        lid = _child(presentation, "response_lid")
        labels = [] if lid is None else _descendants(lid, "response_label")
        item.options = [lab.get("ident", "") for lab in labels]
        if lid is not None and lid.get("rcardinality") != "Multiple":
            problems.append(f"{where}: a multiple-answers question needs rcardinality='Multiple'")
        if len(labels) < 2:
            problems.append(f"{where}: a multiple-answers question needs at least two options")
        if len(full) != 1:
            problems.append(f"{where}: {len(full)} conditions give full score, expected one")
        for cond in full:
            both = _child(_child(cond, "conditionvar"), "and")
            if both is None:
                problems.append(f"{where}: the full-score condition must be an 'and' over the options")
                continue
            right = [(e.text or "").strip() for e in _children(both, "varequal")]
            wrong = [(e.text or "").strip() for n in _children(both, "not") for e in _children(n, "varequal")]
            if sorted(right + wrong) != sorted(item.options):
                problems.append(f"{where}: the full-score condition must name every option once")
            if not right:
                problems.append(f"{where}: no option is right")
            item.correct_option = ",".join(right)
    elif qtype in ("multiple_choice_question", "true_false_question"):
        lid = _child(presentation, "response_lid")
        labels = [] if lid is None else _descendants(lid, "response_label")
        item.options = [lab.get("ident", "") for lab in labels]
        if len(labels) < 2:
            problems.append(f"{where}: a multiple-choice question needs at least two options")
        if len(set(item.options)) != len(item.options):
            problems.append(f"{where}: option idents repeat")
        if len(full) != 1:
            problems.append(f"{where}: {len(full)} conditions give full score, expected one")
        for cond in full:
            eq = _descendants(cond, "varequal")
            target = (eq[0].text or "").strip() if eq else ""
            if target not in item.options:
                problems.append(f"{where}: the correct answer {target!r} is not an option")
            item.correct_option = target
    return item


def _check_section(section: ET.Element, problems: list[str], report: QtiReport, seen: set[str]) -> None:
    ident = section.get("ident", "")
    items = _children(section, "item")
    for item_el in items:
        item = _check_item(item_el, ident, problems, seen)
        if item is not None:
            report.items.append(item)
    selection = _child(_child(section, "selection_ordering"), "selection")
    if selection is not None:
        number = _child(selection, "selection_number")
        try:
            pick = int((number.text or "").strip()) if number is not None else -1
        except ValueError:
            pick = -1
        if not 1 <= pick <= len(items):
            problems.append(f"section {ident}: selection_number must be 1..{len(items)}")
        ppi = _child(_child(selection, "selection_extension"), "points_per_item")
        if ppi is not None and _number(ppi.text) is None:
            problems.append(f"section {ident}: points_per_item {ppi.text!r} is not a number")
        report.sections[ident] = (pick, len(items))
    for sub in _children(section, "section"):
        sid = sub.get("ident", "")
        if not sid or sid in seen:
            problems.append(f"section {sid or '?'}: missing or repeated ident")
        seen.add(sid)
        _check_section(sub, problems, report, seen)


def validate_qti(zip_source: str | Path | bytes) -> QtiReport:
    """Problems Canvas's importer would have with the zip, and the items it holds."""
    report = QtiReport([], [])
    problems = report.problems
    try:
        zf = zipfile.ZipFile(io.BytesIO(zip_source) if isinstance(zip_source, bytes) else zip_source)
    except (OSError, zipfile.BadZipFile) as exc:
        return QtiReport([f"not a zip file: {exc}"], [])
    with zf:
        names = set(zf.namelist())
        if "imsmanifest.xml" not in names:
            return QtiReport(["no imsmanifest.xml at the top of the zip"], [])
        try:
            manifest = ET.fromstring(zf.read("imsmanifest.xml"))
        except ET.ParseError as exc:
            return QtiReport([f"imsmanifest.xml is not well-formed: {exc}"], [])
        if _local(manifest.tag) != "manifest":
            problems.append(f"imsmanifest.xml: root <{_local(manifest.tag)}>, expected <manifest>")
        resources = _descendants(manifest, "resource")
        if not resources:
            problems.append("imsmanifest.xml lists no resources")
        seen: set[str] = set()
        for res in resources:
            hrefs = [f.get("href", "") for f in _children(res, "file")]
            if res.get("href"):
                hrefs.append(res.get("href", ""))
            if not hrefs:
                problems.append(f"resource {res.get('identifier')}: no files")
            for href in hrefs:
                if href not in names:
                    problems.append(
                        f"resource {res.get('identifier')}: links to {href!r}, which is not in the zip"
                    )
            if res.get("type") != "imsqti_xmlv1p2":
                continue
            for href in hrefs:
                if href not in names:
                    continue
                try:
                    doc = ET.fromstring(zf.read(href))
                except ET.ParseError as exc:
                    problems.append(f"{href}: not well-formed XML: {exc}")
                    continue
                if _local(doc.tag) != "questestinterop":
                    problems.append(f"{href}: root <{_local(doc.tag)}>, expected <questestinterop>")
                    continue
                assessments = _children(doc, "assessment")
                if not assessments:
                    problems.append(f"{href}: no <assessment>")
                for assessment in assessments:
                    if not assessment.get("ident"):
                        problems.append(f"{href}: an assessment without ident")
                    for section in _children(assessment, "section"):
                        _check_section(section, problems, report, seen)
    return report
