"""Activation functions, each with its elementwise derivative next to it (micrograd style).

Every ``*_grad`` takes the same input ``x`` as its forward (the pre-activation, not the output)
and returns dh/dx elementwise with the shape of ``x``; a backward pass is ``dout * h_grad(x)``.
Inputs are any shape and are read as float64.

At a kink the derivative is the one PyTorch's autograd returns there: relu'(0) = 0,
leaky_relu'(0) = negative_slope, elu'(0) = alpha. The textbook's relu'(0) = 1 (seed note 001:
"given as 1 or 0") is ``relu_grad(x, at_zero=1.0)``, so a bank can compute that mistake.

Everything is stable for |x| up to 1e4 and beyond: no exp of a large positive number is taken.

``ACTIVATIONS`` maps exact names to :class:`Activation` (name, fn, grad) with PyTorch's default
parameters; :func:`activation` looks a name up and lists the known names when it is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ._checks import as_float_array, check_shape, choose

__all__ = [
    "activation",
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "hardsigmoid",
    "hardsigmoid_grad",
    "hardswish",
    "hardswish_grad",
    "identity",
    "identity_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "log_softmax",
    "log_softmax_backward",
    "prelu",
    "prelu_backward",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "silu",
    "silu_grad",
    "softmax",
    "softmax_backward",
    "softmax_jacobian",
    "softplus",
    "softplus_grad",
    "swish",
    "swish_grad",
    "tanh",
    "tanh_grad",
]


# --- argument helpers -------------------------------------------------------------------------


def _x(x, name: str = "x") -> np.ndarray:
    return as_float_array(x, name)


def _real(value, name: str) -> float:
    """``value`` as a float (not NaN); infinities are allowed (``threshold=inf`` means never)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if math.isnan(v):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    return v


def _positive(value, name: str) -> float:
    """``value`` as a float > 0."""
    v = _real(value, name)
    if not v > 0.0:
        raise ValueError(f"{name}: expected a number > 0, got {value!r}")
    return v


def _axis(x: np.ndarray, axis) -> int:
    """``axis`` checked against ``x`` (at least 1-D), as a non-negative index."""
    if x.ndim == 0:
        raise ValueError("x: expected at least 1 dimension, got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"axis: expected an integer in [{-x.ndim}, {x.ndim}) for shape {x.shape}, got {axis!r}"
        )
    return int(axis) % x.ndim


# --- elementwise activations ------------------------------------------------------------------


def identity(x) -> np.ndarray:
    """h(x) = x."""
    return _x(x).copy()


def identity_grad(x) -> np.ndarray:
    """h'(x) = 1."""
    return np.ones_like(_x(x))


def sigmoid(x) -> np.ndarray:
    """σ(x) = 1 / (1 + e^(-x)), computed from e^(-|x|) so that no exponent is positive."""
    x = _x(x)
    e = np.exp(-np.abs(x))
    d = 1.0 + e
    return np.where(x >= 0, 1.0 / d, e / d)


def sigmoid_grad(x) -> np.ndarray:
    """σ'(x) = σ(x)(1 - σ(x)); σ'(0) = 0.25."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x) -> np.ndarray:
    """tanh(x) = (e^x - e^(-x)) / (e^x + e^(-x))."""
    return np.tanh(_x(x))


def tanh_grad(x) -> np.ndarray:
    """tanh'(x) = 1 - tanh(x)²; tanh'(0) = 1."""
    t = tanh(x)
    return 1.0 - t * t


def relu(x) -> np.ndarray:
    """relu(x) = max(x, 0)."""
    return np.maximum(_x(x), 0.0)


def relu_grad(x, at_zero: float = 0.0) -> np.ndarray:
    """relu'(x) = 1 if x > 0, 0 if x < 0, and ``at_zero`` at x = 0 (PyTorch: 0; textbook slip: 1)."""
    x = _x(x)
    return np.where(x > 0, 1.0, np.where(x == 0, _real(at_zero, "at_zero"), 0.0))


def leaky_relu(x, negative_slope: float = 0.01) -> np.ndarray:
    """h(x) = x if x > 0 else negative_slope · x."""
    x = _x(x)
    return np.where(x > 0, x, _real(negative_slope, "negative_slope") * x)


def leaky_relu_grad(x, negative_slope: float = 0.01) -> np.ndarray:
    """h'(x) = 1 if x > 0 else negative_slope (so h'(0) = negative_slope, as PyTorch)."""
    x = _x(x)
    return np.where(x > 0, 1.0, _real(negative_slope, "negative_slope"))


def elu(x, alpha: float = 1.0) -> np.ndarray:
    """h(x) = x if x > 0 else alpha (e^x - 1)."""
    x = _x(x)
    return np.where(x > 0, x, _real(alpha, "alpha") * np.expm1(np.minimum(x, 0.0)))


def elu_grad(x, alpha: float = 1.0) -> np.ndarray:
    """h'(x) = 1 if x > 0 else alpha e^x (so h'(0) = alpha, as PyTorch)."""
    x = _x(x)
    return np.where(x > 0, 1.0, _real(alpha, "alpha") * np.exp(np.minimum(x, 0.0)))


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    """h(x) = log(1 + e^(βx)) / β, and h(x) = x where βx > threshold (PyTorch's linear region).

    Evaluated as (max(βx, 0) + log1p(e^(-|βx|))) / β, which never overflows.
    """
    x = _x(x)
    beta = _positive(beta, "beta")
    bx = beta * x
    smooth = (np.maximum(bx, 0.0) + np.log1p(np.exp(-np.abs(bx)))) / beta
    return np.where(bx > _real(threshold, "threshold"), x, smooth)


def softplus_grad(x, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    """h'(x) = σ(βx), and 1 where βx > threshold."""
    x = _x(x)
    bx = _positive(beta, "beta") * x
    return np.where(bx > _real(threshold, "threshold"), 1.0, sigmoid(bx))


def swish(x, beta: float = 1.0) -> np.ndarray:
    """h(x) = x · σ(βx); β = 1 is SiLU."""
    x = _x(x)
    return x * sigmoid(_real(beta, "beta") * x)


def swish_grad(x, beta: float = 1.0) -> np.ndarray:
    """h'(x) = σ(βx)(1 + βx(1 - σ(βx))), which equals the notes' βh(x) + σ(βx)(1 - βh(x))."""
    x = _x(x)
    beta = _real(beta, "beta")
    s = sigmoid(beta * x)
    return s * (1.0 + beta * x * (1.0 - s))


def silu(x) -> np.ndarray:
    """SiLU: h(x) = x · σ(x), that is :func:`swish` with β = 1."""
    return swish(x, 1.0)


def silu_grad(x) -> np.ndarray:
    """SiLU'(x) = :func:`swish_grad` with β = 1."""
    return swish_grad(x, 1.0)


_HARD_SIGMOID_SLOPE = 1.0 / 6.0  # PyTorch: relu6(x + 3) / 6


def hardsigmoid(x, slope: float = _HARD_SIGMOID_SLOPE) -> np.ndarray:
    """h(x) = clip(slope · x + 1/2, 0, 1); PyTorch's slope 1/6 is relu6(x + 3) / 6, linear on
    -3 < x < 3. ``slope=0.2`` is Keras's former ``hard_sigmoid``, linear on -2.5 < x < 2.5."""
    return np.clip(_positive(slope, "slope") * _x(x) + 0.5, 0.0, 1.0)


def hardsigmoid_grad(x, slope: float = _HARD_SIGMOID_SLOPE) -> np.ndarray:
    """h'(x) = slope strictly inside the linear part (|slope · x| < 1/2), else 0 (PyTorch's backward
    is 0 at x = ±3)."""
    x = _x(x)
    slope = _positive(slope, "slope")
    return np.where(np.abs(slope * x) < 0.5, slope, 0.0)


def hardswish(x) -> np.ndarray:
    """h(x) = x · relu6(x + 3) / 6 = x · hardsigmoid(x): 0 for x <= -3, x for x >= 3."""
    x = _x(x)
    return x * hardsigmoid(x) + 0.0  # + 0.0: -0.0 (x < -3) becomes 0.0


def hardswish_grad(x) -> np.ndarray:
    """h'(x) = 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3, 1 for x > 3 (PyTorch's CPU kernel; its
    CUDA kernel takes the other branch at x = ±3, so a question should avoid those two points)."""
    x = _x(x)
    return np.where(x < -3.0, 0.0, np.where(x <= 3.0, x / 3.0 + 0.5, 1.0))


_erf = np.vectorize(math.erf, otypes=[np.float64])  # libm's erf, correct to about 1 ulp
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_BETA = math.sqrt(2.0 / math.pi)  # PyTorch's kBeta = M_SQRT2 * M_2_SQRTPI * 0.5
_GELU_TANH_KAPPA = 0.044715


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x) = (1 + erf(x / √2)) / 2."""
    return 0.5 * (1.0 + _erf(x * _SQRT_HALF))


def _gelu_exact(x) -> np.ndarray:
    """h(x) = x Φ(x)."""
    x = _x(x)
    return x * _normal_cdf(x)


def _gelu_exact_grad(x) -> np.ndarray:
    """h'(x) = Φ(x) + x φ(x), φ(x) = e^(-x²/2) / √(2π)."""
    x = _x(x)
    return _normal_cdf(x) + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)


def _gelu_tanh_inner(x: np.ndarray) -> np.ndarray:
    """u(x) = √(2/π) (x + 0.044715 x³)."""
    return _GELU_TANH_BETA * (x + _GELU_TANH_KAPPA * x * x * x)


def _gelu_tanh(x) -> np.ndarray:
    """h(x) = x/2 · (1 + tanh(u(x)))."""
    x = _x(x)
    return 0.5 * x * (1.0 + np.tanh(_gelu_tanh_inner(x)))


def _gelu_tanh_grad(x) -> np.ndarray:
    """h'(x) = (1 + tanh u)/2 + x/2 · (1 - tanh² u) · √(2/π)(1 + 3 · 0.044715 x²)."""
    x = _x(x)
    t = np.tanh(_gelu_tanh_inner(x))
    du = _GELU_TANH_BETA * (1.0 + 3.0 * _GELU_TANH_KAPPA * x * x)
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du


@dataclass(frozen=True)
class Activation:
    """An activation by name: ``fn(x)`` and its elementwise derivative ``grad(x)`` at the same x."""

    name: str
    fn: Callable[..., np.ndarray]
    grad: Callable[..., np.ndarray]


_GELU: Mapping[str, Activation] = MappingProxyType(
    {
        "none": Activation("gelu", _gelu_exact, _gelu_exact_grad),
        "tanh": Activation("gelu_tanh", _gelu_tanh, _gelu_tanh_grad),
    }
)


def gelu(x, approximate: str = "none") -> np.ndarray:
    """GELU: x Φ(x) with ``approximate="none"`` (PyTorch's default, exact erf), or with
    ``approximate="tanh"`` x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³))) (the notes' formula)."""
    return choose(approximate, "approximate", _GELU).fn(x)


def gelu_grad(x, approximate: str = "none") -> np.ndarray:
    """Derivative of :func:`gelu` with the same ``approximate`` ("none" or "tanh")."""
    return choose(approximate, "approximate", _GELU).grad(x)


# --- softmax along an axis --------------------------------------------------------------------


def softmax(x, axis: int = -1) -> np.ndarray:
    """y_i = e^(x_i - m) / Σ_j e^(x_j - m) along ``axis``, m = max_j x_j; shape of ``x``."""
    x = _x(x)
    axis = _axis(x, axis)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis: int = -1) -> np.ndarray:
    """log y_i = (x_i - m) - log Σ_j e^(x_j - m) along ``axis``; shape of ``x``."""
    x = _x(x)
    axis = _axis(x, axis)
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _same_shape(dout, y, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    y = _x(y, y_name)
    dout = _x(dout, "dout")
    check_shape(dout, "dout", y.shape)
    return dout, y


def softmax_backward(dout, y, axis: int = -1, *, off_diagonal: bool = True) -> np.ndarray:
    """Vector-Jacobian product of softmax: dx = y ⊙ (dout - Σ_j dout_j y_j) along ``axis``.

    ``y`` is the softmax output, ``dout`` the upstream gradient, both of one shape; returns dx.
    ``off_diagonal=False`` is the mistake of treating softmax as elementwise (as a sigmoid):
    dx = y ⊙ (1 - y) ⊙ dout, the off-diagonal terms -y_i y_j of the Jacobian dropped.
    """
    dout, y = _same_shape(dout, y, "y")
    axis = _axis(y, axis)
    if not off_diagonal:
        return y * (1.0 - y) * dout
    return y * (dout - (dout * y).sum(axis=axis, keepdims=True))


def softmax_jacobian(z, *, off_diagonal: bool = True) -> np.ndarray:
    """J = diag(y) - y yᵀ, y = softmax(z), for a 1-D ``z`` of length C; J is (C, C), J_ij = ∂y_i/∂z_j.

    ``off_diagonal=False`` is the mistake of treating softmax as elementwise:
    J = diag(y ⊙ (1 - y)), the off-diagonal entries -y_i y_j left at 0.
    """
    z = as_float_array(z, "z", ndim=1)
    y = softmax(z)
    if not off_diagonal:
        return np.diag(y * (1.0 - y))
    return np.diag(y) - np.outer(y, y)


def log_softmax_backward(dout, y_log, axis: int = -1) -> np.ndarray:
    """Vector-Jacobian product of log_softmax: dx = dout - e^(y_log) Σ_j dout_j along ``axis``.

    ``y_log`` is the log_softmax output, ``dout`` the upstream gradient, both of one shape.
    """
    dout, y_log = _same_shape(dout, y_log, "y_log")
    axis = _axis(y_log, axis)
    return dout - np.exp(y_log) * dout.sum(axis=axis, keepdims=True)


# --- PReLU: a learned slope -------------------------------------------------------------------


def _prelu_weight(weight, x: np.ndarray) -> np.ndarray:
    """PReLU's weight (a scalar or one per channel, the axis 1 of (N, C, ...); axis 0 of a (C,)
    input), shaped to broadcast against x."""
    w = as_float_array(weight, "weight")
    if w.size == 1:
        return w.reshape(())
    if w.ndim != 1:
        raise ValueError(f"weight: expected a scalar or one slope per channel (C,), got shape {w.shape}")
    axis = 0 if x.ndim == 1 else 1
    if x.ndim == 0 or x.shape[axis] != w.size:
        raise ValueError(f"weight: {w.size} slopes, but x has shape {x.shape} (channels on axis {axis})")
    return w.reshape((w.size,) + (1,) * (x.ndim - 1 - axis))


def prelu(x, weight) -> np.ndarray:
    """``nn.PReLU``: h(x) = x if x > 0 else a · x, with a = ``weight`` (a scalar, PyTorch's default
    ``num_parameters=1`` initialised to 0.25, or one per channel); shape of x."""
    x = _x(x)
    return np.where(x > 0, x, _prelu_weight(weight, x) * x)


def _nonpositive_part(x: np.ndarray) -> np.ndarray:
    """PyTorch: ∂h/∂a = x where x <= 0, else 0."""
    return np.where(x > 0, 0.0, x)


def _every_input(x: np.ndarray) -> np.ndarray:
    """A slip: ∂h/∂a = x everywhere, as if the slope multiplied the positive inputs too."""
    return x


SLOPE_REGIONS: Mapping[str, Callable[[np.ndarray], np.ndarray]] = MappingProxyType(
    {"nonpositive": _nonpositive_part, "all": _every_input}
)


def prelu_backward(dout, x, weight, *, slope_region: str = "nonpositive") -> tuple[np.ndarray, np.ndarray]:
    """Backward of :func:`prelu`: (dx, dweight).

    dx = dout where x > 0, else a · dout (shape of x); dweight = Σ dout · x over the inputs with
    x <= 0 (``slope_region="nonpositive"``), summed over every axis but the channel one when there
    is one slope per channel (shape of ``weight``). ``slope_region="all"`` is the mistake of
    summing over the positive inputs too.
    """
    x = _x(x)
    dout = as_float_array(dout, "dout")
    check_shape(dout, "dout", x.shape)
    region = choose(slope_region, "slope_region", SLOPE_REGIONS)
    w = _prelu_weight(weight, x)
    dx = np.where(x > 0, dout, w * dout)
    contrib = dout * region(x)
    if w.ndim == 0:
        return dx, np.asarray(contrib.sum()).reshape(np.shape(weight))
    axis = 0 if x.ndim == 1 else 1
    others = tuple(i for i in range(x.ndim) if i != axis)
    return dx, contrib.sum(axis=others)


# --- the registry the MLP module uses ---------------------------------------------------------

ACTIVATIONS: Mapping[str, Activation] = MappingProxyType(
    {
        "identity": Activation("identity", identity, identity_grad),
        "sigmoid": Activation("sigmoid", sigmoid, sigmoid_grad),
        "tanh": Activation("tanh", tanh, tanh_grad),
        "relu": Activation("relu", relu, relu_grad),
        "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_grad),
        "elu": Activation("elu", elu, elu_grad),
        "softplus": Activation("softplus", softplus, softplus_grad),
        "silu": Activation("silu", silu, silu_grad),
        "swish": Activation("swish", swish, swish_grad),
        "gelu": _GELU["none"],
        "gelu_tanh": _GELU["tanh"],
    }
)


def activation(name: str) -> Activation:
    """The :class:`Activation` called ``name`` exactly (PyTorch's default parameters)."""
    return choose(name, "activation", ACTIVATIONS)
