"""Group normalization (``nn.GroupNorm``), with layer and instance norm as its two ends.

x (N, C, *) is split into G groups of C/G channels; each (sample, group) is normalized over its
channels and positions with the biased variance, then each channel gets its affine γ_c, β_c:

    y = (x - μ_{n,g}) / sqrt(σ²_{n,g} + eps) · γ_c + β_c.

G = 1 normalizes each sample over all its channels (``nn.LayerNorm`` over (C, *), like
``GroupNorm(1, C)``); G = C normalizes each channel of each sample (``nn.InstanceNorm``, affine).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose, positive_int

__all__ = ["GroupNormForward", "group_norm_forward"]


class GroupNormForward(NamedTuple):
    """``out`` (N, C, *); ``mean`` and ``var`` (N, G), the statistics of each group."""

    out: np.ndarray
    mean: np.ndarray
    var: np.ndarray


def group_norm_forward(
    x, num_groups: int, gamma=None, beta=None, *, eps: float = 1e-5, ddof: int = 0
) -> GroupNormForward:
    """``F.group_norm(x, num_groups, gamma, beta, eps)``: x (N, C, *), gamma and beta (C,) or None
    (1 and 0). ``ddof=1`` uses the unbiased variance (the mistake: GroupNorm's is biased)."""
    x = as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"group_norm_forward: x must be (N, C, *), got shape {x.shape}")
    n, c = x.shape[:2]
    g = positive_int(num_groups, "num_groups")
    if c % g:
        raise ValueError(
            f"group_norm_forward: {c} channels do not split into {g} groups; num_groups must divide C"
        )
    ddof = choose(ddof, "ddof", {0: 0, 1: 1})
    grouped = x.reshape(n, g, -1)
    mean = grouped.mean(axis=2)
    var = grouped.var(axis=2, ddof=ddof)
    normed = ((grouped - mean[..., None]) / np.sqrt(var[..., None] + float(eps))).reshape(x.shape)
    affine_shape = (1, c) + (1,) * (x.ndim - 2)
    gamma = np.ones(c) if gamma is None else as_float_array(gamma, "gamma", ndim=1)
    beta = np.zeros(c) if beta is None else as_float_array(beta, "beta", ndim=1)
    return GroupNormForward(normed * gamma.reshape(affine_shape) + beta.reshape(affine_shape), mean, var)
