import numpy as np
import pytest

from quizgen.reference import conv, filters, groupnorm, roc


def test_sobel_x_responds_to_a_step_to_the_right():
    x = np.array([[0, 0, 9, 9]] * 3, dtype=float).reshape(1, 1, 3, 4)
    out = conv.conv2d_forward(x, filters.edge_kernel("sobel", "x")).out
    # each window: (-1 - 2 - 1)·col0 + (1 + 2 + 1)·col2 -> 4·9 - 0 = 36, then 4·9 - 4·0 = 36
    np.testing.assert_array_equal(out.reshape(-1), [36, 36])
    prewitt_y = filters.edge_kernel("prewitt", "y").reshape(3, 3)
    np.testing.assert_array_equal(prewitt_y, [[-1, -1, -1], [0, 0, 0], [1, 1, 1]])


def test_roc_points_and_auc_with_a_tie():
    y, s = [1, 0, 1, 0], [0.9, 0.6, 0.6, 0.2]
    curve = roc.roc_curve(y, s)
    np.testing.assert_allclose(curve.fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(curve.tpr, [0, 0.5, 1, 1])
    # pairs (0.9, 0.6) win, (0.9, 0.2) win, (0.6, 0.6) tie, (0.6, 0.2) win -> 3.5 / 4
    assert roc.roc_auc(y, s) == 0.875
    assert np.trapezoid(curve.tpr, curve.fpr) == pytest.approx(0.875)
    assert roc.roc_auc(y, s, ties="loss") == 0.75
    assert roc.rates_at(y, s, 0.6) == (1.0, 0.5)
    assert roc.rates_at(y, s, 0.6, rule=">") == (0.5, 0.0)
    np.testing.assert_array_equal(roc.roc_point(y, s, 0.6), [1.0, 0.5])


def test_group_norm_by_hand_and_its_two_ends():
    x = np.array([1.0, 3.0, 2.0, 6.0]).reshape(1, 4, 1)
    g = groupnorm.group_norm_forward(x, 2, eps=0.0)
    np.testing.assert_allclose(g.mean, [[2.0, 4.0]])
    np.testing.assert_allclose(g.var, [[1.0, 4.0]])
    np.testing.assert_allclose(g.out.reshape(-1), [-1, 1, -1, 1])
    layer = groupnorm.group_norm_forward(x, 1, eps=0.0)
    np.testing.assert_allclose(layer.mean, [[3.0]])  # every channel of the sample
    inst = groupnorm.group_norm_forward(x.reshape(1, 2, 2), 2, eps=0.0)
    np.testing.assert_allclose(inst.mean, [[2.0, 4.0]])
    with pytest.raises(ValueError, match="must divide C"):
        groupnorm.group_norm_forward(x, 3)


def test_sobel_image_gradient_magnitude_and_direction_by_hand():
    # a patch brighter to the left and darker at the top, worked by hand:
    x = np.array([[[[9.0, 5.0, 1.0], [9.0, 6.0, 3.0], [9.0, 7.0, 5.0]]]])
    # G_x = Σ right column - left column with weights 1, 2, 1: (1 + 2·3 + 5) - (9 + 2·9 + 9) = 12 - 36 = -24
    # G_y = Σ bottom row - top row with weights 1, 2, 1: (9 + 2·7 + 5) - (9 + 2·5 + 1) = 28 - 20 = 8
    g = filters.image_gradient(x)
    assert (g.gx.item(), g.gy.item()) == (-24.0, 8.0)
    assert g.magnitude.item() == pytest.approx(np.sqrt(24**2 + 8**2))
    assert g.direction.item() == pytest.approx(180.0 - np.degrees(np.arctan(8 / 24)))
    assert filters.image_gradient(x, magnitude="l1").magnitude.item() == 32.0
    assert filters.image_gradient(x, angle="atan").direction.item() == pytest.approx(
        -np.degrees(np.arctan(8 / 24))
    )
    flipped = filters.image_gradient(x, convention="convolution")
    assert (flipped.gx.item(), flipped.gy.item()) == (24.0, -8.0)
    assert flipped.direction.item() == pytest.approx(-np.degrees(np.arctan(8 / 24)))
    # a vertical step to the left gives exactly 180 (never -180); a flat patch gives 0
    assert filters.image_gradient(np.array([[[[1.0, 0, 0]] * 3]])).direction.item() == 180.0
    assert filters.image_gradient(np.ones((1, 1, 3, 3))).magnitude.item() == 0.0


def test_gaussian_kernel_sums_to_one_and_matches_the_hand_values():
    # σ = 1, 3 × 3: weights e^0, e^-1/2, e^-1 at distance² 0, 1, 2; total 1 + 4e^-1/2 + 4e^-1
    g = filters.gaussian_kernel(3, 1.0)[0, 0]
    total = 1 + 4 * np.exp(-0.5) + 4 * np.exp(-1.0)
    assert g[1, 1] == pytest.approx(1 / total)
    assert g[0, 1] == pytest.approx(np.exp(-0.5) / total)
    assert g[0, 0] == pytest.approx(np.exp(-1.0) / total)
    assert g.sum() == pytest.approx(1.0)
    # the outer product of the normalised 1-D kernel (torchvision's construction)
    one_d = np.exp(-0.5 * np.arange(-2.0, 3.0) ** 2 / 0.7**2)
    one_d /= one_d.sum()
    np.testing.assert_allclose(filters.gaussian_kernel(5, 0.7)[0, 0], np.outer(one_d, one_d))
    assert filters.gaussian_kernel(3, 1.0, normalize=False)[0, 0, 1, 1] == pytest.approx(1 / (2 * np.pi))
    # sigma 4 read as a variance is the kernel of standard deviation 2
    np.testing.assert_allclose(
        filters.gaussian_kernel(3, 4.0, spread="variance"), filters.gaussian_kernel(3, 2.0)
    )
    with pytest.raises(ValueError, match="size"):
        filters.gaussian_kernel(4, 1.0)
