"""Batch and layer normalisation (``torch.nn.BatchNorm1d/2d`` and ``torch.nn.LayerNorm``).

Both layers normalise with the BIASED variance of the values they average over,

    x̂ = (x - mean) / sqrt(var + eps),    out = gamma * x̂ + beta,

and share one backward. Batch norm averages over every axis but the channel axis 1 (N for
(N, D); N and L for (N, C, L); N, H, W for (N, C, H, W)); layer norm over the trailing axes
that ``gamma`` covers. Batch norm also keeps running statistics for evaluation mode; PyTorch
updates them with the UNBIASED batch variance.

Conventions (keyword ``normalization``), so a mistake can be computed with the same code:
  - ``"pytorch"``: (x - mean) / sqrt(var + eps).
  - ``"eps_outside"``: (x - mean) / (sqrt(var) + eps), eps added to the standard deviation.
  - ``"seed_plus_mean_eps_outside"``: (x + mean) / (sqrt(var) + eps), the formula printed in
    course note 001 (section 3.6.10): a sign error on the mean and eps outside the root.
Running variance (keyword ``running_var_estimator``): ``"unbiased"`` (PyTorch, var * m/(m-1))
or ``"biased"`` (the normalising variance itself, a common mistake).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_shape, choose, nonnegative, positive_int, probability

__all__ = [
    "BatchNormCache",
    "BatchNormForward",
    "BatchNormGrads",
    "LayerNormCache",
    "LayerNormForward",
    "LayerNormGrads",
    "WeightNormCache",
    "WeightNormForward",
    "WeightNormGrads",
    "batchnorm_backward",
    "batchnorm_forward",
    "layernorm_backward",
    "layernorm_forward",
    "weight_norm_backward",
    "weight_norm_forward",
]


class _Normalization(NamedTuple):
    centre: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x, mean) -> numerator
    scale: Callable[[np.ndarray, float], np.ndarray]  # (var, eps) -> denominator


_NORMALIZATIONS: dict[str, _Normalization] = {
    "pytorch": _Normalization(np.subtract, lambda var, eps: np.sqrt(var + eps)),
    "eps_outside": _Normalization(np.subtract, lambda var, eps: np.sqrt(var) + eps),
    "seed_plus_mean_eps_outside": _Normalization(np.add, lambda var, eps: np.sqrt(var) + eps),
}

# Running variance from the biased batch variance over m values.
_RUNNING_VAR_ESTIMATORS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "unbiased": lambda var, m: var * (m / (m - 1)),
    "biased": lambda var, m: var,
}


class BatchNormCache(NamedTuple):
    """What ``batchnorm_backward`` needs; ``denom`` is the normalising denominator per channel."""

    x_hat: np.ndarray
    gamma: np.ndarray  # broadcastable to x
    denom: np.ndarray  # broadcastable to x
    axes: tuple[int, ...]
    count: int
    training: bool
    normalization: str


class BatchNormForward(NamedTuple):
    """``out`` (shape of x); ``cache``; updated ``running_mean``/``running_var`` (C,); the
    ``mean``/``var`` (C,) used to normalise (batch stats in training, running stats in eval);
    ``x_hat`` (shape of x)."""

    out: np.ndarray
    cache: BatchNormCache
    running_mean: np.ndarray
    running_var: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    x_hat: np.ndarray


class BatchNormGrads(NamedTuple):
    dx: np.ndarray
    dgamma: np.ndarray
    dbeta: np.ndarray


class LayerNormCache(NamedTuple):
    x_hat: np.ndarray
    gamma: np.ndarray | None  # None without elementwise affine parameters
    denom: np.ndarray  # (leading..., 1, ..., 1)
    mean: np.ndarray
    var: np.ndarray
    axes: tuple[int, ...]
    count: int
    has_beta: bool = True


class LayerNormForward(NamedTuple):
    out: np.ndarray
    cache: LayerNormCache


class LayerNormGrads(NamedTuple):
    dx: np.ndarray
    dgamma: np.ndarray | None  # None when the forward had no gamma (elementwise_affine=False)
    dbeta: np.ndarray | None  # None when the forward had no beta


def _normalize(x, mean, var, eps, normalization: str) -> tuple[np.ndarray, np.ndarray]:
    """(x_hat, denominator) under the named normalisation convention."""
    rule = choose(normalization, "normalization", _NORMALIZATIONS)
    denom = rule.scale(var, eps)
    return rule.centre(x, mean) / denom, denom


def _moments(x: np.ndarray, axes: tuple[int, ...], count: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and BIASED variance of x over ``axes`` (m = ``count`` values), with size-1 axes kept:

        mean = Σ x / m,    var = Σ (x - mean)² / m,

    NumPy's own two-pass algorithm for x.mean(axis) and x.var(axis), without their Python-level
    wrappers (most of a small batch norm's cost); tests/reference/test_norm.py checks both bit
    for bit.
    """
    mean = x.sum(axis=axes, keepdims=True) / count
    d = x - mean
    return mean, (d * d).sum(axis=axes, keepdims=True) / count


def _normalized_input_grad(g, x_hat, denom, axes, count) -> np.ndarray:
    """dL/dx for x̂ = (x - mean) / sqrt(var + eps) over ``axes`` (m = ``count`` values), g = dL/dx̂:

    dx = (m g - Σ g - x̂ Σ(g x̂)) / (m sqrt(var + eps)).
    """
    sum_g = g.sum(axis=axes, keepdims=True)
    sum_gx = (g * x_hat).sum(axis=axes, keepdims=True)
    return (count * g - sum_g - x_hat * sum_gx) / (count * denom)


def _channel_param(value, name: str, channels: int, default: float | None = None) -> np.ndarray | float:
    """``value`` checked as an array (C,); a missing running statistic is its start value
    ``default``, a float that broadcasts like np.full(C, default) (see :func:`_channel_array`)."""
    if value is None and default is not None:
        return default
    arr = as_float_array(value, name, ndim=1)
    check_shape(arr, name, (channels,))
    return arr


def _channel_array(stat: np.ndarray | float, channels: int) -> np.ndarray:
    """A running statistic from :func:`_channel_param` as an array (C,)."""
    return np.full(channels, stat) if isinstance(stat, float) else stat


def batchnorm_forward(
    x,
    gamma,
    beta,
    *,
    eps: float = 1e-5,
    momentum: float | None = 0.1,
    running_mean=None,
    running_var=None,
    training: bool = True,
    num_batches_tracked: int | None = None,
    normalization: str = "pytorch",
    running_var_estimator: str = "unbiased",
) -> BatchNormForward:
    """Batch normalisation, per channel (axis 1), as ``nn.BatchNorm1d``/``nn.BatchNorm2d``.

    Shapes: x (N, C), (N, C, L) or (N, C, H, W); gamma, beta, running_mean, running_var (C,).
    Statistics are taken over the m = N (·L or ·H·W) values of each channel.

    Training: mean, var = batch mean and BIASED batch variance;
        x̂ = (x - mean) / sqrt(var + eps),  out = gamma x̂ + beta,
        running = (1 - momentum) running + momentum * stat, with var · m/(m-1) for running_var.
    ``momentum=None`` is PyTorch's cumulative average: the factor is 1/num_batches_tracked
    (the count including this batch). Missing running stats start at mean 0, var 1.
    Evaluation (``training=False``): normalise with the running stats, which are returned
    unchanged. Training needs m >= 2 (PyTorch raises for one value per channel).
    """
    x = as_float_array(x, "x")
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"x: expected shape (N, C), (N, C, L) or (N, C, H, W), got {x.shape}")
    channels = x.shape[1]
    gamma = _channel_param(gamma, "gamma", channels)
    beta = _channel_param(beta, "beta", channels)
    running_mean = _channel_param(running_mean, "running_mean", channels, default=0.0)
    running_var = _channel_param(running_var, "running_var", channels, default=1.0)
    eps = nonnegative(eps, "eps")
    estimator = choose(running_var_estimator, "running_var_estimator", _RUNNING_VAR_ESTIMATORS)
    choose(normalization, "normalization", _NORMALIZATIONS)
    axes = (0, *range(2, x.ndim))
    count = x.size // channels
    bshape = (1, channels) + (1,) * (x.ndim - 2)

    if training:
        if count < 2:
            raise ValueError(f"x: expected more than 1 value per channel when training, got shape {x.shape}")
        if momentum is None:
            factor = 1.0 / positive_int(num_batches_tracked, "num_batches_tracked")
        else:
            factor = probability(momentum, "momentum", closed_right=True)
        mean_b, var_b = _moments(x, axes, count)  # shaped (1, C, 1, ...) already
        mean, var = mean_b.reshape(channels), var_b.reshape(channels)
        # a missing running statistic is a float here: factor is finite, so (1 - factor) * 0.0 and
        # (1 - factor) * 1.0 are what NumPy gives elementwise for np.full(C, 0.0 or 1.0)
        new_running_mean = (1.0 - factor) * running_mean + factor * mean
        new_running_var = (1.0 - factor) * running_var + factor * estimator(var, count)
    else:
        mean, var = _channel_array(running_mean, channels), _channel_array(running_var, channels)
        mean_b, var_b = mean.reshape(bshape), var.reshape(bshape)
        new_running_mean, new_running_var = mean.copy(), var.copy()

    x_hat, denom = _normalize(x, mean_b, var_b, eps, normalization)
    gamma_b = gamma.reshape(bshape)
    out = gamma_b * x_hat + beta.reshape(bshape)
    cache = BatchNormCache(x_hat, gamma_b, denom, axes, count, bool(training), normalization)
    return BatchNormForward(out, cache, new_running_mean, new_running_var, mean, var, x_hat)


def batchnorm_backward(dout, cache: BatchNormCache) -> BatchNormGrads:
    """Gradients of batch norm: dx (shape of x), dgamma (C,), dbeta (C,).

    With σ = sqrt(var + eps) and sums over the m values of each channel:

        dbeta = Σ dout,   dgamma = Σ dout · x̂,
        dx = (1/m) (γ/σ) (m dout - Σ dout - x̂ Σ(dout · x̂))      (training, "pytorch"),
        dx = γ · dout / denominator                               (evaluation, any convention).

    Training-mode backward exists for the ``"pytorch"`` normalisation only.
    """
    dout = as_float_array(dout, "dout")
    check_shape(dout, "dout", cache.x_hat.shape)
    dbeta = dout.sum(axis=cache.axes)
    dgamma = (dout * cache.x_hat).sum(axis=cache.axes)
    g = dout * cache.gamma
    if not cache.training:
        return BatchNormGrads(g / cache.denom, dgamma, dbeta)
    if cache.normalization != "pytorch":
        raise ValueError(
            f"cache: training-mode backward needs normalization 'pytorch', got {cache.normalization!r}"
        )
    dx = _normalized_input_grad(g, cache.x_hat, cache.denom, cache.axes, cache.count)
    return BatchNormGrads(dx, dgamma, dbeta)


def _normalized_shape(value) -> tuple[int, ...]:
    """``normalized_shape`` as ``nn.LayerNorm`` takes it: an int or a sequence of ints >= 1."""
    dims = (value,) if isinstance(value, (int, np.integer)) else value
    try:
        dims = tuple(positive_int(d, "normalized_shape") for d in dims)
    except TypeError:
        raise ValueError(
            f"normalized_shape: expected an integer or a tuple of integers, got {value!r}"
        ) from None
    if not dims:
        raise ValueError("normalized_shape: expected at least one dimension, got ()")
    return dims


def _affine_parameters(gamma, beta, normalized_shape):
    """elementwise_affine=True: gamma (required) and beta (None: no shift, ``bias=False``) checked
    against each other and against normalized_shape if given; (gamma, beta, shape)."""
    if gamma is None:
        raise ValueError(
            "gamma: expected an array of normalized_shape (or elementwise_affine=False), got None"
        )
    gamma = as_float_array(gamma, "gamma")
    if normalized_shape is not None and gamma.shape != _normalized_shape(normalized_shape):
        raise ValueError(
            f"gamma: expected shape {_normalized_shape(normalized_shape)} (normalized_shape), got {gamma.shape}"
        )
    if beta is not None:
        beta = as_float_array(beta, "beta")
        check_shape(beta, "beta", gamma.shape)
    return gamma, beta, gamma.shape


def _no_affine_parameters(gamma, beta, normalized_shape):
    """elementwise_affine=False: no gamma or beta; the shape from normalized_shape (required)."""
    for value, name in ((gamma, "gamma"), (beta, "beta")):
        if value is not None:
            raise ValueError(f"{name}: expected None with elementwise_affine=False, got an array")
    if normalized_shape is None:
        raise ValueError(
            "normalized_shape: expected the normalised trailing shape with elementwise_affine=False"
        )
    return None, None, _normalized_shape(normalized_shape)


# elementwise_affine -> (gamma, beta, normalized_shape) -> checked (gamma, beta, shape)
_LAYERNORM_AFFINE = {True: _affine_parameters, False: _no_affine_parameters}


def layernorm_forward(
    x, gamma=None, beta=None, *, eps: float = 1e-5, elementwise_affine: bool = True, normalized_shape=None
) -> LayerNormForward:
    """Layer normalisation over the trailing axes that ``gamma`` covers, as ``nn.LayerNorm``.

    Shapes: gamma, beta = normalized_shape = x.shape[-k:]; out has the shape of x. For each
    leading index, mean and BIASED var over the k trailing axes;
        out = gamma (x - mean) / sqrt(var + eps) + beta.
    ``elementwise_affine=False`` (``nn.LayerNorm(..., elementwise_affine=False)``): no gamma or
    beta, out = (x - mean) / sqrt(var + eps), and ``normalized_shape`` (int or tuple) says which
    trailing axes. ``beta=None`` with gamma: no shift (``bias=False``).
    """
    x = as_float_array(x, "x")
    rule = choose(elementwise_affine, "elementwise_affine", _LAYERNORM_AFFINE)
    gamma, beta, shape = rule(gamma, beta, normalized_shape)
    k = len(shape)
    if k == 0 or k > x.ndim or x.shape[x.ndim - k :] != shape:
        name = "gamma" if gamma is not None else "normalized_shape"
        raise ValueError(
            f"{name}: expected a shape that x's trailing dimensions end with, got {shape} for x of shape {x.shape}"
        )
    eps = nonnegative(eps, "eps")
    axes = tuple(range(x.ndim - k, x.ndim))
    count = int(np.prod(shape))
    mean, var = _moments(x, axes, count)
    x_hat, denom = _normalize(x, mean, var, eps, "pytorch")
    out = x_hat if gamma is None else gamma * x_hat
    if beta is not None:
        out = out + beta
    cache = LayerNormCache(x_hat, gamma, denom, mean, var, axes, count, beta is not None)
    return LayerNormForward(out, cache)


def layernorm_backward(dout, cache: LayerNormCache, *, through_stats: bool = True) -> LayerNormGrads:
    """Gradients of layer norm: dx (shape of x), dgamma and dbeta (normalized_shape).

    dbeta = Σ_leading dout, dgamma = Σ_leading dout · x̂, and dx is the batch-norm formula with
    the sums over the normalised axes and g = γ · dout in place of γ · dout per channel
    (g = dout without affine parameters; dgamma, dbeta are then None):

        dx = (m g - Σ g - x̂ Σ(g x̂)) / (m sqrt(var + eps)),  sums over each sample's m features.

    ``through_stats=False`` is the mistake of treating the mean and variance as constants:
    dx = g / sqrt(var + eps).
    """
    dout = as_float_array(dout, "dout")
    check_shape(dout, "dout", cache.x_hat.shape)
    leading = tuple(range(dout.ndim - len(cache.axes)))
    dbeta = dout.sum(axis=leading) if cache.has_beta else None
    if cache.gamma is None:
        dgamma, g = None, dout
    else:
        dgamma, g = (dout * cache.x_hat).sum(axis=leading), dout * cache.gamma
    if choose(through_stats, "through_stats", {True: True, False: False}):
        dx = _normalized_input_grad(g, cache.x_hat, cache.denom, cache.axes, cache.count)
    else:
        dx = g / cache.denom
    return LayerNormGrads(dx, dgamma, dbeta)


# --------------------------------------------------------------------------------------------------
# Weight normalization (torch.nn.utils.weight_norm): w = g · v / ‖v‖ per slice along ``dim``


class WeightNormCache(NamedTuple):
    v: np.ndarray  # moved so that ``dim`` is axis 0, flattened: (S, rest)
    g: np.ndarray  # (S,)
    norms: np.ndarray  # (S,)
    shape: tuple[int, ...]  # of v
    dim: int
    through_norm: bool


class WeightNormForward(NamedTuple):
    w: np.ndarray  # shape of v
    norms: np.ndarray  # (v.shape[dim],): ‖v_i‖ of each slice
    cache: WeightNormCache


class WeightNormGrads(NamedTuple):
    dv: np.ndarray  # shape of v
    dg: np.ndarray  # (v.shape[dim],)


def _slices(a: np.ndarray, dim: int) -> np.ndarray:
    """(S, rest): slice i along ``dim`` flattened into row i."""
    return np.moveaxis(a, dim, 0).reshape(a.shape[dim], -1)


def _unslice(flat: np.ndarray, shape: tuple[int, ...], dim: int) -> np.ndarray:
    """The inverse of ``_slices`` for an array of ``shape``."""
    moved = (shape[dim], *(size for axis, size in enumerate(shape) if axis != dim))
    return np.moveaxis(flat.reshape(moved), 0, dim)


def weight_norm_forward(v, g, *, dim: int = 0, through_norm: bool = True) -> WeightNormForward:
    """Weight normalization as ``torch.nn.utils.weight_norm(module, dim=0)``: for each slice i of v
    along ``dim`` (for ``nn.Linear``'s (out, in) weight and dim 0: the row of unit i),

        w_i = g_i · v_i / ‖v_i‖   (L2 norm over the slice's other axes),

    v any shape, g (v.shape[dim],) (PyTorch stores it as (out, 1, ...)). ``through_norm=False``
    makes ``weight_norm_backward`` treat ‖v_i‖ as a constant (the mistake); the forward is the same.
    """
    v = as_float_array(v, "v")
    if v.ndim < 1:
        raise ValueError("v: expected an array with at least one axis")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -v.ndim <= dim < v.ndim:
        raise ValueError(f"dim: expected an axis of v (shape {v.shape}), got {dim!r}")
    dim = int(dim) % v.ndim
    g = as_float_array(g, "g", ndim=1)
    check_shape(g, "g", (v.shape[dim],))
    flat = _slices(v, dim)
    norms = np.sqrt((flat**2).sum(axis=1))
    if np.any(norms == 0):
        raise ValueError("v: a slice is all zeros, so its direction v / ‖v‖ is undefined")
    w_flat = flat * (g / norms)[:, None]
    w = _unslice(w_flat, v.shape, dim)
    flag = choose(through_norm, "through_norm", {True: True, False: False})
    return WeightNormForward(w, norms, WeightNormCache(flat, g, norms, v.shape, dim, flag))


def weight_norm_backward(dw, cache: WeightNormCache) -> WeightNormGrads:
    """Gradients of weight normalization for upstream dw (shape of v), per slice i:

        dg_i = dw_i · v_i / ‖v_i‖,     dv_i = (g_i / ‖v_i‖) (dw_i - dg_i · v_i / ‖v_i‖),

    the second term removing the part of dw along v_i (which only rescales v, and w does not
    change). With the cache's ``through_norm=False``: dv_i = (g_i / ‖v_i‖) dw_i."""
    dw = as_float_array(dw, "dw")
    check_shape(dw, "dw", cache.shape)
    d = _slices(dw, cache.dim)
    unit = cache.v / cache.norms[:, None]
    dg = (d * unit).sum(axis=1)
    dv_flat = (cache.g / cache.norms)[:, None] * (d - dg[:, None] * unit if cache.through_norm else d)
    return WeightNormGrads(_unslice(dv_flat, cache.shape, cache.dim), dg)
