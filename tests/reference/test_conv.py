import itertools

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from quizgen.reference import conv
from quizgen.reference.gradcheck import numerical_gradient_array, relative_error
from quizgen.reference.registry import resolve


def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    """Independent oracle: PyTorch's definition written as loops over every output element."""
    n, c_in, h, wd = x.shape
    c_out, c_group, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.zeros((n, c_in, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    out = np.zeros((n, c_out, ho, wo))
    per_group = c_out // groups
    for b_, o, i, j in itertools.product(range(n), range(c_out), range(ho), range(wo)):
        g = o // per_group
        total = 0.0 if b is None else b[o]
        for c, p, q in itertools.product(range(c_group), range(kh), range(kw)):
            total += w[o, c, p, q] * xp[b_, g * c_group + c, i * sh + p * dh, j * sw + q * dw]
        out[b_, o, i, j] = total
    return out


# (N, C_in, H, W, C_out, kH, kW, stride, padding, dilation, groups)
CONFIGS = [
    (2, 3, 5, 6, 4, 3, 3, (1, 1), (0, 0), (1, 1), 1),
    (1, 2, 7, 7, 2, 3, 2, (2, 1), (1, 0), (1, 1), 1),
    (2, 4, 8, 6, 6, 3, 3, (2, 2), (1, 2), (2, 1), 2),
    (1, 4, 6, 7, 4, 2, 3, (1, 3), (2, 1), (1, 2), 4),
    (2, 6, 5, 5, 3, 1, 1, (2, 2), (0, 0), (1, 1), 3),
    (1, 2, 9, 8, 4, 3, 3, (3, 2), (1, 1), (2, 2), 2),
]


def random_case(rng, cfg):
    n, c_in, h, wd, c_out, kh, kw, *_, groups = cfg
    x = rng.normal(size=(n, c_in, h, wd))
    w = rng.normal(size=(c_out, c_in // groups, kh, kw))
    b = rng.normal(size=c_out)
    return x, w, b


# --- the cheap padding and window view against NumPy's general functions ------------------


def test_padded_equals_np_pad_for_every_fill_and_width():
    rng = np.random.default_rng(0)
    for _ in range(300):
        shape = tuple(int(v) for v in rng.integers(1, 5, size=4))
        widths = ((0, 0), (0, 0), *(tuple(int(v) for v in rng.integers(0, 3, size=2)) for _ in range(2)))
        if rng.random() < 0.2:
            widths = ((0, 0),) * 4
        for x, fill in (
            (rng.normal(size=shape), 0),
            (rng.normal(size=shape), -np.inf),
            (rng.normal(size=shape)[:, :, ::-1], 0),  # a non-contiguous input
            (rng.random(shape) < 0.5, False),
        ):
            got = conv._padded(x, widths, fill)
            want = np.pad(x, widths, constant_values=fill)
            assert got.dtype == want.dtype and got.flags.c_contiguous
            assert got.shape == want.shape and got.tobytes() == want.tobytes()


def test_windows_view_has_the_strides_and_values_of_sliding_window_view():
    rng = np.random.default_rng(1)
    for _ in range(500):
        kh, kw, sh, sw, dh, dw = (int(v) for v in rng.integers(1, 4, size=6))
        n, c = (int(v) for v in rng.integers(1, 3, size=2))
        h = dh * (kh - 1) + 1 + int(rng.integers(0, 6))
        w = dw * (kw - 1) + 1 + int(rng.integers(0, 6))
        ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
        xp = rng.normal(size=(n, c, h, w))
        view = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
        want = view[:, :, : sh * (ho - 1) + 1 : sh, : sw * (wo - 1) + 1 : sw, ::dh, ::dw]
        got = conv._windows(xp, (kh, kw), (sh, sw), (dh, dw), (ho, wo))
        assert got.shape == want.shape and got.strides == want.strides
        assert np.array_equal(got, want) and not got.flags.writeable


# --- course-note worked examples ------------------------------------------------------------

SEED001_IMAGE = np.array(
    [
        [1, 1, 1, 0, 0],
        [0, 1, 1, 0, 0],
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0],
    ],
    dtype=float,
)
X_FILTER = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=float)


def test_seed001_feature_map_is_not_the_printed_one_it_differs_at_0_2_and_1_1():
    # Note 001 §3.2.3 prints [[4,3,4],[2,4,3],[2,3,4]] for this image; by hand (corners + centre):
    #   a[0,2] = x[0,2]+x[0,4]+x[1,3]+x[2,2]+x[2,4] = 1+0+0+1+1 = 3 (note: 4)
    #   a[1,1] = x[1,1]+x[1,3]+x[2,2]+x[3,1]+x[3,3] = 1+0+1+0+1 = 3 (note: 4)
    #   a[0,0] = 1+1+1+0+1 = 4, a[2,2] = 1+1+1+1+0 = 4, the rest as printed.
    out = conv.conv2d_forward(SEED001_IMAGE[None, None], X_FILTER[None, None], np.zeros(1)).out[0, 0]
    np.testing.assert_array_equal(out, [[4, 3, 3], [2, 3, 3], [2, 3, 4]])
    printed = np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    assert np.argwhere(out != printed).tolist() == [[0, 2], [1, 1]]


def test_seed001_stride2_map_is_not_the_printed_one_it_differs_at_0_1():
    # Stride 2 keeps a[0,0], a[0,2], a[2,0], a[2,2] of the stride-1 map: [[4,3],[2,4]]; the note
    # prints [[4,4],[2,4]] (its wrong a[0,2] = 4 again). Output size (5 - 3 + 0)/2 + 1 = 2.
    out = conv.conv2d_forward(SEED001_IMAGE[None, None], X_FILTER[None, None], stride=2).out[0, 0]
    np.testing.assert_array_equal(out, [[4, 3], [2, 4]])
    assert np.argwhere(out != np.array([[4, 4], [2, 4]])).tolist() == [[0, 1]]


def test_seed001_printed_maps_belong_to_the_image_of_note_004_with_row1_01110():
    # The printed maps are those of the classic image (note 004) whose row 1 is 0 1 1 1 0, not
    # the 0 1 1 0 0 note 001 prints: the note mis-copied one pixel, x[1,3].
    image = SEED001_IMAGE.copy()
    image[1, 3] = 1
    out = conv.conv2d_forward(image[None, None], X_FILTER[None, None]).out[0, 0]
    np.testing.assert_array_equal(out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    out2 = conv.conv2d_forward(image[None, None], X_FILTER[None, None], stride=2).out[0, 0]
    np.testing.assert_array_equal(out2, [[4, 4], [2, 4]])


# The CS231n 7×7×3 (pad 1), two 3×3×3 filters, stride 2 demo of notes 001 and 004 is not
# reproduced numerically: in note 001 the padded input rows have 8 columns, x[:, :, 1] repeats
# x[:, :, 0], x[:, :, 2] and w0[:, :, 2] are cut off; in note 004 three rows of x[:, :, 2] and the
# value of b0 are missing, and the legible first output row does not match its own inputs
# (row 0 of o[:, :, 0] from the printed x and w0 is 0, -2, -7 plus b0 against the printed 1, 0, -3:
# no single bias explains it). Only its shapes and parameter count are checked.
def test_seed_cs231n_demo_shapes_5x5x3_pad1_two_filters_stride2_give_3x3x2_and_56_parameters():
    assert conv.conv_output_shape((1, 3, 5, 5), (2, 3, 3, 3), stride=2, padding=1) == (1, 2, 3, 3)
    assert conv.conv_param_count(3, 2, 3) == (3 * 3 * 3 + 1) * 2 == 56


def test_seed000_6x6_with_3x3_gives_4x4_and_ten_3x3x3_filters_have_280_parameters():
    assert conv.conv_output_size(6, 3) == 4  # (6 - 3)/1 + 1
    assert conv.conv_output_shape((1, 3, 6, 6), (10, 3, 3, 3)) == (1, 10, 4, 4)
    assert conv.conv_param_count(3, 10, 3) == 280  # (3·3·3 + 1)·10


def test_seed001_formula_example_5_3_p0_s2_gives_2():
    assert conv.conv_output_size(5, 3, stride=2) == 2
    assert conv.conv_output_size(5, 3, stride=2, rounding="exact") == 2.0


# --- output size --------------------------------------------------------------------------


def test_output_size_rounding_conventions_on_6_3_p0_s2():
    # span = 6 - 3 = 3; 3/2 = 1.5: floor -> 2 (PyTorch), exact -> 2.5 (the notes' formula
    # taken literally), ceil -> 3.
    assert conv.conv_output_size(6, 3, stride=2) == 2
    assert conv.conv_output_size(6, 3, stride=2, rounding="exact") == 2.5
    assert conv.conv_output_size(6, 3, stride=2, rounding="ceil") == 3


def test_output_size_with_dilation_uses_the_dilated_extent():
    # k=3, d=2: extent 5; (7 + 0 - 4 - 1)/1 + 1 = 3
    assert conv.conv_output_size(7, 3, dilation=2) == 3
    assert conv.conv_output_size(5, 3, padding=1) == 5  # "same" padding for odd k, stride 1


def test_output_size_formula_matches_forward_shape_on_an_exhaustive_grid():
    checked = rejected = 0
    for size, k, s, p, d in itertools.product(range(1, 7), range(1, 5), range(1, 4), range(3), range(1, 4)):
        x = np.zeros((1, 1, size, size + 1))
        w = np.zeros((1, 1, k, k))
        if d * (k - 1) + 1 > size + 2 * p:
            with pytest.raises(ValueError, match="larger than the padded input"):
                conv.conv_output_size(size, k, stride=s, padding=p, dilation=d)
            with pytest.raises(ValueError, match="larger than the padded input"):
                conv.conv2d_forward(x, w, stride=s, padding=p, dilation=d)
            rejected += 1
            continue
        expected = (size + 2 * p - d * (k - 1) - 1) // s + 1
        out = conv.conv2d_forward(x, w, stride=s, padding=p, dilation=d).out
        assert out.shape[2] == conv.conv_output_size(size, k, stride=s, padding=p, dilation=d) == expected
        assert out.shape[3] == conv.conv_output_size(size + 1, k, stride=s, padding=p, dilation=d)
        checked += 1
    assert checked + rejected == 6 * 4 * 3 * 3 * 3 and min(checked, rejected) > 100


def test_output_shape_takes_height_width_pairs():
    shape = conv.conv_output_shape((2, 4, 10, 9), (6, 2, 3, 1), stride=(2, 1), padding=(1, 0), groups=2)
    assert shape == (2, 6, 5, 9)


# --- forward against the loop oracle and invariants ---------------------------------------


@pytest.mark.parametrize("cfg", CONFIGS)
def test_forward_equals_the_loop_definition(cfg):
    rng = np.random.default_rng(1)
    x, w, b = random_case(rng, cfg)
    stride, padding, dilation, groups = cfg[7:]
    out = conv.conv2d_forward(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups).out
    np.testing.assert_allclose(
        out, naive_conv2d(x, w, b, stride, padding, dilation, groups), rtol=1e-12, atol=1e-12
    )


def test_groups_equal_to_channels_is_per_channel_depthwise_convolution():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 6, 5))
    w = rng.normal(size=(3, 1, 3, 2))
    out = conv.conv2d_forward(x, w, stride=(1, 2), padding=1, groups=3).out
    for c in range(3):
        single = conv.conv2d_forward(x[:, c : c + 1], w[c : c + 1], stride=(1, 2), padding=1).out
        np.testing.assert_allclose(out[:, c : c + 1], single, rtol=1e-12, atol=1e-12)


def test_one_by_one_convolution_is_a_matmul_over_channels():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 5, 4, 3))
    w = rng.normal(size=(7, 5, 1, 1))
    b = rng.normal(size=7)
    out = conv.conv2d_forward(x, w, b).out
    expected = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x) + b[None, :, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_convolution_convention_is_cross_correlation_with_the_flipped_kernel():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, 4, 7, 6))
    w = rng.normal(size=(4, 2, 3, 2))
    kw = dict(stride=2, padding=(1, 0), dilation=(1, 2), groups=2)
    flipped = conv.conv2d_forward(x, w[:, :, ::-1, ::-1], **kw).out
    true_conv = conv.conv2d_forward(x, w, convention="convolution", **kw).out
    np.testing.assert_allclose(true_conv, flipped, rtol=1e-12, atol=1e-12)
    assert not np.allclose(true_conv, conv.conv2d_forward(x, w, **kw).out)


def test_convolution_convention_hand_example_1x2_kernel():
    # x = [1, 2, 3], kernel [a, b] = [10, 1]: cross-correlation a·x_i + b·x_{i+1} = 12, 23;
    # true convolution flips it to [1, 10]: 1·1 + 10·2 = 21, 1·2 + 10·3 = 32.
    x = np.array([[[[1.0, 2.0, 3.0]]]])
    w = np.array([[[[10.0, 1.0]]]])
    np.testing.assert_array_equal(conv.conv2d_forward(x, w).out, [[[[12.0, 23.0]]]])
    np.testing.assert_array_equal(conv.conv2d_forward(x, w, convention="convolution").out, [[[[21.0, 32.0]]]])


def test_bias_is_added_per_output_channel_and_large_inputs_stay_finite():
    x = np.full((1, 1, 3, 3), 1e4)
    w = np.full((2, 1, 2, 2), 1e4)
    out = conv.conv2d_forward(x, w, np.array([1.0, -1.0])).out
    np.testing.assert_array_equal(out[0, 0], np.full((2, 2), 4e8 + 1.0))
    np.testing.assert_array_equal(out[0, 1], np.full((2, 2), 4e8 - 1.0))


# --- backward against centred finite differences ------------------------------------------


@pytest.mark.parametrize("convention", ["cross_correlation", "convolution"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_backward_matches_finite_differences(cfg, convention):
    rng = np.random.default_rng(5)
    x, w, b = random_case(rng, cfg)
    stride, padding, dilation, groups = cfg[7:]
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, convention=convention)
    out, cache = conv.conv2d_forward(x, w, b, **kw)
    dout = rng.normal(size=out.shape)
    dx, dw, db = conv.conv2d_backward(dout, cache)
    num_dx = numerical_gradient_array(lambda z: conv.conv2d_forward(z, w, b, **kw).out, x, dout)
    num_dw = numerical_gradient_array(lambda z: conv.conv2d_forward(x, z, b, **kw).out, w, dout)
    num_db = numerical_gradient_array(lambda z: conv.conv2d_forward(x, w, z, **kw).out, b, dout)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert relative_error(dx, num_dx) < 1e-7
    assert relative_error(dw, num_dw) < 1e-7
    assert relative_error(db, num_db) < 1e-7


def test_backward_without_bias_returns_db_none_and_named_fields():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1, 2, 4, 4))
    w = rng.normal(size=(3, 2, 3, 3))
    fwd = conv.conv2d_forward(x, w)
    grads = conv.conv2d_backward(np.ones_like(fwd.out), fwd.cache)
    assert grads.db is None
    # with dout = 1 and no padding, dw[o, c, p, q] is the sum of the window x[c, p:p+2, q:q+2]
    np.testing.assert_allclose(grads.dw[0, 1, 0, 0], x[0, 1, :2, :2].sum())


def test_input_rows_unread_by_a_strided_conv_get_zero_gradient():
    # H = 6, k = 3, s = 2: windows start at rows 0, 2 (output 2), so row 5 is never read.
    rng = np.random.default_rng(7)
    x = rng.normal(size=(1, 1, 6, 6))
    out, cache = conv.conv2d_forward(x, rng.normal(size=(1, 1, 3, 3)), stride=2)
    dx = conv.conv2d_backward(np.ones_like(out), cache).dx
    np.testing.assert_array_equal(dx[0, 0, 5], 0.0)
    np.testing.assert_array_equal(dx[0, 0, :, 5], 0.0)
    assert np.all(dx[0, 0, :5, :5] != 0.0)


# --- parameter count and receptive field --------------------------------------------------


def test_param_count_with_groups_pairs_and_no_bias():
    assert conv.conv_param_count(4, 6, (3, 1), groups=2) == (3 * 1 * 2 + 1) * 6
    assert conv.conv_param_count(8, 8, 3, groups=8, bias=False) == 9 * 8
    assert conv.conv_param_count(3, 64, 3) == 1792  # VGG's first layer


def test_receptive_field_hand_examples():
    assert conv.receptive_field([3, 3], [1, 1]) == 5  # two 3×3 see 5×5
    assert conv.receptive_field([3, 3, 3], [1, 1, 1]) == 7
    assert conv.receptive_field([3, 3, 2], [1, 1, 2]) == 6  # 1 + 2 + 2 + 1
    assert conv.receptive_field([2, 3], [2, 1]) == 6  # 1 + 1 + 2·2
    assert conv.receptive_field([3], [1], [2]) == 5  # dilated extent
    assert conv.receptive_field([], []) == 1


def test_receptive_field_equals_the_support_of_an_output_gradient():
    rng = np.random.default_rng(8)
    for _ in range(5):
        depth = int(rng.integers(1, 4))
        ks = rng.integers(1, 4, size=depth).tolist()
        ss = rng.integers(1, 3, size=depth).tolist()
        ds = rng.integers(1, 3, size=depth).tolist()
        size = 30
        x = rng.normal(size=(1, 1, size, size))
        caches = []
        for k, s, d in zip(ks, ss, ds, strict=True):
            x, cache = conv.conv2d_forward(x, np.ones((1, 1, k, k)), stride=s, dilation=d)
            caches.append(cache)
        dout = np.zeros_like(x)
        dout[0, 0, 0, 0] = 1.0
        for cache in reversed(caches):
            dout = conv.conv2d_backward(dout, cache).dx
        rows = np.flatnonzero(dout[0, 0].any(axis=1))
        assert rows.max() - rows.min() + 1 == conv.receptive_field(ks, ss, ds)


# --- bad arguments ------------------------------------------------------------------------


def test_bad_arguments_raise_value_errors_naming_them():
    x = np.zeros((1, 4, 5, 5))
    with pytest.raises(ValueError, match="input_shape: expected 4 input channels"):
        conv.conv2d_forward(np.zeros((1, 3, 5, 5)), np.zeros((2, 4, 3, 3)))
    with pytest.raises(ValueError, match="groups: out_channels 3"):
        conv.conv2d_forward(x, np.zeros((3, 2, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"kernel \(height\).*larger than the padded input size 5"):
        conv.conv2d_forward(x, np.zeros((1, 4, 6, 3)))
    with pytest.raises(ValueError, match="convention: unknown value 'flipped'"):
        conv.conv2d_forward(x, np.zeros((1, 4, 3, 3)), convention="flipped")
    with pytest.raises(ValueError, match="stride"):
        conv.conv2d_forward(x, np.zeros((1, 4, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="stride"):
        conv.conv2d_forward(x, np.zeros((1, 4, 3, 3)), stride=(1, 2, 3))
    with pytest.raises(ValueError, match="padding"):
        conv.conv2d_forward(x, np.zeros((1, 4, 3, 3)), padding=-1)
    with pytest.raises(ValueError, match=r"b: expected shape \(2,\)"):
        conv.conv2d_forward(x, np.zeros((2, 4, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="x: expected 4 dimensions"):
        conv.conv2d_forward(np.zeros((4, 5, 5)), np.zeros((1, 4, 3, 3)))
    with pytest.raises(ValueError, match="rounding: unknown value 'round'"):
        conv.conv_output_size(5, 3, rounding="round")
    with pytest.raises(ValueError, match="size: expected an integer >= 1"):
        conv.conv_output_size(0, 3)
    with pytest.raises(ValueError, match=r"kernel: the kernel .* larger than the padded input size 6"):
        conv.conv_output_size(4, 7, padding=1)
    with pytest.raises(ValueError, match="in_channels: 3 is not divisible by groups 2"):
        conv.conv_param_count(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="bias: expected True or False"):
        conv.conv_param_count(3, 4, 3, bias="yes")
    with pytest.raises(ValueError, match="one entry per layer"):
        conv.receptive_field([3, 3], [1])
    cache = conv.conv2d_forward(x, np.zeros((2, 4, 3, 3))).cache
    with pytest.raises(ValueError, match=r"dout: expected shape \(1, 2, 3, 3\)"):
        conv.conv2d_backward(np.zeros((1, 2, 3, 4)), cache)


def test_public_functions_resolve_through_the_registry():
    assert resolve("conv.conv2d_forward") is conv.conv2d_forward
    assert resolve("conv.conv_output_size")(7, 3, stride=2, padding=1) == 4


# --- padding "same" and "valid" (nn.Conv2d's string modes) ----------------------------------


def test_same_padding_of_an_even_kernel_adds_the_extra_zero_after_hand_example():
    # x = 1..9 in 3×3, a 2×2 kernel of ones, "same": total = 1 per axis, so 0 before and 1 after
    # (bottom, right). Each output sums the 2×2 block starting at (i, j) of
    #   1 2 3 0 / 4 5 6 0 / 7 8 9 0 / 0 0 0 0.
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out = conv.conv2d_forward(x, np.ones((1, 1, 2, 2)), padding="same").out
    np.testing.assert_array_equal(out[0, 0], [[12, 16, 9], [24, 28, 15], [15, 17, 9]])
    assert conv.conv_padding(2) == ((0, 1), (0, 1))


def test_same_padding_sizes_by_hand():
    # total = d (k - 1): k = 4 -> (1, 2); k = 3 -> (1, 1); k = 3, d = 2 -> (2, 2); k = 2, d = 3 -> (1, 2)
    assert conv.conv_padding(4) == ((1, 2), (1, 2))
    assert conv.conv_padding((3, 2), dilation=(2, 3)) == ((2, 2), (1, 2))
    assert conv.conv_padding(5, padding="valid") == ((0, 0), (0, 0))
    assert conv.conv_padding(5, padding=(2, 1)) == ((2, 2), (1, 1))
    for size, k, d in itertools.product([1, 4, 7], [1, 2, 3, 4], [1, 2]):
        assert conv.conv_output_size(size, k, padding="same", dilation=d) == size
    assert conv.conv_output_size(7, 3, padding="valid") == 5 == conv.conv_output_size(7, 3)
    assert conv.conv_output_shape((2, 3, 6, 5), (4, 3, 4, 2), padding="same") == (2, 4, 6, 5)
    assert conv.conv_output_shape((2, 3, 6, 5), (4, 3, 4, 2), padding="valid") == (2, 4, 3, 4)


@pytest.mark.parametrize("k, dilation", [((4, 2), (1, 1)), ((3, 4), (2, 1)), ((2, 3), (3, 2))])
def test_same_padding_equals_explicit_asymmetric_zero_padding_then_valid(k, dilation):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 2, 5, 6))
    w = rng.normal(size=(3, 2, *k))
    b = rng.normal(size=3)
    (top, bottom), (left, right) = conv.conv_padding(k, dilation=dilation)
    # PyTorch: total = d (k - 1), left = total // 2, right = total - left, per axis
    for (before, after), kk, d in zip(((top, bottom), (left, right)), k, dilation, strict=True):
        assert (before, after) == (d * (kk - 1) // 2, d * (kk - 1) - d * (kk - 1) // 2)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    expected = naive_conv2d(xp, w, b, (1, 1), (0, 0), dilation, 1)
    got = conv.conv2d_forward(x, w, b, padding="same", dilation=dilation).out
    assert got.shape == (2, 3, 5, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    valid = conv.conv2d_forward(x, w, b, padding="valid", dilation=dilation).out
    np.testing.assert_array_equal(valid, conv.conv2d_forward(x, w, b, padding=0, dilation=dilation).out)


@pytest.mark.parametrize("k", [(4, 3), (2, 2)])
def test_same_padding_backward_matches_finite_differences(k):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1, 2, 4, 5))
    w = rng.normal(size=(2, 2, *k))
    b = rng.normal(size=2)
    fwd = conv.conv2d_forward(x, w, b, padding="same")
    dout = rng.normal(size=fwd.out.shape)
    grads = conv.conv2d_backward(dout, fwd.cache)
    num_dx = numerical_gradient_array(lambda z: conv.conv2d_forward(z, w, b, padding="same").out, x, dout)
    num_dw = numerical_gradient_array(lambda z: conv.conv2d_forward(x, z, b, padding="same").out, w, dout)
    assert grads.dx.shape == x.shape
    assert relative_error(grads.dx, num_dx) < 1e-8
    assert relative_error(grads.dw, num_dw) < 1e-8


def test_same_padding_refuses_strides_and_unknown_modes_like_pytorch():
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(ValueError, match="'same' is not supported for strided convolutions"):
        conv.conv2d_forward(x, np.zeros((1, 1, 3, 3)), padding="same", stride=2)
    with pytest.raises(ValueError, match="'same' is not supported for strided convolutions"):
        conv.conv_output_size(5, 3, padding="same", stride=(2))
    with pytest.raises(ValueError, match="'same' is not supported"):
        conv.conv_output_shape((1, 1, 5, 5), (1, 1, 3, 3), padding="same", stride=(1, 2))
    with pytest.raises(ValueError, match="padding: unknown value 'full'; expected one of 'same', 'valid'"):
        conv.conv2d_forward(x, np.zeros((1, 1, 3, 3)), padding="full")
    with pytest.raises(ValueError, match=r"kernel \(height\).*size 5 \+ 2·padding 0"):
        conv.conv2d_forward(x, np.zeros((1, 1, 6, 3)), padding="valid")
    assert resolve("conv.conv_padding") is conv.conv_padding


# --- transposed convolution and multiply-accumulate counts ---------------------------------


def test_conv_transpose2d_hand_example_stride_1_and_2():
    # worked by hand: each input pixel stamps the all-ones 2×2 kernel, scaled, and stamps add up
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    w = np.ones((1, 1, 2, 2))
    out1 = conv.conv_transpose2d_forward(x, w).out[0, 0]
    np.testing.assert_array_equal(out1, [[1, 3, 2], [4, 10, 6], [3, 7, 4]])
    out2 = conv.conv_transpose2d_forward(x, w, stride=2).out[0, 0]
    np.testing.assert_array_equal(out2, [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    # padding 1 cuts one ring from the stride-1 map; bias is added after; flipping changes a 1×2 kernel
    out_p = conv.conv_transpose2d_forward(x, w, b=[0.5], padding=1).out[0, 0]
    np.testing.assert_array_equal(out_p, [[10.5]])
    w12 = np.array([[[[1.0, -1.0]]]])
    np.testing.assert_array_equal(conv.conv_transpose2d_forward(x, w12).out[0, 0], [[1, 1, -2], [3, 1, -4]])
    np.testing.assert_array_equal(
        conv.conv_transpose2d_forward(x, w12, convention="convolution").out[0, 0], [[-1, -1, 2], [-3, -1, 4]]
    )


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    rng = np.random.default_rng(7)
    # (N, C_in_T, H, W, C_out_T, k, stride, padding, output_padding, dilation)
    for n, ci, h, wd, co, k, s, p, op, d in [
        (2, 3, 3, 4, 2, 3, 2, 1, 1, 1),
        (1, 2, 4, 3, 3, 2, 1, 0, 0, 2),
        (1, 1, 3, 3, 2, 3, 3, 2, 2, 1),
        (2, 2, 2, 5, 1, 4, 2, 1, 0, 2),
    ]:
        x = rng.normal(size=(n, ci, h, wd))
        w = rng.normal(size=(ci, co, k, k))
        got = conv.conv_transpose2d_forward(x, w, stride=s, padding=p, output_padding=op, dilation=d).out
        ho = conv.conv_transpose_output_size(h, k, stride=s, padding=p, output_padding=op, dilation=d)
        wo = conv.conv_transpose_output_size(wd, k, stride=s, padding=p, output_padding=op, dilation=d)
        assert got.shape == (n, co, ho, wo)
        fwd = conv.conv2d_forward(np.zeros((n, co, ho, wo)), w, stride=s, padding=p, dilation=d)
        assert fwd.out.shape == x.shape
        np.testing.assert_allclose(got, conv.conv2d_backward(x, fwd.cache).dx, atol=1e-12)


def test_conv_transpose_output_size_formula_and_checks():
    assert conv.conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1) == 8
    assert conv.conv_transpose_output_size(5, 3, stride=1, padding=0, dilation=2) == 9
    assert conv.conv_transpose_output_size(7, 4, stride=2, padding=1) == 14
    with pytest.raises(ValueError, match="output_padding"):
        conv.conv_transpose_output_size(4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="padding"):
        conv.conv_transpose_output_size(1, 1, padding=1)


def test_conv_macs_counts_standard_grouped_and_strided_layers():
    assert conv.conv_macs((1, 3, 32, 32), 16, 3, padding=1) == 16 * 32 * 32 * 3 * 9
    assert conv.conv_macs((1, 3, 32, 32), 16, 3, padding=1, count="flops") == 2 * 16 * 32 * 32 * 3 * 9
    # depthwise 3×3 on 8 channels, stride 2, padding 1: 8 outputs of 8×8, each 1·9 MACs
    assert conv.conv_macs((2, 8, 16, 16), 8, 3, stride=2, padding=1, groups=8) == 2 * 8 * 8 * 8 * 9
    with pytest.raises(ValueError, match="groups"):
        conv.conv_macs((1, 6, 8, 8), 4, 3, groups=4)
    for name in ("conv.conv_macs", "conv.conv_transpose2d_forward", "conv.conv_transpose_output_size"):
        assert callable(resolve(name))
