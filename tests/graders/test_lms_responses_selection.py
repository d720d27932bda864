"""LMS reports of the text-option kinds read back as our letters (issue 17 §1).

Each LMS writes the chosen options' *texts*, never our letters, and each student saw the options
in their own order, so the import maps every text back through that student's manifest:

- Canvas Student Analysis (``StudentAnalysis#to_csv``): a multiple-choice or true/false answer
  is the option's text (``True``/``False``); a ``multiple_answers_question`` the selected
  answers' texts in the question's answer order, each ``,`` in a text written ``\\,``, joined
  by ``,``; the cell then goes through ``html_to_text``. Canvas Classic has no ordering type
  (the export refuses it), so no ordering here.
- Moodle Responses (``summarise_response``): multichoice single the option's text, truefalse
  ``True``/``False``, multichoice multi the selected texts in the shown order joined by ``; ``,
  qtype_ordering each item in the student's order as ``shorten_text(text, 10, true)`` (seven
  characters and ``...`` when longer than ten) joined by ``; ``.

The round trip: export -> report as the LMS writes it -> import -> grade gives the same
scores and named mistakes as grading the letters directly."""

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from test_lms_roundtrip import _canvas_items, _strip_tags  # the graders tests' folder is on sys.path

from quizgen import bank, engine
from quizgen.cli_grade import bank_recompute_factory
from quizgen.export.common import source_from_manifest
from quizgen.export.moodle import moodle_xml
from quizgen.export.qti import QTI_NS, qti_files
from quizgen.export.text import to_lms_inline
from quizgen.graders.gradebook import Gradebook, grade_class
from quizgen.graders.lms_responses import import_lms_responses, write_imported
from quizgen.manifest import Manifest, Question, StudentPaper, load_manifest
from quizgen.seeding import stable_seed
from quizgen.selection import labels, split_letters

CANVAS = ("concepts.bias_variance", "concepts.conv_size_claim", "concepts.hyperparameters")
MOODLE = (*CANVAS, "concepts.training_loop_order")


@pytest.fixture(scope="module")
def builtin():
    return bank.load_bank()


def _exam(builtin, path, templates):
    """Four students (s4 takes nothing), each with their own draw, seeded as ``generate`` seeds
    them (the gradebook redraws each paper from its seed): their own option order."""
    papers = tuple(
        StudentPaper(
            f"s{k}",
            f"Student {k}",
            f"s{k}@example.edu",
            tuple(
                Question(n, n, "", engine.build_instance(builtin.get(t), stable_seed(1, f"s{k}", n)))
                for n, t in enumerate(templates, 1)
            ),
        )
        for k in range(1, 5)
    )
    Manifest({"title": "Concepts", "course": "DL", "seed": 1}, papers).save(path)
    return path


def _letters(part, who: str) -> str:
    """The letters student ``who`` chose: s1 the key, s2 a named mistake (one wrong option more
    in a multiple select), s3 something else (a right option left out, the reversed order)."""
    key = split_letters(part.expected)
    shown = labels(part)
    if who == "s1":
        return part.expected
    if part.kind in ("text_choice", "true_false"):
        wrong = [m.value for m in part.mistakes if m.value is not None and m.value != part.expected]
        return wrong[0] if who == "s2" else ""
    if part.kind == "multi_select":
        if who == "s2":
            return ",".join(sorted([*key, next(x for x in shown if x not in key)]))
        return (
            ",".join(key[1:]) if len(key) > 1 else ",".join([*key, *[x for x in shown if x not in key][:1]])
        )
    if who == "s2":
        return next(m.value for m in part.mistakes if m.value != part.expected)
    return ",".join(reversed(key))


def _plain(option: str) -> str:
    """An option as the LMS's report shows it: the exported HTML without tags, as text."""
    return " ".join(html.unescape(_strip_tags(to_lms_inline(option))).split())


def _canvas_cell(part, letters: str) -> str:
    chosen = split_letters(letters)
    texts = [_plain(part.options[labels(part).index(x)]) for x in chosen]
    if part.kind == "multi_select":  # Canvas lists them in the question's answer order
        return ",".join(t.replace(",", "\\,") for t in sorted(texts))
    return texts[0] if texts else ""


def _shorten(text: str) -> str:
    return text if len(text) <= 10 else text[:7] + "..."


def _moodle_cell(part, letters: str) -> str:
    chosen = split_letters(letters)
    texts = [_plain(part.options[labels(part).index(x)]) for x in chosen]
    if part.kind == "ordering":
        return "; ".join(_shorten(t) for t in texts)
    if part.kind == "multi_select":  # in the order shown (this student's)
        return "; ".join(t for x, t in sorted(zip(chosen, texts, strict=True)))
    return texts[0] if texts else ""


def canvas_reports(exam) -> list[str]:
    """The Student Analysis CSV of the QTI export: a one-part variant is one item, drawn from
    its slot's question group (the pooled export), so one quiz and one report, whose columns
    are the items students met, a row's cells empty for the items its student was not given."""
    source = source_from_manifest(load_manifest(exam))
    files, _, _ = qti_files(source)
    known = _canvas_items(source)
    students = [p for p in load_manifest(exam).students if p.id != "s4"]
    (data,) = [d for name, d in files.items() if name != "imsmanifest.xml"]
    items = []
    for item in ET.fromstring(data).iter(f"{{{QTI_NS}}}item"):
        inst, part, index = known[item.get("ident")]
        text = item.find(f"{{{QTI_NS}}}presentation/{{{QTI_NS}}}material/{{{QTI_NS}}}mattext").text
        items.append((2000 + len(items), _strip_tags(text), inst, part, index))
    header = ["name", "id", "sis_id", "section", "section_id", "submitted"]
    for cid, text, *_ in items:
        header += [f"{cid}: {text}", "1.0"]
    rows = [[*header, "n correct", "n incorrect", "score"]]
    for p in students:
        given = {(q.instance.template_id, q.instance.seed) for q in p.questions}
        row = [p.name, str(100 + int(p.id[1:])), p.id, "Section 1", "11", "2026-12-01 10:00:00 UTC"]
        for *_, inst, part, _index in items:
            if (inst.template_id, inst.seed) not in given:
                row += ["", ""]
            else:
                row += [_canvas_cell(part, _letters(part, p.id)), "1.0"]
        rows.append([*row, "0", "0", "0"])
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return [buf.getvalue()]


def moodle_report(exam) -> str:
    source = source_from_manifest(load_manifest(exam))
    text, _, _ = moodle_xml(source)
    summaries = {}
    for q in ET.fromstring(text.encode()).iter("question"):
        if q.get("type") != "category":
            body = re.sub(
                r"<strong>(.*?)</strong>", lambda m: m.group(1).upper(), q.findtext("questiontext/text")
            )
            summaries[q.findtext("idnumber")] = " ".join(html.unescape(_strip_tags(body)).split())
    header = ["Last name", "First name", "ID number", "Email address", "State", "Grade/4.00"]
    for n in range(1, len(MOODLE) + 1):
        header += [f"Question {n}", f"Response {n}", f"Right answer {n}"]
    rows = [header]
    for p in load_manifest(exam).students:
        if p.id == "s4":
            continue
        row = [p.id[1:], "Student", p.id, p.email, "Finished", "1"]
        for q in p.questions:
            (part,) = q.instance.parts
            row += [
                summaries[f"{q.instance.template_id}:{q.instance.seed}"],
                _moodle_cell(part, _letters(part, p.id)),
                "",
            ]
        rows.append(row)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def _records(db_path):
    with Gradebook(db_path) as book:
        return {
            (r.student_id, r.number, r.part.id): (r.response, r.result.score, r.result.mistake)
            for r in book.records(book.resolve_exam())
        }


@pytest.mark.parametrize("lms", ["canvas", "moodle"])
def test_an_lms_report_of_text_options_grades_as_the_letters_do(builtin, tmp_path, lms):
    exam = _exam(builtin, tmp_path / "manifest.json", CANVAS if lms == "canvas" else MOODLE)
    texts = canvas_reports(exam) if lms == "canvas" else [moodle_report(exam)]
    reports = []
    for k, text in enumerate(texts):
        reports.append(tmp_path / f"{lms}{k}.csv")
        reports[-1].write_text(text, encoding="utf-8")
    imported = import_lms_responses(lms, reports, source_from_manifest(load_manifest(exam)))
    papers = {p.id: p for p in load_manifest(exam).students}
    direct = {
        sid: {
            f"q{q.number}.{part.id}": _letters(part, sid)
            for q in papers[sid].questions
            for part in q.instance.parts
        }
        for sid in ("s1", "s2", "s3")
    }
    assert imported.responses == direct  # every student's texts mapped back to their own letters
    kinds = {part.kind for q in papers["s1"].questions for part in q.instance.parts}
    assert kinds == {"text_choice", "true_false", "multi_select", *(["ordering"] if lms == "moodle" else [])}
    manifest, responses = write_imported(imported, tmp_path / "lms")
    via_lms = grade_class(
        manifest, responses, tmp_path / "graded", recompute_factory=bank_recompute_factory()
    )
    (tmp_path / "direct.json").write_text(json.dumps(direct), encoding="utf-8")
    by_letters = grade_class(
        exam, tmp_path / "direct.json", tmp_path / "graded_direct", recompute_factory=bank_recompute_factory()
    )
    got, want = _records(via_lms.db_path), _records(by_letters.db_path)
    assert got == {k: v for k, v in want.items() if k[0] != "s4"}
    scores = [score for (sid, *_), (_, score, _) in got.items() if sid == "s2"]
    assert 0 < sum(scores) < len(scores)  # named mistakes and partial credit, not all right or all wrong
    assert any(m for (sid, *_), (_, _, m) in got.items() if sid == "s2")


def test_a_moodle_ordering_with_items_alike_in_their_first_seven_characters_is_told_apart(builtin):
    """Two items shortened alike ("loss = ...") are decided by elimination of the others."""
    from quizgen.graders.lms_responses import _selection_answer

    inst = engine.build_instance(builtin.get("concepts.training_loop_order"), 3)
    (part,) = inst.parts
    order = split_letters(part.expected)[::-1]
    cell = "; ".join(_shorten(_plain(part.options[labels(part).index(x)])) for x in order)
    assert _selection_answer(part, cell, "moodle") == ",".join(order)
    assert _selection_answer(part, "something else; entirely", "moodle") == "something else; entirely"
