"""Parameter penalties, weight decay and dropout (``torch.nn.Dropout`` semantics).

Conventions, so a mistake can be computed with the same code:
  - ``l2_penalty(..., half=...)``: lam Σ w² (grad 2 lam w) or lam/2 Σ w² (grad lam w); both are
    in textbooks (course note 002 writes Ω = ½‖w‖², "commonly known as weight decay").
  - ``weight_decay_step(..., form=...)``: ``"pytorch"`` (``torch.optim.SGD``: the L2 gradient
    wd·w is added to g) or ``"one_minus_lambda"``: θ ← (1 - λ) θ - η ∇L with λ = weight_decay
    taken as the whole shrink factor, as course note 003 writes it (the two agree when
    λ = lr · wd; note 003 also writes θ - η∇L = (1 - λ)θ - η∇L, dropping the decay on one side).
  - ``dropout_forward(..., convention=...)``: ``"inverted"`` (PyTorch: scale kept units by
    1/(1-p) in training, identity at test) or ``"scale_at_test"`` (course note 003: "the weights
    times 1-p" at test time, no scaling in training).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_shape, choose, nonnegative, nonnegative_int, probability

__all__ = [
    "DropoutCache",
    "DropoutForward",
    "MaxNorm",
    "PenaltyResult",
    "dropout_backward",
    "dropout_forward",
    "dropout_mask",
    "l1_penalty",
    "l2_penalty",
    "max_norm",
    "weight_decay_step",
]


class PenaltyResult(NamedTuple):
    """A penalty's value (a float) and its gradient with respect to w (shape of w)."""

    penalty: float
    grad: np.ndarray


def l1_penalty(w, lam: float) -> PenaltyResult:
    """L1 penalty lam Σ|w| and its (sub)gradient lam · sign(w), with sign(0) = 0 as in
    ``torch.sign``; w any shape, lam >= 0."""
    w = as_float_array(w, "w")
    lam = nonnegative(lam, "lam")
    return PenaltyResult(lam * float(np.abs(w).sum()), lam * np.sign(w))


# Coefficient c in c · lam · Σ w²: the plain sum or the half that makes the gradient lam · w.
_L2_COEFFICIENTS: dict[bool, float] = {False: 1.0, True: 0.5}


def l2_penalty(w, lam: float, *, half: bool = False) -> PenaltyResult:
    """L2 penalty c · lam · Σ w² and its gradient 2 c · lam · w, with c = 1 (``half=False``) or
    c = 1/2 (``half=True``: lam/2 Σ w², gradient lam · w, PyTorch's ``weight_decay``); w any shape."""
    w = as_float_array(w, "w")
    lam = nonnegative(lam, "lam")
    c = choose(half, "half", _L2_COEFFICIENTS)
    return PenaltyResult(c * lam * float(np.square(w).sum()), 2.0 * c * lam * w)


def _pytorch_decay(w, g, lr, weight_decay):
    return w - lr * (g + l2_penalty(w, weight_decay, half=True).grad)


def _one_minus_lambda_decay(w, g, lr, weight_decay):
    return (1.0 - weight_decay) * w - lr * g


_DECAY_FORMS = {"pytorch": _pytorch_decay, "one_minus_lambda": _one_minus_lambda_decay}


def weight_decay_step(w, g, *, lr: float, weight_decay: float, form: str = "pytorch") -> np.ndarray:
    """One gradient step with weight decay; w and g of one shape, result of that shape.

    ``"pytorch"`` (``torch.optim.SGD`` without momentum): w - lr (g + wd · w) = (1 - lr·wd) w - lr g.
    ``"one_minus_lambda"`` (course note 003): (1 - λ) w - lr g with λ = ``weight_decay``.
    """
    w = as_float_array(w, "w")
    g = as_float_array(g, "g")
    check_shape(g, "g", w.shape)
    lr = nonnegative(lr, "lr")
    weight_decay = nonnegative(weight_decay, "weight_decay")
    return choose(form, "form", _DECAY_FORMS)(w, g, lr, weight_decay)


class _DropoutScales(NamedTuple):
    train: float  # multiplies x * mask in training
    test: float  # multiplies x in evaluation


def _inverted(p: float) -> _DropoutScales:
    return _DropoutScales(1.0 / (1.0 - p), 1.0)


def _scale_at_test(p: float) -> _DropoutScales:
    return _DropoutScales(1.0, 1.0 - p)


_DROPOUT_CONVENTIONS = {"inverted": _inverted, "scale_at_test": _scale_at_test}


class DropoutCache(NamedTuple):
    multiplier: np.ndarray  # d out / d x, elementwise (shape of x)


class DropoutForward(NamedTuple):
    out: np.ndarray
    cache: DropoutCache


def dropout_forward(
    x, mask=None, *, p: float = 0.5, training: bool = True, convention: str = "inverted"
) -> DropoutForward:
    """Dropout with DROP probability p in [0, 1) (PyTorch default 0.5); x any shape.

    ``mask`` (shape of x) holds 1 for a kept unit and 0 for a dropped one (see
    :func:`dropout_mask`); it is needed in training only.
    ``"inverted"`` (PyTorch): train out = x · mask / (1 - p), eval out = x.
    ``"scale_at_test"``: train out = x · mask, eval out = x · (1 - p).
    (PyTorch also accepts p = 1 and then returns zeros; here p must be below 1.)
    """
    x = as_float_array(x, "x")
    p = probability(p, "p")
    scales = choose(convention, "convention", _DROPOUT_CONVENTIONS)(p)
    if training:
        if mask is None:
            raise ValueError("mask: expected an array of 0s and 1s in training, got None")
        mask = as_float_array(mask, "mask")
        check_shape(mask, "mask", x.shape)
        if not np.all((mask == 0.0) | (mask == 1.0)):
            raise ValueError("mask: expected only 0 (drop) and 1 (keep) entries")
        multiplier = mask * scales.train
    else:
        multiplier = np.full(x.shape, scales.test)
    return DropoutForward(x * multiplier, DropoutCache(multiplier))


def dropout_backward(dout, cache: DropoutCache) -> np.ndarray:
    """dx = dout · (d out / d x): the mask times the training scale, or the test scale."""
    dout = as_float_array(dout, "dout")
    check_shape(dout, "dout", cache.multiplier.shape)
    return dout * cache.multiplier


def dropout_mask(shape, p: float, seed: int) -> np.ndarray:
    """A float mask of the given shape: each entry 0 (dropped) with probability p, else 1, drawn
    as ``np.random.default_rng(seed).random(shape) >= p``."""
    p = probability(p, "p")
    seed = nonnegative_int(seed, "seed")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    for size in shape:
        nonnegative_int(size, "shape")
    return (np.random.default_rng(seed).random(shape) >= p).astype(np.float64)


# --------------------------------------------------------------------------------------------------
# Max-norm constraint (torch.renorm): cap the L2 norm of each unit's incoming weights


class MaxNorm(NamedTuple):
    """The constrained weight (shape of w), each slice's L2 ``norms`` before and the ``scales``
    applied (both (w.shape[dim],))."""

    w: np.ndarray
    norms: np.ndarray
    scales: np.ndarray


# scale of a slice with L2 norm ``norm`` under the cap c (PyTorch's renorm adds 1e-7 to the norm)
_MAX_NORM_MODES = {
    "renorm": lambda norm, c: np.where(norm > c, c / (norm + 1e-7), 1.0),
    "normalize_all": lambda norm, c: c / (norm + 1e-7),  # the mistake: every slice set to norm c
}


def max_norm(w, max_norm: float, *, dim: int = 0, mode: str = "renorm") -> MaxNorm:
    """Max-norm constraint as ``torch.renorm(w, p=2, dim=dim, maxnorm=max_norm)``: each slice
    w[i] along ``dim`` (for ``nn.Linear``'s weight (out, in) and dim 0: the incoming weights of
    unit i) whose L2 norm exceeds c = max_norm is scaled down to norm c; the others are unchanged:

        w[i] ← w[i] · c / (‖w[i]‖ + 1e-7)   if ‖w[i]‖ > c.

    ``mode="normalize_all"`` rescales every slice to norm c (the mistake of normalizing rather than
    capping); ``mode="clip_entries"`` clips each entry to [-c, c] instead (norms and scales then
    report the slices' norms and 1). e.g. rows [3, 4] and [0.6, 0.8] with c = 2: [1.2, 1.6] and
    the second row unchanged.
    """
    w = as_float_array(w, "w")
    if w.ndim < 1:
        raise ValueError("w: expected an array with at least one axis")
    c = nonnegative(max_norm, "max_norm")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -w.ndim <= dim < w.ndim:
        raise ValueError(f"dim: expected an axis of w (shape {w.shape}), got {dim!r}")
    moved = np.moveaxis(w, dim, 0)
    norms = np.sqrt((moved.reshape(moved.shape[0], -1) ** 2).sum(axis=1))
    if mode == "clip_entries":
        return MaxNorm(np.clip(w, -c, c), norms, np.ones_like(norms))
    scales = choose(mode, "mode", _MAX_NORM_MODES)(norms, c)
    out = moved * scales.reshape((-1,) + (1,) * (moved.ndim - 1))
    return MaxNorm(np.moveaxis(out, 0, dim), norms, scales)
