import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen.reference import optim
from quizgen.reference.optim import (
    AdagradState,
    AdamState,
    RMSpropState,
    SGDState,
    adagrad_step,
    adam_step,
    adamw_step,
    rmsprop_step,
    run_optimizer,
    sgd_gradient_point,
    sgd_step,
)


def two_steps(step, g1=2.0, g2=1.0, p=1.0, **hyper):
    """Parameters after one and after two steps from p with the given gradients."""
    first = step(p, g1, None, **hyper)
    second = step(first.param, g2, first.state, **hyper)
    return float(first.param), float(second.param), second


def quadratic_grad(a):
    """Gradient of f(x) = sum(a x²) / 2, a diagonal quadratic bowl."""
    return lambda x: a * x


# ---------------------------------------------------------------------------------------------- SGD


def test_sgd_momentum_hand_example_has_no_dampening_on_the_first_step():
    # lr 0.1, mu 0.9, p0 = 1, g1 = 2, g2 = 1.
    # step 1: b = g1 = 2 (copied, no dampening); p = 1 - 0.1*2 = 0.8
    # step 2: b = 0.9*2 + 1 = 2.8; p = 0.8 - 0.1*2.8 = 0.52
    p1, p2, r = two_steps(sgd_step, lr=0.1, momentum=0.9)
    assert (p1, p2) == pytest.approx((0.8, 0.52), abs=1e-15)
    assert float(r.state.momentum_buffer) == pytest.approx(2.8)
    assert r.state.step == 2


def test_sgd_dampening_applies_from_the_second_step_only():
    # dampening 0.5: step 1 b = 2 (p = 0.8); step 2 b = 0.9*2 + 0.5*1 = 2.3; p = 0.8 - 0.23 = 0.57
    p1, p2, _ = two_steps(sgd_step, lr=0.1, momentum=0.9, dampening=0.5)
    assert (p1, p2) == pytest.approx((0.8, 0.57), abs=1e-15)


def test_sgd_nesterov_hand_example():
    # step 1: b = 2; d = g + mu b = 2 + 1.8 = 3.8; p = 1 - 0.38 = 0.62
    # step 2: b = 0.9*2 + 1 = 2.8; d = 1 + 0.9*2.8 = 3.52; p = 0.62 - 0.352 = 0.268
    p1, p2, _ = two_steps(sgd_step, lr=0.1, momentum=0.9, nesterov=True)
    assert (p1, p2) == pytest.approx((0.62, 0.268), abs=1e-15)


def test_sgd_weight_decay_and_maximize_follow_pytorch_order():
    # maximize negates g first, then wd adds 0.1*p: g' = -2 + 0.1*1 = -1.9; p = 1 + 0.19 = 1.19
    r = sgd_step(1.0, 2.0, None, lr=0.1, weight_decay=0.1, maximize=True)
    assert float(r.param) == pytest.approx(1.19)
    assert float(r.update) == pytest.approx(0.19)


def test_sgd_defaults_are_pytorchs():
    r = sgd_step(np.array([1.0, -1.0]), np.array([1.0, 1.0]))  # lr = 1e-3, no momentum
    np.testing.assert_allclose(r.param, [0.999, -1.001])
    assert r.state.momentum_buffer is None  # PyTorch keeps no buffer without momentum


@pytest.mark.parametrize("nesterov", [False, True])
def test_pytorch_and_classic_forms_agree_at_constant_lr(nesterov):
    rng = np.random.default_rng(0)
    p0, a = rng.normal(size=5), rng.uniform(0.5, 2.0, size=5)
    kw = dict(lr=0.05, momentum=0.9, nesterov=nesterov, weight_decay=0.01, steps=8)
    pt = run_optimizer("sgd", p0, quadratic_grad(a), momentum_form="pytorch", **kw)
    cl = run_optimizer("sgd", p0, quadratic_grad(a), momentum_form="classic", **kw)
    for x, y in zip(pt.params, cl.params, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
    for s_pt, s_cl in zip(pt.states, cl.states, strict=True):  # v_classic = -lr * b_pytorch
        np.testing.assert_allclose(s_cl.momentum_buffer, -0.05 * s_pt.momentum_buffer, rtol=1e-12)


def test_pytorch_and_classic_forms_differ_when_the_lr_changes():
    p0, a = np.array([1.0, -2.0]), np.array([1.0, 3.0])
    lrs = [0.1, 0.05, 0.025]
    pt = run_optimizer("sgd", p0, quadratic_grad(a), steps=3, lrs=lrs, momentum=0.9)
    cl = run_optimizer("sgd", p0, quadratic_grad(a), steps=3, lrs=lrs, momentum=0.9, momentum_form="classic")
    np.testing.assert_allclose(pt.params[1], cl.params[1])  # the first step has no history
    # step 2 by hand, first coordinate: p1 = 0.9, g2 = 0.9.
    # pytorch: b = 0.9*1 + 0.9 = 1.8; p2 = 0.9 - 0.05*1.8 = 0.81
    # classic: v = 0.9*(-0.1) - 0.05*0.9 = -0.135; p2 = 0.9 - 0.135 = 0.765
    assert pt.params[2][0] == pytest.approx(0.81)
    assert cl.params[2][0] == pytest.approx(0.765)


def test_sutskever_lookahead_points_are_pytorchs_nesterov_parameters():
    # With phi = theta + mu v, Sutskever's NAG becomes phi <- phi - lr g(phi) + mu v_new: PyTorch's form.
    rng = np.random.default_rng(1)
    p0, a = rng.normal(size=4), rng.uniform(0.5, 2.0, size=4)
    kw = dict(lr=0.1, momentum=0.8, nesterov=True, steps=6)
    pt = run_optimizer("sgd", p0, quadratic_grad(a), **kw)
    su = run_optimizer("sgd", p0, quadratic_grad(a), momentum_form="sutskever", **kw)
    for k in range(1, 7):
        lookahead = su.params[k] + 0.8 * su.states[k - 1].momentum_buffer
        np.testing.assert_allclose(pt.params[k], lookahead, rtol=1e-12)
    # and the gradients were taken at the look-ahead points, not at the parameters
    np.testing.assert_allclose(su.grads[1], a * (su.params[1] + 0.8 * su.states[0].momentum_buffer))
    assert not np.allclose(su.params[1:], pt.params[1:])


def test_sgd_gradient_point_is_the_lookahead_only_for_sutskever_nesterov():
    state = SGDState(step=1, momentum_buffer=[-0.2])
    np.testing.assert_allclose(
        sgd_gradient_point([1.0], state, momentum=0.9, nesterov=True, momentum_form="sutskever"), [0.82]
    )
    np.testing.assert_allclose(sgd_gradient_point([1.0], state, momentum=0.9, nesterov=True), [1.0])
    np.testing.assert_allclose(
        sgd_gradient_point([1.0], None, momentum=0.9, nesterov=True, momentum_form="sutskever"), [1.0]
    )


def test_nesterov_requires_momentum_and_no_dampening():
    with pytest.raises(ValueError, match="nesterov: Nesterov momentum requires momentum > 0"):
        sgd_step(1.0, 1.0, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="dampening = 0"):
        sgd_step(1.0, 1.0, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


# ------------------------------------------------------------------------------------------ Adagrad


def test_adagrad_hand_example():
    # lr 0.1, eps 0: step 1: G = 4; p = 1 - 0.1*2/2 = 0.9
    # step 2: G = 5; p = 0.9 - 0.1*1/sqrt(5) = 0.9 - 0.04472135955 = 0.85527864045
    p1, p2, r = two_steps(adagrad_step, lr=0.1, eps=0.0)
    assert (p1, p2) == pytest.approx((0.9, 0.85527864045), abs=1e-11)
    assert float(r.state.sum) == 5.0


def test_adagrad_lr_decay_counts_from_the_second_step():
    # clr = lr / (1 + (t-1) lr_decay): step 1 uses 0.1 (p = 0.9); step 2 uses 0.1/1.5:
    # p = 0.9 - 0.0666667/sqrt(5) = 0.9 - 0.0298142397 = 0.8701857603
    p1, p2, _ = two_steps(adagrad_step, lr=0.1, eps=0.0, lr_decay=0.5)
    assert (p1, p2) == pytest.approx((0.9, 0.8701857603), abs=1e-10)


def test_adagrad_eps_inside_the_root_is_seed_004s_convention():
    # eps = 1, initial G = 0: inside: 0.1*2/sqrt(4 + 1) = 0.0894427191; outside: 0.1*2/(2 + 1) = 0.0666667
    inside = adagrad_step(1.0, 2.0, lr=0.1, eps=1.0, eps_placement="inside")
    outside = adagrad_step(1.0, 2.0, lr=0.1, eps=1.0)
    assert float(inside.param) == pytest.approx(0.9105572809)
    assert float(outside.param) == pytest.approx(1 - 0.2 / 3)


def test_adagrad_initial_accumulator_value_seeds_the_sum():
    # G = 0.5 + 4 = 4.5; p = 1 - 0.1*2/sqrt(4.5)
    r = adagrad_step(1.0, 2.0, lr=0.1, eps=0.0, initial_accumulator_value=0.5)
    assert float(r.param) == pytest.approx(1 - 0.2 / np.sqrt(4.5))


# ------------------------------------------------------------------------------------------ RMSprop


def test_rmsprop_hand_example():
    # lr 0.01, alpha 0.9, eps 0: step 1: v = 0.1*4 = 0.4; p = 1 - 0.01*2/sqrt(0.4) = 0.9683772234
    # step 2: v = 0.36 + 0.1 = 0.46; p = 0.9683772234 - 0.01/sqrt(0.46) = 0.9683772234 - 0.0147441956
    p1, p2, r = two_steps(rmsprop_step, lr=0.01, alpha=0.9, eps=0.0)
    assert (p1, p2) == pytest.approx((0.9683772234, 0.9536330278), abs=1e-10)
    assert r.state.momentum_buffer is None and r.state.grad_avg is None


def test_rmsprop_momentum_buffer_starts_at_zero():
    # step 1: b = 0 + 2/sqrt(0.4) = 3.16227766; p = 1 - 0.0316227766 = 0.9683772234
    # step 2: b = 0.5*3.16227766 + 1/sqrt(0.46) = 1.58113883 + 1.474419562 = 3.055558392
    #         p = 0.9683772234 - 0.03055558392 = 0.9378216395
    p1, p2, _ = two_steps(rmsprop_step, lr=0.01, alpha=0.9, eps=0.0, momentum=0.5)
    assert (p1, p2) == pytest.approx((0.9683772234, 0.9378216395), abs=1e-10)


def test_rmsprop_centered_subtracts_the_squared_mean_gradient():
    # step 1: gbar = 0.2; v = 0.4; var = 0.4 - 0.04 = 0.36; p = 1 - 0.01*2/0.6 = 0.96666667
    # step 2: gbar = 0.18 + 0.1 = 0.28; v = 0.46; var = 0.46 - 0.0784 = 0.3816 (sqrt 0.6177378)
    #         p = 0.96666667 - 0.01/0.6177378 = 0.96666667 - 0.0161881 = 0.9504786
    p1, p2, _ = two_steps(rmsprop_step, lr=0.01, alpha=0.9, eps=0.0, centered=True)
    assert (p1, p2) == pytest.approx((0.9666666667, 0.950478569), abs=1e-9)


def test_rmsprop_eps_inside_the_root_is_seeds_000_and_004_convention():
    # alpha 0.9, eps 0.6: v = 0.4; inside: sqrt(0.4 + 0.6) = 1; outside: sqrt(0.4) + 0.6 = 1.2324555
    inside = rmsprop_step(1.0, 2.0, lr=0.01, alpha=0.9, eps=0.6, eps_placement="inside")
    outside = rmsprop_step(1.0, 2.0, lr=0.01, alpha=0.9, eps=0.6)
    assert float(inside.update) == pytest.approx(-0.02)
    assert float(outside.update) == pytest.approx(-0.02 / (np.sqrt(0.4) + 0.6))


# --------------------------------------------------------------------------------------------- Adam


def test_adam_hand_example():
    # lr 0.1, betas (0.9, 0.999), eps 0.
    # step 1: m = 0.2, v = 0.004; m^ = 0.2/0.1 = 2, v^ = 0.004/0.001 = 4; p = 1 - 0.1*2/2 = 0.9
    # step 2: m = 0.18 + 0.1 = 0.28; v = 0.003996 + 0.001 = 0.004996; c1 = 0.19, c2 = 0.001999
    #         m^ = 1.473684211, v^ = 2.499249625 (sqrt 1.580901523); p = 0.9 - 0.1*0.932179639
    p1, p2, r = two_steps(adam_step, lr=0.1, eps=0.0)
    assert (p1, p2) == pytest.approx((0.9, 0.8067820361), abs=1e-10)
    assert (float(r.state.exp_avg), float(r.state.exp_avg_sq)) == pytest.approx((0.28, 0.004996))
    assert r.state.max_exp_avg_sq is None


def test_adam_first_step_moves_each_coordinate_by_about_lr_times_sign():
    rng = np.random.default_rng(2)
    g = rng.normal(size=(3, 4)) * np.array([1e-3, 1.0, 1e3, 1e-6])
    r = adam_step(np.zeros((3, 4)), g, lr=0.01)
    np.testing.assert_allclose(r.update, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(r.update[:, :3], -0.01 * np.sign(g[:, :3]), rtol=1e-4)
    assert np.all(np.abs(r.update) <= 0.01)


def test_adam_eps_is_added_after_the_bias_corrected_root():
    # PyTorch: denom = sqrt(v)/sqrt(c2) + eps = |g| + eps at step 1 (not sqrt(v) + eps = 0.0632 |g| + eps)
    r = adam_step(0.0, 2.0, lr=1.0, eps=1.0)
    assert float(r.update) == pytest.approx(-2.0 / 3.0)


def test_adam_without_power_in_bias_correction_is_seed_004s_slip():
    # step 1 is identical (b^1 = b); step 2: m^ = 0.28/0.1 = 2.8, v^ = 0.004996/0.001 = 4.996
    # (sqrt 2.2351734); p = 0.9 - 0.1*2.8/2.2351734 = 0.9 - 0.1252699 = 0.7747301
    p1, p2, _ = two_steps(adam_step, lr=0.1, eps=0.0, bias_correction="no_power")
    assert (p1, p2) == pytest.approx((0.9, 0.7747300753), abs=1e-10)


def test_adam_without_bias_correction_takes_a_tiny_first_step_size():
    # m = 0.2, v = 0.004: p = 1 - 0.1*0.2/sqrt(0.004) = 1 - 0.316227766
    r = adam_step(1.0, 2.0, lr=0.1, eps=0.0, bias_correction="none")
    assert float(r.param) == pytest.approx(1 - 0.316227766)


def test_amsgrad_keeps_the_largest_second_moment():
    # g1 = 2, g2 = 0.01: v2 = 0.003996 + 1e-7 = 0.0039961 < v1 = 0.004, so AMSGrad keeps 0.004.
    # plain: v^ = 0.0039961/0.001999 = 1.99904952 -> p2 = 0.9 - 0.1*0.9526316/1.4138768 = 0.8326227631
    # amsgrad: v^ = 0.004/0.001999 = 2.00100050 -> p2 = 0.9 - 0.1*0.9526316/1.4145673 = 0.8326556175
    _, plain, _ = two_steps(adam_step, g2=0.01, lr=0.1, eps=0.0)
    _, ams, r = two_steps(adam_step, g2=0.01, lr=0.1, eps=0.0, amsgrad=True)
    assert (plain, ams) == pytest.approx((0.8326227631, 0.8326556175), abs=1e-10)
    assert float(r.state.max_exp_avg_sq) == pytest.approx(0.004)


def test_adam_weight_decay_is_an_l2_term_in_the_gradient():
    r = adam_step(1.0, 2.0, lr=0.1, weight_decay=0.5)  # g' = 2 + 0.5 = 2.5
    assert float(r.state.exp_avg) == pytest.approx(0.25)


def test_adamw_hand_example_decays_before_the_adam_step():
    # lr 0.1, wd 0.1, eps 0: step 1: p = 1*(1 - 0.01) - 0.1*2/2 = 0.89
    # step 2: p = 0.89*0.99 - 0.0932179639 (Adam's step 2 above) = 0.8811 - 0.0932179639 = 0.7878820361
    p1, p2, _ = two_steps(adamw_step, lr=0.1, eps=0.0, weight_decay=0.1)
    assert (p1, p2) == pytest.approx((0.89, 0.7878820361), abs=1e-10)


def test_adamw_differs_from_adam_with_weight_decay_and_matches_without():
    rng = np.random.default_rng(3)
    p0, a = rng.normal(size=6), rng.uniform(0.5, 2.0, size=6)
    kw = dict(lr=0.05, steps=5)
    adam_wd = run_optimizer("adam", p0, quadratic_grad(a), weight_decay=0.1, **kw)
    adamw_wd = run_optimizer("adamw", p0, quadratic_grad(a), weight_decay=0.1, **kw)
    assert not np.allclose(adam_wd.params[-1], adamw_wd.params[-1])
    adam0 = run_optimizer("adam", p0, quadratic_grad(a), **kw)
    adamw0 = run_optimizer("adamw", p0, quadratic_grad(a), weight_decay=0.0, **kw)
    for x, y in zip(adam0.params, adamw0.params, strict=True):
        np.testing.assert_array_equal(x, y)


def test_adamw_default_weight_decay_is_pytorchs():
    # wd 1e-2, lr 1e-3: p = 1*(1 - 1e-5) - 1e-3 * 2/(2 + 1e-8)
    r = adamw_step(1.0, 2.0)
    assert float(r.param) == pytest.approx(1 - 1e-5 - 1e-3 * 2 / (2 + 1e-8), abs=1e-15)


# ----------------------------------------------------------------------------------- all optimizers

ALL = [
    ("sgd", dict(lr=0.1, momentum=0.9)),
    ("adagrad", dict(lr=0.5)),
    ("rmsprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("adam", dict(lr=0.1, amsgrad=True)),
    ("adamw", dict(lr=0.1)),
]


@pytest.mark.parametrize("name, hyper", ALL)
def test_steps_leave_inputs_and_states_untouched(name, hyper):
    step = optim.OPTIMIZERS[name]
    p, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    first = step(p, g, None, **hyper)
    saved = {k: np.copy(v) for k, v in vars(first.state).items() if isinstance(v, np.ndarray)}
    second = step(first.param, g, first.state, **hyper)
    np.testing.assert_array_equal(p, [1.0, -2.0])
    np.testing.assert_array_equal(g, [0.5, 0.25])
    for k, v in saved.items():
        np.testing.assert_array_equal(getattr(first.state, k), v)
    np.testing.assert_allclose(second.param - first.param, second.update)
    assert second.state.step == 2


@pytest.mark.parametrize("name, hyper", ALL)
def test_every_optimizer_descends_a_quadratic_bowl(name, hyper):
    a = np.array([1.0, 4.0])
    traj = run_optimizer(name, [2.0, -1.0], quadratic_grad(a), steps=200, **hyper)
    assert float(a @ traj.params[-1] ** 2) < 0.05 * float(a @ traj.params[0] ** 2)


@pytest.mark.parametrize("name, hyper", ALL)
def test_maximize_is_minimizing_the_negated_gradient(name, hyper):
    step = optim.OPTIMIZERS[name]
    up = step([1.0, 2.0], [0.3, -0.7], None, maximize=True, **hyper)
    down = step([1.0, 2.0], [-0.3, 0.7], None, **hyper)
    np.testing.assert_array_equal(up.param, down.param)


def test_states_built_from_lists_continue_a_run():
    # a template can state "m = 0.2, v = 0.004 after one step" and ask for step 2
    r = adam_step(
        0.9, 1.0, AdamState(step=1, exp_avg=0.2, exp_avg_sq=0.004, max_exp_avg_sq=None), lr=0.1, eps=0
    )
    assert float(r.param) == pytest.approx(0.8067820361)
    state = RMSpropState(step=1, square_avg=[0.4, 0.4], momentum_buffer=None, grad_avg=None)
    assert isinstance(state.square_avg, np.ndarray)


def test_run_optimizer_with_given_gradients_and_a_schedule():
    traj = run_optimizer("sgd", 1.0, [2.0, 1.0], lrs=[0.1, 0.1], momentum=0.9)
    assert [float(x) for x in traj.params] == pytest.approx([1.0, 0.8, 0.52])
    assert len(traj.grads) == len(traj.states) == len(traj.updates) == 2


def test_steps_work_on_scalars_and_matrices():
    r = adam_step(np.ones((2, 3)), np.full((2, 3), -1.0), lr=0.1)
    assert r.param.shape == (2, 3)
    assert adagrad_step(1.0, 1.0).param.shape == ()


def test_no_overflow_warnings_for_huge_gradients():
    g = np.array([1e4, -1e4, 1e-300])
    for name, hyper in ALL:
        r = optim.OPTIMIZERS[name](np.zeros(3), g, None, **hyper)
        assert np.all(np.isfinite(r.param))


# ---------------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sgd_step(1.0, 1.0, lr=-0.1), "lr: expected a number >= 0"),
        (lambda: adam_step(1.0, 1.0, lr=-1.0), "lr: expected a number >= 0"),
        (lambda: adam_step(1.0, 1.0, betas=(1.0, 0.999)), r"betas\[0\]: expected a probability in \[0, 1\)"),
        (lambda: adamw_step(1.0, 1.0, betas=(0.9, -0.1)), r"betas\[1\]: expected a probability"),
        (lambda: adam_step(1.0, 1.0, betas=0.9), "betas: expected a pair"),
        (lambda: sgd_step(1.0, 1.0, momentum_form="nesterov"), "momentum_form: unknown value 'nesterov'"),
        (lambda: adagrad_step(1.0, 1.0, eps_placement="in"), "eps_placement: unknown value 'in'"),
        (lambda: rmsprop_step(1.0, 1.0, eps_placement="both"), "eps_placement: unknown value"),
        (lambda: adam_step(1.0, 1.0, bias_correction="torch"), "bias_correction: unknown value 'torch'"),
        (lambda: sgd_step([1.0, 2.0], [1.0, 2.0, 3.0]), r"g: expected shape \(2,\), got \(3,\)"),
        (
            lambda: adam_step([1.0], [1.0], SGDState(1, None)),
            "state: expected AdamState or None, got SGDState",
        ),
        (lambda: adam_step([1.0], [1.0], AdamState(1, [0.0, 0.0], [0.0], None)), "state.exp_avg"),
        (lambda: AdagradState(step=-1, sum=[0.0]), "state.step: expected an integer >= 0"),
        (lambda: sgd_step(1.0, 1.0, weight_decay=-1e-4), "weight_decay: expected a number >= 0"),
        (lambda: rmsprop_step(1.0, 1.0, alpha=-0.5), "alpha: expected a number >= 0"),
        (lambda: adagrad_step(1.0, 1.0, lr_decay=-1.0), "lr_decay: expected a number >= 0"),
        (lambda: run_optimizer("lbfgs", 1.0, [1.0]), "optimizer: unknown value 'lbfgs'"),
        (lambda: run_optimizer("adam", 1.0, [1.0], momentum=0.9), "momentum: not a hyperparameter of adam"),
        (lambda: run_optimizer("sgd", 1.0, [1.0, 2.0], lrs=[0.1]), "lrs: expected 2 learning rates"),
        (
            lambda: run_optimizer("sgd", [1.0, 2.0], [[1.0], [2.0]]),
            r"grads: expected shape \('\*', 2\), got \(2, 1\)",
        ),
        (lambda: run_optimizer("sgd", 1.0, lambda x: x), "steps: expected an integer >= 1"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


_VALUES = st.floats(-1e6, 1e6) | st.sampled_from(
    [0.0, -0.0, 1e-300, float("inf"), float("-inf"), float("nan")]
)


@st.composite
def _params_and_grads(draw):
    """p and g of one shape: 0-d, (n,) or (2, n)."""
    shape = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    size = int(np.prod(shape))
    p, g = (np.array(draw(st.lists(_VALUES, min_size=size, max_size=size))).reshape(shape) for _ in "pg")
    return p, g


@settings(max_examples=300, deadline=None)
@given(
    pg=_params_and_grads(),
    step=st.sampled_from([adam_step, adamw_step]),
    betas=st.sampled_from([(0.9, 0.999), (0.0, 0.0), (0.5, 0.9999999999999999)]),
    amsgrad=st.booleans(),
    maximize=st.booleans(),
    weight_decay=st.sampled_from([0.0, 0.1]),
    bias_correction=st.sampled_from(["pytorch", "none", "no_power"]),
)
def test_adam_without_state_equals_zero_moment_arrays_bit_for_bit(
    same_outcome, pg, step, betas, amsgrad, maximize, weight_decay, bias_correction
):
    """The first step's missing moments are a scalar 0.0; a state of zero arrays takes the array path."""
    p, g = pg
    zeros = AdamState(0, np.zeros_like(p), np.zeros_like(p), np.zeros_like(p) if amsgrad else None)
    kwargs = {
        "lr": 0.1,
        "betas": betas,
        "amsgrad": amsgrad,
        "maximize": maximize,
        "weight_decay": weight_decay,
        "bias_correction": bias_correction,
    }
    same_outcome(lambda: step(p, g, None, **kwargs), lambda: step(p, g, zeros, **kwargs))


def test_clip_grad_norm_scales_every_gradient_by_the_one_total_norm():
    from quizgen.reference.optim import clip_grad_norm, clip_grad_value

    gw = np.array([[3.0, 0.0], [0.0, 0.0]])
    gb = np.array([0.0, -4.0])
    # total norm sqrt(9 + 16) = 5; factor 2 / (5 + 1e-6)
    r = clip_grad_norm([gw, gb], max_norm=2.0)
    assert r.total_norm == 5.0 and r.clip_coef == pytest.approx(0.4, rel=1e-6)
    np.testing.assert_allclose(r.grads[1], [0.0, -1.6], rtol=1e-6)
    assert r.grads[0].shape == (2, 2)
    # per tensor: each by its own norm (3 and 4) -> 2/3 · gw, 1/2 · gb; elementwise clamps at ±2
    per = clip_grad_norm([gw, gb], max_norm=2.0, scope="per_tensor").grads
    np.testing.assert_allclose(per[0][0, 0], 2.0, rtol=1e-6)
    np.testing.assert_allclose(per[1], [0.0, -2.0], rtol=1e-6)
    np.testing.assert_array_equal(
        clip_grad_norm([gw, gb], max_norm=2.0, scope="elementwise").grads[1], [0.0, -2.0]
    )
    # below max_norm nothing changes (the factor is clamped at 1); norm_type inf is the largest entry
    np.testing.assert_array_equal(clip_grad_norm([gw, gb], max_norm=10.0).grads[0], gw)
    assert clip_grad_norm([gw, gb], max_norm=1.0, norm_type=float("inf")).total_norm == 4.0
    assert clip_grad_norm([gw, gb], max_norm=1.0, norm_type=1.0).total_norm == 7.0
    np.testing.assert_array_equal(clip_grad_value([gb], clip_value=1.5)[0], [0.0, -1.5])
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm(gw, max_norm=1.0)
    with pytest.raises(ValueError, match="scope"):
        clip_grad_norm([gw], max_norm=1.0, scope="layer")
