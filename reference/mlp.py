"""Fully connected networks with every intermediate value, for worked backpropagation solutions.

A dense layer is ``torch.nn.Linear``: weight ``w`` of shape (out, in), bias ``b`` of shape (out,),
``z = x wᵀ + b`` for x of shape (N, in) or a single sample (in,). An MLP with L layers computes,
for l = 0, ..., L-1 (layer l + 1 in the notes' 1-based numbering),

    z_l = a_{l-1} W_lᵀ + b_l    (net input, "net_h1"),     a_l = h_l(z_l)    (output, "out_h1"),

with a_{-1} = x and h_l an activation by exact name (:func:`quizgen.reference.activations.activation`).
Backpropagation with delta_l = dE/dz_l:

    delta_{L-1} = dE/da_{L-1} ⊙ h'_{L-1}(z_{L-1}),     delta_l = (delta_{l+1} W_{l+1}) ⊙ h'_l(z_l),
    dE/dW_l = delta_lᵀ a_{l-1},     dE/db_l = Σ_batch delta_l.

The loss E is a function of :mod:`quizgen.reference.losses` by exact name (``LOSSES``); losses on
logits (``softmax_cross_entropy``, ``binary_cross_entropy_with_logits``) need an ``identity`` last
layer, and then delta_{L-1} = softmax(z) - target (/ N for "mean"), resp. σ(z) - target.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from . import losses
from ._checks import as_float_array, check_shape, choose, one_of, positive_int
from .activations import activation
from .optim import sgd_step

__all__ = [
    "DenseCache",
    "DenseForward",
    "DenseGrads",
    "GDStep",
    "MLPBackward",
    "MLPForward",
    "TrainStep",
    "dense_backward",
    "dense_forward",
    "gd_step",
    "linear_param_count",
    "mlp_backprop",
    "mlp_backward",
    "mlp_forward",
    "train_step",
]


# --------------------------------------------------------------------------------------------------
# one dense layer


class DenseCache(NamedTuple):
    """What :func:`dense_backward` needs: the layer input ``x``, the weight ``w``, and the bias (or None)."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None


class DenseForward(NamedTuple):
    """``out``: (N, out) or (out,); ``cache`` for :func:`dense_backward`."""

    out: np.ndarray
    cache: DenseCache


class DenseGrads(NamedTuple):
    """``dx`` shape of x, ``dw`` (out, in), ``db`` (out,) (None for a layer without bias)."""

    dx: np.ndarray
    dw: np.ndarray
    db: np.ndarray | None


def dense_forward(x, w, b=None, *, name: str = "") -> DenseForward:
    """``nn.Linear``: out = x wᵀ + b, x (N, in) or (in,), w (out, in), b (out,) or None; out (N, out) or (out,)."""
    prefix = f"{name}." if name else ""
    x = as_float_array(x, f"{prefix}x")
    w = as_float_array(w, f"{prefix}w", ndim=2)
    if x.ndim not in (1, 2):
        raise ValueError(f"{prefix}x: expected shape (N, in) or (in,), got {x.shape}")
    check_shape(x, f"{prefix}x", (*x.shape[:-1], w.shape[1]))
    if b is not None:
        b = as_float_array(b, f"{prefix}b")
        check_shape(b, f"{prefix}b", (w.shape[0],))
    out = x @ w.T
    if b is not None:
        out = out + b
    return DenseForward(out, DenseCache(x, w, b))


def dense_backward(dout, cache: DenseCache) -> DenseGrads:
    """Gradients of ``sum(out * dout)``: dx = dout w, dw = doutᵀ x (outer product for one sample),
    db = dout summed over the batch; ``dout`` has the shape of ``out``."""
    x, w, b = cache
    dout = as_float_array(dout, "dout")
    check_shape(dout, "dout", (*x.shape[:-1], w.shape[0]))
    dx = dout @ w
    dw = dout[:, None] * x if x.ndim == 1 else dout.T @ x  # outer product: np.outer's one multiply
    db = None if b is None else (dout if dout.ndim == 1 else dout.sum(axis=0))
    return DenseGrads(dx, dw, db)


def linear_param_count(in_features: int, out_features: int, *, bias: bool = True) -> int:
    """Learnable parameters of ``nn.Linear(in_features, out_features, bias)``: weight (out, in)
    and bias (out,), so out · in + [bias] · out = out · (in + 1) with bias. e.g. Linear(4, 3):
    3 · (4 + 1) = 15; without bias 12."""
    fan_in = positive_int(in_features, "in_features")
    fan_out = positive_int(out_features, "out_features")
    has_bias = choose(bias, "bias", {False: 0, True: 1})
    return fan_out * (fan_in + has_bias)


# --------------------------------------------------------------------------------------------------
# the network


class MLPForward(NamedTuple):
    """Per layer l: ``net_inputs[l]`` = z_l, ``outputs[l]`` = a_l = h_l(z_l); ``output`` = a_{L-1}.

    Also the ``input`` x, the ``activations`` names per layer and the dense ``caches`` (which hold
    each layer's input, weight and bias) for :func:`mlp_backward`.
    """

    net_inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    output: np.ndarray
    input: np.ndarray
    activations: list[str]
    caches: list[DenseCache]


class MLPBackward(NamedTuple):
    """``loss`` E (None from :func:`mlp_backprop`); per layer l: ``deltas[l]`` = dE/dz_l, ``dweights[l]`` = dE/dW_l, ``dbiases[l]`` = dE/db_l.

    Also the chain-rule factors a worked solution prints: ``doutput`` = dE/da_{L-1} (the loss's
    gradient), ``activation_grads[l]`` = h'_l(z_l) (da_l/dz_l elementwise), and ``dinput`` = dE/dx.
    """

    loss: float | np.ndarray | None
    deltas: list[np.ndarray]
    dweights: list[np.ndarray]
    dbiases: list[np.ndarray | None]
    doutput: np.ndarray
    activation_grads: list[np.ndarray]
    dinput: np.ndarray


def _layer_names(activations, n_layers: int) -> list[str]:
    """One activation name per layer; a single name applies to every layer."""
    names = [activations] * n_layers if isinstance(activations, str) else list(activations)
    if len(names) != n_layers:
        raise ValueError(f"activations: expected {n_layers} names (one per layer), got {len(names)}")
    for name in names:
        activation(name)  # unknown names fail here, listing the known ones
    return names


def _layers(weights, biases) -> tuple[list, list]:
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or len(weights) == 0:
        raise ValueError("weights: expected a non-empty list of (out, in) matrices, one per layer")
    biases = [None] * len(weights) if biases is None else list(biases)
    if len(biases) != len(weights):
        raise ValueError(f"biases: expected {len(weights)} (one per layer, or None), got {len(biases)}")
    return list(weights), biases


def mlp_forward(x, weights, biases, activations) -> MLPForward:
    """Forward pass: z_l = a_{l-1} W_lᵀ + b_l, a_l = h_l(z_l), a_{-1} = x.

    ``x`` (N, in) or (in,); ``weights[l]`` (out_l, in_l) with in_0 = in and in_l = out_{l-1};
    ``biases[l]`` (out_l,) or None (``biases=None``: no biases); ``activations`` one name per layer
    (or one name for all). Output (N, out_{L-1}) or (out_{L-1},).
    """
    weights, biases = _layers(weights, biases)
    names = _layer_names(activations, len(weights))
    a = as_float_array(x, "x")
    out = MLPForward([], [], a, a, names, [])
    for l, (w, b, name) in enumerate(zip(weights, biases, names, strict=True)):
        z, cache = dense_forward(a, w, b, name=f"layer {l}")
        a = activation(name).fn(z)
        out.net_inputs.append(z)
        out.outputs.append(a)
        out.caches.append(cache)
    return out._replace(output=a)


class _Loss(NamedTuple):
    fn: Callable[..., losses.LossResult]
    on_logits: bool  # the loss applies its own sigmoid/softmax, so the last layer must be identity


LOSSES: dict[str, _Loss] = {
    "half_squared_error": _Loss(losses.half_squared_error, on_logits=False),
    "mse": _Loss(losses.mse, on_logits=False),
    "mae": _Loss(losses.mae, on_logits=False),
    "huber": _Loss(losses.huber, on_logits=False),
    "binary_cross_entropy": _Loss(losses.binary_cross_entropy, on_logits=False),
    "cross_entropy_probs": _Loss(losses.cross_entropy_probs, on_logits=False),
    "binary_cross_entropy_with_logits": _Loss(losses.binary_cross_entropy_with_logits, on_logits=True),
    "softmax_cross_entropy": _Loss(losses.softmax_cross_entropy, on_logits=True),
}


def mlp_backward(
    forward: MLPForward, target, *, loss: str = "half_squared_error", reduction: str | None = None
) -> MLPBackward:
    """Backpropagation through :func:`mlp_forward`'s network for loss E = ``loss(output, target)``.

    ``target`` as the loss expects (the output's shape, or class indices for
    ``softmax_cross_entropy``); ``reduction`` "mean", "sum" or "none" (E = sum of the unreduced
    losses), None for the loss's own default ("sum" for half_squared_error, else "mean").
    delta_l = dE/dz_l as in the module docstring; shapes of z_l, W_l, b_l.
    """
    if not isinstance(forward, MLPForward):
        raise ValueError(f"forward: expected the MLPForward of mlp_forward, got {type(forward).__name__}")
    spec = choose(loss, "loss", LOSSES)
    if spec.on_logits and forward.activations[-1] != "identity":
        raise ValueError(
            f"activations: {loss} takes logits, so the last layer's activation must be 'identity', "
            f"got {forward.activations[-1]!r}"
        )
    kw = {} if reduction is None else {"reduction": one_of(reduction, "reduction", ("mean", "sum", "none"))}
    value, doutput = spec.fn(forward.output, target, **kw)
    return mlp_backprop(forward, doutput)._replace(loss=value)


def mlp_backprop(forward: MLPForward, doutput, *, activation_derivative: bool = True) -> MLPBackward:
    """Backpropagation through :func:`mlp_forward`'s network from a given ``doutput`` = dE/da_{L-1}
    (the output's shape), e.g. dE/dx of the layers above it: delta_l = (delta_{l+1} W_{l+1}) ⊙ h'_l(z_l).

    ``loss`` is None (no loss is computed here). ``activation_derivative=False`` is the mistake of
    passing the gradient straight through each activation (h'_l taken as 1, delta_l = dE/da_l).
    """
    if not isinstance(forward, MLPForward):
        raise ValueError(f"forward: expected the MLPForward of mlp_forward, got {type(forward).__name__}")
    doutput = as_float_array(doutput, "doutput")
    check_shape(doutput, "doutput", np.shape(forward.output))
    n_layers = len(forward.caches)
    deltas: list = [None] * n_layers
    dweights: list = [None] * n_layers
    dbiases: list = [None] * n_layers
    local = [activation(n).grad(z) for n, z in zip(forward.activations, forward.net_inputs, strict=True)]
    if not activation_derivative:
        local = [np.ones_like(g) for g in local]
    upstream = doutput
    for l in reversed(range(n_layers)):
        deltas[l] = upstream * local[l]
        upstream, dweights[l], dbiases[l] = dense_backward(deltas[l], forward.caches[l])
    return MLPBackward(None, deltas, dweights, dbiases, doutput, local, upstream)


# --------------------------------------------------------------------------------------------------
# gradient descent


class GDStep(NamedTuple):
    """The updated ``weights`` and ``biases`` (lists, one entry per layer; None stays None)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray | None]


def gd_step(weights, biases, dweights, dbiases, *, lr: float) -> GDStep:
    """Plain gradient descent on every layer: W <- W - lr dW, b <- b - lr db (:func:`optim.sgd_step`)."""
    weights, biases = _layers(weights, biases)
    dweights, dbiases = _layers(dweights, dbiases)
    if len(dweights) != len(weights):
        raise ValueError(f"dweights: expected {len(weights)} (one per layer), got {len(dweights)}")

    def descend(p, g, name):
        if p is None:
            return None
        if g is None:
            raise ValueError(f"{name}: expected a gradient for every parameter, got None")
        return sgd_step(p, g, None, lr=lr).param

    new_w = [descend(w, g, "dweights") for w, g in zip(weights, dweights, strict=True)]
    new_b = [descend(b, g, "dbiases") for b, g in zip(biases, dbiases, strict=True)]
    return GDStep(new_w, new_b)


class TrainStep(NamedTuple):
    """One training step: the ``forward`` and ``backward`` passes and the updated ``weights``, ``biases``."""

    forward: MLPForward
    backward: MLPBackward
    weights: list[np.ndarray]
    biases: list[np.ndarray | None]


def train_step(
    x,
    target,
    weights,
    biases,
    *,
    activations,
    loss: str = "half_squared_error",
    lr: float,
    reduction: str | None = None,
) -> TrainStep:
    """Forward, backward (all gradients from the current weights), then :func:`gd_step` with ``lr``."""
    fwd = mlp_forward(x, weights, biases, activations)
    bwd = mlp_backward(fwd, target, loss=loss, reduction=reduction)
    new = gd_step(weights, biases, bwd.dweights, bwd.dbiases, lr=lr)
    return TrainStep(fwd, bwd, new.weights, new.biases)
