import numpy as np
import pytest

from quizgen.reference import perceptron


def test_the_nand_weights_give_nand():
    # w = (-2, -2), b = 3: z = 3, 1, 1, -1 on (0,0), (0,1), (1,0), (1,1)
    np.testing.assert_array_equal(perceptron.net_inputs([-2, -2], 3), [3, 1, 1, -1])
    np.testing.assert_array_equal(perceptron.truth_table([-2, -2], 3), [1, 1, 1, 0])


def test_and_with_a_tie_at_zero_depends_on_the_convention():
    # w = (1, 1), b = -1: z = -1, 0, 0, 1; output 0 at z = 0 gives AND, 1 gives OR
    np.testing.assert_array_equal(perceptron.truth_table([1, 1], -1), [0, 0, 0, 1])
    np.testing.assert_array_equal(perceptron.truth_table([1, 1], -1, at_zero=1), [0, 1, 1, 1])


def test_output_of_the_judges_example():
    # 4·1 + 1·3 + (-3)·2 = 1 <= threshold 3 (b = -3): output 0
    assert perceptron.perceptron_output([4, 1, -3], [1, 3, 2], -3) == 0.0
    assert perceptron.perceptron_output([4, 1, -3], [1, 3, 2], 0) == 1.0


def test_one_step_of_the_learning_rule():
    # w = (1, -1), b = 0, x = (1, 2), t = 1: z = -1, y = 0, error 1; w' = (1.5, 0), b' = 0.5
    s = perceptron.perceptron_step([1, -1], 0, [1, 2], 1, lr=0.5)
    assert (s.z, s.output, s.error, s.b) == (-1.0, 0.0, 1.0, 0.5)
    np.testing.assert_allclose(s.w, [1.5, 0.0])
    flipped = perceptron.perceptron_step([1, -1], 0, [1, 2], 1, lr=0.5, error="output_minus_target")
    np.testing.assert_allclose(flipped.w, [0.5, -2.0])
    assert perceptron.perceptron_step([1, -1], 0, [1, 2], 1, lr=0.5, update_bias=False).b == 0.0


def test_mismatched_shapes_are_a_clear_error():
    with pytest.raises(ValueError, match="one weight per input"):
        perceptron.perceptron_output([1, 2], [1, 2, 3])


def test_an_epoch_updates_after_each_example_unless_batched():
    from quizgen.reference.perceptron import GATE_INPUTS, perceptron_epoch

    # AND from w = (0, 0), b = 0: only (1, 1) is misclassified (z = 0 -> y = 0), once
    r = perceptron_epoch([0, 0], 0, GATE_INPUTS, [0, 0, 0, 1])
    assert r.updates == 1 and r.w.tolist() == [1.0, 1.0] and r.b == 1.0
    # OR from w = (0, 0), b = 0: (0,0) is right (z = 0 -> y = 0); (0,1) is wrong -> w = (0, 1),
    # b = 1; then (1,0) has z = 1 and (1,1) z = 2, both right: one update
    r = perceptron_epoch([0, 0], 0, GATE_INPUTS, [0, 1, 1, 1])
    assert (r.updates, r.w.tolist(), r.b) == (1, [0.0, 1.0], 1.0)
    flipped = perceptron_epoch([0, 0], 0, GATE_INPUTS, [0, 1, 1, 1], error="output_minus_target")
    assert flipped.ws[2].tolist() == [0.0, -1.0] and flipped.bs[2] == -1.0  # moved away from t
    assert r.outputs.tolist() == [0, 0, 1, 1]
    # batched: all four outputs from w = 0, b = 0 are 0; corrections (0,1), (1,0), (1,1) sum to (2, 2), b 3
    batch = perceptron_epoch([0, 0], 0, GATE_INPUTS, [0, 1, 1, 1], mode="batch")
    assert (batch.updates, batch.w.tolist(), batch.b) == (3, [2.0, 2.0], 3.0)
    # Heaviside step (y = 1 at z = 0): (0,0) is wrong first -> b = -1
    h = perceptron_epoch([0, 0], 0, GATE_INPUTS, [0, 1, 1, 1], at_zero=1.0)
    assert h.outputs[0] == 1.0 and h.bs[1] == -1.0
    with pytest.raises(ValueError, match="targets"):
        perceptron_epoch([0, 0], 0, GATE_INPUTS, [0, 1, 1])


def test_gate_targets_follow_the_rows_given():
    from quizgen.reference.perceptron import gate_targets

    assert gate_targets("NAND", [[1, 1], [0, 0], [0, 1]]).tolist() == [0.0, 1.0, 1.0]
    assert gate_targets("NOR", [[0, 0], [1, 0]]).tolist() == [1.0, 0.0]
    assert gate_targets("XOR", [[0, 1], [1, 1]]).tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="gate"):
        gate_targets("XNOR", [[0, 1]])
