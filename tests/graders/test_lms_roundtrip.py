"""The LMS round trip: a quiz exported by quizgen, taken in Canvas or Moodle, its report read
back (each student graded on the variant the LMS served, with named mistakes and error carried
forward), and the grades written in each LMS's import format, absent students blank.

The reports are written here the way the LMSs write them: Canvas's Student Analysis CSV
(``Quizzes::QuizStatistics::StudentAnalysis#to_csv``: identity columns, then per question
``"<id>: <text without tags>"`` and a points column, then ``n correct, n incorrect, score``; one
report per quiz, so one per version of a versions export, its questions in the quiz's order) and
Moodle's Responses report (``Question N`` = the question's text as plain text with ``_____``
for a cloze blank, ``Response N`` = the answer, ``part 1: x; part 2: y`` for a cloze)."""

import csv
import dataclasses
import html
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from quizgen import engine
from quizgen.cli import main
from quizgen.cli_grade import bank_recompute_factory
from quizgen.errors import SpecError
from quizgen.export.common import blanks, source_from_manifest
from quizgen.export.moodle import moodle_xml
from quizgen.export.qti import QTI_NS, item_ident, qti_files
from quizgen.graders.gradebook import Gradebook, grade_class
from quizgen.graders.lms_grades import canvas_gradebook_csv, class_grades, moodle_grades_csv, write_lms_grades
from quizgen.graders.lms_responses import import_lms_responses, write_imported
from quizgen.manifest import Manifest, Question, StudentPaper, load_manifest

TEMPLATES = ("conv.output_size", "norm.bn_eval", "metrics.binary_labels")


@pytest.fixture(scope="module")
def builtin(builtin_bank):
    return builtin_bank


@pytest.fixture(scope="module")
def exam(builtin, tmp_path_factory):
    """Four students on the roster (s4 will not take the quiz); seeds 1..4 per slot."""
    path = tmp_path_factory.mktemp("exam") / "manifest.json"
    papers = tuple(
        StudentPaper(
            f"s{k}",
            f"Student {k}",
            f"s{k}@example.edu",
            tuple(
                Question(n, n, "", engine.build_instance(builtin.get(t), k))
                for n, t in enumerate(TEMPLATES, 1)
            ),
        )
        for k in range(1, 5)
    )
    Manifest({"title": "Quiz 3", "course": "DL", "seed": 1}, papers).save(path)
    return path


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]*>", "", text)


def _answers(builtin, instance, who: str) -> dict[str, object]:
    """part id -> what the student typed: 'right', or 'mistaken' (a named mistake on the first
    part where there is one, and the later parts right given it: error carried forward)."""
    parts = {p.id: p.expected for p in instance.parts}
    if who == "mistaken":
        first = instance.parts[0]
        m = next(m for m in first.mistakes if m.distinguishable)
        parts[first.id] = m.value
        if len(instance.parts) > 1:
            template = builtin.get(instance.template_id)
            later = engine.recompute(template, instance.params, {first.id: m.value})
            for p in instance.parts[1:]:
                parts[p.id] = later[p.id]
    return parts


def _served(exam):
    """What the LMS drew: s1 got s2's variants (the LMS draws at random), s2 got s1's, s3 its own."""
    papers = {p.id: p for p in load_manifest(exam).students}
    return {
        "s1": (papers["s2"], "right"),
        "s2": (papers["s1"], "mistaken"),
        "s3": (papers["s3"], "blank"),
    }


def _element(value, index):
    for i in index:
        value = value[i]
    return value


def _canvas_items(source):
    """item ident -> (instance, part or None, element index or None) for every item of every
    version of the QTI export (the test reads the export as Canvas would, by the items' own
    identifiers, not through the importer)."""
    count = max(len(g.instances) for g in source.groups)
    found = {}
    for g in source.groups:
        for inst in g.instances:
            for scope in ("pool", *(f"version{k}" for k in range(count))):
                found[item_ident(scope, inst, None, ("stem",))] = (inst, None, None)
                for part in inst.parts:
                    found[item_ident(scope, inst, part, ("stem",))] = (inst, part, None)
                    for index in [()] if part.options else [b.index for b in blanks(part)]:
                        found[item_ident(scope, inst, part, index)] = (inst, part, index)
    return found


def canvas_reports(builtin, exam, *, text_only_columns: bool = True) -> list[str]:
    """The Student Analysis CSVs of the QTI export of ``exam``, one per version a student took.

    Each version is its own Canvas quiz, so each has its own report, written as
    ``StudentAnalysis#to_csv`` does: the version's questions in the quiz's order
    (``quiz.quiz_data``; no question groups), a text-only item with an empty answer and 0
    points (``text_only_columns=False`` leaves them out), Canvas's own question ids."""
    source = source_from_manifest(load_manifest(exam))
    files, _, _ = qti_files(source)
    known = _canvas_items(source)
    served = _served(exam)
    reports = []
    for name, data in sorted(files.items()):
        if name == "imsmanifest.xml":
            continue
        items = []  # (canvas id, text, points, instance, part, index)
        for item in ET.fromstring(data).iter(f"{{{QTI_NS}}}item"):
            inst, part, index = known[item.get("ident")]
            if index is None and not text_only_columns:
                continue
            text = item.find(f"{{{QTI_NS}}}presentation/{{{QTI_NS}}}material/{{{QTI_NS}}}mattext").text
            fields = item.iter(f"{{{QTI_NS}}}qtimetadatafield")
            meta = {
                f.findtext(f"{{{QTI_NS}}}fieldlabel"): f.findtext(f"{{{QTI_NS}}}fieldentry") for f in fields
            }
            cid = 1000 * (len(reports) + 1) + len(items)
            items.append((cid, _strip_tags(text), float(meta["points_possible"]), inst, part, index))
        version = {(inst.template_id, inst.seed) for *_, inst, _, _ in items}
        takers = [
            (sid, who)
            for sid, (paper, who) in served.items()
            if {(q.instance.template_id, q.instance.seed) for q in paper.questions} == version
        ]
        if not takers:
            continue
        header = ["name", "id", "sis_id", "section", "section_id", "submitted"]
        for cid, text, points, *_ in items:
            header += [f"{cid}: {text}", repr(points)]
        header += ["n correct", "n incorrect", "score"]
        rows = [header]
        for sid, who in takers:
            row = [
                f"Student {sid[1:]}",
                str(100 + int(sid[1:])),
                sid,
                "Section 1",
                "11",
                "2026-12-01 10:00:00 UTC",
            ]
            for *_, inst, part, index in items:
                if index is None:  # text-only: nothing to answer
                    row += ["", "0"]
                    continue
                if who == "blank":
                    row += ["", "0.0"]
                    continue
                value = _element(_answers(builtin, inst, who)[part.id], index)
                if part.options:
                    letter = str(value)
                    value = f"{letter}. {part.options['ABCDEFGH'.index(letter)]}"
                row += [str(value), "1.0"]
            rows.append([*row, "0", "0", "0"])
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)
        reports.append(buf.getvalue())
    return reports


def moodle_report(builtin, exam) -> str:
    """A Responses report (question text and response) for the Moodle XML export of ``exam``."""
    source = source_from_manifest(load_manifest(exam))
    text, _, _ = moodle_xml(source)
    summaries = {}
    for q in ET.fromstring(text.encode()).iter("question"):
        if q.get("type") == "category":
            continue
        body = q.findtext("questiontext/text")
        body = re.sub(r"\{\d*:NUMERICAL:(?:\\.|[^}])*\}", "_____", body)
        body = re.sub(r"<strong>(.*?)</strong>", lambda m: m.group(1).upper(), body)  # as html_to_text does
        summaries[q.findtext("idnumber")] = " ".join(html.unescape(_strip_tags(body)).split())
    header = ["Last name", "First name", "ID number", "Email address", "State", "Started on", "Completed"]
    header += ["Time taken", "Grade/3.00"]
    for n in range(1, len(TEMPLATES) + 1):
        header += [f"Question {n}", f"Response {n}", f"Right answer {n}"]
    rows = [header]
    for sid, (paper, who) in _served(exam).items():
        row = [
            f"{sid[1:]}",
            "Student",
            sid,
            f"{sid}@example.edu",
            "Finished",
            "1 December 2026",
            "",
            "5 mins",
            "1",
        ]
        row[0] = sid[1:]
        for q in paper.questions:
            inst = q.instance
            answers = _answers(builtin, inst, who)
            pieces = []
            for part in inst.parts:
                values = [answers[part.id]] if part.options else list(_flat(answers[part.id]))
                for v in values:
                    if who == "blank":
                        pieces.append("")
                    elif part.options:
                        pieces.append(part.options["ABCDEFGH".index(str(v))])
                    else:
                        pieces.append(repr(float(v)))
            if len(pieces) == 1:
                response = pieces[0]
            else:
                response = "; ".join(f"part {i}: {p}" for i, p in enumerate(pieces, 1))
            row += [summaries[f"{inst.template_id}:{inst.seed}"], response, ""]
        rows.append(row)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def _flat(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flat(v)
    else:
        yield value


def _grade(builtin, tmp_path, lms, report_texts, exam):
    reports = []
    for k, text in enumerate([report_texts] if isinstance(report_texts, str) else report_texts):
        reports.append(tmp_path / f"{lms}{k}.csv")
        reports[-1].write_text(text, encoding="utf-8")
    imported = import_lms_responses(lms, reports, source_from_manifest(load_manifest(exam)))
    manifest, responses = write_imported(imported, tmp_path / "lms")
    outcome = grade_class(
        manifest, responses, tmp_path / "graded", recompute_factory=bank_recompute_factory()
    )
    return imported, outcome


@pytest.mark.parametrize("lms", ["canvas", "canvas_without_text_only_columns", "moodle"])
def test_lms_report_is_graded_on_the_served_variants_with_mistakes_and_carried_errors(
    builtin, exam, tmp_path, lms
):
    if lms == "moodle":
        imported, outcome = _grade(builtin, tmp_path, lms, moodle_report(builtin, exam), exam)
    else:
        texts = canvas_reports(builtin, exam, text_only_columns=lms == "canvas")
        assert len(texts) == 3  # the versions s1, s2 and s3 took; nobody took s4's
        imported, outcome = _grade(builtin, tmp_path, "canvas", texts, exam)
    served = {p.id: p for p in imported.manifest.students}
    assert [q.instance.seed for q in served["s1"].questions] == [2, 2, 2]  # what the LMS drew
    assert [q.instance.seed for q in served["s2"].questions] == [1, 1, 1]
    with Gradebook(outcome.db_path) as book:
        key = book.resolve_exam()
        records = book.records(key)
        assert [sid for sid, _ in book.absent(key)] == ["s4"]
    by = {}
    for r in records:
        by.setdefault(r.student_id, {})[(r.number, r.part.id)] = r.result
    assert all(res.score == 1.0 for res in by["s1"].values()), by["s1"]
    s2 = by["s2"]
    assert s2[(1, "a")].mistake == "forgot_padding" and s2[(1, "a")].score == 0
    assert s2[(2, "a")].mistake is not None and s2[(2, "a")].score == 0
    assert s2[(3, "a")].mistake == "transposed"
    for part in ("b", "c"):  # right given the transposed matrix: error carried forward
        assert s2[(3, part)].carried_forward and s2[(3, part)].score == 1.0, s2[(3, part)]
    assert all(res.score == 0 for res in by["s3"].values())


def test_grades_go_back_in_each_lms_format_with_absent_students_blank(builtin, exam, tmp_path):
    _, outcome = _grade(builtin, tmp_path, "canvas", canvas_reports(builtin, exam), exam)
    title, points, grades = class_grades(outcome.db_path)
    total = load_manifest(exam).students[0].points
    assert points == total and title == "Quiz 3"
    canvas = list(csv.reader(io.StringIO(canvas_gradebook_csv(grades, title, points, "4711"))))
    # Canvas's importer: Student, ID first, 'Section' the last student column, "Title (id)"
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Quiz 3 (4711)"]
    assert canvas[1][0] == "Points Possible" and float(canvas[1][5]) == total
    rows = {r[2]: r for r in canvas[2:]}
    assert (
        float(rows["s1"][5]) == total and rows["s1"][3] == "s1@example.edu" and rows["s1"][0] == "Student 1"
    )
    assert rows["s4"][5] == ""  # absent: no grade, not 0
    assert rows["s3"][5] == "0"  # handed in blanks: 0
    moodle = list(csv.reader(io.StringIO(moodle_grades_csv(grades, title))))
    assert moodle[0] == ["ID number", "Email address", "Name", "Quiz 3"]
    mrows = {r[0]: r for r in moodle[1:]}
    assert mrows["s4"][3] == "" and float(mrows["s1"][3]) == total and all(r[0] and r[1] for r in moodle[1:])
    # and through the CLI, from the gradebook
    out = tmp_path / "canvas_grades.csv"
    result = CliRunner().invoke(
        main, ["export", "grades", "--lms", "canvas", "--db", str(outcome.db_path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0].endswith(",Quiz 3")


def test_canvas_title_that_reads_as_an_id_is_refused(builtin, exam, tmp_path):
    _, outcome = _grade(builtin, tmp_path, "canvas", canvas_reports(builtin, exam), exam)
    with pytest.raises(ValueError, match="reads as an assignment id"):
        write_lms_grades(outcome.db_path, tmp_path / "g.csv", "canvas", title="Quiz (3)")


def test_import_responses_command_writes_manifest_and_responses(builtin, exam, tmp_path):
    report = tmp_path / "moodle.csv"
    report.write_text(moodle_report(builtin, exam), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "import-responses",
            str(report),
            "--lms",
            "moodle",
            "--manifest",
            str(exam),
            "--out",
            str(tmp_path / "in"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "in" / "manifest.json").exists() and (tmp_path / "in" / "responses.json").exists()


def test_import_responses_command_reads_one_canvas_report_per_version(builtin, exam, tmp_path):
    reports = []
    for k, text in enumerate(canvas_reports(builtin, exam)):
        reports.append(tmp_path / f"version{k}.csv")
        reports[-1].write_text(text, encoding="utf-8")
    out = tmp_path / "in"
    args = [
        "import-responses",
        *map(str, reports),
        "--lms",
        "canvas",
        "--manifest",
        str(exam),
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert sorted(json.loads((out / "responses.json").read_text())) == ["s1", "s2", "s3"]


def _without_last_question(report: str) -> str:
    """The report with its last question's two columns removed from every row."""
    rows = list(csv.reader(io.StringIO(report)))
    last = max(i for i, h in enumerate(rows[0]) if re.match(r"\d+: ", h))
    buf = io.StringIO()
    csv.writer(buf).writerows([r[:last] + r[last + 2 :] for r in rows])
    return buf.getvalue()


def test_a_canvas_report_that_is_no_version_in_order_is_refused_in_one_line(builtin, exam, tmp_path):
    report = tmp_path / "canvas.csv"
    report.write_text(_without_last_question(canvas_reports(builtin, exam)[0]), encoding="utf-8")
    with pytest.raises(SpecError, match="not the questions of any of the export's 4 quiz versions") as err:
        import_lms_responses("canvas", report, source_from_manifest(load_manifest(exam)))
    assert "\n" not in str(err.value) and str(report) in str(err.value)


def test_a_canvas_report_two_versions_fit_alike_is_refused(builtin, exam, tmp_path):
    source = source_from_manifest(load_manifest(exam))
    labels = next(g for g in source.groups if g.template_id == "metrics.binary_labels")
    first = labels.instances[0]
    twin = dataclasses.replace(first, seed=first.seed + 100)  # reads the same, another variant
    source = dataclasses.replace(source, groups=(dataclasses.replace(labels, instances=(first, twin)),))
    files, _, _ = qti_files(source)
    texts = [
        _strip_tags(item.find(f"{{{QTI_NS}}}presentation/{{{QTI_NS}}}material/{{{QTI_NS}}}mattext").text)
        for item in ET.fromstring(next(v for k, v in sorted(files.items()) if k != "imsmanifest.xml")).iter(
            f"{{{QTI_NS}}}item"
        )
    ]
    header = ["name", "id", "sis_id", "section", "section_id", "submitted"]
    for cid, text in enumerate(texts, 1):
        header += [f"{cid}: {text}", "1.0"]
    rows = [[*header, "n correct", "n incorrect", "score"], ["Student 1", "101", "s1", "", "", ""]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    report = tmp_path / "canvas.csv"
    report.write_text(buf.getvalue(), encoding="utf-8")
    with pytest.raises(SpecError, match="alike"):
        import_lms_responses("canvas", report, source)


def test_a_report_without_question_text_is_refused_in_one_line(exam, tmp_path):
    report = tmp_path / "moodle.csv"
    report.write_text("Last name,First name,ID number,Response 1\nLovelace,Ada,s1,3\n", encoding="utf-8")
    with pytest.raises(SpecError, match="Question text"):
        import_lms_responses("moodle", report, source_from_manifest(load_manifest(exam)))
    report.write_text("Student,ID,Section\nAda,1,A\n", encoding="utf-8")
    with pytest.raises(SpecError, match="Student Analysis"):
        import_lms_responses("canvas", report, source_from_manifest(load_manifest(exam)))
