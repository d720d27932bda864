"""Argument checks shared by the reference modules.

Every check raises ``ValueError`` naming the argument and what was expected, so a bad bank
template or a bad call fails with a sentence rather than a NumPy broadcasting traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import numpy as np

T = TypeVar("T")

_FLOAT64 = np.dtype(np.float64)


def as_float_array(value, name: str, *, ndim: int | None = None) -> np.ndarray:
    """``value`` as a float64 array, checking its number of dimensions if ``ndim`` is given."""
    if type(value) is np.ndarray and value.dtype is _FLOAT64:
        arr = value  # what np.asarray would return, without its call
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: expected an array of numbers, got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {arr.shape}")
    return arr


def check_shape(arr: np.ndarray, name: str, expected: tuple) -> None:
    """Check ``arr.shape`` against ``expected``; ``None`` in ``expected`` matches any size."""
    if arr.shape == expected:
        return
    if len(arr.shape) != len(expected) or any(
        e is not None and e != s for s, e in zip(arr.shape, expected, strict=False)
    ):
        shown = tuple("*" if e is None else e for e in expected)
        raise ValueError(f"{name}: expected shape {shown}, got {arr.shape}")


def positive_int(value, name: str) -> int:
    """``value`` as an int >= 1."""
    if type(value) is int and value >= 1:  # the common case, without a second call
        return value
    return _int_at_least(value, name, 1)


def nonnegative_int(value, name: str) -> int:
    """``value`` as an int >= 0."""
    if type(value) is int and value >= 0:
        return value
    return _int_at_least(value, name, 0)


def _int_at_least(value, name: str, low: int) -> int:
    if type(value) is int and value >= low:  # the common case; bool is not int by type
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value}")
    return int(value)


def pair(value, name: str, *, low: int = 1) -> tuple[int, int]:
    """An int or a pair of ints (height, width) as a pair, each >= ``low``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name}: expected an integer or a pair (height, width), got {value!r}")
        return (_int_at_least(value[0], name, low), _int_at_least(value[1], name, low))
    v = _int_at_least(value, name, low)
    return (v, v)


def probability(value, name: str, *, closed_right: bool = False) -> float:
    """``value`` as a float in [0, 1) (or [0, 1] with ``closed_right``)."""
    v = float(value)
    ok = 0.0 <= v <= 1.0 if closed_right else 0.0 <= v < 1.0
    if not ok:
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"{name}: expected a probability in {interval}, got {value!r}")
    return v


def nonnegative(value, name: str) -> float:
    """``value`` as a float >= 0."""
    v = float(value)
    if not v >= 0.0:
        raise ValueError(f"{name}: expected a number >= 0, got {value!r}")
    return v


def choose(value: str, name: str, options: Mapping[str, T]) -> T:
    """Look ``value`` up in a registry keyed by exact name; an unknown key lists the known ones."""
    try:
        return options[value]
    except (KeyError, TypeError):
        known = ", ".join(repr(k) for k in options)
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {known}") from None


def one_of(value: str, name: str, options: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``options`` exactly (a convention or reduction name)."""
    if value not in options:
        known = ", ".join(repr(k) for k in options)
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {known}")
    return value
