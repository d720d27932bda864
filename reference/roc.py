"""ROC curve points and the area under it, as ``sklearn.metrics.roc_curve`` / ``roc_auc_score``.

A score s is predicted positive at threshold θ when s >= θ. For each distinct score θ (in
decreasing order) the curve has the point (FPR, TPR) = (FP/N, TP/P), after (0, 0). The AUC is
the trapezoid area under those points; it equals the fraction of (positive, negative) pairs the
scores order correctly, a tie counting 1/2:

    AUC = (1 / (P N)) Σ_{i pos} Σ_{j neg} ([s_i > s_j] + ½ [s_i = s_j]).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose

__all__ = [
    "PrCurve",
    "PrecisionRecall",
    "Rates",
    "RocCurve",
    "average_precision",
    "pr_curve",
    "precision_recall_at",
    "rates_at",
    "roc_auc",
    "roc_curve",
    "roc_point",
]


def _binary(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64)
    s = as_float_array(scores, "scores", ndim=1)
    if y.shape != s.shape or not np.all((y == 0) | (y == 1)):
        raise ValueError("roc: y_true must be 0/1 labels with one score each")
    if y.min() == y.max():
        raise ValueError("roc: y_true needs both a positive and a negative example")
    return y, s


_PREDICT = {">=": np.greater_equal, ">": np.greater}


class Rates(NamedTuple):
    """``tpr`` = TP / P and ``fpr`` = FP / N at one threshold."""

    tpr: float
    fpr: float


def rates_at(y_true, scores, threshold: float, *, rule: str = ">=") -> Rates:
    """TPR and FPR when s >= threshold is predicted positive (``rule=">"``: strictly above)."""
    y, s = _binary(y_true, scores)
    pred = choose(rule, "rule", _PREDICT)(s, float(threshold))
    return Rates(
        float(np.sum(pred & (y == 1)) / np.sum(y == 1)), float(np.sum(pred & (y == 0)) / np.sum(y == 0))
    )


def roc_point(y_true, scores, threshold: float, *, rule: str = ">=") -> np.ndarray:
    """The ROC point at one threshold as a vector (2,): [TPR, FPR] (:func:`rates_at`)."""
    return np.array(rates_at(y_true, scores, threshold, rule=rule))


class RocCurve(NamedTuple):
    """``fpr``, ``tpr`` (K + 1,) from (0, 0); ``thresholds`` (K,) the distinct scores, decreasing."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


def roc_curve(y_true, scores) -> RocCurve:
    """Every ROC point (sklearn's ``roc_curve(..., drop_intermediate=False)`` without its
    +inf threshold, whose point is the leading (0, 0))."""
    y, s = _binary(y_true, scores)
    thresholds = np.unique(s)[::-1]
    pts = [rates_at(y, s, t) for t in thresholds]
    fpr = np.array([0.0] + [p.fpr for p in pts])
    tpr = np.array([0.0] + [p.tpr for p in pts])
    return RocCurve(fpr, tpr, thresholds)


_TIE_CREDIT = {"half": 0.5, "loss": 0.0, "win": 1.0}


def roc_auc(y_true, scores, *, ties: str = "half") -> float:
    """Area under the ROC curve (trapezoids) = the pair count above with a tie worth ½;
    ``ties="loss"`` counts a tie as 0 (the staircase under the points), ``"win"`` as 1."""
    y, s = _binary(y_true, scores)
    credit = choose(ties, "ties", _TIE_CREDIT)
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    return float(np.mean((pos > neg) + credit * (pos == neg)))


# --------------------------------------------------------------------------------------------------
# precision-recall curve and average precision (sklearn's precision_recall_curve and
# average_precision_score)


class PrecisionRecall(NamedTuple):
    """``precision`` = TP / (TP + FP) (1 when nothing is predicted positive, sklearn's convention
    for the curve's end) and ``recall`` = TP / P at one threshold."""

    precision: float
    recall: float


def precision_recall_at(y_true, scores, threshold: float, *, rule: str = ">=") -> PrecisionRecall:
    """Precision and recall when s >= threshold is predicted positive (``rule=">"``: strictly above)."""
    y, s = _binary(y_true, scores)
    pred = choose(rule, "rule", _PREDICT)(s, float(threshold))
    tp = float(np.sum(pred & (y == 1)))
    predicted = float(np.sum(pred))
    return PrecisionRecall(tp / predicted if predicted else 1.0, tp / float(np.sum(y == 1)))


class PrCurve(NamedTuple):
    """``precision``, ``recall`` (K,) at the distinct scores ``thresholds`` (K,), decreasing; the
    recall rises from the first entry to the last (sklearn lists them the other way round and
    appends the point recall 0, precision 1)."""

    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray


def pr_curve(y_true, scores) -> PrCurve:
    """The precision-recall point of every distinct score, from the highest score down."""
    y, s = _binary(y_true, scores)
    thresholds = np.unique(s)[::-1]
    pts = [precision_recall_at(y, s, t) for t in thresholds]
    return PrCurve(np.array([p.precision for p in pts]), np.array([p.recall for p in pts]), thresholds)


def _ap_step(precision: np.ndarray, recall: np.ndarray) -> float:
    """sklearn: Σ_n (R_n - R_{n-1}) P_n with R_0 = 0, each recall step times the precision reached."""
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))


def _ap_trapezoid(precision: np.ndarray, recall: np.ndarray) -> float:
    """The trapezoid area under the curve from (recall 0, precision 1): sklearn's auc(recall,
    precision), which its documentation warns is too optimistic."""
    r = np.concatenate([[0.0], recall])
    p = np.concatenate([[1.0], precision])
    return float(np.sum(np.diff(r) * (p[1:] + p[:-1]) / 2.0))


def _ap_mean(precision: np.ndarray, recall: np.ndarray) -> float:
    """A slip: the plain mean of the precisions at every threshold, unweighted by recall steps."""
    return float(np.mean(precision))


_AP_RULES = {"step": _ap_step, "trapezoid": _ap_trapezoid, "mean": _ap_mean}


def average_precision(y_true, scores, *, rule: str = "step") -> float:
    """``average_precision_score``: AP = Σ_n (R_n - R_{n-1}) P_n over the distinct scores from the
    highest down (R_0 = 0). Without tied scores it is the mean, over the positives, of the precision
    at each positive's rank. ``rule="trapezoid"`` (interpolating between points) and ``"mean"``
    (the mean precision over all thresholds) are the mistakes.
    e.g. labels 1, 0, 1, 0 by decreasing score: P = 1, 1/2, 2/3, 1/2 and R = 1/2, 1/2, 1, 1, so
    AP = 1/2 · 1 + 1/2 · 2/3 = 5/6.
    """
    area = choose(rule, "rule", _AP_RULES)
    curve = pr_curve(y_true, scores)
    return area(curve.precision, curve.recall)
