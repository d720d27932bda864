import numpy as np
import pytest

from quizgen import sampling
from quizgen.seeding import make_rng, stable_seed


def draw(spec, env=None, seed=0):
    return sampling.draw(sampling.sampler_kind(spec), make_rng(seed), spec, env or {})


def test_int_draws_cover_the_inclusive_range():
    values = {draw({"int": [2, 4]}, seed=s) for s in range(100)}
    assert values == {2, 3, 4}


def test_int_nonzero_never_draws_zero():
    assert 0 not in {draw({"int": [-1, 1], "nonzero": True}, seed=s) for s in range(100)}


def test_real_draws_lie_on_the_grid_with_exact_decimals():
    values = {draw({"real": [0.1, 0.3, 0.05]}, seed=s) for s in range(200)}
    assert values == {0.1, 0.15, 0.2, 0.25, 0.3}


def test_array_shape_may_use_earlier_parameters():
    x = draw({"array": [1, "C", "H", "H"], "int": [-2, 2]}, env={"C": 2, "H": 3})
    assert x.shape == (1, 2, 3, 3) and x.dtype == np.float64
    assert set(np.unique(x)) <= {-2.0, -1.0, 0.0, 1.0, 2.0}


def test_distinct_arrays_have_no_ties():
    for seed in range(20):
        x = draw({"array": [4, 4], "int": [-9, 9], "distinct": True}, seed=seed)
        assert len(np.unique(x)) == 16


def test_distinct_needs_enough_values():
    with pytest.raises(ValueError, match="distinct values wanted"):
        draw({"array": [3, 3], "int": [0, 3], "distinct": True})


def test_probs_sum_to_one_and_stay_away_from_zero():
    for seed in range(50):
        p = draw({"probs": 4, "step": 0.05}, seed=seed)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert p.min() >= 0.05


def test_onehot_and_label():
    y = draw({"onehot": 5}, seed=3)
    assert y.sum() == 1 and y.shape == (5,)
    labels = draw({"label": 3, "array": [50]}, seed=1)
    assert labels.dtype.kind == "i" and set(labels) <= {0, 1, 2}


def test_derived_is_an_expression_over_earlier_parameters():
    assert draw({"derived": "H + 2 * P"}, env={"H": 5, "P": 1}) == 7


def test_unknown_sampler_lists_the_known_keys():
    with pytest.raises(ValueError, match="expected one of the sampler keys"):
        sampling.sampler_kind({"float": [0, 1]})


def test_bad_range_is_a_clear_error():
    with pytest.raises(ValueError, match="low 5 is above high 1"):
        draw({"int": [5, 1]})


def test_stable_seed_is_fixed_across_processes():
    # A fixed value: the same on every machine and Python version (SHA-256 based).
    assert stable_seed(2026, "s001", 3) == stable_seed(2026, "s001", 3)
    assert stable_seed(2026, "s001", 3) != stable_seed(2026, "s001", 4)
    # Pinned: a change here would silently change every student's numbers on regeneration.
    assert stable_seed(1, "a", 1) == 0x5DA0494017278366


def test_array_draws_are_the_values_rng_choice_would_give():
    # the sampler indexes the value set with rng.integers; pinned to rng.choice's stream so
    # regenerating an exam gives the same numbers as before the change
    spec = {"array": [2, 3], "real": [-1, 1, 0.1], "nonzero": True}
    for seed in range(20):
        values = sampling._elements(spec, {}, "array")
        want = make_rng(seed).choice(values, size=(2, 3))
        assert np.array_equal(draw(spec, seed=seed), want)


def test_cached_value_sets_cannot_be_changed_by_a_draw():
    values = sampling._elements({"array": [2], "int": [-3, 3]}, {}, "array")
    with pytest.raises(ValueError):
        values[0] = 99.0
    x = draw({"array": [4], "int": [-3, 3]})
    x[0] = 99.0  # a drawn array is the caller's own
    assert 99.0 not in sampling._elements({"array": [2], "int": [-3, 3]}, {}, "array")


@pytest.mark.parametrize(
    "spec",
    [
        {"int": [2, 9]},
        {"int": [-3, 3], "nonzero": True},
        {"int": [0, 4], "nonzero": True},
        {"choice": [1, 3, 5, 7]},
        {"choice": ["relu", "tanh"]},
        {"int": ["H", 9]},
        {"real": [0.1, 0.9, 0.1]},
        {"array": [2, 2], "int": [-2, 2]},
        {"array": [3], "real": [-1, 1, 0.25], "nonzero": True},
        {"array": [2, 3], "label": 4},
        {"array": [2, 2], "int": [-9, 9], "distinct": True},
        {"array": [1, "H"], "int": [0, 5]},
    ],
)
def test_compiled_draws_equal_the_generic_sampler(spec):
    kind = sampling.sampler_kind(spec)
    fast = sampling.compile_draw(kind, spec)
    for seed in range(50):
        want = sampling.draw(kind, make_rng(seed), spec, {"H": 3})
        got = fast(make_rng(seed), {"H": 3})
        assert np.array_equal(got, want) and type(got) is type(want)
