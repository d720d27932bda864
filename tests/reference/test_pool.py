import itertools

import numpy as np
import pytest

from quizgen.reference import pool
from quizgen.reference.gradcheck import numerical_gradient_array, relative_error
from quizgen.reference.registry import resolve


def naive_output_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape (aten/src/ATen/native/Pool.h), transcribed."""
    span = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = span // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def naive_max_pool(x, k, s, p, d, ceil_mode):
    """PyTorch's CPU max-pool loop (MaxPoolKernel.cpp), transcribed: -inf start, strict '>' or NaN,
    windows clipped to the input and stepped by the dilation. Returns (out, flat input index)."""
    n, c, h, w = x.shape
    ho, wo = naive_output_size(h, k, s, p, d, ceil_mode), naive_output_size(w, k, s, p, d, ceil_mode)
    out = np.empty((n, c, ho, wo))
    idx = np.empty((n, c, ho, wo), dtype=int)
    for b, ch, i, j in itertools.product(range(n), range(c), range(ho), range(wo)):
        h0, w0 = i * s - p, j * s - p
        h1, w1 = min(h0 + (k - 1) * d + 1, h), min(w0 + (k - 1) * d + 1, w)
        while h0 < 0:
            h0 += d
        while w0 < 0:
            w0 += d
        best, where = -np.inf, h0 * w + w0
        for ih in range(h0, h1, d):
            for iw in range(w0, w1, d):
                v = x[b, ch, ih, iw]
                if v > best or np.isnan(v):
                    best, where = v, ih * w + iw
        out[b, ch, i, j], idx[b, ch, i, j] = best, where
    return out, idx


def naive_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    """PyTorch's CPU avg-pool loop (AvgPoolKernel.cpp), transcribed."""
    n, c, h, w = x.shape
    ho, wo = naive_output_size(h, k, s, p, 1, ceil_mode), naive_output_size(w, k, s, p, 1, ceil_mode)
    out = np.zeros((n, c, ho, wo))
    for i, j in itertools.product(range(ho), range(wo)):
        h0, w0 = i * s - p, j * s - p
        h1, w1 = min(h0 + k, h + p), min(w0 + k, w + p)
        pool_size = (h1 - h0) * (w1 - w0)
        h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
        if divisor_override is not None:
            divide = divisor_override
        elif count_include_pad:
            divide = pool_size
        else:
            divide = (h1 - h0) * (w1 - w0)
        out[:, :, i, j] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / divide
    return out


def distinct(rng, shape):
    """Values with gaps of 1, so no tie and no finite-difference step can reorder them."""
    return rng.permutation(np.prod(shape)).reshape(shape).astype(float) - np.prod(shape) / 2


# --- output size ----------------------------------------------------------------------------


def test_seed_pooling_4x4_with_2x2_window_gives_2x2():
    # notes 000/001: (W - F)/S + 1 = (4 - 2)/2 + 1 = 2, stride defaults to the kernel
    assert pool.pool_output_size(4, 2) == 2
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    assert pool.maxpool2d_forward(x, 2).out.shape == (1, 1, 2, 2)
    assert pool.avgpool2d_forward(x, 2).out.shape == (1, 1, 2, 2)


def test_ceil_mode_adds_a_partial_window_and_drops_one_starting_in_the_right_padding():
    # size 5, k 2, s 2, p 0: floor(3/2) + 1 = 2; ceil -> 3, last window starts at 4 < 5 + 0: kept
    assert pool.pool_output_size(5, 2, stride=2) == 2
    assert pool.pool_output_size(5, 2, stride=2, ceil_mode=True) == 3
    # size 5, k 2, s 2, p 1: span 5; floor -> 3; ceil -> 4, but (4 - 1)·2 = 6 >= 5 + 1: dropped -> 3
    assert pool.pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True) == 3
    # size 3, k 4, s 2: the window overhangs the input; floor gives 0 (error), ceil gives 1
    assert pool.pool_output_size(3, 4, stride=2, ceil_mode=True) == 1
    with pytest.raises(ValueError, match="output size would be 0"):
        pool.pool_output_size(3, 4, stride=2)


def test_output_size_equals_forward_shape_on_an_exhaustive_grid():
    checked = rejected = 0
    for size, k, s, p, d, ceil_mode in itertools.product(
        range(1, 7), range(1, 5), range(1, 4), range(3), range(1, 3), (False, True)
    ):
        x = np.zeros((1, 1, size, 2))
        # pool the height with (k, s, p, d); the width with a 1×1 window that leaves it alone
        args = dict(stride=(s, 1), padding=(p, 0), dilation=(d, 1), ceil_mode=ceil_mode)
        if p > k // 2 or naive_output_size(size, k, s, p, d, ceil_mode) < 1:
            message = r"padding: expected at most|output size would be"
            with pytest.raises(ValueError, match=message):
                pool.pool_output_size(size, k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
            with pytest.raises(ValueError, match=message):
                pool.maxpool2d_forward(x, (k, 1), **args)
            rejected += 1
            continue
        expected = naive_output_size(size, k, s, p, d, ceil_mode)
        assert (
            pool.pool_output_size(size, k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode) == expected
        )
        assert pool.maxpool2d_forward(x, (k, 1), **args).out.shape == (1, 1, expected, 2)
        if d == 1:
            del args["dilation"]
            assert pool.avgpool2d_forward(x, (k, 1), **args).out.shape == (1, 1, expected, 2)
        checked += 1
    assert checked + rejected == 6 * 4 * 3 * 3 * 2 * 2 and min(checked, rejected) > 100


# --- max pooling ------------------------------------------------------------------------------


def test_max_pool_cs231n_2x2_example():
    # windows {1,1,5,6} {2,4,7,8} {3,2,1,2} {1,0,3,4}: maxima 6, 8, 3, 4
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=float)[None, None]
    out, cache = pool.maxpool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[6, 8], [3, 4]])
    dx = pool.maxpool2d_backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]), cache)
    expected = np.zeros((4, 4))
    expected[1, 1], expected[1, 3], expected[2, 0], expected[3, 3] = 10, 20, 30, 40
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_max_pool_ties_first_maximum_wins_and_only_it_gets_the_gradient():
    # window [[5, 5], [5, 1]]: three tied maxima; row-major first is (0, 0)
    x = np.array([[[[5.0, 5.0], [5.0, 1.0]]]])
    out, cache = pool.maxpool2d_forward(x, 2)
    assert out[0, 0, 0, 0] == 5.0
    np.testing.assert_array_equal(
        pool.maxpool2d_backward(np.ones((1, 1, 1, 1)), cache)[0, 0], [[1, 0], [0, 0]]
    )


def test_max_pool_overlapping_windows_add_their_gradients():
    # 1×4 row [0, 9, 1, 2], k (1, 3) stride 1: windows {0,9,1} and {9,1,2} both pick the 9
    x = np.array([[[[0.0, 9.0, 1.0, 2.0]]]])
    out, cache = pool.maxpool2d_forward(x, (1, 3), stride=1)
    np.testing.assert_array_equal(out[0, 0], [[9.0, 9.0]])
    dx = pool.maxpool2d_backward(np.array([[[[2.0, 3.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 5.0, 0.0, 0.0]])


def test_max_pool_pads_with_minus_infinity_not_zero():
    # all-negative input, k 2, s 2, p 1: a zero pad would give 0; -inf padding gives the real max
    x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # [[-1,-2,-3],[-4,-5,-6],[-7,-8,-9]]
    out = pool.maxpool2d_forward(x, 2, padding=1).out[0, 0]
    np.testing.assert_array_equal(out, [[-1, -2], [-4, -5]])


def test_max_pool_window_of_only_padding_gives_minus_inf_and_no_gradient_like_pytorch():
    # size 1, k 2, d 2, p 1: the single window reads padded positions 0 and 2, both padding
    out, cache = pool.maxpool2d_forward(np.array([[[[3.0]]]]), 2, stride=1, padding=1, dilation=2)
    assert out[0, 0, 0, 0] == -np.inf
    assert pool.maxpool2d_backward(np.ones((1, 1, 1, 1)), cache)[0, 0, 0, 0] == 0.0


def test_max_pool_minus_inf_inputs_send_the_gradient_to_the_first_real_element():
    x = np.full((1, 1, 2, 2), -np.inf)
    out, cache = pool.maxpool2d_forward(x, 2, stride=1, padding=1)
    assert np.all(out == -np.inf)
    dx = pool.maxpool2d_backward(np.ones((1, 1, 3, 3)), cache)
    # PyTorch starts at the first in-bounds element: windows (0,0),(0,1),(1,0),(1,1) pick x[0,0];
    # (0,2),(1,2) pick x[0,1]; (2,0),(2,1) pick x[1,0]; (2,2) picks x[1,1]
    np.testing.assert_array_equal(dx[0, 0], [[4, 2], [2, 1]])


def test_max_pool_nan_propagates_and_the_last_nan_takes_the_gradient():
    x = np.array([[[[np.nan, 7.0], [np.nan, 1.0]]]])
    out, cache = pool.maxpool2d_forward(x, 2)
    assert np.isnan(out[0, 0, 0, 0])
    np.testing.assert_array_equal(
        pool.maxpool2d_backward(np.ones((1, 1, 1, 1)), cache)[0, 0], [[0, 0], [1, 0]]
    )


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool_equals_pytorchs_loop_with_ties_and_dilation(ceil_mode):
    rng = np.random.default_rng(10)
    for k, s, p, d in itertools.product((1, 2, 3), (1, 2, 3), (0, 1), (1, 2)):
        if p > k // 2:
            continue
        x = rng.integers(0, 3, size=(2, 2, 7, 6)).astype(float)  # many ties
        if min(naive_output_size(7, k, s, p, d, ceil_mode), naive_output_size(6, k, s, p, d, ceil_mode)) < 1:
            continue
        out, cache = pool.maxpool2d_forward(x, k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
        ref_out, ref_idx = naive_max_pool(x, k, s, p, d, ceil_mode)
        np.testing.assert_array_equal(out, ref_out)
        dout = rng.normal(size=out.shape)
        expected = np.zeros((2, 2, 42))
        for b, ch in itertools.product(range(2), range(2)):
            np.add.at(expected[b, ch], ref_idx[b, ch].ravel(), dout[b, ch].ravel())
        np.testing.assert_allclose(
            pool.maxpool2d_backward(dout, cache), expected.reshape(x.shape), rtol=1e-13, atol=1e-13
        )


def test_max_pool_with_nans_infinities_and_ties_equals_pytorchs_loop_on_random_geometries():
    """The forward skips its NaN and padding steps when a call has neither; every mix of the two
    must still choose the element PyTorch's loop chooses."""
    rng = np.random.default_rng(12)
    for _ in range(300):
        k, s, d = (int(v) for v in rng.integers(1, 4, size=3))
        p, ceil_mode = int(rng.integers(0, k // 2 + 1)), bool(rng.random() < 0.5)
        h, w = (int(v) for v in rng.integers(d * (k - 1) + 1, d * (k - 1) + 6, size=2))
        if min(naive_output_size(h, k, s, p, d, ceil_mode), naive_output_size(w, k, s, p, d, ceil_mode)) < 1:
            continue
        x = rng.integers(-2, 3, size=(1, 2, h, w)).astype(float)
        special = rng.random(x.shape)
        x[special < 0.1] = np.nan if rng.random() < 0.5 else x[special < 0.1]
        x[special > 0.9] = -np.inf
        out, cache = pool.maxpool2d_forward(x, k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
        ref_out, ref_idx = naive_max_pool(x, k, s, p, d, ceil_mode)
        np.testing.assert_array_equal(out, ref_out)
        dout = rng.normal(size=out.shape)
        expected = np.zeros((1, 2, h * w))
        for ch in range(2):
            np.add.at(expected[0, ch], ref_idx[0, ch].ravel(), dout[0, ch].ravel())
        np.testing.assert_allclose(
            pool.maxpool2d_backward(dout, cache), expected.reshape(x.shape), rtol=1e-13, atol=1e-13
        )


MAX_CONFIGS = [
    # shape, kernel, stride, padding, dilation, ceil_mode
    ((2, 3, 6, 6), 2, None, 0, 1, False),
    ((1, 2, 7, 5), 3, 2, 1, 1, True),
    ((2, 1, 8, 7), (3, 2), (2, 1), (1, 1), (2, 1), False),
    ((1, 2, 9, 9), 3, 2, 1, 2, True),
    ((1, 1, 5, 6), 4, 3, 2, 1, True),
]


@pytest.mark.parametrize("cfg", MAX_CONFIGS)
def test_max_pool_backward_matches_finite_differences(cfg):
    shape, k, s, p, d, ceil_mode = cfg
    rng = np.random.default_rng(11)
    x = distinct(rng, shape)
    kw = dict(stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
    out, cache = pool.maxpool2d_forward(x, k, **kw)
    dout = rng.normal(size=out.shape)
    num = numerical_gradient_array(lambda z: pool.maxpool2d_forward(z, k, **kw).out, x, dout)
    assert relative_error(pool.maxpool2d_backward(dout, cache), num) < 1e-7


# --- average pooling --------------------------------------------------------------------------


def test_avg_pool_divisor_with_padding_and_ceil_mode_hand_checked():
    # 6×6 ones, k 3, s 2, p 1, ceil_mode: span 6 + 2 - 3 = 5, ceil(5/2) + 1 = 4, (4-1)·2 = 6 < 7: keep.
    # Window rows start at -1, 1, 3, 5; clipped to the padded input [-1, 7): lengths 3, 3, 3, 2;
    # real rows per window: 2 (rows 0-1), 3, 3, 1 (row 5).
    x = np.ones((1, 1, 6, 6))
    real = np.outer([2, 3, 3, 1], [2, 3, 3, 1])
    # count_include_pad=True divides by the clipped window: the corner (5,5) window has one real
    # element over 2·2 = 4, not 9 (kernel size) and not 1 (real count).
    out = pool.avgpool2d_forward(x, 3, stride=2, padding=1, ceil_mode=True).out[0, 0]
    np.testing.assert_allclose(out, real / np.outer([3, 3, 3, 2], [3, 3, 3, 2]), rtol=1e-15)
    assert out[0, 0] == 4 / 9 and out[3, 3] == 1 / 4 and out[0, 3] == 2 / 6
    # count_include_pad=False divides by the real count: the mean of ones is 1 everywhere
    out = pool.avgpool2d_forward(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False).out
    np.testing.assert_array_equal(out, np.ones((1, 1, 4, 4)))
    # divisor_override=2 divides every window sum by 2
    out = pool.avgpool2d_forward(x, 3, stride=2, padding=1, ceil_mode=True, divisor_override=2).out
    np.testing.assert_array_equal(out[0, 0], real / 2)


def test_avg_pool_ceil_overhang_without_padding_is_not_counted():
    # 5×5, k 2, s 2, ceil_mode: the last row/column window covers input index 4 only; it hangs
    # past the (unpadded) input, so the divisor is 1 along that axis and the mean of ones stays 1
    x = np.ones((1, 1, 5, 5))
    out = pool.avgpool2d_forward(x, 2, ceil_mode=True).out
    np.testing.assert_array_equal(out, np.ones((1, 1, 3, 3)))
    # with other values: last column windows average x[0:2, 4] over 2 elements
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    out = pool.avgpool2d_forward(x, 2, ceil_mode=True).out[0, 0]
    assert out[0, 2] == (4 + 9) / 2 and out[2, 2] == 24.0 and out[0, 0] == (0 + 1 + 5 + 6) / 4


def test_avg_pool_padding_counts_zeros_by_default():
    # 2×2 ones, k 2, s 1, p 1: corner window holds one real 1 and three pads -> 1/4 (include pad)
    x = np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(
        pool.avgpool2d_forward(x, 2, stride=1, padding=1).out[0, 0],
        [[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]],
    )
    out = pool.avgpool2d_forward(x, 2, stride=1, padding=1, count_include_pad=False).out
    np.testing.assert_array_equal(out, np.ones((1, 1, 3, 3)))


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_avg_pool_equals_pytorchs_loop(ceil_mode, count_include_pad):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(2, 3, 7, 8))
    for k, s, p, override in itertools.product((1, 2, 3, 4), (1, 2, 3), (0, 1, 2), (None, 3)):
        if p > k // 2:
            continue
        kw = dict(stride=s, padding=p, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
        out = pool.avgpool2d_forward(x, k, divisor_override=override, **kw).out
        np.testing.assert_allclose(
            out, naive_avg_pool(x, k, s, p, ceil_mode, count_include_pad, override), rtol=1e-13, atol=1e-14
        )


AVG_CONFIGS = [
    # shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    ((2, 3, 6, 6), 2, None, 0, False, True, None),
    ((1, 2, 6, 7), 3, 2, 1, True, True, None),
    ((1, 2, 6, 7), 3, 2, 1, True, False, None),
    ((2, 1, 7, 5), (3, 2), (2, 1), (1, 0), True, True, 5),
    ((1, 1, 8, 8), 4, 3, 2, True, False, None),
]


@pytest.mark.parametrize("cfg", AVG_CONFIGS)
def test_avg_pool_backward_matches_finite_differences(cfg):
    shape, k, s, p, ceil_mode, include_pad, override = cfg
    rng = np.random.default_rng(13)
    x = rng.normal(size=shape)
    kw = dict(
        stride=s, padding=p, ceil_mode=ceil_mode, count_include_pad=include_pad, divisor_override=override
    )
    out, cache = pool.avgpool2d_forward(x, k, **kw)
    dout = rng.normal(size=out.shape)
    num = numerical_gradient_array(lambda z: pool.avgpool2d_forward(z, k, **kw).out, x, dout)
    assert relative_error(pool.avgpool2d_backward(dout, cache), num) < 1e-7


def test_avg_pool_overlapping_windows_add_their_gradients():
    # 1×3 row, k (1, 2) s 1: x[1] is in both windows, each sends dout/2
    _, cache = pool.avgpool2d_forward(np.zeros((1, 1, 1, 3)), (1, 2), stride=1)
    dx = pool.avgpool2d_backward(np.array([[[[4.0, 6.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[2.0, 5.0, 3.0]])


def test_large_inputs_stay_finite():
    x = np.full((1, 1, 4, 4), 1e4)
    assert np.all(pool.avgpool2d_forward(x, 2).out == 1e4)
    assert np.all(pool.maxpool2d_forward(-x, 3, stride=1, padding=1).out == -1e4)


# --- bad arguments ----------------------------------------------------------------------------


def test_bad_arguments_raise_value_errors_naming_them():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"padding: expected at most kernel // 2 = 1"):
        pool.maxpool2d_forward(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"padding: expected at most kernel // 2 = 1"):
        pool.pool_output_size(8, 2, padding=2)
    with pytest.raises(ValueError, match="stride: expected an integer >= 1"):
        pool.avgpool2d_forward(x, 2, stride=0)
    with pytest.raises(ValueError, match="kernel: the window"):
        pool.maxpool2d_forward(x, 5)
    with pytest.raises(ValueError, match="divisor_override: expected a non-zero integer"):
        pool.avgpool2d_forward(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="divisor_override: expected a non-zero integer"):
        pool.avgpool2d_forward(x, 2, divisor_override=2.5)
    with pytest.raises(ValueError, match="ceil_mode: expected True or False"):
        pool.pool_output_size(4, 2, ceil_mode="yes")
    with pytest.raises(ValueError, match="count_include_pad: expected True or False"):
        pool.avgpool2d_forward(x, 2, count_include_pad=None)
    with pytest.raises(ValueError, match="x: expected 4 dimensions"):
        pool.maxpool2d_forward(np.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match="dilation: expected an integer >= 1"):
        pool.maxpool2d_forward(x, 2, dilation=0)
    cache = pool.maxpool2d_forward(x, 2).cache
    with pytest.raises(ValueError, match=r"dout: expected shape \(1, 1, 2, 2\)"):
        pool.maxpool2d_backward(np.zeros((1, 1, 2, 3)), cache)
    cache = pool.avgpool2d_forward(x, 2).cache
    with pytest.raises(ValueError, match=r"dout: expected shape \(1, 1, 2, 2\)"):
        pool.avgpool2d_backward(np.zeros((1, 2, 2, 2)), cache)


def test_public_functions_resolve_through_the_registry():
    assert resolve("pool.maxpool2d_forward") is pool.maxpool2d_forward
    assert resolve("pool.pool_output_size")(7, 3, stride=2, padding=1, ceil_mode=True) == 4


# --- adaptive pooling ------------------------------------------------------------------------


def test_adaptive_bins_follow_pytorch_floor_start_ceil_end():
    # worked by hand: 5 -> 3 gives starts floor(0, 5/3, 10/3) = 0, 1, 3 and ends ceil(5/3, 10/3, 5) = 2, 4, 5
    assert pool.adaptive_pool_bins(5, 3) == ((0, 2), (1, 4), (3, 5))
    assert pool.adaptive_pool_bins(5, 3, bins="floor_end") == ((0, 1), (1, 3), (3, 5))
    assert pool.adaptive_pool_bins(5, 3, bins="fixed_stride") == ((0, 3), (1, 4), (2, 5))
    assert pool.adaptive_pool_bins(7, 1) == ((0, 7),)
    # 10 -> 4: floor(2·10/4) = 5, ceil(3·10/4) = 8
    assert pool.adaptive_pool_window(10, 4, 2) == (5, 8)
    with pytest.raises(ValueError, match="index"):
        pool.adaptive_pool_window(10, 4, 4)
    with pytest.raises(ValueError, match="output_size"):
        pool.adaptive_pool_bins(3, 4)


def test_adaptive_pooling_equals_plain_pooling_when_the_size_divides():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 6, 8))
    np.testing.assert_allclose(
        pool.adaptive_avgpool2d_forward(x, (3, 2)).out, pool.avgpool2d_forward(x, (2, 4)).out
    )
    np.testing.assert_allclose(
        pool.adaptive_maxpool2d_forward(x, (2, 4)).out, pool.maxpool2d_forward(x, (3, 2)).out
    )
    np.testing.assert_allclose(pool.adaptive_avgpool2d_forward(x, 1).out[..., 0, 0], x.mean(axis=(2, 3)))


def test_adaptive_pooling_hand_example_with_overlapping_windows():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    out = pool.adaptive_avgpool2d_forward(x, 3).out[0, 0]
    # window (1, 1) is rows 1..3, columns 1..3: mean of 6, 7, 8, 11, ..., 18 = 12
    assert out[1, 1] == 12.0
    assert out[0, 0] == np.mean([0, 1, 5, 6])
    assert out[2, 0] == np.mean([15, 16, 20, 21])
    assert pool.adaptive_maxpool2d_forward(x, (2, 3)).out[0, 0].tolist() == [[11, 13, 14], [21, 23, 24]]


# --- return_indices and unpooling ------------------------------------------------------------------


def test_maxpool_indices_and_unpool_hand_example():
    x = np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 1.0], [0.0, 2.0, 1.0, 1.0], [6.0, 1.0, 0.0, 7.0]]]])
    fwd = pool.maxpool2d_forward(x, 2)
    # maxima 5 at (0, 1), 8 at (1, 2), 6 at (3, 0), 7 at (3, 3): flat i·4 + j
    np.testing.assert_array_equal(pool.maxpool2d_indices(fwd.cache)[0, 0], [[1, 6], [12, 15]])
    np.testing.assert_array_equal(pool.maxpool2d_indices(fwd.cache, form="window")[0, 0], [[1, 2], [2, 3]])
    up = pool.maxunpool2d(fwd.out, pool.maxpool2d_indices(fwd.cache), (4, 4))
    want = np.zeros((4, 4))
    want[0, 1], want[1, 2], want[3, 0], want[3, 3] = 5, 8, 6, 7
    np.testing.assert_array_equal(up[0, 0], want)
    near = pool.maxunpool2d(fwd.out, pool.maxpool2d_indices(fwd.cache), (4, 4), fill="window", kernel=2)
    np.testing.assert_array_equal(near[0, 0], np.kron([[5, 8], [6, 7]], np.ones((2, 2))))


def test_maxpool_indices_with_stride_padding_and_ties_and_unpool_is_the_backward_routing():
    rng = np.random.default_rng(9)
    x = rng.integers(-3, 4, size=(2, 2, 5, 6)).astype(float)  # ties: the first max in the window
    fwd = pool.maxpool2d_forward(x, 3, stride=2, padding=1)
    idx = pool.maxpool2d_indices(fwd.cache)
    flat = x.reshape(2, 2, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(flat, idx.reshape(2, 2, -1), axis=2).reshape(fwd.out.shape), fwd.out
    )
    # with windows that do not overlap, unpooling the upstream gradient is max pooling's backward
    fwd2 = pool.maxpool2d_forward(x[:, :, :4, :6], 2)
    dout = rng.normal(size=fwd2.out.shape)
    np.testing.assert_allclose(
        pool.maxunpool2d(dout, pool.maxpool2d_indices(fwd2.cache), (4, 6)),
        pool.maxpool2d_backward(dout, fwd2.cache),
    )
    with pytest.raises(ValueError, match="indices"):
        pool.maxunpool2d(fwd2.out, pool.maxpool2d_indices(fwd2.cache), (2, 2))
