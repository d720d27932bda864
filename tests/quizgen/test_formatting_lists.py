"""plain() writes JSON-ready lists without a NumPy round trip; it must write what NumPy's gives."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizgen import formatting
from quizgen.formatting import plain

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
