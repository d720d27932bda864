import pickle

import numpy as np
import pytest

from quizgen.reference import _checks


def test_as_float_array_fast_path_returns_what_np_asarray_returns():
    x = np.arange(6.0).reshape(2, 3)
    assert _checks.as_float_array(x, "x") is np.asarray(x, dtype=np.float64) is x
    assert _checks.as_float_array(x, "x", ndim=2) is x
    unpickled = pickle.loads(pickle.dumps(x))  # a float64 dtype that is not numpy's singleton
    assert np.array_equal(_checks.as_float_array(unpickled, "x"), x)
    big_endian = x.astype(">f8")
    out = _checks.as_float_array(big_endian, "x")
    assert out.dtype == np.float64 and out.dtype.isnative and np.array_equal(out, x)
    for value in (x, unpickled, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]):
        with pytest.raises(ValueError, match=r"^x: expected 3 dimensions, got shape \(2, 3\)$"):
            _checks.as_float_array(value, "x", ndim=3)
    with pytest.raises(ValueError, match=r"^x: expected an array of numbers, got str$"):
        _checks.as_float_array("a", "x")


def test_int_checks_take_ints_and_numpy_ints_and_refuse_bools_and_floats():
    assert _checks.positive_int(3, "k") == 3
    assert type(_checks.positive_int(np.int64(3), "k")) is int
    assert _checks.nonnegative_int(0, "p") == 0
    for bad, shown in ((True, "True"), (0, "0"), (2.0, "2.0"), (np.int64(0), "0")):
        with pytest.raises(ValueError, match=rf"^k: expected an integer >= 1, got {shown}$"):
            _checks.positive_int(bad, "k")


def test_check_shape_matches_none_as_any_size():
    x = np.zeros((2, 3))
    _checks.check_shape(x, "x", (2, 3))
    _checks.check_shape(x, "x", (None, 3))
    for expected, shown in (((3, 2), r"\(3, 2\)"), ((None, 2), r"\('\*', 2\)"), ((2,), r"\(2,\)")):
        with pytest.raises(ValueError, match=rf"^x: expected shape {shown}, got \(2, 3\)$"):
            _checks.check_shape(x, "x", expected)
