import dataclasses
import math
import warnings
import zlib
from functools import partial

import numpy as np
import pytest

from quizgen.reference import activations as act
from quizgen.reference.gradcheck import numerical_gradient, numerical_gradient_array, relative_error

SHAPES = [(7,), (3, 4), (2, 3, 2)]

# (forward, derivative) pairs, the registry's defaults and the parameters a bank may set
PAIRS = {name: (a.fn, a.grad) for name, a in act.ACTIVATIONS.items()}
PAIRS |= {
    "leaky_relu(0.5)": (
        partial(act.leaky_relu, negative_slope=0.5),
        partial(act.leaky_relu_grad, negative_slope=0.5),
    ),
    "elu(0.7)": (partial(act.elu, alpha=0.7), partial(act.elu_grad, alpha=0.7)),
    "softplus(2, 5)": (
        partial(act.softplus, beta=2.0, threshold=5.0),
        partial(act.softplus_grad, beta=2.0, threshold=5.0),
    ),
    "swish(1.7)": (partial(act.swish, beta=1.7), partial(act.swish_grad, beta=1.7)),
    "swish(-0.6)": (partial(act.swish, beta=-0.6), partial(act.swish_grad, beta=-0.6)),
}


def _away_from_kinks(rng, shape):
    """Normal(0, 2) draws at least 0.05 away from 0 (the kinks of relu, leaky_relu, elu)."""
    x = rng.normal(0.0, 2.0, size=shape)
    return np.where(np.abs(x) < 0.05, x + np.copysign(0.1, x), x)


def test_registry_holds_exactly_the_documented_names():
    assert list(act.ACTIVATIONS) == [
        "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
        "softplus", "silu", "swish", "gelu", "gelu_tanh",
    ]  # fmt: skip
    for name, a in act.ACTIVATIONS.items():
        assert a.name == name
        assert act.activation(name) is a


def test_activation_records_are_frozen_and_the_registry_read_only():
    with pytest.raises(dataclasses.FrozenInstanceError):
        act.activation("relu").fn = act.tanh
    with pytest.raises(TypeError):
        act.ACTIVATIONS["mine"] = act.activation("relu")


def test_unknown_activation_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"activation: unknown value 'Relu'.*'relu'.*'gelu_tanh'"):
        act.activation("Relu")


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("shape", SHAPES)
def test_derivative_matches_finite_differences(name, shape):
    fn, grad = PAIRS[name]
    rng = np.random.default_rng(zlib.crc32(f"{name}{shape}".encode()))
    x = _away_from_kinks(rng, shape)
    dout = rng.normal(size=shape)
    numeric = numerical_gradient_array(fn, x, dout)
    assert relative_error(grad(x) * dout, numeric) < 1e-7


@pytest.mark.parametrize("name", PAIRS)
def test_forward_and_derivative_keep_the_input_shape(name):
    fn, grad = PAIRS[name]
    x = np.linspace(-2, 2, 6).reshape(2, 3)
    assert fn(x).shape == (2, 3)
    assert grad(x).shape == (2, 3)


@pytest.mark.parametrize("name", PAIRS)
def test_no_overflow_warning_and_finite_values_at_plus_minus_1e4(name):
    fn, grad = PAIRS[name]
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, g = fn(x), grad(x)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))


def test_saturating_values_at_1e4_are_exact_limits():
    x = np.array([-1e4, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(act.sigmoid(x), [0.0, 1.0])
        np.testing.assert_array_equal(act.sigmoid_grad(x), [0.0, 0.0])
        np.testing.assert_array_equal(act.softplus(x), [0.0, 1e4])
        np.testing.assert_array_equal(act.softplus_grad(x), [0.0, 1.0])
        np.testing.assert_array_equal(act.elu(x), [-1.0, 1e4])
        np.testing.assert_array_equal(act.gelu(x), [-0.0, 1e4])
        np.testing.assert_array_equal(act.silu(x), [-0.0, 1e4])


def test_values_at_kinks_are_pytorchs():
    assert act.relu_grad(0.0) == 0.0
    assert act.leaky_relu_grad(0.0) == 0.01
    assert act.leaky_relu_grad(0.0, negative_slope=0.5) == 0.5  # seed 001 draws a = 0.5
    assert act.elu_grad(0.0) == 1.0
    assert act.elu_grad(0.0, alpha=0.7) == 0.7  # x > 0 ? 1 : alpha e^x, so alpha at 0


def test_relu_derivative_at_zero_textbook_mistake_is_a_keyword():
    # seed 001: "at x = 0 the derivative is given as 1 or 0"; PyTorch uses 0
    np.testing.assert_array_equal(act.relu_grad([-2.0, 0.0, 3.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(act.relu_grad([-2.0, 0.0, 3.0], at_zero=1.0), [0.0, 1.0, 1.0])


def test_seed_table_derivatives_at_zero_and_ten():
    # seed 001 table: sigmoid'(0) = 0.25, tanh'(0) = 1, both ≈ 0 at x = ±10
    assert act.sigmoid_grad(0.0) == 0.25
    assert act.tanh_grad(0.0) == 1.0
    assert np.all(act.sigmoid_grad([-10.0, 10.0]) < 5e-5)
    assert np.all(act.tanh_grad([-10.0, 10.0]) < 1e-8)


def test_sigmoid_matches_the_seed_hidden_unit():
    # seed 004: net_h1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775, out_h1 = 1/(1 + e^-0.3775) = 0.593269992
    assert act.sigmoid(0.3775) == pytest.approx(0.593269992, abs=5e-10)


def test_hand_values_of_the_piecewise_activations():
    x = np.array([-2.0, -1.0, 1.5])
    np.testing.assert_array_equal(act.relu(x), [0.0, 0.0, 1.5])
    np.testing.assert_array_equal(act.leaky_relu(x, 0.5), [-1.0, -0.5, 1.5])
    # elu(-1) = e^-1 - 1 = -0.6321205588285577; with alpha 2 twice that
    np.testing.assert_allclose(act.elu(x), [math.exp(-2) - 1, math.exp(-1) - 1, 1.5], rtol=1e-15)
    np.testing.assert_allclose(act.elu(x, 2.0)[1], 2 * (math.exp(-1) - 1), rtol=1e-15)
    np.testing.assert_array_equal(act.identity(x), x)
    np.testing.assert_array_equal(act.identity_grad(x), [1.0, 1.0, 1.0])


def test_softplus_is_log_one_plus_exp_and_linear_past_the_threshold():
    assert act.softplus(0.0) == pytest.approx(math.log(2.0), rel=1e-15)
    assert act.softplus(2.0, beta=0.5) == pytest.approx(2 * math.log1p(math.e), rel=1e-15)  # log(1+e¹)/½
    assert act.softplus(30.0) == 30.0  # βx = 30 > 20: exactly x
    assert act.softplus_grad(30.0) == 1.0
    assert act.softplus(3.0, beta=2.0, threshold=5.0) == 3.0  # βx = 6 > 5
    assert act.softplus(2.0, beta=2.0, threshold=5.0) == pytest.approx(math.log1p(math.exp(4)) / 2, rel=1e-15)


def test_gelu_exact_values_are_x_times_normal_cdf():
    # Φ(1) = 0.8413447460685429 (erf tables); gelu(-1) = -(1 - Φ(1))
    np.testing.assert_allclose(act.gelu([1.0, -1.0]), [0.8413447460685429, -0.15865525393145707], rtol=1e-14)
    assert act.gelu_grad(0.0) == 0.5


def test_gelu_tanh_approximation_is_close_to_exact_but_different():
    x = np.linspace(-6, 6, 1201)
    diff = np.abs(act.gelu(x) - act.gelu(x, approximate="tanh"))
    assert diff.max() < 1e-3
    assert diff.max() > 1e-4
    gdiff = np.abs(act.gelu_grad(x) - act.gelu_grad(x, approximate="tanh"))
    assert 1e-4 < gdiff.max() < 1e-2
    np.testing.assert_array_equal(act.activation("gelu_tanh").fn(x), act.gelu(x, approximate="tanh"))


def test_gelu_tanh_derivative_agrees_with_the_seed_formula():
    # seed 004: h'(x) = 0.5 tanh(0.0356774x³ + 0.797885x)
    #                 + (0.0535161x³ + 0.398942x) sech²(0.0356774x³ + 0.797885x) + 0.5
    # its constants carry 6 significant digits, so agreement is to ~1e-6, not to rounding
    x = np.linspace(-3, 3, 601)
    u = 0.0356774 * x**3 + 0.797885 * x
    seed = 0.5 * np.tanh(u) + (0.0535161 * x**3 + 0.398942 * x) / np.cosh(u) ** 2 + 0.5
    np.testing.assert_allclose(act.gelu_grad(x, approximate="tanh"), seed, rtol=0, atol=1e-6)


def test_swish_derivative_agrees_with_the_seed_formula():
    # seed 004: h'(x) = β h(x) + σ(βx)(1 - β h(x))
    x = np.linspace(-6, 6, 121)
    for beta in (0.5, 1.0, 2.0):
        h, s = act.swish(x, beta), act.sigmoid(beta * x)
        np.testing.assert_allclose(
            act.swish_grad(x, beta), beta * h + s * (1 - beta * h), rtol=1e-13, atol=1e-15
        )


def test_silu_is_swish_with_beta_one():
    x = np.linspace(-8, 8, 97)
    np.testing.assert_array_equal(act.silu(x), act.swish(x, beta=1.0))
    np.testing.assert_array_equal(act.silu_grad(x), act.swish_grad(x, beta=1.0))


def test_softmax_of_the_seed_example():
    # seed 001: e³ = 20.0855, e¹ = 2.7183, e⁻³ = 0.0498, sum 22.8536 → (0.8789, 0.1189, 0.0022)
    np.testing.assert_allclose(act.softmax([3.0, 1.0, -3.0]), [0.8789, 0.1189, 0.0022], atol=5e-5)


@pytest.mark.parametrize("shape, axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1)])
def test_softmax_sums_to_one_and_ignores_shifts(shape, axis):
    rng = np.random.default_rng(7)
    x = rng.normal(0, 3, size=shape)
    y = act.softmax(x, axis=axis)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-15, atol=1e-15)
    shift = rng.normal(0, 100, size=np.sum(x, axis=axis, keepdims=True).shape)
    np.testing.assert_allclose(act.softmax(x + shift, axis=axis), y, rtol=1e-12)
    np.testing.assert_allclose(act.log_softmax(x, axis=axis), np.log(y), rtol=1e-13, atol=1e-15)


def test_softmax_and_log_softmax_do_not_overflow_at_1e4():
    x = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = act.softmax(x)
        ly = act.log_softmax(x)
    np.testing.assert_array_equal(y[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(y[1], [1 / 3] * 3, rtol=1e-15)
    np.testing.assert_array_equal(ly[0], [0.0, -1e4, -2e4])


@pytest.mark.parametrize("shape, axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1)])
def test_softmax_and_log_softmax_backward_match_finite_differences(shape, axis):
    rng = np.random.default_rng(len(shape) * 10 + axis)
    x = rng.normal(0, 2, size=shape)
    dout = rng.normal(size=shape)
    dx = act.softmax_backward(dout, act.softmax(x, axis=axis), axis=axis)
    assert relative_error(dx, numerical_gradient_array(lambda z: act.softmax(z, axis=axis), x, dout)) < 1e-7
    dx = act.log_softmax_backward(dout, act.log_softmax(x, axis=axis), axis=axis)
    assert (
        relative_error(dx, numerical_gradient_array(lambda z: act.log_softmax(z, axis=axis), x, dout)) < 1e-7
    )


def test_softmax_jacobian_is_diag_minus_outer_and_matches_finite_differences():
    z = np.array([0.5, -1.0, 2.0, 0.0])
    jac = act.softmax_jacobian(z)
    numeric = np.stack([numerical_gradient(lambda v, i=i: act.softmax(v)[i], z) for i in range(4)])
    assert relative_error(jac, numeric) < 1e-7
    np.testing.assert_allclose(jac, jac.T, rtol=0, atol=1e-17)
    np.testing.assert_allclose(jac.sum(axis=1), 0.0, atol=1e-16)  # softmax sums to 1 whatever z is
    dout = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(jac.T @ dout, act.softmax_backward(dout, act.softmax(z)), rtol=1e-14)


def test_softmax_jacobian_of_two_equal_logits_by_hand():
    # y = (½, ½): J = diag(½, ½) - ¼ [[1, 1], [1, 1]] = [[¼, -¼], [-¼, ¼]]
    np.testing.assert_array_equal(act.softmax_jacobian([0.0, 0.0]), [[0.25, -0.25], [-0.25, 0.25]])


def test_softmax_as_elementwise_mistake_keeps_only_the_diagonal_by_hand():
    # y = (½, ½): the diagonal y(1 - y) = ¼, the off-diagonal -y_i y_j dropped
    np.testing.assert_array_equal(
        act.softmax_jacobian([0.0, 0.0], off_diagonal=False), [[0.25, 0.0], [0.0, 0.25]]
    )
    z = np.array([0.5, -1.0, 2.0])
    dout = np.array([1.0, -2.0, 0.5])
    y = act.softmax(z)
    elementwise = act.softmax_backward(dout, y, off_diagonal=False)
    np.testing.assert_allclose(elementwise, act.softmax_jacobian(z, off_diagonal=False).T @ dout, rtol=1e-14)
    np.testing.assert_allclose(elementwise, y * (1 - y) * dout, rtol=1e-14)
    assert not np.allclose(elementwise, act.softmax_backward(dout, y))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: act.gelu(1.0, approximate="erf"), r"approximate: unknown value 'erf'.*'none', 'tanh'"),
        (lambda: act.gelu_grad(1.0, approximate="Tanh"), "approximate: unknown value"),
        (lambda: act.softplus(1.0, beta=0.0), "beta: expected a number > 0"),
        (lambda: act.softplus_grad(1.0, beta=-1.0), "beta: expected a number > 0"),
        (lambda: act.leaky_relu(1.0, negative_slope="x"), "negative_slope: expected a number"),
        (lambda: act.elu(1.0, alpha=float("nan")), "alpha: expected a number"),
        (lambda: act.relu("abc"), "x: expected an array of numbers"),
        (lambda: act.softmax(1.0), "x: expected at least 1 dimension"),
        (lambda: act.softmax([1.0, 2.0], axis=1), r"axis: expected an integer in \[-1, 1\)"),
        (lambda: act.log_softmax(np.zeros((2, 2)), axis=1.0), "axis: expected an integer"),
        (lambda: act.softmax_jacobian(np.zeros((2, 2))), "z: expected 1 dimensions"),
        (lambda: act.softmax_backward(np.zeros(3), np.zeros(4)), r"dout: expected shape \(4,\), got \(3,\)"),
        (lambda: act.log_softmax_backward(np.zeros((2, 3)), np.zeros((3, 2))), "dout: expected shape"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_hardsigmoid_and_hardswish_by_hand_and_by_finite_differences():
    x = np.array([-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0])
    np.testing.assert_allclose(act.hardsigmoid(x), [0, 0, 0.25, 0.5, 0.75, 1, 1])
    np.testing.assert_allclose(act.hardsigmoid(x, slope=0.2), [0, 0, 0.2, 0.5, 0.8, 1, 1])  # Keras's
    np.testing.assert_allclose(act.hardswish(x), [0, 0, -0.375, 0, 1.125, 3, 4])
    assert not np.signbit(act.hardswish(x)[x <= -3]).any()  # 0, not -0
    # PyTorch's backward at the kinks: hardsigmoid 0 at ±3; hardswish -1/2 at -3 and 3/2 at 3
    np.testing.assert_allclose(act.hardsigmoid_grad(x), [0, 0, 1 / 6, 1 / 6, 1 / 6, 0, 0])
    np.testing.assert_allclose(act.hardswish_grad(x), [0, -0.5, 0, 0.5, 1, 1.5, 1])
    smooth = np.array([-4.2, -2.9, -1.3, 0.4, 2.2, 2.99, 5.0])  # away from ±3 (and ±2.5 for 0.2)
    dout = np.linspace(0.5, 2.0, smooth.size)
    for fn, grad in ((act.hardsigmoid, act.hardsigmoid_grad), (act.hardswish, act.hardswish_grad)):
        num = numerical_gradient_array(fn, smooth, dout, h=1e-6)
        np.testing.assert_allclose(dout * grad(smooth), num, atol=1e-7)


def test_prelu_backward_sums_the_slope_gradient_over_the_nonpositive_inputs():
    x = np.array([[1.0, -2.0], [-1.0, 3.0]])
    dout = np.array([[1.0, 1.0], [2.0, 1.0]])
    np.testing.assert_allclose(act.prelu(x, 0.25), [[1, -0.5], [-0.25, 3]])
    dx, da = act.prelu_backward(dout, x, 0.25)
    np.testing.assert_allclose(dx, [[1, 0.25], [0.5, 1]])
    assert da == -4.0  # 1·(-2) + 2·(-1)
    assert act.prelu_backward(dout, x, 0.25, slope_region="all")[1] == 0.0  # 1 - 2 - 2 + 3
    # one slope per channel (axis 1 of (N, C, L)), checked by centred differences
    rng = np.random.default_rng(0)
    x3 = rng.normal(size=(2, 3, 4))
    d3 = rng.normal(size=(2, 3, 4))
    w = np.array([0.1, 0.25, -0.3])
    dx3, dw3 = act.prelu_backward(d3, x3, w)
    np.testing.assert_allclose(dx3, numerical_gradient_array(lambda z: act.prelu(z, w), x3, d3), atol=1e-7)
    np.testing.assert_allclose(
        dw3, numerical_gradient(lambda v: float((act.prelu(x3, v) * d3).sum()), w), atol=1e-7
    )
    with pytest.raises(ValueError, match="weight"):
        act.prelu(x3, [0.1, 0.2])
