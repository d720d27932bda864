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

__all__ = ["Rates", "RocCurve", "rates_at", "roc_auc", "roc_curve", "roc_point"]


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
