"""Tensor operations: shapes by torch's rules, checked by hand and against NumPy's own
operations on arrays of those shapes (NumPy and torch agree on reshape, broadcasting, matmul)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen.reference import tensors as T


def test_shapes_by_hand():
    assert T.permute_shape((2, 3, 4), (2, 0, 1)) == (4, 2, 3)
    assert T.permute_shape((2, 3, 4), (1, 2, 0)) == (3, 4, 2)  # the inverse of (2, 0, 1)
    assert T.reshape_shape((4, 2, 3), (-1, 6)) == (4, 6)
    assert T.reshape_shape((4, 2, 3), (6, -1)) == (6, 4)
    assert T.sum_shape((5, 7), 1, keepdim=True) == (5, 1)
    assert T.sum_shape((5, 7), 1) == (5,)
    assert T.sum_shape((5, 7), -2) == (7,)
    assert T.cat_shape([(5, 7), (5, 2)], dim=1) == (5, 9)
    assert T.stack_shape([(5, 7), (5, 7)], dim=1) == (5, 2, 7)
    assert T.stack_shape([(5, 7), (5, 7)], dim=-1) == (5, 7, 2)
    assert T.transpose_shape((2, 3, 4), 0, 2) == (4, 3, 2)
    assert T.broadcast_shape((3, 1), (4,)) == (3, 4)
    assert T.matmul_shape((6, 4), (4, 6)) == (6, 6)
    assert T.matmul_shape((4,), (4,)) == ()
    assert T.matmul_shape((2, 1, 3, 4), (5, 4, 2)) == (2, 5, 3, 2)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: T.reshape_shape((4, 3), (5, -1)), r"shape \(5, -1\) is invalid for input of size 12"),
        (lambda: T.reshape_shape((4, 3), (-1, -1)), "only one dimension can be inferred"),
        (lambda: T.permute_shape((2, 3), (0, 0)), "expected a permutation"),
        (lambda: T.sum_shape((2, 3), 2), r"dimension out of range \(expected to be in \[-2, 1\], got 2\)"),
        (lambda: T.cat_shape([(2, 3), (3, 3)], dim=1), "must match except in dimension 1"),
        (lambda: T.stack_shape([(2, 3), (3, 2)]), "equal size"),
        (lambda: T.broadcast_shape((3,), (4,)), "do not broadcast"),
        (lambda: T.matmul_shape((3, 4), (3, 4)), r"cannot be multiplied \(4 != 3\)"),
    ],
)
def test_what_torch_refuses_is_refused_with_a_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_values_by_hand():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    rows = T.tensor_sum(x, 1, keepdim=True)  # [[6], [15], [24]]
    np.testing.assert_array_equal(T.tensor_sub(x, rows)[0], [-5, -4, -3])
    # the (3,) row sums broadcast as a row: x[i, j] - rowsum[j]
    np.testing.assert_array_equal(T.tensor_sub(x, T.tensor_sum(x, 1))[0], [-5, -13, -21])
    v = np.array([1.0, 0.0, -1.0])
    np.testing.assert_array_equal(T.tensor_mul(x, v)[1], [4, 0, -6])  # columns scaled
    np.testing.assert_array_equal(T.tensor_mul(x, T.unsqueeze(v, 1))[1], [0, 0, 0])  # rows scaled
    np.testing.assert_array_equal(T.reshape(T.transpose(x), [-1])[:4], [1, 4, 7, 2])


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=2, max_size=4),
    st.randoms(use_true_random=False),
)
def test_shapes_agree_with_numpy_on_arrays(shape, rnd):
    x = np.zeros(shape)
    dims = list(range(len(shape)))
    rnd.shuffle(dims)
    assert T.permute_shape(shape, dims) == np.transpose(x, dims).shape
    d = rnd.randrange(-len(shape), len(shape))
    assert T.sum_shape(shape, d, keepdim=True) == T.tensor_sum(x, d, keepdim=True).shape
    assert T.sum_shape(shape, d) == T.tensor_sum(x, d).shape
    assert T.reshape_shape(shape, (-1, shape[-1])) == x.reshape(-1, shape[-1]).shape
    assert T.stack_shape([shape, shape], d) == np.stack([x, x], axis=d).shape
    assert T.cat_shape([shape, shape], d) == np.concatenate([x, x], axis=d).shape
    other = [rnd.choice([1, s]) for s in shape[rnd.randrange(len(shape)) :]]
    assert T.broadcast_shape(shape, other) == (x + np.zeros(other)).shape
    k = rnd.randint(1, 3)
    for b in ([shape[-1]], [shape[-1], k], [1, shape[-1], k], [*shape[:-2], shape[-1], k]):
        assert T.matmul_shape(shape, b) == np.matmul(x, np.zeros(b)).shape
    assert T.matmul_shape([shape[-2]], shape) == np.matmul(np.zeros(shape[-2]), x).shape
