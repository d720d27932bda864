"""2-D max and average pooling, NCHW and float64, with ``F.max_pool2d`` / ``F.avg_pool2d`` semantics.

Output length along each axis (stride defaults to the kernel size):

    out = floor((size + 2·padding - dilation·(kernel - 1) - 1) / stride) + 1,

or with ``ceil_mode`` the same with ceil, then out -= 1 if (out - 1)·stride >= size + padding (a
last window that would start in the right padding is dropped). PyTorch also requires
padding <= kernel // 2. Without padding this is the course notes' (W - F)/S + 1, floored.

Max pooling pads with -inf and takes, in each window, the first maximum in row-major order
(PyTorch's CPU kernel compares with ``>``; a NaN wins, the last NaN in the window). The backward
sends each output gradient to that element; overlapping windows add up.

Average pooling divides the window sum (zero padding) by, with window rows [h0, h0 + k) where
h0 = i·stride - padding (and the same for columns):
  - ``count_include_pad=True``: (min(h0 + k, H + padding) - h0) · (same for width): the window
    clipped to the padded input, so padding counts but a ``ceil_mode`` overhang does not;
  - ``count_include_pad=False``: the number of real input elements in the window;
  - ``divisor_override``: that integer, always.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_shape, choose, nonnegative_int, pair, positive_int
from .conv import _padded, _scatter_windows, _window_count, _windows

__all__ = [
    "AdaptivePoolForward",
    "PoolCache",
    "PoolForward",
    "adaptive_avgpool2d_forward",
    "adaptive_maxpool2d_forward",
    "adaptive_pool_bins",
    "adaptive_pool_window",
    "avgpool2d_backward",
    "avgpool2d_forward",
    "maxpool2d_backward",
    "maxpool2d_forward",
    "maxpool2d_indices",
    "maxunpool2d",
    "pool_output_size",
]

# ceil_mode -> the rounding of the output-size formula (the formula itself lives in conv).
_ROUNDING_OF_CEIL_MODE = {False: "floor", True: "ceil"}


class _Geometry(NamedTuple):
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]
    padded_shape: tuple[int, int, int, int]  # padded and, for ceil_mode overhangs, extended
    pad_width: tuple  # np.pad widths ((0, 0), (0, 0), (top, bottom), (left, right)) of padded_shape


class PoolCache(NamedTuple):
    """What the backward needs: the geometry, the input shape, and per window the flat kernel
    offset of the max (max pooling) or the divisor (average pooling)."""

    geometry: _Geometry
    x_shape: tuple[int, int, int, int]
    argmax: np.ndarray | None  # (N, C, H_out, W_out) offsets p·kW + q; -1 where no input element
    divisor: np.ndarray | None  # (H_out, W_out)


class PoolForward(NamedTuple):
    out: np.ndarray  # (N, C, H_out, W_out)
    cache: PoolCache


def _flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def pool_output_size(size, kernel, *, stride=None, padding=0, dilation=1, ceil_mode=False) -> int:
    """Output length of max/avg pooling along one axis (ints; stride None means kernel):

        out = floor_or_ceil((size + 2p - d·(k - 1) - 1) / s) + 1,  then with ceil_mode
        out -= 1 if (out - 1)·s >= size + p.

    ValueError if padding > kernel // 2 or out < 1 (PyTorch's checks).
    """
    size = positive_int(size, "size")
    kernel = positive_int(kernel, "kernel")
    stride = kernel if stride is None else positive_int(stride, "stride")
    padding = nonnegative_int(padding, "padding")
    dilation = positive_int(dilation, "dilation")
    ceil_mode = _flag(ceil_mode, "ceil_mode")
    return _output_size(size, kernel, stride, padding, dilation, ceil_mode)


def _output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """``pool_output_size`` of checked ints and flag."""
    if padding > kernel // 2:
        raise ValueError(
            f"padding: expected at most kernel // 2 = {kernel // 2} (half the kernel size {kernel}), "
            f"got {padding}"
        )
    out = int(_window_count(size, kernel, stride, padding, dilation, _ROUNDING_OF_CEIL_MODE[ceil_mode]))
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        extent = dilation * (kernel - 1) + 1
        raise ValueError(
            f"kernel: the window (size {kernel}, dilation {dilation}, so extent {extent}) does not fit "
            f"the padded input size {size + 2 * padding}; output size would be {out}"
        )
    return out


def _geometry(x_shape, kernel, stride, padding, dilation, ceil_mode) -> _Geometry:
    kernel = pair(kernel, "kernel")
    stride = kernel if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding", low=0)
    dilation = pair(dilation, "dilation")
    ceil_mode = _flag(ceil_mode, "ceil_mode")
    n, c, h, w = x_shape
    out_hw, widths, padded = [], [(0, 0), (0, 0)], [n, c]
    for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation, strict=True):
        out = _output_size(size, k, s, p, d, ceil_mode)  # every argument is checked by now
        needed = s * (out - 1) + d * (k - 1) + 1  # last window end; beyond size + 2p in ceil_mode
        extra = max(0, needed - (size + 2 * p))
        out_hw.append(out)
        widths.append((p, p + extra))
        padded.append(size + 2 * p + extra)
    return _Geometry(kernel, stride, padding, dilation, tuple(out_hw), tuple(padded), tuple(widths))


def _input(x) -> np.ndarray:
    x = as_float_array(x, "x", ndim=4)
    if 0 in x.shape:
        raise ValueError(f"x: expected a non-empty (N, C, H, W) array, got shape {x.shape}")
    return x


def _crop(padded: np.ndarray, geo: _Geometry, x_shape) -> np.ndarray:
    (ph, pw), (_, _, h, w) = geo.padding, x_shape
    return np.ascontiguousarray(padded[:, :, ph : ph + h, pw : pw + w])


def maxpool2d_forward(x, kernel, *, stride=None, padding=0, dilation=1, ceil_mode=False) -> PoolForward:
    """Max pooling as ``F.max_pool2d``: x (N, C, H, W) -> out (N, C, H_out, W_out),

        out[n, c, i, j] = max_{p, q} x_pad[n, c, s_h·i + d_h·p, s_w·j + d_w·q]   (x_pad: -inf padding).

    kernel, stride (default kernel), padding, dilation: int or (h, w). The cache records the first
    maximum in row-major window order (the last NaN if the window has one), as PyTorch does.
    """
    x = _input(x)
    geo = _geometry(x.shape, kernel, stride, padding, dilation, ceil_mode)
    n, c = x.shape[:2]
    (kh, kw), (ho, wo) = geo.kernel, geo.out_hw
    xp = _padded(x, geo.pad_width, -np.inf)
    values = _windows(xp, geo.kernel, geo.stride, geo.dilation, geo.out_hw).reshape(n, c, ho, wo, kh * kw)
    out = values.max(axis=-1)  # NaN propagates; an all-padding window (dilation) gives -inf
    is_max = values == out[..., None]
    # Which window entries are input elements (not padding); without padding, all of them.
    padded = geo.padded_shape[2:] != x.shape[2:]
    if padded:
        real = _padded(np.ones((1, 1, *x.shape[2:]), dtype=bool), geo.pad_width, False)
        inside = _windows(real, geo.kernel, geo.stride, geo.dilation, geo.out_hw)
        inside = inside.reshape(1, 1, ho, wo, kh * kw)
        is_max &= inside
    argmax = np.argmax(is_max, axis=-1)  # the first maximum
    is_nan = np.isnan(values)
    if is_nan.any():
        last_nan = kh * kw - 1 - np.argmax(is_nan[..., ::-1], axis=-1)
        argmax = np.where(is_nan.any(axis=-1), last_nan, argmax)
    if padded:
        argmax = np.where(inside.any(axis=-1), argmax, -1)  # no input element: no gradient
    return PoolForward(out, PoolCache(geo, x.shape, argmax, None))


def maxpool2d_backward(dout, cache: PoolCache) -> np.ndarray:
    """dx (N, C, H, W) from dout (N, C, H_out, W_out): each dout[n, c, i, j] is added to the
    input element that was the max of window (i, j); overlapping windows add up."""
    geo = cache.geometry
    n, c = cache.x_shape[:2]
    dout = as_float_array(dout, "dout", ndim=4)
    check_shape(dout, "dout", (n, c, *geo.out_hw))
    (kh, kw) = geo.kernel
    chosen = cache.argmax[..., None] == np.arange(kh * kw)
    cols = np.where(chosen, dout[..., None], 0.0).reshape(*dout.shape, kh, kw)
    return _crop(_scatter_windows(cols, geo.padded_shape, geo.stride, geo.dilation), geo, cache.x_shape)


def _divisors(size: int, out: int, k: int, s: int, p: int, count_include_pad: bool) -> list[int]:
    """Per-axis divisor of each window [h0, h0 + k), h0 = i·s - p: its length clipped to the padded
    input [-p, size + p), or (count_include_pad=False) to the input [0, size). Plain ints: a few
    windows cost less in Python than in NumPy calls."""
    divisors = []
    for start in range(-p, out * s - p, s):
        end = min(start + k, size + p)
        divisors.append(end - start if count_include_pad else min(end, size) - max(start, 0))
    return divisors


def avgpool2d_forward(
    x, kernel, *, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
) -> PoolForward:
    """Average pooling as ``F.avg_pool2d``: x (N, C, H, W) -> out (N, C, H_out, W_out),

        out[n, c, i, j] = Σ_{p, q} x_pad[n, c, s_h·i + p, s_w·j + q] / divisor[i, j]   (zero padding),

    divisor as in the module docstring (count_include_pad, ceil_mode overhang, divisor_override).
    """
    x = _input(x)
    geo = _geometry(x.shape, kernel, stride, padding, 1, ceil_mode)
    include_pad = _flag(count_include_pad, "count_include_pad")
    if divisor_override is None:
        (h, w), (ho, wo) = x.shape[2:], geo.out_hw
        div_h = _divisors(h, ho, geo.kernel[0], geo.stride[0], geo.padding[0], include_pad)
        div_w = _divisors(w, wo, geo.kernel[1], geo.stride[1], geo.padding[1], include_pad)
        divisor = np.array([[dh * dw for dw in div_w] for dh in div_h], dtype=np.float64)
    else:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)):
            raise ValueError(
                f"divisor_override: expected a non-zero integer or None, got {divisor_override!r}"
            )
        if divisor_override == 0:
            raise ValueError("divisor_override: expected a non-zero integer or None, got 0")
        divisor = np.full(geo.out_hw, float(divisor_override))
    xp = _padded(x, geo.pad_width)
    sums = _windows(xp, geo.kernel, geo.stride, geo.dilation, geo.out_hw).sum(axis=(-2, -1))
    return PoolForward(sums / divisor, PoolCache(geo, x.shape, None, divisor))


def avgpool2d_backward(dout, cache: PoolCache) -> np.ndarray:
    """dx (N, C, H, W) from dout (N, C, H_out, W_out): every input element of window (i, j)
    receives dout[n, c, i, j] / divisor[i, j]; overlapping windows add up."""
    geo = cache.geometry
    n, c = cache.x_shape[:2]
    dout = as_float_array(dout, "dout", ndim=4)
    check_shape(dout, "dout", (n, c, *geo.out_hw))
    cols = np.broadcast_to((dout / cache.divisor)[..., None, None], (*dout.shape, *geo.kernel))
    return _crop(_scatter_windows(cols, geo.padded_shape, geo.stride, geo.dilation), geo, cache.x_shape)


# --------------------------------------------------------------------------------------------------
# Adaptive pooling: the output size is given, the windows follow from it.


def _pytorch_bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: [floor(i·size/out), ceil((i+1)·size/out))."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _floor_end_bins(size: int, out: int) -> list[tuple[int, int]]:
    """[floor(i·size/out), floor((i+1)·size/out)): a partition, never overlapping (a mistake)."""
    return [((i * size) // out, ((i + 1) * size) // out) for i in range(out)]


def _fixed_stride_bins(size: int, out: int) -> list[tuple[int, int]]:
    """One window size for all: stride = size // out, kernel = size - (out - 1)·stride (the
    often-quoted recipe; a mistake unless out divides size)."""
    stride = size // out
    kernel = size - (out - 1) * stride
    return [(i * stride, i * stride + kernel) for i in range(out)]


# bins by exact name: (input size, output size) -> [(start, end)] per output index, end exclusive
_ADAPTIVE_BINS = {
    "pytorch": _pytorch_bins,
    "floor_end": _floor_end_bins,
    "fixed_stride": _fixed_stride_bins,
}


def adaptive_pool_bins(size, output_size, *, bins: str = "pytorch") -> tuple[tuple[int, int], ...]:
    """The windows of ``nn.AdaptiveAvgPool2d``/``AdaptiveMaxPool2d`` along one axis: output i
    pools input indices [start_i, end_i) with

        start_i = floor(i · size / out),   end_i = ceil((i + 1) · size / out),

    so neighbouring windows overlap when out does not divide size; e.g. size 5, out 3:
    (0, 2), (1, 4), (3, 5). ``bins`` names the rule: ``"pytorch"``; ``"floor_end"`` (end rounded
    down: a partition, (0, 1), (1, 3), (3, 5)) and ``"fixed_stride"`` (stride size // out, kernel
    size - (out - 1)·stride: (0, 3), (1, 4), (2, 5)) are mistakes.
    """
    size = positive_int(size, "size")
    out = positive_int(output_size, "output_size")
    if out > size:
        raise ValueError(f"output_size: expected at most the input size {size}, got {out}")
    return tuple(choose(bins, "bins", _ADAPTIVE_BINS)(size, out))


def adaptive_pool_window(size, output_size, index, *, bins: str = "pytorch") -> tuple[int, int]:
    """[start, end) of output ``index`` (0-based) of ``adaptive_pool_bins(size, output_size)``."""
    windows = adaptive_pool_bins(size, output_size, bins=bins)
    index = nonnegative_int(index, "index")
    if index >= len(windows):
        raise ValueError(f"index: expected 0 to {len(windows) - 1} (one per output), got {index}")
    return windows[index]


class AdaptivePoolForward(NamedTuple):
    out: np.ndarray  # (N, C, H_out, W_out)
    row_bins: tuple[tuple[int, int], ...]  # [start, end) of the input rows of each output row
    col_bins: tuple[tuple[int, int], ...]


def _adaptive(x, output_size, bins: str, reduce) -> AdaptivePoolForward:
    x = _input(x)
    oh, ow = pair(output_size, "output_size")
    rows = adaptive_pool_bins(x.shape[2], oh, bins=bins)
    cols = adaptive_pool_bins(x.shape[3], ow, bins=bins)
    out = np.empty((*x.shape[:2], oh, ow))
    for i, (r0, r1) in enumerate(rows):  # a few windows: loops over the output grid only
        for j, (c0, c1) in enumerate(cols):
            out[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
    return AdaptivePoolForward(out, rows, cols)


def adaptive_avgpool2d_forward(x, output_size, *, bins: str = "pytorch") -> AdaptivePoolForward:
    """``F.adaptive_avg_pool2d``: x (N, C, H, W) -> out (N, C, H_out, W_out), output_size an
    int or (H_out, W_out); out[n, c, i, j] is the mean of x[n, c, rows_i, cols_j] over the
    windows of ``adaptive_pool_bins`` (``bins`` names the rule, "pytorch" or a mistake)."""
    return _adaptive(x, output_size, bins, np.mean)


def adaptive_maxpool2d_forward(x, output_size, *, bins: str = "pytorch") -> AdaptivePoolForward:
    """``F.adaptive_max_pool2d``: as ``adaptive_avgpool2d_forward`` with the max of each window."""
    return _adaptive(x, output_size, bins, np.max)


# --------------------------------------------------------------------------------------------------
# return_indices and MaxUnpool2d


def _flat_indices(cache: PoolCache) -> np.ndarray:
    """Index p·W + q of each window's max in its (unpadded) H × W channel: PyTorch's indices."""
    geo = cache.geometry
    (_, kw), (sh, sw), (ph, pw), (dh, dw) = geo.kernel, geo.stride, geo.padding, geo.dilation
    ho, wo = geo.out_hw
    p, q = np.divmod(cache.argmax, kw)
    rows = np.arange(ho)[:, None] * sh - ph + p * dh
    cols = np.arange(wo)[None, :] * sw - pw + q * dw
    return rows * cache.x_shape[3] + cols


def _window_indices(cache: PoolCache) -> np.ndarray:
    """The max's offset p·kW + q inside its window (a mistake for return_indices)."""
    return cache.argmax


_INDEX_FORMS = {"flat": _flat_indices, "window": _window_indices}


def maxpool2d_indices(cache: PoolCache, *, form: str = "flat") -> np.ndarray:
    """The ``indices`` of ``F.max_pool2d(..., return_indices=True)`` from ``maxpool2d_forward``'s
    cache: for each output (N, C, H_out, W_out), the position i·W + j of its max in the input's
    flattened H × W plane (the first maximum in row-major window order), as int64.
    ``form="window"`` gives the offset inside the window instead (a mistake)."""
    if not isinstance(cache, PoolCache) or cache.argmax is None:
        raise ValueError("cache: expected the cache of maxpool2d_forward")
    if (cache.argmax < 0).any():
        raise ValueError("cache: a window holds no input element (only padding), so it has no index")
    return choose(form, "form", _INDEX_FORMS)(cache).astype(np.int64)


def _unpool_at_indices(x, idx, h, w, kernel, stride) -> np.ndarray:
    """PyTorch: each value goes to its recorded flat index; zeros elsewhere."""
    n, c = x.shape[:2]
    if not np.all(np.equal(np.mod(idx, 1), 0)) or idx.min() < 0 or idx.max() >= h * w:
        raise ValueError(f"indices: expected integers in 0..{h * w - 1} for output_size ({h}, {w})")
    out = np.zeros((n, c, h * w))
    flat_idx = idx.reshape(n, c, -1).astype(np.int64)
    vals = x.reshape(n, c, -1)
    for k in range(flat_idx.shape[2]):  # in order, so a later write wins as in PyTorch's CPU kernel
        np.put_along_axis(out, flat_idx[:, :, k : k + 1], vals[:, :, k : k + 1], axis=2)
    return out.reshape(n, c, h, w)


def _unpool_windows(x, idx, h, w, kernel, stride) -> np.ndarray:
    """The mistake of reading unpooling as nearest-neighbour upsampling: each value fills its
    whole kernel window (indices ignored)."""
    if kernel is None:
        raise ValueError("kernel: fill='window' needs the pooling kernel")
    kh, kw = pair(kernel, "kernel")
    sh, sw = (kh, kw) if stride is None else pair(stride, "stride")
    out = np.zeros((*x.shape[:2], h, w))
    for i in range(x.shape[2]):
        for j in range(x.shape[3]):
            out[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] = x[:, :, i, j][:, :, None, None]
    return out


_UNPOOL_FILLS = {"index": _unpool_at_indices, "window": _unpool_windows}


def maxunpool2d(x, indices, output_size, *, fill: str = "index", kernel=None, stride=None) -> np.ndarray:
    """``F.max_unpool2d``: x and indices (N, C, H_in, W_in) -> out (N, C, H, W), output_size (H, W);
    zeros everywhere except out[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j] (a later write
    wins where indices repeat). ``fill="window"`` copies each value to its whole kernel × stride
    window instead (nearest-neighbour upsampling, the mistake); it needs ``kernel`` (stride
    defaults to it)."""
    x = as_float_array(x, "x", ndim=4)
    idx = np.asarray(indices)
    check_shape(idx, "indices", x.shape)
    h, w = pair(output_size, "output_size")
    return choose(fill, "fill", _UNPOOL_FILLS)(x, idx, h, w, kernel, stride)
