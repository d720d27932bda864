"""How numbers, arrays and shapes are written in question text, keys and feedback.

These are the jinja2 filters of the bank's templates: ``{{ x | num }}``, ``{{ w | mat }}``,
``{{ dims | shape }}``. Numbers are written with up to ``sig`` significant figures and no
trailing zeros; integral values are written as integers; arrays become LaTeX ``bmatrix``.
"""

from __future__ import annotations

import math

import numpy as np

#: Smaller magnitudes are float round-off of an exact 0 (no quiz value is this small) and are written 0.
ROUND_OFF = 1e-14


def num(value, sig: int = 6) -> str:
    """A number, compactly: 3, -0.25, 0.000123457, 1.5e-08 (``sig`` significant figures)."""
    if type(value) in _NUMBER_TYPES:  # equal numbers (1 and 1.0, 0.0 and -0.0) are written alike
        key = (value, sig)
        text = _WRITTEN.get(key)
        if text is None:
            if len(_WRITTEN) >= _WRITTEN_MAX:
                _WRITTEN.clear()
            text = _WRITTEN[key] = _num(value, sig)
        return text
    return _num(value, sig)


#: :func:`num` of recently written plain numbers: question texts and keys write the same small
#: values over and over (bounded, so memory stays flat)
_WRITTEN: dict[tuple, str] = {}
_WRITTEN_MAX = 4096


def _num(value, sig: int) -> str:
    if type(value) is float:
        x = value
    elif isinstance(value, (float, int)):  # NumPy floats, ints and bools: no array
        x = float(value)
    else:
        arr = np.asarray(value)
        if arr.ndim != 0:
            raise ValueError(f"num: expected a single number, got an array of shape {arr.shape}")
        x = float(arr)
    if not math.isfinite(x):
        return str(x)
    if -ROUND_OFF < x < ROUND_OFF:  # 0.3 - 3 * 0.1 is 0 to a reader, not 5.55e-17
        return "0"
    if -1e15 < x < 1e15 and x.is_integer():
        return str(int(x))
    text = f"{x:.{sig}g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa}e{int(exp)}"
    return text


def tex_num(value, sig: int = 6) -> str:
    """Like :func:`num`, with scientific notation as ``1.5 \\times 10^{-8}`` for LaTeX."""
    text = num(value, sig)
    return _as_tex(text) if "e" in text else text


def _as_tex(text: str) -> str:
    mantissa, exp = text.split("e")
    return rf"{mantissa} \times 10^{{{int(exp)}}}"


def _tex_joined(values: list, sig: int, separator: str) -> str:
    """``separator.join(tex_num(v, sig) for v in values)`` for the Python floats of
    ``ndarray.tolist()``, reading num's memory directly (a matrix writes dozens of numbers)."""
    known = _WRITTEN.get
    texts = []
    for v in values:
        text = known((v, sig)) or num(v, sig)
        texts.append(_as_tex(text) if "e" in text else text)
    return separator.join(texts)


def _squeeze_leading(arr: np.ndarray) -> np.ndarray:
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    return arr


def mat(value, sig: int = 6) -> str:
    """LaTeX ``bmatrix`` of a vector (one row) or matrix; leading size-1 axes are dropped, so an
    NCHW tensor of shape (1, 1, H, W) prints as its H x W image. A scalar prints as a number."""
    arr = _squeeze_leading(np.asarray(value, dtype=np.float64))
    if arr.ndim == 0:
        return tex_num(arr, sig)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"mat: expected at most 2 dimensions after dropping size-1 axes, got {arr.shape}")
    rows = [_tex_joined(row, sig, " & ") for row in arr.tolist()]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def colvec(value, sig: int = 6) -> str:
    """LaTeX column ``bmatrix`` of a vector."""
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    return r"\begin{bmatrix} " + _tex_joined(arr.tolist(), sig, r" \\ ") + r" \end{bmatrix}"


def shape(value) -> str:
    """A shape as ``(2, 3, 4)``; a 1-tuple as ``(5,)``."""
    dims = tuple(int(d) for d in np.asarray(value).reshape(-1))
    return str(dims)


def plain(value, sig: int = 6) -> str:
    """A number, shape-like list or array written as text a student could type back:
    ``0.25``, ``[1, 2, 3]``, ``[[1, 2], [3, 4]]``."""
    if isinstance(value, (float, int)):
        return num(value, sig)
    if type(value) is list and value:  # the JSON-ready answers of the manifest: no array round trip
        text = _plain_list(value, sig)
        if text is not None:
            return text
    arr = np.asarray(value)
    if arr.dtype.kind in "US":
        return str(value)
    if arr.ndim == 0:
        return num(arr, sig)
    return _plain_nested(arr.tolist(), sig)


def _plain_list(values: list, sig: int) -> str | None:
    """:func:`plain` of a list of numbers or a rectangular list of lists of numbers (ints and
    floats, not bools); None for anything else, which goes through NumPy."""
    if type(values[0]) is list:
        width = len(values[0])
        rows = []
        for row in values:
            if type(row) is not list or len(row) != width or not all(type(v) in _NUMBER_TYPES for v in row):
                return None
            rows.append("[" + ", ".join([num(v, sig) for v in row]) + "]")
        return "[" + ", ".join(rows) + "]"
    if all(type(v) in _NUMBER_TYPES for v in values):
        return "[" + ", ".join([num(v, sig) for v in values]) + "]"
    return None


_NUMBER_TYPES = (float, int)


def _plain_nested(values: list, sig: int) -> str:
    if values and isinstance(values[0], list):
        return "[" + ", ".join([_plain_nested(v, sig) for v in values]) + "]"
    return "[" + ", ".join([num(v, sig) for v in values]) + "]"


def paren(value, sig: int = 6) -> str:
    """:func:`tex_num`, in parentheses when negative: for a number after an operator or under a
    power, where ``1 - -0.46^2`` would misread (``1 - (-0.46)^2``)."""
    text = tex_num(value, sig)
    return f"({text})" if text.startswith("-") else text


FILTERS = {
    "paren": paren,
    "num": num,
    "tex": tex_num,
    "mat": mat,
    "colvec": colvec,
    "shape": shape,
    "plain": plain,
}
