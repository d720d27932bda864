"""Loss functions with torch.nn.functional's semantics; each returns ``LossResult(loss, grad)``.

``grad`` is d loss / d input with the input's shape (the first argument: predictions,
probabilities, logits or log-probabilities). With ``reduction="none"`` the loss is the unreduced
array and ``grad`` is the gradient of its sum, i.e. the backward pass for an upstream gradient of
ones.

Reductions, by exact name (``REDUCTIONS``): "mean" divides the summed loss by the number of
elements (by Σ w_{y_i} for class-weighted indices targets, as PyTorch), "sum" adds, "none" keeps.

The notes' conventions that differ from PyTorch are separate functions or arguments, so a bank
can compute the mistake with the same code: the notes' E = Σ ½(t - o)² is
:func:`half_squared_error` (PyTorch's MSE is mean (p - t)² without the ½); forgetting the label
smoothing is ``label_smoothing=0.0``; "mean versus sum" is ``reduction``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_shape, choose, probability
from .activations import _positive, log_softmax, log_softmax_backward, sigmoid, softplus

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy_probs",
    "half_squared_error",
    "huber",
    "kl_div",
    "mae",
    "mse",
    "nll_loss",
    "softmax_cross_entropy",
]

_ONE = np.float64(1.0)
_LOG_CLAMP = -100.0  # PyTorch's BCELoss clamps each log at -100
# PyTorch's BCELoss backward divides by max(p(1 - p), EPSILON) with ``constexpr float EPSILON =
# 1e-12`` (aten/src/ATen/native/Loss.cpp): the float32 nearest 1e-12, 9.99999996e-13, whatever the
# tensor's dtype (a float64 tensor gets that float widened, not 1e-12).
_BCE_EPS = float(np.float32(1e-12))
# d loss / d input is divided by the element count for "mean" (grad_input.div_(numel)), not
# multiplied by its reciprocal: the divisor per reduction.
_BCE_GRAD_DIVISORS: Mapping[str, Callable[[int], float]] = MappingProxyType(
    {"mean": float, "sum": lambda n: 1.0, "none": lambda n: 1.0}
)


class LossResult(NamedTuple):
    """``loss``: a float ("mean", "sum") or the unreduced array ("none"); ``grad``: d loss / d input."""

    loss: float | np.ndarray
    grad: np.ndarray


# --- reductions -------------------------------------------------------------------------------


def _reduce_mean(values: np.ndarray, denominator: float) -> tuple[float, float]:
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 is NaN, as PyTorch's empty mean
        return float(values.sum() / np.float64(denominator)), float(1.0 / np.float64(denominator))


def _reduce_sum(values: np.ndarray, denominator: float) -> tuple[float, float]:
    return float(values.sum()), 1.0


def _reduce_none(values: np.ndarray, denominator: float) -> tuple[np.ndarray, float]:
    return values, 1.0


REDUCTIONS: Mapping[str, Callable[[np.ndarray, float], tuple]] = MappingProxyType(
    {"mean": _reduce_mean, "sum": _reduce_sum, "none": _reduce_none}
)
"""name -> reduce(values, denominator) -> (loss, d loss / d value)."""


def _reduced(values: np.ndarray, local_grad: np.ndarray, reduction: str, denominator=None) -> LossResult:
    """Reduce the unreduced ``values``; ``local_grad`` is d value / d input (same shape as input)."""
    reduce = choose(reduction, "reduction", REDUCTIONS)
    loss, scale = reduce(values, values.size if denominator is None else denominator)
    if not np.isfinite(scale):
        # a mean over nothing (every target ignored, or weights summing to 0): PyTorch's loss is
        # NaN (0/0) but its backward writes only the entries that count, so the gradient is 0 there
        with np.errstate(invalid="ignore"):
            return LossResult(loss, np.where(local_grad == 0, 0.0, local_grad * scale))
    return LossResult(loss, local_grad * scale)


# --- argument helpers -------------------------------------------------------------------------


def _input_and_target(inp, target, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(inp, name)
    t = as_float_array(target, "target")
    check_shape(t, "target", x.shape)
    return x, t


def _broadcast(value, shape: tuple, name: str) -> np.ndarray:
    """``value`` (default 1) broadcast to ``shape``, or ValueError naming ``name``."""
    if value is None:
        return _ONE  # broadcasts like np.broadcast_to(1.0, shape), without that call's cost
    arr = as_float_array(value, name)
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(
            f"{name}: expected an array broadcastable to shape {shape}, got {arr.shape}"
        ) from None


def _in_unit_interval(arr: np.ndarray, name: str) -> None:
    if not ((arr >= 0.0) & (arr <= 1.0)).all():
        raise ValueError(f"{name}: expected every entry in [0, 1]")


# --- regression losses ------------------------------------------------------------------------


def _squared_error(pred, target) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise (p - t)² and its derivative 2(p - t)."""
    p, t = _input_and_target(pred, target, "pred")
    d = p - t
    return d * d, 2.0 * d


def mse(pred, target, *, reduction: str = "mean") -> LossResult:
    """F.mse_loss: ℓ = (p - t)² elementwise, reduced; grad 2(p - t) (/ numel for "mean").

    ``pred`` and ``target`` have one shape (any).
    """
    values, local = _squared_error(pred, target)
    return _reduced(values, local, reduction)


def half_squared_error(pred, target, *, reduction: str = "sum") -> LossResult:
    """The notes' E = Σ ½(t - o)² (default "sum", as E_total); grad (o - t). Half of :func:`mse`'s terms."""
    values, local = _squared_error(pred, target)
    return _reduced(0.5 * values, 0.5 * local, reduction)


def mae(pred, target, *, reduction: str = "mean") -> LossResult:
    """F.l1_loss: ℓ = |p - t| elementwise, reduced; grad sign(p - t) with sign(0) = 0 (as PyTorch)."""
    p, t = _input_and_target(pred, target, "pred")
    d = p - t
    return _reduced(np.abs(d), np.sign(d), reduction)


def huber(pred, target, *, reduction: str = "mean", delta: float = 1.0) -> LossResult:
    """F.huber_loss: ℓ = ½d² if |d| < δ else δ(|d| - ½δ), d = p - t; grad clip(d, -δ, δ)."""
    p, t = _input_and_target(pred, target, "pred")
    delta = _positive(delta, "delta")
    d = p - t
    a = np.abs(d)
    values = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduced(values, np.clip(d, -delta, delta), reduction)


# --- binary cross-entropy ---------------------------------------------------------------------


def binary_cross_entropy(probs, target, *, reduction: str = "mean", weight=None) -> LossResult:
    """F.binary_cross_entropy: ℓ = -w [t max(log p, -100) + (1 - t) max(log(1 - p), -100)].

    ``probs`` and ``target`` have one shape with entries in [0, 1]; ``weight`` broadcasts to it.
    grad = w (p - t) / max(p(1 - p), ε) (/ n for "mean"), PyTorch's backward, with
    ε = float32(1e-12) = 9.99999996e-13 as PyTorch's ``constexpr float EPSILON``; so at p = 0,
    t = 1 the gradient is -1/ε = -1.00000000e12 · (1 + 4.0e-9), not -1e12. Both are evaluated
    in PyTorch's order (loss (t - 1) max(log1p(-p), -100) - t max(log p, -100), then · w;
    gradient (p - t) / max(·), then · w, then / n), so they match a float64 PyTorch to the last bit.
    """
    p, t = _input_and_target(probs, target, "probs")
    _in_unit_interval(p, "probs")
    _in_unit_interval(t, "target")
    w = None if weight is None else _broadcast(weight, p.shape, "weight")
    reduce = choose(reduction, "reduction", REDUCTIONS)
    with np.errstate(divide="ignore"):  # log 0 = -inf, then clamped
        log_p = np.maximum(np.log(p), _LOG_CLAMP)
        log_q = np.maximum(np.log1p(-p), _LOG_CLAMP)
    values = (t - 1.0) * log_q - t * log_p
    grad = (p - t) / np.maximum((1.0 - p) * p, _BCE_EPS)
    if w is not None:
        values = values * w
        grad = grad * w
    loss, _ = reduce(values, values.size)
    return LossResult(loss, grad / _BCE_GRAD_DIVISORS[reduction](p.size))


def binary_cross_entropy_with_logits(
    logits, target, *, reduction: str = "mean", weight=None, pos_weight=None
) -> LossResult:
    """F.binary_cross_entropy_with_logits: ℓ = w [(1 - t) x + (1 + (c - 1) t) softplus(-x)], c = pos_weight.

    That is -w [c t log σ(x) + (1 - t) log(1 - σ(x))], with softplus(-x) = -log σ(x) evaluated
    stably. grad = w [(1 + (c - 1) t) σ(x) - c t], which is σ(x) - t without weights.
    ``logits`` and ``target`` have one shape; ``weight`` and ``pos_weight`` broadcast to it.
    """
    x, t = _input_and_target(logits, target, "logits")
    w = _broadcast(weight, x.shape, "weight")
    c = _broadcast(pos_weight, x.shape, "pos_weight")
    log_weight = 1.0 + (c - 1.0) * t
    values = w * ((1.0 - t) * x + log_weight * softplus(-x, threshold=np.inf))
    local = w * (log_weight * sigmoid(x) - c * t)
    return _reduced(values, local, reduction)


# --- categorical cross-entropy ----------------------------------------------------------------


class _Targets(NamedTuple):
    """A target as weights on log-probabilities: loss_i = -Σ_c q_ic log p_ic; "mean" divides by
    ``denominator``."""

    q: np.ndarray
    denominator: float


def _class_axis(x: np.ndarray, name: str) -> int:
    """PyTorch's class dimension: 0 for a (C,) input, 1 for (N, C, d1, ...)."""
    if x.ndim == 0:
        raise ValueError(f"{name}: expected shape (C,) or (N, C, ...), got a scalar")
    return 0 if x.ndim == 1 else 1


def _class_weight(weight, shape: tuple, axis: int) -> np.ndarray:
    """Per-class ``weight`` (C,) (default 1), shaped to broadcast along the class axis."""
    n_classes = shape[axis]
    if weight is None:
        w = np.ones(n_classes)
    else:
        w = as_float_array(weight, "weight")
        check_shape(w, "weight", (n_classes,))
    return w.reshape((n_classes,) + (1,) * (len(shape) - 1 - axis))


def _smoothed(t: np.ndarray, label_smoothing: float, n_classes: int) -> np.ndarray:
    """PyTorch's label smoothing: (1 - ε) t + ε / C."""
    return (1.0 - label_smoothing) * t + label_smoothing / n_classes


def _class_indices(target, shape: tuple, axis: int, ignore_index) -> tuple[np.ndarray, np.ndarray]:
    """Class indices of ``shape`` without the class axis, and the mask of entries not ignored
    (None when no entry is ignored)."""
    t = np.asarray(target)
    expected = shape[:axis] + shape[axis + 1 :]
    if t.shape != expected:
        raise ValueError(
            f"target: expected class indices of shape {expected} or class probabilities of shape "
            f"{shape}, got shape {t.shape}"
        )
    if t.dtype.kind == "f" and np.isfinite(t).all() and (t == np.round(t)).all():
        t = t.astype(np.int64)
    if t.dtype.kind not in "iu":
        raise ValueError(f"target: expected integer class indices, got {t.dtype} values")
    keep = None if ignore_index is None else t != ignore_index
    if keep is not None and keep.all():
        keep = None  # nothing ignored
    n_classes = shape[axis]
    bad = (t < 0) | (t >= n_classes)
    if keep is not None:
        bad &= keep
    if bad.any():
        ignored = "" if ignore_index is None else f" (or ignore_index={ignore_index})"
        raise ValueError(f"target: expected class indices in [0, {n_classes}){ignored}, got {t[bad][0]}")
    return (t, None) if keep is None else (np.where(keep, t, 0), keep)


def _sum_of_weights(w: np.ndarray, onehot: np.ndarray, kept) -> float:
    """PyTorch: a class-weighted "mean" divides by Σ_i w_{y_i} over the entries not ignored."""
    return float((w * onehot * kept).sum())


def _count_of_targets(w: np.ndarray, onehot: np.ndarray, kept) -> float:
    """A common slip: dividing the weighted sum by the number of targets not ignored."""
    return float((onehot * kept).sum())


WEIGHTED_MEANS: Mapping[str, Callable[[np.ndarray, np.ndarray, object], float]] = MappingProxyType(
    {"weights": _sum_of_weights, "count": _count_of_targets}
)
"""How "mean" divides class-weighted index targets: by Σ w_{y_i} (PyTorch) or by the count."""


def _index_targets(
    target, shape, axis, weight, label_smoothing, ignore_index, weighted_mean: str = "weights"
) -> _Targets:
    """Indices y: q = w ⊙ ((1 - ε) onehot(y) + ε/C), zero for ignored entries; mean over Σ w_{y_i}
    (``weighted_mean="weights"``) or over the number of entries not ignored (``"count"``)."""
    denominator_of = choose(weighted_mean, "weighted_mean", WEIGHTED_MEANS)
    idx, keep = _class_indices(target, shape, axis, ignore_index)
    n_classes = shape[axis]
    onehot = np.eye(n_classes)[idx]  # classes last; moved to the class axis if that is not last
    if axis != onehot.ndim - 1:
        onehot = np.moveaxis(onehot, -1, axis)
    smoothed = _smoothed(onehot, label_smoothing, n_classes)
    if weight is None and keep is None:  # w = 1 and nothing ignored: the products below are by 1
        return _Targets(smoothed, float(onehot.sum()))
    w = _class_weight(weight, shape, axis)
    # keep with a size-1 class axis; True (a factor 1 of the same broadcast) when nothing is ignored
    kept = True if keep is None else keep.reshape((*shape[:axis], 1, *shape[axis + 1 :]))
    q = w * smoothed * kept
    return _Targets(q, denominator_of(w, onehot, kept))


def _probability_targets(target, shape, axis, weight, label_smoothing) -> _Targets:
    """Class probabilities t: q = w ⊙ ((1 - ε) t + ε/C); mean over the number of samples."""
    t = as_float_array(target, "target")
    n_classes = shape[axis]
    q = _class_weight(weight, shape, axis) * _smoothed(t, label_smoothing, n_classes)
    return _Targets(q, t.size / n_classes)


def _targets(target, shape, axis, weight, label_smoothing, ignore_index, weighted_mean="weights") -> _Targets:
    """PyTorch's rule: a target of the input's shape holds class probabilities, else class indices."""
    if np.shape(target) == shape:
        return _probability_targets(target, shape, axis, weight, label_smoothing)
    return _index_targets(target, shape, axis, weight, label_smoothing, ignore_index, weighted_mean)


def _nll(log_probs: np.ndarray, targets: _Targets, axis: int, reduction: str) -> LossResult:
    """loss_i = -Σ_c q_ic log p_ic (a zero q_ic contributes 0 even where log p = -inf); grad -q."""
    q = targets.q
    terms = np.multiply(q, log_probs, out=np.zeros_like(log_probs), where=q != 0)
    return _reduced(-terms.sum(axis=axis), -q, reduction, targets.denominator)


def nll_loss(
    log_probs,
    target,
    *,
    reduction: str = "mean",
    weight=None,
    ignore_index: int = -100,
    weighted_mean: str = "weights",
) -> LossResult:
    """F.nll_loss: loss_i = -w_{y_i} log_probs[i, y_i]; "mean" divides by Σ_i w_{y_i}.

    ``log_probs`` (C,) or (N, C, ...); ``target`` class indices of shape () or (N, ...);
    ``weight`` (C,); entries equal to ``ignore_index`` add nothing (nor to the mean's divisor).
    grad = -w_{y_i} at [i, y_i] (/ the divisor for "mean"). ``weighted_mean="count"`` divides
    by the number of entries not ignored instead of Σ w_{y_i} (a mistake; see WEIGHTED_MEANS).
    """
    lp = as_float_array(log_probs, "log_probs")
    axis = _class_axis(lp, "log_probs")
    targets = _index_targets(target, lp.shape, axis, weight, 0.0, ignore_index, weighted_mean)
    return _nll(lp, targets, axis, reduction)


def softmax_cross_entropy(
    logits,
    target,
    *,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    weight=None,
    ignore_index: int = -100,
    weighted_mean: str = "weights",
) -> LossResult:
    """F.cross_entropy: loss_i = -Σ_c q_ic log softmax(x_i)_c, and dlogits = (softmax(x) Σ_c q_c - q) / D.

    ``logits`` (C,) or (N, C, ...). ``target`` either class indices of shape () or (N, ...)
    (q = onehot) or class probabilities of the logits' shape (q = target). Label smoothing as
    PyTorch: q ← (1 - ε) q + ε / C. ``weight`` (C,) multiplies class c's term. "mean" divides by
    D = Σ_i w_{y_i} over entries not equal to ``ignore_index`` for indices, by N (· d1 · ...) for
    probabilities. Without weights and smoothing, dlogits = (softmax(x) - onehot(y)) / N.
    ``weighted_mean="count"`` divides index targets by the number not ignored instead of
    Σ w_{y_i} (the mistake of a plain average; see WEIGHTED_MEANS).
    """
    z = as_float_array(logits, "logits")
    axis = _class_axis(z, "logits")
    eps = probability(label_smoothing, "label_smoothing", closed_right=True)
    log_probs = log_softmax(z, axis=axis)
    targets = _targets(target, z.shape, axis, weight, eps, ignore_index, weighted_mean)
    res = _nll(log_probs, targets, axis, reduction)
    return LossResult(res.loss, log_softmax_backward(res.grad, log_probs, axis=axis))


def cross_entropy_probs(
    probs, target, *, reduction: str = "mean", log_base: float | None = None
) -> LossResult:
    """Categorical cross-entropy on probabilities: loss_i = -Σ_c t_ic log p_ic, with 0 · log 0 = 0.

    ``probs`` (C,) for one sample (the loss is the plain sum) or (N, C, ...), entries in [0, 1];
    ``target`` class probabilities of that shape, or class indices (t = onehot).
    "mean" averages over samples. grad = -t / p, and 0 wherever t = 0.
    The log is natural (PyTorch's); ``log_base=b`` (e.g. 2 or 10, a calculator's log) gives
    -Σ_c t_ic log_b p_ic = (the natural loss) / ln b, and grad -t / (p ln b).
    """
    p = as_float_array(probs, "probs")
    axis = _class_axis(p, "probs")
    _in_unit_interval(p, "probs")
    scale = 1.0
    if log_base is not None:
        base = _positive(log_base, "log_base")
        if base == 1.0:
            raise ValueError("log_base: expected a base > 0 other than 1, got 1")
        scale = 1.0 / np.log(base)
    targets = _targets(target, p.shape, axis, None, 0.0, None)
    with np.errstate(divide="ignore"):  # p = 0 under a nonzero target: the loss is +inf, honestly
        res = _nll(np.log(p), targets, axis, reduction)
        grad = np.divide(res.grad, p, out=np.zeros_like(p), where=targets.q != 0)
    if log_base is None:
        return LossResult(res.loss, grad)
    loss = res.loss * scale if isinstance(res.loss, np.ndarray) else float(res.loss * scale)
    return LossResult(loss, grad * scale)


# --- Kullback-Leibler divergence --------------------------------------------------------------


def _kl_prob_target(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """target probabilities: t (ln t - x) with 0 ln 0 = 0; d/dx = -t."""
    _in_unit_interval(t, "target")
    with np.errstate(divide="ignore", invalid="ignore"):
        t_log_t = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0)
    return t_log_t - t * x, -t


def _kl_log_target(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """target log-probabilities: e^t (t - x); d/dx = -e^t."""
    e = np.exp(t)
    return e * (t - x), -e


_KL_TARGETS = {False: _kl_prob_target, True: _kl_log_target}


def kl_div(input, target, *, reduction: str = "mean", log_target: bool = False) -> LossResult:
    """F.kl_div / ``nn.KLDivLoss``: ``input`` holds log-probabilities ln q, ``target`` probabilities p
    (or ln p with ``log_target=True``), one shape (N, C) or any; pointwise ℓ = p (ln p - ln q),
    0 where p = 0; grad -p (d ℓ / d input).

    Reductions: "batchmean" divides the sum by N = input.shape[0], the true KL(p ‖ q) averaged
    over the batch; "mean" (PyTorch's default, which it warns about) divides by every element,
    N · C; "sum"; "none".
    """
    x, t = _input_and_target(input, target, "input")
    values, local = _KL_TARGETS[bool(log_target)](x, t)
    if reduction == "batchmean":
        batch = x.shape[0] if x.ndim else 1
        return _reduced(values, local, "mean", batch)
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction: unknown value {reduction!r}; expected one of 'batchmean', "
            + ", ".join(repr(k) for k in REDUCTIONS)
        )
    return _reduced(values, local, reduction)
