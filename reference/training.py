"""Training-loop arithmetic: iterations per epoch, network sizes, early stopping.

- An epoch is one pass over n examples in mini-batches of B; like ``torch.utils.data.DataLoader``,
  the last batch is partial (ceil(n / B) iterations) unless ``drop_last`` (floor(n / B)).
- A fully connected network with layer sizes (n_0, n_1, ..., n_L) has Σ_l n_l (n_{l-1} + 1)
  parameters (``nn.Linear`` per layer, :func:`mlp.linear_param_count`).
- Early stopping follows Keras' ``EarlyStopping(patience, min_delta, restore_best_weights)``
  monitoring a validation loss; epochs are numbered from 1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

from ._checks import as_float_array, choose, nonnegative, positive_int
from .mlp import linear_param_count

__all__ = [
    "EarlyStop",
    "early_stopping",
    "effective_batch_size",
    "iterations_per_epoch",
    "mlp_param_count",
    "optimizer_steps_per_epoch",
    "total_iterations",
    "total_optimizer_steps",
]

_ROUNDING = {"ceil": math.ceil, "floor": math.floor}


def iterations_per_epoch(n: int, batch_size: int, *, drop_last: bool = False) -> int:
    """Mini-batches (optimizer steps) in one epoch: ceil(n / B), or floor(n / B) with ``drop_last``."""
    n, batch_size = positive_int(n, "n"), positive_int(batch_size, "batch_size")
    rounding = choose(drop_last, "drop_last", {False: _ROUNDING["ceil"], True: _ROUNDING["floor"]})
    return int(rounding(n / batch_size))


def total_iterations(n: int, batch_size: int, epochs: int, *, drop_last: bool = False) -> int:
    """Optimizer steps in ``epochs`` epochs: epochs · :func:`iterations_per_epoch`."""
    return positive_int(epochs, "epochs") * iterations_per_epoch(n, batch_size, drop_last=drop_last)


# what happens to the mini-batches left over at the end of an epoch when fewer than k remain
_REMAINDERS = {
    "skip": _ROUNDING["floor"],  # ``if (i + 1) % k == 0: optimizer.step()``: no step for them
    "step": _ROUNDING["ceil"],  # a last, shorter accumulation is stepped too (HF Trainer / Accelerate)
}


def optimizer_steps_per_epoch(
    n: int, batch_size: int, *, accumulation_steps: int = 1, drop_last: bool = False, remainder: str = "skip"
) -> int:
    """Optimizer steps in one epoch with gradient accumulation over k = ``accumulation_steps``
    mini-batches: floor(b / k) for the plain loop that steps when (i + 1) % k == 0, with
    b = :func:`iterations_per_epoch` mini-batches; ``remainder="step"`` also steps on the
    leftover b mod k batches, ceil(b / k). e.g. n = 1000, B = 32, k = 4: b = 32, 8 steps."""
    batches = iterations_per_epoch(n, batch_size, drop_last=drop_last)
    k = positive_int(accumulation_steps, "accumulation_steps")
    return int(choose(remainder, "remainder", _REMAINDERS)(batches / k))


def total_optimizer_steps(
    n: int,
    batch_size: int,
    epochs: int,
    *,
    accumulation_steps: int = 1,
    drop_last: bool = False,
    remainder: str = "skip",
) -> int:
    """Optimizer steps in ``epochs`` epochs: epochs · :func:`optimizer_steps_per_epoch`."""
    per_epoch = optimizer_steps_per_epoch(
        n, batch_size, accumulation_steps=accumulation_steps, drop_last=drop_last, remainder=remainder
    )
    return positive_int(epochs, "epochs") * per_epoch


def effective_batch_size(batch_size: int, *, accumulation_steps: int = 1, world_size: int = 1) -> int:
    """Examples behind one optimizer step: B · k · W (micro-batch size, accumulation steps, processes
    of data-parallel training, each with its own micro-batch)."""
    return (
        positive_int(batch_size, "batch_size")
        * positive_int(accumulation_steps, "accumulation_steps")
        * positive_int(world_size, "world_size")
    )


def mlp_param_count(sizes: Sequence[int], *, bias: bool = True) -> int:
    """Parameters of the fully connected network with layer widths ``sizes`` = (n_0, ..., n_L):
    Σ_{l=1..L} n_l (n_{l-1} + 1) with bias (n_l n_{l-1} without). e.g. 4-3-4: 3·5 + 4·4 = 31."""
    sizes = [positive_int(s, "sizes") for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"mlp_param_count: sizes needs an input and at least one layer, got {sizes}")
    return sum(linear_param_count(a, b, bias=bias) for a, b in itertools.pairwise(sizes))


class EarlyStop(NamedTuple):
    """``stop_epoch``: the last epoch trained (len(losses) if it never stopped); ``best_epoch``:
    the epoch with the best monitored loss; ``kept_epoch``: the epoch whose weights the model has at
    the end (best_epoch with ``restore_best_weights``, else stop_epoch). All numbered from 1."""

    stop_epoch: int
    best_epoch: int
    kept_epoch: int


_STOP_RULES = {
    "reaches": lambda wait, patience: wait >= patience,  # Keras
    "exceeds": lambda wait, patience: wait > patience,  # one epoch too late
}


def early_stopping(
    losses,
    patience: int,
    *,
    min_delta: float = 0.0,
    restore_best_weights: bool = True,
    stop_when: str = "reaches",
) -> EarlyStop:
    """Keras' ``EarlyStopping`` on validation losses (E,) of epochs 1..E: after each epoch e,
    if loss_e < best - min_delta then best = loss_e, best_epoch = e, wait = 0, else wait += 1;
    training stops after epoch e as soon as wait >= patience. ``stop_when="exceeds"`` waits
    for wait > patience instead (the off-by-one)."""
    losses = as_float_array(losses, "losses", ndim=1)
    patience = positive_int(patience, "patience")
    min_delta = nonnegative(min_delta, "min_delta")
    stop = choose(stop_when, "stop_when", _STOP_RULES)
    keep_best = choose(restore_best_weights, "restore_best_weights", {True: True, False: False})
    best, best_epoch, wait, stop_epoch = math.inf, 1, 0, len(losses)
    for e, loss in enumerate(losses, start=1):
        if loss < best - min_delta:
            best, best_epoch, wait = float(loss), e, 0
        else:
            wait += 1
            if stop(wait, patience):
                stop_epoch = e
                break
    return EarlyStop(stop_epoch, best_epoch, best_epoch if keep_best else stop_epoch)
