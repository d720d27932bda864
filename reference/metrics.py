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
Which classes (keyword ``labels``, as sklearn's): the default ``labels=None`` averages macro and
weighted over the classes that occur in y_true or y_pred, as sklearn's default does (sklearn's
``unique_labels``); ``average=None`` then returns all K = max label + 1 classes. ``labels=[...]``
scores exactly those classes in that order: ``None`` returns one value per listed label, micro
sums TP, FP, FN over the listed labels only, and macro averages over every listed label, so a
class absent from both y_true and y_pred adds a 0 to the mean (sklearn's ``labels=`` rule); weighted
weighs by support, where an absent class weighs 0. ``"binary"`` ignores ``labels`` (sklearn uses
``[pos_label]``).

Zero division: a ratio whose denominator is 0 is 0.0, for precision (nothing predicted as k),
recall (no true k) and F (TP = FP = FN = 0). That is the value sklearn's default
``zero_division="warn"`` returns; sklearn also warns, here nothing is printed.

Convention (keyword ``layout``): ``"true_rows"`` (sklearn) or ``"predicted_rows"``, the
transposed table that course note 002 prints (Table 7.1: rows "Predict value", columns "Real
value"), so the row/column mix-up can be computed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose, nonnegative, nonnegative_int, positive_int

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
    "topk_accuracy",
    "topk_error",
    "true_class_ranks",
]


class _Layout(NamedTuple):
    """A table convention: ``array`` turns a (K, K) array into the true-rows layout (or back),
    ``rows`` does the same to a list of K rows."""

    array: Callable[[np.ndarray], np.ndarray]
    rows: Callable[[list], list]


_LAYOUTS: dict[str, _Layout] = {
    "true_rows": _Layout(lambda m: m, lambda rows: rows),
    # its own inverse: converts either way
    "predicted_rows": _Layout(lambda m: m.T, lambda rows: [list(col) for col in zip(*rows, strict=True)]),
}

_EXACT_TOTAL = 2**53  # below this every count, sum and difference of counts is exact as a float64
_BETA2_MAX = 1e100  # below this no count formula overflows (so NumPy would not warn either)


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
    return orient.array(np.bincount(t * k + p, minlength=k * k).reshape(k, k))


def _confusion(cm, orient: _Layout) -> np.ndarray:
    """A user's confusion matrix, checked, in the true-rows layout."""
    m = np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 1:
        raise ValueError(f"cm: expected a square (K, K) matrix of counts, got shape {m.shape}")
    kind = m.dtype.kind
    if kind not in "biuf" or (kind == "f" and not np.isfinite(m).all()) or (m < 0).any():
        raise ValueError("cm: expected non-negative counts")
    if m.sum() == 0:
        raise ValueError("cm: expected at least one sample, got all zeros")
    return orient.array(m)


def _count_rows(cm, orient: _Layout) -> list | None:
    """The rows of Python ints of ``cm`` in the true-rows layout when it is a square list of lists
    of ints or a 2-D int64 array of non-negative counts with a total in [1, 2**53); else None (the
    array path then checks ``cm`` and computes, or raises its error)."""
    if type(cm) is np.ndarray:
        if cm.dtype != np.int64 or cm.ndim != 2:
            return None
        rows = cm.tolist()
    elif type(cm) is list:
        rows = cm
    else:
        return None
    k = len(rows)
    total = 0
    for row in rows:
        if type(row) is not list or len(row) != k:
            return None
        for v in row:
            if type(v) is not int or v < 0:
                return None
        total += sum(row)
    if not 0 < total < _EXACT_TOTAL:
        return None
    return orient.rows(rows)


def class_counts(cm, *, layout: str = "true_rows") -> ClassCounts:
    """TP, FP, FN and support per class from a confusion matrix (K, K)."""
    return _class_counts(cm, choose(layout, "layout", _LAYOUTS))


def _class_counts(cm, orient: _Layout) -> ClassCounts:
    m = _confusion(cm, orient)
    return _counts(m.diagonal().copy(), m.sum(axis=0), m.sum(axis=1))


def _counts(tp, predicted, support) -> ClassCounts:
    """Counts from TP, the number predicted (column sums) and the support (row sums): FP =
    predicted - TP, FN = support - TP; int arrays (per class) or Python ints (one class)."""
    return ClassCounts(tp, predicted - tp, support - tp, support)


def _row_counts(rows: list) -> ClassCounts:
    """Per-class counts (int64 arrays) of a table's rows of Python ints (from :func:`_count_rows`)."""
    tp = [row[k] for k, row in enumerate(rows)]
    sums = np.array(
        [tp, [sum(col) for col in zip(*rows, strict=True)], [sum(row) for row in rows]], dtype=np.int64
    )
    return _counts(*sums)


def _ratio(num, den):
    """num / den, and 0.0 where den == 0 (sklearn's zero_division default value); num and den
    of one shape."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.zeros(den.shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _score_terms(tp, fp, fn, beta2: float) -> tuple[tuple, tuple]:
    """Numerators and denominators of precision, recall and F_β from counts (int arrays or ints):
    TP / (TP + FP), TP / (TP + FN), (1 + β²) TP / ((1 + β²) TP + β² FN + FP)."""
    f_num = (1.0 + beta2) * tp
    return (tp, tp, f_num), (tp + fp, tp + fn, f_num + beta2 * fn + fp)


def _per_class(c: ClassCounts, beta2: float) -> np.ndarray:
    """Rows precision, recall, F_β: (3, K) from per-class counts, (3,) from summed counts."""
    num, den = _score_terms(c.tp, c.fp, c.fn, beta2)
    # one division for the three ratios (each element is divided on its own)
    return _ratio(np.array(num, dtype=np.float64), np.array(den, dtype=np.float64))


def _scalar_scores(counts: ClassCounts, beta2: float) -> Scores:
    """Scores from one class's (or the summed) Python int counts (tp, fp, fn, support) below
    2**53, as floats: the same terms as :func:`_per_class`, each divided as a float64, and 0.0
    where the denominator is 0."""
    tp, fp, fn, support = counts
    (n_p, n_r, n_f), (d_p, d_r, d_f) = _score_terms(tp, fp, fn, beta2)
    return Scores(_ratio_or_zero(n_p, d_p), _ratio_or_zero(n_r, d_r), _ratio_or_zero(n_f, d_f), support)


def _ratio_or_zero(num, den) -> float:
    """float(num) / float(den), or 0.0 if den == 0 (:func:`_ratio` on one pair of scalars)."""
    return float(num) / float(den) if den != 0 else 0.0


def _no_average(c, beta2, pos_label):
    return Scores(*_per_class(c, beta2), c.support.copy())


def _binary_counts(rows: list, pos_label: int) -> ClassCounts | None:
    """Python int counts of class ``pos_label`` from a 2-class table's rows, else None."""
    if len(rows) != 2 or pos_label >= 2:
        return None  # the array path raises the error
    return _counts(rows[pos_label][pos_label], rows[0][pos_label] + rows[1][pos_label], sum(rows[pos_label]))


def _micro_counts(rows: list, pos_label: int) -> ClassCounts:
    """Python int counts summed over classes: TP is the trace, predicted and support the total."""
    total = sum(sum(row) for row in rows)
    return _counts(sum(row[k] for k, row in enumerate(rows)), total, total)


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


def _present(c: ClassCounts):
    """Whether a class occurs in y_true or y_pred: TP + FP + FN > 0 (per class, or for one class)."""
    return (c.tp + c.fp + c.fn) > 0


def _weighted_mean(c, beta2, weights):
    return _mean_over_classes(_per_class(c, beta2), np.where(_present(c), weights, 0.0))


def _mean_over_classes(per_class: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Σ_k w_k score_k / Σ_k w_k for each row (precision, recall, F_β) of ``per_class`` (3, K)."""
    weighted = (per_class * w).sum(axis=1)  # each row summed as its own 1-D sum
    total = float(w.sum())
    return tuple(_ratio_or_zero(v, total) for v in weighted.tolist())


def _macro(c, beta2, pos_label):
    return Scores(*_weighted_mean(c, beta2, np.ones(c.tp.size)), int(c.support.sum()))


def _weighted(c, beta2, pos_label):
    return Scores(*_weighted_mean(c, beta2, c.support.astype(np.float64)), int(c.support.sum()))


# The same averages from a small int table's rows (:func:`_count_rows`) in Python ints and floats;
# None where the array rule raises an error.


def _binary_scalar(rows: list, beta2: float, pos_label: int) -> Scores | None:
    counts = _binary_counts(rows, pos_label)
    return None if counts is None else _scalar_scores(counts, beta2)


def _micro_scalar(rows: list, beta2: float, pos_label: int) -> Scores:
    return _scalar_scores(_micro_counts(rows, pos_label), beta2)


def _rows_class_counts(rows: list) -> list[ClassCounts]:
    """Each class's Python int counts."""
    predicted = [sum(col) for col in zip(*rows, strict=True)]
    return [_counts(row[k], predicted[k], sum(row)) for k, row in enumerate(rows)]


def _scalar_weighted_mean(counts: list[ClassCounts], beta2: float, weights: list[float]) -> tuple:
    """:func:`_weighted_mean` with each class scored in floats by :func:`_scalar_scores` (the
    array path's per-class values) and only the weighted sums in NumPy."""
    scores = [_scalar_scores(c, beta2) for c in counts]
    per_class = np.array(
        [[s.precision for s in scores], [s.recall for s in scores], [s.fbeta for s in scores]]
    )
    w = np.array([wk if _present(c) else 0.0 for c, wk in zip(counts, weights, strict=True)])
    return _mean_over_classes(per_class, w)


def _macro_scalar(rows: list, beta2: float, pos_label: int) -> Scores:
    counts = _rows_class_counts(rows)
    return Scores(*_scalar_weighted_mean(counts, beta2, [1.0] * len(counts)), sum(c.support for c in counts))


def _weighted_scalar(rows: list, beta2: float, pos_label: int) -> Scores:
    counts = _rows_class_counts(rows)
    weights = [float(c.support) for c in counts]
    return Scores(*_scalar_weighted_mean(counts, beta2, weights), sum(c.support for c in counts))


class _Average(NamedTuple):
    """``rule(counts, beta2, pos_label)`` scores the per-class count arrays; ``scalar(rows,
    beta2, pos_label)``, where set, gives the same Scores from a small int table's rows in Python
    scalars (None when the rule would raise)."""

    rule: Callable[[ClassCounts, float, int], Scores]
    scalar: Callable[[list, float, int], Scores | None] | None = None


_AVERAGES = {
    None: _Average(_no_average),
    "binary": _Average(_binary, _binary_scalar),
    "micro": _Average(_micro, _micro_scalar),
    "macro": _Average(_macro, _macro_scalar),
    "weighted": _Average(_weighted, _weighted_scalar),
}


def _select(c: ClassCounts, idx: np.ndarray) -> ClassCounts:
    """The counts of the listed classes only, in the listed order."""
    return ClassCounts(*(v[idx] for v in c))


def _macro_over_all(c, beta2, pos_label):
    """Unweighted mean over every class of ``c``, absent ones' zeros included (sklearn's
    ``labels=`` macro)."""
    return Scores(*_mean_over_classes(_per_class(c, beta2), np.ones(c.tp.size)), int(c.support.sum()))


# average -> rule(all classes' counts, listed label indices, beta2, pos_label), when labels= is given
_LABELLED_AVERAGES: dict[str | None, Callable[[ClassCounts, np.ndarray, float, int], Scores]] = {
    None: lambda c, idx, beta2, pos: _no_average(_select(c, idx), beta2, pos),
    "binary": lambda c, idx, beta2, pos: _binary(c, beta2, pos),  # sklearn: labels = [pos_label]
    "micro": lambda c, idx, beta2, pos: _micro(_select(c, idx), beta2, pos),
    "macro": lambda c, idx, beta2, pos: _macro_over_all(_select(c, idx), beta2, pos),
    "weighted": lambda c, idx, beta2, pos: _weighted(_select(c, idx), beta2, pos),
}


def _label_indices(labels, k: int) -> np.ndarray:
    """``labels`` checked as distinct class indices in [0, K), an int array in the given order."""
    if isinstance(labels, (str, bytes)) or np.ndim(labels) != 1 or len(labels) == 0:
        raise ValueError(f"labels: expected a non-empty list of class labels, got {labels!r}")
    idx = np.array([nonnegative_int(v, "labels") for v in labels], dtype=np.int64)
    if len(set(idx.tolist())) != idx.size:
        raise ValueError(f"labels: expected distinct class labels, got {list(labels)!r}")
    if idx.max() >= k:
        raise ValueError(
            f"labels: {int(idx.max())} is not a class of the {k}×{k} confusion matrix (classes 0..{k - 1})"
        )
    return idx


def scores_from_confusion(
    cm,
    *,
    beta: float = 1.0,
    average: str | None = "macro",
    pos_label: int = 1,
    layout: str = "true_rows",
    labels=None,
) -> Scores:
    """Precision, recall, F_β and support from a confusion matrix (K, K), under ``average``
    (see the module docstring; sklearn's ``precision_recall_fscore_support``). ``labels``: None
    (classes present), or a list of class indices < K to score, absent ones included in a macro
    mean: e.g. per-class F (2/3, 0.8) and labels [0, 1, 2] give macro F (2/3 + 0.8 + 0)/3."""
    beta = nonnegative(beta, "beta")
    pos_label = nonnegative_int(pos_label, "pos_label")
    rule = choose(average, "average", _AVERAGES)
    orient = choose(layout, "layout", _LAYOUTS)
    beta2 = beta * beta
    if labels is not None:
        counts = _class_counts(cm, orient)
        idx = _label_indices(labels, counts.tp.size)
        return _LABELLED_AVERAGES[average](counts, idx, beta2, pos_label)
    rows = _count_rows(cm, orient)
    if rows is None:
        return rule.rule(_class_counts(cm, orient), beta2, pos_label)
    if rule.scalar is not None and beta2 < _BETA2_MAX:
        scores = rule.scalar(rows, beta2, pos_label)  # Python scalars, few or no arrays
        if scores is not None:
            return scores
    return rule.rule(_row_counts(rows), beta2, pos_label)


def accuracy_from_confusion(cm, *, layout: str = "true_rows", balanced: bool = False) -> float:
    """Accuracy = trace(C) / ΣC, the fraction of correct predictions; C is (K, K).

    ``balanced=True`` is scikit-learn's ``balanced_accuracy_score`` instead, the mean per-class
    recall (1/K') Σ_k C_kk / Σ_p C_kp over the K' classes present (true rows), which a bank uses
    as the mistake of averaging per-class accuracies.
    """
    orient = choose(layout, "layout", _LAYOUTS)
    if balanced:
        m = _confusion(cm, orient).astype(np.float64)
        support = m.sum(axis=1)
        present = support > 0
        return float((np.diag(m)[present] / support[present]).mean())
    rows = _count_rows(cm, orient)
    if rows is not None:
        counts = _micro_counts(rows, 0)
        return float(counts.tp) / float(counts.support)
    m = _confusion(cm, orient)
    return float(np.trace(m) / m.sum())


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples with y_pred == y_true (``accuracy_score``); y_true, y_pred (n,)."""
    return accuracy_from_confusion(confusion_matrix(y_true, y_pred))


def _scores(y_true, y_pred, beta, average, pos_label, num_classes, labels=None) -> Scores:
    cm = confusion_matrix(y_true, y_pred, num_classes)
    if labels is not None and num_classes is None:
        # a listed label above every label in the data is a class with no samples: zero rows
        top = max((v for v in np.ravel(labels).tolist() if isinstance(v, int)), default=0)
        if top >= cm.shape[0]:
            cm = np.pad(cm, ((0, top + 1 - cm.shape[0]), (0, top + 1 - cm.shape[0])))
    return scores_from_confusion(cm, beta=beta, average=average, pos_label=pos_label, labels=labels)


def precision(
    y_true,
    y_pred,
    *,
    average: str | None = "binary",
    pos_label: int = 1,
    num_classes: int | None = None,
    labels=None,
) -> float | np.ndarray:
    """Precision TP / (TP + FP) (``precision_score``); y_true, y_pred (n,) integer labels.
    ``labels``: the classes to score (default None: those present; see the module docstring)."""
    return _scores(y_true, y_pred, 1.0, average, pos_label, num_classes, labels).precision


def recall(
    y_true,
    y_pred,
    *,
    average: str | None = "binary",
    pos_label: int = 1,
    num_classes: int | None = None,
    labels=None,
) -> float | np.ndarray:
    """Recall TP / (TP + FN) (``recall_score``); y_true, y_pred (n,) integer labels.
    ``labels``: the classes to score (default None: those present; see the module docstring)."""
    return _scores(y_true, y_pred, 1.0, average, pos_label, num_classes, labels).recall


def fbeta(
    y_true,
    y_pred,
    *,
    beta: float = 1.0,
    average: str | None = "binary",
    pos_label: int = 1,
    num_classes: int | None = None,
    labels=None,
) -> float | np.ndarray:
    """F_β = (1 + β²) P R / (β² P + R) (``fbeta_score``); β > 1 weighs recall more.
    ``labels``: the classes to score (default None: those present; see the module docstring)."""
    return _scores(y_true, y_pred, beta, average, pos_label, num_classes, labels).fbeta


def f1(
    y_true,
    y_pred,
    *,
    average: str | None = "binary",
    pos_label: int = 1,
    num_classes: int | None = None,
    labels=None,
) -> float | np.ndarray:
    """F_1 = 2 P R / (P + R) (``f1_score``): :func:`fbeta` with β = 1."""
    return fbeta(
        y_true, y_pred, beta=1.0, average=average, pos_label=pos_label, num_classes=num_classes, labels=labels
    )


def true_class_ranks(scores, target) -> np.ndarray:
    """For each sample, how many classes score strictly higher than its true class: (N,) ints, 0 for
    a top-1 hit; ``scores`` (N, C), ``target`` (N,) labels."""
    x = as_float_array(scores, "scores", ndim=2)
    y = _labels(target, "target")
    if y.shape != (x.shape[0],):
        raise ValueError(f"target: expected {x.shape[0]} labels (one per row of scores), got shape {y.shape}")
    if y.size and y.max() >= x.shape[1]:
        raise ValueError(f"target: label {int(y.max())} is not a class of the {x.shape[1]} score columns")
    true_score = x[np.arange(x.shape[0]), y]
    return (x > true_score[:, None]).sum(axis=1)


def topk_accuracy(scores, target, *, k: int = 1) -> float:
    """Top-k accuracy: the fraction of samples whose true class is among the k highest scores.

    ``scores`` (N, C) (logits or probabilities: the order is the same), ``target`` (N,) labels.
    A sample counts when fewer than k classes score strictly higher than its true class (a tie at
    the k-th place counts in its favour; ``torch.topk`` would break it arbitrarily).
    """
    k = positive_int(k, "k")
    return float(np.mean(true_class_ranks(scores, target) < k))


def topk_error(scores, target, *, k: int = 1) -> float:
    """Top-k error rate = 1 - :func:`topk_accuracy` (ImageNet's "top-5 error"); shapes as there."""
    return 1.0 - topk_accuracy(scores, target, k=k)
