"""Classification metrics with scikit-learn's semantics (``sklearn.metrics``).

Labels are integers 0..K-1 and index the confusion matrix, whose rows are TRUE classes and columns
PREDICTED classes: C[t, p] counts samples of class t predicted as p. Per class k:

    TP = C[k, k],  FP = Σ_t C[t, k] - TP,  FN = Σ_p C[k, p] - TP,  support = Σ_p C[k, p],
    precision = TP / (TP + FP),  recall = TP / (TP + FN),
    F_β = (1 + β²) TP / ((1 + β²) TP + β² FN + FP)  (= (1 + β²) P R / (β² P + R) when defined).

Averages (keyword ``average``): ``"binary"`` — the class ``pos_label`` of a 2-class problem;
``"micro"`` — the formulas on TP, FP, FN summed over classes (for single-label multiclass data,
micro precision = recall = F = accuracy); ``"macro"`` — unweighted mean of the per-class values;
``"weighted"`` — mean weighted by support; ``None`` — the per-class arrays (length K).
Macro and weighted averages run over the classes that occur in y_true or y_pred, as sklearn's
default ``labels=None`` (sklearn with ``labels=range(K)`` would also average in absent classes'
zeros).

Zero division: a ratio whose denominator is 0 is 0.0. That is the value sklearn's default
``zero_division="warn"`` returns; sklearn also warns, here nothing is printed.

Convention (keyword ``layout``): ``"true_rows"`` (sklearn) or ``"predicted_rows"``, the
transposed table that course note 002 prints (Table 7.1: rows "Predict value", columns "Real
value"), so the row/column mix-up can be computed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._checks import choose, nonnegative, nonnegative_int, positive_int

__all__ = [
    "ClassCounts",
    "Scores",
    "accuracy",
    "accuracy_from_confusion",
    "class_counts",
    "confusion_matrix",
    "f1",
    "fbeta",
    "precision",
    "recall",
    "scores_from_confusion",
]

_LAYOUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "true_rows": lambda m: m,
    "predicted_rows": lambda m: m.T,  # its own inverse: converts either way
}


class ClassCounts(NamedTuple):
    """Per-class counts, each an int array of length K."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    support: np.ndarray


class Scores(NamedTuple):
    """precision, recall, fbeta: floats, or arrays (K,) for ``average=None``; support: the
    per-class array for ``None``, the positive class's count for ``"binary"``, else the total."""

    precision: float | np.ndarray
    recall: float | np.ndarray
    fbeta: float | np.ndarray
    support: int | np.ndarray


def _labels(y, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D sequence of class labels, got shape {arr.shape}")
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biu":
        raise ValueError(f"{name}: expected integer class labels, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    low = arr.min()
    if low < 0:
        raise ValueError(f"{name}: expected class labels >= 0, got {low}")
    return arr


def confusion_matrix(
    y_true, y_pred, num_classes: int | None = None, *, layout: str = "true_rows"
) -> np.ndarray:
    """Confusion matrix (K, K) of int counts, C[t, p] = #{i : y_true[i] = t, y_pred[i] = p}
    (``"predicted_rows"``: its transpose). K = ``num_classes``, or max label + 1 but at least 2."""
    orient = choose(layout, "layout", _LAYOUTS)
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_pred: expected {t.size} labels like y_true, got {p.size}")
    top = max(int(t.max()), int(p.max()))
    if num_classes is None:
        k = max(top + 1, 2)
    else:
        k = positive_int(num_classes, "num_classes")
        if top >= k:
            raise ValueError(f"num_classes: expected more than the largest label {top}, got {k}")
    return orient(np.bincount(t * k + p, minlength=k * k).reshape(k, k))


def _confusion(cm, layout: str) -> np.ndarray:
    """A user's confusion matrix, checked, in the true-rows layout."""
    orient = choose(layout, "layout", _LAYOUTS)
    m = np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 1:
        raise ValueError(f"cm: expected a square (K, K) matrix of counts, got shape {m.shape}")
    kind = m.dtype.kind
    if kind not in "biuf" or (kind == "f" and not np.isfinite(m).all()) or (m < 0).any():
        raise ValueError("cm: expected non-negative counts")
    if m.sum() == 0:
        raise ValueError("cm: expected at least one sample, got all zeros")
    return orient(m)


def class_counts(cm, *, layout: str = "true_rows") -> ClassCounts:
    """TP, FP, FN and support per class from a confusion matrix (K, K)."""
    m = _confusion(cm, layout)
    tp = m.diagonal().copy()
    support = m.sum(axis=1)
    return ClassCounts(tp, m.sum(axis=0) - tp, support - tp, support)


def _ratio(num, den):
    """num / den, and 0.0 where den == 0 (sklearn's zero_division default value); num and den
    of one shape."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.zeros(den.shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _per_class(c: ClassCounts, beta2: float) -> np.ndarray:
    """Rows precision, recall, F_β: (3, K) from per-class counts, (3,) from summed counts."""
    f_num = (1.0 + beta2) * c.tp
    # one division for the three ratios (each element is divided on its own)
    num = np.array([c.tp, c.tp, f_num], dtype=np.float64)
    den = np.array([c.tp + c.fp, c.tp + c.fn, f_num + beta2 * c.fn + c.fp], dtype=np.float64)
    return _ratio(num, den)


def _no_average(c, beta2, pos_label):
    return Scores(*_per_class(c, beta2), c.support.copy())


def _binary(c, beta2, pos_label):
    if c.tp.size != 2:
        raise ValueError(
            f"average: 'binary' needs 2 classes, got {c.tp.size}; use 'micro', 'macro', 'weighted' or None"
        )
    if pos_label >= 2:
        raise ValueError(f"pos_label: expected 0 or 1 for a binary problem, got {pos_label}")
    p, r, f = _per_class(c, beta2)
    return Scores(float(p[pos_label]), float(r[pos_label]), float(f[pos_label]), int(c.support[pos_label]))


def _micro(c, beta2, pos_label):
    total = ClassCounts(*(v.sum() for v in c))
    p, r, f = _per_class(total, beta2)
    return Scores(float(p), float(r), float(f), int(total.support))


def _weighted_mean(c, beta2, weights):
    present = (c.tp + c.fp + c.fn) > 0  # the class occurs in y_true or y_pred
    w = np.where(present, weights, 0.0)
    weighted = np.array([(v * w).sum() for v in _per_class(c, beta2)])
    return tuple(_ratio(weighted, np.full(3, w.sum())).tolist())


def _macro(c, beta2, pos_label):
    return Scores(*_weighted_mean(c, beta2, np.ones(c.tp.size)), int(c.support.sum()))


def _weighted(c, beta2, pos_label):
    return Scores(*_weighted_mean(c, beta2, c.support.astype(np.float64)), int(c.support.sum()))


_AVERAGES = {None: _no_average, "binary": _binary, "micro": _micro, "macro": _macro, "weighted": _weighted}


def scores_from_confusion(
    cm, *, beta: float = 1.0, average: str | None = "macro", pos_label: int = 1, layout: str = "true_rows"
) -> Scores:
    """Precision, recall, F_β and support from a confusion matrix (K, K), under ``average``
    (see the module docstring; sklearn's ``precision_recall_fscore_support``)."""
    beta = nonnegative(beta, "beta")
    pos_label = nonnegative_int(pos_label, "pos_label")
    rule = choose(average, "average", _AVERAGES)
    return rule(class_counts(cm, layout=layout), beta * beta, pos_label)


def accuracy_from_confusion(cm, *, layout: str = "true_rows") -> float:
    """Accuracy = trace(C) / ΣC, the fraction of correct predictions."""
    m = _confusion(cm, layout)
    return float(np.trace(m) / m.sum())


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples with y_pred == y_true (``accuracy_score``); y_true, y_pred (n,)."""
    return accuracy_from_confusion(confusion_matrix(y_true, y_pred))


def _scores(y_true, y_pred, beta, average, pos_label, num_classes) -> Scores:
    cm = confusion_matrix(y_true, y_pred, num_classes)
    return scores_from_confusion(cm, beta=beta, average=average, pos_label=pos_label)


def precision(
    y_true, y_pred, *, average: str | None = "binary", pos_label: int = 1, num_classes: int | None = None
) -> float | np.ndarray:
    """Precision TP / (TP + FP) (``precision_score``); y_true, y_pred (n,) integer labels."""
    return _scores(y_true, y_pred, 1.0, average, pos_label, num_classes).precision


def recall(
    y_true, y_pred, *, average: str | None = "binary", pos_label: int = 1, num_classes: int | None = None
) -> float | np.ndarray:
    """Recall TP / (TP + FN) (``recall_score``); y_true, y_pred (n,) integer labels."""
    return _scores(y_true, y_pred, 1.0, average, pos_label, num_classes).recall


def fbeta(
    y_true,
    y_pred,
    *,
    beta: float = 1.0,
    average: str | None = "binary",
    pos_label: int = 1,
    num_classes: int | None = None,
) -> float | np.ndarray:
    """F_β = (1 + β²) P R / (β² P + R) (``fbeta_score``); β > 1 weighs recall more."""
    return _scores(y_true, y_pred, beta, average, pos_label, num_classes).fbeta


def f1(
    y_true, y_pred, *, average: str | None = "binary", pos_label: int = 1, num_classes: int | None = None
) -> float | np.ndarray:
    """F_1 = 2 P R / (P + R) (``f1_score``): :func:`fbeta` with β = 1."""
    return fbeta(y_true, y_pred, beta=1.0, average=average, pos_label=pos_label, num_classes=num_classes)
