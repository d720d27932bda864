import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizgen import formatting
from quizgen.formatting import plain

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(floats)
def test_num_of_python_and_numpy_numbers_agrees_with_the_array_path(x):
    want = formatting.num(np.asarray(x))
    assert formatting.num(x) == formatting.num(np.float64(x)) == want


@given(st.lists(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=2), min_size=1, max_size=3))
def test_plain_and_mat_write_every_element_like_num(rows):
    arr = np.array(rows)
    assert (
        formatting.plain(arr)
        == "[" + ", ".join("[" + ", ".join(formatting.num(v) for v in r) + "]" for r in rows) + "]"
    )
    assert formatting.mat(arr).count("&") == arr.shape[0] * (arr.shape[1] - 1)
    assert formatting.plain(rows[0]) == "[" + ", ".join(formatting.num(v) for v in rows[0]) + "]"


def test_integral_values_print_as_integers():
    assert formatting.plain(np.array([[1.0, -2.0]])) == "[[1, -2]]"
    assert formatting.num(True) == "1" and formatting.num(np.int64(7)) == "7"
    assert formatting.colvec([0.5, 3]) == r"\begin{bmatrix} 0.5 \\ 3 \end{bmatrix}"


# The fast paths of quizgen.formatting write what the general ones write: num() of a Python
# number, plain() of a JSON-ready list without a NumPy round trip.


_numbers = st.one_of(
    st.integers(-(10**6), 10**6),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e15, 1e-8, 2.5e-5, 123456.5, 1 / 3]),
)


def _through_numpy(value, sig: int) -> str:
    """plain() without its list fast path."""
    fast = formatting._plain_list
    formatting._plain_list = lambda values, sig: None
    try:
        return plain(value, sig)
    finally:
        formatting._plain_list = fast


@given(st.lists(_numbers, min_size=1, max_size=6), st.sampled_from([3, 6, 8]))
def test_a_list_of_numbers_is_written_as_numpy_writes_it(values, sig):
    assert plain(values, sig) == _through_numpy(values, sig)


@given(
    st.integers(1, 4).flatmap(
        lambda w: st.lists(st.lists(_numbers, min_size=w, max_size=w), min_size=1, max_size=4)
    ),
    st.sampled_from([6, 8]),
)
def test_a_matrix_is_written_as_numpy_writes_it(rows, sig):
    assert plain(rows, sig) == _through_numpy(rows, sig)


@pytest.mark.parametrize(
    "value",
    [[True, 2.5], [[1, 2], [3, 4.5]], [[[1, 2]], [[3, 4]]], [[]], [1, None], ["a", "b"]],
)
def test_other_lists_take_the_general_path(value):
    try:
        want = _through_numpy(value, 6)
    except (TypeError, ValueError):
        with pytest.raises((TypeError, ValueError)):
            plain(value)
        return
    assert plain(value) == want


def test_a_ragged_list_is_still_an_error():
    with pytest.raises(ValueError):
        plain([[1, 2], [3]])


def _num_as_first_written(value, sig: int = 6) -> str:
    """num() as it was before its fast path (the reference)."""
    x = float(value) if isinstance(value, (float, int)) else float(np.asarray(value))
    if not math.isfinite(x):
        return str(x)
    if abs(x) < formatting.ROUND_OFF:  # issue 15: round-off of an exact 0 is written 0
        return "0"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.{sig}g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa}e{int(exp)}"
    return text


def test_num_writes_float_round_off_of_zero_as_0():
    assert formatting.num(0.3 - 3 * 0.1) == "0"
    assert formatting.num(-5.551115123125783e-17) == "0"
    assert formatting.num(1.5e-8) == "1.5e-8"  # a small value that means something (an epsilon)
    assert formatting.plain([0.25, 1.1102230246251565e-16]) == "[0.25, 0]"


@given(st.one_of(_numbers, st.booleans(), st.floats(-1e16, 1e16)), st.integers(1, 12))
def test_num_writes_what_it_first_wrote(value, sig):
    assert formatting.num(value, sig) == _num_as_first_written(value, sig)
    assert formatting.num(np.float64(value), sig) == _num_as_first_written(np.float64(value), sig)


@pytest.mark.parametrize(
    "value", [1e15, -1e15, 999999999999999.0, 1e15 - 0.5, -0.0, 2**70, np.float32(0.1), np.int64(-3)]
)
def test_num_at_the_edges(value):
    assert formatting.num(value) == _num_as_first_written(value)


@given(st.lists(st.tuples(st.one_of(_numbers, st.booleans(), st.floats()), st.integers(1, 12)), max_size=30))
def test_num_remembers_nothing_that_changes_what_it_writes(calls):
    """num keeps the texts of recent numbers; equal numbers (1, 1.0, True; 0.0, -0.0) written in
    any order, twice, each get the text first written for them."""
    for value, sig in calls + calls[::-1]:
        assert formatting.num(value, sig) == _num_as_first_written(value, sig)


def test_num_keeps_a_bounded_memory(monkeypatch):
    monkeypatch.setattr(formatting, "_WRITTEN", {})
    monkeypatch.setattr(formatting, "_WRITTEN_MAX", 8)
    for i in range(100):
        assert formatting.num(i / 7, 3) == _num_as_first_written(i / 7, 3)
        assert len(formatting._WRITTEN) <= 8


@given(
    st.lists(st.one_of(floats, st.floats(-1e-6, 1e-6), st.integers(-(2**40), 2**40)), min_size=1, max_size=8)
)
def test_mat_and_colvec_write_each_element_as_tex_num(values):
    texts = [formatting.tex_num(float(v)) for v in values]
    arr = np.array(values, dtype=np.float64)
    assert formatting.mat(arr) == r"\begin{bmatrix} " + " & ".join(texts) + r" \end{bmatrix}"
    assert formatting.colvec(arr) == r"\begin{bmatrix} " + r" \\ ".join(texts) + r" \end{bmatrix}"
