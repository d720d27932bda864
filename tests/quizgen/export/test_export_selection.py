"""The text-option kinds in the LMS exports, checked the way the LMSs read them (the importer
models in validate_moodle and validate_qti)."""

import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from quizgen.bank import load_bank
from quizgen.export.common import source_from_bank
from quizgen.export.moodle import moodle_xml
from quizgen.export.pdf import export_pdf
from quizgen.export.qti import export_qti
from quizgen.export.text import to_lms_inline
from quizgen.export.validate_moodle import validate_moodle
from quizgen.export.validate_qti import validate_qti
from quizgen.graders.selection import option_weights
from quizgen.selection import option_of, split_letters

IDS = {
    "concepts.conv_size_claim": ("truefalse", "true_false_question"),
    "concepts.bias_variance": ("multichoice", "multiple_choice_question"),
    "concepts.hyperparameters": ("multichoice", "multiple_answers_question"),
    "concepts.training_loop_order": ("ordering", None),
}


@pytest.fixture(scope="module")
def source():
    return source_from_bank(load_bank(), list(IDS), 4, title="concepts")


def test_moodle_imports_each_kind_as_its_own_type(source):
    text, count, warnings = moodle_xml(source)
    report = validate_moodle(text)
    assert report.problems == []
    assert count == 16
    assert sorted({q.type for q in report.questions}) == ["multichoice", "ordering", "truefalse"]
    # ordering: Moodle grades partial orders its own way (L/n); the warning says so, once per slot
    assert [w for w in warnings if "L/n" in w and "every variant" in w]


def test_moodle_ordering_lists_the_items_in_the_right_order(source):
    """qtype_ordering's importer takes the right order from the items' order in the file."""
    root = ET.fromstring(moodle_xml(source)[0])
    questions = [q for q in root.iter("question") if q.get("type") == "ordering"]
    assert len(questions) == 4
    for q, inst in zip(questions, source.groups[3].instances, strict=True):
        part = inst.parts[0]
        items = [a.findtext("text") for a in q.findall("answer")]
        assert items == [to_lms_inline(option_of(part, x)) for x in split_letters(part.expected)]
        assert q.findtext("gradingtype") == "LONGEST_ORDERED_SUBSET"


def test_moodle_multi_select_fractions_are_the_right_minus_wrong_rule(source):
    root = ET.fromstring(moodle_xml(source)[0])
    instances = {i.seed: i for i in source.groups[2].instances}
    multi = [
        q for q in root.iter("question") if q.get("type") == "multichoice" and q.findtext("single") == "false"
    ]
    assert len(multi) == 4
    for q in multi:
        seed = int(q.findtext("name/text").rsplit("seed ", 1)[1].rstrip("]"))
        part = instances[seed].parts[0]
        right = set(split_letters(part.expected))
        gain, cost = option_weights(len(part.options), len(right))
        got = [float(a.get("fraction")) / 100 for a in q.findall("answer")]
        want = [gain if letter in right else -cost for letter in "ABCDEFG"[: len(part.options)]]
        assert got == pytest.approx(want, abs=1e-5)
        # everything selected earns nothing, as in quizgen
        assert max(0.0, sum(got)) == pytest.approx(0.0, abs=1e-4)


def test_moodle_true_false_wrong_answer_names_the_misconception(source):
    root = ET.fromstring(moodle_xml(source)[0])
    for q, inst in zip(
        [q for q in root.iter("question") if q.get("type") == "truefalse"],
        source.groups[0].instances,
        strict=True,
    ):
        part = inst.parts[0]
        wrong = next(m for m in part.mistakes if m.distinguishable)
        answers = {a.findtext("text"): a for a in q.findall("answer")}
        wrong_word = "true" if part.expected == "F" else "false"
        assert answers[wrong_word].get("fraction") == "0"
        assert wrong.feedback.split(":")[0] in answers[wrong_word].findtext("feedback/text")


def test_canvas_gets_its_types_and_refuses_ordering_by_name(source, tmp_path):
    result = export_qti(source, tmp_path / "c.zip")
    report = validate_qti(tmp_path / "c.zip")
    assert report.problems == []
    types = sorted({i.type for i in report.items})
    assert types == ["multiple_answers_question", "multiple_choice_question", "true_false_question"]
    refused = [w for w in result.warnings if "no ordering type" in w]
    assert len(refused) == 4 and all("concepts.training_loop_order" in w for w in refused)
    for item in report.items:
        if item.type == "multiple_answers_question":
            assert item.correct_option  # the right options are named in the full-score condition
    # hyperparameters: 4 right of 7, so Canvas's (right - wrong)/k gives select-all (4 - 3)/4
    assert [w for w in result.warnings if "concepts.hyperparameters" in w and "earns 25% in Canvas" in w]


@pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
    reason="pdflatex or pdftotext is not installed",
)
def test_pdf_key_typesets_every_kind_without_overfull_lines(tmp_path):
    """One key holding all six concepts templates: it compiles, no line is too wide (the
    export's layout check reports those as warnings), and the options are there as text."""
    ids = [t.id for t in load_bank().select() if t.family == "concepts"]
    source = source_from_bank(load_bank(), ids, 1, title="concepts")
    result = export_pdf(source, tmp_path, jobs=1, keys=True)
    assert result.warnings == []
    key = next(p for p in result.files if p.parent.name == "keys" and p.suffix == ".pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(key), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "T. True" in text and "F. False" in text
    assert "Answer:" in text and "optimizer.step()" in text
