import math

import numpy as np
import pytest

from quizgen.reference import registry
from quizgen.reference.schedules import (
    cosine_annealing_lr,
    exponential_lr,
    inverse_time_lr,
    linear_lr,
    linear_warmup_lr,
    multistep_lr,
    natural_exp_lr,
    piecewise_constant_lr,
    schedule_values,
    step_lr,
    warmup_cosine_lr,
)


def test_step_lr_matches_pytorchs_documented_example():
    # StepLR(step_size=30, gamma=0.1), lr = 0.05: 0.05 for epoch < 30, 0.005 for 30 <= epoch < 60,
    # 0.0005 for 60 <= epoch < 90.
    lrs = schedule_values("step_lr", 90, lr0=0.05, step_size=30)
    np.testing.assert_allclose(lrs[:30], 0.05)
    np.testing.assert_allclose(lrs[30:60], 0.005)
    np.testing.assert_allclose(lrs[60:90], 0.0005)


def test_multistep_lr_matches_pytorchs_documented_example():
    # MultiStepLR(milestones=[30, 80], gamma=0.1), lr = 0.05: 0.05 for epoch < 30,
    # 0.005 for 30 <= epoch < 80, 0.0005 for epoch >= 80.
    lrs = schedule_values("multistep_lr", 100, lr0=0.05, milestones=[30, 80])
    np.testing.assert_allclose(lrs[:30], 0.05)
    np.testing.assert_allclose(lrs[30:80], 0.005)
    np.testing.assert_allclose(lrs[80:], 0.0005)


def test_multistep_lr_counts_a_repeated_milestone_twice_and_sorts():
    # PyTorch keeps milestones in a Counter: [5, 5] multiplies by gamma² at epoch 5.
    assert multistep_lr(5, lr0=1.0, milestones=[5, 5], gamma=0.5) == 0.25
    assert multistep_lr(4, lr0=1.0, milestones=[8, 2], gamma=0.5) == 0.5


def test_linear_lr_matches_pytorchs_documented_example():
    # LinearLR(start_factor=0.5, total_iters=4), lr = 0.05:
    # 0.025, 0.03125, 0.0375, 0.04375 for epochs 0..3, then 0.05.
    lrs = schedule_values("linear_lr", 7, lr0=0.05, start_factor=0.5, total_iters=4)
    np.testing.assert_allclose(lrs, [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05, 0.05])


def test_linear_lr_defaults_are_pytorchs():
    # start 1/3, end 1, total 5: t = 1: lr0 * (1/3 + (2/3) * 1/5) = lr0 * (5/15 + 2/15) = 7/15 lr0
    assert linear_lr(0, lr0=0.3) == pytest.approx(0.1)
    assert linear_lr(1, lr0=1.0) == pytest.approx(7 / 15)
    assert linear_lr(5, lr0=0.3) == pytest.approx(0.3)


def test_linear_warmup_pytorch_form_starts_at_start_factor_and_seed_form_at_zero():
    # W = 4, lr0 = 0.1. pytorch, s = 0.25: 0.025, 0.04375, 0.0625, 0.08125, 0.1.
    # from_zero (seed 004: t/T eta_0): 0, 0.025, 0.05, 0.075, 0.1, then 0.1.
    pt = schedule_values("linear_warmup_lr", 5, lr0=0.1, warmup_steps=4, start_factor=0.25)
    seed = schedule_values("linear_warmup_lr", 6, lr0=0.1, warmup_steps=4, warmup_form="from_zero")
    np.testing.assert_allclose(pt, [0.025, 0.04375, 0.0625, 0.08125, 0.1])
    np.testing.assert_allclose(seed, [0.0, 0.025, 0.05, 0.075, 0.1, 0.1])


def test_exponential_lr_is_lr0_gamma_to_the_t():
    assert exponential_lr(0, lr0=0.1, gamma=0.9) == 0.1
    assert exponential_lr(3, lr0=0.1, gamma=0.5) == pytest.approx(0.0125)


def test_inverse_time_lr_is_seed_004s_formula():
    # eta_0 / (1 + beta t): 0.1 / (1 + 0.5 * 4) = 0.0333...; with decay_steps 2: 0.1 / (1 + 0.5*2) = 0.05
    assert inverse_time_lr(4, lr0=0.1, decay_rate=0.5) == pytest.approx(0.1 / 3)
    assert inverse_time_lr(4, lr0=0.1, decay_rate=0.5, decay_steps=2) == pytest.approx(0.05)
    # staircase floors t / decay_steps: t = 5, steps 2 -> 2
    assert inverse_time_lr(5, lr0=0.1, decay_rate=0.5, decay_steps=2, staircase=True) == pytest.approx(0.05)


def test_natural_exp_lr_is_seed_004s_formula():
    # eta_0 e^{-beta t}: 0.1 * e^{-0.2 * 5} = 0.1 / e = 0.036787944
    assert natural_exp_lr(5, lr0=0.1, decay_rate=0.2) == pytest.approx(0.036787944117)
    assert natural_exp_lr(0, lr0=0.1, decay_rate=0.2) == 0.1


def test_piecewise_constant_lr_switches_after_each_boundary():
    # values[0] for t <= 10, values[1] for 10 < t <= 20, values[2] after
    kw = dict(boundaries=[10, 20], values=[0.1, 0.05, 0.01])
    assert [piecewise_constant_lr(t, **kw) for t in (0, 10, 11, 20, 21)] == [0.1, 0.1, 0.05, 0.05, 0.01]


def test_cosine_annealing_endpoints_midpoint_and_periodicity():
    # t = 0: lr0; t = T/2: (lr0 + eta_min)/2; t = T: eta_min; t = 2T: lr0 again (PyTorch's cosine continues)
    kw = dict(lr0=0.1, T_max=10, eta_min=0.001)
    assert cosine_annealing_lr(0, **kw) == pytest.approx(0.1)
    assert cosine_annealing_lr(5, **kw) == pytest.approx(0.0505)
    assert cosine_annealing_lr(10, **kw) == pytest.approx(0.001)
    assert cosine_annealing_lr(20, **kw) == pytest.approx(0.1)
    # seed 004: eta_0 (1 + cos(t pi / T)) / 2 at t = 2, T = 6: 0.1 * (1 + 0.5) / 2 = 0.075
    assert cosine_annealing_lr(2, lr0=0.1, T_max=6) == pytest.approx(0.075)


def test_warmup_cosine_hand_example_and_endpoints():
    # W = 2, total 10, lr0 1: t = 0, 1: 0, 0.5; t = 2: 1; t = 6 (half way through 8 decay steps): 0.5;
    # t = 10: 0. t = 3: (1 + cos(pi/8))/2 = 0.9619397663
    lrs = schedule_values("warmup_cosine_lr", 11, lr0=1.0, warmup_steps=2, total_steps=10)
    assert lrs[[0, 1, 2, 6, 10]] == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0], abs=1e-15)
    assert lrs[3] == pytest.approx((1 + math.cos(math.pi / 8)) / 2)
    assert warmup_cosine_lr(10, lr0=1.0, warmup_steps=2, total_steps=10, eta_min=0.1) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "name, kw",
    [
        ("step_lr", dict(lr0=0.1, step_size=3, gamma=0.5)),
        ("multistep_lr", dict(lr0=0.1, milestones=[2, 5, 9])),
        ("exponential_lr", dict(lr0=0.1, gamma=0.95)),
        ("inverse_time_lr", dict(lr0=0.1, decay_rate=0.3)),
        ("natural_exp_lr", dict(lr0=0.1, decay_rate=0.3)),
        ("piecewise_constant_lr", dict(boundaries=[3, 7], values=[0.1, 0.05, 0.01])),
        ("cosine_annealing_lr", dict(lr0=0.1, T_max=12, eta_min=0.01)),
    ],
)
def test_decay_schedules_start_at_lr0_and_never_increase(name, kw):
    lrs = schedule_values(name, 13, **kw)
    assert lrs[0] == pytest.approx(0.1)
    assert np.all(np.diff(lrs) <= 0.0)
    assert lrs[-1] < lrs[0]


@pytest.mark.parametrize(
    "name, kw",
    [
        ("linear_lr", dict(lr0=0.1, start_factor=0.1, total_iters=8)),
        ("linear_warmup_lr", dict(lr0=0.1, warmup_steps=8, warmup_form="from_zero")),
    ],
)
def test_warmups_increase_to_lr0_then_hold(name, kw):
    lrs = schedule_values(name, 12, **kw)
    assert np.all(np.diff(lrs[:9]) > 0.0)
    np.testing.assert_allclose(lrs[8:], 0.1)


def test_warmup_cosine_rises_then_falls():
    lrs = schedule_values("warmup_cosine_lr", 21, lr0=0.1, warmup_steps=5, total_steps=20)
    assert np.all(np.diff(lrs[:6]) > 0.0) and np.all(np.diff(lrs[5:]) < 0.0)
    assert lrs.argmax() == 5


def test_schedules_are_reachable_from_templates():
    assert registry.resolve("schedules.step_lr")(30, lr0=0.05, step_size=30) == pytest.approx(0.005)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: step_lr(-1, lr0=0.1, step_size=3), "t: expected an integer >= 0"),
        (lambda: step_lr(1.5, lr0=0.1, step_size=3), "t: expected an integer >= 0, got 1.5"),
        (lambda: step_lr(1, lr0=0.1, step_size=0), "step_size: expected an integer >= 1"),
        (lambda: exponential_lr(1, lr0=-0.1, gamma=0.9), "lr0: expected a number >= 0"),
        (lambda: multistep_lr(1, lr0=0.1, milestones=30), "milestones: expected a list"),
        (lambda: cosine_annealing_lr(1, lr0=0.1, T_max=0), "T_max: expected an integer >= 1"),
        (lambda: linear_lr(1, lr0=0.1, start_factor=0.0), r"start_factor: expected a number in \(0, 1\]"),
        (lambda: linear_lr(1, lr0=0.1, end_factor=1.5), r"end_factor: expected a number in \[0, 1\]"),
        (
            lambda: linear_warmup_lr(1, lr0=0.1, warmup_steps=4, warmup_form="gradual"),
            "warmup_form: unknown value 'gradual'",
        ),
        (lambda: warmup_cosine_lr(11, lr0=0.1, warmup_steps=2, total_steps=10), r"t: expected .* \[0, total"),
        (
            lambda: warmup_cosine_lr(0, lr0=0.1, warmup_steps=10, total_steps=10),
            "warmup_steps: expected fewer",
        ),
        (
            lambda: piecewise_constant_lr(0, boundaries=[5, 5], values=[1, 2, 3]),
            "boundaries: expected strictly",
        ),
        (lambda: piecewise_constant_lr(0, boundaries=[5], values=[1.0]), "values: expected 2 values"),
        (lambda: schedule_values("cyclic_lr", 3, lr0=0.1), "schedule: unknown value 'cyclic_lr'"),
        (lambda: schedule_values("step_lr", 0, lr0=0.1, step_size=1), "steps: expected an integer >= 1"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()
