"""Layers of an ``nn.Sequential`` as specs: output shapes, parameter counts and the code text.

Each layer is a small frozen dataclass holding its constructor arguments with PyTorch's defaults
(``Conv2d`` has ``bias=True``; ``MaxPool2d``'s ``stride`` defaults to ``kernel_size``;
``Flatten`` flattens from ``start_dim=1``, keeping the batch axis). The same specs give the
answers and the code a question shows, so the two cannot drift apart. Shapes are NCHW tuples
of ints; the formulas live where they always did and are called from here:

  - ``Conv2d``: ``conv.conv_output_shape`` and ``conv.conv_param_count``,
    (k_h·k_w·C_in + 1)·C_out parameters with bias;
  - ``MaxPool2d`` / ``AvgPool2d``: ``pool.pool_output_size`` along H and W, no parameters;
  - ``Linear``: ``mlp.linear_param_count``, out·(in + 1) with bias;
  - ``BatchNorm2d(C)``: 2C parameters (γ and β) and 2C buffers (running mean and variance,
    which are not parameters: ``sum(p.numel() for p in model.parameters())`` leaves them out;
    the one-element ``num_batches_tracked`` is a buffer too and is never counted here);
  - ``ReLU``, ``Flatten``: no parameters; ``Flatten(start_dim, end_dim)`` multiplies the axes
    start_dim..end_dim (negative indices count from the end) into one, as ``torch.flatten``.

Counting conventions, so a textbook mistake is computed by the same code as the answer:
``biases=False`` leaves out every bias vector (a convolution's or linear layer's bias, batch
norm's β); ``buffers=True`` also counts batch norm's running mean and variance.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ._checks import nonnegative_int, pair, positive_int
from .conv import conv_output_shape, conv_param_count
from .mlp import linear_param_count
from .pool import pool_output_size

__all__ = [
    "AvgPool2d",
    "BatchNorm2d",
    "Conv2d",
    "Flatten",
    "Linear",
    "MaxPool2d",
    "NetworkTrace",
    "ReLU",
    "output_shape",
    "param_count",
    "sequential_code",
    "total_param_count",
    "trace",
]

Shape = tuple[int, ...]


def _shape(value, name: str = "input_shape") -> Shape:
    try:
        dims = tuple(value)
    except TypeError:
        raise ValueError(f"{name}: expected a shape (a list of sizes), got {value!r}") from None
    if not dims:
        raise ValueError(f"{name}: expected at least one size, got an empty shape")
    return tuple(positive_int(d, name) for d in dims)


def _nchw(layer, input_shape) -> tuple[int, int, int, int]:
    dims = _shape(input_shape)
    if len(dims) != 4:
        raise ValueError(
            f"input_shape: {layer.code()} expects a batch (N, C, H, W) here, got {len(dims)} sizes {dims}"
        )
    return dims  # type: ignore[return-value]


def _bool(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return value


def _kernel_text(value) -> str:
    return str(value) if isinstance(value, int) else f"({value[0]}, {value[1]})"


@dataclass(frozen=True)
class Conv2d:
    """``nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)``;
    kernel_size, stride, padding an int or a pair (h, w). (N, C_in, H, W) -> (N, C_out, H_out,
    W_out), H_out = floor((H + 2·padding - kernel) / stride) + 1."""

    in_channels: int
    out_channels: int
    kernel_size: int | tuple[int, int]
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] = 0
    bias: bool = True

    def __post_init__(self) -> None:
        positive_int(self.in_channels, "in_channels")
        positive_int(self.out_channels, "out_channels")
        pair(self.kernel_size, "kernel_size")
        pair(self.stride, "stride")
        pair(self.padding, "padding", low=0)
        _bool(self.bias, "bias")

    def output_shape(self, input_shape) -> Shape:
        kh, kw = pair(self.kernel_size, "kernel_size")
        weight = (self.out_channels, self.in_channels, kh, kw)
        return conv_output_shape(_nchw(self, input_shape), weight, stride=self.stride, padding=self.padding)

    def param_count(self, biases: bool, buffers: bool) -> int:
        return conv_param_count(
            self.in_channels, self.out_channels, self.kernel_size, bias=self.bias and biases
        )

    def code(self) -> str:
        args = [
            str(self.in_channels),
            str(self.out_channels),
            f"kernel_size={_kernel_text(self.kernel_size)}",
        ]
        if self.stride != 1:
            args.append(f"stride={_kernel_text(self.stride)}")
        if self.padding != 0:
            args.append(f"padding={_kernel_text(self.padding)}")
        if not self.bias:
            args.append("bias=False")
        return f"nn.Conv2d({', '.join(args)})"


@dataclass(frozen=True)
class BatchNorm2d:
    """``nn.BatchNorm2d(num_features)``: shape unchanged; 2C parameters (γ, β) and 2C buffers
    (running mean, running variance)."""

    num_features: int

    def __post_init__(self) -> None:
        positive_int(self.num_features, "num_features")

    def output_shape(self, input_shape) -> Shape:
        dims = _nchw(self, input_shape)
        if dims[1] != self.num_features:
            raise ValueError(
                f"input_shape: {self.code()} expects {self.num_features} channels, got {dims[1]} in {dims}"
            )
        return dims

    def param_count(self, biases: bool, buffers: bool) -> int:
        # γ always, β unless biases are left out; running mean and variance only as buffers
        return self.num_features * (1 + int(biases) + 2 * int(buffers))

    def code(self) -> str:
        return f"nn.BatchNorm2d({self.num_features})"


@dataclass(frozen=True)
class ReLU:
    """``nn.ReLU()``: shape unchanged, no parameters."""

    def output_shape(self, input_shape) -> Shape:
        return _shape(input_shape)

    def param_count(self, biases: bool, buffers: bool) -> int:
        return 0

    def code(self) -> str:
        return "nn.ReLU()"


@dataclass(frozen=True)
class _Pool2d:
    kernel_size: int
    stride: int | None = None
    padding: int = 0

    def __post_init__(self) -> None:
        positive_int(self.kernel_size, "kernel_size")
        if self.stride is not None:
            positive_int(self.stride, "stride")
        nonnegative_int(self.padding, "padding")

    def output_shape(self, input_shape) -> Shape:
        n, c, h, w = _nchw(self, input_shape)
        size = [
            pool_output_size(s, self.kernel_size, stride=self.stride, padding=self.padding) for s in (h, w)
        ]
        return (n, c, *size)

    def param_count(self, biases: bool, buffers: bool) -> int:
        return 0

    def code(self) -> str:
        name = type(self).__name__
        if self.stride is None and self.padding == 0:
            return f"nn.{name}({self.kernel_size})"
        args = [f"kernel_size={self.kernel_size}"]
        if self.stride is not None:
            args.append(f"stride={self.stride}")
        if self.padding:
            args.append(f"padding={self.padding}")
        return f"nn.{name}({', '.join(args)})"


@dataclass(frozen=True)
class MaxPool2d(_Pool2d):
    """``nn.MaxPool2d(kernel_size, stride=None, padding=0)``; stride None means kernel_size.
    (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2·padding - kernel) / stride) + 1."""


@dataclass(frozen=True)
class AvgPool2d(_Pool2d):
    """``nn.AvgPool2d(kernel_size, stride=None, padding=0)``; sizes as ``MaxPool2d``."""


@dataclass(frozen=True)
class Flatten:
    """``nn.Flatten(start_dim=1, end_dim=-1)``: axes start_dim..end_dim become one of their
    product, e.g. (N, C, H, W) -> (N, C·H·W)."""

    start_dim: int = 1
    end_dim: int = -1

    def output_shape(self, input_shape) -> Shape:
        dims = _shape(input_shape)
        start, end = (d + len(dims) if d < 0 else d for d in (self.start_dim, self.end_dim))
        if not 0 <= start <= end < len(dims):
            raise ValueError(
                f"input_shape: {self.code()} cannot flatten axes {self.start_dim}..{self.end_dim} "
                f"of a {len(dims)}-axis shape {dims}"
            )
        return (*dims[:start], math.prod(dims[start : end + 1]), *dims[end + 1 :])

    def param_count(self, biases: bool, buffers: bool) -> int:
        return 0

    def code(self) -> str:
        args = [] if self.start_dim == 1 else [f"start_dim={self.start_dim}"]
        if self.end_dim != -1:
            args.append(f"end_dim={self.end_dim}")
        return f"nn.Flatten({', '.join(args)})"


@dataclass(frozen=True)
class Linear:
    """``nn.Linear(in_features, out_features, bias=True)``: (..., in) -> (..., out);
    out·(in + 1) parameters with bias."""

    in_features: int
    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        positive_int(self.in_features, "in_features")
        positive_int(self.out_features, "out_features")
        _bool(self.bias, "bias")

    def output_shape(self, input_shape) -> Shape:
        dims = _shape(input_shape)
        if dims[-1] != self.in_features:
            raise ValueError(
                f"input_shape: {self.code()} expects a last axis of {self.in_features} features, "
                f"got {dims[-1]} in {dims} (mat1 and mat2 shapes cannot be multiplied)"
            )
        return (*dims[:-1], self.out_features)

    def param_count(self, biases: bool, buffers: bool) -> int:
        return linear_param_count(self.in_features, self.out_features, bias=self.bias and biases)

    def code(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"nn.Linear({self.in_features}, {self.out_features}{extra})"


_LAYER_TYPES = (Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Flatten, Linear)
_CHANNEL_LAYERS = (Conv2d, BatchNorm2d)  # the layers that check the input's channel count
for _type in _LAYER_TYPES:  # a text prints a layer as its code: {{ conv1 }} -> nn.Conv2d(3, 6, ...)
    _type.__str__ = _type.code  # type: ignore[method-assign]


def _layer(layer, name: str = "layer"):
    if not isinstance(layer, _LAYER_TYPES):
        known = ", ".join(t.__name__ for t in _LAYER_TYPES)
        raise ValueError(f"{name}: expected a layer spec ({known}), got {type(layer).__name__}")
    return layer


def _layers(layers) -> tuple:
    items = tuple(layers)
    if not items:
        raise ValueError("layers: expected at least one layer")
    return tuple(_layer(layer, f"layers[{i}]") for i, layer in enumerate(items))


def output_shape(layer, input_shape, *, check_channels: bool = True) -> Shape:
    """The shape ``layer`` gives for an input of ``input_shape`` (see the layer's class);
    ValueError where PyTorch would raise (channels or features that do not match, a kernel
    larger than the padded input). ``check_channels=False`` reads only N, H and W of an NCHW
    input, taking the channels a ``Conv2d`` or ``BatchNorm2d`` expects as given: the shape rule
    applied to a student's earlier shape whose channel count is wrong (error carried forward)."""
    layer = _layer(layer)
    if not _bool(check_channels, "check_channels") and isinstance(layer, _CHANNEL_LAYERS):
        n, _, h, w = _nchw(layer, input_shape)
        channels = layer.in_channels if isinstance(layer, Conv2d) else layer.num_features
        input_shape = (n, channels, h, w)
    return layer.output_shape(input_shape)


def param_count(layer, *, biases: bool = True, buffers: bool = False) -> int:
    """Learnable parameters of ``layer``, as ``sum(p.numel() for p in layer.parameters())``.
    ``biases=False`` leaves out the bias vectors; ``buffers=True`` adds batch norm's running
    statistics (both mistakes)."""
    return _layer(layer).param_count(_bool(biases, "biases"), _bool(buffers, "buffers"))


def total_param_count(layers: Sequence, *, biases: bool = True, buffers: bool = False) -> int:
    """Σ ``param_count`` over ``layers``: the parameters of ``nn.Sequential(*layers)``."""
    return sum(param_count(layer, biases=biases, buffers=buffers) for layer in _layers(layers))


class NetworkTrace(NamedTuple):
    """``shapes[i]``: the shape after layer i; ``params[i]``: its parameter count; ``total``."""

    shapes: tuple[Shape, ...]
    params: tuple[int, ...]
    total: int


def trace(layers: Sequence, input_shape) -> NetworkTrace:
    """Shapes and parameter counts through ``nn.Sequential(*layers)`` for an input of
    ``input_shape``: shapes[i] = layers[i](shapes[i - 1]), shapes[-1] the input."""
    shapes, params = [], []
    shape = _shape(input_shape)
    for i, layer in enumerate(_layers(layers)):
        try:
            shape = layer.output_shape(shape)
        except ValueError as exc:
            raise ValueError(f"layers[{i}] ({layer.code()}): {exc}") from None
        shapes.append(shape)
        params.append(param_count(layer))
    return NetworkTrace(tuple(shapes), tuple(params), sum(params))


def sequential_code(
    layers: Sequence, *, name: str = "model", numbered: bool = True, hide_in_features: bool = False
) -> str:
    """The PyTorch code of ``name = nn.Sequential(*layers)``, one layer a line, arguments at
    their defaults left out; ``numbered`` ends each line with ``# i``, the layer's index
    (``model[i]``); ``hide_in_features`` writes the first ``Linear``'s in_features as ``D``
    (for a question asking what it must be)."""
    if not name.isidentifier():
        raise ValueError(f"name: expected a Python identifier, got {name!r}")
    items = _layers(layers)
    codes = [layer.code() for layer in items]
    if _bool(hide_in_features, "hide_in_features"):
        first = next((i for i, layer in enumerate(items) if isinstance(layer, Linear)), None)
        if first is None:
            raise ValueError("hide_in_features: the layers have no Linear layer")
        codes[first] = dataclasses.replace(items[first], in_features=1).code().replace("(1, ", "(D, ", 1)
    lines = [f"    {code}," for code in codes]
    if numbered:
        width = max(len(line) for line in lines)
        lines = [f"{line.ljust(width)}  # {i}" for i, line in enumerate(lines)]
    return "\n".join([f"{name} = nn.Sequential(", *lines, ")"])
