import numpy as np
import pytest

from quizgen.graders.analysis import PartRecord, item_analysis, student_totals
from quizgen.graders.collusion import CollusionFlag, SharedAnswer
from quizgen.graders.reports import class_report_html, histogram_svg, student_report_html, student_report_md
from quizgen.models import GradeResult, InstancePart, KnownMistake, Status, Tolerance


def _part(pid="a", expected=1.0, kind="real", points=2.0, mistakes=()):
    return InstancePart(pid, kind, "", expected, Tolerance(), points, tuple(mistakes))


def rec(sid, score, *, tid="t", pid="a", expected=1.0, parsed=None, status=None, mistake=None, params=None,
        kind="real", slot=1, number=1, response=None, cf=False):  # fmt: skip
    status = status or (Status.CORRECT if score == 1 else Status.PARTIAL if score > 0 else Status.INCORRECT)
    part = _part(pid, expected, kind, mistakes=[KnownMistake("m1", "Mistake one.", 99.0)])
    return PartRecord(
        student_id=sid,
        name=sid.upper(),
        number=number,
        slot=slot,
        template_id=tid,
        title="T",
        params=params or {},
        part=part,
        response=response,
        result=GradeResult(pid, score, 2.0, status, "fb", mistake, carried_forward=cf),
        parsed=parsed,
    )


def test_totals_sum_points_per_student_and_slot():
    records = [rec("s1", 1.0), rec("s1", 0.5, tid="u", slot=2, number=2), rec("s2", 0.0)]
    t1, t2 = student_totals(records)
    assert (t1.points, t1.max_points, dict(t1.by_slot)) == (3.0, 4.0, {1: 2.0, 2: 1.0})
    assert (t2.student_id, t2.points) == ("s2", 0.0)


def test_item_statistics_mean_difficulty_and_corrected_item_total_discrimination():
    item = [1.0, 1.0, 0.0, 0.5, 0.0]  # scores on template t
    other = [1.0, 0.5, 0.0, 1.0, 0.5]  # scores on template u
    records = []
    for i, (a, b) in enumerate(zip(item, other, strict=True)):
        records.append(rec(f"s{i}", a, parsed=0.0 if a < 1 else 1.0))
        records.append(rec(f"s{i}", b, tid="u", slot=2, number=2))
    stats = {(s.template_id, s.part_id): s for s in item_analysis(records)}
    t = stats[("t", "a")]
    assert t.n == 5 and t.mean_points == pytest.approx(2.0 * np.mean(item)) and t.max_points == 2.0
    assert t.difficulty == pytest.approx(0.5) and t.full_credit == pytest.approx(0.4)
    # corrected item-total: correlate the item's score with the rest = the u points (2 * other)
    assert t.discrimination == pytest.approx(np.corrcoef(item, other)[0, 1])
    assert t.common_wrong == (("0", 3),)


def test_discrimination_is_none_without_variation_or_with_too_few_students():
    same = [rec(f"s{i}", 1.0) for i in range(4)]
    assert item_analysis(same)[0].discrimination is None
    assert item_analysis([rec("s1", 1.0), rec("s2", 0.0)])[0].discrimination is None


def test_mistakes_blank_and_format_error_rates_are_counted():
    records = [
        rec("s1", 0.0, mistake="m1", parsed=99.0),
        rec("s2", 0.0, mistake="m1", parsed=99.0),
        rec("s3", 0.0, status=Status.BLANK),
        rec("s4", 0.0, status=Status.FORMAT_ERROR),
    ]
    (s,) = item_analysis(records)
    assert s.mistakes == (("m1", "Mistake one.", 2),)
    assert (s.blank, s.format_errors) == (0.25, 0.25)
    assert s.common_wrong == (("99", 2),)


def test_scores_are_broken_down_by_parameters_with_few_values():
    records = [
        rec("s1", 1.0, params={"stride": 1, "x": [1, 2], "seed": 1}),
        rec("s2", 1.0, params={"stride": 1, "x": [3, 4], "seed": 2}),
        rec("s3", 0.0, params={"stride": 2, "x": [5, 6], "seed": 3}),
    ]
    (s,) = item_analysis(records)
    by = {b.name: b.values for b in s.by_param}
    assert by["stride"] == (("1", 2, 1.0), ("2", 1, 0.0))
    assert "x" not in by  # arrays are not broken down
    assert by["seed"] == (("1", 1, 1.0), ("2", 1, 1.0), ("3", 1, 0.0))


def test_student_report_escapes_names_answers_and_feedback_and_renders_math():
    r = rec("s1", 0.5, response="<script>alert(1)</script>", parsed=0.5)
    r = PartRecord(**{**r.__dict__, "name": "Eve <b>"})
    html = student_report_html("Quiz <1>", "s1", "Eve <b>", [r], {1: "Compute $x^2$ for x = 3."})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Eve &lt;b&gt;" in html and "Quiz &lt;1&gt;" in html
    assert "<math" in html  # the question text's LaTeX as MathML
    assert "1 / 2" in html  # points of max


def test_student_report_markdown_uses_code_spans_that_survive_backticks():
    r = rec("s1", 1.0, response="`1`", parsed=1.0)
    md = student_report_md("Quiz", "s1", "Ada", [r], {1: "Text."})
    assert "  - Your answer: `` `1` ``" in md
    assert md.startswith("# Quiz\n\nAda (s1)\n\n**Total: 2 of 2 points**")


def test_histogram_svg_has_one_bar_per_bin_with_counts():
    svg = str(histogram_svg([0.0, 5.0, 10.0, 10.0], 10.0, bins=5))
    assert svg.startswith("<svg") and svg.count("<rect") == 5
    assert "<title>8–10: 2</title>" in svg and "<title>0–2: 1</title>" in svg


def test_class_report_has_summary_histogram_items_flags_and_the_absent():
    records = [rec(f"s{i}", 1.0 if i % 2 else 0.0, parsed=float(i)) for i in range(1, 8)]
    shared = SharedAnswer("t", "a", 1, 1, "4.123", "3.123", "key", 1, 6, 1 / 6)
    flag = CollusionFlag("s2", "s1", 1e-6, 4.2e-5, (shared,))
    html = class_report_html(
        "Quiz", student_totals(records), item_analysis(records), [flag], ["w <1>"], absent=[("s9", "Eve <b>")]
    )
    assert "7 students graded, 1 absent" in html and "<svg" in html
    assert "s2&#39;s answer 4.123 to q1.a (t) is s1&#39;s right answer for their own variant" in html
    assert '<td class="num">4.2e-05</td>' in html
    assert "<li>s9 (Eve &lt;b&gt;)</li>" in html and "w &lt;1&gt;" in html


def test_student_report_of_an_absent_student_says_so():
    assert "absent, not graded" in student_report_html("Quiz", "s9", "Eve", [], {})
    assert "**No answers from you were received: absent, not graded.**" in student_report_md(
        "Quiz", "s9", "Eve", [], {}
    )
