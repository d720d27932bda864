"""Gradients through depth, and checking a gradient numerically.

Through a chain a_l = σ(z_l), z_l = w_l a_{l-1} + b_l (one unit per layer), the chain rule gives

    ∂a_L / ∂a_0 = Π_{l=1..L} w_l σ'(z_l),   σ'(z) = σ(z)(1 - σ(z)) <= 1/4,

so with |w_l| <= 1 the product is at most 0.25^L: it vanishes with depth (and explodes when the
|w_l σ'(z_l)| exceed 1). A gradient check compares an analytic derivative a with the centred
difference n = (f(x + h) - f(x - h)) / (2h) by the relative error |a - n| / max(|a|, |n|).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose, positive_int

__all__ = [
    "ChainGradient",
    "RecurrentGradient",
    "chain_gradient",
    "finite_difference",
    "polynomial",
    "polynomial_derivative",
    "recurrent_gradient",
    "recurrent_gradient_bound",
    "scalar_relative_error",
    "sigmoid_gradient_bound",
]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# The local factor of each layer: σ'(z) (right) or σ(z) (the activation in place of its derivative).
_LOCALS = {
    "derivative": lambda z: _sigmoid(z) * (1.0 - _sigmoid(z)),
    "value": _sigmoid,
}


class ChainGradient(NamedTuple):
    """``local``: the factors w_l σ'(z_l) (L,); ``gradient``: their product ∂a_L/∂a_0."""

    local: np.ndarray
    gradient: float


def chain_gradient(z, w, *, local: str = "derivative") -> ChainGradient:
    """∂a_L/∂a_0 = Π_l w_l σ'(z_l) for pre-activations z (L,) and weights w (L,).
    ``local="value"`` multiplies σ(z_l) instead of σ'(z_l)."""
    z = as_float_array(z, "z", ndim=1)
    w = as_float_array(w, "w", ndim=1)
    if z.shape != w.shape:
        raise ValueError(
            f"chain_gradient: z has shape {z.shape} but w has {w.shape}; give one weight per layer"
        )
    factors = w * choose(local, "local", _LOCALS)(z)
    return ChainGradient(factors, float(np.prod(factors)))


def sigmoid_gradient_bound(depth: int, *, max_derivative: float = 0.25) -> float:
    """Upper bound max σ' ^ L = 0.25^L of the product of L sigmoid derivatives (weights |w| <= 1)."""
    return float(max_derivative) ** positive_int(depth, "depth")


def polynomial(coeffs: Sequence[float], x: float) -> float:
    """f(x) = Σ_k c_k x^k for coefficients (c_0, c_1, ...)."""
    c = as_float_array(coeffs, "coeffs", ndim=1)
    return float(np.polynomial.polynomial.polyval(float(x), c))


def polynomial_derivative(coeffs: Sequence[float], x: float) -> float:
    """f'(x) = Σ_k k c_k x^(k-1): the analytic derivative a gradient check verifies."""
    c = as_float_array(coeffs, "coeffs", ndim=1)
    return float(np.polynomial.polynomial.polyval(float(x), np.polynomial.polynomial.polyder(c)))


_SCHEMES = {
    "centred": lambda f, x, h: (f(x + h) - f(x - h)) / (2.0 * h),
    "forward": lambda f, x, h: (f(x + h) - f(x)) / h,
    "centred_over_h": lambda f, x, h: (f(x + h) - f(x - h)) / h,  # the 2 forgotten
}


def finite_difference(coeffs: Sequence[float], x: float, h: float, *, scheme: str = "centred") -> float:
    """Numerical derivative of the polynomial f = Σ c_k x^k at x:
    (f(x + h) - f(x - h)) / (2h) (``centred``, error O(h²)); ``forward``: (f(x + h) - f(x)) / h."""
    h = float(h)
    if not h > 0:
        raise ValueError(f"finite_difference: h must be > 0, got {h!r}")
    return float(choose(scheme, "scheme", _SCHEMES)(lambda v: polynomial(coeffs, v), float(x), h))


_DENOMINATORS = {
    "max": lambda a, b: max(abs(a), abs(b)),
    "sum": lambda a, b: abs(a) + abs(b),
    "analytic": lambda a, b: abs(a),
}


def scalar_relative_error(a: float, b: float, *, denominator: str = "max") -> float:
    """|a - b| / max(|a|, |b|) (0 when a = b = 0); ``denominator="sum"`` uses |a| + |b|
    (CS231n's norm-wise form), ``"analytic"`` |a|."""
    a, b = float(a), float(b)
    if a == b:
        return 0.0
    return abs(a - b) / choose(denominator, "denominator", _DENOMINATORS)(a, b)


class RecurrentGradient(NamedTuple):
    """``h`` (T,) the states h_1..h_T, ``local`` (T,) the factors ∂h_t/∂h_{t-1}, ``gradient``
    ∂h_T/∂h_0 their product."""

    h: np.ndarray
    local: np.ndarray
    gradient: float


# ∂h_t/∂h_{t-1} = w tanh'(z_t) = w (1 - h_t²); "no_weight" leaves out the recurrent weight.
_RECURRENT_FACTORS = {
    "weight_times_derivative": lambda w, h: w * (1.0 - h**2),
    "no_weight": lambda w, h: 1.0 - h**2,
}


def recurrent_gradient(
    x, h0: float, w: float, u: float, b: float = 0.0, *, factor: str = "weight_times_derivative"
):
    """A scalar tanh RNN h_t = tanh(w h_{t-1} + u x_t + b) over inputs x (T,), from h0:
    ∂h_T/∂h_0 = Π_{t=1..T} w (1 - h_t²), the product through time that vanishes or explodes."""
    x = as_float_array(x, "x", ndim=1)
    h, prev = np.empty_like(x), float(h0)
    for t, xt in enumerate(x):
        prev = float(np.tanh(float(w) * prev + float(u) * xt + float(b)))
        h[t] = prev
    local = choose(factor, "factor", _RECURRENT_FACTORS)(float(w), h)
    return RecurrentGradient(h, local, float(np.prod(local)))


def recurrent_gradient_bound(w: float, steps: int, *, max_derivative: float = 1.0) -> float:
    """Upper bound (|w| max tanh')^T = |w|^T of |∂h_T/∂h_0| for a scalar tanh RNN (tanh' <= 1):
    below 1 the gradient must vanish geometrically; above 1 it may explode."""
    return (abs(float(w)) * float(max_derivative)) ** positive_int(steps, "steps")
