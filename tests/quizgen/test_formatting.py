import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from quizgen import formatting

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
