"""Reductions with PyTorch's names and keywords (dim: an int, a tuple or None for all; keepdim).

With n the count of values reduced, c the correction (1 unless unbiased=False) and m the mean:
- sum: y = the sum of x over dim;  gx = gy broadcast back over dim
- mean: y = sum(x) / n over dim;  gx = gy / n broadcast back over dim
- var: y = sum((x - m)^2) / (n - c);  gx = gy * 2 (x - m) / (n - c)
- std: y = sqrt(var);  gx = gy * (x - m) / ((n - c) y), 0 where y = 0 (as PyTorch)
- norm: y = sum(|x|^p)^(1/p);  gx = gy * sign(x) |x|^(p - 1) / y^(p - 1), 0 where y = 0;
  p = inf: max |x|, p = -inf: min |x|, p = 0: the count of nonzero elements (no gradient)
- max, min: the value, gy shared evenly by tied extremes; with dim (values, indices), gy to
  the first extreme along dim
- argmax, argmin: the index of the first extreme;  no gradient
- any, all: whether any / every element over dim is nonzero (bool);  no gradient
- where(cond, a, b): y = a where cond, else b;  ga = gy where cond, gb = gy where not, else 0
- masked_fill(x, mask, v): y = v where mask, else x;  gx = gy where not mask, else 0

Sum and Mean are Functions; the rest are compositions of ops (arithmetic, array, indexing,
join), so their gradients, first and second, are those ops'. where and masked_fill pick with
gather, so no inf or nan leaks between the branches.
"""

__all__ = ["MaxMin", "Mean", "Sum", "all", "any", "argmax", "argmin", "masked_fill", "max",
           "mean", "min", "norm", "std", "sum", "var", "where"]

import builtins
import numbers
from collections import namedtuple

import numpy as np

from ..tensor import Function, Tensor, wrap
from .arithmetic import abs, broadcast_to, convert, pow  # noqa: A004  (torch's names)
from .array import reshape
from .indexing import gather
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
    """``dim`` (an int, a sequence of ints or None) as a sorted tuple of axes of x (a 0-d
    tensor's dim 0 or -1 names no axis: nothing to reduce)."""
    if dim is None:
        return tuple(range(x.ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(x._axis(d, name) if x.ndim else _scalar_axis(d, name) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: dim {dim} names an axis twice")
    return tuple(sorted(a for a in axes if a is not None))


def _scalar_axis(dim, name):
    """The axis a 0-d tensor accepts (0 or -1, as PyTorch), else an IndexError."""
    if dim not in (0, -1) or isinstance(dim, bool):
        raise IndexError(f"{name}: dim {dim} is out of range for a 0-d tensor "
                         f"(expected -1 to 0)")
    return None


def _reduce(op, x, dim, keepdim, name):
    axes = _dims(x, dim, name)
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
    return _root(_variance(input, dim, unbiased, keepdim, correction, "std"), 2)


def _variance(x, dim, unbiased, keepdim, correction, name):
    if unbiased is not None and correction is not None:
        raise ValueError(f"{name}: give unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = _dims(x, dim, name)
    count = int(np.prod([x.shape[a] for a in axes]))
    centred = x - _reduce(Mean.apply, x, axes, True, name)
    squares = _reduce(Sum.apply, centred * centred, axes, keepdim, name)
    return squares / builtins.max(count - correction, 0)


def norm(input, p=2, dim=None, keepdim=False):
    """The p-norm over ``dim`` (all dims when None): sum(|x|^p)^(1/p); p may be inf, -inf, 0
    or 'fro' (2)."""
    p = 2 if p == "fro" else p
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise TypeError(f"norm: p must be a number, inf or 'fro', got {p!r}")
    if p in (np.inf, -np.inf):
        extreme = max if p > 0 else min
        size = abs(input)
        return extreme(size) if dim is None else _extreme_over(size, dim, keepdim, extreme)
    if p == 0:
        nonzero = wrap(input.backend.xp.asarray(input.array != 0, dtype=input.dtype))
        return sum(nonzero, dim, keepdim)
    powered = input * input if p == 2 else pow(abs(input), p)
    return _root(sum(powered, dim, keepdim), p)


def _extreme_over(x, dim, keepdim, extreme):
    """The values of ``extreme`` (max or min) over one or several dims."""
    for axis in reversed(_dims(x, dim, extreme.__name__)):
        x = extreme(x, axis, keepdim).values
    return x


def _root(s, p):
    """s^(1/p) for s >= 0, with the gradient 0 where s = 0 (PyTorch's norm and std), not the
    infinity that would meet a 0 and make a nan: at s = 0 it is (s + 1)^(1/p) * 0."""
    zero = wrap(s.backend.xp.asarray(s.array == 0, dtype=s.dtype))
    return pow(s + zero, 1 / p) * (1 - zero)


def _extreme(x, dim, keepdim, pick, name):
    """The values and indices of ``pick`` (argmax or argmin) along dim."""
    xp = x.backend.xp
    if dim is None:
        return _tied_extreme(x, pick, name)
    axis = x._axis(dim, name) if x.ndim else _scalar_axis(dim, name)
    if axis is None:
        return MaxMin(x, wrap(xp.zeros((), dtype=np.int64)))
    chosen = xp.expand_dims(pick(x.array, axis=axis), axis).astype(np.int64)
    values = gather(x, axis, wrap(chosen))
    if not keepdim:
        values = reshape(values, values.shape[:axis] + values.shape[axis + 1:])
        chosen = xp.squeeze(chosen, axis)
    return MaxMin(values, wrap(chosen))


def _tied_extreme(x, pick, name):
    """The extreme value of x, its gradient shared evenly by the elements that tie for it (as
    PyTorch's max() and min()): value + sum((x - value) * tied) / count, a sum of exact 0s."""
    if x.numel() == 0:
        raise RuntimeError(f"{name}(): the tensor is empty; give dim to reduce over one axis")
    value = wrap(x.array.reshape(-1)[int(pick(x.array))])
    if not x.requires_grad:
        return value
    tied = wrap(x.backend.xp.asarray(x.array == value.array, dtype=x.dtype))
    return value + sum((x - value) * tied) / builtins.max(float(tied.array.sum()), 1.0)


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


def any(input, dim=None, keepdim=False):  # noqa: A001  (torch.any)
    """True where some element over ``dim`` (all dims when None) is nonzero; a bool tensor."""
    return _logical(input, dim, keepdim, "any")


def all(input, dim=None, keepdim=False):  # noqa: A001  (torch.all)
    """True where every element over ``dim`` (all dims when None) is nonzero; a bool tensor."""
    return _logical(input, dim, keepdim, "all")


def _logical(x, dim, keepdim, name):
    axes = _dims(x, dim, name)
    reduced = getattr(x.backend.xp, name)(x.array, axis=axes, keepdims=keepdim)
    return wrap(x.backend.xp.asarray(reduced))


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
