"""Shape methods as PyTorch has them: squeeze, unsqueeze, permute, transpose, flatten, expand,
repeat. Each is built on reshape, transpose and broadcast_to (tinygan/ops.py), so gradients and
second derivatives come from those ops: expand's backward sums over the expanded axes (sum_to),
repeat's sums the tiles."""
import numpy as np

from . import ops


def _dim(name, x, dim, extra=0):
    """``dim`` as an axis of x (``extra`` more allowed, as unsqueeze's), or one line naming
    ``name``, the dim and x's shape; a 0-d tensor takes dims as a 1-d one does, as PyTorch's."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__} {dim!r}")
    ndim = max(x.ndim, 1) + extra
    if not -ndim <= dim < ndim:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor of shape "
                         f"{tuple(x.shape)} (expected {-ndim} to {ndim - 1})")
    return int(dim) % ndim


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
        axes = [_dim("squeeze", input, d) for d in dims]
        if len(set(axes)) < len(axes):
            raise ValueError(f"squeeze: dims {tuple(dims)} name a dim twice for a tensor of "
                             f"shape {tuple(input.shape)}")
        dims = set(axes)
    shape = tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1))
    return ops.reshape(input, shape)


def unsqueeze(input, dim):  # noqa: A002
    """input with a size-1 axis inserted at ``dim`` (negative counts from the new end)."""
    axis = _dim("unsqueeze", input, dim, extra=1 if input.ndim else 0)
    return ops.reshape(input, input.shape[:axis] + (1,) + input.shape[axis:])


def permute(input, *dims):  # noqa: A002
    """input with its axes permuted: the result's axis i is input's axis dims[i]."""
    dims = _sizes(dims)
    axes = tuple(_dim("permute", input, d) for d in dims)
    if sorted(axes) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the axes of a tensor "
                         f"of shape {tuple(input.shape)}")
    return ops.transpose(input, axes)


def transpose(input, dim0, dim1):  # noqa: A002
    """input with axes ``dim0`` and ``dim1`` swapped."""
    a, b = _dim("transpose", input, dim0), _dim("transpose", input, dim1)
    axes = list(range(input.ndim))
    if input.ndim:
        axes[a], axes[b] = axes[b], axes[a]
    return ops.transpose(input, tuple(axes))


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    """input with axes ``start_dim`` to ``end_dim`` (both included) merged into one."""
    start, end = _dim("flatten", input, start_dim), _dim("flatten", input, end_dim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {tuple(input.shape)}")
    shape = tuple(input.shape)
    return ops.reshape(input, shape[:start] + (int(np.prod(shape[start:end + 1])),)
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
    return ops.broadcast_to(input, tuple(target))


def repeat(input, *sizes):  # noqa: A002
    """input tiled ``sizes[i]`` times along axis i (new axes go in front)."""
    sizes = _sizes(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0 or any(not isinstance(s, (int, np.integer)) or s < 0 for s in sizes):
        raise ValueError(f"repeat: sizes {sizes} do not fit a tensor of shape "
                         f"{tuple(input.shape)} (need at least {input.ndim} sizes, each >= 0)")
    shape = (1,) * lead + tuple(input.shape)
    interleaved = ops.reshape(input, tuple(n for s in shape for n in (1, s)))
    tiled = ops.broadcast_to(interleaved, tuple(n for r, s in zip(sizes, shape) for n in (r, s)))
    return ops.reshape(tiled, tuple(r * s for r, s in zip(sizes, shape)))
