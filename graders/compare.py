"""The value ladder shared by numeric and code grading: shape, then finiteness, then values.

:func:`compare_arrays` judges a given value against the expected one under a
:class:`~quizgen.models.Tolerance` (the one definition of "close enough") and says how it is off:

- shape mismatch: score 0, ``"expected shape (2, 3), got (3, 2)"``;
- NaN or infinity in the given value: those elements are wrong;
- otherwise each element is right or wrong; ``partial=True`` scores the fraction right,
  ``partial=False`` scores all or nothing.

The message for an array says how many elements are off, the first few indices (0-based) and the
largest error and where; for a single number, how far off it is (absolute and relative), and
when the answer has the wrong sign or is off by a power of ten, says that too.

:func:`match_mistake` finds the first known mistake (in the instance's order) whose value the
given answer equals within the tolerance; only distinguishable mistakes count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from quizgen.models import KnownMistake, Status, Tolerance

__all__ = [
    "HINT_POWERS",
    "MAX_LISTED",
    "Comparison",
    "array_message",
    "compare_arrays",
    "format_index",
    "hint_text",
    "match_mistake",
    "scalar_message",
]

#: How many wrong indices a comparison lists.
MAX_LISTED = 5


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing one given value with the expected one.

    ``score`` in [0, 1]; ``wrong`` holds the index tuples of the first :data:`MAX_LISTED` wrong
    elements (``()`` for a single number), ``n_wrong`` how many are wrong in all, ``max_error``
    the largest absolute error (``inf`` when a value is not finite or the shapes differ).
    ``shape_ok`` is False when the shapes differ (then nothing else was compared).
    """

    score: float
    status: Status
    message: str
    wrong: tuple[tuple[int, ...], ...] = ()
    n_wrong: int = 0
    max_error: float = 0.0
    shape_ok: bool = True

    @property
    def correct(self) -> bool:
        return self.status is Status.CORRECT


def _g(x: float) -> str:
    """A number for a message: 4 significant figures, no trailing zeros."""
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"


def format_index(index: tuple[int, ...]) -> str:
    """An element index as written in messages: ``[1, 2]``."""
    return "[" + ", ".join(map(str, map(int, index))) + "]"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "a single number" if shape == () else f"shape {shape}"


def _as_numbers(value) -> np.ndarray | str:
    """``value`` as a float64 array, or a sentence saying why it is not numbers."""
    if value is None:
        return "got no value (None)"
    if isinstance(value, str):
        return f"got text {value[:40]!r}, not numbers"
    try:
        arr = np.asarray(value)
        if arr.dtype.kind == "c":
            return "got complex numbers"
        if arr.dtype.kind in "USV":
            return "got text, not numbers"
        if arr.dtype.kind not in "biuf":
            arr = np.asarray(value, dtype=np.float64)
        return arr.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        return f"got {type(value).__name__}, which is not an array of numbers (a ragged list?)"


def _allowed(tolerance: Tolerance, expected: float) -> str:
    """What is accepted, worded so that it cannot read as "your answer was accepted"."""
    if tolerance.exact:
        return "the key must be matched exactly"
    return f"it must be within ±{_g(float(tolerance.margin(expected)))} of the key ({tolerance.describe()})"


#: The powers of ten a wrong answer is tried against, in order, for the units hint.
HINT_POWERS = (1, -1, 2, -2, 3, -3, 6, -6)


def hint_text(flipped: bool, power: int | None) -> str:
    """The hint that ends a wrong answer's message: the sign flipped, else off by ``10^power``
    (None: not), else ''."""
    if flipped:
        return "; the sign is flipped"
    if power is not None:
        return f"; it is off by a factor of 10^{power} (check the units or the decimal point)"
    return ""


def _hint(expected: np.ndarray, given: np.ndarray, tolerance: Tolerance) -> str:
    """A likely cause when the whole answer is off in a recognisable way, else ''."""
    if not np.any(expected != 0) or not np.all(np.isfinite(given)):
        return ""
    if tolerance.accepts(-expected, given):
        return hint_text(True, None)
    for k in HINT_POWERS:
        if tolerance.accepts(expected * 10.0**k, given):
            return hint_text(False, k)
    return ""


def _shape_hint(expected: np.ndarray, given: np.ndarray, tolerance: Tolerance) -> str:
    """Why the shapes differ, when the values say so: a transpose or a reshape."""
    if expected.size != given.size or expected.size <= 1:
        return ""
    if given.ndim == 2 and given.T.shape == expected.shape and tolerance.accepts(expected, given.T):
        return "; the answer is the transpose of the right one"
    if tolerance.accepts(expected, given.reshape(expected.shape)):
        return "; the numbers are right but arranged in the wrong shape"
    return ""


def scalar_message(e: float, g: float, tolerance: Tolerance, hint: str = "") -> str:
    """How a wrong single number ``g`` is off from ``e`` (``hint`` from :func:`hint_text`)."""
    if not math.isfinite(g):
        return f"the answer is {g}, not a finite number"
    err = g - e
    direction = "too high" if err > 0 else "too low"
    rel = f" ({abs(err) / abs(e):.3g} relative)" if e != 0 else ""
    return f"{direction} by {_g(abs(err))}{rel}; {_allowed(tolerance, e)}{hint}"


def _scalar_message(e: float, g: float, tolerance: Tolerance) -> str:
    hint = _hint(np.asarray(e), np.asarray(g), tolerance) if math.isfinite(g) else ""
    return scalar_message(e, g, tolerance, hint)


def array_message(
    n_bad: int,
    n: int,
    listed: Sequence[tuple[int, ...]],
    nonfinite: tuple[int, tuple[int, ...]] | None,
    worst: tuple[tuple[int, ...], float, float, float] | None,
    hint: str = "",
    *,
    show_values: bool = False,
) -> str:
    """How a wrong array is off: ``n_bad`` of ``n`` elements, the first :data:`MAX_LISTED` wrong
    indices ``listed``, ``nonfinite`` = (how many, first index) or None, ``worst`` = (index,
    error, expected, given) of the largest finite error among the wrong ones or None."""
    more = ", ..." if n_bad > MAX_LISTED else ""
    noun = "element is" if n_bad == 1 else "elements are"
    parts = [
        f"{n_bad} of {n} {noun} off (at {', '.join(format_index(ix) for ix in listed)}{more}; indices from 0)"
    ]
    if nonfinite is not None:
        parts.append(f"{nonfinite[0]} not a finite number (first at {format_index(nonfinite[1])})")
    if worst is not None:
        index, err, e, g = worst
        text = f"the largest error is {_g(err)} at {format_index(index)}"
        if show_values:
            text += f" (expected {_g(e)}, got {_g(g)})"
        parts.append(text)
    return "; ".join(parts) + hint


def _array_message(
    e: np.ndarray, g: np.ndarray, bad: np.ndarray, err: np.ndarray, tolerance: Tolerance, show_values: bool
) -> str:
    n_bad = int(bad.sum())
    listed = [tuple(int(i) for i in ix) for ix in np.argwhere(bad)[:MAX_LISTED]]
    nonfinite = ~np.isfinite(g)
    first_nonfinite = None
    if nonfinite.any():
        first = tuple(int(i) for i in np.argwhere(nonfinite)[0])
        first_nonfinite = (int(nonfinite.sum()), first)
    finite_err = np.where(bad & np.isfinite(err), err, -1.0)
    worst = None
    if finite_err.max() >= 0:
        at = tuple(int(i) for i in np.unravel_index(int(np.argmax(finite_err)), e.shape))
        worst = (at, float(err[at]), float(e[at]), float(g[at]))
    return array_message(
        n_bad, e.size, listed, first_nonfinite, worst, _hint(e, g, tolerance), show_values=show_values
    )


def compare_arrays(
    expected,
    given,
    tolerance: Tolerance,
    *,
    partial: bool = True,
    show_values: bool = False,
    describe: bool = True,
) -> Comparison:
    """Judge ``given`` against ``expected`` (numbers or arrays of any shape) under ``tolerance``.

    score = (number of elements with |given - expected| within the tolerance) / size when
    ``partial``, else 1 if all are and 0 otherwise; different shapes or something that is not
    numbers score 0. ``show_values`` adds the expected and given value of the worst element to
    an array's message (a single number's message never states the expected value). With
    ``describe=False`` a wrong answer's message is left empty: the grader first checks whether
    the answer is a known mistake, whose feedback replaces the message anyway.
    """
    e = np.asarray(expected, dtype=np.float64)
    g = _as_numbers(given)
    if isinstance(g, str):
        return Comparison(
            0.0,
            Status.INCORRECT,
            f"expected {_shape_text(e.shape)}; {g}",
            (),
            max(e.size, 1),
            math.inf,
            False,
        )
    if g.shape != e.shape:
        return Comparison(
            0.0,
            Status.INCORRECT,
            f"expected {_shape_text(e.shape)}, got {_shape_text(g.shape)}{_shape_hint(e, g, tolerance)}",
            (),
            max(e.size, 1),
            math.inf,
            False,
        )
    ok = tolerance.close(e, g)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(np.isfinite(g), np.abs(g - e), math.inf)
    max_error = float(err.max()) if err.size else 0.0
    bad = ~ok
    n_bad = int(bad.sum())
    if n_bad == 0:
        return Comparison(1.0, Status.CORRECT, "correct", (), 0, max_error)
    fraction = 1.0 - n_bad / e.size
    score = fraction if partial else 0.0
    status = Status.PARTIAL if score > 0 else Status.INCORRECT
    if not describe:
        wrong = tuple(tuple(int(i) for i in ix) for ix in np.argwhere(bad)[:MAX_LISTED]) if e.ndim else ()
        return Comparison(score, status, "", wrong, n_bad, max_error)
    if e.ndim == 0:
        return Comparison(score, status, _scalar_message(float(e), float(g), tolerance), (), 1, max_error)
    wrong = tuple(tuple(int(i) for i in ix) for ix in np.argwhere(bad)[:MAX_LISTED])
    message = _array_message(e, g, bad, err, tolerance, show_values)
    return Comparison(score, status, message, wrong, n_bad, max_error)


def _mistake_matches(value, given, tolerance: Tolerance) -> bool:
    if value is None:
        return False
    if isinstance(value, str) or isinstance(given, str):
        return (
            isinstance(value, str)
            and isinstance(given, str)
            and value.strip().upper() == given.strip().upper()
        )
    g = _as_numbers(given)
    if isinstance(g, str):
        return False
    try:
        m = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return tolerance.accepts(m, g)


def match_mistake(given, mistakes: Sequence[KnownMistake], tolerance: Tolerance) -> KnownMistake | None:
    """The first distinguishable mistake whose value ``given`` equals within ``tolerance``
    (same shape, every element close), or None. A mistake whose value is an option letter
    matches that letter (case-insensitive)."""
    for m in mistakes:
        if m.distinguishable and _mistake_matches(m.value, given, tolerance):
            return m
    return None
