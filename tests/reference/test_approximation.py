"""A ReLU network through given points: its weights by hand, and its values through mlp_forward."""

import numpy as np
import pytest

from quizgen.reference.approximation import relu_interpolant
from quizgen.reference.mlp import mlp_forward


def _f(net, x):
    return mlp_forward(
        [[v] for v in x],
        [net.weights, net.output_weights],
        [net.biases, net.output_bias],
        ["relu", "identity"],
    ).output[:, 0]


def test_the_output_weights_are_the_changes_of_slope_at_the_knots():
    net = relu_interpolant([0, 1, 3], [0, 2, 1])
    assert net.slopes.tolist() == [2.0, -0.5]
    assert net.output_weights.tolist() == [[2.0, -2.5]]
    assert net.biases.tolist() == [0.0, -1.0] and net.output_bias.tolist() == [0.0]
    # f passes through the points and is linear between them
    np.testing.assert_allclose(_f(net, [0, 1, 3, 2]), [0, 2, 1, 1.5])
    slip = relu_interpolant([0, 1, 3], [0, 2, 1], output_weights="slopes")
    assert _f(slip, [3])[0] == pytest.approx(2 * 3 - 0.5 * 2)  # not 1: the first unit is still on


def test_many_points_are_interpolated_exactly():
    xs = np.array([-2.0, -0.5, 0.0, 1.5, 4.0])
    ys = np.array([1.0, -1.0, 0.5, 0.5, 3.0])
    net = relu_interpolant(xs, ys)
    np.testing.assert_allclose(_f(net, xs), ys, atol=1e-12)
    with pytest.raises(ValueError, match="increasing"):
        relu_interpolant([0, 0, 1], [1, 2, 3])
