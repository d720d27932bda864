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

__all__ = [
    "PerceptronEpoch",
    "PerceptronStep",
    "gate_targets",
    "net_inputs",
    "perceptron_epoch",
    "perceptron_output",
    "perceptron_step",
    "truth_table",
]

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


_GATES = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "NAND": lambda a, b: ~(a & b),
    "NOR": lambda a, b: ~(a | b),
    "XOR": lambda a, b: a ^ b,
}


def gate_targets(gate: str, X) -> np.ndarray:
    """The truth values (m,) of a two-input ``gate`` ("AND", "OR", "NAND", "NOR", "XOR") on the
    0/1 rows of ``X`` (m, 2), as floats; e.g. NAND on (0,0), (1,1): (1, 0)."""
    X = as_float_array(X, "X", ndim=2)
    if X.shape[1] != 2 or not np.isin(X, (0.0, 1.0)).all():
        raise ValueError(f"X: expected rows of two 0/1 inputs, got shape {X.shape}")
    bits = X.astype(bool)
    return choose(gate, "gate", _GATES)(bits[:, 0], bits[:, 1]).astype(np.float64)


class PerceptronEpoch(NamedTuple):
    """One pass of the learning rule over a data set: the final ``w`` and ``b``, the number of
    ``updates`` (examples misclassified when they were seen), and per example the ``outputs`` y_k
    and the weights ``ws`` (k + 1, n) and biases ``bs`` (k + 1,) before and after each one."""

    w: np.ndarray
    b: float
    updates: int
    outputs: np.ndarray
    ws: np.ndarray
    bs: np.ndarray


def _online_epoch(w, b, X, t, lr, at_zero, update_bias, error):
    """Rosenblatt's rule: each example updates the weights before the next one is seen."""
    ws, bs, ys = [w], [b], []
    for x, target in zip(X, t, strict=True):
        s = perceptron_step(w, b, x, target, lr=lr, at_zero=at_zero, update_bias=update_bias, error=error)
        w, b = s.w, s.b
        ws.append(w)
        bs.append(b)
        ys.append(s.output)
    return ws, bs, ys


def _batch_epoch(w, b, X, t, lr, at_zero, update_bias, error):
    """A slip: every output computed with the starting weights, the corrections summed at the end."""
    ys, w_end, b_end = [], w, b
    for x, target in zip(X, t, strict=True):
        s = perceptron_step(w, b, x, target, lr=lr, at_zero=at_zero, update_bias=update_bias, error=error)
        ys.append(s.output)
        w_end = w_end + (s.w - w)
        b_end = b_end + (s.b - b)
    return [w] * len(ys) + [w_end], [b] * len(ys) + [b_end], ys


_EPOCH_MODES = {"online": _online_epoch, "batch": _batch_epoch}


def perceptron_epoch(
    w,
    b,
    X,
    targets,
    *,
    lr: float = 1.0,
    at_zero: float = 0.0,
    update_bias: bool = True,
    mode: str = "online",
    error: str = "target_minus_output",
) -> PerceptronEpoch:
    """One epoch of the perceptron rule over the rows of ``X`` (m, n) in order, targets (m,) in {0, 1}:
    for each example, y = step(w · x + b), w <- w + lr (t - y) x, b <- b + lr (t - y)
    (:func:`perceptron_step`), the next example seeing the updated weights (``mode="online"``).
    ``mode="batch"`` (outputs from the starting weights, corrections summed) is a mistake;
    ``at_zero``, ``update_bias`` and ``error`` are :func:`perceptron_step`'s.
    e.g. AND from w = (0, 0), b = 0, lr = 1: only (1, 1) is wrong, so w = (1, 1), b = 1.
    """
    X = as_float_array(X, "X", ndim=2)
    w = as_float_array(w, "w", ndim=1)
    t = as_float_array(targets, "targets", ndim=1)
    if t.shape != (X.shape[0],):
        raise ValueError(f"targets: expected {X.shape[0]} targets (one per row of X), got shape {t.shape}")
    run = choose(mode, "mode", _EPOCH_MODES)
    ws, bs, ys = run(w, float(b), X, t, nonnegative(lr, "lr"), at_zero, update_bias, error)
    outputs = np.array(ys)
    return PerceptronEpoch(
        ws[-1], float(bs[-1]), int(np.sum(outputs != t)), outputs, np.array(ws), np.array(bs)
    )
