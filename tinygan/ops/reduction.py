"""Reductions with PyTorch's names and keywords (dim: an int, a tuple or None for all; keepdim).

With n the count of values reduced, c the correction (1 unless unbiased=False) and m the mean:
- sum: y = the sum of x over dim;  gx = gy broadcast back over dim
- mean: y = sum(x) / n over dim;  gx = gy / n broadcast back over dim
- var: y = sum((x - m)^2) / (n - c);  gx = gy * 2 (x - m) / (n - c)
- std: y = sqrt(var);  gx = gy * (x - m) / ((n - c) y)
- norm: y = sum(|x|^p)^(1/p);  gx = gy * sign(x) |x|^(p - 1) / y^(p - 1)
- max, min: the value, or with dim (values, indices);  gx = gy at the first extreme, else 0
- argmax, argmin: the index of the first extreme;  no gradient
- where(cond, a, b): y = a where cond, else b;  ga = gy where cond, gb = gy where not, else 0
- masked_fill(x, mask, v): y = v where mask, else x;  gx = gy where not mask, else 0

Sum and Mean are Functions; the rest are compositions of ops (arithmetic, array, indexing,
join), so their gradients, first and second, are those ops'. where and masked_fill pick with
gather, so no inf or nan leaks between the branches.
"""

__all__ = ["MaxMin", "Mean", "Sum", "argmax", "argmin", "masked_fill", "max", "mean", "min",
           "norm", "std", "sum", "var", "where"]

import builtins
from collections import namedtuple

import numpy as np

from ..tensor import Function, Tensor, wrap
from .arithmetic import abs, broadcast_to, convert, pow, sqrt  # noqa: A004  (torch's names)
from .array import reshape
from .indexing import gather, index
from .join import stack


class Sum(Function):
    """y = sum of x over ``axis`` (all axes when None); every x element gets gy back."""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = tuple(range(x.ndim)) if axis is None else tuple(
            a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        kept = tuple(1 if i in self.axes else n for i, n in enumerate(self.shape))
        return broadcast_to(reshape(gy, kept), self.shape)


class Mean(Sum):
    """y = sum(x) / count over ``axis``: Sum's backward, scaled by 1 / count."""
    def forward(self, x, axis=None, keepdims=False):
        total = super().forward(x, axis=axis, keepdims=keepdims)
        self.count = x.size // builtins.max(total.size, 1)
        return total / self.count

    def backward(self, gy):
        return super().backward(gy / self.count)


MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _dims(x, dim, name):
    """``dim`` (an int, a sequence of ints or None) as a sorted tuple of axes of x."""
    if dim is None:
        return tuple(range(x.ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(x._axis(d, name) if x.ndim else _scalar_axis(d, name) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: dim {dim} names an axis twice")
    return tuple(sorted(axes))


def _scalar_axis(dim, name):
    """The axis a 0-d tensor accepts (0 or -1, as PyTorch), else an IndexError."""
    if dim not in (0, -1) or isinstance(dim, bool):
        raise IndexError(f"{name}: dim {dim} is out of range for a 0-d tensor "
                         f"(expected -1 to 0)")
    return None


def _reduce(op, x, dim, keepdim, name):
    axes = tuple(a for a in _dims(x, dim, name) if a is not None)
    if not axes:
        return x
    return op(x, axis=axes, keepdims=keepdim)


def sum(input, dim=None, keepdim=False, *, axis=None, keepdims=False):  # noqa: A001  (torch.sum)
    """The sum over ``dim`` (all dims when None); axis= and keepdims=, NumPy's names, are
    aliases of dim and keepdim (tinygan's own callers use them)."""
    return _reduce(Sum.apply, input, dim if axis is None else axis, keepdim or keepdims, "sum")


def mean(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """The mean over ``dim`` (all dims when None); axis= and keepdims= as sum's."""
    return _reduce(Mean.apply, input, dim if axis is None else axis, keepdim or keepdims, "mean")


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The variance over ``dim``: sum of squared deviations / (count - correction), correction
    1 by default (unbiased=False makes it 0)."""
    return _variance(input, dim, unbiased, keepdim, correction, "var")


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The standard deviation over ``dim``: sqrt of var with the same arguments."""
    return sqrt(_variance(input, dim, unbiased, keepdim, correction, "std"))


def _variance(x, dim, unbiased, keepdim, correction, name):
    if unbiased is not None and correction is not None:
        raise ValueError(f"{name}: give unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = tuple(a for a in _dims(x, dim, name) if a is not None)
    count = int(np.prod([x.shape[a] for a in axes]))
    centred = x - _reduce(Mean.apply, x, axes, True, name)
    squares = _reduce(Sum.apply, centred * centred, axes, keepdim, name)
    return squares / builtins.max(count - correction, 0)


def norm(input, p=2, dim=None, keepdim=False):
    """The p-norm over ``dim`` (all dims when None): sum(|x|^p)^(1/p)."""
    if p == 2:
        return sqrt(sum(input * input, dim, keepdim))
    return pow(sum(pow(abs(input), p), dim, keepdim), 1 / p)


def _extreme(x, dim, keepdim, pick, name):
    """The values and indices of ``pick`` (argmax or argmin) along dim."""
    xp = x.backend.xp
    if dim is None:
        flat = reshape(x, (-1,))
        return index(flat, int(pick(x.array)))
    axis = x._axis(dim, name) if x.ndim else _scalar_axis(dim, name)
    if axis is None:
        return MaxMin(x, wrap(xp.zeros((), dtype=np.int64)))
    chosen = xp.expand_dims(pick(x.array, axis=axis), axis).astype(np.int64)
    values = gather(x, axis, wrap(chosen))
    if not keepdim:
        values = reshape(values, values.shape[:axis] + values.shape[axis + 1:])
        chosen = xp.squeeze(chosen, axis)
    return MaxMin(values, wrap(chosen))


def max(input, dim=None, keepdim=False):  # noqa: A001  (torch.max)
    """The largest value, or with ``dim`` its (values, indices) along dim."""
    return _extreme(input, dim, keepdim, input.backend.xp.argmax, "max")


def min(input, dim=None, keepdim=False):  # noqa: A001  (torch.min)
    """The smallest value, or with ``dim`` its (values, indices) along dim."""
    return _extreme(input, dim, keepdim, input.backend.xp.argmin, "min")


def _arg(x, dim, keepdim, pick, name):
    """The int64 index of ``pick`` over the flattened x, or along dim."""
    if dim is None:
        return wrap(x.backend.xp.asarray(pick(x.array), dtype=np.int64))
    return _extreme(x, dim, keepdim, pick, name).indices


def argmax(input, dim=None, keepdim=False):
    """The index of the largest value (of the flattened tensor when dim is None)."""
    return _arg(input, dim, keepdim, input.backend.xp.argmax, "argmax")


def argmin(input, dim=None, keepdim=False):
    """The index of the smallest value (of the flattened tensor when dim is None)."""
    return _arg(input, dim, keepdim, input.backend.xp.argmin, "argmin")


def where(condition, input, other):
    """input where condition, else other, broadcast together."""
    like = input if isinstance(input, Tensor) else other
    xp = like.backend.xp
    cond = condition.array if isinstance(condition, Tensor) else xp.asarray(condition)
    a, b = (t if isinstance(t, Tensor) else wrap(xp.asarray(t, dtype=like.dtype))
            for t in (input, other))
    dtype = np.result_type(a.dtype, b.dtype)
    shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    a, b = (broadcast_to(convert(t, dtype=dtype) if t.dtype != dtype else t, shape)
            for t in (a, b))
    pick = xp.broadcast_to(cond.astype(np.int64), shape)[None]
    picked = gather(stack([b, a]), 0, wrap(pick))
    return reshape(picked, shape)


def masked_fill(input, mask, value):
    """input with ``value`` where mask is true."""
    return where(mask, wrap(input.backend.xp.asarray(value, dtype=input.dtype)), input)
