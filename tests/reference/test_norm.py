import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen.reference import norm
from quizgen.reference.gradcheck import numerical_gradient_array, relative_error
from quizgen.reference.norm import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    weight_norm_backward,
    weight_norm_forward,
)

SHAPES = [(5, 3), (4, 2, 3), (3, 2, 3, 4), (2, 4, 2, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_training_output_has_zero_mean_and_unit_biased_variance_per_channel(shape):
    rng = np.random.default_rng(0)
    x = 3.0 + 5.0 * rng.standard_normal(shape)
    c = shape[1]
    res = batchnorm_forward(x, np.ones(c), np.zeros(c), eps=0.0)
    axes = (0, *range(2, len(shape)))
    np.testing.assert_allclose(res.out.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(res.out.var(axis=axes), 1.0, rtol=1e-12)  # biased variance
    np.testing.assert_allclose(res.mean, x.mean(axis=axes))
    np.testing.assert_allclose(res.var, x.var(axis=axes))  # biased batch variance normalises


def test_batchnorm_affine_parameters_scale_and_shift_per_channel():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 2, 2, 2))
    res = batchnorm_forward(x, [2.0, -1.0], [0.5, 3.0], eps=0.0)
    np.testing.assert_allclose(res.out.mean(axis=(0, 2, 3)), [0.5, 3.0], atol=1e-12)
    np.testing.assert_allclose(res.out.std(axis=(0, 2, 3)), [2.0, 1.0], rtol=1e-12)


def test_batchnorm_running_stats_use_the_unbiased_variance_hand_example():
    # N = 2, two features. Feature 0: x = 1, 3 -> mean 2, biased var 1, unbiased var 2.
    #   running_mean = 0.9*0 + 0.1*2 = 0.2; running_var = 0.9*1 + 0.1*2 = 1.1 (biased: 1.0).
    # Feature 1: x = 10, 14 -> mean 12, biased var 4, unbiased var 8.
    #   running_mean = 1.2; running_var = 0.9 + 0.8 = 1.7 (biased: 0.9 + 0.4 = 1.3).
    x = np.array([[1.0, 10.0], [3.0, 14.0]])
    res = batchnorm_forward(x, np.ones(2), np.zeros(2))
    np.testing.assert_allclose(res.running_mean, [0.2, 1.2])
    np.testing.assert_allclose(res.running_var, [1.1, 1.7])
    np.testing.assert_allclose(res.var, [1.0, 4.0])
    # x̂ = (1 - 2)/sqrt(1 + 1e-5) for the first value of feature 0.
    assert res.out[0, 0] == pytest.approx(-1.0 / np.sqrt(1.0 + 1e-5), rel=1e-15)

    biased = batchnorm_forward(x, np.ones(2), np.zeros(2), running_var_estimator="biased")
    np.testing.assert_allclose(biased.running_var, [1.0, 1.3])
    np.testing.assert_array_equal(biased.out, res.out)  # only the running stats differ


def test_batchnorm_running_stats_update_from_given_values_with_momentum():
    x = np.array([[1.0], [3.0]])  # mean 2, unbiased var 2
    res = batchnorm_forward(x, [1.0], [0.0], momentum=0.5, running_mean=[4.0], running_var=[6.0])
    np.testing.assert_allclose(res.running_mean, [3.0])  # 0.5*4 + 0.5*2
    np.testing.assert_allclose(res.running_var, [4.0])  # 0.5*6 + 0.5*2


def test_batchnorm_momentum_none_is_the_cumulative_average_of_batch_statistics():
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((4, 3)) + k for k in range(3)]
    rm, rv = None, None
    for k, xb in enumerate(batches, start=1):
        res = batchnorm_forward(
            xb,
            np.ones(3),
            np.zeros(3),
            momentum=None,
            num_batches_tracked=k,
            running_mean=rm,
            running_var=rv,
        )
        rm, rv = res.running_mean, res.running_var
    np.testing.assert_allclose(rm, np.mean([b.mean(axis=0) for b in batches], axis=0))
    np.testing.assert_allclose(rv, np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0))


def test_batchnorm_eval_mode_normalises_with_running_stats_and_keeps_them():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 2, 2))
    rm, rv = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    gamma, beta = np.array([1.5, 0.5]), np.array([0.1, -0.2])
    res = batchnorm_forward(x, gamma, beta, running_mean=rm, running_var=rv, training=False)
    expected = (
        gamma[None, :, None, None] * (x - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
        + beta[None, :, None, None]
    )
    np.testing.assert_allclose(res.out, expected, rtol=1e-14)
    np.testing.assert_array_equal(res.running_mean, rm)
    np.testing.assert_array_equal(res.running_var, rv)
    np.testing.assert_array_equal(res.mean, rm)
    train = batchnorm_forward(x, gamma, beta, running_mean=rm, running_var=rv)
    assert not np.allclose(train.out, res.out)


def test_batchnorm_eval_mode_with_fresh_stats_is_nearly_the_identity_affine():
    x = np.array([[2.0, -4.0]])  # one sample is fine in eval mode; running stats 0 and 1
    res = batchnorm_forward(x, [1.0, 1.0], [0.0, 0.0], training=False)
    np.testing.assert_allclose(res.out, x / np.sqrt(1.0 + 1e-5))


def test_batchnorm_conventions_compute_the_named_mistakes():
    # x = 1, 3: mean 2, biased var 1 (std 1); eps = 0.1 to make the difference visible.
    x = np.array([[1.0], [3.0]])
    args = (x, [1.0], [0.0])
    pytorch = batchnorm_forward(*args, eps=0.1).out[:, 0]
    outside = batchnorm_forward(*args, eps=0.1, normalization="eps_outside").out[:, 0]
    seed = batchnorm_forward(*args, eps=0.1, normalization="seed_plus_mean_eps_outside").out[:, 0]
    np.testing.assert_allclose(pytorch, [-1 / np.sqrt(1.1), 1 / np.sqrt(1.1)])  # (x-2)/sqrt(1.1)
    np.testing.assert_allclose(outside, [-1 / 1.1, 1 / 1.1])  # (x-2)/(1+0.1)
    np.testing.assert_allclose(seed, [3 / 1.1, 5 / 1.1])  # (x+2)/(1+0.1)


@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_backward_matches_finite_differences(shape):
    rng = np.random.default_rng(sum(shape))
    c = shape[1]
    x = rng.standard_normal(shape) * 2.0 + 1.0
    gamma = rng.standard_normal(c)
    beta = rng.standard_normal(c)
    dout = rng.standard_normal(shape)
    res = batchnorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = batchnorm_backward(dout, res.cache)
    num_dx = numerical_gradient_array(lambda z: batchnorm_forward(z, gamma, beta).out, x, dout)
    num_dg = numerical_gradient_array(lambda g: batchnorm_forward(x, g, beta).out, gamma, dout)
    num_db = numerical_gradient_array(lambda b: batchnorm_forward(x, gamma, b).out, beta, dout)
    assert relative_error(dx, num_dx) < 1e-7
    assert relative_error(dgamma, num_dg) < 1e-7
    assert relative_error(dbeta, num_db) < 1e-7


def test_batchnorm_backward_sums_of_dx_vanish_per_channel():
    # x̂ is invariant to shifting a channel, so Σ dx over each channel is zero.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 2, 2))
    res = batchnorm_forward(x, rng.standard_normal(3), np.zeros(3))
    dx = batchnorm_backward(rng.standard_normal(x.shape), res.cache).dx
    np.testing.assert_allclose(dx.sum(axis=(0, 2, 3)), 0.0, atol=1e-12)


@pytest.mark.parametrize("normalization", ["pytorch", "eps_outside", "seed_plus_mean_eps_outside"])
def test_batchnorm_eval_backward_matches_finite_differences(normalization):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, 2, 3))
    gamma, beta = rng.standard_normal(2), rng.standard_normal(2)
    kw = dict(running_mean=[0.3, -0.2], running_var=[1.5, 0.7], training=False, normalization=normalization)
    dout = rng.standard_normal(x.shape)
    res = batchnorm_forward(x, gamma, beta, **kw)
    grads = batchnorm_backward(dout, res.cache)
    num_dx = numerical_gradient_array(lambda z: batchnorm_forward(z, gamma, beta, **kw).out, x, dout)
    num_dg = numerical_gradient_array(lambda g: batchnorm_forward(x, g, beta, **kw).out, gamma, dout)
    assert relative_error(grads.dx, num_dx) < 1e-7
    assert relative_error(grads.dgamma, num_dg) < 1e-7
    np.testing.assert_allclose(grads.dbeta, dout.sum(axis=(0, 2, 3)))


def test_batchnorm_is_stable_for_large_inputs():
    rng = np.random.default_rng(7)
    x = 1e4 * rng.standard_normal((8, 3))
    res = batchnorm_forward(x, np.ones(3), np.zeros(3))
    assert np.all(np.isfinite(res.out))
    dx = batchnorm_backward(np.ones_like(x), res.cache).dx
    assert np.all(np.isfinite(dx))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x=np.zeros(3)), "x: expected shape"),
        (dict(gamma=np.ones(4)), r"gamma: expected shape \(3,\)"),
        (dict(beta=np.ones((3, 1))), "beta: expected 1 dimensions"),
        (dict(running_var=np.ones(2)), "running_var: expected shape"),
        (dict(normalization="eps_inside"), "normalization: unknown value 'eps_inside'"),
        (dict(running_var_estimator="sample"), "running_var_estimator: unknown value"),
        (dict(momentum=1.5), "momentum: expected a probability"),
        (dict(momentum=None), "num_batches_tracked: expected an integer"),
        (dict(eps=-1.0), "eps: expected a number >= 0"),
        (dict(x=np.zeros((1, 3))), "more than 1 value per channel"),
    ],
)
def test_batchnorm_forward_rejects_bad_arguments(kwargs, message):
    args = dict(x=np.zeros((4, 3)), gamma=np.ones(3), beta=np.zeros(3))
    args.update(kwargs)
    x, gamma, beta = args.pop("x"), args.pop("gamma"), args.pop("beta")
    with pytest.raises(ValueError, match=message):
        batchnorm_forward(x, gamma, beta, **args)


def test_batchnorm_backward_rejects_wrong_dout_shape_and_non_pytorch_training_cache():
    x = np.arange(8.0).reshape(4, 2)
    res = batchnorm_forward(x, np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"dout: expected shape \(4, 2\)"):
        batchnorm_backward(np.ones((2, 4)), res.cache)
    mistake = batchnorm_forward(x, np.ones(2), np.zeros(2), normalization="eps_outside")
    with pytest.raises(ValueError, match="normalization 'pytorch'"):
        batchnorm_backward(np.ones((4, 2)), mistake.cache)


@pytest.mark.parametrize("shape, k", [((4, 5), 1), ((2, 3, 4), 2), ((3, 2, 2, 3), 1), ((6,), 1)])
def test_layernorm_output_is_standardised_over_the_normalised_axes(shape, k):
    rng = np.random.default_rng(8)
    x = 2.0 + 3.0 * rng.standard_normal(shape)
    norm_shape = shape[len(shape) - k :]
    out, _ = layernorm_forward(x, np.ones(norm_shape), np.zeros(norm_shape), eps=0.0)
    axes = tuple(range(len(shape) - k, len(shape)))
    np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=axes), 1.0, rtol=1e-12)


def test_layernorm_of_rows_equals_batchnorm_of_the_transpose():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 5))
    ln, _ = layernorm_forward(x, np.ones(5), np.zeros(5))
    bn = batchnorm_forward(x.T, np.ones(3), np.zeros(3)).out
    np.testing.assert_allclose(ln, bn.T, rtol=1e-13)


def test_layernorm_hand_example():
    # Row [1, 2, 3]: mean 2, biased var 2/3 -> x̂ = [-1, 0, 1]/sqrt(2/3 + eps); gamma 2, beta 1.
    out, cache = layernorm_forward([[1.0, 2.0, 3.0]], [2.0, 2.0, 2.0], [1.0, 1.0, 1.0])
    s = np.sqrt(2.0 / 3.0 + 1e-5)
    np.testing.assert_allclose(out, [[1 - 2 / s, 1.0, 1 + 2 / s]], rtol=1e-15)
    np.testing.assert_allclose(cache.var, [[2.0 / 3.0]])


@pytest.mark.parametrize("shape, k", [((4, 5), 1), ((2, 3, 4), 2), ((2, 2, 3), 1), ((5,), 1)])
def test_layernorm_backward_matches_finite_differences(shape, k):
    rng = np.random.default_rng(10 + len(shape) + k)
    norm_shape = shape[len(shape) - k :]
    x = rng.standard_normal(shape)
    gamma = rng.standard_normal(norm_shape)
    beta = rng.standard_normal(norm_shape)
    dout = rng.standard_normal(shape)
    _, cache = layernorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = layernorm_backward(dout, cache)
    num_dx = numerical_gradient_array(lambda z: layernorm_forward(z, gamma, beta).out, x, dout)
    num_dg = numerical_gradient_array(lambda g: layernorm_forward(x, g, beta).out, gamma, dout)
    num_db = numerical_gradient_array(lambda b: layernorm_forward(x, gamma, b).out, beta, dout)
    assert relative_error(dx, num_dx) < 1e-7
    assert relative_error(dgamma, num_dg) < 1e-7
    assert relative_error(dbeta, num_db) < 1e-7


def test_layernorm_rejects_mismatched_parameters():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="gamma: expected a shape that x's trailing"):
        layernorm_forward(x, np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="gamma: expected a shape that x's trailing"):
        layernorm_forward(x, np.ones((1, 2, 3)), np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"beta: expected shape \(3,\)"):
        layernorm_forward(x, np.ones(3), np.zeros(2))
    _, cache = layernorm_forward(x, np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="dout: expected shape"):
        layernorm_backward(np.zeros((3, 2)), cache)


def test_moments_equal_numpys_mean_and_var_bit_for_bit():
    """_moments replaces x.mean / x.var with their own two-pass algorithm; any drift shows here."""
    rng = np.random.default_rng(3)
    for _ in range(400):
        ndim = int(rng.integers(1, 5))
        shape = tuple(int(v) for v in rng.integers(1, 6, size=ndim))
        scale = 10.0 ** rng.integers(-3, 4)
        x = rng.normal(size=shape) * scale + rng.normal() * scale * 10
        if rng.random() < 0.3:
            x = np.round(x, 1)  # ties and exact decimals, like bank values
        for axes in {(0,), tuple(range(ndim)), (0, *range(2, ndim)), tuple(range(ndim - 1, ndim))}:
            count = int(np.prod([shape[a] for a in axes]))
            mean, var = norm._moments(x, axes, count)
            assert mean.tobytes() == x.mean(axis=axes, keepdims=True).tobytes()
            assert var.tobytes() == x.var(axis=axes, keepdims=True).tobytes()
            assert mean.reshape(-1).tobytes() == x.mean(axis=axes).reshape(-1).tobytes()
            assert var.reshape(-1).tobytes() == x.var(axis=axes).reshape(-1).tobytes()


@st.composite
def _batches(draw):
    """x (N, C), (N, C, L) or (N, C, H, W) with N >= 1 and finite or special entries."""
    shape = draw(st.sampled_from([(1, 2), (2, 1), (3, 2), (2, 2, 3), (2, 1, 2, 2)]))
    values = st.floats(-1e3, 1e3) | st.sampled_from([0.0, -0.0, 1e300, float("inf"), float("nan")])
    return np.array(
        draw(st.lists(values, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    ).reshape(shape)


@settings(max_examples=300, deadline=None)
@given(
    x=_batches(),
    training=st.booleans(),
    momentum=st.sampled_from([0.1, 1.0, 0.0, None]),
    running_var_estimator=st.sampled_from(["unbiased", "biased"]),
    normalization=st.sampled_from(["pytorch", "eps_outside", "seed_plus_mean_eps_outside"]),
)
def test_batchnorm_without_running_stats_equals_their_start_arrays_bit_for_bit(
    same_outcome, x, training, momentum, running_var_estimator, normalization
):
    """Missing running statistics are the floats 0.0 and 1.0 in training; np.zeros/np.ones take the
    array path."""
    c = x.shape[1]
    kwargs = {
        "training": training,
        "momentum": momentum,
        "num_batches_tracked": 3,
        "running_var_estimator": running_var_estimator,
        "normalization": normalization,
    }
    gamma, beta = np.linspace(0.5, 2.0, c), np.linspace(-1.0, 1.0, c)
    same_outcome(
        lambda: batchnorm_forward(x, gamma, beta, **kwargs),
        lambda: batchnorm_forward(x, gamma, beta, running_mean=np.zeros(c), running_var=np.ones(c), **kwargs),
    )


# --- LayerNorm without affine parameters (elementwise_affine=False) --------------------------


def test_layernorm_without_affine_hand_example():
    # Row [1, 2, 3]: mean 2, biased var 2/3 -> out = x̂ = [-1, 0, 1] / sqrt(2/3 + eps)
    out, cache = layernorm_forward([[1.0, 2.0, 3.0]], elementwise_affine=False, normalized_shape=3)
    s = np.sqrt(2.0 / 3.0 + 1e-5)
    np.testing.assert_allclose(out, [[-1 / s, 0.0, 1 / s]], rtol=1e-15)
    assert cache.gamma is None


@pytest.mark.parametrize("shape, norm_shape", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((5,), [5])])
def test_layernorm_without_affine_equals_unit_gamma_zero_beta_bit_for_bit(shape, norm_shape):
    x = np.random.default_rng(30).standard_normal(shape)
    plain = layernorm_forward(x, elementwise_affine=False, normalized_shape=norm_shape).out
    ones = np.ones(shape[-len(np.atleast_1d(norm_shape)) :])
    np.testing.assert_array_equal(plain, layernorm_forward(x, ones, np.zeros_like(ones)).out)


@pytest.mark.parametrize("shape, k", [((4, 5), 1), ((2, 3, 4), 2), ((5,), 1)])
def test_layernorm_without_affine_backward_matches_finite_differences(shape, k):
    rng = np.random.default_rng(31 + k)
    norm_shape = shape[len(shape) - k :]
    x, dout = rng.standard_normal(shape), rng.standard_normal(shape)
    kw = dict(elementwise_affine=False, normalized_shape=norm_shape)
    dx, dgamma, dbeta = layernorm_backward(dout, layernorm_forward(x, **kw).cache)
    assert dgamma is None and dbeta is None
    num_dx = numerical_gradient_array(lambda z: layernorm_forward(z, **kw).out, x, dout)
    assert relative_error(dx, num_dx) < 1e-7


def test_layernorm_with_gamma_and_no_beta_is_pytorchs_bias_false():
    rng = np.random.default_rng(33)
    x, gamma, dout = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4))
    out, cache = layernorm_forward(x, gamma)
    np.testing.assert_array_equal(out, layernorm_forward(x, gamma, np.zeros(4)).out)
    dx, dgamma, dbeta = layernorm_backward(dout, cache)
    assert dbeta is None
    assert (
        relative_error(dx, numerical_gradient_array(lambda z: layernorm_forward(z, gamma).out, x, dout))
        < 1e-7
    )
    assert (
        relative_error(dgamma, numerical_gradient_array(lambda g: layernorm_forward(x, g).out, gamma, dout))
        < 1e-7
    )


def test_layernorm_affine_arguments_are_checked():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="gamma: expected None with elementwise_affine=False"):
        layernorm_forward(x, np.ones(3), elementwise_affine=False, normalized_shape=3)
    with pytest.raises(ValueError, match="beta: expected None with elementwise_affine=False"):
        layernorm_forward(x, None, np.ones(3), elementwise_affine=False, normalized_shape=3)
    with pytest.raises(ValueError, match="normalized_shape: expected the normalised trailing shape"):
        layernorm_forward(x, elementwise_affine=False)
    with pytest.raises(ValueError, match="normalized_shape: expected a shape that x's trailing"):
        layernorm_forward(x, elementwise_affine=False, normalized_shape=2)
    with pytest.raises(ValueError, match=r"gamma: expected shape \(2, 3\) \(normalized_shape\)"):
        layernorm_forward(x, np.ones(3), normalized_shape=(2, 3))
    with pytest.raises(ValueError, match="gamma: expected an array of normalized_shape"):
        layernorm_forward(x)
    with pytest.raises(ValueError, match="gamma: expected a shape that x's trailing"):
        layernorm_forward(x, 1.0)
    with pytest.raises(ValueError, match="elementwise_affine: unknown value 'no'"):
        layernorm_forward(x, elementwise_affine="no", normalized_shape=3)


def test_layernorm_backward_with_constant_stats_is_the_gradient_of_a_frozen_affine_map():
    # the mistake keyword: with mean and variance frozen, y = γ (x - μ0) / σ0 + β, so dx = γ dy / σ0
    rng = np.random.default_rng(5)
    x, gamma, beta, dout = (
        rng.normal(size=(2, 3)),
        rng.normal(size=3),
        rng.normal(size=3),
        rng.normal(size=(2, 3)),
    )
    cache = layernorm_forward(x, gamma, beta).cache
    frozen = layernorm_backward(dout, cache, through_stats=False)
    mu0, sigma0 = cache.mean, cache.denom
    num = numerical_gradient_array(lambda z: gamma * (z - mu0) / sigma0 + beta, x, dout)
    assert relative_error(frozen.dx, num) < 1e-8
    full = layernorm_backward(dout, cache)
    np.testing.assert_array_equal(frozen.dgamma, full.dgamma)
    assert relative_error(frozen.dx, full.dx) > 1e-3  # the stats' paths matter
    # hand-checked: x = [1, 2, 3] has mean 2, biased var 2/3; with γ = 1 and dy = [1, 0, 0]
    # the full gradient is (3·[1, 0, 0] - 1 - x̂·x̂_0) / (3σ)
    one = layernorm_forward([[1.0, 2.0, 3.0]], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], eps=0.0)
    sigma = np.sqrt(2 / 3)
    x_hat = np.array([-1.0, 0.0, 1.0]) / sigma
    want = (3 * np.array([1.0, 0.0, 0.0]) - 1 - x_hat * x_hat[0]) / (3 * sigma)
    np.testing.assert_allclose(layernorm_backward([[1.0, 0.0, 0.0]], one.cache).dx[0], want)


# --- weight normalization ------------------------------------------------------------------------


def test_weight_norm_hand_example_rows_and_columns():
    # rows [3, 4] and [0, 2] have norms 5 and 2: w = g · v / ‖v‖
    got = weight_norm_forward([[3.0, 4.0], [0.0, 2.0]], [10.0, -1.0])
    np.testing.assert_allclose(got.norms, [5.0, 2.0])
    np.testing.assert_allclose(got.w, [[6.0, 8.0], [0.0, -1.0]])
    cols = weight_norm_forward([[3.0, 4.0], [0.0, 2.0]], [1.0, 1.0], dim=1)
    np.testing.assert_allclose(cols.w, [[1.0, 4 / np.sqrt(20)], [0.0, 2 / np.sqrt(20)]])
    with pytest.raises(ValueError, match="zeros"):
        weight_norm_forward([[0.0, 0.0]], [1.0])


@pytest.mark.parametrize("shape, dim", [((3, 4), 0), ((3, 4), 1), ((2, 3, 2, 2), 0), ((2, 3, 2), -1)])
def test_weight_norm_backward_matches_finite_differences(shape, dim):
    rng = np.random.default_rng(17)
    v = rng.normal(size=shape)
    g = rng.normal(size=shape[dim])
    dw = rng.normal(size=shape)
    grads = weight_norm_backward(dw, weight_norm_forward(v, g, dim=dim).cache)
    num_dv = numerical_gradient_array(lambda z: weight_norm_forward(z, g, dim=dim).w, v, dw)
    num_dg = numerical_gradient_array(lambda z: weight_norm_forward(v, z, dim=dim).w, g, dw)
    assert relative_error(grads.dv, num_dv) < 1e-7
    assert relative_error(grads.dg, num_dg) < 1e-7
    # the gradient of v is orthogonal to v in each slice: rescaling v does not change w
    moved_v, moved_dv = (
        np.moveaxis(v, dim, 0).reshape(shape[dim], -1),
        np.moveaxis(grads.dv, dim, 0).reshape(shape[dim], -1),
    )
    np.testing.assert_allclose((moved_v * moved_dv).sum(axis=1), 0.0, atol=1e-12)
    frozen = weight_norm_backward(dw, weight_norm_forward(v, g, dim=dim, through_norm=False).cache)
    assert relative_error(frozen.dv, grads.dv) > 1e-3
