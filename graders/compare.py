"""The value ladder shared by numeric and code grading: shape, then finiteness, then values.

:func:`compare_arrays` judges a given value against the expected one under a
:class:`~quizgen.models.Tolerance` (the one definition of "close enough") and says how it is off:

- shape mismatch: score 0, ``"expected shape (2, 3), got (3, 2)"``;
- NaN or infinity in the given value: those elements are wrong;
- otherwise each element is right or wrong; ``partial=True`` scores what the answer gets right
  beyond the best trivial answer (:func:`element_scores`), ``partial=False`` all or nothing.

The message for an array says how many elements are off, the first few indices (0-based) and the
largest error and where; for a single number, how far off it is (absolute and relative), and
when the answer is the transpose of the key, has the wrong sign or is off by a power of ten, says
that too (:func:`hints`; never for an answer that all zeros would explain as well).

Every rule works on rows (row r: one answer, stacked): the batch grader
(:mod:`quizgen.graders.batch`) judges a whole class with them and :func:`compare_arrays` one
answer, so each rule is written once (docs/grading.md states them with examples).

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
    "TRANSPOSED",
    "Comparison",
    "all_rows",
    "array_message",
    "array_messages",
    "close_rows",
    "compare_arrays",
    "element_scores",
    "format_index",
    "hint_text",
    "hints",
    "match_mistake",
    "mistake_feedback",
    "scalar_message",
    "transposed_rows",
    "trivial_floor",
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
    """An element index as written in messages: ``[1, 2]`` (remembered: a class's wrong
    answers name the same few indices over and over)."""
    try:
        text = _INDEX_TEXT.get(index)
    except TypeError:  # not hashable (a list, an array)
        return "[" + ", ".join(map(str, map(int, index))) + "]"
    if text is None:
        text = "[" + ", ".join(map(str, map(int, index))) + "]"
        if len(_INDEX_TEXT) < 10_000:
            _INDEX_TEXT[index] = text
    return text


_INDEX_TEXT: dict = {}


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

#: The hint for an answer that is the key transposed (square or not).
TRANSPOSED = "; the answer is the transpose of the right one"


def hint_text(flipped: bool, power: int | None, transposed: bool = False) -> str:
    """The hint that ends a wrong answer's message: the key transposed, else the sign flipped,
    else off by ``10^power`` (None: not), else ''."""
    if transposed:
        return TRANSPOSED
    if flipped:
        return "; the sign is flipped"
    if power is not None:
        return f"; it is off by a factor of 10^{power} (check the units or the decimal point)"
    return ""


def all_rows(ok: np.ndarray) -> np.ndarray:
    """(n, ...) booleans -> (n,): is every element of each row true?"""
    return ok.reshape(len(ok), -1).all(axis=1)


def close_rows(tol: Tolerance, e: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``tol.close(e, g)`` for stacked rows (row r: one answer), equal to
    ``tol.close(e[r], g[r])`` for each row (``close_scalar`` for single numbers).

    Only significant figures need care: their margin takes a log10 and a power, which NumPy
    may round differently from ``math`` (used for single numbers) in the last bit, so elements
    at such an edge (log10 of the expected value next to a whole number, or the error next to
    the margin) are judged again one by one."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ok = tol.close(e, g)
        if tol.sigfigs is None:
            return ok
        a = np.abs(e)
        lg = np.log10(np.where(a > 0, a, 1.0))
        margin = tol.margin(e)
        diff = np.abs(g - e)
        edge = ((a > 0) & (np.abs(lg - np.round(lg)) < 1e-9)) | (np.abs(diff - margin) <= 1e-9 * margin)
        edge &= np.isfinite(e) & np.isfinite(g)
    if edge.any():
        if e.ndim == 1:
            for k in np.flatnonzero(edge):
                ok[k] = tol.close_scalar(float(e[k]), float(g[k]))
        else:
            for r in np.unique(np.nonzero(edge)[0]):
                ok[r] = tol.close(e[r], g[r])
    return ok


def transposed_rows(tol: Tolerance, e: np.ndarray, g: np.ndarray) -> np.ndarray:
    """(n,) booleans: rows of square matrices (``e``, ``g``: (n, m, m), m >= 2) whose given
    value is the key transposed and not the key itself (a symmetric key is simply right)."""
    n = len(e)
    if e.ndim != 3 or e.shape[1] != e.shape[2] or e.shape[1] < 2:
        return np.zeros(n, dtype=bool)
    return all_rows(close_rows(tol, e, g.swapaxes(1, 2))) & ~all_rows(close_rows(tol, e, g))


def hints(tol: Tolerance, e: np.ndarray, g: np.ndarray) -> list[str]:
    """The hint (:func:`hint_text`) for each row of wrong answers ``g`` to keys ``e``: the
    transpose, the sign flipped or a power of ten, only when the whole answer is that and an
    all-zeros answer would not pass for it too (typing 0 is not "off by a factor of 10^-6")."""
    n = len(e)
    with np.errstate(over="ignore", invalid="ignore"):
        transposed = transposed_rows(tol, e, g)
        hinted = (e != 0).reshape(n, -1).any(axis=1) & all_rows(np.isfinite(g)) & ~transposed
        hinted &= (g != 0).reshape(n, -1).any(axis=1)  # all zeros: no hint fits it alone

        def fits(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """(rows where the answer is ``x``, and of those, where zeros would not be)."""
            hit = all_rows(close_rows(tol, x[rows], g[rows]))
            alone = hit.copy()
            if hit.any():
                at = rows[hit]
                alone[hit] = ~all_rows(close_rows(tol, x[at], np.zeros_like(x[at])))
            return hit, alone

        flipped = np.zeros(n, dtype=bool)
        left = np.flatnonzero(hinted)
        if len(left):
            hit, alone = fits(-e, left)
            flipped[left[alone]] = True
            left = left[~hit]
        power: list[int | None] = [None] * n
        for k in HINT_POWERS:
            if not len(left):
                break
            hit, alone = fits(e * 10.0**k, left)
            for r in left[alone].tolist():
                power[r] = k
            left = left[~hit]  # an answer that zeros fit as well gets no hint
    return [hint_text(f, p, t) for f, p, t in zip(flipped.tolist(), power, transposed.tolist(), strict=True)]


def trivial_floor(tol: Tolerance, e: np.ndarray) -> np.ndarray:
    """(n,) ints: for each key row, the most of its elements one number typed everywhere gets
    right, over 0 and each of the key's own values (an all-zeros answer, or all-equal: the
    trivial answers; a sign-flipped key gets right only elements that zeros get right too)."""
    n = len(e)
    flat = e.reshape(n, -1)
    size = flat.shape[1]
    floor = all_rows_count(close_rows(tol, flat, np.zeros_like(flat)))
    step = max(1, 2_000_000 // max(size * size, 1))
    for lo in range(0, n, step):
        block = flat[lo : lo + step]
        # right[r, j, k]: is element j of row r right when the answer is element k everywhere?
        right = _close_pairs(tol, block)
        floor[lo : lo + step] = np.maximum(floor[lo : lo + step], right.sum(axis=1).max(axis=1, initial=0))
    return floor


def _close_pairs(tol: Tolerance, block: np.ndarray) -> np.ndarray:
    """``close_rows(tol, E, G)`` for ``E[r, j, k] = block[r, j]`` and ``G[r, j, k] = block[r, k]``
    ((n, m) -> (n, m, m)), the same steps with what depends on the key element alone (its
    margin, its log10) worked out once per element rather than once per pair."""
    n, m = block.shape
    cube = (n, m, m)
    e, g = block[:, :, None], block[:, None, :]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        finite = np.isfinite(block)
        both = finite[:, :, None] & finite[:, None, :]
        if tol.exact:
            return both & (g == e)
        diff = np.abs(np.subtract(g, e, out=np.full(cube, np.inf), where=both))
        margin = np.asarray(tol.margin(block))[:, :, None]
        ok = both & (diff <= margin)
        if tol.sigfigs is None:
            return ok
        a = np.abs(block)
        lg = np.log10(np.where(a > 0, a, 1.0))
        edge = ((a > 0) & (np.abs(lg - np.round(lg)) < 1e-9))[:, :, None] | (
            np.abs(np.abs(g - e) - margin) <= 1e-9 * margin
        )
        edge &= both
    if edge.any():  # as close_rows: those rows judged again as a whole
        big_e, big_g = np.broadcast_to(e, cube), np.broadcast_to(g, cube)
        for r in np.unique(np.nonzero(edge)[0]):
            ok[r] = tol.close(big_e[r], big_g[r])
    return ok


def all_rows_count(ok: np.ndarray) -> np.ndarray:
    """(n, ...) booleans -> (n,) how many are true in each row."""
    return ok.reshape(len(ok), -1).sum(axis=1)


def element_scores(tol: Tolerance, e: np.ndarray, g: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per-element credit for rows of answers ``g`` to keys ``e`` (``ok``: each element right),
    the one rule::

        score = max(0, (right - floor) / (size - floor))

    where ``right`` counts the elements right and ``floor`` is the most elements a trivial
    answer gets right (:func:`trivial_floor`, or the answer's own count when it is one number
    typed everywhere). An all-zeros, all-equal or sign-flipped answer, and a transposed square
    matrix, earn 0; a key that is itself trivial (floor = size) gives no credit short of all."""
    n = len(e)
    right = all_rows_count(ok)
    size = ok[0].size if n else 0
    flat = g.reshape(n, -1)
    constant = (flat == flat[:, :1]).all(axis=1)
    floor = np.maximum(trivial_floor(tol, e), np.where(constant, right, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(size > floor, np.maximum(right - floor, 0) / np.maximum(size - floor, 1), 0.0)
    score[transposed_rows(tol, e, g)] = 0.0
    score[right == size] = 1.0
    return score


def _shape_hint(expected: np.ndarray, given: np.ndarray, tolerance: Tolerance) -> str:
    """Why the shapes differ, when the values say so: a transpose or a reshape."""
    if expected.size != given.size or expected.size <= 1:
        return ""
    if given.ndim == 2 and given.T.shape == expected.shape and tolerance.accepts(expected, given.T):
        return TRANSPOSED
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
    noun = f"element{'' if n == 1 else 's'} {'is' if n_bad == 1 else 'are'}"
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


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(v) for v in np.unravel_index(flat, shape))


def array_messages(
    e: np.ndarray, g: np.ndarray, bad: np.ndarray, hint: Sequence[str], show_values: bool = False
) -> list[str]:
    """:func:`array_message` for each row of wrong answers ``g`` to keys ``e`` (``bad``: the
    wrong elements), its facts found for all rows at once."""
    n, shape = len(e), e.shape[1:]
    flat_bad = bad.reshape(n, -1)
    n_bad = flat_bad.sum(axis=1).tolist()
    first = flat_bad & (np.cumsum(flat_bad, axis=1) <= MAX_LISTED)
    rows, cols = np.nonzero(first)
    listed: list[list[tuple[int, ...]]] = [[] for _ in range(n)]
    coords = zip(*(a.tolist() for a in np.unravel_index(cols, shape)), strict=True)
    for r, ix in zip(rows.tolist(), coords, strict=True):
        listed[r].append(ix)
    nonfinite: list = [None] * n
    flat_nf = ~np.isfinite(g.reshape(n, -1))
    if flat_nf.any():
        counts, at = flat_nf.sum(axis=1), flat_nf.argmax(axis=1)
        for r in np.flatnonzero(counts).tolist():
            nonfinite[r] = (int(counts[r]), _index(int(at[r]), shape))
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(np.isfinite(g), np.abs(g - e), math.inf).reshape(n, -1)
    finite_err = np.where(flat_bad & np.isfinite(err), err, -1.0)
    at = finite_err.argmax(axis=1)
    has = (finite_err.max(axis=1) >= 0).tolist()
    rows_n = np.arange(n)
    worst_err = err[rows_n, at].tolist()
    worst_e, worst_g = e.reshape(n, -1)[rows_n, at].tolist(), g.reshape(n, -1)[rows_n, at].tolist()
    worst_ix = list(zip(*(a.tolist() for a in np.unravel_index(at, shape)), strict=True))
    size = flat_bad.shape[1]
    messages = []
    for r in range(n):
        worst = (worst_ix[r], worst_err[r], worst_e[r], worst_g[r]) if has[r] else None
        messages.append(
            array_message(n_bad[r], size, listed[r], nonfinite[r], worst, hint[r], show_values=show_values)
        )
    return messages


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

    score: 1 when every element is within the tolerance; otherwise :func:`element_scores` for
    an array when ``partial``, else 0; different shapes or something that is not numbers
    score 0. ``show_values`` adds the expected and given value of the worst element to
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
    ok = close_rows(tolerance, e[None], g[None])[0]
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(np.isfinite(g), np.abs(g - e), math.inf)
    max_error = float(err.max()) if err.size else 0.0
    bad = ~ok
    n_bad = int(bad.sum())
    if n_bad == 0:
        return Comparison(1.0, Status.CORRECT, "correct", (), 0, max_error)
    score = float(element_scores(tolerance, e[None], g[None], ok[None])[0]) if partial and e.ndim else 0.0
    status = Status.PARTIAL if score > 0 else Status.INCORRECT
    wrong = tuple(tuple(int(i) for i in ix) for ix in np.argwhere(bad)[:MAX_LISTED]) if e.ndim else ()
    if not describe:
        return Comparison(score, status, "", wrong, n_bad, max_error)
    hint = hints(tolerance, e[None], g[None])
    if e.ndim == 0:
        return Comparison(
            score, status, scalar_message(float(e), float(g), tolerance, hint[0]), (), 1, max_error
        )
    message = array_messages(e[None], g[None], bad[None], hint, show_values)[0]
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


def mistake_feedback(mistake: KnownMistake) -> str:
    """The feedback of an answer equal to a known mistake: its explanation, and when the
    template gives it credit, how much and why."""
    if not mistake.credit:
        return mistake.feedback
    return f"{mistake.feedback} ({mistake.credit:.0%} credit: {mistake.credit_reason})"
