"""Stable per-student seeds and the random generators they start.

- :func:`stable_seed`: the same (exam seed, student id, slot) gives the same seed on every
  machine and Python version (SHA-256, not Python's salted ``hash``).
- :func:`make_rng`: the generator of one instance, ``Generator(PCG64(seed))``.
- :func:`rng_factories`: the same generators for many seeds at once. NumPy seeds a PCG64 by
  hashing the seed with a :class:`numpy.random.SeedSequence`, about 10 µs in Python-level calls
  per seed; here the hashing runs once over all the seeds as uint32 array arithmetic, and NumPy
  seeds each PCG64 from the resulting words as it would from its own SeedSequence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache, partial

import numpy as np
from numpy.random.bit_generator import ISeedSequence


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from the parts' text, e.g. ``stable_seed(2026, "s001", 3)``."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


def make_rng(seed: int) -> np.random.Generator:
    """The generator for one instance: PCG64 seeded with the instance seed."""
    return np.random.Generator(np.random.PCG64(seed))


# SeedSequence's constants (O'Neill's seed_seq alternative, as NumPy implements it, pool of 4).
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL = 4
_MASK32 = 0xFFFFFFFF


def _hash_constants(init: int, mult: int, n: int) -> list[np.uint32]:
    """The hash constants SeedSequence multiplies in, one per hash: ``init * mult**k``."""
    out, h = [], init
    for _ in range(n):
        h = (h * mult) & _MASK32
        out.append(np.uint32(h))
    return out


_MIX_CONSTANTS = _hash_constants(_INIT_A, _MULT_A, _POOL + _POOL * (_POOL - 1))
_STATE_CONSTANTS = _hash_constants(_INIT_B, _MULT_B, 2 * _POOL)
_SHIFT = np.uint32(16)


def _hashed(value: np.ndarray, before: np.uint32, after: np.uint32) -> np.ndarray:
    value = (value ^ before) * after
    return value ^ (value >> _SHIFT)


def seed_words(seeds: Sequence[int]) -> np.ndarray:
    """``SeedSequence(seed).generate_state(4, np.uint64)`` for every seed at once, shape (n, 4).

    Seeds must lie in [0, 2**64): their entropy is then two 32-bit words, the pool's other two
    are hashed zeros. Mixing: ``pool[i] = hash(entropy[i])``; then for every ordered pair
    src != dst, ``pool[dst] = mix(pool[dst], hash(pool[src]))`` with
    ``mix(x, y) = L*x - R*y`` (mod 2**32, then ``x ^= x >> 16``); the state's eight 32-bit words
    are ``hash'(pool[i % 4])``, read little-endian in pairs. uint32 arrays wrap as the C does.
    """
    s = np.asarray(seeds, dtype=np.uint64).reshape(-1)
    low = (s & np.uint64(_MASK32)).astype(np.uint32)
    high = (s >> np.uint64(32)).astype(np.uint32)
    zeros = np.zeros_like(low)
    k = iter(_MIX_CONSTANTS)
    before = np.uint32(_INIT_A)
    pool = []
    for entropy in (low, high, zeros, zeros):
        after = next(k)
        pool.append(_hashed(entropy, before, after))
        before = after
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                after = next(k)
                h = _hashed(pool[src], before, after)
                before = after
                mixed = np.uint32(_MIX_L) * pool[dst] - np.uint32(_MIX_R) * h
                pool[dst] = mixed ^ (mixed >> _SHIFT)
    words = np.empty((len(s), 2 * _POOL), dtype="<u4")
    before = np.uint32(_INIT_B)
    for i, after in enumerate(_STATE_CONSTANTS):
        words[:, i] = _hashed(pool[i % _POOL], before, after)
        before = after
    return words.view("<u8").astype(np.uint64)


class _Words(ISeedSequence):
    """A seed sequence whose state is already known (NumPy asks for it once, when seeding)."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words, dtype=np.uint32):
        if n_words != _POOL or dtype is not np.uint64:  # PCG64 asks for exactly this
            raise ValueError("these seed words serve PCG64 only (4 uint64 words)")
        return self.words


def _from_words(words: np.ndarray) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(_Words(words)))


@cache  # checked once, on first use
def _matches_numpy() -> bool:
    """Does :func:`seed_words` seed PCG64 exactly as this NumPy does? (Generator streams are not
    promised across NumPy versions; if this one differs, every seed takes NumPy's own path.)"""
    probe = [0, 1, 0x5EED, 2**32, 2**63 - 1, 2**64 - 1]
    words = seed_words(probe)
    return all(
        np.random.PCG64(seed).state == np.random.PCG64(_Words(w)).state
        for seed, w in zip(probe, words, strict=True)
    )


def rng_factories(seeds: Sequence[int]) -> list[Callable[[], np.random.Generator]]:
    """For each seed, a function returning a fresh :func:`make_rng` (seed): the same stream,
    seeded in one pass over all the seeds (about 1.5 µs per seed rather than 12)."""
    if _matches_numpy() and len(seeds) > 1 and all(type(s) is int and 0 <= s < 2**64 for s in seeds):
        return [partial(_from_words, w) for w in seed_words(seeds)]
    return [partial(make_rng, s) for s in seeds]
