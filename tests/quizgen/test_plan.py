"""The compiled plan runs the same pipeline the template describes, only less of it."""

import numpy as np
import pytest

from quizgen import bank, engine, expressions, plan
from quizgen.seeding import make_rng

BANK = bank.load_bank()
TEMPLATES = BANK.select()


def _same(a, b) -> bool:
    return np.array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_each_mistake_rerun_equals_rerunning_the_whole_pipeline(template):
    reruns = plan.plan_for(template).mistakes
    for part in template.parts:  # the engine takes the last re-run value as the mistake's answer
        for m in part.mistakes:
            steps = reruns[part.id, m.id]
            assert not steps or steps[-1].name == part.answer, (part.id, m.id)
    for seed in (3, 17):
        draw = engine.sample(template, seed)
        for part in template.parts:
            for m in part.mistakes:
                try:
                    whole = engine.run_steps(template, draw.params, changes=m.changes)[part.answer]
                except engine.NOT_APPLICABLE:
                    whole = None
                env = dict(draw.values)
                try:
                    for step in reruns[part.id, m.id]:
                        env[step.name] = step.run(env)
                    pruned = env[part.answer]
                except engine.NOT_APPLICABLE:
                    pruned = None
                if whole is None:
                    continue  # a rejected step the part does not need may be skipped now
                assert pruned is not None and _same(pruned, whole), (part.id, m.id, seed)


def test_a_mistake_reruns_only_the_changed_steps_the_answer_needs():
    compiled = plan.plan_for(BANK.get("mlp.relu_network_step"))
    assert [s.name for s in compiled.mistakes["f", "gradient_ascent"]] == ["upd", "W1_new"]
    # changing the loss of the backward pass re-runs it and what reads it, up to dW1 and no further
    assert [s.name for s in compiled.mistakes["e", "half_convention"]] == ["bwd", "dW1"]


def _naive_sample(template, seed):
    """The definition: draw all parameters, run every step, then test every constraint."""
    rng = make_rng(seed)
    for _ in range(engine.MAX_DRAWS):
        params = engine.draw_params(template, rng)
        try:
            values = engine.run_steps(template, params)
        except engine.REJECTED:
            continue
        if all(bool(expressions.evaluate(c, values)) for c in template.constraints):
            return params, values
    raise AssertionError("no draw")


@pytest.mark.parametrize("template", [t for t in TEMPLATES if t.constraints], ids=lambda t: t.id)
def test_early_constraint_checks_accept_the_same_draw(template):
    for seed in (0, 1, 2, 99):
        draw = engine.sample(template, seed)
        params, values = _naive_sample(template, seed)
        assert expressions.to_plain(draw.params) == expressions.to_plain(params)
        assert draw.values.keys() == values.keys()


def test_constraints_run_as_soon_as_their_values_exist_cheapest_first():
    template = BANK.get("metrics.macro_micro")
    order = [name or "check" for name, _ in plan.plan_for(template).schedule]
    # the two label checks need no step; micro_f1 >= 0.4 needs only cm, mic and micro_f1, so a
    # draw failing it never computes the per-class, macro or weighted scores
    assert order[:6] == ["check", "check", "cm", "mic", "micro_f1", "check"]
    assert order.count("check") == len(template.constraints)
    assert sorted(n for n in order if n != "check") == sorted(s.name for s in template.steps)


def test_values_come_back_in_the_templates_order():
    template = BANK.get("metrics.macro_micro")
    draw = engine.sample(template, 5)
    assert list(draw.values)[len(template.params) :] == [s.name for s in template.steps]


def test_unknown_function_in_a_change_fails_when_run_not_when_compiled(l2_template):
    from quizgen.models import StepChange

    step = l2_template.steps[0]
    broken = plan.plan_for(l2_template).changed(step, StepChange(call="regularization.nope"))
    with pytest.raises(ValueError, match="unknown reference function"):
        broken.run({})


def test_the_same_change_in_two_parts_shares_its_rerun_within_an_instance():
    compiled = plan.plan_for(BANK.get("conv.train_step"))
    in_b = {s.name: s.key for s in compiled.mistakes["b", "half_sum_of_squares"]}
    in_c = {s.name: s.key for s in compiled.mistakes["c", "half_sum_of_squares"]}
    other = {s.name: s.key for s in compiled.mistakes["b", "sum_not_mean"]}
    assert in_b["lossr"] == in_c["lossr"]  # the same call changed the same way: one re-run
    assert other["lossr"] != in_b["lossr"]  # another change to the same step is another value


def test_shared_reruns_give_every_part_its_own_mistake_value():
    template = BANK.get("conv.train_step")
    inst = engine.build_instance(template, 11)
    draw = engine.sample(template, 11)
    for part in template.parts:
        for m in part.mistakes:
            want = engine.run_steps(template, draw.params, changes=m.changes)[part.answer]
            got = next(k.value for k in inst.part(part.id).mistakes if k.id == m.id)
            assert _same(got, want), (part.id, m.id)
