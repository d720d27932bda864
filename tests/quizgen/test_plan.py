"""The compiled plan runs the same pipeline the template describes, only less of it."""

import numpy as np
import pytest

from quizgen import bank, engine, expressions, plan
from quizgen.models import ANSWER_KINDS
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


# ------------------------------------------------------------------ error carried forward's graph


def test_a_picked_part_feeds_the_steps_that_read_its_source():
    relu = plan.plan_for(BANK.get("mlp.relu_network_step")).part_deps
    assert relu["d"] == ("a", "b") and relu["e"] == ("a", "b")  # bwd reads fwd: z1 and yhat
    assert plan.plan_for(BANK.get("mlp.two_layer_sigmoid_step")).part_deps["d"] == ("a", "b")
    # dense_backward reads fwd.cache, not fwd.out: Y is no input of the gradients
    dense = plan.plan_for(BANK.get("mlp.dense_backward")).part_deps
    assert dense["b"] == dense["c"] == dense["d"] == ()


def test_the_hidden_layer_carries_the_output_layer_forward_but_not_w5():
    # dE/dw1..w4 read the output deltas (from the student's outputs) and the hidden outputs; they
    # do not read dE/dw5 or the updated w5 (the gradients are taken at the current weights)
    deps = plan.plan_for(BANK.get("mlp.two_layer_sigmoid_step")).part_deps
    assert deps["f"] == ("a", "b") and deps["g"] == ("a", "b", "f")


def test_read_paths_follow_fields_and_constant_indices():
    assert plan._read_paths("fwd.caches[1]") == {("fwd", ("caches", 1))}
    assert plan._read_paths("[yhat, t]") == {("yhat", ()), ("t", ())}
    assert plan._read_paths("gap.out.reshape(3)") == {("gap", ("out",))}  # a method reads it all
    assert plan._read_paths("x[i]") == {("x", ()), ("i", ())}
    assert plan._read_paths({"a": "w.T", "b": ["s.state.sum"]}) == {("w", ("T",)), ("s", ("state", "sum"))}


def test_write_path_copies_what_it_changes():
    from quizgen.reference.mlp import DenseForward

    cache = object()
    value = DenseForward(np.array([[1, 2]]), cache)
    written = plan.write_path(value, ("out", 0, 1), 2.5)
    assert written.out.tolist() == [[1.0, 2.5]] and written.cache is cache  # ints widen to floats
    assert value.out.tolist() == [[1, 2]]  # the original is untouched
    assert plan.write_path([1, [2, 3]], (1, 0), 9) == [1, [9, 3]]
    assert plan.write_path({"a": (1, 2)}, ("a", 1), 5) == {"a": (1, 5)}
    with pytest.raises(ValueError):
        plan.write_path(np.zeros((2, 2)), (0,), np.zeros(3))  # a student's value of another shape
    with pytest.raises(TypeError):
        plan.write_path(3.0, ("x",), 1)


def _perturbed(part) -> list:
    value = np.asarray(part.expected, dtype=np.float64)
    if part.kind in ("integer", "shape"):
        return [value + 1, value * 2 + 1]
    return [value * 1.37 + 0.29, 0.11 - value, value * 0.5 - 0.3]


def _moves(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape != b.shape or not np.allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # perturbed values may leave a function's domain
def test_part_dependencies_are_exactly_what_moves_the_recomputed_keys():
    """Over the bank: a part lists an earlier part iff perturbing that part's value moves its
    recomputed key; the only exceptions are listed parts picked from one reference call's
    result whose field happens not to use that input (an optimizer's state does not read the
    parameters), which the step graph cannot see inside the call and which cost nothing."""
    unlisted, unmoved = [], set()
    for template in TEMPLATES:
        compiled = plan.plan_for(template)
        spec = {p.id: p for p in template.parts}
        for seed in (1, 2):
            inst = engine.build_instance(template, seed)
            # option parts carry nothing forward
            parts = [p for p in inst.parts if not ANSWER_KINDS[p.kind].choice]
            for i, earlier in enumerate(parts):
                redone = [
                    engine.recompute(template, inst.params, {earlier.id: v}) for v in _perturbed(earlier)
                ]
                for later in parts[i + 1 :]:
                    got = [r.get(later.id) for r in redone]
                    moved = any(g is not None and _moves(g, later.expected) for g in got)
                    rejected = any(g is None for g in got)
                    listed = earlier.id in later.depends_on
                    if not listed and (moved or rejected):
                        unlisted.append((template.id, seed, earlier.id, later.id))
                    if listed and not moved:
                        unmoved.add((template.id, earlier.id, later.id))
                        answer = spec[later.id].answer
                        source = compiled.pick_sources.get(answer, (None,))[0]
                        assert source is not None, (template.id, later.id, "is not a pick")
                        assert source in compiled.influence[spec[earlier.id].answer], (
                            template.id,
                            earlier.id,
                        )
    assert unlisted == []
    assert {t for t, _, _ in unmoved} <= {
        "optim.adagrad_two_steps",
        "optim.adam_two_steps",
        "optim.momentum_two_steps",
    }
