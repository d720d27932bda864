import numpy as np
import pytest

from quizgen.graders.analysis import PartRecord, collusion_flags, item_analysis, student_totals
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


def _class(answers, *, expected=None, **kw):
    expected = expected or {f"s{i}": float(10 * i) for i in range(1, 8)}
    return [
        rec(
            sid,
            1.0 if answers.get(sid) == expected[sid] else 0.0,
            expected=expected[sid],
            parsed=answers.get(sid),
            **kw,
        )
        for sid in expected
    ]


def test_a_wrong_answer_equal_to_another_students_variant_is_flagged_with_evidence():
    records = _class({"s1": 10.0, "s2": 10.0, "s3": 30.0})
    (pair,) = collusion_flags(records)
    assert (pair.student_id, pair.other_id) == ("s2", "s1")
    (flag,) = pair.flags
    assert flag.evidence == (
        "s2's answer 10 to q1.a (t) equals s1's expected answer 10, not their own 20; s1 answered the same"
    )


def test_right_answers_known_mistakes_carried_forward_and_choices_are_not_flagged():
    records = [
        rec("s1", 1.0, expected=10.0, parsed=10.0),
        rec("s2", 0.0, expected=20.0, parsed=10.0, mistake="m1"),
        rec("s3", 0.0, expected=30.0, parsed=10.0, cf=True),
        rec("s4", 0.0, expected="A", parsed="B", kind="choice"),
        rec("s5", 0.0, expected="B", parsed="A", kind="choice"),
    ]
    assert collusion_flags(records) == []


def test_values_shared_by_many_variants_are_not_distinctive():
    expected = {f"s{i}": (0.0 if i > 3 else float(i)) for i in range(1, 8)}
    records = _class({"s1": 0.0}, expected=expected)
    assert collusion_flags(records) == []


def test_flags_of_a_pair_are_gathered_and_pairs_sorted_by_matches():
    a = _class({"s2": 10.0, "s5": 30.0})
    b = _class({"s2": 10.0}, tid="u")
    pairs = collusion_flags(a + b)
    assert [(p.student_id, p.other_id, len(p.flags)) for p in pairs] == [("s2", "s1", 2), ("s5", "s3", 1)]


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


def test_class_report_has_summary_histogram_items_and_flags():
    records = _class({"s1": 10.0, "s2": 10.0})
    html = class_report_html(
        "Quiz", student_totals(records), item_analysis(records), collusion_flags(records), ["w <1>"]
    )
    assert "7 students" in html and "<svg" in html and "s2&#39;s answer 10" in html
    assert "w &lt;1&gt;" in html
