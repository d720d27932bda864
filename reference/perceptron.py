"""Rosenblatt's perceptron: a threshold unit and its learning rule.

With weights w (n,), bias b and input x (n,), the unit outputs

    y = step(w · x + b),   step(z) = 1 if z > 0, 0 if z < 0, ``at_zero`` if z = 0,

so ``at_zero=0`` is "output 0 when w · x <= threshold" with threshold = -b (as scikit-learn's
``Perceptron`` predicts the positive class only for a positive decision value); ``at_zero=1`` is
the Heaviside convention H(0) = 1. The learning rule on one example (x, t), t in {0, 1}:

    w <- w + lr (t - y) x,   b <- b + lr (t - y).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose, nonnegative

__all__ = ["PerceptronStep", "net_inputs", "perceptron_output", "perceptron_step", "truth_table"]

# The four inputs of a two-input gate, in the order a truth table lists them.
GATE_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])

_ERRORS = {
    "target_minus_output": lambda t, y: t - y,
    "output_minus_target": lambda t, y: y - t,  # the sign flipped: moves away from the target
}


def _step(z: np.ndarray, at_zero: float) -> np.ndarray:
    return np.where(z > 0, 1.0, np.where(z < 0, 0.0, float(at_zero)))


def perceptron_output(x, w, b: float = 0.0, *, at_zero: float = 0.0) -> float:
    """step(w · x + b) for one input: x (n,), w (n,), b a scalar; 1.0 or 0.0 (``at_zero`` at 0)."""
    x = as_float_array(x, "x", ndim=1)
    w = as_float_array(w, "w", ndim=1)
    if x.shape != w.shape:
        raise ValueError(
            f"perceptron_output: x has shape {x.shape} but w has {w.shape}; give one weight per input"
        )
    return float(_step(np.asarray(w @ x + float(b)), at_zero))


def net_inputs(w, b: float = 0.0) -> np.ndarray:
    """z_k = w · x_k + b (4,) of a two-input unit, w (2,), for (0,0), (0,1), (1,0), (1,1)."""
    w = as_float_array(w, "w", ndim=1)
    if w.shape != (2,):
        raise ValueError(f"net_inputs: w has shape {w.shape}; a two-input gate needs 2 weights")
    return GATE_INPUTS @ w + float(b)


def truth_table(w, b: float = 0.0, *, at_zero: float = 0.0) -> np.ndarray:
    """Outputs (4,) of a two-input perceptron, w (2,), for the inputs (0,0), (0,1), (1,0), (1,1):
    y_k = step(w · x_k + b). e.g. w = (-2, -2), b = 3 gives NAND: (1, 1, 1, 0)."""
    return _step(net_inputs(w, b), at_zero)


class PerceptronStep(NamedTuple):
    """One step of the learning rule: the net input ``z`` = w · x + b and ``output`` y before it,
    the ``error`` t - y, the new ``w`` and ``b``."""

    z: float
    output: float
    error: float
    w: np.ndarray
    b: float


def perceptron_step(
    w,
    b,
    x,
    target,
    *,
    lr: float = 1.0,
    at_zero: float = 0.0,
    error: str = "target_minus_output",
    update_bias: bool = True,
) -> PerceptronStep:
    """The perceptron rule on one example: y = step(w · x + b), then
    w' = w + lr (t - y) x and b' = b + lr (t - y) (b unchanged with ``update_bias=False``).
    Shapes: w (n,), x (n,); b, target scalars. ``error="output_minus_target"`` flips the sign."""
    x = as_float_array(x, "x", ndim=1)
    w = as_float_array(w, "w", ndim=1)
    lr = nonnegative(lr, "lr")
    if x.shape != w.shape:
        raise ValueError(
            f"perceptron_step: x has shape {x.shape} but w has {w.shape}; give one weight per input"
        )
    z = float(w @ x + float(b))
    y = float(_step(np.asarray(z), at_zero))
    e = float(choose(error, "error", _ERRORS)(float(target), y))
    bias_factor = choose(update_bias, "update_bias", {True: 1.0, False: 0.0})
    return PerceptronStep(z, y, e, w + lr * e * x, float(b) + bias_factor * lr * e)
