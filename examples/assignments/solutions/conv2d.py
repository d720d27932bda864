"""Reference solution for examples/assignments/conv2d.yaml (im2col with NumPy strides)."""

import numpy as np


def _windows(x_pad, kh, kw, stride, oh, ow):
    """(N, C, OH, OW, KH, KW) view of every window of the padded input."""
    n, c = x_pad.shape[:2]
    sn, sc, sh, sw = x_pad.strides
    return np.lib.stride_tricks.as_strided(
        x_pad, (n, c, oh, ow, kh, kw), (sn, sc, sh * stride, sw * stride, sh, sw), writeable=False
    )


def conv2d_forward(x, w, b, stride=1, padding=0):
    h, wd = x.shape[2:]
    kh, kw = w.shape[2:]
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (wd + 2 * padding - kw) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = _windows(x_pad, kh, kw, stride, oh, ow)
    out = np.einsum("ncijuv,fcuv->nfij", win, w) + b[None, :, None, None]
    return out, (x, w, stride, padding)


def conv2d_backward(dout, cache):
    x, w, stride, padding = cache
    h, wd = x.shape[2:]
    kh, kw = w.shape[2:]
    oh, ow = dout.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = _windows(x_pad, kh, kw, stride, oh, ow)
    dw = np.einsum("ncijuv,nfij->fcuv", win, dout)
    db = dout.sum(axis=(0, 2, 3))
    dx_pad = np.zeros_like(x_pad)
    for u in range(kh):
        for v in range(kw):
            dx_pad[:, :, u : u + stride * oh : stride, v : v + stride * ow : stride] += np.einsum(
                "nfij,fc->ncij", dout, w[:, :, u, v]
            )
    dx = dx_pad[:, :, padding : padding + h, padding : padding + wd]
    return dx, dw, db
