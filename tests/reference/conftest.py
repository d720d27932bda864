"""``same_outcome``: pins a fast path to the general path it short-cuts, bit for bit."""

import dataclasses
import struct
import warnings

import numpy as np
import pytest


def _outcome(call):
    """(result or (error type, message), warning messages) of ``call()``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except ValueError as exc:
            result = (type(exc), str(exc))
    return result, [(w.category, str(w.message)) for w in caught]


def _assert_identical(a, b, path="result"):
    """Same types, dtypes, shapes and bits, recursively through tuples, lists and dataclasses."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), f"{path}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        assert a.tobytes() == b.tobytes(), f"{path}: {a!r} vs {b!r}"
    elif isinstance(a, np.generic):
        assert (a.dtype, a.tobytes()) == (b.dtype, b.tobytes()), f"{path}: {a!r} vs {b!r}"
    elif isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b), f"{path}: {a!r} vs {b!r}"
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_identical(x, y, f"{path}[{i}]")
    elif dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            _assert_identical(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def _same_outcome(fast, general):
    """Assert that the calls ``fast()`` and ``general()`` return identical results (or raise the
    same ValueError) with the same warnings."""
    _assert_identical(_outcome(fast), _outcome(general))


@pytest.fixture(scope="session")
def same_outcome():
    return _same_outcome
