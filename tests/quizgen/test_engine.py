import json

import numpy as np
import pytest

from quizgen import engine
from quizgen.formatting import plain


def test_same_seed_gives_byte_identical_instances(l2_template):
    a = json.dumps(engine.build_instance(l2_template, 123).to_dict())
    b = json.dumps(engine.build_instance(l2_template, 123).to_dict())
    assert a == b


def test_different_seeds_give_different_parameters(l2_template):
    params = {json.dumps(engine.build_instance(l2_template, s).params) for s in range(30)}
    assert len(params) > 20


def test_constraints_hold_in_every_instance(l2_template):
    lams = {engine.build_instance(l2_template, s).params["lam"] for s in range(200)}
    assert 0.5 not in lams
    assert len(lams) == 8  # 0.1 ... 0.9 without 0.5


def test_expected_answers_come_from_the_reference_call(l2_template):
    from quizgen.reference.regularization import l2_penalty

    inst = engine.build_instance(l2_template, 5)
    w, lam = np.array(inst.params["w"]), inst.params["lam"]
    ref = l2_penalty(w, lam)
    assert inst.part("a").expected == pytest.approx(float(ref.penalty), rel=1e-15)
    assert inst.part("b").expected == pytest.approx(list(ref.grad), rel=1e-15)


def test_mistake_values_are_the_pipeline_with_the_change(l2_template):
    from quizgen.reference.regularization import l2_penalty

    inst = engine.build_instance(l2_template, 5)
    w, lam = np.array(inst.params["w"]), inst.params["lam"]
    mistake = inst.part("a").mistakes[0]
    assert mistake.id == "half_convention"
    assert mistake.value == pytest.approx(float(l2_penalty(w, lam, half=True).penalty))
    assert mistake.distinguishable


def test_later_parts_record_the_parts_they_depend_on(l2_template):
    inst = engine.build_instance(l2_template, 5)
    assert inst.part("c").depends_on == ("b",)
    assert inst.part("b").depends_on == ()


def test_recompute_carries_a_students_earlier_answer_forward(l2_template):
    inst = engine.build_instance(l2_template, 5)
    w = np.array(inst.params["w"])
    wrong_grad = [1.0, -2.0, 0.5]
    redone = engine.recompute(l2_template, inst.params, {"b": wrong_grad})
    # step_w = w - 0.1 * g with the student's g
    np.testing.assert_allclose(redone["c"], w - 0.1 * np.array(wrong_grad), rtol=1e-15)
    assert redone["a"] == inst.part("a").expected  # parts before the override are unchanged


def test_choice_part_offers_the_answer_and_distinct_mistakes_shuffled(l2_template):
    letters = set()
    for seed in range(40):
        inst = engine.build_instance(l2_template, seed)
        part = inst.part("d")
        index = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(part.expected)
        assert part.options[index] == plain(inst.part("a").expected, sig=4)
        assert len(set(part.options)) == len(part.options) >= 2
        assert {m.value for m in part.mistakes} <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(part.options)])
        letters.add(part.expected)
    assert letters == {"A", "B"}  # the right option is not always in the same place


def test_points_are_rescaled_to_the_requested_total(l2_template):
    inst = engine.build_instance(l2_template, 1, points=10)
    assert inst.points == pytest.approx(10)


def test_params_round_trip_through_plain_json(l2_template):
    inst = engine.build_instance(l2_template, 9)
    restored = engine.params_from_plain(l2_template, json.loads(json.dumps(inst.params)))
    assert isinstance(restored["w"], np.ndarray) and restored["w"].dtype == np.float64
    assert restored["lam"] == inst.params["lam"]


def test_to_answer_checks_the_kind():
    assert engine.to_answer("integer", np.float64(4.0)) == 4
    assert engine.to_answer("shape", (2, 3, 4)) == [2, 3, 4]
    with pytest.raises(ValueError, match="whole numbers"):
        engine.to_answer("integer", 2.5)
    with pytest.raises(ValueError, match="must have 2 dimensions"):
        engine.to_answer("matrix", [1.0, 2.0])


def test_building_many_instances_at_once_gives_the_instances_built_one_by_one(builtin_bank):
    seeds = [0, 1, 2**62 + 3, 2**63 - 1]
    for template in builtin_bank.select():
        together = engine.build_instances(template, seeds, points=7)
        alone = [engine.build_instance(template, seed, points=7) for seed in seeds]
        assert [json.dumps(i.to_dict()) for i in together] == [json.dumps(i.to_dict()) for i in alone], (
            template.id
        )


# ---------------------------------------------------------------------- error carried forward


@pytest.fixture(scope="module")
def the_bank():
    from quizgen import bank

    return bank.load_bank(())


def test_a_students_picked_value_reaches_the_steps_that_read_its_source(the_bank):
    """mlp.relu_network_step: yhat is picked from the forward pass that the backward pass
    reads; with MSE, delta1 and dW1 are proportional to yhat - t, so the student's yhat scales
    them by (yhat' - t) / (yhat - t)."""
    template = the_bank.get("mlp.relu_network_step")
    inst = engine.build_instance(template, 4)
    t, yhat = inst.params["t"], inst.part("b").expected
    student = yhat + 1.5
    redone = engine.recompute(template, inst.params, {"b": student})
    ratio = (student - t) / (yhat - t)
    np.testing.assert_allclose(redone["d"], np.asarray(inst.part("d").expected) * ratio, rtol=1e-12)
    np.testing.assert_allclose(redone["e"], np.asarray(inst.part("e").expected) * ratio, rtol=1e-12)
    assert redone["a"] == inst.part("a").expected  # z1 is not downstream of yhat


def test_recompute_parts_makes_each_mistake_on_the_students_values(the_bank):
    from quizgen.reference.losses import half_squared_error, mse

    template = the_bank.get("conv.train_step")
    inst = engine.build_instance(template, 1)
    flipped = next(m.value for m in inst.part("a").mistakes if m.id == "flipped_kernel")
    y, target = np.asarray(flipped), np.asarray(inst.params["t"])
    b = engine.recompute_parts(template, inst.params, {"a": flipped})["b"]
    assert b.key == pytest.approx(float(mse(y, target).loss), rel=1e-12)
    half = next(m for m in b.mistakes if m.id == "half_sum_of_squares")
    assert half.value == pytest.approx(float(half_squared_error(y, target).loss), rel=1e-12)
    assert half.distinguishable and b.slack is None and b.mistake_slack == ()
    assert engine.recompute(template, inst.params, {"a": flipped})["b"] == b.key


def test_slack_bounds_the_key_over_the_carried_values_rounding(the_bank):
    template = the_bank.get("mlp.two_layer_sigmoid_step")
    inst = engine.build_instance(template, 1)
    wrong = np.asarray(inst.part("b").mistakes[0].value)
    margin = np.full(wrong.shape, 5e-5)
    c = engine.recompute_parts(template, inst.params, {"b": wrong}, margins={"b": margin})["c"]
    assert c.slack > 0 and len(c.mistake_slack) == len(c.mistakes)
    for shift in ([5e-5, 5e-5], [-5e-5, 5e-5], [2e-5, -4e-5]):
        moved = engine.recompute(template, inst.params, {"b": wrong + np.asarray(shift)})["c"]
        assert abs(moved - c.key) <= c.slack * (1 + 1e-6)
    unmoved = engine.recompute_parts(template, inst.params, {"b": wrong}, margins={"b": 0 * margin})["c"]
    assert unmoved.slack == 0.0
