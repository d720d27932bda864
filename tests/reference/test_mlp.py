import itertools

import numpy as np
import pytest

from quizgen.reference import registry
from quizgen.reference.activations import softmax
from quizgen.reference.gradcheck import numerical_gradient, numerical_gradient_array, relative_error
from quizgen.reference.mlp import (
    LOSSES,
    dense_backward,
    dense_forward,
    gd_step,
    mlp_backprop,
    mlp_backward,
    mlp_forward,
    train_step,
)


def close_to_printed(value: float, printed: str) -> bool:
    """``value`` rounds to the digits a course note printed (half a unit in the last place)."""
    decimals = len(printed.split(".")[1])
    return abs(value - float(printed)) <= 0.5 * 10.0**-decimals


# ----------------------------------------------------------------------- seed 004's 2-2-2 network
# i1, i2 = 0.05, 0.10; hidden w1..w4 = 0.15, 0.20, 0.25, 0.30 with net_h1 = w1 i1 + w2 i2 + b1 and
# net_h2 = w3 i1 + w4 i2 + b1, so W1 = [[w1, w2], [w3, w4]] in nn.Linear's (out, in) layout; output
# W2 = [[w5, w6], [w7, w8]] = [[0.40, 0.45], [0.50, 0.55]]; the bias is shared within a layer
# (b1 = 0.35, b2 = 0.60); targets 0.01, 0.99; sigmoid everywhere; E = Σ ½(t - o)²; lr 0.5.

SEED_W = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
SEED_B = [[0.35, 0.35], [0.60, 0.60]]


@pytest.fixture(scope="module")
def seed004():
    return train_step([0.05, 0.10], [0.01, 0.99], SEED_W, SEED_B, activations="sigmoid", lr=0.5)


def test_seed_004_forward_pass_reproduces_the_printed_values(seed004):
    fwd = seed004.forward
    # net_h1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.0075 + 0.02 + 0.35 = 0.3775; out_h1 = 1/(1 + e^-0.3775)
    assert close_to_printed(fwd.net_inputs[0][0], "0.3775")
    assert close_to_printed(fwd.outputs[0][0], "0.593269992")
    assert close_to_printed(fwd.outputs[0][1], "0.596884378")
    assert close_to_printed(fwd.output[0], "0.75136507")
    assert close_to_printed(fwd.output[1], "0.772928465")


def test_seed_004_total_error_reproduces_the_printed_values(seed004):
    # E_o1 = ½(0.01 - 0.75136507)² = 0.274811083; E_o2 = ½(0.99 - 0.772928465)² = 0.023560026
    assert close_to_printed(seed004.backward.loss, "0.298371109")
    per_output = mlp_backward(seed004.forward, [0.01, 0.99], reduction="none").loss
    assert close_to_printed(per_output[0], "0.274811083")
    assert close_to_printed(per_output[1], "0.023560026")


def test_seed_004_chain_rule_factors_for_w5(seed004):
    bwd = seed004.backward
    # dE/dout_o1 = -(0.01 - 0.75136507) = 0.74136507
    assert close_to_printed(bwd.doutput[0], "0.74136507")
    # dout_o1/dnet_o1 = out_o1 (1 - out_o1) = 0.75136507 * 0.24863493 = 0.186815602
    assert close_to_printed(bwd.activation_grads[1][0], "0.186815602")
    # dnet_o1/dw5 = out_h1 = 0.593269992; dE/dw5 = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041
    assert close_to_printed(bwd.dweights[1][0, 0], "0.082167041")
    assert bwd.deltas[1][0] == pytest.approx(bwd.doutput[0] * bwd.activation_grads[1][0], rel=1e-15)


def test_seed_004_hidden_layer_from_the_output_layers_gradient(seed004):
    # The hidden layer's step of the 2-2-2 example (the notes stop at w5; these are the classic
    # worked example's values): dE/dout_h1 = δ_o1 w5 + δ_o2 w7 with the OLD w5, w7 = 0.036350306,
    # dE/dw1 = 0.036350306 * out_h1 (1 - out_h1) * i1 = 0.000438568, w1 <- 0.149780716.
    fwd = seed004.forward
    hidden = mlp_forward([0.05, 0.10], [SEED_W[0]], [SEED_B[0]], "sigmoid")
    dh = dense_backward(seed004.backward.deltas[1], fwd.caches[1]).dx
    assert close_to_printed(dh[0], "0.036350306")
    bwd = mlp_backprop(hidden, dh)
    assert bwd.loss is None
    np.testing.assert_allclose(bwd.dweights[0], seed004.backward.dweights[0], rtol=1e-13)
    assert close_to_printed(bwd.dweights[0][0, 0], "0.000438568")
    assert close_to_printed(seed004.weights[0][0, 0], "0.149780716")
    assert close_to_printed(seed004.weights[0][1, 1], "0.29950229")
    # the mistake keyword: h'(z) left out, so dE/dW1 = dE/dout_h xᵀ
    skipped = mlp_backprop(hidden, dh, activation_derivative=False)
    np.testing.assert_allclose(skipped.dweights[0], np.outer(dh, [0.05, 0.10]), rtol=1e-13)


def test_mlp_backprop_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match="doutput"):
        mlp_backprop(mlp_forward([1.0, 2.0], [SEED_W[0]], [SEED_B[0]], "sigmoid"), [1.0, 2.0, 3.0])


def test_seed_004_prints_the_wrong_number_in_the_sigmoid_derivative_but_the_right_result():
    # The note writes "0.75136507 * (1 - 0.74136507) = 0.186815602": 0.74136507 is dE/dout_o1, not
    # out_o1. Evaluated as printed the expression is 0.75136507 * 0.25863493 = 0.1878413 + 0.0064880 = 0.1943293, so only
    # the printed result, out_o1 (1 - out_o1), is right.
    as_printed = 0.75136507 * (1 - 0.74136507)
    as_meant = 0.75136507 * (1 - 0.75136507)
    assert not close_to_printed(as_printed, "0.186815602")
    assert as_printed == pytest.approx(0.1943293, abs=1e-7)
    assert close_to_printed(as_meant, "0.186815602")


def test_seed_004_gradient_descent_updates(seed004):
    # w5 = 0.4 - 0.5 * 0.082167041 = 0.35891648; w1 uses the ORIGINAL w5..w8: 0.149780716
    assert close_to_printed(seed004.weights[1][0, 0], "0.35891648")
    assert close_to_printed(seed004.weights[0][0, 0], "0.149780716")


# ----------------------------------------------------------------------------- the dense layer


@pytest.mark.parametrize("x_shape", [(4,), (3, 4)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_dense_backward_matches_finite_differences(x_shape, with_bias):
    rng = np.random.default_rng(10)
    x, w = rng.normal(size=x_shape), rng.normal(size=(5, 4))
    b = rng.normal(size=5) if with_bias else None
    out, cache = dense_forward(x, w, b)
    dout = rng.normal(size=out.shape)
    dx, dw, db = dense_backward(dout, cache)
    assert relative_error(dx, numerical_gradient_array(lambda v: dense_forward(v, w, b).out, x, dout)) < 1e-7
    assert relative_error(dw, numerical_gradient_array(lambda v: dense_forward(x, v, b).out, w, dout)) < 1e-7
    if with_bias:
        assert (
            relative_error(db, numerical_gradient_array(lambda v: dense_forward(x, w, v).out, b, dout)) < 1e-7
        )
    else:
        assert db is None


def test_dense_forward_is_nn_linear_layout():
    # w (out=2, in=3): out_j = Σ_i w[j, i] x_i + b_j: [1*1 + 2*0 + 3*(-1) + 0.5, 4*1 + 5*0 + 6*(-1) - 1]
    out = dense_forward([1.0, 0.0, -1.0], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [0.5, -1.0]).out
    np.testing.assert_allclose(out, [-1.5, -3.0])


# ------------------------------------------------------------------ backprop by finite differences

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu", "swish", "gelu", "gelu_tanh"]


def random_network(rng, sizes, hidden, last):
    weights = [rng.normal(size=(o, i)) for i, o in itertools.pairwise(sizes)]
    biases = [rng.normal(size=o) for o in sizes[1:]]
    acts = [hidden[k % len(hidden)] for k in range(len(sizes) - 2)] + [last]
    return weights, biases, acts


def target_for(loss, rng, out_shape):
    n_classes = out_shape[-1]
    return {
        "half_squared_error": lambda: rng.normal(size=out_shape),
        "mse": lambda: rng.normal(size=out_shape),
        "huber": lambda: 3.0 * rng.normal(size=out_shape),
        "binary_cross_entropy": lambda: rng.uniform(size=out_shape),
        "binary_cross_entropy_with_logits": lambda: rng.uniform(size=out_shape),
        "cross_entropy_probs": lambda: rng.dirichlet(np.ones(n_classes), size=out_shape[:-1] or None),
        "softmax_cross_entropy": lambda: rng.integers(0, n_classes, size=out_shape[:-1]),
    }[loss]()


CASES = [
    # (loss, last activation, reduction, layer sizes, batch)
    ("half_squared_error", "sigmoid", None, [3, 4, 2], None),
    ("half_squared_error", "identity", "mean", [2, 5, 3, 3], 4),
    ("mse", "tanh", None, [4, 3, 2], 5),
    ("huber", "identity", "sum", [3, 6, 5, 2], 3),
    ("binary_cross_entropy", "sigmoid", None, [3, 4, 3], 4),
    ("binary_cross_entropy_with_logits", "identity", "sum", [2, 3, 4, 1], 6),
    ("cross_entropy_probs", "sigmoid", None, [3, 5, 4], None),
    ("softmax_cross_entropy", "identity", None, [4, 6, 3], 5),
    ("softmax_cross_entropy", "identity", "sum", [3, 4, 5, 4], None),
]


@pytest.mark.parametrize("loss, last, reduction, sizes, batch", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_backward_matches_finite_differences(loss, last, reduction, sizes, batch, seed):
    rng = np.random.default_rng(100 + seed)
    hidden = HIDDEN[seed * 3 :] + HIDDEN[: seed * 3]
    weights, biases, acts = random_network(rng, sizes, hidden, last)
    x = rng.normal(size=(sizes[0],) if batch is None else (batch, sizes[0]))
    target = target_for(loss, rng, (*x.shape[:-1], sizes[-1]))
    kw = dict(loss=loss, reduction=reduction)
    bwd = mlp_backward(mlp_forward(x, weights, biases, acts), target, **kw)

    def energy(x=x, weights=weights, biases=biases):
        return float(mlp_backward(mlp_forward(x, weights, biases, acts), target, **kw).loss)

    for l in range(len(weights)):
        num_w = numerical_gradient(
            lambda w, l=l: energy(weights=[*weights[:l], w, *weights[l + 1 :]]), weights[l]
        )
        num_b = numerical_gradient(
            lambda b, l=l: energy(biases=[*biases[:l], b, *biases[l + 1 :]]), biases[l]
        )
        assert relative_error(bwd.dweights[l], num_w) < 1e-7, f"dweights[{l}]"
        assert relative_error(bwd.dbiases[l], num_b) < 1e-7, f"dbiases[{l}]"
    assert relative_error(bwd.dinput, numerical_gradient(lambda v: energy(x=v), x)) < 1e-7


def test_deltas_are_the_gradients_with_respect_to_the_net_inputs():
    rng = np.random.default_rng(7)
    weights, biases, acts = random_network(rng, [3, 4, 2], ["tanh"], "sigmoid")
    x, target = rng.normal(size=3), rng.uniform(size=2)
    fwd = mlp_forward(x, weights, biases, acts)
    bwd = mlp_backward(fwd, target)

    def energy_from_hidden_net_input(z):  # E as a function of z_0, running the rest of the network
        a = np.tanh(z)
        return float(mlp_backward(mlp_forward(a, weights[1:], biases[1:], acts[1:]), target).loss)

    assert (
        relative_error(bwd.deltas[0], numerical_gradient(energy_from_hidden_net_input, fwd.net_inputs[0]))
        < 1e-7
    )


def test_softmax_cross_entropy_delta_is_softmax_minus_onehot():
    rng = np.random.default_rng(8)
    weights, biases, acts = random_network(rng, [3, 4, 3], ["relu"], "identity")
    x, y = rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])
    fwd = mlp_forward(x, weights, biases, acts)
    summed = mlp_backward(fwd, y, loss="softmax_cross_entropy", reduction="sum")
    mean = mlp_backward(fwd, y, loss="softmax_cross_entropy")
    np.testing.assert_allclose(summed.deltas[-1], softmax(fwd.output) - np.eye(3)[y], atol=1e-15)
    np.testing.assert_allclose(mean.deltas[-1], summed.deltas[-1] / 5, atol=1e-15)


def test_batch_gradient_with_sum_is_the_sum_of_per_sample_gradients():
    rng = np.random.default_rng(9)
    weights, biases, acts = random_network(rng, [2, 3, 2], ["elu"], "sigmoid")
    x, t = rng.normal(size=(4, 2)), rng.uniform(size=(4, 2))
    batch = mlp_backward(mlp_forward(x, weights, biases, acts), t, reduction="sum")
    singles = [mlp_backward(mlp_forward(x[i], weights, biases, acts), t[i]) for i in range(4)]
    for l in range(2):
        np.testing.assert_allclose(batch.dweights[l], sum(s.dweights[l] for s in singles), rtol=1e-12)
        np.testing.assert_allclose(batch.dbiases[l], sum(s.dbiases[l] for s in singles), rtol=1e-12)
    assert batch.loss == pytest.approx(sum(s.loss for s in singles))


def test_network_without_biases():
    rng = np.random.default_rng(11)
    weights = [rng.normal(size=(3, 2)), rng.normal(size=(1, 3))]
    bwd = mlp_backward(mlp_forward([0.5, -1.0], weights, None, ["tanh", "identity"]), [0.2])
    assert bwd.dbiases == [None, None]
    new = gd_step(weights, None, bwd.dweights, bwd.dbiases, lr=0.1)
    np.testing.assert_allclose(new.weights[0], weights[0] - 0.1 * bwd.dweights[0])
    assert new.biases == [None, None]


def test_train_step_lowers_the_loss_and_leaves_its_inputs_alone():
    rng = np.random.default_rng(12)
    weights, biases, acts = random_network(rng, [3, 5, 2], ["sigmoid"], "identity")
    saved = [w.copy() for w in weights]
    x, t = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    step = train_step(x, t, weights, biases, activations=acts, loss="mse", lr=0.05)
    after = mlp_backward(mlp_forward(x, step.weights, step.biases, acts), t, loss="mse").loss
    assert after < step.backward.loss
    for w, s in zip(weights, saved, strict=True):
        np.testing.assert_array_equal(w, s)


def test_large_inputs_raise_no_overflow_warnings():
    weights = [np.full((2, 2), 100.0), np.full((2, 2), -100.0)]
    for loss, last in [("binary_cross_entropy", "sigmoid"), ("softmax_cross_entropy", "identity")]:
        target = [1.0, 0.0] if loss == "binary_cross_entropy" else 1
        bwd = mlp_backward(mlp_forward([100.0, -50.0], weights, None, ["sigmoid", last]), target, loss=loss)
        assert np.isfinite(bwd.loss)


def test_mlp_functions_are_reachable_from_templates():
    assert registry.resolve("mlp.train_step") is train_step
    assert set(LOSSES) >= {"half_squared_error", "mse", "binary_cross_entropy", "softmax_cross_entropy"}


# ---------------------------------------------------------------------------------- bad arguments

W2 = [np.ones((3, 2)), np.ones((1, 3))]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: dense_forward([1.0, 2.0, 3.0], np.ones((2, 2))), r"x: expected shape \(2,\), got \(3,\)"),
        (lambda: dense_forward(np.ones((2, 2)), np.ones((3, 2)), [1.0]), r"b: expected shape \(3,\)"),
        (
            lambda: dense_forward(np.ones((1, 1, 2)), np.ones((3, 2))),
            r"x: expected shape \(N, in\) or \(in,\)",
        ),
        (lambda: dense_forward([1.0], [1.0]), "w: expected 2 dimensions"),
        (
            lambda: dense_backward(np.ones(2), dense_forward([1.0, 2.0], np.ones((3, 2))).cache),
            r"dout: expected shape \(3,\)",
        ),
        (lambda: mlp_forward([1.0, 2.0], [np.ones((3, 2)), np.ones((1, 2))], None, "relu"), r"layer 1\.x"),
        (lambda: mlp_forward([1.0, 2.0], W2, None, ["relu"]), "activations: expected 2 names"),
        (
            lambda: mlp_forward([1.0, 2.0], W2, None, ["relu", "softmax"]),
            "activation: unknown value 'softmax'",
        ),
        (lambda: mlp_forward([1.0, 2.0], W2, [np.ones(3)], "relu"), "biases: expected 2"),
        (lambda: mlp_forward([1.0, 2.0], [], None, "relu"), "weights: expected a non-empty list"),
        (
            lambda: mlp_backward(mlp_forward([1.0, 2.0], W2, None, "relu"), 0, loss="softmax_cross_entropy"),
            "activations: softmax_cross_entropy takes logits, so the last layer's activation must be 'identity'",
        ),
        (
            lambda: mlp_backward(mlp_forward([1.0, 2.0], W2, None, "relu"), [0.0], loss="l2"),
            "loss: unknown value",
        ),
        (
            lambda: mlp_backward(mlp_forward([1.0, 2.0], W2, None, "relu"), [0.0], reduction="avg"),
            "reduction: unknown value 'avg'",
        ),
        (lambda: mlp_backward("forward", [0.0]), "forward: expected the MLPForward"),
        (lambda: gd_step(W2, None, [np.ones((3, 2))], None, lr=0.1), "dweights: expected 2"),
        (lambda: gd_step(W2, None, W2, None, lr=-0.1), "lr: expected a number >= 0"),
        (lambda: gd_step(W2, [np.ones(3), None], W2, None, lr=0.1), "dbiases: expected a gradient"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_linear_param_count_by_hand_and_as_the_arrays_dense_forward_takes():
    from quizgen.reference.mlp import linear_param_count

    # nn.Linear(4, 3): weight (3, 4) + bias (3,) = 15; the notes' 4-3-4 network: 15 + 16 = 31
    assert linear_param_count(4, 3) == 15
    assert linear_param_count(4, 3, bias=False) == 12
    assert linear_param_count(4, 3) + linear_param_count(3, 4) == 31
    for fan_in, fan_out in itertools.product([1, 2, 7], [1, 5]):
        w, b = np.zeros((fan_out, fan_in)), np.zeros(fan_out)
        dense_forward(np.zeros(fan_in), w, b)  # the shapes nn.Linear stores
        assert linear_param_count(fan_in, fan_out) == w.size + b.size
    assert registry.resolve("mlp.linear_param_count") is linear_param_count
    with pytest.raises(ValueError, match="in_features: expected an integer >= 1"):
        linear_param_count(0, 3)
    with pytest.raises(ValueError, match="bias: unknown value 'yes'"):
        linear_param_count(2, 3, bias="yes")
