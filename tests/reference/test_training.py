import pytest

from quizgen.reference import training


def test_iterations_round_up_unless_the_last_batch_is_dropped():
    assert training.iterations_per_epoch(1000, 64) == 16  # 15 full batches and one of 40
    assert training.iterations_per_epoch(1000, 64, drop_last=True) == 15
    assert training.iterations_per_epoch(1024, 64) == 16
    assert training.total_iterations(1000, 64, 10) == 160


def test_the_4_3_4_network_has_31_parameters():
    assert training.mlp_param_count([4, 3, 4]) == 31  # 3·(4+1) + 4·(3+1)
    assert training.mlp_param_count([4, 3, 4], bias=False) == 24
    with pytest.raises(ValueError, match="at least one layer"):
        training.mlp_param_count([4])


def test_early_stopping_as_keras_counts_it():
    losses = [0.9, 0.7, 0.72, 0.71, 0.75, 0.6]
    # best at epoch 2; epochs 3, 4, 5 do not improve: with patience 3 it stops after epoch 5
    assert training.early_stopping(losses, 3) == (5, 2, 2)
    assert training.early_stopping(losses, 3, restore_best_weights=False) == (5, 2, 5)
    assert training.early_stopping(losses, 3, stop_when="exceeds") == (6, 6, 6)
    # min_delta 0.05: 0.6 < 0.7 - 0.05, but only patience 4 lets training reach it
    assert training.early_stopping(losses, 4, min_delta=0.05) == (6, 6, 6)
    assert training.early_stopping([0.5, 0.49, 0.6], 2, min_delta=0.05) == (3, 1, 1)


def test_gradient_accumulation_steps_once_per_k_mini_batches():
    # 1000 examples in batches of 32: 32 mini-batches (the last of 8); k = 4 -> 8 steps, k = 5 -> 6
    assert training.optimizer_steps_per_epoch(1000, 32, accumulation_steps=4) == 8
    assert training.optimizer_steps_per_epoch(1000, 32, accumulation_steps=5) == 6
    assert training.optimizer_steps_per_epoch(1000, 32, accumulation_steps=5, remainder="step") == 7
    # drop_last: 31 mini-batches, 6 steps of 5
    assert training.optimizer_steps_per_epoch(1000, 32, accumulation_steps=5, drop_last=True) == 6
    assert training.optimizer_steps_per_epoch(1000, 32) == training.iterations_per_epoch(1000, 32)
    assert training.total_optimizer_steps(1000, 32, 3, accumulation_steps=5) == 18
    assert training.effective_batch_size(32, accumulation_steps=4) == 128
    assert training.effective_batch_size(16, accumulation_steps=2, world_size=4) == 128
    with pytest.raises(ValueError, match="remainder"):
        training.optimizer_steps_per_epoch(1000, 32, accumulation_steps=5, remainder="round")
