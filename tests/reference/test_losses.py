import math
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen.reference import losses as L
from quizgen.reference.activations import log_softmax, sigmoid, softmax
from quizgen.reference.gradcheck import numerical_gradient, relative_error

REDUCTIONS = ["mean", "sum", "none"]


def _check_grad(loss_of_input, x):
    """The returned grad against centred differences of sum(loss) (sum: the "none" case too)."""
    res = loss_of_input(x)
    assert res.grad.shape == np.shape(x)
    numeric = numerical_gradient(lambda z: np.sum(loss_of_input(z).loss), x)
    assert relative_error(res.grad, numeric) < 1e-7


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


# --- gradients against finite differences ----------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 2, 3)])
@pytest.mark.parametrize(
    "name, kwargs",
    [("mse", {}), ("mae", {}), ("half_squared_error", {}), ("huber", {}), ("huber", {"delta": 1.25})],
)
def test_regression_loss_gradients_match_finite_differences(name, kwargs, shape, reduction):
    rng = _rng(name, kwargs, shape, reduction)
    target = rng.normal(size=shape)
    # |p - t| kept in [0.1, 0.9] ∪ [1.6, 2.4], on both sides of huber's δ (1 or 1.25) and away
    # from the kinks of mae (0) and huber (δ)
    gap = rng.choice([-1, 1], size=shape) * (
        rng.choice([0.5, 2.0], size=shape) + rng.uniform(-0.4, 0.4, shape)
    )
    fn = getattr(L, name)
    _check_grad(lambda p: fn(p, target, reduction=reduction, **kwargs), target + gap)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6,), (3, 4)])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_gradient_matches_finite_differences(shape, reduction, weighted):
    rng = _rng("bce", shape, reduction, weighted)
    p = rng.uniform(0.05, 0.95, size=shape)
    t = rng.uniform(0, 1, size=shape)  # soft targets too
    w = rng.uniform(0.5, 2, size=shape[-1:]) if weighted else None
    _check_grad(lambda z: L.binary_cross_entropy(z, t, reduction=reduction, weight=w), p)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6,), (3, 4)])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_with_logits_gradient_matches_finite_differences(shape, reduction, weighted):
    rng = _rng("bcel", shape, reduction, weighted)
    x = rng.normal(0, 3, size=shape)
    t = (rng.uniform(size=shape) < 0.5).astype(float)
    kwargs = {"weight": rng.uniform(0.5, 2, size=shape), "pos_weight": rng.uniform(0.5, 3, size=shape[-1:])}
    kwargs = kwargs if weighted else {}
    _check_grad(lambda z: L.binary_cross_entropy_with_logits(z, t, reduction=reduction, **kwargs), x)


CE_CASES = [
    # shape of logits, target kind, label smoothing, class weights, ignore one entry
    ((4,), "index", 0.0, False, False),
    ((4,), "probs", 0.1, True, False),
    ((5, 3), "index", 0.0, False, False),
    ((5, 3), "index", 0.2, True, False),
    ((5, 3), "index", 0.1, True, True),
    ((5, 3), "probs", 0.0, False, False),
    ((5, 3), "probs", 0.3, True, False),
    ((2, 3, 4), "index", 0.1, True, True),
    ((2, 3, 4), "probs", 0.2, False, False),
]


def _ce_target(rng, shape, kind, ignore):
    axis = 0 if len(shape) == 1 else 1
    n_classes = shape[axis]
    if kind == "probs":
        return softmax(rng.normal(size=shape), axis=axis)
    idx = rng.integers(0, n_classes, size=shape[:axis] + shape[axis + 1 :])
    if ignore:
        idx.flat[0] = -100
    return idx


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, kind, eps, weighted, ignore", CE_CASES)
def test_softmax_cross_entropy_gradient_matches_finite_differences(
    shape, kind, eps, weighted, ignore, reduction
):
    rng = _rng("ce", shape, kind, eps, weighted, ignore, reduction)
    logits = rng.normal(0, 2, size=shape)
    target = _ce_target(rng, shape, kind, ignore)
    n_classes = shape[0 if len(shape) == 1 else 1]
    w = rng.uniform(0.5, 2, size=n_classes) if weighted else None
    _check_grad(
        lambda z: L.softmax_cross_entropy(z, target, reduction=reduction, label_smoothing=eps, weight=w),
        logits,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted", [((4,), False), ((5, 3), True), ((2, 3, 4), True)])
def test_nll_loss_gradient_matches_finite_differences(shape, weighted, reduction):
    rng = _rng("nll", shape, weighted, reduction)
    log_probs = np.log(softmax(rng.normal(size=shape), axis=0 if len(shape) == 1 else 1))
    target = _ce_target(rng, shape, "index", ignore=len(shape) > 1)
    w = rng.uniform(0.5, 2, size=shape[0 if len(shape) == 1 else 1]) if weighted else None
    _check_grad(lambda z: L.nll_loss(z, target, reduction=reduction, weight=w), log_probs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shape, kind", [((4,), "probs"), ((5, 3), "index"), ((5, 3), "probs"), ((2, 3, 2), "probs")]
)
def test_cross_entropy_probs_gradient_matches_finite_differences(shape, kind, reduction):
    rng = _rng("cep", shape, kind, reduction)
    probs = softmax(rng.normal(size=shape), axis=0 if len(shape) == 1 else 1)
    target = _ce_target(rng, shape, kind, ignore=False)
    _check_grad(lambda p: L.cross_entropy_probs(p, target, reduction=reduction), probs)
    _check_grad(lambda p: L.cross_entropy_probs(p, target, reduction=reduction, log_base=2), probs)


# --- hand-checked examples --------------------------------------------------------------------


def test_mse_mae_and_huber_by_hand():
    p, t = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.5])
    # d = (0, 2, 2.5): mse = (0 + 4 + 6.25)/3, grad 2d/3
    res = L.mse(p, t)
    assert res.loss == pytest.approx(10.25 / 3, rel=1e-15)
    np.testing.assert_allclose(res.grad, [0.0, 4 / 3, 5 / 3], rtol=1e-15)
    assert L.mse(p, t, reduction="sum").loss == 10.25
    np.testing.assert_array_equal(L.mse(p, t, reduction="none").loss, [0.0, 4.0, 6.25])
    # mae = (0 + 2 + 2.5)/3; sign(0) = 0 as PyTorch
    res = L.mae(p, t)
    assert res.loss == pytest.approx(1.5, rel=1e-15)
    np.testing.assert_allclose(res.grad, [0.0, 1 / 3, 1 / 3], rtol=1e-15)
    # huber δ = 1: (0, 1·(2 - ½), 1·(2.5 - ½)) = (0, 1.5, 2); grad clip(d, -1, 1)
    res = L.huber(p, t, reduction="none")
    np.testing.assert_array_equal(res.loss, [0.0, 1.5, 2.0])
    np.testing.assert_array_equal(res.grad, [0.0, 1.0, 1.0])
    assert L.huber([0.5], [0.0], delta=1.0).loss == 0.125  # ½ · 0.5²
    # δ = 2: d = 3 gives 2·(3 - 1) = 4 with grad δ = 2; d = -0.2 gives ½·0.04 = 0.02 with grad d
    res = L.huber([3.0, -0.2], [0.0, 0.0], delta=2.0, reduction="none")
    np.testing.assert_allclose(res.loss, [4.0, 0.02], rtol=1e-15)
    np.testing.assert_array_equal(res.grad, [2.0, -0.2])


def test_half_squared_error_reproduces_the_seed_backprop_example():
    # seed 004: E_total = ½(0.01 - 0.75136507)² + ½(0.99 - 0.772928465)² = 0.298371109
    # and ∂E/∂out_o1 = -(0.01 - 0.75136507) = 0.74136507
    res = L.half_squared_error([0.75136507, 0.772928465], [0.01, 0.99])
    assert res.loss == pytest.approx(0.298371109, abs=5e-10)
    np.testing.assert_allclose(res.grad, [0.74136507, -(0.99 - 0.772928465)], rtol=1e-15)
    # PyTorch's MSE of the same numbers: the mean of the squares, no ½
    assert L.mse([0.75136507, 0.772928465], [0.01, 0.99]).loss == pytest.approx(0.298371109, abs=5e-10)
    assert L.half_squared_error([3.0], [1.0], reduction="mean").loss == 2.0


def test_cross_entropy_probs_in_base_2_and_10_by_hand():
    # -log2 0.25 = 2 bits, -log10 0.01 = 2; the gradient -t / (p ln b)
    y = [0.0, 1.0, 0.0]
    r = L.cross_entropy_probs([0.5, 0.25, 0.25], y, log_base=2)
    assert r.loss == pytest.approx(2.0, rel=1e-15)
    np.testing.assert_allclose(r.grad, [0.0, -4.0 / math.log(2.0), 0.0], rtol=1e-15)
    assert L.cross_entropy_probs([0.98, 0.01, 0.01], y, log_base=10).loss == pytest.approx(2.0, rel=1e-15)
    with pytest.raises(ValueError, match="log_base"):
        L.cross_entropy_probs([0.5, 0.25, 0.25], y, log_base=1)


def test_cross_entropy_probs_reproduces_the_seed_example_with_zero_probabilities():
    # seed 004: y = (1,0,0,0,0); -ln 0.3 = 1.20397, -ln 0.4 = 0.91629 (the zeros of ŷ2 sit under
    # target zeros, so 0 · log 0 = 0)
    y = [1.0, 0.0, 0.0, 0.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r1 = L.cross_entropy_probs([0.3, 0.2, 0.2, 0.2, 0.1], y)
        r2 = L.cross_entropy_probs([0.4, 0.0, 0.1, 0.0, 0.5], y)
    assert r1.loss == pytest.approx(1.20397, abs=5e-6)
    assert r2.loss == pytest.approx(0.91629, abs=5e-6)
    np.testing.assert_allclose(r2.grad, [-2.5, 0, 0, 0, 0], rtol=1e-15)  # -t/p, 0 where t = 0
    assert L.cross_entropy_probs([0.4, 0.0, 0.1, 0.0, 0.5], 0).loss == r2.loss  # index target


def test_cross_entropy_probs_of_a_batch_is_the_mean_of_the_rows():
    probs = np.array([[0.3, 0.2, 0.2, 0.2, 0.1], [0.4, 0.0, 0.1, 0.0, 0.5]])
    res = L.cross_entropy_probs(probs, [0, 0])
    assert res.loss == pytest.approx((-math.log(0.3) - math.log(0.4)) / 2, rel=1e-15)
    assert L.cross_entropy_probs(probs, [0, 0], reduction="sum").loss == pytest.approx(
        -math.log(0.3) - math.log(0.4), rel=1e-15
    )


def test_cross_entropy_probs_is_infinite_when_the_true_class_has_probability_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = L.cross_entropy_probs([0.0, 1.0], [1.0, 0.0])
    assert res.loss == math.inf
    assert res.grad[0] == -math.inf and res.grad[1] == 0.0


def test_binary_cross_entropy_by_hand_and_as_the_seed_writes_it():
    # seed 001: C = -1/n Σ [y ln a + (1 - y) ln(1 - a)]; a = (0.8, 0.4), y = (1, 0):
    # (-ln 0.8 - ln 0.6)/2; grad (a - y)/(a(1 - a))/2 = (-0.2/0.16, 0.4/0.24)/2
    res = L.binary_cross_entropy([0.8, 0.4], [1.0, 0.0])
    assert res.loss == pytest.approx((-math.log(0.8) - math.log(0.6)) / 2, rel=1e-15)
    np.testing.assert_allclose(res.grad, [-0.625, 5 / 6], rtol=1e-14)
    # weights rescale each element; "mean" still divides by the number of elements
    res = L.binary_cross_entropy([0.8, 0.4], [1.0, 0.0], weight=[2.0, 0.0])
    assert res.loss == pytest.approx(-math.log(0.8), rel=1e-15)


def test_binary_cross_entropy_clamps_each_log_at_minus_100():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = L.binary_cross_entropy([0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0], reduction="none")
    np.testing.assert_array_equal(res.loss, [100.0, 100.0, 0.0, 0.0])
    # PyTorch's backward divides by max(p(1 - p), EPSILON), EPSILON the float32 1e-12 =
    # 9.999999960041972e-13: 1/EPSILON = 1e12 (1 + 3.9958e-9) = 1000000003995.8029 (not 1e12)
    assert float(np.float32(1e-12)) == 9.999999960041972e-13
    np.testing.assert_array_equal(res.grad, [-1000000003995.8029, 1000000003995.8029, 0.0, 0.0])
    assert L.binary_cross_entropy([0.0, 1.0], [1.0, 0.0]).loss == 100.0


def test_binary_cross_entropy_gradient_at_0_and_1_is_pytorchs_to_the_last_bit():
    eps = 9.999999960041972e-13  # float(torch.float32(1e-12)) widened to float64
    # "mean" divides by n after the weight (grad_input.mul_(weight); grad_input.div_(numel))
    res = L.binary_cross_entropy([0.0, 1.0, 1.0], [1.0, 0.0, 0.25], weight=[3.0, 0.5, 2.0])
    np.testing.assert_array_equal(
        res.grad, [(-1.0 / eps) * 3.0 / 3.0, (1.0 / eps) * 0.5 / 3.0, (0.75 / eps) * 2.0 / 3.0]
    )
    assert res.grad[0] == -1000000003995.8029
    # the forward: (t - 1) max(log1p(-p), -100) - t max(log p, -100), then times w
    assert res.loss == (100.0 * 3.0 + 100.0 * 0.5 + 75.0 * 2.0) / 3.0
    # a p strictly inside (0, 1) is far above the clamp: grad (p - t)/(p (1 - p)) as before
    assert L.binary_cross_entropy([0.5], [1.0], reduction="sum").grad[0] == -2.0


def test_bce_with_logits_equals_bce_on_sigmoid_and_is_stable_at_1e4():
    rng = np.random.default_rng(3)
    x, t = rng.normal(0, 2, size=8), rng.uniform(size=8)
    a, b = L.binary_cross_entropy_with_logits(x, t), L.binary_cross_entropy(sigmoid(x), t)
    assert a.loss == pytest.approx(b.loss, rel=1e-13)
    # chain rule: dL/dx = dL/dp · σ'(x) = (σ(x) - t)/n
    np.testing.assert_allclose(a.grad, (sigmoid(x) - t) / 8, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(b.grad * sigmoid(x) * (1 - sigmoid(x)), a.grad, rtol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = L.binary_cross_entropy_with_logits(
            [1e4, -1e4, 1e4, -1e4], [0.0, 1.0, 1.0, 0.0], reduction="none"
        )
    np.testing.assert_array_equal(res.loss, [1e4, 1e4, 0.0, 0.0])
    np.testing.assert_array_equal(res.grad, [1.0, -1.0, 0.0, 0.0])


def test_bce_with_logits_uses_exact_softplus_below_minus_20():
    # x = -25, t = 1: ℓ = -log σ(-25) = 25 + log1p(e⁻²⁵) = 25 + 1.389e-11 (no linear cut-off at 20)
    assert L.binary_cross_entropy_with_logits([-25.0], [1.0]).loss == pytest.approx(
        25.0 + math.log1p(math.exp(-25.0)), rel=1e-15
    )


def test_bce_with_logits_pos_weight_by_hand():
    # x = 0, t = 1, c = 3: ℓ = c · softplus(0) = 3 ln 2; grad (1 + 2·1)·½ - 3 = -1.5
    res = L.binary_cross_entropy_with_logits([0.0], [1.0], pos_weight=3.0)
    assert res.loss == pytest.approx(3 * math.log(2), rel=1e-15)
    np.testing.assert_allclose(res.grad, [-1.5], rtol=1e-15)
    # pos_weight leaves negatives alone: x = 0, t = 0 gives ln 2 whatever c is
    assert L.binary_cross_entropy_with_logits([0.0], [0.0], pos_weight=3.0).loss == pytest.approx(math.log(2))


def test_softmax_cross_entropy_equals_cross_entropy_of_its_softmax():
    rng = np.random.default_rng(11)
    logits = rng.normal(0, 2, size=(6, 4))
    labels = rng.integers(0, 4, size=6)
    dense = softmax(rng.normal(size=(6, 4)))
    for target in (labels, dense):
        ce = L.softmax_cross_entropy(logits, target)
        assert ce.loss == pytest.approx(L.cross_entropy_probs(softmax(logits), target).loss, rel=1e-13)
    # dlogits = (softmax - onehot)/N
    np.testing.assert_allclose(
        L.softmax_cross_entropy(logits, labels).grad,
        (softmax(logits) - np.eye(4)[labels]) / 6,
        rtol=1e-12,
        atol=1e-17,
    )


def test_softmax_cross_entropy_of_one_sample_and_of_integral_float_labels():
    # logits (3, 1, -3), label 0: -log(e³/(e³ + e + e⁻³)) = ln(1 + e⁻² + e⁻⁶) = ln 1.1378143 = 0.1291089;
    # one sample, so no batch division
    res = L.softmax_cross_entropy([3.0, 1.0, -3.0], 0)
    assert res.loss == pytest.approx(-math.log(softmax([3.0, 1.0, -3.0])[0]), rel=1e-14)
    assert res.loss == pytest.approx(0.1291089, abs=1e-7)
    assert L.softmax_cross_entropy([[3.0, 1.0, -3.0]], [0.0]).loss == res.loss


def test_label_smoothing_by_hand_spreads_epsilon_over_all_classes():
    # logits (0, 0, ln 4): p = (1/6, 1/6, 4/6); label 2, ε = 0.3: q = 0.7·onehot + 0.1 = (0.1, 0.1, 0.8)
    # loss = -(0.1 ln(1/6) + 0.1 ln(1/6) + 0.8 ln(2/3)) = 0.2·1.7917595 + 0.8·0.4054651 = 0.6827240
    # dlogits = p - q = (1/15, 1/15, -2/15)
    logits = [0.0, 0.0, math.log(4.0)]
    res = L.softmax_cross_entropy(logits, 2, label_smoothing=0.3)
    assert res.loss == pytest.approx(0.2 * math.log(6) + 0.8 * math.log(1.5), rel=1e-14)
    assert res.loss == pytest.approx(0.682724, abs=1e-6)
    np.testing.assert_allclose(res.grad, [1 / 15, 1 / 15, -2 / 15], rtol=1e-13)
    # the same smoothing of a one-hot probability target
    assert L.softmax_cross_entropy(logits, [0.0, 0.0, 1.0], label_smoothing=0.3).loss == pytest.approx(
        res.loss
    )
    # forgetting the smoothing is the bank's mistake: -ln(2/3)
    assert L.softmax_cross_entropy(logits, 2).loss == pytest.approx(math.log(1.5), rel=1e-14)


def test_class_weights_divide_the_mean_by_the_target_weights_for_indices_only():
    # all-zero logits: every -log p = ln 2; targets (0, 1), weight (1, 3): losses (ln 2, 3 ln 2)
    # "mean" for indices: (1·ln 2 + 3·ln 2) / (1 + 3) = ln 2, not 4 ln 2 / 2
    logits = np.zeros((2, 2))
    weighted = L.softmax_cross_entropy(logits, [0, 1], weight=[1.0, 3.0])
    assert weighted.loss == pytest.approx(math.log(2))
    assert L.softmax_cross_entropy(logits, [0, 1], weight=[1.0, 3.0], reduction="sum").loss == pytest.approx(
        4 * math.log(2)
    )
    # probability targets: PyTorch divides by N = 2, not by the weights
    assert L.softmax_cross_entropy(logits, np.eye(2), weight=[1.0, 3.0]).loss == pytest.approx(
        2 * math.log(2)
    )
    assert L.nll_loss(np.log(np.full((2, 2), 0.5)), [0, 1], weight=[1.0, 3.0]).loss == pytest.approx(
        math.log(2)
    )


def test_ignored_targets_add_nothing_and_leave_the_mean_denominator():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0], [9.0, -9.0, 0.0]])
    full = L.softmax_cross_entropy(logits[:2], [0, 2], reduction="none")
    res = L.softmax_cross_entropy(logits, [0, 2, -100], label_smoothing=0.1)
    expected = L.softmax_cross_entropy(logits[:2], [0, 2], label_smoothing=0.1)
    assert res.loss == pytest.approx(expected.loss, rel=1e-15)
    np.testing.assert_array_equal(res.grad[2], 0.0)
    np.testing.assert_allclose(res.grad[:2], expected.grad, rtol=1e-15)
    assert L.softmax_cross_entropy(logits, [0, 2, 1], ignore_index=1, reduction="none").loss[2] == 0.0
    assert full.loss.shape == (2,)


def test_softmax_cross_entropy_is_stable_at_1e4():
    # log softmax(1e4, -1e4, 0)_1 = -1e4 - 1e4 - log(1 + e^-2e4 + e^-1e4) = -2e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = L.softmax_cross_entropy([[1e4, -1e4, 0.0]], [1])
        dense = L.softmax_cross_entropy([[1e4, -1e4, 0.0]], [[0.0, 1.0, 0.0]], label_smoothing=0.5)
    assert res.loss == 2e4
    np.testing.assert_array_equal(res.grad, [[1.0, -1.0, 0.0]])
    assert np.isfinite(dense.loss)


def test_unreduced_losses_have_the_per_sample_shape():
    logits = np.zeros((2, 3, 4))  # (N, C, d1)
    assert L.softmax_cross_entropy(logits, np.zeros((2, 4), dtype=int), reduction="none").loss.shape == (2, 4)
    assert L.binary_cross_entropy(np.full((2, 3), 0.5), np.ones((2, 3)), reduction="none").loss.shape == (
        2,
        3,
    )
    assert isinstance(L.mse([1.0], [2.0]).loss, float)


# --- bad arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: L.mse([1.0, 2.0, 3.0], [1.0, 2.0]), r"target: expected shape \(3,\), got \(2,\)"),
        (lambda: L.mae(np.zeros((2, 3)), np.zeros((3, 2))), "target: expected shape"),
        (lambda: L.binary_cross_entropy([0.5], [1.0, 0.0]), "target: expected shape"),
        (
            lambda: L.mse([1.0], [1.0], reduction="avg"),
            r"reduction: unknown value 'avg'.*'mean', 'sum', 'none'",
        ),
        (lambda: L.softmax_cross_entropy([[1.0, 2.0]], [0], reduction="Mean"), "reduction: unknown value"),
        (
            lambda: L.softmax_cross_entropy([[1.0, 2.0, 3.0]], [3]),
            r"target: expected class indices in \[0, 3\).*got 3",
        ),
        (lambda: L.softmax_cross_entropy([[1.0, 2.0, 3.0]], [-1]), r"class indices in \[0, 3\).*got -1"),
        (lambda: L.nll_loss(np.zeros((2, 3)), [0, 5]), r"class indices in \[0, 3\)"),
        (lambda: L.cross_entropy_probs([0.5, 0.5], -100), r"class indices in \[0, 2\), got -100"),
        (lambda: L.softmax_cross_entropy([[1.0, 2.0]], [0.5]), "target: expected integer class indices"),
        (
            lambda: L.softmax_cross_entropy(np.zeros((2, 3)), [0, 1, 2]),
            r"expected class indices of shape \(2,\)",
        ),
        (lambda: L.softmax_cross_entropy(3.0, 0), "logits: expected shape"),
        (
            lambda: L.softmax_cross_entropy([1.0, 2.0], 0, label_smoothing=1.5),
            "label_smoothing: expected a probability",
        ),
        (
            lambda: L.softmax_cross_entropy([1.0, 2.0], 0, weight=[1.0, 2.0, 3.0]),
            r"weight: expected shape \(2,\)",
        ),
        (lambda: L.binary_cross_entropy([1.5], [1.0]), r"probs: expected every entry in \[0, 1\]"),
        (lambda: L.binary_cross_entropy([0.5], [2.0]), r"target: expected every entry in \[0, 1\]"),
        (
            lambda: L.binary_cross_entropy([0.5, 0.5], [1.0, 0.0], weight=[1.0, 2.0, 3.0]),
            "weight: expected an array",
        ),
        (
            lambda: L.binary_cross_entropy_with_logits([0.5], [1.0], pos_weight=[1.0, 2.0]),
            "pos_weight: expected",
        ),
        (lambda: L.cross_entropy_probs([-0.5, 1.5], 0), r"probs: expected every entry in \[0, 1\]"),
        (lambda: L.huber([1.0], [0.0], delta=0.0), "delta: expected a number > 0"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@st.composite
def _logits_and_indices(draw):
    """Logits (C,), (N, C) or (N, C, d) and in-range class indices (some may equal -100)."""
    c = draw(st.integers(1, 4))
    lead = draw(st.sampled_from([(), (2,), (3,)]))
    trail = draw(st.sampled_from([(), (2,)])) if lead else ()
    shape = (*lead, c, *trail)
    logits = np.array(
        draw(st.lists(st.floats(-30, 30), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    )
    target_shape = (*lead, *trail)
    size = int(np.prod(target_shape))
    labels = draw(st.lists(st.integers(0, c - 1) | st.just(-100), min_size=size, max_size=size))
    return logits.reshape(shape), np.array(labels, dtype=np.int64).reshape(target_shape)


@settings(max_examples=300, deadline=None)
@given(
    case=_logits_and_indices(),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    label_smoothing=st.sampled_from([0.0, 0.1, 1.0]),
    ignore_index=st.sampled_from([-100, 0, None]),
)
def test_index_targets_without_weights_or_ignored_entries_equal_unit_weights_bit_for_bit(
    same_outcome, case, reduction, label_smoothing, ignore_index
):
    """weight=None with nothing ignored skips the products by w = 1 and by the keep mask; unit
    weights take the general path."""
    logits, target = case
    kwargs = {"reduction": reduction, "ignore_index": ignore_index}
    ones = np.ones(logits.shape[0 if logits.ndim == 1 else 1])
    same_outcome(
        lambda: L.softmax_cross_entropy(logits, target, label_smoothing=label_smoothing, **kwargs),
        lambda: L.softmax_cross_entropy(
            logits, target, label_smoothing=label_smoothing, weight=ones, **kwargs
        ),
    )
    log_probs = log_softmax(logits, axis=0 if logits.ndim == 1 else 1)
    same_outcome(
        lambda: L.nll_loss(log_probs, target, **kwargs),
        lambda: L.nll_loss(log_probs, target, weight=ones, **kwargs),
    )


def test_class_weighted_mean_divides_by_the_sum_of_the_targets_weights():
    # hand-checked: per-sample losses logsumexp(z_i) - z_i[y_i] = 0.40761, 0.23954, 0.68026
    z = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0], [0.5, 0.0, 1.0]])
    y = np.array([0, 1, 2])
    w = np.array([1.0, 2.0, 3.0])
    weighted_sum = 0.40761 + 2 * 0.23954 + 3 * 0.68026  # 2.92747
    res = L.softmax_cross_entropy(z, y, weight=w)
    assert res.loss == pytest.approx(weighted_sum / 6, abs=2e-5)  # Σ w_{y_i} = 1 + 2 + 3
    slip = L.softmax_cross_entropy(z, y, weight=w, weighted_mean="count")
    assert slip.loss == pytest.approx(weighted_sum / 3, abs=2e-5)
    np.testing.assert_allclose(slip.grad, 2 * res.grad)
    # an ignored entry leaves both the sum and the divisor: class 2 ignored leaves (w0 l0 + w1 l1) / 3
    ignored = L.softmax_cross_entropy(z, y, weight=w, ignore_index=2)
    assert ignored.loss == pytest.approx((0.40761 + 2 * 0.23954) / 3, abs=2e-5)
    assert not ignored.grad[2].any()
    assert L.softmax_cross_entropy(z, y, weight=w, ignore_index=2, weighted_mean="count").loss == (
        pytest.approx((0.40761 + 2 * 0.23954) / 2, abs=2e-5)
    )
    lp = np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    assert L.nll_loss(lp, y, weight=w, weighted_mean="count").loss == pytest.approx(slip.loss)
    # every target ignored: PyTorch's mean is 0/0 = NaN, and its backward leaves the gradient 0
    empty = L.softmax_cross_entropy(z, np.zeros(3, dtype=np.int64), weight=w, ignore_index=0)
    assert np.isnan(empty.loss) and not empty.grad.any()
    with pytest.raises(ValueError, match="weighted_mean"):
        L.nll_loss(lp, y, weight=w, weighted_mean="samples")


def test_kl_div_takes_log_probabilities_and_batchmean_divides_by_the_batch():
    from quizgen.reference.gradcheck import numerical_gradient

    p = np.array([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5]])
    q = np.array([[0.25, 0.5, 0.25], [0.5, 0.25, 0.25]])
    # KL(p0 ‖ q0) = 0.5 ln 2 (the zero of p adds nothing); KL(p1 ‖ q1) = 0.25 ln 0.5 + 0.5 ln 2 = 0.25 ln 2
    res = L.kl_div(np.log(q), p, reduction="batchmean")
    assert res.loss == pytest.approx(0.75 * np.log(2) / 2)
    assert L.kl_div(np.log(q), p).loss == pytest.approx(0.75 * np.log(2) / 6)  # 'mean': / (N · C)
    assert L.kl_div(np.log(q), p, reduction="sum").loss == pytest.approx(0.75 * np.log(2))
    np.testing.assert_allclose(res.grad, -p / 2)
    # log_target=True takes ln p instead (p > 0 here: PyTorch's e^t (t - x) is NaN at t = -inf)
    np.testing.assert_allclose(
        L.kl_div(np.log(q[1]), np.log(p[1]), reduction="none", log_target=True).loss,
        L.kl_div(np.log(q[1]), p[1], reduction="none").loss,
    )
    x = np.log(q)
    num = numerical_gradient(lambda z: L.kl_div(z, p, reduction="batchmean").loss, x)
    np.testing.assert_allclose(res.grad, num, atol=1e-8)
    with pytest.raises(ValueError, match="batchmean"):
        L.kl_div(x, p, reduction="batch")
