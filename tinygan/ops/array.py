"""Shapes: the views and permutations of a tensor's axes, with PyTorch's names.

Two Functions carry the gradients; the rest are compositions of them and of broadcast_to
(arithmetic.py), so their gradients, first and second, are those ops':
- reshape (view): y = x with a new shape;  gx = reshape(gy, x's shape)
- transpose: y = x with its axes permuted, or two of them swapped;  gx = gy permuted back
- flatten, squeeze, unsqueeze: reshapes;  gx = reshape(gy, x's shape)
- permute: a transpose;  gx = gy permuted back
- expand: a broadcast_to;  gx = gy summed over the expanded axes (sum_to)
- repeat: reshape, broadcast_to, reshape;  gx = the sum of gy's tiles
"""

__all__ = ["Reshape", "Transpose", "expand", "flatten", "permute", "repeat", "reshape", "squeeze",
           "transpose", "unsqueeze"]

import numpy as np

from ..tensor import Function
from .arithmetic import broadcast_to


class Reshape(Function):
    """y = x with a new shape (same elements, same order)."""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, x, shape=None):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view shape {x.shape} ({x.size} elements) as "
                             f"{shape}") from None

    def backward(self, gy):
        return reshape(gy, self.shape)


def reshape(x, shape):
    """x viewed with ``shape`` (one entry may be -1)."""
    return Reshape.apply(x, shape=tuple(shape))


class Transpose(Function):
    """y = x with its axes permuted: y's axis i is x's axis axes[i] (all reversed if None)."""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, x, axes=None):
        self.axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(axes)
        return x.transpose(self.axes)

    def backward(self, gy):
        return transpose(gy, axes=tuple(int(a) for a in np.argsort(self.axes)))


def transpose(input, dim0=None, dim1=None, *, axes=None):  # noqa: A002
    """input with axes ``dim0`` and ``dim1`` swapped (torch.transpose); given ``axes`` instead
    (by keyword, or a sequence in dim0's place), its axes permuted as NumPy's transpose: y's
    axis i is x's axis axes[i], all reversed when None (as x.T)."""
    if isinstance(dim0, (tuple, list)) and dim1 is None and axes is None:
        dim0, axes = None, dim0
    if dim0 is None and dim1 is None:
        return Transpose.apply(input, axes=axes)
    if axes is not None:
        raise TypeError("transpose: give dim0 and dim1, or axes, not both")
    a, b = _dim_of("transpose", input, dim0), _dim_of("transpose", input, dim1)
    axes = list(range(input.ndim))
    if input.ndim:
        axes[a], axes[b] = axes[b], axes[a]
    return Transpose.apply(input, axes=tuple(axes))


def _dim(name, dim, ndim, what=None):
    """dim as an axis in [0, ndim), or an IndexError naming ``name`` and the range."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__} {dim!r}")
    if not -ndim <= dim < ndim:
        what = f"a {ndim}-d tensor" if what is None else what
        raise IndexError(f"{name}: dim {dim} is out of range for {what} "
                         f"(expected {-ndim} to {ndim - 1})")
    return int(dim) % ndim


def _dim_of(name, x, dim, extra=0):
    """``dim`` as an axis of x (``extra`` more allowed, as unsqueeze's), or one line naming
    ``name``, the dim and x's shape; a 0-d tensor takes dims as a 1-d one does, as PyTorch's."""
    return _dim(name, dim, max(x.ndim, 1) + extra, f"a tensor of shape {tuple(x.shape)}")


def _sizes(sizes):
    """sizes given as ints or as one tuple or list, as a tuple."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


def squeeze(input, dim=None):  # noqa: A002  (PyTorch's argument name)
    """input without its size-1 axes (only ``dim``'s, an int or tuple; others stay, as PyTorch)."""
    if dim is None:
        dims = range(input.ndim)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = [_dim_of("squeeze", input, d) for d in dims]
        if len(set(axes)) < len(axes):
            raise ValueError(f"squeeze: dims {tuple(dims)} name a dim twice for a tensor of "
                             f"shape {tuple(input.shape)}")
        dims = set(axes)
    shape = tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1))
    return reshape(input, shape)


def unsqueeze(input, dim):  # noqa: A002
    """input with a size-1 axis inserted at ``dim`` (negative counts from the new end)."""
    axis = _dim_of("unsqueeze", input, dim, extra=1 if input.ndim else 0)
    return reshape(input, input.shape[:axis] + (1,) + input.shape[axis:])


def permute(input, *dims):  # noqa: A002
    """input with its axes permuted: the result's axis i is input's axis dims[i]."""
    dims = _sizes(dims)
    axes = tuple(_dim_of("permute", input, d) for d in dims)
    if sorted(axes) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the axes of a tensor "
                         f"of shape {tuple(input.shape)}")
    return transpose(input, axes=axes)


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    """input with axes ``start_dim`` to ``end_dim`` (both included) merged into one."""
    start, end = _dim_of("flatten", input, start_dim), _dim_of("flatten", input, end_dim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {tuple(input.shape)}")
    shape = tuple(input.shape)
    return reshape(input, shape[:start] + (int(np.prod(shape[start:end + 1])),)
                   + shape[end + 1:])


def expand(input, *sizes):  # noqa: A002
    """input broadcast to ``sizes`` (-1 keeps an axis's size; new axes go in front)."""
    sizes = _sizes(sizes)
    lead = len(sizes) - input.ndim
    shape = tuple(input.shape)
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} are fewer than the dims of a "
                         f"tensor of shape {shape}")
    target = []
    for i, size in enumerate(sizes):
        own = shape[i - lead] if i >= lead else None
        if size == -1 and own is not None:
            size = own
        if size < 0 or own not in (None, 1, size):
            raise ValueError(f"expand: size {sizes[i]} at dim {i} does not fit a tensor of "
                             f"shape {shape} (expanded to {sizes})")
        target.append(size)
    return broadcast_to(input, tuple(target))


def repeat(input, *sizes):  # noqa: A002
    """input tiled ``sizes[i]`` times along axis i (new axes go in front)."""
    sizes = _sizes(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0 or any(not isinstance(s, (int, np.integer)) or s < 0 for s in sizes):
        raise ValueError(f"repeat: sizes {sizes} do not fit a tensor of shape "
                         f"{tuple(input.shape)} (need at least {input.ndim} sizes, each >= 0)")
    shape = (1,) * lead + tuple(input.shape)
    interleaved = reshape(input, tuple(n for s in shape for n in (1, s)))
    tiled = broadcast_to(interleaved, tuple(n for r, s in zip(sizes, shape) for n in (r, s)))
    return reshape(tiled, tuple(r * s for r, s in zip(sizes, shape)))
