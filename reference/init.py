"""Weight initialisation scales and samplers (``torch.nn.init`` semantics).

Every scheme here draws weights with mean 0 and

    std = gain / sqrt(fan),    uniform bound = sqrt(3) · std   (U(-b, b) has std b / sqrt(3)),

and differs only in the gain and the fan:
  - Xavier/Glorot: fan = (fan_in + fan_out) / 2, so std = gain · sqrt(2 / (fan_in + fan_out)) and
    bound = gain · sqrt(6 / (fan_in + fan_out)).
  - Kaiming/He: fan = fan_in or fan_out (``mode``), gain = ``calculate_gain(nonlinearity, a)``;
    PyTorch's defaults (a = 0, "fan_in", "leaky_relu") give gain sqrt(2).
  - LeCun: fan = fan_in, gain 1. Course note 000 calls N(0, sqrt(1/n_in)) "Xavier"; that is
    LeCun's scale, available as ``convention="lecun"`` on the Xavier functions.
Fans follow ``torch.nn.init._calculate_fan_in_and_fan_out``: for a weight (out, in, *kernel),
fan_in = in · prod(kernel) and fan_out = out · prod(kernel).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._checks import choose, nonnegative, nonnegative_int, one_of

__all__ = [
    "DefaultBounds",
    "Fans",
    "calculate_gain",
    "fans",
    "kaiming_normal",
    "kaiming_normal_std",
    "kaiming_uniform",
    "kaiming_uniform_bound",
    "pytorch_default_bounds",
    "xavier_normal",
    "xavier_normal_std",
    "xavier_uniform",
    "xavier_uniform_bound",
]


class Fans(NamedTuple):
    fan_in: int
    fan_out: int


class DefaultBounds(NamedTuple):
    """Bounds b of the U(-b, b) that ``nn.Linear``/``nn.ConvNd`` draw their weight and bias from."""

    weight: float
    bias: float


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"shape: expected a tuple of sizes, got {shape!r}") from None
    return tuple(nonnegative_int(d, "shape") for d in dims)


def fans(shape) -> Fans:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in · k and out · k with
    k = prod(kernel) (1 for a linear layer). Needs at least 2 dimensions, as PyTorch."""
    dims = _shape(shape)
    if len(dims) < 2:
        raise ValueError(f"shape: expected at least 2 dimensions (out, in, ...), got {dims}")
    receptive = math.prod(dims[2:])
    return Fans(dims[1] * receptive, dims[0] * receptive)


def _constant(value: float) -> Callable[[object], float]:
    return lambda param: value


def _leaky_relu_gain(param) -> float:
    if param is None:
        slope = 0.01
    elif isinstance(param, bool) or not isinstance(param, (int, float, np.integer, np.floating)):
        raise ValueError(f"param: expected a number (negative_slope) for leaky_relu, got {param!r}")
    else:
        slope = float(param)
    return math.sqrt(2.0 / (1.0 + slope**2))


_GAINS: dict[str, Callable[[object], float]] = {
    **{
        name: _constant(1.0)
        for name in (
            "linear",
            "conv1d",
            "conv2d",
            "conv3d",
            "conv_transpose1d",
            "conv_transpose2d",
            "conv_transpose3d",
            "sigmoid",
        )
    },
    "tanh": _constant(5.0 / 3.0),
    "relu": _constant(math.sqrt(2.0)),
    "leaky_relu": _leaky_relu_gain,
    "selu": _constant(3.0 / 4.0),
}


def calculate_gain(nonlinearity: str, param=None) -> float:
    """``torch.nn.init.calculate_gain``: linear, conv*, sigmoid → 1; tanh → 5/3;
    relu → sqrt(2); leaky_relu → sqrt(2 / (1 + slope²)), slope = param or 0.01; selu → 3/4."""
    return choose(nonlinearity, "nonlinearity", _GAINS)(param)


_FANS: dict[str, Callable[[Fans], float]] = {
    "fan_in": lambda f: f.fan_in,
    "fan_out": lambda f: f.fan_out,
    "fan_avg": lambda f: (f.fan_in + f.fan_out) / 2.0,
}
_KAIMING_MODES = ("fan_in", "fan_out")
# Xavier as PyTorch has it, or the LeCun scale that course note 000 labels "Xavier".
_XAVIER_FANS: dict[str, str] = {"pytorch": "fan_avg", "lecun": "fan_in"}


def _std(shape, gain: float, fan_mode: str) -> float:
    """gain / sqrt(fan): the one formula every scheme shares."""
    fan = _FANS[fan_mode](fans(shape))
    if fan == 0:
        raise ValueError(f"shape: expected nonzero fans, got {fans(shape)} for shape {tuple(shape)}")
    return nonnegative(gain, "gain") / math.sqrt(fan)


def _uniform_bound(std: float) -> float:
    return math.sqrt(3.0) * std


def xavier_normal_std(shape, gain: float = 1.0, *, convention: str = "pytorch") -> float:
    """Std of ``xavier_normal_``: gain · sqrt(2 / (fan_in + fan_out)); ``"lecun"``: gain/sqrt(fan_in)."""
    return _std(shape, gain, choose(convention, "convention", _XAVIER_FANS))


def xavier_uniform_bound(shape, gain: float = 1.0, *, convention: str = "pytorch") -> float:
    """Bound b of ``xavier_uniform_``'s U(-b, b): gain · sqrt(6 / (fan_in + fan_out))
    (sqrt(3) · :func:`xavier_normal_std`)."""
    return _uniform_bound(xavier_normal_std(shape, gain, convention=convention))


def kaiming_normal_std(
    shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> float:
    """Std of ``kaiming_normal_``: gain / sqrt(fan), gain = calculate_gain(nonlinearity, a),
    fan = fan_in or fan_out per ``mode``; defaults give sqrt(2 / fan_in)."""
    return _std(shape, calculate_gain(nonlinearity, a), one_of(mode, "mode", _KAIMING_MODES))


def kaiming_uniform_bound(
    shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> float:
    """Bound of ``kaiming_uniform_``: gain · sqrt(3 / fan) (sqrt(3) · :func:`kaiming_normal_std`)."""
    return _uniform_bound(kaiming_normal_std(shape, a, mode, nonlinearity))


def pytorch_default_bounds(shape) -> DefaultBounds:
    """Default init of ``nn.Linear`` and ``nn.Conv*d`` for a weight of ``shape``: weight
    ``kaiming_uniform_(a=sqrt(5))``, i.e. bound 1/sqrt(fan_in); bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    weight = kaiming_uniform_bound(shape, a=math.sqrt(5.0))
    return DefaultBounds(weight, 1.0 / math.sqrt(fans(shape).fan_in))


def _rng(rng_seed) -> np.random.Generator:
    return np.random.default_rng(nonnegative_int(rng_seed, "rng_seed"))


def xavier_uniform(shape, rng_seed: int, gain: float = 1.0, *, convention: str = "pytorch") -> np.ndarray:
    """Weights of ``shape`` drawn from U(-b, b), b = :func:`xavier_uniform_bound`."""
    b = xavier_uniform_bound(shape, gain, convention=convention)
    return _rng(rng_seed).uniform(-b, b, size=_shape(shape))


def xavier_normal(shape, rng_seed: int, gain: float = 1.0, *, convention: str = "pytorch") -> np.ndarray:
    """Weights of ``shape`` drawn from N(0, std²), std = :func:`xavier_normal_std`."""
    std = xavier_normal_std(shape, gain, convention=convention)
    return _rng(rng_seed).normal(0.0, std, size=_shape(shape))


def kaiming_uniform(
    shape, rng_seed: int, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> np.ndarray:
    """Weights of ``shape`` drawn from U(-b, b), b = :func:`kaiming_uniform_bound`."""
    b = kaiming_uniform_bound(shape, a, mode, nonlinearity)
    return _rng(rng_seed).uniform(-b, b, size=_shape(shape))


def kaiming_normal(
    shape, rng_seed: int, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> np.ndarray:
    """Weights of ``shape`` drawn from N(0, std²), std = :func:`kaiming_normal_std`."""
    std = kaiming_normal_std(shape, a, mode, nonlinearity)
    return _rng(rng_seed).normal(0.0, std, size=_shape(shape))
