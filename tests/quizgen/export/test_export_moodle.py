"""Moodle XML: valid for Moodle's importer (mirrored in validate_moodle) for every template of the
bank, and every written answer and tolerance accepting exactly what our grader accepts."""

import math
from fractions import Fraction

import numpy as np
import pytest
from export_helpers import awkward, hand_source, lr_update, make_instance

from quizgen.export import common, moodle
from quizgen.export import validate_moodle as validate_moodle_mod
from quizgen.export.text import to_lms_inline
from quizgen.export.validate_moodle import parse_cloze, validate_moodle
from quizgen.manifest import Manifest, Question, StudentPaper
from quizgen.models import ANSWER_KINDS, Instance, InstancePart, KnownMistake, Tolerance


def exact(x: float) -> Fraction:
    """The number of points a float of the exam stands for (8/3 for 2.6666666666666665)."""
    f = Fraction(x).limit_denominator(10**6)
    assert abs(float(f) - x) <= 1e-12 * max(1.0, abs(x)), x
    return f


def shares(source, report) -> list[tuple[Fraction, Fraction]]:
    """Per exported question: (its imported mark / the quiz's total mark, its points / the exam's
    total), a quiz holding one variant per category (the variants of a slot import alike)."""
    marks = {q.idnumber: q.exact_mark for q in report.questions}
    groups = [[marks[f"{i.template_id}:{i.seed}"] for i in g.instances] for g in source.groups]
    assert all(len(set(g)) == 1 for g in groups)  # every variant of a slot worth the same
    total_mark = sum(g[0] for g in groups)
    total_points = sum(exact(g.points) for g in source.groups)
    return [
        (marks[f"{i.template_id}:{i.seed}"] / total_mark, exact(i.points) / total_points)
        for g in source.groups
        for i in g.instances
    ]


def _answers_by_blank(question):
    """[(answer alternatives)] per blank, whatever the question type."""
    if question.type == "numerical":
        return [question.answers]
    return [answers for kind, _w, answers in question.subquestions if kind == "NUMERICAL"]


def check_numbers(source, report, warnings=()):
    """Each variant's question holds its numbers in C order, each answer and known mistake written
    so that Moodle's rule decides like Tolerance.close; graded the way Moodle grades (the first
    answer whose tolerance holds the response), the answer scores and each known mistake gets
    its own feedback; the question imports worth exactly the exam's points times the export's
    one mark factor, each blank weighted with exactly its share of the question. Returns the
    number of numbers checked."""
    by_id = {q.idnumber: q for q in report.questions}
    factor = moodle.moodle_marks(source).factor
    checked = 0
    for group in source.groups:
        for inst in group.instances:
            q = by_id[f"{inst.template_id}:{inst.seed}"]
            assert q.category == moodle.category_path(source.title, group.key)
            assert q.exact_mark == exact(inst.points) * factor, common.where(inst)
            if q.type == "cloze":
                weights = [Fraction(w) for _k, w, _a in q.subquestions]
                blank_points = [exact(w) for w in moodle.blank_weights(inst)]
                assert [w / sum(weights) for w in weights] == [b / sum(blank_points) for b in blank_points]
            if any(ANSWER_KINDS[p.kind].texts for p in inst.parts):
                continue  # text options hold no numbers: test_export_selection.py checks them
            numeric = [b for p in inst.parts if not p.options for b in common.blanks(p)]
            written = _answers_by_blank(q)
            assert len(written) == len(numeric), common.where(inst)
            for blank, answers in zip(numeric, written, strict=True):
                correct, *mistakes = answers
                assert correct.fraction == 1.0
                problem = common.interval_problem(
                    blank.expected, blank.tolerance, correct.text, correct.tolerance, common.moodle_accepts
                )
                assert problem is None, f"{common.where(inst)}: {problem}"
                assert sorted(float(a.text) for a in mistakes) == sorted(m.value for m in blank.mistakes)
                credit = {m.value: moodle.snap_fraction(m.credit) for m in blank.mistakes}
                for a in mistakes:
                    value = float(a.text)
                    assert a.fraction == pytest.approx(credit[value], abs=1e-5) and a.feedback
                    assert (
                        common.interval_problem(
                            value, blank.tolerance, a.text, a.tolerance, common.moodle_accepts
                        )
                        is None
                    )
                assert validate_moodle_mod.matching_answer(answers, blank.expected) is correct
                for value, feedback, _credit in blank.mistakes:
                    got = validate_moodle_mod.matching_answer(answers, value)
                    assert got is not None and got.fraction == pytest.approx(credit[value], abs=1e-5), (
                        common.where(inst)
                    )
                    assert " ".join(to_lms_inline(feedback).split()) in got.feedback, (
                        f"{common.where(inst, None)}: {value} gets {got.feedback!r}"
                    )
                checked += 1
            if q.type == "multichoice" or any(p.options for p in inst.parts):
                choices = [a for a in q.answers] or next(
                    a for k, _w, a in q.subquestions if k == "MULTICHOICE"
                )
                part = next(p for p in inst.parts if p.options)
                credit: dict = {}  # an option's grade: the first known mistake picking it
                for m in part.mistakes:
                    if m.distinguishable:
                        credit.setdefault(m.value, moodle.snap_fraction(m.credit))
                assert [a.fraction for a in choices] == [
                    1.0 if part.expected == L else pytest.approx(credit.get(L, 0.0), abs=1e-5)
                    for L in "ABCDEFGH"[: len(part.options)]
                ]
    return checked


def test_every_builtin_template_exports_to_valid_moodle_xml(builtin_source):
    text, count, warnings = moodle.moodle_xml(builtin_source)
    report = validate_moodle(text)
    assert report.problems == []
    # the text-option kinds add one documented note: Moodle scores an ordering's longest ordered
    # subset L/n (test_export_selection.py checks those questions)
    ordering = [w for w in warnings if "Moodle grades an ordering" in w]
    assert ordering and all(w.startswith(("concepts.", "theory.")) for w in ordering), ordering
    rest = [w for w in warnings if w not in ordering]
    assert not any("cloze" in w or "mark" in w for w in rest), rest
    assert count == sum(len(g.instances) for g in builtin_source.groups)
    assert check_numbers(builtin_source, report, warnings) > 0
    # every question's share of the quiz is its share of the exam, exactly: one factor for all
    assert all(mark == points for mark, points in shares(builtin_source, report))
    marks = moodle.moodle_marks(builtin_source)
    assert marks.exact and 1 < marks.factor <= moodle.MAX_FACTOR


def test_the_fixture_bank_exports_to_valid_moodle_xml(fixture_source):
    text, _count, warnings = moodle.moodle_xml(fixture_source)
    report = validate_moodle(text)
    assert report.problems == []
    # 1 + 3 + 3 numbers and a choice, a point a part: thirds of a point, so every question x3
    assert warnings == []
    assert moodle.moodle_marks(fixture_source) == moodle.MoodleMarks(3, True, 4.0)
    assert {q.mark for q in report.questions} == {12.0}
    assert [w for _k, w, _a in report.questions[0].subquestions] == [3, 1, 1, 1, 1, 1, 1, 3]
    assert {q.type for q in report.questions} == {"cloze"}
    assert check_numbers(fixture_source, report, warnings) == 3 * 7  # 3 variants x (1 + 3 + 3 numbers)


def test_a_category_per_template_holds_its_variants(fixture_source):
    text, _, _ = moodle.moodle_xml(fixture_source)
    report = validate_moodle(text)
    categories = {q.category for q in report.questions}
    assert categories == {"$course$/top/fixture bank/fixture.l2_chain"}
    assert sorted(q.idnumber for q in report.questions) == [f"fixture.l2_chain:{s}" for s in range(3)]
    assert text.count('<question type="category">') == 1


def test_a_tiny_learning_rate_update_keeps_its_precision_and_tolerance():
    source = hand_source([lr_update()])
    text, _, warnings = moodle.moodle_xml(source)
    assert warnings == []
    (q,) = validate_moodle(text).questions
    assert q.type == "numerical"
    correct, mistake = q.answers
    # 3e-05 with rtol 1e-2, atol 1e-8: half-width 1e-8 + 3e-07 = 3.1e-07 (to the last float bit)
    assert correct.text == "3e-05" and float(correct.tolerance) == 1e-8 + 1e-2 * 3e-05
    assert mistake.text == "-3e-05" and mistake.fraction == 0.0 and r"\(-\eta g\)" in mistake.feedback
    probes = (3.0e-5, 3.03e-5, 2.97e-5, 3.032e-5, 2.968e-5)
    assert [common.moodle_accepts(correct.text, correct.tolerance, g) for g in probes] == [True] * 3 + [
        False
    ] * 2


def test_awkward_numbers_go_into_one_cloze_in_c_order():
    source = hand_source([awkward()])
    text, _, warnings = moodle.moodle_xml(source)
    report = validate_moodle(text)
    assert report.problems == []
    assert warnings == [] and moodle.moodle_marks(source).factor == 4  # quarter points
    (q,) = report.questions
    kinds = [k for k, _w, _a in q.subquestions]
    assert kinds == ["NUMERICAL"] * (1 + 4 + 4 + 2) + ["MULTICHOICE"]
    values = [a[0].text for k, _w, a in q.subquestions if k == "NUMERICAL"]
    assert values == ["0.30000000000000004", "1.5e-07", "-2.25", "1000000", "0", "1", "2", "3", "4", "2", "3"]
    assert check_numbers(source, report, warnings) == 11
    assert q.mark == 20  # Moodle's rule: the sum of the weights below, whatever <defaultgrade> says
    # weights: each part 1 point, split over its numbers, x4: 4, 1x4, 1x4, 2x2, 4
    assert [w for _k, w, _a in q.subquestions] == [4, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 4]
    # the mistake's feedback with ~ # { } survives the cloze syntax
    mc = q.subquestions[-1][2]
    assert mc[0].text == "A. 0.15" and mc[0].feedback == "Half of it ~ #1 {x}."
    assert "[0, :, :]" in text and "[1, :, :]" in text  # the tensor laid out per leading index


@pytest.mark.parametrize(
    "fragment",
    [
        "plain",
        "brace } and \\} hash # and \\# tilde ~",
        "<b>bold</b> &amp; \\(x_{1}\\)",
        "ends with a tilde~",
    ],
)
def test_cloze_escape_round_trips_through_moodles_parser(fragment):
    text = "{1:NUMERICAL:=1:0~%0%2:0#" + moodle.cloze_escape(fragment) + "}"
    (sub,), problems = parse_cloze(text)
    assert problems == []
    assert sub[2][1].feedback == fragment


def test_fractions_are_snapped_to_moodles_list():
    assert moodle.fraction_text(1) == "100" and moodle.fraction_text(0) == "0"
    assert moodle.fraction_text(1 / 3) == "33.33333" and moodle.fraction_text(0.34) == "33.33333"
    assert moodle.fraction_text(-1 / 7) == "-14.28571"
    for f in moodle.ALLOWED_FRACTIONS:
        assert moodle.snap_fraction(f) == f


@pytest.mark.parametrize("x", [3e-05, 0.1 + 0.2, 1e-300, -2.5e17, 123456789.123, 1 / 3, 5.0, -0.0, 1e15])
def test_number_text_reads_back_as_the_same_float(x):
    text = common.number_text(x)
    assert float(text) == x
    if x == int(x) and abs(x) < 1e15:
        assert "." not in text and "e" not in text


def test_number_text_refuses_infinity():
    with pytest.raises(ValueError, match="not finite"):
        common.number_text(math.inf)


def test_random_floats_round_trip_and_pass_the_interval_check():
    rng = np.random.default_rng(6)
    values = rng.standard_normal(300) * 10.0 ** rng.integers(-12, 12, 300)
    for tol in (Tolerance(), Tolerance(sigfigs=4), Tolerance(decimals=2), Tolerance(exact=True)):
        for x in values:
            if tol.exact:
                x = float(round(x))
            if tol.decimals is not None and abs(x) > 1e5:
                continue  # Moodle's own widening, 1e-14 x |answer|, would show (next test)
            margin = common.number_text(float(tol.margin(x)))
            assert (
                common.interval_problem(x, tol, common.number_text(x), margin, common.moodle_accepts) is None
            )


def test_the_interval_check_catches_a_rounded_margin_and_moodles_own_slack():
    tol = Tolerance(rtol=1e-2, atol=1e-8)
    problem = common.interval_problem(3e-05, tol, "3e-05", "3.1e-07", common.moodle_accepts)
    assert problem is not None and "reads back" in problem
    # a half-width below Moodle's 1e-14 x |answer| widening cannot be represented
    tight = Tolerance(rtol=0.0, atol=1e-9)
    problem = common.interval_problem(1e6, tight, "1000000", common.number_text(1e-9), common.moodle_accepts)
    assert problem is not None and "our grader rejects but the LMS accepts" in problem
    # nor 2 decimal places on a number of 14 million (widening 1.4e-7 vs 1e-6 of the margin 0.005)
    two = Tolerance(decimals=2)
    x = -13796506.137840807
    problem = common.interval_problem(x, two, repr(x), repr(float(two.margin(x))), common.moodle_accepts)
    assert problem is not None


def test_the_exporter_warns_when_moodle_would_grade_differently():
    part = InstancePart("a", "real", "", 1e6, Tolerance(rtol=0.0, atol=1e-9), 1.0)
    text, _, warnings = moodle.moodle_xml(hand_source([make_instance("hand.tight", 1, [part])]))
    assert len(warnings) == 1 and "hand.tight seed 1, part a: Moodle would grade differently" in warnings[0]
    assert validate_moodle(text).problems == []


def test_a_choice_with_a_single_option_is_reported_not_dropped_silently():
    part = InstancePart("a", "choice", "", "A", Tolerance(), 1.0, options=("4.2",))
    _text, count, warnings = moodle.moodle_xml(hand_source([make_instance("hand.one_option", 3, [part])]))
    assert count == 0
    assert warnings == [
        "hand.one_option seed 3: not exported to Moodle: part a is multiple choice with a single option (Moodle needs at least two)"
    ]


def test_exports_are_byte_identical_across_rebuilds(fixture_source, tmp_path):
    a = moodle.export_moodle(fixture_source, tmp_path / "a.xml").files[0].read_bytes()
    b = moodle.export_moodle(fixture_source, tmp_path / "b").files[0].read_bytes()
    assert a == b and (tmp_path / "b" / "moodle.xml").exists()


BAD = {
    "grade not on Moodle's list": ('fraction="100"', 'fraction="37"', "is not one Moodle offers"),
    "malformed cloze": ("{1:NUMERICAL:=", "{1:NUMERICAL:=abc", "is not a number Moodle reads"),
    "unknown type": ('type="cloze"', 'type="clozy"', "unknown type"),
    "empty category": ("$course$/top/hand/", "$course$/top/ /", "bad category path"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_the_validator_rejects_what_moodle_would(name):
    old, new, message = BAD[name]
    text, _, _ = moodle.moodle_xml(hand_source([awkward(), lr_update()]))
    assert validate_moodle(text).problems == []
    broken = text.replace(old, new, 1)
    assert broken != text
    assert any(message in p for p in validate_moodle(broken).problems)


def test_the_validator_rejects_a_multichoice_with_one_answer_and_an_unclosed_blank():
    mc = (
        '<quiz><question type="multichoice"><name><text>q</text></name><questiontext format="html"><text>t</text>'
        '</questiontext><single>true</single><answer fraction="100"><text>a</text></answer></question>'
        '<question type="cloze"><name><text>c</text></name><questiontext format="html">'
        "<text>x {1:NUMERICAL:=1:0 y</text></questiontext></question></quiz>"
    )
    problems = validate_moodle(mc).problems
    assert any("at least two answers" in p for p in problems)
    assert any("malformed embedded answer" in p for p in problems)


def _overlapping(order):
    """3.0 with rtol 1e-2 and known mistakes: 1.0 (margin 0.01) is inside 1.0101's interval
    (margin 0.010101) but not the other way round; 5.0 and 5.04 hold each other."""
    known = {
        "small": KnownMistake("small", "Forgot the square.", 1.0),
        "near": KnownMistake("near", "Used the biased variance.", 1.0101),
        "five": KnownMistake("five", "Added the bias twice.", 5.0),
        "five2": KnownMistake("five2", "Used n instead of n - 1.", 5.04),
    }
    part = InstancePart(
        "a", "real", "", 3.0, Tolerance(rtol=1e-2, atol=0.0), 2.0, tuple(known[k] for k in order)
    )
    return make_instance("hand.overlap", 0, [part])


@pytest.mark.parametrize("order", [("near", "small", "five", "five2"), ("small", "near", "five2", "five")])
def test_each_known_mistake_gets_its_own_feedback_under_moodles_first_match_rule(order):
    inst = _overlapping(order)
    text, _, warnings = moodle.moodle_xml(hand_source([inst]))
    report = validate_moodle(text)
    assert report.problems == [] and warnings == []
    (q,) = report.questions
    assert check_numbers(hand_source([inst]), report) == 1
    match = validate_moodle_mod.matching_answer
    assert match(q.answers, 1.0).feedback == "<p>Forgot the square.</p>"
    assert match(q.answers, 1.0101).feedback == "<p>Used the biased variance.</p>"
    # 5.0 and 5.04 cannot be told apart in any order: both get a feedback naming both mistakes
    for value in (5.0, 5.04):
        fb = match(q.answers, value).feedback
        assert "Added the bias twice." in fb and "Used n instead of n - 1." in fb
    assert match(q.answers, 3.0).fraction == 1.0 and match(q.answers, 7.0) is None
    # in a cloze blank Moodle tries the answers in the same order
    cloze = moodle.moodle_xml(hand_source([make_instance("hand.two", 0, [*inst.parts, awkward().parts[0]])]))[
        0
    ]
    (cq,) = validate_moodle(cloze).questions
    answers = cq.subquestions[0][2]
    assert "Forgot the square." in match(answers, 1.0).feedback


def test_moodles_first_match_rule_is_what_made_the_feedback_wrong():
    # the instance's order puts 1.0101 first: read in that order, 1.0 would get its feedback
    inst = _overlapping(("near", "small", "five", "five2"))
    (blank,) = common.blanks(inst.parts[0])
    naive = [
        validate_moodle_mod.MoodleAnswer(
            common.number_text(v),
            0.0,
            common.number_text(float(blank.tolerance.margin(v))),
            f,
        )
        for v, f, _credit in blank.mistakes
    ]
    assert validate_moodle_mod.matching_answer(naive, 1.0).feedback == "Used the biased variance."


def test_a_cloze_imports_worth_the_sum_of_its_weights_whatever_its_defaultgrade():
    xml = (
        '<quiz><question type="cloze"><name><text>c</text></name><questiontext format="html"><text>'
        "{3:NUMERICAL:=1:0} {0:NUMERICAL:=2:0} {:NUMERICAL:=3:0}</text></questiontext>"
        "<defaultgrade>8</defaultgrade></question>"
        '<question type="numerical"><name><text>n</text></name><questiontext format="html"><text>t</text>'
        '</questiontext><defaultgrade>8</defaultgrade><answer fraction="100"><text>1</text>'
        "<tolerance>0</tolerance></answer></question></quiz>"
    )
    report = validate_moodle(xml)
    assert report.problems == []
    assert [q.mark for q in report.questions] == [5.0, 8.0]  # 3 + 1 (a 0 weight is 1) + 1


def test_cloze_weights_are_each_blanks_points_times_the_factor():
    assert moodle.cloze_weights([4.0, 4.0], 8.0, 1) == ([4, 4], None)
    assert moodle.cloze_weights([1.0, 1.0, 2.0], 4.0, 3) == ([3, 3, 6], None)
    assert moodle.cloze_weights([4 / 9] * 9 + [1.0] * 4, 8.0, 9) == ([4] * 9 + [9] * 4, None)


def test_cloze_weights_round_the_shares_only_when_the_factor_cannot_make_them_whole():
    weights, error = moodle.cloze_weights([8 / 13] * 13, 8.0, 2)  # 16 marks over 13 blanks
    assert sum(weights) == 16 and min(weights) >= 1 and sorted(weights) == [1] * 10 + [2] * 3
    assert error == pytest.approx(2 / 16 - 1 / 13)
    weights, error = moodle.cloze_weights([0.01, 5.99], 6.0, 1)  # a tiny share still counts 1
    assert weights == [1, 5] and error == pytest.approx(1 / 6 - 0.01 / 6)


def _slots(*instances) -> common.ExportSource:
    """One student's paper with each instance at its own slot: a category each."""
    paper = StudentPaper("s1", "S", "", tuple(Question(n, n, "Hand", i) for n, i in enumerate(instances, 1)))
    return common.source_from_manifest(Manifest({"title": "slots", "course": "T"}, (paper,)))


def _vector(template_id: str, n: int, points: float) -> Instance:
    part = InstancePart("a", "vector", "v", [float(i) for i in range(n)], Tolerance(), points)
    return make_instance(template_id, 0, [part, InstancePart("b", "real", "x", 1.5, Tolerance(), points)])


def test_one_factor_scales_every_question_and_a_note_says_which_maximum_grade_to_set():
    source = _slots(_vector("v.three", 3, 2.0), lr_update(), _vector("v.four", 4, 1.0))
    text, _count, warnings = moodle.moodle_xml(source)
    report = validate_moodle(text)
    assert report.problems == [] and warnings == []
    marks = moodle.moodle_marks(source)  # thirds of 2 points and quarters of 1: x12 (lcm 3, 4)
    assert marks == moodle.MoodleMarks(12, True, 4.0 + 2.0 + 2.0)
    assert [q.mark for q in report.questions] == [48.0, 24.0, 24.0]  # the numerical one x12 too
    assert all(mark == points for mark, points in shares(source, report))
    assert marks.note() == (
        "Moodle: cloze blanks take whole-number weights, so every question imports worth 12 x its "
        "exam points (marks sum to 96); after importing, set the quiz's Maximum grade to the "
        "exam's total, 8"
    )
    assert moodle.moodle_marks(_slots(_vector("v.two", 2, 2.0), lr_update())).note() is None


def test_past_the_cap_the_shares_are_rounded_with_a_warning_naming_the_question():
    # 7, 11, 13 and 17 blanks of a point each: exact weights need x17017 (lcm of 8, 12, 14, 18)
    source = _slots(*(_vector(f"v.n{n}", n, 1.0) for n in (7, 11, 13, 17)))
    marks = moodle.moodle_marks(source)
    assert not marks.exact and marks.wanted == math.lcm(7, 11, 13, 17) and marks.factor <= moodle.MAX_FACTOR
    text, _count, warnings = moodle.moodle_xml(source)
    report = validate_moodle(text)
    assert report.problems == []
    assert len(warnings) == 4 and all("exact ones would need every question x17017" in w for w in warnings)
    assert (
        warnings[0].startswith("v.n7 seed 0: cloze blanks' shares rounded") and "largest error" in warnings[0]
    )
    # the questions' weights against each other stay exact: each mark is 2 points x the factor
    assert [q.mark for q in report.questions] == [2.0 * marks.factor] * 4
    assert all(mark == points for mark, points in shares(source, report))


def test_the_example_exam_imports_at_the_exams_points_relative_to_its_total(example_source, tmp_path):
    text, count, warnings = moodle.moodle_xml(example_source)
    assert count == 450  # 15 questions x 30 students, each a distinct variant
    report = validate_moodle(text)
    assert report.problems == []
    assert not any("cloze" in w or "mark" in w for w in warnings), warnings
    assert check_numbers(example_source, report, warnings) == 3300  # every number of the numeric parts
    assert all(mark == points for mark, points in shares(example_source, report))
    marks = moodle.moodle_marks(example_source)
    assert marks.exact and marks.total == 110.0
    result = moodle.export_moodle(example_source, tmp_path / "m.xml")
    assert result.notes == [marks.note()] and "Maximum grade to the exam's total, 110" in result.notes[0]


def test_a_mistake_with_credit_earns_it_in_moodle(credit_source):
    """credit 0.5 (fixtures/banks/partial_credit): Moodle grades the mistake's answer 50% in a
    numerical question, a multichoice option and a cloze blank, with quizgen's feedback."""
    text, _count, warnings = moodle.moodle_xml(credit_source)
    report = validate_moodle(text)
    assert report.problems == []
    assert not any("cloze" in w or "mark" in w for w in warnings), warnings
    assert {q.type for q in report.questions} == {"numerical", "multichoice", "cloze"}
    assert check_numbers(credit_source, report, warnings) == 2 * (1 + 1 + 3)
    by_id = {q.idnumber: q for q in report.questions}
    credited = 0
    for group in credit_source.groups:
        for inst in group.instances:
            q = by_id[f"{inst.template_id}:{inst.seed}"]
            numeric = [b for p in inst.parts if not p.options for b in common.blanks(p)]
            for blank, answers in zip(numeric, _answers_by_blank(q), strict=True):
                for m in blank.mistakes:
                    got = validate_moodle_mod.matching_answer(answers, m.value)
                    assert got.fraction == 0.5 and "(50% credit: " in got.feedback, common.where(inst)
                    credited += 1
            for part in inst.parts:
                if part.options:
                    options = q.answers or next(a for k, _w, a in q.subquestions if k == "MULTICHOICE")
                    half = next(m.value for m in part.mistakes if m.credit == 0.5)
                    forgot = next(m.value for m in part.mistakes if m.credit == 0)
                    fractions = {letter: a.fraction for letter, a in zip("ABCDEFGH", options, strict=False)}
                    assert fractions[part.expected] == 1.0
                    assert fractions[half] == 0.5 and fractions[forgot] == 0.0
                    credited += 1
    assert credited == 2 * (1 + 1 + 1 + 3)


def test_a_credit_moodle_has_no_grade_for_is_snapped_with_a_warning():
    part = InstancePart(
        "a",
        "real",
        "",
        3.0,
        Tolerance(rtol=1e-2),
        2.0,
        (KnownMistake("half", "Halved it.", 1.5, credit=0.45, credit_reason="half the work"),),
    )
    text, _, warnings = moodle.moodle_xml(hand_source([make_instance("hand.credit", 0, [part])]))
    assert validate_moodle(text).problems == []
    ((q,),) = [validate_moodle(text).questions]
    assert validate_moodle_mod.matching_answer(q.answers, 1.5).fraction == 0.5
    assert warnings == [
        "hand.credit seed 0, part a: Moodle allows no grade of 0.45: the mistake earns 50% there"
    ]


def test_mistakes_too_close_to_tell_apart_with_different_credit_are_warned_about():
    part = InstancePart(
        "a",
        "real",
        "",
        3.0,
        Tolerance(rtol=1e-2, atol=0.0),
        2.0,
        (
            KnownMistake("five", "Added the bias twice.", 5.0),
            KnownMistake("five2", "Used n, not n - 1.", 5.04, credit=0.5, credit_reason="a convention"),
        ),
    )
    _, _, warnings = moodle.moodle_xml(hand_source([make_instance("hand.close", 0, [part])]))
    assert warnings == [
        "hand.close seed 0, part a: the mistakes giving 5, 5.04 are too close to tell apart but earn "
        "different credit (0%, 50%): Moodle gives a response near them one of these"
    ]
