import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizgen import seeding

SEEDS = st.integers(min_value=0, max_value=2**64 - 1)


def _state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


@given(st.lists(SEEDS, min_size=2, max_size=20))
def test_seeding_many_at_once_gives_each_seed_its_own_generator(seeds):
    for seed, factory in zip(seeds, seeding.rng_factories(seeds), strict=True):
        assert _state(factory()) == _state(seeding.make_rng(seed))


@given(st.lists(SEEDS, min_size=1, max_size=20))
def test_seed_words_are_what_numpys_seed_sequence_generates(seeds):
    want = [np.random.SeedSequence(s).generate_state(4, np.uint64) for s in seeds]
    np.testing.assert_array_equal(seeding.seed_words(seeds), np.array(want, dtype=np.uint64))


def test_each_call_of_a_factory_starts_the_stream_afresh():
    factory = seeding.rng_factories([2**62 + 5, 7])[0]
    first = factory().integers(0, 1000, 10)
    np.testing.assert_array_equal(factory().integers(0, 1000, 10), first)
    np.testing.assert_array_equal(seeding.make_rng(2**62 + 5).integers(0, 1000, 10), first)


@pytest.mark.parametrize("seeds", [[3, 2**64], [3, -1], [np.int64(3), 4], [5]])
def test_seeds_the_fast_path_does_not_take_get_numpys_own_seeding(seeds):
    factories = seeding.rng_factories(seeds)
    assert len(factories) == len(seeds)
    for seed, factory in zip(seeds, factories, strict=True):
        if seed < 0:
            with pytest.raises(ValueError):
                factory()
        else:
            assert _state(factory()) == _state(seeding.make_rng(seed))


def test_a_numpy_that_seeds_differently_gets_its_own_seeding(monkeypatch):
    monkeypatch.setattr(seeding, "_matches_numpy", lambda: False)
    monkeypatch.setattr(seeding, "seed_words", lambda seeds: pytest.fail("the fast path ran"))
    seeds = [11, 2**40]
    for seed, factory in zip(seeds, seeding.rng_factories(seeds), strict=True):
        assert _state(factory()) == _state(seeding.make_rng(seed))


def test_the_fast_path_agrees_with_this_numpy():
    assert seeding._matches_numpy()


def test_known_seed_words_serve_pcg64_only():
    words = seeding._Words(seeding.seed_words([1])[0])
    with pytest.raises(ValueError, match="PCG64 only"):
        words.generate_state(8, np.uint32)
