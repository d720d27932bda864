"""Precision-recall points and average precision, against hand-worked examples."""

import pytest

from quizgen.reference import roc


def test_average_precision_weighs_each_precision_by_the_recall_it_adds():
    y, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6]
    curve = roc.pr_curve(y, s)
    assert curve.precision.tolist() == pytest.approx([1, 1 / 2, 2 / 3, 1 / 2])
    assert curve.recall.tolist() == [0.5, 0.5, 1.0, 1.0]
    # AP = 1/2 · 1 + 1/2 · 2/3 = 5/6 (the mean precision at the two positives' ranks)
    assert roc.average_precision(y, s) == pytest.approx(5 / 6)
    # trapezoids from (0, 1): 1/2 · 1 + 1/2 · (1/2 + 2/3)/2 = 19/24; the plain mean: (1 + 1/2 + 2/3 + 1/2)/4
    assert roc.average_precision(y, s, rule="trapezoid") == pytest.approx(19 / 24)
    assert roc.average_precision(y, s, rule="mean") == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="rule"):
        roc.average_precision(y, s, rule="interpolated")


def test_precision_recall_at_a_threshold_counts_a_score_equal_to_it():
    y, s = [1, 0, 1, 0, 1], [0.9, 0.7, 0.7, 0.4, 0.2]
    assert roc.precision_recall_at(y, s, 0.7) == pytest.approx((2 / 3, 2 / 3))
    assert roc.precision_recall_at(y, s, 0.7, rule=">") == pytest.approx((1.0, 1 / 3))
    # nothing predicted positive: precision 1 by sklearn's convention, recall 0
    assert roc.precision_recall_at(y, s, 0.95) == (1.0, 0.0)
    # tied scores form one point: AP = 1/3 · 1 + 1/3 · 2/3 + 1/3 · 3/5
    assert roc.average_precision(y, s) == pytest.approx(1 / 3 + 2 / 9 + 1 / 5)
