import numpy as np
import pytest

from quizgen.reference import lrn, residual


def test_lrn_by_hand_with_the_window_clipped_at_the_edges():
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    r = lrn.local_response_norm(x, 3, alpha=0.3, beta=0.5, k=1.0)
    # windows: {0, 1} -> 1 + 4 = 5; {0, 1, 2} -> 14; {1, 2} -> 13
    np.testing.assert_allclose(r.sums.reshape(-1), [5, 14, 13])
    np.testing.assert_allclose(r.out.reshape(-1), [1 / np.sqrt(1.5), 2 / np.sqrt(2.4), 3 / np.sqrt(2.3)])
    no_n = lrn.local_response_norm(x, 3, alpha=0.3, beta=0.5, alpha_per_size=False)
    np.testing.assert_allclose(no_n.out.reshape(-1)[0], 1 / np.sqrt(2.5))
    # an even size looks size//2 back and (size - 1)//2 ahead: channel 1 of size 2 sees {0, 1}
    np.testing.assert_allclose(lrn.local_response_norm(x, 2).sums.reshape(-1), [1, 5, 13])


def test_residual_block_by_hand():
    x = np.array([1.0, -2.0])
    w1, b1 = np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([2.0, 0.0])
    w2, b2 = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.0, -1.0])
    r = residual.residual_block(x, w1, b1, w2, b2)
    # h = ReLU([1, -2]) = [1, 0]; F = [1, -1]; y = ReLU([2, -3]) = [2, 0]
    np.testing.assert_allclose(r.hidden, [1, 0])
    np.testing.assert_allclose(r.residual, [1, -1])
    np.testing.assert_allclose(r.out, [2, 0])
    np.testing.assert_allclose(residual.residual_block(x, w1, b1, w2, b2, order="relu_then_add").out, [2, -2])
    np.testing.assert_allclose(residual.residual_block(x, w1, b1, w2, b2, skip=False).out, [1, 0])
    linear = residual.residual_block(x, w1, b1, w2, b2, hidden_activation="identity")
    np.testing.assert_allclose(linear.residual, [1, -3])  # h = [1, -2]
    with pytest.raises(ValueError, match="do not chain"):
        residual.residual_block(x, w1, b1, w2[:1], b2)


def test_residual_block_with_a_projection_shortcut_by_hand():
    x = np.array([1.0, -2.0])
    w1, b1 = np.eye(2), np.zeros(2)
    w2, b2 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -3.0])
    ws = np.array([[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]])
    r = residual.residual_block(x, w1, b1, w2, b2, ws=ws)
    # h = ReLU([1, -2]) = [1, 0]; F = [1, 0, -2]; W_s x = [-1, -2, 2]; y = ReLU([0, -2, 0]) = 0
    np.testing.assert_allclose(r.residual, [1, 0, -2])
    np.testing.assert_allclose(r.shortcut, [-1, -2, 2])
    np.testing.assert_allclose(r.out, [0, 0, 0])
    np.testing.assert_allclose(
        residual.residual_block(x, w1, b1, w2, b2, ws=ws, order="relu_then_add").out, [0, -2, 2]
    )
    with pytest.raises(ValueError, match="W_s \\(d', d\\) for a projection shortcut"):
        residual.residual_block(x, w1, b1, w2, b2)  # F(x) has 3 entries, x 2: needs ws
