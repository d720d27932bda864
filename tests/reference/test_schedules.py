import math
from bisect import bisect_right

import numpy as np
import pytest

from quizgen.reference import registry
from quizgen.reference.schedules import (
    chained_lr,
    cosine_annealing_lr,
    exponential_lr,
    inverse_time_lr,
    linear_lr,
    linear_then_cosine_lr,
    linear_warmup_lr,
    multistep_lr,
    natural_exp_lr,
    piecewise_constant_lr,
    schedule_values,
    sequential_lr,
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


# --- composed schedules: SequentialLR and ChainedScheduler ------------------------------------

# PyTorch's recursive get_lr() of each scheduler (torch/optim/lr_scheduler.py), transcribed as an
# independent oracle: lr_next = rule(current lr, last_epoch) after last_epoch is incremented.


def _linear_step(lr, e, start, end, total):
    if e == 0:
        return lr * start
    if e > total:
        return lr
    return lr * (1.0 + (end - start) / (total * start + (e - 1) * (end - start)))


def _cosine_step(lr, e, lr0, T, eta_min):
    if e == 0:
        return lr
    if (e - 1 - T) % (2 * T) == 0:
        return lr + (lr0 - eta_min) * (1 - math.cos(math.pi / T)) / 2
    return (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (lr - eta_min) + eta_min


def _pytorch_sequential_linear_cosine(n, lr0, milestone, start, end, total, T, eta_min):
    """SequentialLR([LinearLR, CosineAnnealingLR], [milestone]) stepped n - 1 times: the lr in
    each epoch. At the milestone, scheduler.step(0) sets the cosine's closed form at epoch 0."""
    lr = _linear_step(lr0, 0, start, end, total)  # only the first scheduler's initial step
    lrs, lin_e, cos_e = [lr], 0, 0
    for epoch in range(1, n):
        idx = bisect_right([milestone], epoch)
        if idx == 1 and epoch == milestone:
            cos_e = 0
            lr = eta_min + (lr0 - eta_min) * (1 + math.cos(0.0)) / 2  # step(0): closed form at 0
        elif idx == 0:
            lin_e += 1
            lr = _linear_step(lr, lin_e, start, end, total)
        else:
            cos_e += 1
            lr = _cosine_step(lr, cos_e, lr0, T, eta_min)
        lrs.append(lr)
    return lrs


def test_linear_then_cosine_worked_example():
    # lr0 0.1, LinearLR(0.1, total_iters=3) to milestone 3, then CosineAnnealingLR(T_max=4):
    # 0.01, 0.04, 0.07 | 0.1 (step(0): the cosine from lr0), 0.1 (1 + cos(π/4))/2, 0.05, ..., 0
    lrs = schedule_values(
        "linear_then_cosine_lr", 8, lr0=0.1, milestone=3, T_max=4, start_factor=0.1, total_iters=3
    )
    c = 0.1 * (1 + math.cos(math.pi / 4)) / 2
    np.testing.assert_allclose(lrs, [0.01, 0.04, 0.07, 0.1, c, 0.05, 0.1 - c, 0.0], rtol=1e-14, atol=1e-17)


@pytest.mark.parametrize(
    "milestone, start, end, total, T, eta_min",
    [(3, 0.1, 1.0, 3, 4, 0.0), (2, 0.25, 1.0, 5, 6, 0.01), (5, 0.5, 0.8, 3, 3, 0.02)],
)
def test_sequential_linear_then_cosine_equals_pytorchs_recursive_steps(
    milestone, start, end, total, T, eta_min
):
    n, lr0 = 14, 0.2
    expected = _pytorch_sequential_linear_cosine(n, lr0, milestone, start, end, total, T, eta_min)
    kw = dict(
        lr0=lr0,
        milestone=milestone,
        start_factor=start,
        end_factor=end,
        total_iters=total,
        T_max=T,
        eta_min=eta_min,
    )
    np.testing.assert_allclose(
        schedule_values("linear_then_cosine_lr", n, **kw), expected, rtol=1e-12, atol=1e-15
    )
    # the milestone restarts from lr0 even where LinearLR had not reached end_factor
    assert linear_then_cosine_lr(milestone, **kw) == lr0


def test_sequential_lr_hand_example_with_three_schedulers():
    # LinearLR(0.25, total 2) | milestone 3: StepLR(2, 0.5) | milestone 6: ExponentialLR(0.1), lr0 = 1
    scheds = [
        ("linear_lr", {"start_factor": 0.25, "total_iters": 2}),
        ("step_lr", {"step_size": 2, "gamma": 0.5}),
        ("exponential_lr", {"gamma": 0.1}),
    ]
    lrs = [sequential_lr(t, lr0=1.0, schedulers=scheds, milestones=[3, 6]) for t in range(8)]
    np.testing.assert_allclose(lrs, [0.25, 0.625, 1.0, 1.0, 1.0, 0.5, 1.0, 0.1], rtol=1e-15)


def _pytorch_chained(n, lr0, steps):
    """ChainedScheduler: construction runs each scheduler's initial step in order, then every
    step() runs each scheduler's recursive step on the current lr."""
    lr, lrs = lr0, []
    for e in range(n):
        for step in steps:
            lr = step(lr, e)
        lrs.append(lr)
    return lrs


def test_chained_lr_equals_pytorchs_recursive_steps_and_a_hand_example():
    # LinearLR(0.5, total 2) and ExponentialLR(0.9), lr0 = 1: 0.5, 0.75·0.9, 0.81, 0.729
    scheds = [("linear_lr", {"start_factor": 0.5, "total_iters": 2}), ("exponential_lr", {"gamma": 0.9})]
    lrs = [chained_lr(t, lr0=1.0, schedulers=scheds) for t in range(4)]
    np.testing.assert_allclose(lrs, [0.5, 0.675, 0.81, 0.729], rtol=1e-15)
    scheds.append(("step_lr", {"step_size": 3, "gamma": 0.5}))
    steps = [
        lambda lr, e: _linear_step(lr, e, 0.5, 1.0, 2),
        lambda lr, e: lr if e == 0 else lr * 0.9,  # ExponentialLR
        lambda lr, e: lr if e == 0 or e % 3 else lr * 0.5,  # StepLR
    ]
    expected = _pytorch_chained(10, 0.3, steps)
    np.testing.assert_allclose(
        schedule_values("chained_lr", 10, lr0=0.3, schedulers=scheds), expected, rtol=1e-13
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: chained_lr(0, lr0=1.0, schedulers=[("cosine_annealing_lr", {"T_max": 3})]),
            r"schedulers\[0\] \(ChainedScheduler\): unknown value 'cosine_annealing_lr'",
        ),
        (
            lambda: sequential_lr(
                0, lr0=1.0, schedulers=[("inverse_time_lr", {"decay_rate": 1.0})], milestones=[]
            ),
            r"schedulers\[0\] \(SequentialLR\): unknown value 'inverse_time_lr'",
        ),
        (
            lambda: sequential_lr(0, lr0=1.0, schedulers=[("step_lr", {"step_size": 2})], milestones=[3]),
            "milestones: expected 0 .one fewer than the 1 schedulers., got 1",
        ),
        (
            lambda: sequential_lr(
                0, lr0=1.0, schedulers=[("step_lr", {"step_size": 2})] * 3, milestones=[3, 3]
            ),
            "milestones: expected strictly increasing",
        ),
        (
            lambda: sequential_lr(0, lr0=1.0, schedulers=[("step_lr", {"step_size": 2})] * 2, milestones=[0]),
            "milestones: expected an integer >= 1",
        ),
        (
            lambda: chained_lr(0, lr0=1.0, schedulers=[("step_lr", {"step_size": 2, "lr0": 3.0})]),
            "lr0 is shared by every scheduler",
        ),
        (lambda: chained_lr(0, lr0=1.0, schedulers=[]), "schedulers: expected a non-empty list"),
        (lambda: chained_lr(0, lr0=1.0, schedulers=["step_lr"]), r"schedulers\[0\]: expected a pair"),
        (
            lambda: chained_lr(0, lr0=1.0, schedulers=[("step_lr", 2)]),
            r"schedulers\[0\]: expected the keyword arguments of step_lr",
        ),
    ],
)
def test_composed_schedules_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_composed_schedules_are_reachable_from_templates():
    for name in ("sequential_lr", "chained_lr", "linear_then_cosine_lr"):
        assert registry.resolve(f"schedules.{name}").__name__ == name


def test_cosine_warm_restarts_restart_at_the_end_of_each_longer_cycle():
    from quizgen.reference.schedules import cosine_warm_restarts_lr

    # T_0 = 2, T_mult = 2: cycles of 2, 4, 8 epochs, restarting at t = 2, 6, 14
    got = [cosine_warm_restarts_lr(t, lr0=1.0, T_0=2, T_mult=2) for t in range(8)]
    c = math.cos(math.pi / 4)
    np.testing.assert_allclose(
        got, [1, 0.5, 1, (1 + c) / 2, 0.5, (1 - c) / 2, 1, (1 + math.cos(math.pi / 8)) / 2]
    )
    assert cosine_warm_restarts_lr(14, lr0=0.1, T_0=2, T_mult=2) == pytest.approx(0.1)
    # T_mult = 1: every T_0 epochs, and eta_min is the floor the cosine approaches
    assert cosine_warm_restarts_lr(7, lr0=0.5, T_0=3, eta_min=0.1) == pytest.approx(0.1 + 0.4 * 0.75)
    with pytest.raises(ValueError, match="T_mult"):
        cosine_warm_restarts_lr(1, lr0=1.0, T_0=2, T_mult=0)
    from quizgen.reference.schedules import restart_epochs

    assert restart_epochs(T_0=2, T_mult=2) == (2, 6, 14)
    from quizgen.reference.schedules import restart_cycle

    assert restart_cycle(0, T_0=2, T_mult=2) == (0, 0, 2)
    assert restart_cycle(9, T_0=2, T_mult=2) == (6, 3, 8)  # cycle 6..13
    assert restart_cycle(7, T_0=3) == (6, 1, 3)
    assert restart_epochs(T_0=3, count=2) == (3, 6)
    for t in restart_epochs(T_0=3, T_mult=3, count=3):  # 3, 12, 39: the lr is lr0 again there
        assert cosine_warm_restarts_lr(t, lr0=0.3, T_0=3, T_mult=3) == pytest.approx(0.3)


def test_reduce_on_plateau_waits_until_the_bad_epochs_exceed_the_patience():
    from quizgen.reference.schedules import reduce_on_plateau

    losses = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.9, 0.9, 0.9, 0.9]
    # bad epochs 3, 4, 5: the count reaches 3 > patience 2 at epoch 5, and again at epoch 9
    r = reduce_on_plateau(losses, lr0=1.0, factor=0.5, patience=2)
    assert r.reductions == (5, 9) and r.first_reduction == 5 and r.final_lr == 0.25
    np.testing.assert_array_equal(r.bad_epochs, [0, 0, 1, 2, 0, 0, 1, 2, 0, 1])
    assert reduce_on_plateau(losses, lr0=1.0, factor=0.5, patience=2, trigger="reaches").reductions == (
        4,
        8,
        10,
    )
    # a cooldown of 2 after the drop at epoch 5: epochs 6 and 7 cool down (epoch 7's bad epoch is
    # ignored), so the bad epochs count from 8 and the second drop moves from 9 to 10
    assert reduce_on_plateau(losses, lr0=1.0, factor=0.5, patience=2, cooldown=2).reductions == (5, 10)
    # threshold 0.1 (rel): 0.9 is not better than 1.0 · 0.9, so epochs 2, 3, 4 are bad; 0.8 < 0.9 is
    assert reduce_on_plateau(losses, lr0=1.0, factor=0.5, patience=2, threshold=0.1).reductions == (4, 9)
    # min_lr floors the lr; mode "max" for an accuracy
    assert reduce_on_plateau([1, 1, 1, 1], lr0=0.1, factor=0.1, patience=0, min_lr=0.005).final_lr == 0.005
    assert reduce_on_plateau(
        [0.5, 0.6, 0.6, 0.6], lr0=1.0, factor=0.5, patience=1, mode="max"
    ).reductions == (4,)
    with pytest.raises(ValueError, match="threshold_mode"):
        reduce_on_plateau(losses, lr0=1.0, threshold_mode="relative")


def test_one_cycle_rises_to_max_lr_by_step_pct_start_t_minus_1_then_anneals():
    from quizgen.reference.schedules import one_cycle_lr, one_cycle_momentum, one_cycle_phase_ends

    assert one_cycle_phase_ends(total_steps=50, pct_start=0.25) == (11.5, 49.0)
    assert one_cycle_phase_ends(total_steps=10, three_phase=True) == (2.0, 4.0, 9.0)

    # T = 10, pct_start 0.3: the rise ends at step 0.3 · 10 - 1 = 2, the fall at step 9
    got = [one_cycle_lr(t, max_lr=1.0, total_steps=10) for t in range(10)]
    assert got[0] == pytest.approx(0.04)  # max_lr / 25
    assert got[1] == pytest.approx(0.52)  # halfway up the cosine
    assert got[2] == 1.0
    assert got[3] == pytest.approx(4e-6 + (1 - 4e-6) * (1 + math.cos(math.pi / 7)) / 2)
    assert got[9] == pytest.approx(4e-6)  # 0.04 / 1e4
    assert one_cycle_lr(1, max_lr=1.0, total_steps=10, anneal_strategy="linear") == pytest.approx(0.52)
    assert one_cycle_lr(4, max_lr=1.0, total_steps=10, anneal_strategy="linear") == pytest.approx(
        1 - (1 - 4e-6) * 2 / 7
    )
    # three phases: back down to max_lr / 25 at step 2 · 3 - 2 = 4
    assert one_cycle_lr(4, max_lr=1.0, total_steps=10, three_phase=True) == pytest.approx(0.04)
    # momentum mirrors the lr: 0.95 -> 0.85 at step 2 -> 0.95 at step 9
    assert [one_cycle_momentum(t, total_steps=10) for t in (0, 1, 2, 9)] == pytest.approx(
        [0.95, 0.9, 0.85, 0.95]
    )
    with pytest.raises(ValueError, match="total_steps"):
        one_cycle_lr(11, max_lr=1.0, total_steps=10)


def test_sequential_lr_restarts_each_schedulers_count_at_its_milestone():
    warm = ("linear_lr", {"start_factor": 0.25, "total_iters": 2})
    cos = ("cosine_annealing_lr", {"T_max": 4})
    # epoch 5 is 2 epochs into the cosine: (1 + cos(pi/2)) / 2 = 0.5; counted from 0 it is cos(5 pi/4)
    assert sequential_lr(5, lr0=1.0, schedulers=[warm, cos], milestones=[3]) == pytest.approx(0.5)
    slip = sequential_lr(5, lr0=1.0, schedulers=[warm, cos], milestones=[3], count_from="zero")
    assert slip == pytest.approx((1 + math.cos(5 * math.pi / 4)) / 2)
    with pytest.raises(ValueError, match="count_from"):
        sequential_lr(5, lr0=1.0, schedulers=[warm, cos], milestones=[3], count_from="one")
