"""Piecewise-linear functions as one-hidden-layer ReLU networks (the universal approximation form).

The linear interpolant of points (x_0, y_0), ..., (x_K, y_K), x_0 < ... < x_K, is on [x_0, x_K]

    f(x) = y_0 + Σ_{i=0..K-1} v_i ReLU(x - x_i),   v_0 = s_0,  v_i = s_i - s_{i-1},

with s_i = (y_{i+1} - y_i) / (x_{i+1} - x_i) the slope of segment i: hidden unit i switches on at
the knot x_i and its output weight is the change of slope there. As a network (``mlp.mlp_forward``):
W_1 = ones (K, 1), b_1 = -(x_0, ..., x_{K-1}), W_2 = (v_0, ..., v_{K-1}), b_2 = y_0.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose

__all__ = ["ReluInterpolant", "relu_interpolant"]


class ReluInterpolant(NamedTuple):
    """The network of the module docstring: hidden ``weights`` (K, 1) and ``biases`` (K,), output
    weights ``output_weights`` (1, K) and bias ``output_bias`` (1,); also the segment ``slopes`` (K,)."""

    weights: np.ndarray
    biases: np.ndarray
    output_weights: np.ndarray
    output_bias: np.ndarray
    slopes: np.ndarray


def _slope_changes(slopes: np.ndarray) -> np.ndarray:
    """The output weights: v_0 = s_0, v_i = s_i - s_{i-1}."""
    return np.diff(slopes, prepend=0.0)


def _slopes_as_weights(slopes: np.ndarray) -> np.ndarray:
    """A slip: each unit weighted by its segment's slope, though the units before it are still on."""
    return slopes.copy()


OUTPUT_WEIGHTS = {"slope_changes": _slope_changes, "slopes": _slopes_as_weights}


def relu_interpolant(xs, ys, *, output_weights: str = "slope_changes") -> ReluInterpolant:
    """The ReLU network through the points (xs[i], ys[i]); xs (K + 1,) strictly increasing, ys (K + 1,).

    e.g. (0, 0), (1, 2), (3, 1): slopes 2, -1/2, so f(x) = 2 ReLU(x) - 2.5 ReLU(x - 1).
    ``output_weights="slopes"`` (the slopes themselves as output weights) is the mistake.
    """
    x = as_float_array(xs, "xs", ndim=1)
    y = as_float_array(ys, "ys", ndim=1)
    if x.size < 2 or y.shape != x.shape:
        raise ValueError(
            f"xs, ys: expected two equal-length lists of at least 2 points, got {x.shape} and {y.shape}"
        )
    if not (np.diff(x) > 0).all():
        raise ValueError(f"xs: expected strictly increasing knots, got {x.tolist()}")
    slopes = np.diff(y) / np.diff(x)
    v = choose(output_weights, "output_weights", OUTPUT_WEIGHTS)(slopes)
    k = slopes.size
    return ReluInterpolant(np.ones((k, 1)), 0.0 - x[:-1], v.reshape(1, k), y[:1].copy(), slopes)
