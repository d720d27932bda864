"""Preparing inputs: min-max scaling, z-score standardization, one-hot encoding.

Per feature (column) j of X (n, d):
    min-max:  x' = (x - min_j) / (max_j - min_j) · (hi - lo) + lo   (``MinMaxScaler``)
    z-score:  x' = (x - mean_j) / std_j, std with ``ddof`` (``StandardScaler`` uses the population
              std, ddof = 0; ddof = 1 is the sample std)
One-hot (``F.one_hot``): label k of C classes becomes the row e_k; labels (n,) -> (n, C).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, choose, positive_int

__all__ = ["FeatureStats", "feature_stats", "minmax_scale", "one_hot", "standardize", "zscore"]


class FeatureStats(NamedTuple):
    """Per-feature ``min``, ``max``, ``mean`` and ``std`` (with the given ddof), each (d,) or scalar."""

    min: np.ndarray
    max: np.ndarray
    mean: np.ndarray
    std: np.ndarray


def feature_stats(x, *, ddof: int = 0) -> FeatureStats:
    """The statistics the scalers use, per column of x (n, d) or of a vector (n,):
    std = sqrt(Σ (x - mean)² / (n - ddof))."""
    x = as_float_array(x, "x")
    ddof = choose(ddof, "ddof", {0: 0, 1: 1})
    return FeatureStats(x.min(axis=0), x.max(axis=0), x.mean(axis=0), x.std(axis=0, ddof=ddof))


_SPANS = {
    "range": lambda x: x.max(axis=0) - x.min(axis=0),
    "max": lambda x: x.max(axis=0),  # the mistake: dividing by the maximum, not the range
}


def minmax_scale(x, *, feature_range=(0.0, 1.0), denominator: str = "range") -> np.ndarray:
    """Min-max scaling of each column of x (n, d) (or of a vector (n,)) into ``feature_range``:
    (x - min) / (max - min) · (hi - lo) + lo. A constant column is an error.
    ``denominator="max"`` divides by max instead of max - min."""
    x = as_float_array(x, "x")
    lo, hi = (float(v) for v in feature_range)
    span = choose(denominator, "denominator", _SPANS)(x)
    if np.any(span == 0):
        raise ValueError("minmax_scale: a feature is constant (max = min); min-max scaling is undefined")
    return (x - x.min(axis=0)) / span * (hi - lo) + lo


def zscore(x, *, ddof: int = 0) -> np.ndarray:
    """Standardization of each column of x (n, d) (or a vector (n,)): (x - mean) / std, with
    std = sqrt(Σ (x - mean)² / (n - ddof)); ddof = 0 (population) is scikit-learn's."""
    x = as_float_array(x, "x")
    ddof = choose(ddof, "ddof", {0: 0, 1: 1})
    std = x.std(axis=0, ddof=ddof)
    if np.any(std == 0):
        raise ValueError("zscore: a feature is constant (std = 0); standardization is undefined")
    return standardize(x, x.mean(axis=0), std)


def standardize(x, mean, std) -> np.ndarray:
    """(x - mean) / std per column with GIVEN statistics, mean and std (d,) or scalars, x (n, d) or
    (n,): how a fitted ``StandardScaler.transform`` maps new data (validation or test examples are
    scaled with the TRAINING mean and std, never their own). e.g. train mean 10, std 2: 13 -> 1.5."""
    x = as_float_array(x, "x")
    mean = as_float_array(mean, "mean")
    std = as_float_array(std, "std")
    if np.any(std <= 0):
        raise ValueError(f"std: expected positive standard deviations, got {std.tolist()}")
    return (x - mean) / std


_LAYOUTS = {"samples_rows": lambda m: m, "classes_rows": lambda m: m.T}


def one_hot(labels, num_classes: int, *, layout: str = "samples_rows") -> np.ndarray:
    """One-hot rows (n, C): out[i, labels[i]] = 1, else 0, as ``F.one_hot(labels, C)``;
    ``layout="classes_rows"`` gives the transpose (C, n)."""
    c = positive_int(num_classes, "num_classes")
    y = np.asarray(labels)
    if y.ndim != 1 or not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0 or y.max() >= c:
        raise ValueError(f"one_hot: labels must be a vector of integers in 0..{c - 1}, got {labels!r}")
    out = np.zeros((y.size, c))
    out[np.arange(y.size), y.astype(np.int64)] = 1.0
    return choose(layout, "layout", _LAYOUTS)(out)
