"""Recurrent cells, one time step each (``torch.nn.RNNCell``, ``LSTMCell``, ``GRUCell``).

Weights are stacked as PyTorch stores them: ``w_ih`` (G·H, in), ``w_hh`` (G·H, H) and two bias
vectors ``b_ih``, ``b_hh`` (G·H,), with G gate blocks of H rows each — LSTM: i, f, g, o; GRU: r,
z, n; RNN: one block. Inputs are batched, x (N, in) and h (N, H), or unbatched, x (in,) and
h (H,), as in PyTorch; a missing h (or c) is zeros. ``b_ih``/``b_hh`` may be None (``bias=False``).
Every step has a backward giving the gradients with respect to x, h (and c), both weights and
both biases; the cell's affine maps share one forward and one backward:

    affine(v, W, b) = v Wᵀ + b;   backward of d: (d W, dᵀ v, Σ_batch d).

Course note 003 writes the LSTM as f, i, o = σ(W h + U x + b), c = f c + i tanh(W_c h + U_c x + b_c),
h = o tanh c: the same cell as PyTorch's with W = the gate's block of ``w_hh``, U = its block of
``w_ih`` and b = b_ih + b_hh. Only the parameter count differs (one bias vector per gate instead of
two), available as ``rnn_param_count(..., bias_form="single")``.

LSTM projection (``nn.LSTM(..., proj_size=P)``, 0 < P < H): ``lstm_cell_step(..., w_hr=W_hr)``
with ``w_hr`` (P, H) projects the new hidden state, h' = (o · tanh c') W_hrᵀ, so h is (N, P),
``w_hh`` is (4H, P) and c stays (N, H); ``rnn_param_count(..., proj_size=P)`` counts W_hr.

GRU convention (keyword ``update_form``): ``"pytorch"`` h' = (1 - z) n + z h, or ``"textbook"``
h' = z n + (1 - z) h (z read as "take the new state"), so the mix-up can be computed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_shape, choose, nonnegative_int, one_of, positive_int
from .activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad

__all__ = [
    "GRUCache",
    "GRUCellGrads",
    "GRUStep",
    "LSTMCache",
    "LSTMCellGrads",
    "LSTMProjCellGrads",
    "LSTMStep",
    "RNNCache",
    "RNNCellGrads",
    "RNNSequence",
    "RNNSequenceGrads",
    "RNNShapes",
    "RNNStep",
    "gru_cell_backward",
    "gru_cell_step",
    "lstm_cell_backward",
    "lstm_cell_step",
    "rnn_cell_backward",
    "rnn_cell_step",
    "rnn_output_shapes",
    "rnn_param_count",
    "rnn_sequence_backward",
    "rnn_sequence_forward",
]


class _Cell(NamedTuple):
    """Checked, batched inputs of one cell step."""

    x: np.ndarray  # (N, in)
    h: np.ndarray  # (N, H)
    w_ih: np.ndarray  # (G·H, in)
    w_hh: np.ndarray  # (G·H, H)
    b_ih: np.ndarray | None  # (G·H,)
    b_hh: np.ndarray | None  # (G·H,)
    batched: bool


def _state(value, name: str, batch: int, hidden: int, batched: bool) -> np.ndarray:
    if value is None:
        return np.zeros((batch, hidden))
    arr = as_float_array(value, name)
    check_shape(arr, name, (batch, hidden) if batched else (hidden,))
    return arr.reshape(batch, hidden)


def _cell_inputs(x, h, w_ih, w_hh, b_ih, b_hh, gates: int, hidden: int | None = None) -> _Cell:
    """Checked inputs; the state h has w_hh's column count, the gates ``hidden`` rows each (default:
    that same count; an LSTM with a projection has h of size proj_size < hidden)."""
    w_hh = as_float_array(w_hh, "w_hh", ndim=2)
    state = w_hh.shape[1]
    if state < 1:
        raise ValueError(f"w_hh: expected shape ({gates} * hidden, hidden), got {w_hh.shape}")
    hidden = state if hidden is None else hidden
    check_shape(w_hh, "w_hh", (gates * hidden, state))
    w_ih = as_float_array(w_ih, "w_ih", ndim=2)
    check_shape(w_ih, "w_ih", (gates * hidden, None))
    x = as_float_array(x, "x")
    if x.ndim not in (1, 2):
        raise ValueError(f"x: expected shape (N, input_size) or (input_size,), got {x.shape}")
    batched = x.ndim == 2
    check_shape(x, "x", (None, w_ih.shape[1]) if batched else (w_ih.shape[1],))
    x = x.reshape(-1, w_ih.shape[1])
    h = _state(h, "h", x.shape[0], state, batched)
    biases = []
    for value, name in ((b_ih, "b_ih"), (b_hh, "b_hh")):
        if value is not None:
            value = as_float_array(value, name)
            check_shape(value, name, (gates * hidden,))
        biases.append(value)
    return _Cell(x, h, w_ih, w_hh, *biases, batched)


def _blocks(a: np.ndarray, count: int) -> list[np.ndarray]:
    """The ``count`` gate blocks of a (N, count·H) as views: np.split(a, count, axis=1) without
    its per-call cost."""
    size = a.shape[1] // count
    return [a[:, k * size : (k + 1) * size] for k in range(count)]


def _affine(v: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """v Wᵀ + b; v (N, k), W (m, k), b (m,) or None -> (N, m)."""
    out = v @ w.T
    return out if b is None else out + b


class _AffineGrads(NamedTuple):
    dv: np.ndarray
    dw: np.ndarray
    db: np.ndarray | None


def _affine_backward(d: np.ndarray, v: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> _AffineGrads:
    """Gradients of v Wᵀ + b for upstream d (N, m): dv = d W, dW = dᵀ v, db = Σ_batch d."""
    return _AffineGrads(d @ w, d.T @ v, None if b is None else d.sum(axis=0))


def _upstream(value, name: str, cell: _Cell) -> np.ndarray:
    return _state(value, name, cell.h.shape[0], cell.h.shape[1], cell.batched)


def _unbatch(arr: np.ndarray, batched: bool) -> np.ndarray:
    return arr if batched else arr[0]


class _InputGrads(NamedTuple):
    dx: np.ndarray
    dh: np.ndarray
    dw_ih: np.ndarray
    dw_hh: np.ndarray
    db_ih: np.ndarray | None
    db_hh: np.ndarray | None


def _input_grads(cell: _Cell, d_ih: np.ndarray, d_hh: np.ndarray, dh_direct=0.0) -> _InputGrads:
    """Backward through affine(x, w_ih, b_ih) and affine(h, w_hh, b_hh), plus any direct dh."""
    gi = _affine_backward(d_ih, cell.x, cell.w_ih, cell.b_ih)
    gh = _affine_backward(d_hh, cell.h, cell.w_hh, cell.b_hh)
    return _InputGrads(
        _unbatch(gi.dv, cell.batched),
        _unbatch(gh.dv + dh_direct, cell.batched),
        gi.dw,
        gh.dw,
        gi.db,
        gh.db,
    )


# --------------------------------------------------------------------------------------------------
# Elman RNN


class _Nonlinearity(NamedTuple):
    fn: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]


_RNN_NONLINEARITIES = {"tanh": _Nonlinearity(tanh, tanh_grad), "relu": _Nonlinearity(relu, relu_grad)}


class RNNCache(NamedTuple):
    cell: _Cell
    pre: np.ndarray  # (N, H) pre-activation
    nonlinearity: str


class RNNStep(NamedTuple):
    h: np.ndarray  # (N, H) or (H,)
    cache: RNNCache


class RNNCellGrads(NamedTuple):
    dx: np.ndarray
    dh: np.ndarray
    dw_ih: np.ndarray
    dw_hh: np.ndarray
    db_ih: np.ndarray | None
    db_hh: np.ndarray | None


def rnn_cell_step(x, h, w_ih, w_hh, b_ih, b_hh, *, nonlinearity: str = "tanh") -> RNNStep:
    """``nn.RNNCell``: h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act = tanh (default) or relu.

    Shapes: x (N, in) or (in,); h (N, H), (H,) or None; w_ih (H, in); w_hh (H, H); biases (H,).
    """
    act = choose(nonlinearity, "nonlinearity", _RNN_NONLINEARITIES)
    cell = _cell_inputs(x, h, w_ih, w_hh, b_ih, b_hh, 1)
    pre = _affine(cell.x, cell.w_ih, cell.b_ih) + _affine(cell.h, cell.w_hh, cell.b_hh)
    return RNNStep(_unbatch(act.fn(pre), cell.batched), RNNCache(cell, pre, nonlinearity))


def rnn_cell_backward(dh_next, cache: RNNCache) -> RNNCellGrads:
    """Gradients of an RNN step for upstream dh_next (shape of h'): with da = dh_next · act'(a),
    dx = da W_ih, dh = da W_hh, dW_ih = daᵀ x, dW_hh = daᵀ h, db_ih = db_hh = Σ_batch da."""
    da = _upstream(dh_next, "dh_next", cache.cell) * _RNN_NONLINEARITIES[cache.nonlinearity].grad(cache.pre)
    return RNNCellGrads(*_input_grads(cache.cell, da, da))


# --------------------------------------------------------------------------------------------------
# LSTM


class LSTMCache(NamedTuple):
    cell: _Cell
    c: np.ndarray  # (N, H) previous cell state
    c_next: np.ndarray  # (N, H)
    pre: np.ndarray  # (N, 4H) gate pre-activations, blocks i, f, g, o
    w_hr: np.ndarray | None = None  # (P, H) projection, or None without proj_size


class LSTMStep(NamedTuple):
    """New h and c, and the gate values i, f, g, o (each the shape of h)."""

    h: np.ndarray
    c: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    cache: LSTMCache


class LSTMCellGrads(NamedTuple):
    dx: np.ndarray
    dh: np.ndarray
    dc: np.ndarray
    dw_ih: np.ndarray
    dw_hh: np.ndarray
    db_ih: np.ndarray | None
    db_hh: np.ndarray | None


class LSTMProjCellGrads(NamedTuple):
    """:class:`LSTMCellGrads` and ``dw_hr`` (P, H), for a step with a projection ``w_hr``."""

    dx: np.ndarray
    dh: np.ndarray  # (N, P) or (P,)
    dc: np.ndarray  # (N, H) or (H,)
    dw_ih: np.ndarray
    dw_hh: np.ndarray  # (4H, P)
    db_ih: np.ndarray | None
    db_hh: np.ndarray | None
    dw_hr: np.ndarray  # (P, H)


def _projection(w_hr, w_hh) -> tuple[np.ndarray | None, int | None]:
    """The checked projection (P, H) with P = w_hh's columns and 0 < P < H (as ``nn.LSTM``
    requires), and H; or (None, None) without one."""
    if w_hr is None:
        return None, None
    w_hr = as_float_array(w_hr, "w_hr", ndim=2)
    proj, hidden = w_hr.shape
    if not 0 < proj < hidden:
        raise ValueError(
            f"w_hr: expected shape (proj_size, hidden_size) with 0 < proj_size < hidden_size, as "
            f"nn.LSTM requires, got {w_hr.shape}"
        )
    w_hh_cols = np.shape(w_hh)[1] if np.ndim(w_hh) == 2 else None
    if w_hh_cols != proj:
        raise ValueError(
            f"w_hh: expected shape (4 * {hidden}, {proj}) for a projection w_hr of shape {w_hr.shape} "
            f"(the recurrent weight reads the projected state), got {np.shape(w_hh)}"
        )
    return w_hr, hidden


def _lstm_gates(pre: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o) from pre (N, 4H); σ is elementwise, so one
    call over all of pre gives the three σ blocks (its g block goes unused)."""
    s_i, s_f, _, s_o = (np.ascontiguousarray(v) for v in _blocks(sigmoid(pre), 4))
    return s_i, s_f, tanh(_blocks(pre, 4)[2]), s_o


def lstm_cell_step(x, h, c, w_ih, w_hh, b_ih, b_hh, *, w_hr=None) -> LSTMStep:
    """``nn.LSTMCell``. With [a_i, a_f, a_g, a_o] = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh (blocks of H):

        i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o),
        c' = f · c + i · g,   h' = o · tanh(c')   (with ``w_hr``: h' = (o · tanh(c')) W_hrᵀ).

    Shapes: x (N, in) or (in,); h, c (N, H), (H,) or None; w_ih (4H, in); w_hh (4H, H); biases (4H,).
    ``w_hr`` (P, H), 0 < P < H: one step of ``nn.LSTM(..., proj_size=P)``; then h, h' are (N, P)
    and w_hh is (4H, P), while c, c' and the gates stay (N, H).
    """
    w_hr, hidden = _projection(w_hr, w_hh)
    cell = _cell_inputs(x, h, w_ih, w_hh, b_ih, b_hh, 4, hidden)
    c = _state(c, "c", cell.h.shape[0], cell.w_hh.shape[0] // 4, cell.batched)
    pre = _affine(cell.x, cell.w_ih, cell.b_ih) + _affine(cell.h, cell.w_hh, cell.b_hh)
    i, f, g, o = _lstm_gates(pre)
    c_next = f * c + i * g
    h_next = o * tanh(c_next)
    if w_hr is not None:
        h_next = h_next @ w_hr.T
    out = (_unbatch(v, cell.batched) for v in (h_next, c_next, i, f, g, o))
    return LSTMStep(*out, LSTMCache(cell, c, c_next, pre, w_hr))


def lstm_cell_backward(dh_next, dc_next, cache: LSTMCache) -> LSTMCellGrads | LSTMProjCellGrads:
    """Gradients of an LSTM step for upstream dh_next and dc_next (None: zeros), shapes of h', c'.

    dc' total = dc_next + dh_next · o · tanh'(c');  do = dh_next · tanh(c');
    di = dc' g, df = dc' c, dg = dc' i, dc = dc' f; each gate's pre-activation gradient is its
    gradient times σ' (or tanh' for g), and the stacked [da_i, da_f, da_g, da_o] goes back through
    both affine maps. With a projection (m = o · tanh(c'), h' = m W_hrᵀ): dW_hr = dh'ᵀ m and
    dh_next W_hr takes dh_next's place above; the result is then :class:`LSTMProjCellGrads`.
    """
    cell = cache.cell
    dh_out = _upstream(dh_next, "dh_next", cell)  # d h', (N, P) with a projection
    dc_next = _state(dc_next, "dc_next", cell.h.shape[0], cache.c.shape[1], cell.batched)
    dh_next = dh_out if cache.w_hr is None else dh_out @ cache.w_hr  # d m = d(o · tanh c'), (N, H)
    a_i, a_f, a_g, a_o = _blocks(cache.pre, 4)
    i, f, g, o = _lstm_gates(cache.pre)
    dc_total = dc_next + dh_next * o * tanh_grad(cache.c_next)
    da = np.concatenate(
        [
            dc_total * g * sigmoid_grad(a_i),
            dc_total * cache.c * sigmoid_grad(a_f),
            dc_total * i * tanh_grad(a_g),
            dh_next * tanh(cache.c_next) * sigmoid_grad(a_o),
        ],
        axis=1,
    )
    dx, dh, dw_ih, dw_hh, db_ih, db_hh = _input_grads(cell, da, da)
    grads = LSTMCellGrads(dx, dh, _unbatch(dc_total * f, cell.batched), dw_ih, dw_hh, db_ih, db_hh)
    if cache.w_hr is None:
        return grads
    m = o * tanh(cache.c_next)
    return LSTMProjCellGrads(*grads, dh_out.T @ m)


# --------------------------------------------------------------------------------------------------
# GRU


class _Mix(NamedTuple):
    """h' = w(z) · n + (1 - w(z)) · h, with dw/dz = ``slope``."""

    weight: Callable[[np.ndarray], np.ndarray]
    slope: float


_GRU_UPDATE_FORMS = {
    "pytorch": _Mix(lambda z: 1.0 - z, -1.0),
    "textbook": _Mix(lambda z: z, 1.0),
}


class GRUCache(NamedTuple):
    cell: _Cell
    gi: np.ndarray  # (N, 3H) x W_ihᵀ + b_ih, blocks r, z, n
    gh: np.ndarray  # (N, 3H) h W_hhᵀ + b_hh, blocks r, z, n
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    update_form: str
    reset_before_matmul: bool = False


class GRUStep(NamedTuple):
    """New h, and the reset gate r, update gate z and candidate n (each the shape of h)."""

    h: np.ndarray
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    cache: GRUCache


class GRUCellGrads(NamedTuple):
    dx: np.ndarray
    dh: np.ndarray
    dw_ih: np.ndarray
    dw_hh: np.ndarray
    db_ih: np.ndarray | None
    db_hh: np.ndarray | None


def gru_cell_step(
    x, h, w_ih, w_hh, b_ih, b_hh, *, update_form: str = "pytorch", reset_before_matmul: bool = False
) -> GRUStep:
    """``nn.GRUCell``. With gi = x W_ihᵀ + b_ih and gh = h W_hhᵀ + b_hh in blocks r, z, n:

        r = σ(gi_r + gh_r),  z = σ(gi_z + gh_z),  n = tanh(gi_n + r · gh_n),
        h' = (1 - z) · n + z · h        (``update_form="textbook"``: z · n + (1 - z) · h).

    ``reset_before_matmul=True`` is the original (Cho et al. 2014) form that many textbooks print,
    the reset gate applied to h before the matmul: n = tanh(gi_n + (r · h) W_hnᵀ + b_hn). It
    differs from PyTorch's r · (h W_hnᵀ + b_hn) by (1 - r) · b_hn, and in general for H > 1.

    Shapes: x (N, in) or (in,); h (N, H), (H,) or None; w_ih (3H, in); w_hh (3H, H); biases (3H,).
    """
    mix = choose(update_form, "update_form", _GRU_UPDATE_FORMS)
    cell = _cell_inputs(x, h, w_ih, w_hh, b_ih, b_hh, 3)
    gi = _affine(cell.x, cell.w_ih, cell.b_ih)
    gh = _affine(cell.h, cell.w_hh, cell.b_hh)
    hidden = cell.h.shape[1]
    # r and z in one σ call over both blocks (elementwise, so each is σ of its own block's sum)
    r, z = (np.ascontiguousarray(v) for v in _blocks(sigmoid(gi[:, : 2 * hidden] + gh[:, : 2 * hidden]), 2))
    if reset_before_matmul:
        b_hn = None if cell.b_hh is None else cell.b_hh[2 * hidden :]
        n = tanh(gi[:, 2 * hidden :] + _affine(r * cell.h, cell.w_hh[2 * hidden :], b_hn))
    else:
        n = tanh(gi[:, 2 * hidden :] + r * gh[:, 2 * hidden :])
    w = mix.weight(z)
    h_next = w * n + (1.0 - w) * cell.h
    out = (_unbatch(v, cell.batched) for v in (h_next, r, z, n))
    return GRUStep(*out, GRUCache(cell, gi, gh, r, z, n, update_form, bool(reset_before_matmul)))


def gru_cell_backward(dh_next, cache: GRUCache) -> GRUCellGrads:
    """Gradients of a GRU step for upstream dh_next (shape of h'). With w = 1 - z (or z):

    dn = dh' w,  dz = dh' (n - h) dw/dz,  dh (direct) = dh' (1 - w),
    da_n = dn tanh'(gi_n + r gh_n),  dr = da_n gh_n,  d gh_n = da_n r,
    da_r = dr σ'(·),  da_z = dz σ'(·);  d gi = [da_r, da_z, da_n],  d gh = [da_r, da_z, r da_n].
    """
    cell = cache.cell
    if cache.reset_before_matmul:
        raise ValueError(
            "cache: the backward pass exists for PyTorch's GRU only, got reset_before_matmul=True"
        )
    mix = _GRU_UPDATE_FORMS[cache.update_form]
    dh_next = _upstream(dh_next, "dh_next", cell)
    (i_r, i_z, i_n), (h_r, h_z, h_n) = _blocks(cache.gi, 3), _blocks(cache.gh, 3)
    w = mix.weight(cache.z)
    da_n = dh_next * w * tanh_grad(i_n + cache.r * h_n)
    da_r = da_n * h_n * sigmoid_grad(i_r + h_r)
    da_z = dh_next * (cache.n - cell.h) * mix.slope * sigmoid_grad(i_z + h_z)
    d_gi = np.concatenate([da_r, da_z, da_n], axis=1)
    d_gh = np.concatenate([da_r, da_z, da_n * cache.r], axis=1)
    return GRUCellGrads(*_input_grads(cell, d_gi, d_gh, dh_next * (1.0 - w)))


# --------------------------------------------------------------------------------------------------
# Parameter counts

_GATES = {"rnn": 1, "gru": 3, "lstm": 4}
# Bias vectors per gate block: PyTorch keeps b_ih and b_hh; note 003's equations have one b.
_BIAS_VECTORS = {"pytorch": 2, "single": 1}
_DIRECTIONS = {False: 1, True: 2}
_PROJECTION_CELLS = frozenset({"lstm"})  # cells that take proj_size (nn.LSTM only)


def rnn_param_count(
    input_size: int,
    hidden_size: int,
    *,
    cell: str = "lstm",
    bias: bool = True,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias_form: str = "pytorch",
    proj_size: int = 0,
) -> int:
    """Parameters of ``nn.RNN``/``nn.GRU``/``nn.LSTM`` (G = 1, 3, 4 gate blocks):

        per layer and direction: G·H·(in_l + R) + (2·G·H if bias) + (P·H if P > 0),
        R = P if P > 0 else H,  in_0 = input_size, in_l = R·directions for l > 0,

    P = ``proj_size`` (LSTM only, 0 < P < H as PyTorch requires; W_hr (P, H), no bias).
    e.g. LSTM(10, 20): 4·(20·10 + 20·20 + 20 + 20) = 2560; LSTM(10, 20, proj_size=5):
    4·20·(10 + 5) + 2·80 + 5·20 = 1460. ``bias_form="single"`` counts one bias vector per gate
    (G·H), as equations with a single b suggest.
    """
    gates = choose(cell, "cell", _GATES)
    nb = choose(bias_form, "bias_form", _BIAS_VECTORS)
    directions = choose(bidirectional, "bidirectional", _DIRECTIONS)
    has_bias = choose(bias, "bias", {False: 0, True: 1})
    input_size = positive_int(input_size, "input_size")
    hidden = positive_int(hidden_size, "hidden_size")
    layers = positive_int(num_layers, "num_layers")
    proj = nonnegative_int(proj_size, "proj_size")
    if proj and cell not in _PROJECTION_CELLS:
        raise ValueError(f"proj_size: supported for cell='lstm' only (as PyTorch), got cell={cell!r}")
    if proj >= hidden:
        raise ValueError(f"proj_size: expected fewer than hidden_size={hidden} (as PyTorch), got {proj}")
    state = proj or hidden  # the size of h, which W_hh reads and the next layer takes
    total = 0
    for layer in range(layers):
        fan_in = input_size if layer == 0 else state * directions
        per_direction = gates * hidden * (fan_in + state) + has_bias * nb * gates * hidden + proj * hidden
        total += directions * per_direction
    return total


# --------------------------------------------------------------------------------------------------
# Whole sequences: shapes of nn.RNN/GRU/LSTM outputs, and backpropagation through time


class RNNShapes(NamedTuple):
    output: tuple[int, int, int]  # (L, N, D·H_out), or (N, L, D·H_out) with batch_first
    h_n: tuple[int, int, int]  # (D·num_layers, N, H_out), whatever batch_first says
    c_n: tuple[int, int, int] | None  # (D·num_layers, N, H) for an LSTM, else None


# Where h_n puts the batch: PyTorch keeps (D·num_layers, N, H) even with batch_first=True;
# "batch_first" is the mistake of reading batch_first as applying to h_n too.
_H_N_LAYOUTS = ("pytorch", "batch_first")


def rnn_output_shapes(
    seq_len: int,
    batch: int,
    hidden_size: int,
    *,
    cell: str = "lstm",
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    proj_size: int = 0,
    h_n_layout: str = "pytorch",
) -> RNNShapes:
    """Shapes that ``nn.RNN``/``nn.GRU``/``nn.LSTM`` return for an input of seq_len steps and
    ``batch`` sequences, D = 2 if bidirectional else 1, H_out = proj_size or hidden_size:

        output (L, N, D·H_out)  ((N, L, D·H_out) with batch_first: the last layer, both directions
        concatenated), h_n (D·num_layers, N, H_out) and, for an LSTM, c_n (D·num_layers, N, H).

    batch_first changes the input and ``output`` only, never h_n or c_n. ``h_n_layout=
    "batch_first"`` computes the mistake of putting the batch first in h_n and c_n as well.
    e.g. LSTM(hidden 20, 2 layers, bidirectional, batch_first), L 7, N 3: output (3, 7, 40),
    h_n (4, 3, 20), c_n (4, 3, 20).
    """
    choose(cell, "cell", _GATES)
    steps = positive_int(seq_len, "seq_len")
    n = positive_int(batch, "batch")
    hidden = positive_int(hidden_size, "hidden_size")
    layers = positive_int(num_layers, "num_layers")
    directions = choose(bidirectional, "bidirectional", _DIRECTIONS)
    first = choose(batch_first, "batch_first", {False: False, True: True})
    proj = nonnegative_int(proj_size, "proj_size")
    if proj and cell not in _PROJECTION_CELLS:
        raise ValueError(f"proj_size: supported for cell='lstm' only (as PyTorch), got cell={cell!r}")
    if proj >= hidden:
        raise ValueError(f"proj_size: expected fewer than hidden_size={hidden} (as PyTorch), got {proj}")
    layout = one_of(h_n_layout, "h_n_layout", _H_N_LAYOUTS)
    h_out = proj or hidden
    output = (n, steps, directions * h_out) if first else (steps, n, directions * h_out)

    def state(size: int) -> tuple[int, int, int]:
        if layout == "batch_first" and first:
            return (n, directions * layers, size)
        return (directions * layers, n, size)

    return RNNShapes(output, state(h_out), state(hidden) if cell == "lstm" else None)


class RNNSequence(NamedTuple):
    hs: np.ndarray  # (T, N, H) or (T, H): h_1 ... h_T
    caches: tuple[RNNCache, ...]  # one per step


class RNNSequenceGrads(NamedTuple):
    dxs: np.ndarray  # (T, N, in) or (T, in)
    dh0: np.ndarray  # shape of h_0
    dw_ih: np.ndarray  # (H, in)
    dw_hh: np.ndarray  # (H, H)
    db_ih: np.ndarray | None
    db_hh: np.ndarray | None
    dhs: np.ndarray  # (T, ...) dL/dh_t, the total reaching each h_t (upstream and from h_{t+1})
    das: np.ndarray  # (T, ...) dL/da_t, of each step's pre-activation (zeros before a truncation)


def rnn_sequence_forward(xs, h0, w_ih, w_hh, b_ih, b_hh, *, nonlinearity: str = "tanh") -> RNNSequence:
    """``nn.RNN`` (one layer, one direction) unrolled: h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ
    + b_hh) for t = 1..T, each step ``rnn_cell_step``. xs (T, N, in) or (T, in); h0 (N, H), (H,)
    or None (zeros); returns every h_t, (T, N, H) or (T, H), and the step caches."""
    xs = as_float_array(xs, "xs")
    if xs.ndim not in (2, 3) or xs.shape[0] < 1:
        raise ValueError(
            f"xs: expected shape (T, N, input_size) or (T, input_size) with T >= 1, got {xs.shape}"
        )
    h, hs, caches = h0, [], []
    for x in xs:
        step = rnn_cell_step(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity)
        h = step.h
        hs.append(h)
        caches.append(step.cache)
    return RNNSequence(np.stack(hs), tuple(caches))


def rnn_sequence_backward(
    dhs, seq: RNNSequence, *, truncate: int | None = None, activation_derivative: bool = True
) -> RNNSequenceGrads:
    """Backpropagation through time for ``rnn_sequence_forward``. dhs (T, ...) is the loss
    gradient reaching each h_t from outside the recurrence (zeros where the loss does not read
    h_t); going back from t = T,

        g_t = dhs[t] + (dL/dh_t through h_{t+1}),  da_t = g_t · act'(a_t),
        dL/dh_{t-1} += da_t W_hh,  dW_hh += da_tᵀ h_{t-1},  dW_ih += da_tᵀ x_t,  db += Σ da_t.

    ``truncate=k`` stops after the last k steps (truncated BPTT: earlier steps get no gradient;
    k = 1 counts only the direct dependence of the last step on the weights).
    ``activation_derivative=False`` leaves out act'(a_t) (the mistake of forgetting it).
    """
    dhs = as_float_array(dhs, "dhs")
    steps = len(seq.caches)
    check_shape(dhs, "dhs", seq.hs.shape)
    k = steps if truncate is None else positive_int(truncate, "truncate")
    use_grad = choose(activation_derivative, "activation_derivative", {False: False, True: True})
    first = seq.caches[0].cell
    dw_ih, dw_hh = np.zeros_like(first.w_ih), np.zeros_like(first.w_hh)
    db_ih = None if first.b_ih is None else np.zeros_like(first.b_ih)
    db_hh = None if first.b_hh is None else np.zeros_like(first.b_hh)
    dxs = np.zeros((steps, *first.x.shape)) if first.batched else np.zeros((steps, first.x.shape[1]))
    totals, das = np.zeros_like(dhs), np.zeros_like(dhs)
    carried = np.zeros_like(dhs[0])
    dh0 = np.zeros_like(dhs[0])
    for t in range(steps - 1, steps - 1 - min(k, steps), -1):
        cache = seq.caches[t]
        g = dhs[t] + carried
        totals[t] = g
        da = _upstream(g, "dhs", cache.cell)
        if use_grad:
            da = da * _RNN_NONLINEARITIES[cache.nonlinearity].grad(cache.pre)
        das[t] = _unbatch(da, cache.cell.batched)
        grads = _input_grads(cache.cell, da, da)  # rnn_cell_backward, with act' optional
        dxs[t] = grads.dx
        dw_ih += grads.dw_ih
        dw_hh += grads.dw_hh
        if db_ih is not None:
            db_ih += grads.db_ih
        if db_hh is not None:
            db_hh += grads.db_hh
        carried = grads.dh
        if t == 0:
            dh0 = grads.dh
    return RNNSequenceGrads(dxs, dh0, dw_ih, dw_hh, db_ih, db_hh, totals, das)
