"""Optimizers as pure steps on explicit state, with PyTorch's ``torch.optim`` semantics and defaults.

Every step has the shape ``xxx_step(p, g, state, *, hyper...) -> StepResult(param, state, update)``:

- ``p`` and ``g`` are arrays of one shape (any shape, a 0-d scalar included); ``g`` is the gradient
  of the loss at ``p`` (for SGD's Sutskever form, at :func:`sgd_gradient_point`).
- ``state`` is a frozen dataclass of the optimizer's buffers, or ``None`` for the initial state
  (PyTorch initialises its buffers lazily at the first step). Nothing is modified in place, so a
  state can be kept for a worked solution and steps chain: ``state = r.state`` for the next call.
- ``update`` is the change applied to the parameters, ``param - p``.

Counting follows PyTorch: ``state.step`` is the number of steps taken, so the first step has t = 1.
Gradient transformations happen in PyTorch's order: ``maximize`` negates ``g``, then L2 weight decay
adds ``weight_decay * p`` (AdamW instead shrinks ``p``; see :func:`adamw_step`).

A course note's version that differs from PyTorch is a named convention (``momentum_form``,
``eps_placement``, ``bias_correction``), so the question bank computes a common mistake with the
same code as the answer.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ._checks import (
    as_float_array,
    check_shape,
    choose,
    nonnegative,
    nonnegative_int,
    positive_int,
    probability,
)

__all__ = [
    "AdagradState",
    "AdamState",
    "ClipResult",
    "RMSpropState",
    "SGDState",
    "StepResult",
    "Trajectory",
    "adagrad_step",
    "adam_step",
    "adamw_step",
    "clip_grad_norm",
    "clip_grad_value",
    "rmsprop_step",
    "run_optimizer",
    "sgd_gradient_point",
    "sgd_step",
]


class StepResult(NamedTuple):
    """One optimizer step: the new parameters, the new state, and the change ``param - p``."""

    param: np.ndarray
    state: Any
    update: np.ndarray


@dataclass(frozen=True, eq=False)
class SGDState:
    """SGD's state after ``step`` steps.

    ``momentum_buffer`` is ``None`` until the first step with momentum > 0 (as in PyTorch). Its
    meaning depends on ``momentum_form``: PyTorch's buffer b of raw gradients for ``"pytorch"``,
    the velocity v (already scaled by -lr) for ``"classic"`` and ``"sutskever"``.
    """

    step: int
    momentum_buffer: np.ndarray | None

    def __post_init__(self):
        _freeze_state(self)


@dataclass(frozen=True, eq=False)
class AdagradState:
    """Adagrad's state: the running sum of squared gradients (PyTorch's ``state_sum``)."""

    step: int
    sum: np.ndarray

    def __post_init__(self):
        _freeze_state(self)


@dataclass(frozen=True, eq=False)
class RMSpropState:
    """RMSprop's state; ``momentum_buffer`` is ``None`` unless momentum > 0, ``grad_avg`` unless centered."""

    step: int
    square_avg: np.ndarray
    momentum_buffer: np.ndarray | None
    grad_avg: np.ndarray | None

    def __post_init__(self):
        _freeze_state(self)


@dataclass(frozen=True, eq=False)
class AdamState:
    """Adam's (and AdamW's) state: the moments m and v, and max v for AMSGrad (``None`` otherwise)."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray | None

    def __post_init__(self):
        _freeze_state(self)


# --------------------------------------------------------------------------------------------------
# shared checks and pieces


def _freeze_state(state) -> None:
    """Called by each state's ``__post_init__``: ``step`` an int >= 0, buffers float arrays (or None),
    so a template may build a state from plain lists. A field already in that form is left as it is."""
    _set_if_new(state, "step", nonnegative_int(state.step, "state.step"))
    for name, label in _buffer_labels(type(state)):
        value = getattr(state, name)
        if value is not None:
            _set_if_new(state, name, as_float_array(value, label))


def _set_if_new(state, name: str, value) -> None:
    """Set a frozen state's field to ``value`` unless it holds that very object already."""
    if getattr(state, name) is not value:
        object.__setattr__(state, name, value)


@functools.cache
def _buffer_labels(cls: type) -> tuple[tuple[str, str], ...]:
    """(field name, argument name for errors) of each buffer of a state class: every field but ``step``."""
    return tuple((name, f"state.{name}") for name in cls.__dataclass_fields__ if name != "step")


def _inputs(p, g) -> tuple[np.ndarray, np.ndarray]:
    p = as_float_array(p, "p")
    g = as_float_array(g, "g")
    check_shape(g, "g", p.shape)
    return p, g


def _state(state, cls: type, p: np.ndarray, *buffers: str):
    """``state`` checked to be a ``cls`` (or ``None``) whose named array buffers have ``p``'s shape."""
    if state is None:
        return None
    if not isinstance(state, cls):
        raise ValueError(f"state: expected {cls.__name__} or None, got {type(state).__name__}")
    for name in buffers:
        value = getattr(state, name)
        if value is not None:
            check_shape(value, f"state.{name}", p.shape)
    return state


def _lr(lr) -> float:
    return nonnegative(lr, "lr")


def _effective_gradient(p: np.ndarray, g: np.ndarray, *, weight_decay: float, maximize: bool) -> np.ndarray:
    """PyTorch's order: g <- -g if maximize, then g <- g + weight_decay * p (L2 penalty)."""
    g = -g if maximize else g
    return g + weight_decay * p if weight_decay != 0.0 else g


def _sqrt_outside(v: np.ndarray, eps: float) -> np.ndarray:
    """PyTorch: sqrt(v) + eps."""
    return np.sqrt(v) + eps


def _sqrt_inside(v: np.ndarray, eps: float) -> np.ndarray:
    """Course notes (seeds 000, 004): sqrt(v + eps)."""
    return np.sqrt(v + eps)


EPS_PLACEMENTS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "outside": _sqrt_outside,
    "inside": _sqrt_inside,
}


def _ema(avg: np.ndarray, x: np.ndarray, decay: float) -> np.ndarray:
    """Exponential moving average: decay * avg + (1 - decay) * x."""
    return decay * avg + (1.0 - decay) * x


# --------------------------------------------------------------------------------------------------
# SGD


class _MomentumForm(NamedTuple):
    into_buffer: Callable[[np.ndarray, float], np.ndarray]  # what the buffer accumulates, from g and lr
    out_of_buffer: Callable[[np.ndarray, float], np.ndarray]  # the parameter change, from a buffer value
    lookahead: bool  # Nesterov by evaluating g at p + momentum * buffer (else by adding momentum * buffer)


MOMENTUM_FORMS: dict[str, _MomentumForm] = {
    # PyTorch: b <- mu b + (1 - dampening) g (b <- g at the first step); p <- p - lr b
    # (Nesterov: p <- p - lr (g + mu b)).
    "pytorch": _MomentumForm(lambda g, lr: g, lambda x, lr: -lr * x, lookahead=False),
    # Textbook (seed 002; seeds 001/004 write u = -v): v <- mu v - lr g; p <- p + v
    # (Nesterov rewritten as in Bengio et al. 2012: p <- p + mu v - lr g).
    "classic": _MomentumForm(lambda g, lr: -lr * g, lambda x, lr: x, lookahead=False),
    # Sutskever et al. 2013 (seed 002's eq. 3.7): v <- mu v - lr g; p <- p + v, where for Nesterov
    # the caller evaluates g at the look-ahead point p + mu v (sgd_gradient_point).
    "sutskever": _MomentumForm(lambda g, lr: -lr * g, lambda x, lr: x, lookahead=True),
}


def _sgd_hyper(lr, momentum, dampening, weight_decay, nesterov, momentum_form):
    form = choose(momentum_form, "momentum_form", MOMENTUM_FORMS)
    lr = _lr(lr)
    momentum = nonnegative(momentum, "momentum")
    dampening = float(dampening)
    weight_decay = nonnegative(weight_decay, "weight_decay")
    if nesterov and (momentum <= 0.0 or dampening != 0.0):
        raise ValueError(
            f"nesterov: Nesterov momentum requires momentum > 0 and dampening = 0, "
            f"got momentum={momentum}, dampening={dampening}"
        )
    return form, lr, momentum, dampening, weight_decay


def sgd_gradient_point(
    p,
    state: SGDState | None,
    *,
    momentum: float = 0.0,
    nesterov: bool = False,
    momentum_form: str = "pytorch",
) -> np.ndarray:
    """Where :func:`sgd_step` expects its gradient to be evaluated; shape of ``p``.

    ``p + momentum * v`` for ``momentum_form="sutskever"`` with ``nesterov=True`` (the look-ahead
    point; ``p`` at the first step, where v = 0), else ``p`` itself.
    """
    p = as_float_array(p, "p")
    form = choose(momentum_form, "momentum_form", MOMENTUM_FORMS)
    state = _state(state, SGDState, p, "momentum_buffer")
    point = _gradient_point(p, state, momentum, nesterov, form)
    return p.copy() if point is p else point


def _gradient_point(p: np.ndarray, state: SGDState | None, momentum, nesterov: bool, form: _MomentumForm):
    """:func:`sgd_gradient_point` of a checked p, state and form: ``p`` itself, not a copy, when
    there is no look-ahead."""
    if not (form.lookahead and nesterov) or state is None or state.momentum_buffer is None:
        return p
    return p + nonnegative(momentum, "momentum") * state.momentum_buffer


def sgd_step(
    p,
    g,
    state: SGDState | None = None,
    *,
    lr: float = 1e-3,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
    momentum_form: str = "pytorch",
) -> StepResult:
    """One SGD step (``torch.optim.SGD``; PyTorch >= 2.3 defaults ``lr`` to 1e-3); shapes of ``p``.

    With g' = g + weight_decay * x (x the gradient point) and s = into_buffer(g'):
    buffer b <- s at the first momentum step, else b <- momentum * b + (1 - dampening) * s;
    p <- p + out_of_buffer(s + momentum * b if Nesterov-by-addition else b); see MOMENTUM_FORMS:

    - ``"pytorch"``: s = g', change = -lr * (...): PyTorch's buffer of raw gradients;
    - ``"classic"``: s = -lr g', change = (...): v <- mu v - lr g; p <- p + v (seeds 001/002/004);
    - ``"sutskever"``: as classic, but Nesterov means that ``g`` was evaluated at the look-ahead
      point :func:`sgd_gradient_point` = p + mu v (the caller's job; :func:`run_optimizer` does it).

    At constant lr the three give the same trajectory (v = -lr b; for Nesterov the Sutskever
    look-ahead points are PyTorch's parameters); with a changing lr "pytorch" and "classic" differ.
    """
    p, g = _inputs(p, g)
    form, lr, momentum, dampening, weight_decay = _sgd_hyper(
        lr, momentum, dampening, weight_decay, nesterov, momentum_form
    )
    state = _state(state, SGDState, p, "momentum_buffer")
    point = _gradient_point(p, state, momentum, nesterov, form)
    s = form.into_buffer(_effective_gradient(point, g, weight_decay=weight_decay, maximize=maximize), lr)
    buf = None if state is None else state.momentum_buffer
    if momentum == 0.0:
        direction = s
    else:
        buf = s.copy() if buf is None else momentum * buf + (1.0 - dampening) * s
        direction = s + momentum * buf if nesterov and not form.lookahead else buf
    update = form.out_of_buffer(direction, lr)
    step = 1 if state is None else state.step + 1
    return StepResult(p + update, SGDState(step, buf), update)


# --------------------------------------------------------------------------------------------------
# Adagrad


def adagrad_step(
    p,
    g,
    state: AdagradState | None = None,
    *,
    lr: float = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
    eps_placement: str = "outside",
) -> StepResult:
    """One Adagrad step (``torch.optim.Adagrad``); shapes of ``p``.

    clr = lr / (1 + (t - 1) lr_decay); G <- G + g²; p <- p - clr * g / denom(G), with
    denom = sqrt(G) + eps (``"outside"``, PyTorch) or sqrt(G + eps) (``"inside"``, seed 004).
    G starts at ``initial_accumulator_value``.
    """
    p, g = _inputs(p, g)
    denominator = choose(eps_placement, "eps_placement", EPS_PLACEMENTS)
    lr, lr_decay = _lr(lr), nonnegative(lr_decay, "lr_decay")
    weight_decay, eps = nonnegative(weight_decay, "weight_decay"), nonnegative(eps, "eps")
    initial = nonnegative(initial_accumulator_value, "initial_accumulator_value")
    state = _state(state, AdagradState, p, "sum")
    step = 1 if state is None else state.step + 1
    previous = np.full_like(p, initial) if state is None else state.sum
    g = _effective_gradient(p, g, weight_decay=weight_decay, maximize=maximize)
    clr = lr / (1.0 + (step - 1) * lr_decay)
    total = previous + g * g
    update = -clr * g / denominator(total, eps)
    return StepResult(p + update, AdagradState(step, total), update)


# --------------------------------------------------------------------------------------------------
# RMSprop


def rmsprop_step(
    p,
    g,
    state: RMSpropState | None = None,
    *,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
    eps_placement: str = "outside",
) -> StepResult:
    """One RMSprop step (``torch.optim.RMSprop``); shapes of ``p``.

    v <- alpha v + (1 - alpha) g²; centered: ḡ <- alpha ḡ + (1 - alpha) g and v' = v - ḡ², else v' = v;
    avg = sqrt(v') + eps (``"outside"``, PyTorch) or sqrt(v' + eps) (``"inside"``, seeds 000, 004);
    momentum > 0: b <- momentum b + g / avg, p <- p - lr b; else p <- p - lr g / avg.
    """
    p, g = _inputs(p, g)
    denominator = choose(eps_placement, "eps_placement", EPS_PLACEMENTS)
    lr, alpha, eps = _lr(lr), nonnegative(alpha, "alpha"), nonnegative(eps, "eps")
    weight_decay, momentum = nonnegative(weight_decay, "weight_decay"), nonnegative(momentum, "momentum")
    state = _state(state, RMSpropState, p, "square_avg", "momentum_buffer", "grad_avg")
    zeros = np.zeros_like(p)
    step = 1 if state is None else state.step + 1
    g = _effective_gradient(p, g, weight_decay=weight_decay, maximize=maximize)
    square_avg = _ema(zeros if state is None else state.square_avg, g * g, alpha)
    grad_avg = None
    variance = square_avg
    if centered:
        previous = None if state is None else state.grad_avg
        grad_avg = _ema(zeros if previous is None else previous, g, alpha)
        variance = square_avg - grad_avg * grad_avg
    scaled = g / denominator(variance, eps)
    buf = None
    if momentum > 0.0:
        previous = None if state is None else state.momentum_buffer
        buf = momentum * (zeros if previous is None else previous) + scaled
        update = -lr * buf
    else:
        update = -lr * scaled
    return StepResult(p + update, RMSpropState(step, square_avg, buf, grad_avg), update)


# --------------------------------------------------------------------------------------------------
# Adam and AdamW


def _power_correction(beta: float, t: int) -> float:
    """PyTorch: 1 - beta^t."""
    return 1.0 - beta**t


def _no_correction(beta: float, t: int) -> float:
    """No bias correction: 1."""
    return 1.0


def _powerless_correction(beta: float, t: int) -> float:
    """Seed 004's slip: 1 - beta, without the power t."""
    return 1.0 - beta


BIAS_CORRECTIONS: dict[str, Callable[[float, int], float]] = {
    "pytorch": _power_correction,
    "none": _no_correction,
    "no_power": _powerless_correction,
}


def _betas(betas) -> tuple[float, float]:
    # a tuple or a list skips the (slow) Sequence ABC check
    sequence = type(betas) in (tuple, list) or (
        isinstance(betas, Sequence) and not isinstance(betas, (str, bytes))
    )
    if not sequence or len(betas) != 2:
        raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
    return probability(betas[0], "betas[0]"), probability(betas[1], "betas[1]")


def _adam_core(p, g, state, *, lr, betas, eps, amsgrad, maximize, bias_correction, weight_decay):
    """Checked inputs, then Adam's change for L2 ``weight_decay`` (0 for AdamW) and the new state."""
    p, g = _inputs(p, g)
    correction = choose(bias_correction, "bias_correction", BIAS_CORRECTIONS)
    lr, (beta1, beta2), eps = _lr(lr), _betas(betas), nonnegative(eps, "eps")
    state = _state(state, AdamState, p, "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    # A missing moment is 0.0, which broadcasts like np.zeros_like(p): the betas are finite, so
    # beta * 0.0 is 0.0 and the sums and maxima with it are NumPy's elementwise ones.
    zeros = 0.0
    step = 1 if state is None else state.step + 1
    g = _effective_gradient(p, g, weight_decay=weight_decay, maximize=maximize)
    exp_avg = _ema(zeros if state is None else state.exp_avg, g, beta1)
    exp_avg_sq = _ema(zeros if state is None else state.exp_avg_sq, g * g, beta2)
    second = exp_avg_sq
    max_sq = None
    if amsgrad:
        previous = None if state is None else state.max_exp_avg_sq
        max_sq = np.maximum(zeros if previous is None else previous, exp_avg_sq)
        second = max_sq
    # PyTorch's arrangement: step_size = lr / bc1; denom = sqrt(v) / sqrt(bc2) + eps.
    step_size = lr / correction(beta1, step)
    denom = np.sqrt(second) / np.sqrt(correction(beta2, step)) + eps
    update = -step_size * exp_avg / denom
    return p, lr, update, AdamState(step, exp_avg, exp_avg_sq, max_sq)


def adam_step(
    p,
    g,
    state: AdamState | None = None,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    bias_correction: str = "pytorch",
) -> StepResult:
    """One Adam step (``torch.optim.Adam``; ``weight_decay`` is an L2 term added to g); shapes of ``p``.

    m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g² (AMSGrad: use v_max <- max(v_max, v));
    p <- p - (lr / c1) m / (sqrt(v) / sqrt(c2) + eps), i.e. lr m̂ / (sqrt(v̂) + eps) with
    m̂ = m / c1, v̂ = v / c2, where c = 1 - b^t (``"pytorch"``), 1 (``"none"``) or 1 - b
    (``"no_power"``, seed 004's m̂ = m / (1 - b1)). At t = 1 the change is -lr g / (|g| + eps).
    """
    p, _, update, new_state = _adam_core(
        p,
        g,
        state,
        lr=lr,
        betas=betas,
        eps=eps,
        amsgrad=amsgrad,
        maximize=maximize,
        bias_correction=bias_correction,
        weight_decay=nonnegative(weight_decay, "weight_decay"),
    )
    return StepResult(p + update, new_state, update)


def adamw_step(
    p,
    g,
    state: AdamState | None = None,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
    maximize: bool = False,
    bias_correction: str = "pytorch",
) -> StepResult:
    """One AdamW step (``torch.optim.AdamW``): decoupled weight decay; shapes of ``p``.

    p <- p (1 - lr weight_decay) first, then the :func:`adam_step` change computed from g alone.
    """
    weight_decay = nonnegative(weight_decay, "weight_decay")
    p, lr, adam_update, new_state = _adam_core(
        p,
        g,
        state,
        lr=lr,
        betas=betas,
        eps=eps,
        amsgrad=amsgrad,
        maximize=maximize,
        bias_correction=bias_correction,
        weight_decay=0.0,
    )
    new_param = p * (1.0 - lr * weight_decay) + adam_update
    return StepResult(new_param, new_state, new_param - p)


# --------------------------------------------------------------------------------------------------
# several steps


class Trajectory(NamedTuple):
    """Several steps: ``params[k]`` after k steps (``params[0]`` = p0); ``grads[k]``, ``states[k]``,
    ``updates[k]`` belong to step k + 1 (the gradient used, the state and the change after it)."""

    params: list[np.ndarray]
    grads: list[np.ndarray]
    states: list[Any]
    updates: list[np.ndarray]


OPTIMIZERS: dict[str, Callable[..., StepResult]] = {
    "sgd": sgd_step,
    "adagrad": adagrad_step,
    "rmsprop": rmsprop_step,
    "adam": adam_step,
    "adamw": adamw_step,
}


def run_optimizer(
    optimizer: str,
    p0,
    grads,
    *,
    steps: int | None = None,
    lrs: Sequence[float] | None = None,
    **hyper,
) -> Trajectory:
    """Chain ``steps`` steps of ``optimizer`` (one of OPTIMIZERS) from ``p0``.

    ``grads`` is either a callable x -> gradient at x (evaluated at each step's gradient point,
    :func:`sgd_gradient_point` for SGD) or an array of the given gradients, shape (steps, *p0.shape).
    ``lrs`` gives a learning rate per step (e.g. from :mod:`quizgen.reference.schedules`) and then
    replaces ``lr``; ``hyper`` are the step's other keyword arguments.
    """
    step_fn = choose(optimizer, "optimizer", OPTIMIZERS)
    allowed = [k for k, v in inspect.signature(step_fn).parameters.items() if v.kind is v.KEYWORD_ONLY]
    for key in hyper:
        if key not in allowed:
            raise ValueError(
                f"{key}: not a hyperparameter of {optimizer}; expected one of {', '.join(allowed)}"
            )
    p = as_float_array(p0, "p0")
    if callable(grads):
        grad_at, n = grads, positive_int(steps, "steps")
    else:
        given = as_float_array(grads, "grads")
        check_shape(given, "grads", (None, *p.shape))
        n = given.shape[0] if steps is None else positive_int(steps, "steps")
        if n != given.shape[0]:
            raise ValueError(f"steps: expected {given.shape[0]} (one per given gradient), got {steps}")

        remaining = iter(given)

        def grad_at(x):
            return next(remaining)

    if lrs is not None:
        lrs = [float(v) for v in lrs]
        if len(lrs) != n:
            raise ValueError(f"lrs: expected {n} learning rates (one per step), got {len(lrs)}")
    out = Trajectory([p], [], [], [])
    state = None
    for k in range(n):
        kw = dict(hyper) if lrs is None else {**hyper, "lr": lrs[k]}
        point = p
        if step_fn is sgd_step:
            point = sgd_gradient_point(
                p,
                state,
                momentum=kw.get("momentum", 0.0),
                nesterov=kw.get("nesterov", False),
                momentum_form=kw.get("momentum_form", "pytorch"),
            )
        g = as_float_array(grad_at(point), "grads")
        p, state, update = step_fn(p, g, state, **kw)
        out.params.append(p)
        out.grads.append(g)
        out.states.append(state)
        out.updates.append(update)
    return out


# --------------------------------------------------------------------------------------------------
# gradient clipping (torch.nn.utils.clip_grad_norm_ and clip_grad_value_)

_CLIP_EPS = 1e-6  # PyTorch: clip_coef = max_norm / (total_norm + 1e-6)


class ClipResult(NamedTuple):
    """Clipped gradients (one array per parameter, shapes kept), the total norm of the gradients
    before clipping (what ``clip_grad_norm_`` returns) and the global factor
    min(1, max_norm / (total_norm + 1e-6))."""

    grads: tuple[np.ndarray, ...]
    total_norm: float
    clip_coef: float


def _grad_list(grads) -> list[np.ndarray]:
    if isinstance(grads, np.ndarray) or not isinstance(grads, Sequence) or isinstance(grads, (str, bytes)):
        raise ValueError(f"grads: expected a list of arrays (one per parameter), got {type(grads).__name__}")
    if not grads:
        raise ValueError("grads: expected at least one gradient array, got an empty list")
    return [as_float_array(g, f"grads[{i}]") for i, g in enumerate(grads)]


def _norm(x: np.ndarray, norm_type: float) -> float:
    """The p-norm of all entries of x (p = inf: the largest |x|)."""
    a = np.abs(x.ravel())
    if a.size == 0:
        return 0.0
    return float(a.max()) if math.isinf(norm_type) else float((a**norm_type).sum() ** (1.0 / norm_type))


def _factor(norm: float, max_norm: float) -> float:
    return min(1.0, max_norm / (norm + _CLIP_EPS))


def _clip_global(grads: list[np.ndarray], max_norm: float, norm_type: float, total: float):
    """PyTorch: every gradient times min(1, max_norm / (total_norm + 1e-6))."""
    coef = _factor(total, max_norm)
    return [g * coef for g in grads]


def _clip_per_tensor(grads: list[np.ndarray], max_norm: float, norm_type: float, total: float):
    """A slip: each gradient scaled by its own norm, min(1, max_norm / (||g_i|| + 1e-6))."""
    return [g * _factor(_norm(g, norm_type), max_norm) for g in grads]


def _clip_elementwise(grads: list[np.ndarray], max_norm: float, norm_type: float, total: float):
    """clip_grad_value_'s rule with max_norm as the bound: each entry clamped to [-max_norm, max_norm]."""
    return [np.clip(g, -max_norm, max_norm) for g in grads]


CLIP_SCOPES: dict[str, Callable[[list, float, float, float], list]] = {
    "global": _clip_global,
    "per_tensor": _clip_per_tensor,
    "elementwise": _clip_elementwise,
}


def clip_grad_norm(grads, *, max_norm: float, norm_type: float = 2.0, scope: str = "global") -> ClipResult:
    """``torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=2.0)`` on gradients ``grads``
    (a list of arrays of any shapes), without modifying them.

    total_norm = ||(||g_1||_p, ..., ||g_k||_p)||_p, the p-norm of all entries together (p = inf: the
    largest |entry|); every g_i <- g_i · min(1, max_norm / (total_norm + 1e-6)). ``scope``
    ``"per_tensor"`` (each g_i by its own norm) and ``"elementwise"`` (clamping each entry to
    [-max_norm, max_norm], :func:`clip_grad_value`'s rule) are the mistakes; ``total_norm`` is
    PyTorch's in every scope.
    """
    gs = _grad_list(grads)
    clip = choose(scope, "scope", CLIP_SCOPES)
    max_norm = nonnegative(max_norm, "max_norm")
    norm_type = float(norm_type)
    if not norm_type > 0.0:
        raise ValueError(f"norm_type: expected a number > 0 or inf, got {norm_type!r}")
    total = _norm(np.array([_norm(g, norm_type) for g in gs]), norm_type)
    clipped = clip(gs, max_norm, norm_type, total)
    return ClipResult(tuple(clipped), total, _factor(total, max_norm))


def clip_grad_value(grads, *, clip_value: float) -> tuple[np.ndarray, ...]:
    """``torch.nn.utils.clip_grad_value_``: each entry of each gradient clamped to [-clip_value, clip_value]."""
    bound = nonnegative(clip_value, "clip_value")
    return tuple(_clip_elementwise(_grad_list(grads), bound, 2.0, 0.0))
