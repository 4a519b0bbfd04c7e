"""Joining and splitting tensors along a dim, as PyTorch has them.

- cat(tensors, dim): y = the tensors joined along dim;  gx_i = gy's slice where x_i lies
- stack(tensors, dim): cat of the tensors, each given a new axis at dim;  gx_i likewise
- split, chunk: pieces of x along dim, each an index by a slice;  gx = gy placed back, 0 elsewhere
"""

__all__ = ["Cat", "cat", "chunk", "split", "stack"]

import math

import numpy as np

from ..dtypes import FLOAT_DTYPES
from ..tensor import Function, Tensor, wrap
from .array import _dim, reshape
from .indexing import Index, _apply


class Cat(Function):
    """y = x_1, ..., x_n joined along ``dim``;  gx_i = gy[..., start_i:stop_i] along dim."""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, *xs, dim=0):
        bounds = np.cumsum([0] + [x.shape[dim] for x in xs])
        self.keys = [(slice(None),) * dim + (slice(int(a), int(b)),)
                     for a, b in zip(bounds[:-1], bounds[1:])]
        return self.xp.concatenate(xs, axis=dim)

    def backward(self, gy):
        return tuple(Index.apply(gy, key=key) if needed else None
                     for key, needed in zip(self.keys, self.needs_input_grad))


def _tensor_sequence(name, tensors):
    """tensors as a non-empty list of Tensors, or a TypeError / ValueError naming ``name``."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}: expected a list or tuple of Tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty list of Tensors")
    for position, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: tensors[{position}] is a {type(t).__name__}, not a Tensor")
    if len({t.dtype for t in tensors}) > 1:
        raise TypeError(f"{name}: tensors have dtypes {', '.join(str(t.dtype) for t in tensors)}"
                        f"; convert them to one dtype first")
    return list(tensors)


def cat(tensors, dim=0):
    """The tensors joined along ``dim``: every other size must match (torch.cat)."""
    tensors = _tensor_sequence("cat", tensors)
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated (use stack)")
    axis = _dim("cat", dim, first.ndim)
    for position, t in enumerate(tensors):
        if t.ndim != first.ndim or any(a != b for d, (a, b) in enumerate(zip(t.shape, first.shape))
                                       if d != axis):
            raise ValueError(f"cat: tensors[{position}] has shape {tuple(t.shape)} and "
                             f"tensors[0] {tuple(first.shape)}: all sizes but dim {dim} must "
                             "match")
    return _apply(Cat, tensors, dim=axis)


def stack(tensors, dim=0):
    """The tensors, all of one shape, joined along a new axis ``dim`` (torch.stack)."""
    tensors = _tensor_sequence("stack", tensors)
    first = tensors[0]
    axis = _dim("stack", dim, first.ndim + 1, f"stacking {first.ndim}-d tensors")
    for position, t in enumerate(tensors):
        if t.shape != first.shape:
            raise ValueError(f"stack: tensors[{position}] has shape {tuple(t.shape)} and "
                             f"tensors[0] {tuple(first.shape)}: all must have one shape")
    shape = first.shape[:axis] + (1,) + first.shape[axis:]
    return cat([_reshape(t, shape) for t in tensors], dim=axis)


def _reshape(x, shape):
    """x with ``shape``, through the graph for float tensors."""
    if x.dtype in FLOAT_DTYPES:
        return reshape(x, shape)
    return wrap(x.array.reshape(shape), x.backend)


def _narrow(x, axis, start, stop):
    """x[start:stop] along ``axis``."""
    return _apply(Index, [x], key=(slice(None),) * axis + (slice(start, stop),))


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``tensor`` along ``dim``: of split_size_or_sections each (the last may be
    shorter), or of the sizes it lists, which must add up to the dim's size (torch.split)."""
    axis = _dim("split", dim, tensor.ndim)
    size = tensor.shape[axis]
    sections = split_size_or_sections
    if isinstance(sections, (int, np.integer)) and not isinstance(sections, bool):
        if sections < 0 or (sections == 0 and size > 0):
            raise ValueError(f"split: split_size must be positive, got {sections} (dim {dim} "
                             f"has size {size})")
        sizes = [min(sections, size - start) for start in range(0, size, sections)] or [0]
    elif isinstance(sections, (list, tuple)):
        sizes = [int(s) for s in sections]
        if any(s < 0 for s in sizes) or sum(sizes) != size:
            raise ValueError(f"split: sections {list(sections)} must be non-negative and add up "
                             f"to the size {size} of dim {dim} (shape {tuple(tensor.shape)})")
    else:
        raise TypeError(f"split: split_size_or_sections must be an int or a list of ints, got "
                        f"{type(sections).__name__}")
    bounds = np.cumsum([0] + sizes)
    return tuple(_narrow(tensor, axis, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]))


def chunk(input, chunks, dim=0):  # noqa: A002  (PyTorch's argument name)
    """At most ``chunks`` pieces of ``input`` along ``dim``, each of ceil(size / chunks) but the
    last (torch.chunk)."""
    if not isinstance(chunks, (int, np.integer)) or isinstance(chunks, bool) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    size = input.shape[_dim("chunk", dim, input.ndim)]
    if size == 0:
        return split(input, [0] * int(chunks), dim)
    return split(input, math.ceil(size / chunks), dim)
