"""Local response normalization across channels, as ``nn.LocalResponseNorm(size, alpha, beta, k)``.

For x (N, C, *), each channel is divided by a power of the sum of squares of its neighbouring
channels (a window of ``size`` channels, from c - size//2 to c + (size - 1)//2, clipped at the
edges):

    b_c = a_c / (k + (α / n) Σ_{c' in window(c)} a_{c'}²)^β,   n = size.

PyTorch divides α by the window size n (it averages the squares, zero-padded at the edges);
AlexNet's paper writes k + α Σ a² without the 1/n: that reading is the ``alpha_per_size=False``
keyword.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose, positive_int

__all__ = ["LRNForward", "local_response_norm"]


class LRNForward(NamedTuple):
    """``out`` (N, C, *); ``sums`` (N, C, *) the window sums Σ a²; ``denominators`` the
    (k + α' Σ a²)^β each value is divided by."""

    out: np.ndarray
    sums: np.ndarray
    denominators: np.ndarray


def local_response_norm(
    x, size: int, *, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0, alpha_per_size: bool = True
) -> LRNForward:
    """``F.local_response_norm(x, size, alpha, beta, k)`` for x (N, C, *)."""
    x = as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"local_response_norm: x must be (N, C, *), got shape {x.shape}")
    n = positive_int(size, "size")
    scale = choose(alpha_per_size, "alpha_per_size", {True: float(alpha) / n, False: float(alpha)})
    c = x.shape[1]
    sq = x**2
    sums = np.zeros_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - n // 2), min(c, ch + (n - 1) // 2 + 1)
        sums[:, ch] = sq[:, lo:hi].sum(axis=1)
    den = (float(k) + scale * sums) ** float(beta)
    return LRNForward(x / den, sums, den)
