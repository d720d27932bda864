"""A fully connected residual block (He et al. 2016), on one vector.

    h = ReLU(W1 x + b1),   F(x) = W2 h + b2,   y = ReLU(x + F(x))

Shapes: x (d,), W1 (m, d), b1 (m,), W2 (d, m), b2 (d,); y (d,). The skip connection needs F(x)
and x of the same size d; where the block changes the size to d' (W2 (d', m), b2 (d',)), a
projection shortcut W_s (d', d) replaces x (He et al.'s option B, in a CNN a 1x1 convolution,
with a stride where the resolution halves):

    y = ReLU(W_s x + F(x)).

``order="relu_then_add"`` is the mistaken y = ReLU(F(x)) + x; ``skip=False`` drops the shortcut
(a plain two-layer block).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose

__all__ = ["ResidualForward", "residual_block"]


def _relu(v: np.ndarray) -> np.ndarray:
    return np.maximum(v, 0.0)


_ORDERS = {
    "add_then_relu": lambda x, f: _relu(x + f),
    "relu_then_add": lambda x, f: _relu(f) + x,
}


class ResidualForward(NamedTuple):
    """``hidden`` h (m,), ``residual`` F(x) (d',), ``out`` y (d',), ``shortcut`` x or W_s x (d',)."""

    hidden: np.ndarray
    residual: np.ndarray
    out: np.ndarray
    shortcut: np.ndarray | None = None


_HIDDEN = {"relu": _relu, "identity": lambda v: v}


def residual_block(
    x,
    w1,
    b1,
    w2,
    b2,
    *,
    ws=None,
    skip: bool = True,
    order: str = "add_then_relu",
    hidden_activation: str = "relu",
) -> ResidualForward:
    """y = ReLU(s + W2 ReLU(W1 x + b1) + b2), with the shortcut s = x, or s = W_s x given ``ws``
    (d', d) (a projection shortcut); see the module docstring for shapes.
    ``hidden_activation="identity"`` leaves out the inner ReLU (the mistake)."""
    x = as_float_array(x, "x", ndim=1)
    w1, w2 = as_float_array(w1, "w1", ndim=2), as_float_array(w2, "w2", ndim=2)
    b1, b2 = as_float_array(b1, "b1", ndim=1), as_float_array(b2, "b2", ndim=1)
    ws = None if ws is None else as_float_array(ws, "ws", ndim=2)
    d_out = x.size if ws is None else ws.shape[0]
    if (
        w1.shape[1] != x.size
        or w2.shape != (d_out, w1.shape[0])
        or b1.size != w1.shape[0]
        or b2.size != d_out
        or (ws is not None and ws.shape[1] != x.size)
    ):
        shown = "" if ws is None else f", ws {ws.shape}"
        raise ValueError(
            f"residual_block: shapes x {x.shape}, w1 {w1.shape}, b1 {b1.shape}, w2 {w2.shape}, b2 {b2.shape}"
            f"{shown} do not chain; need W1 (m, d), b1 (m,), W2 (d', m), b2 (d',) for x (d,), with "
            "d' = d, or W_s (d', d) for a projection shortcut"
        )
    h = choose(hidden_activation, "hidden_activation", _HIDDEN)(w1 @ x + b1)
    f = w2 @ h + b2
    projected = x if ws is None else ws @ x
    shortcut = projected * choose(skip, "skip", {True: 1.0, False: 0.0})
    return ResidualForward(h, f, choose(order, "order", _ORDERS)(shortcut, f), projected)
