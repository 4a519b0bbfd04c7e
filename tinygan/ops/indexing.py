"""Indexing, with PyTorch's rules: NumPy's, but ints select before integer arrays index, an
ellipsis of no width does not part arrays, and a bool is a new dim indexed by [0] or [].

- index (t[key]): y = x[key];  gx = zeros of x's shape with gy added at key (repeats add up)
- gather(input, dim, index): y[i][j] = x[index[i][j]][j] (dim 0);  gx = gy added where gathered

A key may hold ints, slices, None, ``...``, boolean masks and integer arrays or tensors. Index's
adjoint _IndexAdjoint is that scatter-add, whose own adjoint is Index again; gather is an Index
by integer arrays. Tensors of a dtype other than float are indexed without a graph (_apply).
"""

__all__ = ["Index", "gather", "index"]

import numpy as np

from ..dtypes import FLOAT_DTYPES
from ..tensor import Function, Tensor, wrap
from .array import _dim


class Index(Function):
    """y = x[key];  gx = gy added into zeros of x's shape at key (repeated entries add up)."""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, x, key=None):
        self.key, self.shape = key, x.shape
        return x[key]

    def backward(self, gy):
        return _IndexAdjoint.apply(gy, key=self.key, shape=self.shape)


class _IndexAdjoint(Function):
    """y = zeros(shape) with g added at key (repeated entries add up); its adjoint is Index."""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, g, key=None, shape=None):
        self.key = key
        y = self.xp.zeros(shape, dtype=g.dtype)
        if any(_is_array(part) for part in key):
            self.xp.add.at(y, key, g)
        else:  # ints and slices never reach an entry twice
            y[key] = g
        return y

    def backward(self, gy):
        return Index.apply(gy, key=self.key)


def _is_array(part):
    """True for a NumPy or CuPy array: an advanced part of a key."""
    return hasattr(part, "ndim") and hasattr(part, "dtype")


def _is_int(part):
    """True for a Python int that is not a bool: a part of a key that selects."""
    return isinstance(part, int) and not isinstance(part, bool)


def _apply(function, tensors, **settings):
    """function.apply on float tensors; on others (no gradient) only its forward."""
    if all(t.dtype in FLOAT_DTYPES for t in tensors):
        return function.apply(*tensors, **settings)
    fn = function()
    fn.backend, fn.xp = tensors[0].backend, tensors[0].backend.xp
    return wrap(fn.backend.asarray(fn.forward(*(t.array for t in tensors), **settings)),
                fn.backend)


def _index_array(x, part, name):
    """An index part given as a Tensor, NumPy array or list, as an array on x's backend."""
    if isinstance(part, Tensor):
        if part.device not in ("cpu", x.device):
            raise IndexError(f"{name}: indices on {part.device!r} cannot index a tensor on "
                             f"{x.device!r}; move them with .to({x.device!r}) first")
        array = part.numpy() if part.device != x.device else part.array
    else:
        array = np.asarray(part)
        if array.size == 0 and array.dtype == np.float64:  # [] is an empty list of indices
            array = array.astype(np.int64)
    if array.dtype.kind not in "bi":
        raise IndexError(f"{name}: tensors used as indices must be integer (long, int) or bool, "
                         f"got dtype {array.dtype}")
    return x.backend.asarray(array)


def _check_bounds(name, array, size, axis, shape, allow_negative=True):
    """IndexError naming the first integer index outside [-size, size) (or [0, size))."""
    low = -size if allow_negative else 0
    outside = (array < low) | (array >= size)
    if bool(outside.any()):
        bad = int(array[outside].ravel()[0])
        raise IndexError(f"{name}: index {bad} is out of range for dim {axis} of size {size} "
                         f"(tensor of shape {tuple(shape)})")


def _key(x, key):
    """key as a tuple NumPy and CuPy index the same way, checked against x's shape."""
    parts = list(key) if isinstance(key, tuple) else [key]
    for position, part in enumerate(parts):
        if isinstance(part, (Tensor, list, np.generic)) or _is_array(part):
            part = parts[position] = _index_array(x, part, "index")
            if part.ndim == 0 and part.dtype.kind == "i":  # selects, as an int (PyTorch)
                parts[position] = int(part)
        elif not (part is None or part is Ellipsis or isinstance(part, (slice, int))):
            raise IndexError(f"index: only ints, slices, None, ..., bool masks and integer "
                             f"arrays or tensors can index, got {type(part).__name__}")
    if sum(part is Ellipsis for part in parts) > 1:
        raise IndexError("index: an index can have only one ellipsis (...)")
    used = sum(_width(part) for part in parts)
    if used > x.ndim:
        raise IndexError(f"index: too many indices for a tensor of shape {tuple(x.shape)} "
                         f"({used} dims indexed, the tensor has {x.ndim})")
    ellipses = [at for at, part in enumerate(parts) if part is Ellipsis]
    if ellipses:  # as slices, so that one of no width leaves arrays adjacent (PyTorch)
        parts[ellipses[0]:ellipses[0] + 1] = [slice(None)] * (x.ndim - used)
    axis = 0
    for part in parts:
        if _is_array(part) and part.dtype.kind == "b":
            covered = tuple(x.shape[axis:axis + part.ndim])
            if part.shape != covered:
                raise IndexError(f"index: a mask of shape {tuple(part.shape)} does not match "
                                 f"the shape {covered} of dims {axis}..{axis + part.ndim - 1} "
                                 f"of a tensor of shape {tuple(x.shape)}")
            axis += part.ndim
        elif _is_array(part):
            _check_bounds("index", part, x.shape[axis], axis, x.shape)
            axis += 1
        elif _is_int(part):
            if not -x.shape[axis] <= part < x.shape[axis]:
                raise IndexError(f"index: index {part} is out of range for dim {axis} of size "
                                 f"{x.shape[axis]} (tensor of shape {tuple(x.shape)})")
            axis += 1
        elif isinstance(part, slice):
            axis += 1
    return tuple(parts)


def _width(part):
    """How many of the indexed tensor's dims a part of a key consumes."""
    if _is_array(part) and part.dtype.kind == "b":
        return part.ndim
    return 0 if part is None or part is Ellipsis or isinstance(part, bool) else 1


def _select_first(parts, xp):
    """(basic key, advanced key): PyTorch selects with the ints first, then indexes the result
    with the arrays (NumPy takes ints as arrays, which moves the arrays' dims elsewhere); a
    True or False makes a dim of 1 and indexes it with [0] or [] (NumPy would take a mask)."""
    basic, advanced = [], []
    for part in parts:
        if _is_array(part):
            basic += [slice(None)] * _width(part)
            advanced.append(part)
        elif isinstance(part, bool):
            basic.append(None)
            advanced.append(xp.zeros(int(part), dtype=np.int64))
        else:
            basic.append(part)
            if not _is_int(part):  # the dim it leaves (or makes) is still there
                advanced.append(slice(None))
    return tuple(basic), tuple(advanced)


def index(x, key):
    """x[key], with PyTorch's rules (NumPy's, but ints select before arrays index, and a bool
    is a new dim indexed by [0] or []); the gradient adds up at repeated entries."""
    parts = _key(x, key)
    has_int, has_array = (any(test(p) for p in parts) for test in (_is_int, _is_array))
    if (has_int and has_array) or any(isinstance(p, bool) for p in parts):
        basic, advanced = _select_first(parts, x.backend.xp)
        return _apply(Index, [_apply(Index, [x], key=basic)], key=advanced)
    return _apply(Index, [x], key=parts)


def gather(input, dim, index):  # noqa: A002  (PyTorch's argument names)
    """y[i][j][k] = input[index[i][j][k]][j][k] for dim 0 (and so on): values picked along
    ``dim`` (torch.gather); index has input's number of dims, no other size above input's."""
    if not isinstance(index, Tensor):
        raise TypeError(f"gather: index must be a Tensor, got {type(index).__name__}")
    axis = _dim("gather", dim, max(input.ndim, 1))
    if index.ndim != input.ndim:
        raise ValueError(f"gather: index has {index.ndim} dims (shape {tuple(index.shape)}), "
                         f"input {input.ndim} (shape {tuple(input.shape)}): they must match")
    if any(i > n for d, (i, n) in enumerate(zip(index.shape, input.shape)) if d != axis):
        raise ValueError(f"gather: index of shape {tuple(index.shape)} is larger than input of "
                         f"shape {tuple(input.shape)} outside dim {dim}")
    positions = _index_array(input, index, "gather")
    if positions.dtype.kind != "i":
        raise IndexError(f"gather: index must be an integer tensor, got dtype {index.dtype}")
    _check_bounds("gather", positions, input.shape[axis] if input.ndim else 1, axis,
                  input.shape, allow_negative=False)
    if input.ndim == 0:
        return _apply(Index, [input], key=())
    xp = input.backend.xp
    key = tuple(positions if d == axis else xp.arange(n).reshape(
        tuple(-1 if e == d else 1 for e in range(index.ndim)))
        for d, n in enumerate(index.shape))
    return _apply(Index, [input], key=key)
