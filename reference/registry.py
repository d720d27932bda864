"""Resolve the reference functions that bank templates name, by exact name.

A template says ``call: conv.conv2d_forward``; the family is a module of this package and the
function must be listed in that module's ``__all__``. Nothing else is reachable from a template:
no private helper, no import, no attribute walk.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

FAMILIES: tuple[str, ...] = (
    "conv",
    "pool",
    "activations",
    "losses",
    "mlp",
    "optim",
    "schedules",
    "norm",
    "regularization",
    "init",
    "metrics",
    "rnn",
    "gradcheck",
    "approximation",
    "perceptron",
    "training",
    "data",
    "gradients",
    "filters",
    "roc",
    "groupnorm",
    "lrn",
    "residual",
    "layers",
    "tensors",
)


@cache
def _module(family: str):
    return importlib.import_module(f"{__package__}.{family}")


def names() -> list[str]:
    """Every ``family.function`` a template may call, sorted."""
    out = []
    for family in FAMILIES:
        out.extend(f"{family}.{fn}" for fn in getattr(_module(family), "__all__", ()))
    return sorted(out)


def resolve(name: str) -> Callable:
    """The function called ``name`` (``"family.function"``), or ``ValueError`` saying what exists."""
    family, dot, fn = name.partition(".")
    if not dot or family not in FAMILIES:
        raise ValueError(
            f"unknown reference function {name!r}: expected 'family.function' with family one of "
            + ", ".join(FAMILIES)
        )
    module = _module(family)
    public = getattr(module, "__all__", ())
    if fn not in public:
        raise ValueError(
            f"unknown reference function {name!r}: {family} has " + (", ".join(public) or "no functions")
        )
    return getattr(module, fn)
