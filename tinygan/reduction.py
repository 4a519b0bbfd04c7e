"""Reductions and elementwise functions with PyTorch's names and keywords, built from ops.

- sum, mean (dim: an int, a tuple or None for all; keepdim), var and std (correction, 1 by
  default as PyTorch's unbiased; or unbiased=False), norm (p-norm over dim).
- max, min: with no dim the value; with dim a (values, indices) named tuple, differentiable
  through the values (gradient to the first extreme element, as gather picks it); argmax, argmin.
- abs, sqrt, exp, log, pow, clamp (clip), sigmoid, tanh, relu; where(cond, a, b) and
  masked_fill(input, mask, value) pick with gather, so no inf or nan leaks between branches.
No new Function: each is a composition of ops and indexing, so its gradients (first and second)
are theirs.
"""
import builtins
from collections import namedtuple

import numpy as np

from . import indexing, ops
from .ops import clamp, exp, log, pow, relu, sigmoid, tanh  # noqa: A004, F401  (re-exported)
from .tensor import Tensor, wrap

clip = clamp
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


def sum(input, dim=None, keepdim=False):  # noqa: A001  (torch.sum)
    """The sum over ``dim`` (all dims when None)."""
    return _reduce(ops.sum, input, dim, keepdim, "sum")


def mean(input, dim=None, keepdim=False):
    """The mean over ``dim`` (all dims when None)."""
    return _reduce(ops.mean, input, dim, keepdim, "mean")


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
    centred = x - _reduce(ops.mean, x, axes, True, name)
    squares = _reduce(ops.sum, centred * centred, axes, keepdim, name)
    return squares / builtins.max(count - correction, 0)


def norm(input, p=2, dim=None, keepdim=False):
    """The p-norm over ``dim`` (all dims when None): sum(|x|^p)^(1/p)."""
    if p == 2:
        return sqrt(sum(input * input, dim, keepdim))
    return pow(sum(pow(abs(input), p), dim, keepdim), 1 / p)


def abs(input):  # noqa: A001  (torch.abs)
    """|x|;  gradient sign(x) (0 at 0, as PyTorch)."""
    return input * wrap(input.backend.xp.sign(input.array))


def sqrt(input):
    """x ** 0.5."""
    return pow(input, 0.5)


def _extreme(x, dim, keepdim, pick, name):
    """The values and indices of ``pick`` (argmax or argmin) along dim."""
    xp = x.backend.xp
    if dim is None:
        flat = ops.reshape(x, (-1,))
        return indexing.index(flat, int(pick(x.array)))
    axis = x._axis(dim, name) if x.ndim else _scalar_axis(dim, name)
    if axis is None:
        return MaxMin(x, wrap(xp.zeros((), dtype=np.int64)))
    chosen = xp.expand_dims(pick(x.array, axis=axis), axis).astype(np.int64)
    values = indexing.gather(x, axis, wrap(chosen))
    if not keepdim:
        values = ops.reshape(values, values.shape[:axis] + values.shape[axis + 1:])
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
    a, b = (ops.broadcast_to(ops.convert(t, dtype=dtype) if t.dtype != dtype else t, shape)
            for t in (a, b))
    pick = xp.broadcast_to(cond.astype(np.int64), shape)[None]
    picked = indexing.gather(indexing.stack([b, a]), 0, wrap(pick))
    return ops.reshape(picked, shape)


def masked_fill(input, mask, value):
    """input with ``value`` where mask is true."""
    return where(mask, wrap(input.backend.xp.asarray(value, dtype=input.dtype)), input)
