import math

import numpy as np
import pytest

from quizgen.reference.init import (
    calculate_gain,
    fans,
    kaiming_normal,
    kaiming_normal_std,
    kaiming_uniform,
    kaiming_uniform_bound,
    pytorch_default_bounds,
    xavier_normal,
    xavier_normal_std,
    xavier_uniform,
    xavier_uniform_bound,
)

LINEAR = (256, 128)  # nn.Linear(128, 256).weight: fan_in 128, fan_out 256
CONV = (64, 3, 3, 3)  # nn.Conv2d(3, 64, 3).weight: fan_in 3·9 = 27, fan_out 64·9 = 576


def test_fans_of_a_linear_and_a_conv_weight():
    assert fans(LINEAR) == (128, 256)
    assert fans(CONV) == (27, 576)
    assert fans((10, 4, 5)) == (20, 50)  # conv1d: kernel 5 multiplies both


@pytest.mark.parametrize(
    "nonlinearity, param, gain",
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("conv_transpose3d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5.0 / 3.0),
        ("relu", None, math.sqrt(2.0)),
        ("relu", 0.3, math.sqrt(2.0)),  # param ignored except for leaky_relu
        ("leaky_relu", None, math.sqrt(2.0 / (1.0 + 0.01**2))),  # default slope 0.01
        ("leaky_relu", 0, math.sqrt(2.0)),
        ("leaky_relu", 0.2, math.sqrt(2.0 / 1.04)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain_matches_pytorch_table(nonlinearity, param, gain):
    assert calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


def test_init_scales_for_a_256_by_128_linear_weight_by_hand():
    # Xavier: sqrt(6/(128+256)) = sqrt(1/64) = 0.125; std sqrt(2/384) = sqrt(1/192).
    assert xavier_uniform_bound(LINEAR) == pytest.approx(0.125, rel=1e-15)
    assert xavier_normal_std(LINEAR) == pytest.approx(math.sqrt(1 / 192), rel=1e-15)
    assert xavier_uniform_bound(LINEAR, gain=5 / 3) == pytest.approx(0.125 * 5 / 3, rel=1e-15)
    # Kaiming defaults (a=0, fan_in, leaky_relu -> gain sqrt(2)): bound sqrt(2)·sqrt(3/128) =
    # sqrt(6/128); std sqrt(2)/sqrt(128) = 1/8, or sqrt(2)/sqrt(256) = sqrt(1/128) with fan_out.
    assert kaiming_uniform_bound(LINEAR) == pytest.approx(math.sqrt(6 / 128), rel=1e-15)
    assert kaiming_normal_std(LINEAR) == pytest.approx(0.125, rel=1e-15)
    assert kaiming_normal_std(LINEAR, mode="fan_out") == pytest.approx(math.sqrt(1 / 128), rel=1e-15)
    # nn.Linear's own init: kaiming_uniform_(a=sqrt(5)) -> sqrt(2/6)·sqrt(3/128) = 1/sqrt(128).
    assert pytorch_default_bounds(LINEAR) == pytest.approx((1 / math.sqrt(128), 1 / math.sqrt(128)))


def test_init_scales_for_a_64_3_3_3_conv_weight_by_hand():
    assert xavier_uniform_bound(CONV) == pytest.approx(math.sqrt(6 / (27 + 576)), rel=1e-15)
    assert xavier_normal_std(CONV) == pytest.approx(math.sqrt(2 / 603), rel=1e-15)
    assert kaiming_normal_std(CONV) == pytest.approx(math.sqrt(2 / 27), rel=1e-15)
    assert kaiming_uniform_bound(CONV) == pytest.approx(math.sqrt(6 / 27), rel=1e-15)
    assert kaiming_normal_std(CONV, mode="fan_out", nonlinearity="relu") == pytest.approx(
        math.sqrt(2 / 576), rel=1e-15
    )
    assert kaiming_normal_std(CONV, nonlinearity="tanh") == pytest.approx(5 / 3 / math.sqrt(27), rel=1e-15)
    assert pytorch_default_bounds(CONV) == pytest.approx((1 / math.sqrt(27), 1 / math.sqrt(27)))


def test_seed_000_xavier_is_the_lecun_convention_and_differs_from_pytorch():
    # Note 000: "Xavier" W ~ N(0, sqrt(1/n_in)) -> std 1/sqrt(128) for the linear weight.
    lecun = xavier_normal_std(LINEAR, convention="lecun")
    assert lecun == pytest.approx(1 / math.sqrt(128), rel=1e-15)
    assert lecun != pytest.approx(xavier_normal_std(LINEAR))
    assert xavier_uniform_bound(LINEAR, convention="lecun") == pytest.approx(math.sqrt(3 / 128))
    # Note 000's He: N(0, sqrt(2/n_in)) is PyTorch's kaiming_normal_ default.
    assert kaiming_normal_std(LINEAR) == pytest.approx(math.sqrt(2 / 128), rel=1e-15)


@pytest.mark.parametrize("shape", [LINEAR, CONV])
def test_uniform_samplers_stay_inside_the_bound_and_have_std_bound_over_sqrt3(shape):
    for sample, bound in [
        (xavier_uniform(shape, 0), xavier_uniform_bound(shape)),
        (kaiming_uniform(shape, 1), kaiming_uniform_bound(shape)),
        (xavier_uniform(shape, 2, convention="lecun"), xavier_uniform_bound(shape, convention="lecun")),
    ]:
        assert sample.shape == shape
        assert np.abs(sample).max() <= bound
        assert np.abs(sample).max() > 0.98 * bound
        assert sample.std() == pytest.approx(bound / math.sqrt(3), rel=0.04)


@pytest.mark.parametrize("shape", [LINEAR, CONV])
def test_normal_samplers_have_the_formula_std_and_zero_mean(shape):
    for sample, std in [
        (xavier_normal(shape, 3), xavier_normal_std(shape)),
        (kaiming_normal(shape, 4, mode="fan_out"), kaiming_normal_std(shape, mode="fan_out")),
    ]:
        assert sample.shape == shape
        assert sample.std() == pytest.approx(std, rel=0.05)
        assert abs(sample.mean()) < 4 * std / math.sqrt(sample.size)


def test_samplers_are_reproducible_by_seed():
    np.testing.assert_array_equal(kaiming_normal(LINEAR, 7), kaiming_normal(LINEAR, 7))
    assert not np.array_equal(kaiming_normal(LINEAR, 7), kaiming_normal(LINEAR, 8))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: fans((5,)), "shape: expected at least 2 dimensions"),
        (lambda: fans((5, -1)), "shape: expected an integer >= 0"),
        (lambda: fans(None), "shape: expected a tuple of sizes"),
        (lambda: kaiming_normal_std((3, 0)), "shape: expected nonzero fans"),
        (lambda: xavier_normal_std((0, 0, 3)), "shape: expected nonzero fans"),
        (lambda: calculate_gain("gelu"), "nonlinearity: unknown value 'gelu'"),
        (lambda: calculate_gain("leaky_relu", True), "param: expected a number"),
        (lambda: calculate_gain("leaky_relu", "0.1"), "param: expected a number"),
        (lambda: kaiming_normal_std(LINEAR, mode="fan_avg"), "mode: unknown value 'fan_avg'"),
        (lambda: xavier_uniform_bound(LINEAR, convention="glorot"), "convention: unknown value"),
        (lambda: xavier_normal_std(LINEAR, gain=-1.0), "gain: expected a number >= 0"),
        (lambda: xavier_uniform(LINEAR, -3), "rng_seed: expected an integer >= 0"),
    ],
)
def test_init_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
