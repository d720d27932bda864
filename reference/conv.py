"""2-D convolution, NCHW and float64, with ``torch.nn.functional.conv2d`` semantics.

For input x (N, C_in, H, W), weight w (C_out, C_in/groups, kH, kW) and bias b (C_out,),
output channel o of group g = o // (C_out/groups) reads only input channels
c in [g·C_in/groups, (g+1)·C_in/groups):

    out[n, o, i, j] = b[o] + Σ_{c, p, q} w[o, c, p, q] · x_pad[n, g·C_in/groups + c, s_h·i + d_h·p, s_w·j + d_w·q]

(cross-correlation: what deep learning, and PyTorch, call "convolution"), and along each axis

    size_out = floor((size + 2·padding - dilation·(kernel - 1) - 1) / stride) + 1.

``padding`` is an int, a pair (h, w), or a mode by exact name as ``nn.Conv2d`` takes it:
``"valid"`` is padding 0; ``"same"`` (stride 1 only, as PyTorch refuses it for strided
convolutions) pads each axis by total = dilation·(kernel - 1), left = total // 2 before and
right = total - left after, so size_out = size. An even kernel pads one more zero after (bottom,
right) than before: k = 4, d = 1 gives (1, 2). That is PyTorch's ``_convolution_same``.

Conventions, so a textbook mistake is computed by the same code as the answer:
  - ``convention``: ``"cross_correlation"`` (PyTorch) or ``"convolution"``, the signal-processing
    convolution, which is cross-correlation with the kernel flipped in both spatial axes.
  - ``rounding`` (output sizes): ``"floor"`` (PyTorch); ``"exact"``, the formula
    (W - F + 2P)/S + 1 of course notes 000 and 001 taken literally (a fraction when S does not
    divide); ``"ceil"`` (the rounding of ``ceil_mode`` pooling, a mistake for convolution).

Course note 001 (section 3.2.3) prints the 3×3 map [[4, 3, 4], [2, 4, 3], [2, 3, 4]] for a 5×5
image that gives [[4, 3, 3], [2, 3, 3], [2, 3, 4]]; the printed map belongs to the image of note 004
(row 1 = 0 1 1 1 0), see tests/reference/test_conv.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_shape, choose, nonnegative_int, one_of, pair, positive_int

__all__ = [
    "ConvCache",
    "ConvForward",
    "ConvGrads",
    "ConvTransposeForward",
    "conv2d_backward",
    "conv2d_forward",
    "conv_macs",
    "conv_output_shape",
    "conv_output_size",
    "conv_padding",
    "conv_param_count",
    "conv_transpose2d_forward",
    "conv_transpose_output_size",
    "receptive_field",
]


# Output size from span = size + 2p - d(k - 1) - 1 and the stride: rounding(span / stride) + 1.
_ROUNDINGS: dict[str, Callable[[int, int], float]] = {
    "floor": lambda span, stride: span // stride + 1,
    "ceil": lambda span, stride: -(-span // stride) + 1,
    "exact": lambda span, stride: span / stride + 1,
}


def _flip(w: np.ndarray) -> np.ndarray:
    return w[:, :, ::-1, ::-1]


# The kernel that cross-correlation is run with; each map is its own inverse, so the same map
# turns the cross-correlation weight gradient back into the gradient of ``w``.
_CONVENTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "cross_correlation": lambda w: w,
    "convolution": _flip,
}


class ConvCache(NamedTuple):
    """What ``conv2d_backward`` needs: the im2col matrix, the kernel actually applied, geometry."""

    cols: np.ndarray  # (groups, N·H_out·W_out, C_in/groups·kH·kW)
    w_applied: np.ndarray  # (C_out, C_in/groups, kH, kW), flipped for "convolution"
    x_shape: tuple[int, int, int, int]
    out_shape: tuple[int, int, int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    convention: str
    has_bias: bool
    padding_after: tuple[int, int] | None = None  # (bottom, right); None: equal to ``padding``


class ConvForward(NamedTuple):
    out: np.ndarray  # (N, C_out, H_out, W_out)
    cache: ConvCache


class ConvGrads(NamedTuple):
    dx: np.ndarray  # (N, C_in, H, W)
    dw: np.ndarray  # (C_out, C_in/groups, kH, kW)
    db: np.ndarray | None  # (C_out,), or None when the forward had no bias


def _window_count(size: int, kernel: int, stride: int, padding: int, dilation: int, rounding: str) -> float:
    """rounding((size + 2·padding - dilation·(kernel - 1) - 1) / stride) + 1, unchecked."""
    return _padded_window_count(size, kernel, stride, 2 * padding, dilation, rounding)


def _padded_window_count(size, kernel, stride, pad_total, dilation, rounding: str) -> float:
    """rounding((size + pad_total - dilation·(kernel - 1) - 1) / stride) + 1, unchecked; pad_total
    = before + after (2·padding when symmetric)."""
    span = size + pad_total - dilation * (kernel - 1) - 1
    return choose(rounding, "rounding", _ROUNDINGS)(span, stride)


def _fitting_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, rounding: str, axis="", pad_after=None
):
    """``_window_count`` of checked ints, once the dilated kernel is known to fit the padded input;
    ``pad_after`` (default: ``padding``) is the padding after the input, before it is ``padding``."""
    pad_after = padding if pad_after is None else pad_after
    extent = dilation * (kernel - 1) + 1
    if extent > size + padding + pad_after:
        shown = f"2·padding {padding}" if pad_after == padding else f"padding {padding} + {pad_after}"
        raise ValueError(
            f"kernel{axis}: the kernel (size {kernel}, dilation {dilation}, so extent {extent}) is larger "
            f"than the padded input size {size + padding + pad_after} (size {size} + {shown})"
        )
    return _padded_window_count(size, kernel, stride, padding + pad_after, dilation, rounding)


def _same_padding(kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """PyTorch's 'same' padding of one axis: total = dilation·(kernel - 1), (total // 2, total -
    total // 2) before and after; ValueError for stride > 1, which PyTorch refuses."""
    if stride != 1:
        raise ValueError(
            f"padding: 'same' is not supported for strided convolutions (stride {stride}), as in "
            "PyTorch; use stride=1 or give the padding as an integer"
        )
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def _valid_padding(kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """'valid': no padding."""
    return 0, 0


# padding modes by exact name: (kernel, stride, dilation) of one axis -> (before, after)
_PADDING_MODES: dict[str, Callable[[int, int, int], tuple[int, int]]] = {
    "same": _same_padding,
    "valid": _valid_padding,
}


def _axis_padding(padding, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) of one axis for an int padding or a mode name."""
    if isinstance(padding, str):
        return choose(padding, "padding", _PADDING_MODES)(kernel, stride, dilation)
    p = nonnegative_int(padding, "padding")
    return p, p


def _pad_pairs(padding, kernel, stride, dilation) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, left), (bottom, right)): the padding before and after in H and W, for padding an
    int, a pair (h, w) or a mode name ("same", "valid"); kernel, stride, dilation checked pairs."""
    if isinstance(padding, str):
        h = _axis_padding(padding, kernel[0], stride[0], dilation[0])
        w = _axis_padding(padding, kernel[1], stride[1], dilation[1])
        return (h[0], w[0]), (h[1], w[1])
    p = pair(padding, "padding", low=0)
    return p, p


def conv_output_size(size, kernel, *, stride=1, padding=0, dilation=1, rounding: str = "floor"):
    """Output length of a convolution along one axis (all arguments ints, padding also "same"
    or "valid"):

        floor((size + before + after - dilation·(kernel - 1) - 1) / stride) + 1,

    before = after = padding for an int; "valid" is 0; "same" (stride 1) gives size itself.
    ``rounding="exact"`` returns the unrounded (W - F + 2P)/S + 1 of the course notes (a float);
    ``"ceil"`` rounds up. ValueError if the dilated kernel is larger than the padded input.
    """
    size = positive_int(size, "size")
    kernel = positive_int(kernel, "kernel")
    stride = positive_int(stride, "stride")
    dilation = positive_int(dilation, "dilation")
    before, after = _axis_padding(padding, kernel, stride, dilation)
    return _fitting_size(size, kernel, stride, before, dilation, rounding, pad_after=after)


def conv_padding(kernel, *, padding="same", stride=1, dilation=1) -> tuple[tuple[int, int], tuple[int, int]]:
    """The zeros ``nn.Conv2d`` adds, ((top, bottom), (left, right)), for padding an int, a pair
    (h, w), "valid" or "same"; kernel, stride, dilation int or (h, w). For "same" (stride 1) each
    axis gets total = dilation·(kernel - 1): top = total // 2, bottom = total - top (and so for
    left, right). e.g. kernel 4: ((1, 2), (1, 2)); kernel (3, 2), dilation 2: ((2, 2), (1, 1))."""
    kernel = pair(kernel, "kernel")
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    before, after = _pad_pairs(padding, kernel, stride, dilation)
    return (before[0], after[0]), (before[1], after[1])


def _dims4(shape, name: str) -> tuple[int, int, int, int]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"{name}: expected 4 sizes, got {shape!r}") from None
    if len(dims) != 4:
        raise ValueError(f"{name}: expected 4 sizes, got {dims}")
    return tuple([positive_int(d, name) for d in dims])  # type: ignore[return-value]


def conv_output_shape(
    input_shape, weight_shape, *, stride=1, padding=0, dilation=1, groups=1
) -> tuple[int, int, int, int]:
    """(N, C_out, H_out, W_out) for input (N, C_in, H, W) and weight (C_out, C_in/groups, kH, kW);
    each spatial size is ``conv_output_size``. stride, padding, dilation: int or (h, w); padding
    also "same" (stride 1; H_out, W_out = H, W) or "valid" (0)."""
    return _output_shape(input_shape, weight_shape, stride, padding, dilation, groups)[0]


def _output_shape(input_shape, weight_shape, stride, padding, dilation, groups):
    """``conv_output_shape``, and the checked (stride, padding, dilation) pairs it used."""
    n, c_in, h, w = _dims4(input_shape, "input_shape")
    c_out, c_group, kh, kw = _dims4(weight_shape, "weight_shape")
    groups = positive_int(groups, "groups")
    if c_out % groups:
        raise ValueError(
            f"groups: out_channels {c_out} (weight_shape[0]) is not divisible by groups {groups}"
        )
    if c_in != groups * c_group:
        raise ValueError(
            f"input_shape: expected {groups * c_group} input channels (groups {groups} × "
            f"weight_shape[1] {c_group}), got {c_in}"
        )
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    (ph, pw), (ph_after, pw_after) = _pad_pairs(padding, (kh, kw), stride, dilation)
    (sh, sw), (dh, dw) = stride, dilation
    # every size is checked by now (_dims4, pair and _pad_pairs): only whether the kernel fits is left
    ho = _fitting_size(h, kh, sh, ph, dh, "floor", " (height)", pad_after=ph_after)
    wo = _fitting_size(w, kw, sw, pw, dw, "floor", " (width)", pad_after=pw_after)
    return (n, c_out, int(ho), int(wo)), (stride, (ph, pw), dilation, (ph_after, pw_after))


def _padded(x: np.ndarray, pad_width, fill=0) -> np.ndarray:
    """``np.pad(x, pad_width, constant_values=fill)`` for x (N, C, H, W) padded in H and W only,
    pad_width ((0, 0), (0, 0), (top, bottom), (left, right)): a new C-contiguous array, made
    without np.pad's per-call cost (tens of µs, most of a small convolution)."""
    n, c, h, w = x.shape
    (top, bottom), (left, right) = pad_width[2], pad_width[3]
    if not (top or bottom or left or right):
        return x.copy()  # C order
    out = np.full((n, c, top + h + bottom, left + w + right), fill, dtype=x.dtype)
    out[:, :, top : top + h, left : left + w] = x
    return out


def _windows(xp: np.ndarray, kernel, stride, dilation, out_hw) -> np.ndarray:
    """View (N, C, H_out, W_out, kH, kW) of the C-contiguous padded xp (as ``_padded`` makes it):
    window (i, j) starts at (s_h·i, s_w·j) and takes every d-th element, so

        view[n, c, i, j, p, q] = xp[n, c, s_h·i + d_h·p, s_w·j + d_w·q].

    The strides are those of sliding_window_view(xp, extent)[:, :, ::s_h, ::s_w, ::d_h, ::d_w]
    (tests/reference/test_conv.py compares them), set directly: that call costs tens of µs.
    xp must be at least s·(out - 1) + d·(k - 1) + 1 long per axis (NumPy checks the extent)."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    n, c = xp.shape[:2]
    s_n, s_c, s_h, s_w = xp.strides
    strides = (s_n, s_c, sh * s_h, sw * s_w, dh * s_h, dw * s_w)
    view = np.ndarray((n, c, ho, wo, kh, kw), xp.dtype, xp, 0, strides)
    view.flags.writeable = False  # overlapping windows share memory; read-only like sliding_window_view
    return view


def _scatter_windows(cols: np.ndarray, padded_shape, stride, dilation) -> np.ndarray:
    """Adjoint of ``_windows``: add each window entry of cols (N, C, H_out, W_out, kH, kW) back to
    the padded position it was read from (overlapping windows add up)."""
    _, _, ho, wo, kh, kw = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    out = np.zeros(padded_shape)
    for p in range(kh):  # a loop over kernel offsets, never over output pixels
        for q in range(kw):
            out[:, :, p * dh : p * dh + sh * (ho - 1) + 1 : sh, q * dw : q * dw + sw * (wo - 1) + 1 : sw] += (
                cols[:, :, :, :, p, q]
            )
    return out


def conv2d_forward(
    x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, convention: str = "cross_correlation"
) -> ConvForward:
    """2-D convolution as ``F.conv2d`` (zero padding). Shapes: x (N, C_in, H, W),
    w (C_out, C_in/groups, kH, kW), b (C_out,) or None; out (N, C_out, H_out, W_out) with

        out[n, o, i, j] = b[o] + Σ w[o, c, p, q] · x_pad[n, g·C_in/groups + c, s_h·i + d_h·p, s_w·j + d_w·q],

    g = o // (C_out/groups). ``convention="convolution"`` runs the same sum with w flipped in both
    spatial axes (true convolution). Computed as an im2col matrix product per group. ``padding``
    "same" pads top/left by total // 2 and bottom/right by the rest, total = dilation·(k - 1)
    (``conv_padding``); "valid" is 0.
    """
    x = as_float_array(x, "x", ndim=4)
    w = as_float_array(w, "w", ndim=4)
    w_applied = choose(convention, "convention", _CONVENTIONS)(w)
    (n, c_out, ho, wo), (stride, (ph, pw), dilation, (ph_after, pw_after)) = _output_shape(
        x.shape, w.shape, stride, padding, dilation, groups
    )
    if b is not None:
        b = as_float_array(b, "b", ndim=1)
        check_shape(b, "b", (c_out,))
    _, c_group, kh, kw = w.shape
    xp = _padded(x, ((0, 0), (0, 0), (ph, ph_after), (pw, pw_after)))
    win = _windows(xp, (kh, kw), stride, dilation, (ho, wo))  # (N, C_in, H_out, W_out, kH, kW)
    # (groups, N·H_out·W_out, C_in/groups·kH·kW) @ (groups, C_in/groups·kH·kW, C_out/groups)
    cols = (
        win.reshape(n, groups, c_group, ho, wo, kh, kw)
        .transpose(1, 0, 3, 4, 2, 5, 6)
        .reshape(groups, n * ho * wo, c_group * kh * kw)
    )
    kernels = w_applied.reshape(groups, c_out // groups, c_group * kh * kw).transpose(0, 2, 1)
    out = (cols @ kernels).reshape(groups, n, ho, wo, c_out // groups)
    out = out.transpose(1, 0, 4, 2, 3).reshape(n, c_out, ho, wo)
    if b is not None:
        out = out + b[None, :, None, None]
    cache = ConvCache(
        cols,
        w_applied,
        x.shape,
        (n, c_out, ho, wo),
        stride,
        (ph, pw),
        dilation,
        groups,
        convention,
        b is not None,
        (ph_after, pw_after),
    )
    return ConvForward(out, cache)


def conv2d_backward(dout, cache: ConvCache) -> ConvGrads:
    """Gradients of ``sum(out · dout)``: dout (N, C_out, H_out, W_out) -> dx (N, C_in, H, W),
    dw (C_out, C_in/groups, kH, kW), db (C_out,) = Σ_{n,i,j} dout (None without bias).
    dw = dout ⋆ windows of x; dx adds dout · w back over every window (col2im)."""
    dout = as_float_array(dout, "dout", ndim=4)
    check_shape(dout, "dout", cache.out_shape)
    n, c_out, ho, wo = cache.out_shape
    _, c_in, h, w = cache.x_shape
    _, c_group, kh, kw = cache.w_applied.shape
    groups = cache.groups
    (ph, pw) = cache.padding
    (ph_after, pw_after) = cache.padding if cache.padding_after is None else cache.padding_after
    dout_g = dout.reshape(n, groups, c_out // groups, ho, wo).transpose(1, 0, 3, 4, 2)
    dout_g = dout_g.reshape(groups, n * ho * wo, c_out // groups)
    dw_applied = (cache.cols.transpose(0, 2, 1) @ dout_g).transpose(0, 2, 1).reshape(c_out, c_group, kh, kw)
    dw = choose(cache.convention, "convention", _CONVENTIONS)(dw_applied)
    kernels = cache.w_applied.reshape(groups, c_out // groups, c_group * kh * kw)
    dcols = (dout_g @ kernels).reshape(groups, n, ho, wo, c_group, kh, kw)
    dcols = dcols.transpose(1, 0, 4, 2, 3, 5, 6).reshape(n, c_in, ho, wo, kh, kw)
    padded_shape = (n, c_in, h + ph + ph_after, w + pw + pw_after)
    dxp = _scatter_windows(dcols, padded_shape, cache.stride, cache.dilation)
    dx = dxp[:, :, ph : ph + h, pw : pw + w]
    db = dout.sum(axis=(0, 2, 3)) if cache.has_bias else None
    return ConvGrads(np.ascontiguousarray(dx), np.ascontiguousarray(dw), db)


def conv_param_count(in_channels, out_channels, kernel, *, groups=1, bias=True) -> int:
    """Learnable parameters of ``nn.Conv2d``: (kH·kW·C_in/groups + [bias]) · C_out; kernel int or
    (kH, kW). Course note 000: 10 filters 3×3×3 -> (3·3·3 + 1)·10 = 280."""
    c_in = positive_int(in_channels, "in_channels")
    c_out = positive_int(out_channels, "out_channels")
    kh, kw = pair(kernel, "kernel")
    groups = positive_int(groups, "groups")
    if not isinstance(bias, (bool, np.bool_)):
        raise ValueError(f"bias: expected True or False, got {bias!r}")
    for name, channels in (("in_channels", c_in), ("out_channels", c_out)):
        if channels % groups:
            raise ValueError(f"{name}: {channels} is not divisible by groups {groups}")
    return (kh * kw * (c_in // groups) + int(bias)) * c_out


def receptive_field(
    kernels: Sequence[int], strides: Sequence[int], dilations: Sequence[int] | None = None
) -> int:
    """Receptive field (in input pixels, per axis) of one output of a stack of conv/pool layers:

    r = 1 + Σ_l (k_eff_l - 1) · Π_{i<l} s_i,    k_eff = d·(k - 1) + 1.
    """
    ks, ss = list(kernels), list(strides)
    ds = [1] * len(ks) if dilations is None else list(dilations)
    if not len(ks) == len(ss) == len(ds):
        raise ValueError(
            f"kernels, strides, dilations: expected one entry per layer, got lengths "
            f"{len(ks)}, {len(ss)}, {len(ds)}"
        )
    field, jump = 1, 1
    for i, (k, s, d) in enumerate(zip(ks, ss, ds, strict=True)):
        k = positive_int(k, f"kernels[{i}]")
        s = positive_int(s, f"strides[{i}]")
        d = positive_int(d, f"dilations[{i}]")
        field += d * (k - 1) * jump
        jump *= s
    return field


# What one multiply-accumulate is counted as: "macs" (one), "flops" (a multiply and an add, two).
_MAC_UNITS: dict[str, int] = {"macs": 1, "flops": 2}


def conv_macs(
    input_shape, out_channels, kernel, *, stride=1, padding=0, dilation=1, groups=1, count: str = "macs"
) -> int:
    """Multiply-accumulates of ``nn.Conv2d(C_in, out_channels, kernel, stride, padding, dilation,
    groups)`` on an input of shape (N, C_in, H, W), bias additions not counted:

        MACs = N · C_out · H_out · W_out · (C_in / groups) · kH · kW,

    H_out, W_out from ``conv_output_shape``. ``count="flops"`` counts each MAC as a multiply and
    an add (2 · MACs). e.g. (1, 3, 32, 32) through 16 filters 3×3, padding 1: 16·32·32·3·9 = 442368.
    """
    n, c_in, _, _ = _dims4(input_shape, "input_shape")
    c_out = positive_int(out_channels, "out_channels")
    kh, kw = pair(kernel, "kernel")
    groups = positive_int(groups, "groups")
    if c_in % groups:
        raise ValueError(f"groups: in_channels {c_in} (input_shape[1]) is not divisible by groups {groups}")
    unit = choose(count, "count", _MAC_UNITS)
    _, _, ho, wo = conv_output_shape(
        input_shape,
        (c_out, c_in // groups, kh, kw),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
    )
    return unit * n * c_out * ho * wo * (c_in // groups) * kh * kw


def conv_transpose_output_size(
    size, kernel, *, stride=1, padding=0, output_padding=0, dilation=1, formula: str = "transposed"
) -> int:
    """Output length of ``nn.ConvTranspose2d`` along one axis (all ints):

        (size - 1)·stride - 2·padding + dilation·(kernel - 1) + output_padding + 1.

    ``padding`` removes rows (the inverse of a convolution's padding); ``output_padding`` adds
    rows at the bottom/right only and must be smaller than stride or dilation (PyTorch's check).
    e.g. size 4, kernel 3, stride 2, padding 1, output_padding 1: 3·2 - 2 + 2 + 1 + 1 = 8.
    ``formula="convolution"`` is the mistake of using a convolution's output size
    (``conv_output_size``, which output_padding does not enter) for the transposed layer.
    """
    if one_of(formula, "formula", ("transposed", "convolution")) == "convolution":
        return conv_output_size(size, kernel, stride=stride, padding=padding, dilation=dilation)
    size = positive_int(size, "size")
    kernel = positive_int(kernel, "kernel")
    stride = positive_int(stride, "stride")
    padding = nonnegative_int(padding, "padding")
    output_padding = nonnegative_int(output_padding, "output_padding")
    dilation = positive_int(dilation, "dilation")
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output_padding: must be smaller than stride ({stride}) or dilation ({dilation}), "
            f"got {output_padding}"
        )
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ValueError(
            f"padding: {padding} removes more than the transposed convolution produces "
            f"(output size would be {out})"
        )
    return out


class ConvTransposeForward(NamedTuple):
    out: np.ndarray  # (N, C_out, H_out, W_out)
    full: np.ndarray  # (N, C_out, H_full, W_full): before cropping ``padding``, output_padding included


def conv_transpose2d_forward(
    x,
    w,
    b=None,
    *,
    stride=1,
    padding=0,
    output_padding=0,
    dilation=1,
    convention: str = "cross_correlation",
) -> ConvTransposeForward:
    """``F.conv_transpose2d`` (groups 1): x (N, C_in, H, W), w (C_in, C_out, kH, kW) (the layout
    of ``nn.ConvTranspose2d.weight``), b (C_out,) or None; out (N, C_out, H_out, W_out) with sizes
    ``conv_transpose_output_size``. Each input pixel stamps its kernel, scaled, into the output:

        full[n, o, s_h·i + d_h·p, s_w·j + d_w·q] += x[n, c, i, j] · w[c, o, p, q]

    (overlapping stamps add up), then ``padding`` rows/columns are cut from each side of ``full``
    and b[o] is added. This is the gradient of ``conv2d`` with the same w, stride, padding and
    dilation with respect to its input. ``convention="convolution"`` stamps the kernel flipped in
    both spatial axes. ``full`` keeps the uncropped map (output_padding rows included).
    """
    x = as_float_array(x, "x", ndim=4)
    w = as_float_array(w, "w", ndim=4)
    w = choose(convention, "convention", _CONVENTIONS)(w)
    n, c_in, h, wd = x.shape
    if w.shape[0] != c_in:
        raise ValueError(
            f"w: expected weight shape ({c_in}, C_out, kH, kW) for {c_in} input channels, got {w.shape}"
        )
    _, c_out, kh, kw = w.shape
    (sh, sw), (dh, dw) = pair(stride, "stride"), pair(dilation, "dilation")
    (ph, pw), (oph, opw) = pair(padding, "padding", low=0), pair(output_padding, "output_padding", low=0)
    ho = conv_transpose_output_size(h, kh, stride=sh, padding=ph, output_padding=oph, dilation=dh)
    wo = conv_transpose_output_size(wd, kw, stride=sw, padding=pw, output_padding=opw, dilation=dw)
    if b is not None:
        b = as_float_array(b, "b", ndim=1)
        check_shape(b, "b", (c_out,))
    full = np.zeros((n, c_out, ho + 2 * ph, wo + 2 * pw))
    for p in range(kh):  # a loop over kernel offsets, never over pixels
        for q in range(kw):
            stamp = np.einsum("nchw,co->nohw", x, w[:, :, p, q])
            full[:, :, p * dh : p * dh + sh * (h - 1) + 1 : sh, q * dw : q * dw + sw * (wd - 1) + 1 : sw] += (
                stamp
            )
    out = full[:, :, ph : ph + ho, pw : pw + wo].copy()
    if b is not None:
        out = out + b[None, :, None, None]
    return ConvTransposeForward(out, full)
