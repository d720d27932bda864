"""Centred finite differences: the test oracle for every backward function.

For a scalar function f, the centred difference along coordinate i is

    df/dx_i ≈ (f(x + h e_i) - f(x - h e_i)) / (2 h),

with error O(h²) from truncation and O(ε/h) from rounding; h = 1e-6 in float64 balances the two
(about 1e-10 absolute for well-scaled inputs). For an array-valued f with upstream gradient
``dout``, the same difference is taken of the scalar ``sum(f(x) * dout)``, which is exactly what a
backward function returns (CS231n's ``eval_numerical_gradient_array``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["numerical_gradient", "numerical_gradient_array", "relative_error"]


def numerical_gradient(f: Callable[[np.ndarray], float], x, *, h: float = 1e-6) -> np.ndarray:
    """Gradient of scalar ``f`` at ``x`` (any shape) by centred differences; ``x`` is not modified.

    Returns an array with the shape of ``x``: grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h).
    """
    x = np.array(x, dtype=np.float64)  # a private copy, perturbed in place
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = float(f(x))
        flat[i] = old - h
        minus = float(f(x))
        flat[i] = old
        gflat[i] = (plus - minus) / (2.0 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x, dout, *, h: float = 1e-6
) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x``: what a backward pass returns.

    Shapes: ``x`` any shape; ``dout`` the shape of ``f(x)``; result the shape of ``x``.
    """
    dout = np.asarray(dout, dtype=np.float64)
    return numerical_gradient(lambda z: float(np.sum(np.asarray(f(z)) * dout)), x, h=h)


def relative_error(a, b) -> float:
    """Norm-wise relative error ``||a - b|| / max(||a|| + ||b||, 1e-300)``.

    Norm-wise rather than element-wise, so that a gradient entry that is zero up to rounding does
    not turn a correct backward into a huge ratio; 0.0 when both are exactly zero.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} and {b.shape}")
    num = float(np.linalg.norm((a - b).ravel()))
    den = float(np.linalg.norm(a.ravel()) + np.linalg.norm(b.ravel()))
    return 0.0 if num == 0.0 else num / max(den, 1e-300)
