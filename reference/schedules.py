"""Learning-rate schedules in closed form: the lr at epoch (or step) t, with t = 0 the initial lr.

PyTorch's schedulers (``torch.optim.lr_scheduler``) update the lr recursively each ``step()``; for
the ones here the recursion has the closed form used below (PyTorch's own ``_get_closed_form_lr``),
so ``fn(t)`` is the lr the optimizer uses during epoch t after t calls of ``scheduler.step()``.
Course-note schedules without a PyTorch class (inverse-time, natural-exponential, piecewise
constant) follow TensorFlow's definitions, which the notes copy.

Composed schedules, each scheduler given as a pair (name, keyword arguments without t and lr0),
e.g. ``("linear_lr", {"start_factor": 0.1, "total_iters": 3})``, all on one optimizer's lr0:
  - ``sequential_lr`` (``SequentialLR``): scheduler i runs from milestone i - 1 (0 for the
    first) and, at its milestone, is stepped with epoch 0 (``scheduler.step(0)``), which sets its
    closed form at 0 from the base lr; so lr(t) = s_i(t - m_i) for m_i <= t < m_{i+1}, m_0 = 0.
  - ``chained_lr`` (``ChainedScheduler``): every scheduler steps each epoch, each multiplying the
    current lr by its own ratio s(t)/s(t - 1); for the multiplicative schedulers (StepLR,
    MultiStepLR, ExponentialLR, LinearLR) the product telescopes to lr(t) = lr0 Π_i s_i(t)/lr0.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose, nonnegative, nonnegative_int, positive_int

__all__ = [
    "PlateauTrace",
    "RestartCycle",
    "chained_lr",
    "cosine_annealing_lr",
    "cosine_warm_restarts_lr",
    "exponential_lr",
    "inverse_time_lr",
    "linear_lr",
    "linear_then_cosine_lr",
    "linear_warmup_lr",
    "multistep_lr",
    "natural_exp_lr",
    "one_cycle_lr",
    "one_cycle_momentum",
    "one_cycle_phase_ends",
    "piecewise_constant_lr",
    "reduce_on_plateau",
    "restart_cycle",
    "restart_epochs",
    "schedule_values",
    "sequential_lr",
    "step_lr",
    "warmup_cosine_lr",
]


def _decay_exponent(t: int, decay_steps: int, staircase: bool) -> float:
    """t / decay_steps, floored when ``staircase`` (TensorFlow's convention)."""
    return float(t // decay_steps) if staircase else t / decay_steps


def step_lr(t: int, *, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    """``StepLR``: lr0 * gamma ** floor(t / step_size)."""
    t, lr0 = nonnegative_int(t, "t"), nonnegative(lr0, "lr0")
    step_size, gamma = positive_int(step_size, "step_size"), nonnegative(gamma, "gamma")
    return lr0 * gamma ** (t // step_size)


def multistep_lr(t: int, *, lr0: float, milestones: Sequence[int], gamma: float = 0.1) -> float:
    """``MultiStepLR``: lr0 * gamma ** (number of milestones <= t); a repeated milestone counts twice."""
    t, lr0, gamma = nonnegative_int(t, "t"), nonnegative(lr0, "lr0"), nonnegative(gamma, "gamma")
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence):
        raise ValueError(f"milestones: expected a list of integers >= 0, got {milestones!r}")
    marks = sorted(nonnegative_int(m, "milestones") for m in milestones)
    return lr0 * gamma ** bisect.bisect_right(marks, t)


def exponential_lr(t: int, *, lr0: float, gamma: float) -> float:
    """``ExponentialLR``: lr0 * gamma ** t (seed 004's eta_0 beta^t)."""
    t, lr0, gamma = nonnegative_int(t, "t"), nonnegative(lr0, "lr0"), nonnegative(gamma, "gamma")
    return lr0 * gamma**t


def inverse_time_lr(
    t: int, *, lr0: float, decay_rate: float, decay_steps: int = 1, staircase: bool = False
) -> float:
    """Inverse-time decay (TF ``InverseTimeDecay``; seed 004's eta_0 / (1 + beta t)):
    lr0 / (1 + decay_rate * t / decay_steps)."""
    t, lr0, rate = nonnegative_int(t, "t"), nonnegative(lr0, "lr0"), nonnegative(decay_rate, "decay_rate")
    decay_steps = positive_int(decay_steps, "decay_steps")
    return lr0 / (1.0 + rate * _decay_exponent(t, decay_steps, staircase))


def natural_exp_lr(
    t: int, *, lr0: float, decay_rate: float, decay_steps: int = 1, staircase: bool = False
) -> float:
    """Natural-exponential decay (seed 004's eta_0 e^(-beta t)): lr0 * exp(-decay_rate * t / decay_steps)."""
    t, lr0, rate = nonnegative_int(t, "t"), nonnegative(lr0, "lr0"), nonnegative(decay_rate, "decay_rate")
    decay_steps = positive_int(decay_steps, "decay_steps")
    return lr0 * math.exp(-rate * _decay_exponent(t, decay_steps, staircase))


def piecewise_constant_lr(t: int, *, boundaries: Sequence[int], values: Sequence[float]) -> float:
    """Piecewise-constant lr (TF ``PiecewiseConstantDecay``): values[i] for boundaries[i-1] < t <= boundaries[i].

    ``boundaries`` strictly increasing, ``len(values) == len(boundaries) + 1``; values[0] for
    t <= boundaries[0] and values[-1] for t > boundaries[-1].
    """
    t = nonnegative_int(t, "t")
    marks = [nonnegative_int(b, "boundaries") for b in boundaries]
    if any(b >= c for b, c in itertools.pairwise(marks)):
        raise ValueError(f"boundaries: expected strictly increasing integers, got {list(boundaries)!r}")
    lrs = [nonnegative(v, "values") for v in values]
    if len(lrs) != len(marks) + 1:
        raise ValueError(
            f"values: expected {len(marks) + 1} values (one more than boundaries), got {len(lrs)}"
        )
    return lrs[bisect.bisect_left(marks, t)]


def cosine_annealing_lr(t: int, *, lr0: float, T_max: int, eta_min: float = 0.0) -> float:
    """``CosineAnnealingLR`` (closed form): eta_min + (lr0 - eta_min) (1 + cos(pi t / T_max)) / 2.

    lr0 at t = 0, eta_min at t = T_max; beyond T_max the cosine rises again, as PyTorch's does.
    With eta_min = 0 this is seed 004's eta_0 (1 + cos(t pi / T)) / 2.
    """
    t, lr0, eta_min = nonnegative_int(t, "t"), nonnegative(lr0, "lr0"), nonnegative(eta_min, "eta_min")
    T_max = positive_int(T_max, "T_max")
    return eta_min + (lr0 - eta_min) * (1.0 + math.cos(math.pi * t / T_max)) / 2.0


class RestartCycle(NamedTuple):
    """Where epoch t lies in ``CosineAnnealingWarmRestarts``: the cycle's first epoch ``start``,
    ``T_cur`` = t - start and the cycle's length ``T_i``."""

    start: int
    T_cur: int
    T_i: int


def restart_cycle(t: int, *, T_0: int, T_mult: int = 1) -> RestartCycle:
    """The cycle of epoch t; cycles last T_0, T_0 T_mult, T_0 T_mult², ... epochs (PyTorch's
    ``step()``: T_cur += 1; when T_cur >= T_i: T_cur -= T_i, T_i *= T_mult)."""
    t = nonnegative_int(t, "t")
    T_i, T_mult = positive_int(T_0, "T_0"), positive_int(T_mult, "T_mult")
    start = 0
    while t - start >= T_i:  # integer arithmetic, one cycle at a time
        start += T_i
        T_i *= T_mult
    return RestartCycle(start, t - start, T_i)


def restart_epochs(*, T_0: int, T_mult: int = 1, count: int = 3) -> tuple[int, ...]:
    """The first ``count`` epochs at which ``CosineAnnealingWarmRestarts`` restarts (lr back to lr0):
    T_0, T_0 (1 + T_mult), T_0 (1 + T_mult + T_mult²), ...; e.g. T_0 = 2, T_mult = 2: 2, 6, 14."""
    T_i, T_mult = positive_int(T_0, "T_0"), positive_int(T_mult, "T_mult")
    out, t = [], 0
    for _ in range(positive_int(count, "count")):
        t += T_i
        out.append(t)
        T_i *= T_mult
    return tuple(out)


def cosine_warm_restarts_lr(t: int, *, lr0: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> float:
    """``CosineAnnealingWarmRestarts``: eta_min + (lr0 - eta_min) (1 + cos(pi T_cur / T_i)) / 2.

    The cycles last T_0, T_0 T_mult, T_0 T_mult², ... epochs; T_cur counts the epochs since the
    last restart (0 at a restart, where the lr is lr0 again) and T_i is the current cycle's length.
    e.g. T_0 = 2, T_mult = 2, lr0 = 1: 1, 0.5, then 1, 0.854, 0.5, 0.146, then 1, ... (restarts at 2, 6, 14).
    """
    t, lr0, eta_min = nonnegative_int(t, "t"), nonnegative(lr0, "lr0"), nonnegative(eta_min, "eta_min")
    _, T_cur, T_i = restart_cycle(t, T_0=T_0, T_mult=T_mult)
    return eta_min + (lr0 - eta_min) * (1.0 + math.cos(math.pi * T_cur / T_i)) / 2.0


def _anneal_cos(start: float, end: float, pct: float) -> float:
    """OneCycleLR's cosine: from start at pct = 0 to end at pct = 1."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)


def _anneal_linear(start: float, end: float, pct: float) -> float:
    return (end - start) * pct + start


ANNEALS: Mapping[str, Callable[[float, float, float], float]] = {"cos": _anneal_cos, "linear": _anneal_linear}


def one_cycle_phase_ends(
    *, total_steps: int, pct_start: float = 0.3, three_phase: bool = False
) -> tuple[float, ...]:
    """The steps where OneCycleLR's phases end (PyTorch's ``end_step``, floats): pct_start · T - 1
    and T - 1; with ``three_phase`` pct_start · T - 1, 2 pct_start · T - 2 and T - 1.
    e.g. T = 50, pct_start = 0.25: (11.5, 49.0)."""
    total = positive_int(total_steps, "total_steps")
    pct = float(pct_start)
    up = pct * total - 1.0
    if three_phase:
        return (up, 2.0 * pct * total - 2.0, total - 1.0)
    return (up, total - 1.0)


def _one_cycle(t: int, total_steps: int, pct_start: float, three_phase: bool, anneal: str, levels) -> float:
    """OneCycleLR's phases: (end step, start level, end level) with the end steps
    pct_start · T - 1 (and 2 pct_start · T - 2 for three phases) and T - 1; ``levels`` =
    (initial, peak, final). The phase of t is the first whose end step is >= t (the last otherwise),
    and pct = (t - previous end) / (end - previous end)."""
    t, total = nonnegative_int(t, "t"), positive_int(total_steps, "total_steps")
    pct_start = float(pct_start)
    if not 0.0 < pct_start < 1.0:
        raise ValueError(f"pct_start: expected a number in (0, 1), got {pct_start!r}")
    if t > total:  # PyTorch raises only beyond total_steps; t = T extrapolates the last phase
        raise ValueError(f"t: expected a step in [0, total_steps={total}], got {t} (PyTorch raises past it)")
    fn = choose(anneal, "anneal_strategy", ANNEALS)
    initial, peak, final = levels
    ends = one_cycle_phase_ends(total_steps=total, pct_start=pct_start, three_phase=three_phase)
    levels_of = (
        [(initial, peak), (peak, initial), (initial, final)]
        if three_phase
        else [(initial, peak), (peak, final)]
    )
    phases = [(end, a, b) for end, (a, b) in zip(ends, levels_of, strict=True)]
    start = 0.0
    for i, (end, a, b) in enumerate(phases):
        if t <= end or i == len(phases) - 1:
            return fn(a, b, (t - start) / (end - start))
        start = end
    raise AssertionError("unreachable: the last phase always matches")


def one_cycle_lr(
    t: int,
    *,
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> float:
    """``OneCycleLR`` (stepped once per batch; t = the number of ``step()`` calls, from 0): the lr
    rises from max_lr / div_factor to max_lr until step pct_start · T - 1, then anneals to
    (max_lr / div_factor) / final_div_factor at step T - 1 (cosine by default; see :func:`_one_cycle`).
    e.g. max_lr = 1, T = 10: 0.04 at t = 0, 1 at t = 2, then down to 4e-6 at t = 9.
    """
    max_lr = nonnegative(max_lr, "max_lr")
    initial = max_lr / _positive_float(div_factor, "div_factor")
    final = initial / _positive_float(final_div_factor, "final_div_factor")
    return _one_cycle(t, total_steps, pct_start, three_phase, anneal_strategy, (initial, max_lr, final))


def one_cycle_momentum(
    t: int,
    *,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    three_phase: bool = False,
) -> float:
    """OneCycleLR's momentum (``cycle_momentum=True``, the default): the mirror image of the lr,
    from max_momentum down to base_momentum while the lr rises, then back up to max_momentum."""
    base, top = nonnegative(base_momentum, "base_momentum"), nonnegative(max_momentum, "max_momentum")
    return _one_cycle(t, total_steps, pct_start, three_phase, anneal_strategy, (top, base, top))


def _positive_float(value, name: str) -> float:
    v = float(value)
    if not v > 0.0:
        raise ValueError(f"{name}: expected a number > 0, got {value!r}")
    return v


def _linear_factor(t: int, start: float, end: float, total: int) -> float:
    """Factor going linearly from ``start`` at t = 0 to ``end`` at t = total, then staying."""
    return start + (end - start) * min(t, total) / total


def _pytorch_start_factor(start_factor: float) -> float:
    """PyTorch's LinearLR check: 0 < start_factor <= 1."""
    start = float(start_factor)
    if not 0.0 < start <= 1.0:
        raise ValueError(f"start_factor: expected a number in (0, 1], got {start_factor!r}")
    return start


def linear_lr(
    t: int, *, lr0: float, start_factor: float = 1.0 / 3.0, end_factor: float = 1.0, total_iters: int = 5
) -> float:
    """``LinearLR``: lr0 * (start + (end - start) * min(t, total_iters) / total_iters).

    PyTorch requires 0 < start_factor <= 1 and 0 <= end_factor <= 1.
    """
    t, lr0, start = nonnegative_int(t, "t"), nonnegative(lr0, "lr0"), _pytorch_start_factor(start_factor)
    end = float(end_factor)
    if not 0.0 <= end <= 1.0:
        raise ValueError(f"end_factor: expected a number in [0, 1], got {end_factor!r}")
    return lr0 * _linear_factor(t, start, end, positive_int(total_iters, "total_iters"))


WARMUP_FORMS: dict[str, Callable[[float], float]] = {
    # PyTorch LinearLR(start_factor, end_factor=1, total_iters=warmup_steps): starts at start_factor * lr0.
    "pytorch": _pytorch_start_factor,
    # Seed 004's gradual warm-up eta'_t = t / T * eta_0 (and HF's get_*_schedule_with_warmup): starts at 0,
    # which is LinearLR with start_factor = 0, a value PyTorch refuses.
    "from_zero": lambda start_factor: 0.0,
}


def linear_warmup_lr(
    t: int,
    *,
    lr0: float,
    warmup_steps: int,
    start_factor: float = 1.0 / 3.0,
    warmup_form: str = "pytorch",
) -> float:
    """Linear warm-up to lr0 over W = ``warmup_steps``, then lr0: lr0 * (s + (1 - s) min(t, W) / W).

    s = ``start_factor`` for ``warmup_form="pytorch"`` (``LinearLR(start_factor, 1.0, W)``) and
    s = 0 for ``"from_zero"`` (seed 004's eta'_t = t / T eta_0; HF's warm-up), ignoring start_factor.
    """
    start = choose(warmup_form, "warmup_form", WARMUP_FORMS)(start_factor)
    t, lr0 = nonnegative_int(t, "t"), nonnegative(lr0, "lr0")
    return lr0 * _linear_factor(t, start, 1.0, positive_int(warmup_steps, "warmup_steps"))


def warmup_cosine_lr(
    t: int, *, lr0: float, warmup_steps: int, total_steps: int, eta_min: float = 0.0
) -> float:
    """Linear warm-up from 0, then cosine decay to ``eta_min`` at ``total_steps``, for 0 <= t <= total_steps.

    t < W: lr0 * t / W (``linear_warmup_lr`` with ``"from_zero"``); W <= t <= total_steps:
    ``cosine_annealing_lr(t - W, T_max=total_steps - W)``. With eta_min = 0 this is Hugging Face's
    ``get_cosine_schedule_with_warmup`` (num_cycles 0.5); W = 0 means no warm-up.
    """
    t = nonnegative_int(t, "t")
    warmup, total = nonnegative_int(warmup_steps, "warmup_steps"), positive_int(total_steps, "total_steps")
    if warmup >= total:
        raise ValueError(f"warmup_steps: expected fewer than total_steps={total}, got {warmup}")
    if t > total:
        raise ValueError(f"t: expected an integer in [0, total_steps={total}], got {t}")
    if t < warmup:
        return linear_warmup_lr(t, lr0=lr0, warmup_steps=warmup, warmup_form="from_zero")
    return cosine_annealing_lr(t - warmup, lr0=lr0, T_max=total - warmup, eta_min=eta_min)


# Schedulers that PyTorch has a class for (SequentialLR takes these); each has a closed form from
# the base lr, which ``scheduler.step(0)`` at a milestone uses.
PYTORCH_SCHEDULERS: dict[str, Callable[..., float]] = {
    "step_lr": step_lr,
    "multistep_lr": multistep_lr,
    "exponential_lr": exponential_lr,
    "cosine_annealing_lr": cosine_annealing_lr,
    "linear_lr": linear_lr,
}

# Schedulers whose recursive step multiplies the current lr by s(t)/s(t - 1) (ChainedScheduler
# composes these by product); CosineAnnealingLR's step is affine in the lr, not multiplicative.
MULTIPLICATIVE_SCHEDULERS: dict[str, Callable[..., float]] = {
    "step_lr": step_lr,
    "multistep_lr": multistep_lr,
    "exponential_lr": exponential_lr,
    "linear_lr": linear_lr,
}


def _scheduler_calls(schedulers, registry: dict[str, Callable[..., float]], what: str) -> list:
    """Each (name, kwargs) pair as a function of (t, lr0), checked against ``registry``."""
    if (
        isinstance(schedulers, (str, bytes, Mapping))
        or not isinstance(schedulers, Sequence)
        or not schedulers
    ):
        raise ValueError(
            f"schedulers: expected a non-empty list of (name, keyword arguments) pairs, got {schedulers!r}"
        )
    calls = []
    for i, spec in enumerate(schedulers):
        if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence) or len(spec) != 2:
            raise ValueError(f"schedulers[{i}]: expected a pair (name, keyword arguments), got {spec!r}")
        name, kwargs = spec
        fn = choose(name, f"schedulers[{i}] ({what})", registry)
        if not isinstance(kwargs, Mapping):
            raise ValueError(
                f"schedulers[{i}]: expected the keyword arguments of {name} as a mapping, got {kwargs!r}"
            )
        shared = sorted({"t", "lr0"} & set(kwargs))
        if shared:
            raise ValueError(
                f"schedulers[{i}]: {', '.join(shared)} is shared by every scheduler; give it once, not in {name}'s arguments"
            )
        calls.append(functools.partial(fn, **kwargs))
    return calls


# where a SequentialLR scheduler's own epoch count starts: PyTorch restarts it at the scheduler's
# milestone (``step(0)``); counting from epoch 0 of training is the common misreading
SEQUENTIAL_COUNTS: Mapping[str, Callable[[int, int], int]] = {
    "milestone": lambda t, start: t - start,
    "zero": lambda t, start: t,
}


def sequential_lr(
    t: int, *, lr0: float, schedulers, milestones: Sequence[int], count_from: str = "milestone"
) -> float:
    """``SequentialLR(optimizer, schedulers, milestones)``: with m_0 = 0 < m_1 < ... (one
    milestone fewer than schedulers) and i = the number of milestones <= t,

        lr(t) = s_i(t - m_i; lr0),

    s_i the closed form of scheduler i (a name in ``PYTORCH_SCHEDULERS`` with its arguments); at
    t = m_i PyTorch calls ``step(0)``, so the next scheduler starts from lr0 (its own s_i(0)), not
    from where the previous one stopped. e.g. LinearLR(0.25, total_iters=2) then StepLR(2, 0.5)
    at milestone 3, lr0 = 1: 0.25, 0.625, 1, then 1, 1, 0.5, 0.5, ...
    ``count_from="zero"`` (s_i(t), as if scheduler i had counted since epoch 0) is the mistake.
    """
    t, lr0 = nonnegative_int(t, "t"), nonnegative(lr0, "lr0")
    local = choose(count_from, "count_from", SEQUENTIAL_COUNTS)
    calls = _scheduler_calls(schedulers, PYTORCH_SCHEDULERS, "SequentialLR")
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence):
        raise ValueError(f"milestones: expected a list of integers >= 1, got {milestones!r}")
    marks = [positive_int(m, "milestones") for m in milestones]
    if len(marks) != len(calls) - 1:
        raise ValueError(
            f"milestones: expected {len(calls) - 1} (one fewer than the {len(calls)} schedulers), got {len(marks)}"
        )
    if any(a >= b for a, b in itertools.pairwise(marks)):
        raise ValueError(f"milestones: expected strictly increasing integers, got {list(milestones)!r}")
    i = bisect.bisect_right(marks, t)
    start = 0 if i == 0 else marks[i - 1]
    return calls[i](local(t, start), lr0=lr0)


def chained_lr(t: int, *, lr0: float, schedulers) -> float:
    """``ChainedScheduler(schedulers)`` of multiplicative schedulers (``MULTIPLICATIVE_SCHEDULERS``):
    each step multiplies the lr by every scheduler's ratio s_i(t)/s_i(t - 1), so

        lr(t) = lr0 · Π_i f_i(t),   f_i(t) = s_i(t; lr0 = 1).

    e.g. LinearLR(0.5, total_iters=2) and ExponentialLR(0.9), lr0 = 1: 0.5, 0.675, 0.81, 0.729.
    """
    t, lr0 = nonnegative_int(t, "t"), nonnegative(lr0, "lr0")
    lr = lr0
    for call in _scheduler_calls(schedulers, MULTIPLICATIVE_SCHEDULERS, "ChainedScheduler"):
        lr *= call(t, lr0=1.0)
    return lr


def linear_then_cosine_lr(
    t: int,
    *,
    lr0: float,
    milestone: int,
    T_max: int,
    start_factor: float = 1.0 / 3.0,
    end_factor: float = 1.0,
    total_iters: int = 5,
    eta_min: float = 0.0,
) -> float:
    """``SequentialLR([LinearLR(start_factor, end_factor, total_iters), CosineAnnealingLR(T_max,
    eta_min)], milestones=[milestone])``, the common warm-up then cosine decay:

        t < milestone: linear_lr(t),    t >= milestone: cosine_annealing_lr(t - milestone),

    both from lr0 (:func:`sequential_lr`); at t = milestone the lr is lr0 again.
    """
    linear = (
        "linear_lr",
        {"start_factor": start_factor, "end_factor": end_factor, "total_iters": total_iters},
    )
    cosine = ("cosine_annealing_lr", {"T_max": T_max, "eta_min": eta_min})
    return sequential_lr(t, lr0=lr0, schedulers=[linear, cosine], milestones=[milestone])


# --------------------------------------------------------------------------------------------------
# ReduceLROnPlateau: the lr depends on the metrics seen, so it is a trace, not a closed form


def _rel_min(a: float, best: float, threshold: float) -> bool:
    return a < best * (1.0 - threshold)


def _abs_min(a: float, best: float, threshold: float) -> bool:
    return a < best - threshold


def _rel_max(a: float, best: float, threshold: float) -> bool:
    return a > best * (1.0 + threshold)


def _abs_max(a: float, best: float, threshold: float) -> bool:
    return a > best + threshold


# (mode, threshold_mode) -> is_better(current, best, threshold), PyTorch's ``_is_better``
PLATEAU_TESTS: Mapping[tuple[str, str], Callable[[float, float, float], bool]] = {
    ("min", "rel"): _rel_min,
    ("min", "abs"): _abs_min,
    ("max", "rel"): _rel_max,
    ("max", "abs"): _abs_max,
}

# when the count of bad epochs triggers a reduction: PyTorch's ``num_bad_epochs > patience``, or the
# common misreading that patience bad epochs already reduce it
PLATEAU_TRIGGERS: Mapping[str, Callable[[int, int], bool]] = {
    "exceeds": lambda bad, patience: bad > patience,
    "reaches": lambda bad, patience: bad >= patience,
}


class PlateauTrace(NamedTuple):
    """``ReduceLROnPlateau`` over n epochs; entry k belongs to the (k+1)-th ``scheduler.step(metric)``.

    ``lrs[k]``: the lr after that step (the lr of the next epoch); ``bad_epochs[k]``: PyTorch's
    ``num_bad_epochs`` after it; ``best[k]``: the best metric so far; ``reductions``: the epochs
    (numbered from 1) whose step lowered the lr; ``first_reduction``: the first of them, 0 if none;
    ``final_lr``: ``lrs[-1]``.
    """

    lrs: np.ndarray
    bad_epochs: np.ndarray
    best: np.ndarray
    reductions: tuple[int, ...]
    first_reduction: int
    final_lr: float


def reduce_on_plateau(
    metrics,
    *,
    lr0: float,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
    trigger: str = "exceeds",
) -> PlateauTrace:
    """``ReduceLROnPlateau`` (PyTorch's defaults) stepped once per epoch with ``metrics`` (shape (n,)).

    Each step: a metric better than the best (mode "min", "rel": m < best (1 - threshold); "abs":
    m < best - threshold; "max" mirrored) becomes the best and resets the count of bad epochs, else
    the count grows by 1; during a cooldown the counter of the cooldown falls by 1 and the count is
    reset to 0; when the count exceeds ``patience`` (``trigger="exceeds"``; ``"reaches"`` is the
    misreading count >= patience) lr <- max(lr · factor, min_lr) (only if that lowers it by more than
    ``eps``), the cooldown restarts at ``cooldown`` and the count at 0. The best starts at ±inf.
    """
    values = as_float_array(metrics, "metrics", ndim=1)
    is_better = choose((mode, threshold_mode), "(mode, threshold_mode)", PLATEAU_TESTS)
    reduce_now = choose(trigger, "trigger", PLATEAU_TRIGGERS)
    lr, factor = nonnegative(lr0, "lr0"), nonnegative(factor, "factor")
    if not factor < 1.0:
        raise ValueError(f"factor: expected a number < 1 (the lr is multiplied by it), got {factor!r}")
    patience, cooldown = nonnegative_int(patience, "patience"), nonnegative_int(cooldown, "cooldown")
    threshold, min_lr, eps = (
        nonnegative(threshold, "threshold"),
        nonnegative(min_lr, "min_lr"),
        nonnegative(eps, "eps"),
    )
    best = math.inf if mode == "min" else -math.inf
    bad = cooling = 0
    lrs, bads, bests, reductions = [], [], [], []
    for epoch, current in enumerate(values.tolist(), start=1):
        if is_better(current, best, threshold):
            best, bad = current, 0
        else:
            bad += 1
        if cooling > 0:
            cooling -= 1
            bad = 0  # bad epochs in a cooldown are ignored
        if reduce_now(bad, patience):
            new_lr = max(lr * factor, min_lr)
            if lr - new_lr > eps:
                lr = new_lr
                reductions.append(epoch)
            cooling, bad = cooldown, 0
        lrs.append(lr)
        bads.append(bad)
        bests.append(best)
    return PlateauTrace(
        np.array(lrs),
        np.array(bads, dtype=np.int64),
        np.array(bests),
        tuple(reductions),
        reductions[0] if reductions else 0,
        float(lrs[-1]) if lrs else float(lr),
    )


SCHEDULES: dict[str, Callable[..., float]] = {
    "step_lr": step_lr,
    "multistep_lr": multistep_lr,
    "exponential_lr": exponential_lr,
    "inverse_time_lr": inverse_time_lr,
    "natural_exp_lr": natural_exp_lr,
    "piecewise_constant_lr": piecewise_constant_lr,
    "cosine_annealing_lr": cosine_annealing_lr,
    "cosine_warm_restarts_lr": cosine_warm_restarts_lr,
    "linear_lr": linear_lr,
    "linear_warmup_lr": linear_warmup_lr,
    "warmup_cosine_lr": warmup_cosine_lr,
    "sequential_lr": sequential_lr,
    "chained_lr": chained_lr,
    "linear_then_cosine_lr": linear_then_cosine_lr,
}


def schedule_values(schedule: str, steps: int, **kwargs) -> np.ndarray:
    """The lrs at t = 0, 1, ..., steps - 1 of ``schedule`` (a name in SCHEDULES); shape (steps,)."""
    fn = choose(schedule, "schedule", SCHEDULES)
    return np.array([fn(t, **kwargs) for t in range(positive_int(steps, "steps"))], dtype=np.float64)
