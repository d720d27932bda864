import math

import numpy as np
import pytest

from quizgen.reference import rnn
from quizgen.reference.gradcheck import numerical_gradient, numerical_gradient_array, relative_error
from quizgen.reference.rnn import (
    gru_cell_backward,
    gru_cell_step,
    lstm_cell_backward,
    lstm_cell_step,
    rnn_cell_backward,
    rnn_cell_step,
    rnn_param_count,
)

GATES = {"rnn": 1, "gru": 3, "lstm": 4}
# (N or None for unbatched, input_size, hidden_size, with biases)
CASES = [(3, 4, 5, True), (1, 2, 3, True), (None, 3, 2, True), (2, 3, 4, False)]


def _params(rng, cell, n, in_size, hidden, bias):
    g = GATES[cell]
    x_shape = (in_size,) if n is None else (n, in_size)
    h_shape = (hidden,) if n is None else (n, hidden)
    p = {
        "x": rng.standard_normal(x_shape),
        "h": rng.standard_normal(h_shape),
        "w_ih": 0.7 * rng.standard_normal((g * hidden, in_size)),
        "w_hh": 0.7 * rng.standard_normal((g * hidden, hidden)),
        "b_ih": rng.standard_normal(g * hidden) if bias else None,
        "b_hh": rng.standard_normal(g * hidden) if bias else None,
    }
    if cell == "lstm":
        p["c"] = rng.standard_normal(h_shape)
    return p


def _check_grads(loss, analytic: dict, params: dict):
    """Each analytic gradient against centred differences of the scalar ``loss(**params)``."""
    for name, grad in analytic.items():
        if params[name] is None:
            assert grad is None
            continue

        def f(z, name=name):
            return loss(**{**params, name: z})

        assert relative_error(grad, numerical_gradient(f, params[name])) < 1e-7, name


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("n, in_size, hidden, bias", CASES)
def test_rnn_cell_backward_matches_finite_differences(n, in_size, hidden, bias, nonlinearity):
    rng = np.random.default_rng(in_size * 10 + hidden)
    p = _params(rng, "rnn", n, in_size, hidden, bias)
    dout = rng.standard_normal(p["h"].shape)

    def loss(**q):
        return float(np.sum(rnn_cell_step(**q, nonlinearity=nonlinearity).h * dout))

    step = rnn_cell_step(**p, nonlinearity=nonlinearity)
    grads = rnn_cell_backward(dout, step.cache)
    names = ["x", "h", "w_ih", "w_hh", "b_ih", "b_hh"]
    _check_grads(loss, dict(zip(names, grads, strict=True)), p)


@pytest.mark.parametrize("n, in_size, hidden, bias", CASES)
def test_lstm_cell_backward_matches_finite_differences(n, in_size, hidden, bias):
    rng = np.random.default_rng(100 + in_size * 10 + hidden)
    p = _params(rng, "lstm", n, in_size, hidden, bias)
    dh, dc = rng.standard_normal(p["h"].shape), rng.standard_normal(p["h"].shape)

    def loss(**q):
        step = lstm_cell_step(**q)
        return float(np.sum(step.h * dh) + np.sum(step.c * dc))

    grads = lstm_cell_backward(dh, dc, lstm_cell_step(**p).cache)
    names = ["x", "h", "c", "w_ih", "w_hh", "b_ih", "b_hh"]
    _check_grads(loss, dict(zip(names, grads, strict=True)), p)


def test_lstm_cell_backward_with_only_dh_treats_dc_as_zero():
    rng = np.random.default_rng(7)
    p = _params(rng, "lstm", 2, 3, 2, True)
    dh = rng.standard_normal((2, 2))
    cache = lstm_cell_step(**p).cache
    a = lstm_cell_backward(dh, None, cache)
    b = lstm_cell_backward(dh, np.zeros((2, 2)), cache)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert (
        relative_error(
            a.dx, numerical_gradient(lambda z: float(np.sum(lstm_cell_step(**{**p, "x": z}).h * dh)), p["x"])
        )
        < 1e-7
    )


@pytest.mark.parametrize("update_form", ["pytorch", "textbook"])
@pytest.mark.parametrize("n, in_size, hidden, bias", CASES)
def test_gru_cell_backward_matches_finite_differences(n, in_size, hidden, bias, update_form):
    rng = np.random.default_rng(200 + in_size * 10 + hidden)
    p = _params(rng, "gru", n, in_size, hidden, bias)
    dout = rng.standard_normal(p["h"].shape)

    def loss(**q):
        return float(np.sum(gru_cell_step(**q, update_form=update_form).h * dout))

    grads = gru_cell_backward(dout, gru_cell_step(**p, update_form=update_form).cache)
    names = ["x", "h", "w_ih", "w_hh", "b_ih", "b_hh"]
    _check_grads(loss, dict(zip(names, grads, strict=True)), p)


def test_rnn_cell_hand_example():
    # a = 2·1 + 0.1 + (-1)·0.5 + 0.2 = 1.8
    args = ([1.0], [0.5], [[2.0]], [[-1.0]], [0.1], [0.2])
    assert rnn_cell_step(*args).h == pytest.approx([math.tanh(1.8)])
    assert rnn_cell_step(*args, nonlinearity="relu").h == pytest.approx([1.8])
    neg = ([-1.0], [0.5], [[2.0]], [[-1.0]], [0.1], [0.2])  # a = -2.2
    assert rnn_cell_step(*neg, nonlinearity="relu").h == pytest.approx([0.0])


def test_lstm_cell_hand_example_with_zero_weights():
    # Zero weights: gates come from the biases only. b_ih + b_hh = [0, ln 3, 1, 0] for i, f, g, o:
    # i = 0.5, f = σ(ln 3) = 0.75, g = tanh(1), o = 0.5; c = 2 -> c' = 1.5 + 0.5 tanh(1),
    # h' = 0.5 tanh(c').
    b_ih = np.array([0.0, math.log(3.0), 0.5, 0.0])
    b_hh = np.array([0.0, 0.0, 0.5, 0.0])
    step = lstm_cell_step([7.0], [3.0], [2.0], np.zeros((4, 1)), np.zeros((4, 1)), b_ih, b_hh)
    c_next = 1.5 + 0.5 * math.tanh(1.0)
    gates = np.concatenate([step.i, step.f, step.g, step.o])
    np.testing.assert_allclose(gates, [0.5, 0.75, math.tanh(1.0), 0.5], rtol=1e-15)
    assert step.c == pytest.approx([c_next])
    assert step.h == pytest.approx([0.5 * math.tanh(c_next)])


def test_gru_cell_hand_example_and_textbook_update_mistake():
    # z = σ(ln 3) = 0.75, r = 0.5, n = tanh(1·x) with x = 1, h = 2:
    # PyTorch h' = 0.25 tanh(1) + 0.75·2; textbook h' = 0.75 tanh(1) + 0.25·2.
    w_ih = np.array([[0.0], [0.0], [1.0]])
    b_ih = np.array([0.0, math.log(3.0), 0.0])
    args = ([1.0], [2.0], w_ih, np.zeros((3, 1)), b_ih, np.zeros(3))
    step = gru_cell_step(*args)
    np.testing.assert_allclose(
        np.concatenate([step.r, step.z, step.n]), [0.5, 0.75, math.tanh(1.0)], rtol=1e-15
    )
    assert step.h == pytest.approx([0.25 * math.tanh(1.0) + 1.5])
    assert gru_cell_step(*args, update_form="textbook").h == pytest.approx([0.75 * math.tanh(1.0) + 0.5])


def test_gru_reset_gate_multiplies_the_hidden_bias_of_the_candidate_as_pytorch():
    # r = σ(0) = 0.5 and b_hn = 1: n = tanh(b_in + r·(W_hn h + b_hn)) = tanh(0.5), not tanh(1).
    b_hh = np.array([0.0, 0.0, 1.0])
    step = gru_cell_step([0.0], [0.0], np.zeros((3, 1)), np.zeros((3, 1)), np.zeros(3), b_hh)
    assert step.n == pytest.approx([math.tanh(0.5)])


def test_gru_reset_before_the_matmul_is_the_cho_form_by_hand():
    # r = σ(0) = 0.5, b_hn = 1, W_hn = 2, h = 1: PyTorch n = tanh(0.5·(2 + 1)) = tanh(1.5);
    # reset before the matmul n = tanh(2·(0.5·1) + 1) = tanh(2).
    w_hh = np.array([[0.0], [0.0], [2.0]])
    b_hh = np.array([0.0, 0.0, 1.0])
    args = ([0.0], [1.0], np.zeros((3, 1)), w_hh, np.zeros(3), b_hh)
    assert gru_cell_step(*args).n == pytest.approx([math.tanh(1.5)])
    before = gru_cell_step(*args, reset_before_matmul=True)
    assert before.n == pytest.approx([math.tanh(2.0)])
    assert before.h == pytest.approx([0.5 * math.tanh(2.0) + 0.5])  # z = 0.5


def test_gru_reset_before_the_matmul_matches_an_explicit_formula_for_several_units():
    rng = np.random.default_rng(5)
    p = _params(rng, "gru", 2, 3, 4, True)
    step = gru_cell_step(**p, reset_before_matmul=True)
    hid = 4
    gi = p["x"] @ p["w_ih"].T + p["b_ih"]
    gh = p["h"] @ p["w_hh"].T + p["b_hh"]
    r = 1.0 / (1.0 + np.exp(-(gi[:, :hid] + gh[:, :hid])))
    n = np.tanh(gi[:, 2 * hid :] + (r * p["h"]) @ p["w_hh"][2 * hid :].T + p["b_hh"][2 * hid :])
    np.testing.assert_allclose(step.n, n, rtol=1e-13)
    with pytest.raises(ValueError, match="reset_before_matmul"):
        gru_cell_backward(np.ones((2, 4)), step.cache)


def test_note_003_lstm_equations_are_pytorchs_cell_with_renamed_weights():
    rng = np.random.default_rng(11)
    p = _params(rng, "lstm", 2, 3, 4, True)
    hidden = 4
    ours = lstm_cell_step(**p)

    def block(k):  # note 003's W (recurrent), U (input), b (one bias) for PyTorch's block k
        rows = slice(k * hidden, (k + 1) * hidden)
        return p["w_hh"][rows], p["w_ih"][rows], p["b_ih"][rows] + p["b_hh"][rows]

    def sig(v):
        return 1.0 / (1.0 + np.exp(-v))

    (W_i, U_i, b_i), (W_f, U_f, b_f), (W_c, U_c, b_c), (W_o, U_o, b_o) = (block(k) for k in range(4))
    h, x, c = p["h"], p["x"], p["c"]
    f_t = sig(h @ W_f.T + x @ U_f.T + b_f)
    i_t = sig(h @ W_i.T + x @ U_i.T + b_i)
    o_t = sig(h @ W_o.T + x @ U_o.T + b_o)
    c_t = f_t * c + i_t * np.tanh(h @ W_c.T + x @ U_c.T + b_c)
    h_t = o_t * np.tanh(c_t)
    np.testing.assert_allclose(ours.c, c_t, rtol=1e-13)
    np.testing.assert_allclose(ours.h, h_t, rtol=1e-13)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_unbatched_step_equals_batch_of_one_and_missing_state_is_zeros(cell):
    rng = np.random.default_rng(12)
    p = _params(rng, cell, 1, 3, 2, True)
    step = {"rnn": rnn_cell_step, "gru": gru_cell_step, "lstm": lstm_cell_step}[cell]
    batched = step(**p)
    unbatched = step(**{k: (v[0] if k in ("x", "h", "c") else v) for k, v in p.items()})
    assert unbatched.h.shape == (2,)
    np.testing.assert_allclose(unbatched.h, batched.h[0], rtol=1e-15)
    no_state = {k: (None if k in ("h", "c") else v) for k, v in p.items()}
    zeros = {k: (np.zeros((1, 2)) if k in ("h", "c") else v) for k, v in p.items()}
    np.testing.assert_array_equal(step(**no_state).h, step(**zeros).h)


def test_cells_are_stable_for_large_inputs():
    rng = np.random.default_rng(13)
    for cell, step in (("rnn", rnn_cell_step), ("gru", gru_cell_step), ("lstm", lstm_cell_step)):
        p = _params(rng, cell, 2, 3, 2, True)
        p["x"] = 1e4 * p["x"]
        out = step(**p)
        assert np.all(np.isfinite(out.h)) and np.all(np.abs(out.h) <= 1e4)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(input_size=10, hidden_size=20), 2560),  # 4·(20·10 + 20·20 + 20 + 20)
        (dict(input_size=10, hidden_size=20, bias=False), 2400),  # 4·(200 + 400)
        (dict(input_size=10, hidden_size=20, bias_form="single"), 2480),  # 4·(200 + 400 + 20)
        (dict(input_size=10, hidden_size=20, cell="gru"), 1920),  # 3·(200 + 400 + 40)
        (dict(input_size=10, hidden_size=20, cell="rnn"), 640),  # 200 + 400 + 40
        (dict(input_size=10, hidden_size=20, num_layers=2), 5920),  # 2560 + 4·(400 + 400 + 40)
        (dict(input_size=10, hidden_size=20, bidirectional=True), 5120),
        # layer 1 of a bidirectional LSTM reads 2·20 inputs: 2·4·(20·40 + 400 + 40) = 9920
        (dict(input_size=10, hidden_size=20, num_layers=2, bidirectional=True), 5120 + 9920),
    ],
)
def test_rnn_param_count_matches_pytorch(kwargs, expected):
    assert rnn_param_count(**kwargs) == expected


def test_param_count_agrees_with_the_weight_shapes_the_cells_accept():
    rng = np.random.default_rng(14)
    for cell, step in (("rnn", rnn_cell_step), ("gru", gru_cell_step), ("lstm", lstm_cell_step)):
        p = _params(rng, cell, 2, 5, 3, True)
        step(**p)  # accepted
        n_weights = sum(p[k].size for k in ("w_ih", "w_hh", "b_ih", "b_hh"))
        assert rnn_param_count(5, 3, cell=cell) == n_weights


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(w_hh=np.zeros((4, 3))), r"w_hh: expected shape \(3, 3\)"),  # H from its columns
        (dict(w_ih=np.zeros((3, 3))), r"w_ih: expected shape \(4, '\*'\)"),
        (dict(w_ih=np.zeros(4)), "w_ih: expected 2 dimensions"),
        (dict(x=np.zeros((2, 5))), r"x: expected shape \('\*', 3\)"),
        (dict(x=np.zeros((1, 2, 3))), "x: expected shape"),
        (dict(h=np.zeros((3, 4))), r"h: expected shape \(2, 4\)"),
        (dict(h=np.zeros(4)), r"h: expected shape \(2, 4\)"),
        (dict(b_hh=np.zeros(3)), r"b_hh: expected shape \(4,\)"),
    ],
)
def test_rnn_cell_rejects_bad_shapes(change, message):
    args = dict(
        x=np.zeros((2, 3)),
        h=np.zeros((2, 4)),
        w_ih=np.zeros((4, 3)),
        w_hh=np.zeros((4, 4)),
        b_ih=np.zeros(4),
        b_hh=np.zeros(4),
    )
    args.update(change)
    with pytest.raises(ValueError, match=message):
        rnn_cell_step(**args)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: lstm_cell_step(np.zeros(2), None, None, np.zeros((3, 2)), np.zeros((3, 3)), None, None),
            r"w_hh: expected shape \(12, 3\)",
        ),
        (
            lambda: lstm_cell_step(
                np.zeros(2), None, np.zeros(2), np.zeros((4, 2)), np.zeros((4, 1)), None, None
            ),
            r"c: expected shape \(1,\)",
        ),
        (
            lambda: gru_cell_step(np.zeros(2), None, np.zeros((4, 2)), np.zeros((4, 1)), None, None),
            r"w_hh: expected shape \(3, 1\)",
        ),
        (
            lambda: rnn_cell_step([1.0], None, [[1.0]], [[1.0]], None, None, nonlinearity="sigmoid"),
            "nonlinearity: unknown value 'sigmoid'",
        ),
        (
            lambda: gru_cell_step(
                [1.0], None, np.ones((3, 1)), np.ones((3, 1)), None, None, update_form="cho"
            ),
            "update_form: unknown value 'cho'",
        ),
        (lambda: rnn_param_count(10, 20, cell="transformer"), "cell: unknown value"),
        (lambda: rnn_param_count(10, 20, bias_form="none"), "bias_form: unknown value"),
        (lambda: rnn_param_count(10, 20, num_layers=0), "num_layers: expected an integer >= 1"),
        (lambda: rnn_param_count(0, 20), "input_size: expected an integer >= 1"),
        (lambda: rnn_param_count(10, 20.0), "hidden_size: expected an integer >= 1"),
    ],
)
def test_rnn_module_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_backward_rejects_wrong_upstream_shape():
    step = rnn_cell_step(np.zeros((2, 3)), None, np.zeros((4, 3)), np.zeros((4, 4)), None, None)
    with pytest.raises(ValueError, match=r"dh_next: expected shape \(2, 4\)"):
        rnn_cell_backward(np.zeros((4, 2)), step.cache)
    lstm = lstm_cell_step(np.zeros(3), None, None, np.zeros((8, 3)), np.zeros((8, 2)), None, None)
    with pytest.raises(ValueError, match=r"dc_next: expected shape \(2,\)"):
        lstm_cell_backward(np.zeros(2), np.zeros(3), lstm.cache)


# --- LSTM with a projection (nn.LSTM(..., proj_size=P)) ---------------------------------------


def _proj_params(rng, n, in_size, hidden, proj, bias):
    state_shape = (proj,) if n is None else (n, proj)
    cell_shape = (hidden,) if n is None else (n, hidden)
    return {
        "x": rng.standard_normal((in_size,) if n is None else (n, in_size)),
        "h": rng.standard_normal(state_shape),
        "c": rng.standard_normal(cell_shape),
        "w_ih": 0.7 * rng.standard_normal((4 * hidden, in_size)),
        "w_hh": 0.7 * rng.standard_normal((4 * hidden, proj)),
        "b_ih": rng.standard_normal(4 * hidden) if bias else None,
        "b_hh": rng.standard_normal(4 * hidden) if bias else None,
        "w_hr": 0.7 * rng.standard_normal((proj, hidden)),
    }


def test_lstm_projection_hand_example_with_zero_weights():
    # H = 2, P = 1, zero w_ih and w_hh: gates from the biases, blocks i, f, g, o of 2 rows each:
    # i = 0.5, f = σ(ln 3) = 0.75, g = (tanh 1, 0), o = 0.5; c = (2, 4) -> c' = (1.5 + 0.5 tanh 1, 3);
    # h' = W_hr (o tanh c') with W_hr = [[2, -1]]: tanh(c'_0) - 0.5 tanh 3, a state of size P = 1.
    b_ih = np.array([0.0, 0.0, math.log(3.0), math.log(3.0), 1.0, 0.0, 0.0, 0.0])
    w_hr = np.array([[2.0, -1.0]])
    step = lstm_cell_step([7.0], [3.0], [2.0, 4.0], np.zeros((8, 1)), np.zeros((8, 1)), b_ih, None, w_hr=w_hr)
    c0 = 1.5 + 0.5 * math.tanh(1.0)
    np.testing.assert_allclose(step.c, [c0, 3.0], rtol=1e-15)
    assert step.h.shape == (1,)
    assert step.h == pytest.approx([math.tanh(c0) - 0.5 * math.tanh(3.0)], rel=1e-14)


@pytest.mark.parametrize(
    "n, in_size, hidden, proj, bias", [(3, 4, 5, 2, True), (None, 3, 3, 1, True), (2, 2, 4, 3, False)]
)
def test_lstm_projection_backward_matches_finite_differences(n, in_size, hidden, proj, bias):
    rng = np.random.default_rng(200 + in_size * 10 + hidden)
    p = _proj_params(rng, n, in_size, hidden, proj, bias)
    step = lstm_cell_step(**p)
    assert step.h.shape == p["h"].shape and step.c.shape == p["c"].shape
    dh, dc = rng.standard_normal(step.h.shape), rng.standard_normal(step.c.shape)

    def loss(**q):
        s = lstm_cell_step(**q)
        return float(np.sum(s.h * dh) + np.sum(s.c * dc))

    grads = lstm_cell_backward(dh, dc, step.cache)
    assert grads.dw_hr.shape == (proj, hidden) and grads.dh.shape == p["h"].shape
    names = ["x", "h", "c", "w_ih", "w_hh", "b_ih", "b_hh", "w_hr"]
    _check_grads(loss, dict(zip(names, grads, strict=True)), p)


def test_lstm_projection_by_the_identity_rows_is_the_first_p_units_of_the_plain_cell():
    # W_hr = [I_P 0] keeps the first P entries of o·tanh(c'): the plain cell's h' cut to P
    rng = np.random.default_rng(21)
    p = _proj_params(rng, 2, 3, 4, 2, True)
    p["w_hr"] = np.eye(2, 4)
    plain = {**{k: v for k, v in p.items() if k != "w_hr"}, "h": None, "w_hh": np.zeros((16, 4))}
    proj = {**p, "h": None}
    np.testing.assert_array_equal(lstm_cell_step(**proj).h, lstm_cell_step(**plain).h[:, :2])


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(input_size=10, hidden_size=20, proj_size=5), 1460),  # 4·20·(10 + 5) + 2·80 + 5·20
        (dict(input_size=10, hidden_size=20, proj_size=5, bias=False), 1300),
        # layer 1 reads the projected 5: 4·20·(5 + 5) + 160 + 100 = 1060
        (dict(input_size=10, hidden_size=20, proj_size=5, num_layers=2), 1460 + 1060),
        # bidirectional: layer 1 reads 2·5 = 10 inputs: 2·(4·20·(10 + 5) + 160 + 100) = 2920
        (dict(input_size=10, hidden_size=20, proj_size=5, num_layers=2, bidirectional=True), 2 * 1460 + 2920),
        (dict(input_size=10, hidden_size=20, proj_size=0), 2560),  # 0: no projection
    ],
)
def test_rnn_param_count_with_proj_size_matches_pytorch(kwargs, expected):
    assert rnn_param_count(**kwargs) == expected


def test_proj_param_count_agrees_with_the_weight_shapes_the_step_accepts():
    p = _proj_params(np.random.default_rng(22), 2, 5, 4, 3, True)
    lstm_cell_step(**p)  # accepted
    assert rnn_param_count(5, 4, proj_size=3) == sum(
        p[k].size for k in ("w_ih", "w_hh", "b_ih", "b_hh", "w_hr")
    )


def test_projection_arguments_are_checked_like_pytorch():
    p = _proj_params(np.random.default_rng(23), 2, 3, 4, 2, True)
    with pytest.raises(ValueError, match="0 < proj_size < hidden_size"):
        lstm_cell_step(**{**p, "w_hr": np.zeros((4, 4)), "w_hh": np.zeros((16, 4)), "h": None})
    with pytest.raises(ValueError, match=r"w_hh: expected shape \(4 \* 4, 2\)"):
        lstm_cell_step(**{**p, "w_hh": np.zeros((16, 4))})
    with pytest.raises(ValueError, match=r"c: expected shape \(2, 4\)"):
        lstm_cell_step(**{**p, "c": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"dc_next: expected shape \(2, 4\)"):
        lstm_cell_backward(np.zeros((2, 2)), np.zeros((2, 2)), lstm_cell_step(**p).cache)
    with pytest.raises(ValueError, match="proj_size: supported for cell='lstm' only"):
        rnn_param_count(3, 4, cell="gru", proj_size=2)
    with pytest.raises(ValueError, match="proj_size: expected fewer than hidden_size=4"):
        rnn_param_count(3, 4, proj_size=4)


# --- sequences: output shapes and backpropagation through time ----------------------------------


def test_rnn_output_shapes_batch_first_bidirectional_and_projection():
    got = rnn.rnn_output_shapes(7, 3, 20, num_layers=2, bidirectional=True, batch_first=True)
    assert got == ((3, 7, 40), (4, 3, 20), (4, 3, 20))
    assert rnn.rnn_output_shapes(7, 3, 20, cell="gru") == ((7, 3, 20), (1, 3, 20), None)
    proj = rnn.rnn_output_shapes(5, 2, 8, bidirectional=True, proj_size=3)
    assert proj == ((5, 2, 6), (2, 2, 3), (2, 2, 8))
    wrong = rnn.rnn_output_shapes(7, 3, 20, num_layers=2, batch_first=True, h_n_layout="batch_first")
    assert wrong.h_n == (3, 2, 20)
    with pytest.raises(ValueError, match="proj_size"):
        rnn.rnn_output_shapes(5, 2, 8, cell="gru", proj_size=3)


def _scalar_rnn(w, u, b):
    return {"w_ih": [[u]], "w_hh": [[w]], "b_ih": [b], "b_hh": [0.0]}


def test_bptt_two_scalar_steps_by_hand():
    # h1 = tanh(w h0 + u x1 + b), h2 = tanh(w h1 + u x2 + b), L = 2 h2
    w, u, b, h0, x1, x2 = 0.5, -1.0, 0.25, 1.0, 0.5, 2.0
    p = _scalar_rnn(w, u, b)
    seq = rnn.rnn_sequence_forward([[x1], [x2]], [h0], **p)
    h1 = np.tanh(w * h0 + u * x1 + b)
    h2 = np.tanh(w * h1 + u * x2 + b)
    np.testing.assert_allclose(seq.hs[:, 0], [h1, h2])
    d2 = 2.0 * (1 - h2**2)  # dL/da2
    d1 = d2 * w * (1 - h1**2)  # dL/da1 through h1
    grads = rnn.rnn_sequence_backward([[0.0], [2.0]], seq)
    np.testing.assert_allclose(grads.dw_hh, [[d2 * h1 + d1 * h0]])
    np.testing.assert_allclose(grads.dw_ih, [[d2 * x2 + d1 * x1]])
    np.testing.assert_allclose(grads.dhs[:, 0], [d2 * w, 2.0])
    np.testing.assert_allclose(grads.dh0, [d1 * w])
    np.testing.assert_allclose(grads.das[:, 0], [d1, d2])
    short = rnn.rnn_sequence_backward([[0.0], [2.0]], seq, truncate=1)
    np.testing.assert_allclose(short.dw_hh, [[d2 * h1]])
    no_act = rnn.rnn_sequence_backward([[0.0], [2.0]], seq, activation_derivative=False)
    np.testing.assert_allclose(no_act.dw_hh, [[2.0 * h1 + 2.0 * w * h0]])


def test_bptt_matches_centred_differences_for_a_batch():
    rng = np.random.default_rng(11)
    T, N, I, H = 3, 2, 2, 3
    xs, h0 = rng.normal(size=(T, N, I)), rng.normal(size=(N, H))
    p = {
        "w_ih": rng.normal(size=(H, I)),
        "w_hh": rng.normal(size=(H, H)),
        "b_ih": rng.normal(size=H),
        "b_hh": rng.normal(size=H),
    }
    dhs = rng.normal(size=(T, N, H))
    grads = rnn.rnn_sequence_backward(dhs, rnn.rnn_sequence_forward(xs, h0, **p))

    def run(**change):
        args = {"xs": xs, "h0": h0, **p, **change}
        return rnn.rnn_sequence_forward(args.pop("xs"), args.pop("h0"), **args).hs

    for name, got in (
        ("w_hh", grads.dw_hh),
        ("w_ih", grads.dw_ih),
        ("b_ih", grads.db_ih),
        ("b_hh", grads.db_hh),
    ):
        num = numerical_gradient_array(lambda v, name=name: run(**{name: v}), p[name], dhs)
        assert relative_error(got, num) < 1e-7, name
    assert relative_error(grads.dxs, numerical_gradient_array(lambda v: run(xs=v), xs, dhs)) < 1e-7
    assert relative_error(grads.dh0, numerical_gradient_array(lambda v: run(h0=v), h0, dhs)) < 1e-7
