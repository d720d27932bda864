import numpy as np
import pytest

from quizgen.reference.gradcheck import numerical_gradient, numerical_gradient_array, relative_error
from quizgen.reference.regularization import (
    dropout_backward,
    dropout_forward,
    dropout_mask,
    l1_penalty,
    l2_penalty,
    max_norm,
    weight_decay_step,
)


def test_l1_penalty_hand_example_with_zero_subgradient_at_zero():
    # 0.5 * (|-2| + |0| + |3|) = 2.5; grad 0.5 * sign(w) with sign(0) = 0.
    penalty, grad = l1_penalty([-2.0, 0.0, 3.0], 0.5)
    assert penalty == pytest.approx(2.5)
    np.testing.assert_array_equal(grad, [-0.5, 0.0, 0.5])


def test_l2_penalty_hand_example_in_both_conventions():
    # w = [1, -2], lam = 0.1: Σ w² = 5 -> 0.5 (grad 2·0.1·w) or 0.25 with half (grad 0.1·w).
    full = l2_penalty([1.0, -2.0], 0.1)
    half = l2_penalty([1.0, -2.0], 0.1, half=True)
    assert full.penalty == pytest.approx(0.5)
    np.testing.assert_allclose(full.grad, [0.2, -0.4])
    assert half.penalty == pytest.approx(0.25)
    np.testing.assert_allclose(half.grad, [0.1, -0.2])


@pytest.mark.parametrize("seed", range(3))
def test_penalty_gradients_match_finite_differences(seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((3, 4)) + 0.1  # away from the L1 kink at 0
    w[np.abs(w) < 1e-3] = 0.5
    lam = rng.uniform(0.01, 2.0)
    for fn, kw in [(l1_penalty, {}), (l2_penalty, {}), (l2_penalty, {"half": True})]:
        analytic = fn(w, lam, **kw).grad
        numeric = numerical_gradient(lambda z, fn=fn, kw=kw: fn(z, lam, **kw).penalty, w)
        assert relative_error(analytic, numeric) < 1e-7


def test_weight_decay_step_hand_example_and_named_seed_form():
    w, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    # PyTorch: w - 0.1 (g + 0.01 w) = [1 - 0.1·0.51, 2 - 0.1·(-0.98)] = [0.949, 2.098]
    np.testing.assert_allclose(weight_decay_step(w, g, lr=0.1, weight_decay=0.01), [0.949, 2.098])
    # Note 003: (1 - 0.01) w - 0.1 g = [0.99 - 0.05, 1.98 + 0.1] = [0.94, 2.08]
    seed = weight_decay_step(w, g, lr=0.1, weight_decay=0.01, form="one_minus_lambda")
    np.testing.assert_allclose(seed, [0.94, 2.08])
    # They agree when λ = lr · wd = 0.001.
    same = weight_decay_step(w, g, lr=0.1, weight_decay=0.001, form="one_minus_lambda")
    np.testing.assert_allclose(same, [0.949, 2.098])


def test_pytorch_weight_decay_is_a_gradient_step_on_the_half_l2_penalised_loss():
    rng = np.random.default_rng(4)
    w, g = rng.standard_normal(5), rng.standard_normal(5)
    stepped = weight_decay_step(w, g, lr=0.3, weight_decay=0.2)
    np.testing.assert_allclose(stepped, w - 0.3 * (g + 0.2 * w))


def test_dropout_hand_example_in_both_conventions():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    mask = np.array([1.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(dropout_forward(x, mask, p=0.5).out, [2.0, 0.0, 6.0, 0.0])  # x·m/0.5
    np.testing.assert_array_equal(dropout_forward(x, p=0.5, training=False).out, x)
    seed_train = dropout_forward(x, mask, p=0.5, convention="scale_at_test").out
    seed_test = dropout_forward(x, p=0.5, training=False, convention="scale_at_test").out
    np.testing.assert_allclose(seed_train, [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_allclose(seed_test, [0.5, 1.0, 1.5, 2.0])  # x · (1 - p)


@pytest.mark.parametrize("convention", ["inverted", "scale_at_test"])
def test_dropout_training_output_averages_to_the_evaluation_output(convention):
    p = 0.3
    x = np.linspace(-1.0, 2.0, 6)
    masks = dropout_mask((20000, 6), p, seed=11)
    train = dropout_forward(np.broadcast_to(x, masks.shape), masks, p=p, convention=convention).out
    test = dropout_forward(x, p=p, training=False, convention=convention).out
    np.testing.assert_allclose(train.mean(axis=0), test, atol=0.03)


def test_dropout_mask_drops_with_probability_p_and_is_reproducible():
    m = dropout_mask((200, 100), 0.25, seed=3)
    assert set(np.unique(m)) == {0.0, 1.0}
    assert abs((m == 0).mean() - 0.25) < 0.01
    np.testing.assert_array_equal(m, dropout_mask((200, 100), 0.25, seed=3))
    assert not np.array_equal(m, dropout_mask((200, 100), 0.25, seed=4))
    np.testing.assert_array_equal(dropout_mask(7, 0.0, seed=0), np.ones(7))


@pytest.mark.parametrize("convention", ["inverted", "scale_at_test"])
@pytest.mark.parametrize("training", [True, False])
def test_dropout_backward_matches_finite_differences(convention, training):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4))
    mask = dropout_mask(x.shape, 0.4, seed=1)
    dout = rng.standard_normal(x.shape)

    def f(z):
        return dropout_forward(z, mask, p=0.4, training=training, convention=convention).out

    _, cache = dropout_forward(x, mask, p=0.4, training=training, convention=convention)
    assert relative_error(dropout_backward(dout, cache), numerical_gradient_array(f, x, dout)) < 1e-7


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: l1_penalty([1.0], -0.1), "lam: expected a number >= 0"),
        (lambda: l2_penalty([1.0], 0.1, half="yes"), "half: unknown value 'yes'"),
        (lambda: weight_decay_step([1.0], [1.0, 2.0], lr=0.1, weight_decay=0.1), "g: expected shape"),
        (lambda: weight_decay_step([1.0], [1.0], lr=0.1, weight_decay=0.1, form="adamw"), "form: unknown"),
        (lambda: weight_decay_step([1.0], [1.0], lr=-0.1, weight_decay=0.1), "lr: expected a number"),
        (lambda: dropout_forward([1.0], [1.0], p=1.0), r"p: expected a probability in \[0, 1\)"),
        (lambda: dropout_forward([1.0], [1.0], p=-0.1), "p: expected a probability"),
        (lambda: dropout_forward([1.0, 2.0], [1.0, 0.5]), "mask: expected only 0"),
        (lambda: dropout_forward([1.0, 2.0], [1.0]), r"mask: expected shape \(2,\)"),
        (lambda: dropout_forward([1.0, 2.0]), "mask: expected an array of 0s and 1s in training"),
        (lambda: dropout_forward([1.0], [1.0], convention="gaussian"), "convention: unknown"),
        (lambda: dropout_mask((2, -1), 0.5, seed=0), "shape: expected an integer >= 0"),
        (lambda: dropout_mask((2, 2), 0.5, seed=-1), "seed: expected an integer >= 0"),
    ],
)
def test_regularization_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_dropout_backward_rejects_wrong_dout_shape():
    _, cache = dropout_forward(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="dout: expected shape"):
        dropout_backward(np.ones(4), cache)


def test_max_norm_caps_each_row_like_torch_renorm():
    # worked by hand: row norms 5 and 1; the cap 2 scales the first row by 2/5 and keeps the second
    w = np.array([[3.0, 4.0], [0.6, 0.8]])
    got = max_norm(w, 2.0)
    np.testing.assert_allclose(got.norms, [5.0, 1.0])
    np.testing.assert_allclose(got.w, [[1.2, 1.6], [0.6, 0.8]], rtol=1e-7)
    assert got.scales[1] == 1.0 and got.scales[0] == pytest.approx(2 / (5 + 1e-7), rel=1e-15)
    np.testing.assert_allclose(max_norm(w, 2.0, mode="normalize_all").w, [[1.2, 1.6], [1.2, 1.6]], rtol=1e-6)
    np.testing.assert_allclose(max_norm(w, 2.0, mode="clip_entries").w, [[2.0, 2.0], [0.6, 0.8]])
    # dim=1 caps columns: norms sqrt(9.36) and sqrt(16.64)
    cols = max_norm(w, 2.0, dim=1)
    np.testing.assert_allclose(cols.norms, np.sqrt([9.36, 16.64]))
    np.testing.assert_allclose(np.sqrt((cols.w**2).sum(axis=0)), [2.0, 2.0], rtol=1e-6)
    with pytest.raises(ValueError, match="dim"):
        max_norm(w, 2.0, dim=2)
    with pytest.raises(ValueError, match="mode"):
        max_norm(w, 2.0, mode="cap")
