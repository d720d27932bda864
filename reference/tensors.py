"""A few tensor operations with PyTorch's semantics: the shapes they give, and their values.

Shapes are tuples of ints; a value is a float64 array. Each shape function states the rule
``torch`` follows; each value function is the NumPy operation that matches it, so a question on
code such as ``x.sum(dim=1, keepdim=True)`` is answered here, never by running PyTorch:

  - ``reshape`` / ``view`` (row-major order; one -1 is inferred from the element count);
  - ``permute(dims)``: axis i of the result is axis dims[i] of the input; ``transpose(d0, d1)``;
  - ``torch.cat`` joins along an existing axis, ``torch.stack`` along a new one;
  - ``sum(dim, keepdim)``: the axis is removed, or kept with size 1;
  - broadcasting aligns shapes at their last axis; sizes must be equal or 1;
  - ``matmul`` (``@``): (..., n, k) @ (..., k, m) -> (..., n, m), batch axes broadcast, a 1-D
    operand is a vector (its axis is removed from the result).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._checks import as_float_array, nonnegative_int, positive_int

__all__ = [
    "broadcast_shape",
    "cat_shape",
    "matmul_shape",
    "permute_shape",
    "reshape",
    "reshape_shape",
    "stack_shape",
    "sum_shape",
    "tensor_mul",
    "tensor_sub",
    "tensor_sum",
    "transpose",
    "transpose_shape",
    "unsqueeze",
]

Shape = tuple[int, ...]


def _shape(value, name: str = "shape") -> Shape:
    try:
        dims = tuple(value)
    except TypeError:
        raise ValueError(f"{name}: expected a shape (a list of sizes), got {value!r}") from None
    return tuple(nonnegative_int(d, name) for d in dims)


def _dim(dim, ndim: int, name: str = "dim", *, extra: int = 0) -> int:
    """A dim in [-(ndim + extra), ndim + extra) as its non-negative index, as torch wraps it."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise ValueError(f"{name}: expected an integer, got {dim!r}")
    span = ndim + extra
    if not -span <= dim < span:
        raise ValueError(
            f"{name}: dimension out of range (expected to be in [{-span}, {span - 1}], got {dim})"
        )
    return int(dim) % span


def reshape_shape(shape, new_shape) -> Shape:
    """The shape of ``x.reshape(*new_shape)`` (or ``view``) for x of ``shape``: one -1 is
    inferred as numel / (product of the others); ValueError if the element counts differ."""
    dims = _shape(shape)
    new = tuple(int(d) for d in new_shape)
    if new.count(-1) > 1 or any(d < -1 for d in new):
        raise ValueError(f"new_shape: only one dimension can be inferred (-1), got {new}")
    numel, known = math.prod(dims), math.prod(d for d in new if d != -1)
    if -1 in new:
        if known == 0 or numel % known:
            raise ValueError(f"new_shape: shape {new} is invalid for input of size {numel}")
        new = tuple(numel // known if d == -1 else d for d in new)
    if math.prod(new) != numel:
        raise ValueError(f"new_shape: shape {new} is invalid for input of size {numel}")
    return new


def permute_shape(shape, dims) -> Shape:
    """The shape of ``x.permute(*dims)``: result axis i is input axis dims[i], so the size is
    shape[dims[i]]."""
    sizes = _shape(shape)
    order = tuple(_dim(d, len(sizes), "dims") for d in dims)
    if sorted(order) != list(range(len(sizes))):
        raise ValueError(f"dims: expected a permutation of 0..{len(sizes) - 1}, got {tuple(dims)}")
    return tuple(sizes[d] for d in order)


def transpose_shape(shape, dim0, dim1) -> Shape:
    """The shape of ``x.transpose(dim0, dim1)``: the two sizes swapped."""
    sizes = list(_shape(shape))
    a, b = _dim(dim0, len(sizes), "dim0"), _dim(dim1, len(sizes), "dim1")
    sizes[a], sizes[b] = sizes[b], sizes[a]
    return tuple(sizes)


def cat_shape(shapes: Sequence, dim=0) -> Shape:
    """The shape of ``torch.cat(tensors, dim)``: sizes along ``dim`` add up; every other size
    must be equal."""
    items = [_shape(s, f"shapes[{i}]") for i, s in enumerate(shapes)]
    if not items:
        raise ValueError("shapes: expected at least one tensor")
    d = _dim(dim, len(items[0]))
    for i, s in enumerate(items[1:], 1):
        if len(s) != len(items[0]) or any(
            a != b for k, (a, b) in enumerate(zip(s, items[0], strict=True)) if k != d
        ):
            raise ValueError(
                f"shapes[{i}]: sizes of tensors must match except in dimension {d}: {items[0]} and {s}"
            )
    return tuple(sum(s[d] for s in items) if k == d else size for k, size in enumerate(items[0]))


def stack_shape(shapes: Sequence, dim=0) -> Shape:
    """The shape of ``torch.stack(tensors, dim)``: every shape equal, a new axis of size
    len(tensors) inserted at ``dim``."""
    items = [_shape(s, f"shapes[{i}]") for i, s in enumerate(shapes)]
    if not items:
        raise ValueError("shapes: expected at least one tensor")
    for i, s in enumerate(items[1:], 1):
        if s != items[0]:
            raise ValueError(
                f"shapes[{i}]: stack expects each tensor to be equal size, got {items[0]} and {s}"
            )
    d = _dim(dim, len(items[0]), extra=1)
    return (*items[0][:d], len(items), *items[0][d:])


def sum_shape(shape, dim, keepdim: bool = False) -> Shape:
    """The shape of ``x.sum(dim=dim, keepdim=keepdim)``: axis ``dim`` removed, or kept with
    size 1."""
    sizes = _shape(shape)
    d = _dim(dim, len(sizes))
    return (*sizes[:d], *((1,) if keepdim else ()), *sizes[d + 1 :])


def broadcast_shape(a, b) -> Shape:
    """The shape of ``a + b`` (any elementwise operation): aligned at the last axis, each pair
    of sizes equal or one of them 1 (the result takes the other)."""
    sa, sb = _shape(a, "a"), _shape(b, "b")
    try:
        return tuple(np.broadcast_shapes(sa, sb))
    except ValueError:
        raise ValueError(f"a, b: shapes {sa} and {sb} do not broadcast") from None


def matmul_shape(a, b) -> Shape:
    """The shape of ``a @ b``: (..., n, k) @ (..., k, m) -> (broadcast ..., n, m); a 1-D a is
    (1, k) and a 1-D b is (k, 1), the added axis then removed."""
    sa, sb = _shape(a, "a"), _shape(b, "b")
    if not sa or not sb:
        raise ValueError("a, b: both operands of @ need at least one dimension")
    ma, mb = (1, *sa) if len(sa) == 1 else sa, (*sb, 1) if len(sb) == 1 else sb
    if ma[-1] != mb[-2]:
        raise ValueError(f"a, b: shapes {sa} and {sb} cannot be multiplied ({ma[-1]} != {mb[-2]})")
    batch = broadcast_shape(ma[:-2], mb[:-2])
    out = (*batch, ma[-2], mb[-1])
    if len(sb) == 1:
        out = out[:-1]
    if len(sa) == 1:
        out = (*out[:-2], out[-1]) if len(sb) > 1 else out[:-1]
    return out


# ------------------------------------------------------------------------------------- values


def reshape(x, new_shape) -> np.ndarray:
    """``x.reshape(*new_shape)``: the elements in row-major (C) order, laid out again."""
    x = as_float_array(x, "x")
    return x.reshape(reshape_shape(x.shape, new_shape))


def transpose(x, dim0=0, dim1=1) -> np.ndarray:
    """``x.transpose(dim0, dim1)`` (``x.T`` of a matrix)."""
    x = as_float_array(x, "x")
    return np.swapaxes(x, _dim(dim0, x.ndim, "dim0"), _dim(dim1, x.ndim, "dim1")).copy()


def unsqueeze(x, dim) -> np.ndarray:
    """``x.unsqueeze(dim)``: a new axis of size 1 at ``dim`` (e.g. a vector (n,) as a column (n, 1))."""
    x = as_float_array(x, "x")
    return np.expand_dims(x, _dim(dim, x.ndim, extra=1))


def tensor_sum(x, dim, keepdim: bool = False) -> np.ndarray:
    """``x.sum(dim=dim, keepdim=keepdim)``."""
    x = as_float_array(x, "x")
    positive_int(x.ndim, "x (number of dimensions)")
    return np.sum(x, axis=_dim(dim, x.ndim), keepdims=bool(keepdim))


def tensor_sub(a, b) -> np.ndarray:
    """``a - b`` with broadcasting (``broadcast_shape``)."""
    a, b = as_float_array(a, "a"), as_float_array(b, "b")
    return np.subtract(np.broadcast_to(a, broadcast_shape(a.shape, b.shape)), b)


def tensor_mul(a, b) -> np.ndarray:
    """``a * b`` elementwise with broadcasting (``broadcast_shape``), not a matrix product."""
    a, b = as_float_array(a, "a"), as_float_array(b, "b")
    return np.multiply(np.broadcast_to(a, broadcast_shape(a.shape, b.shape)), b)
