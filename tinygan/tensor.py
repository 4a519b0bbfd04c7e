"""The whole autograd engine: Tensor holds an array, Function records how it was made.

Reverse mode in one sentence: walk the graph of Functions from the output back to the
leaves in reverse topological order, and hand each Function the gradient of the loss with
respect to its output (``gy``); it returns the gradients with respect to its inputs
(``gx``), which are summed wherever a tensor feeds more than one Function.

The order is a post-order of a depth-first search: a Function comes after every Function
that made one of its inputs, so reversed, its backward runs only once every consumer of its
output has handed over its share. Backward functions are written with tinygan's own ops; the
engine runs them under no_grad, or, with create_graph=True, records them like any forward,
which makes the gradient a Tensor with a graph of its own (gradients of gradients).
"""
import contextlib
import copy
import math
import numbers
import operator

import numpy as np

from . import backend as backends, devices, dtypes
from .dtypes import FLOAT_DTYPES
_grad_enabled = True
_queued = {}  # key -> (callback, leaves): see queue_callback


def queue_callback(callback, leaves, key):
    """Run ``callback()`` once, at the end of the first Tensor.backward() that accumulates a
    gradient into one of ``leaves`` (PyTorch's engine queue_callback, tied to the graph it
    serves); one callback per ``key``: queuing again before that backward replaces it.
    autograd.grad writes no ``.grad`` and runs none."""
    _queued[key] = (callback, leaves)


def _run_callbacks(reached):
    """Run (and dequeue) each queued callback whose leaves are among ``reached``."""
    due = [key for key, (_, leaves) in _queued.items() if any(t in reached for t in leaves)]
    for key in due:
        _queued.pop(key)[0]()


@contextlib.contextmanager
def _recording(enabled):
    """Inside the block the graph is recorded if ``enabled``, else not."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """Inside this block no graph is recorded: results have no creator and need no grad."""
    return _recording(False)


def is_grad_enabled():
    """True unless inside ``no_grad()``."""
    return _grad_enabled


class _Version:
    """How many times an array was modified in place, and by which op last: one per array,
    shared by the tensors that alias it (detach(), views), as PyTorch's version counter."""
    __slots__ = ("count", "op")

    def __init__(self):
        self.count, self.op = 0, None


class Size(tuple):
    """A tensor's shape, as torch.Size: a tuple of ints that ``Tensor(size)`` reads as sizes."""

    def numel(self):
        """The number of elements of a tensor of this shape."""
        return math.prod(self)


class Tensor:
    """An array plus what autograd needs: ``requires_grad``, ``grad`` and its ``creator``.

    ``array`` is the raw NumPy or CuPy array, which tinygan's own code reads and writes;
    ``data`` is PyTorch's: a Tensor that shares the array and does not require grad. The
    constructor is PyTorch's legacy one: ``Tensor(*sizes)`` (or a Size) an uninitialised tensor
    of that shape, ``Tensor()`` an empty one, ``Tensor(data)`` the data (an array, numbers in
    nested lists) in the default dtype, sharing an array that has it already, ``Tensor(tensor)``
    an alias of the tensor, dtype kept, in its graph. tinygan adds the keywords ``dtype`` (in
    place of the default) and ``requires_grad``; ``tensor(data)`` keeps the data's dtype.
    """

    def __init__(self, *data, dtype=None, device=None, requires_grad=False):
        """PyTorch's legacy constructor (see the class), plus ``dtype`` and ``requires_grad``."""
        if len(data) == 1 and isinstance(data[0], Tensor):
            converted = data[0].to(device=device, dtype=dtype)
            made = _alias(converted) if converted is data[0] else converted
        else:
            dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(
                dtype, "Tensor: dtype")
            made = wrap(*_legacy_array("Tensor", data, dtype, device))
        vars(self).update(vars(made))
        if requires_grad:
            self.requires_grad_()

    def _hold(self, array, backend=None):
        """Make this tensor a leaf that holds ``array`` itself: no copy, no cast, no grad."""
        if isinstance(array, np.generic):  # NumPy's operations on 0-d arrays give scalars
            array = np.asarray(array)
        self.array = array
        self.backend = backends.backend_of(array) if backend is None else backend
        self.requires_grad, self.grad, self.creator = False, None, None
        self._counter, self._base, self._used_by = _Version(), None, None

    # --- facts about the array -------------------------------------------------------------
    shape = property(lambda self: Size(self.array.shape))
    """The sizes of the axes, a Size (a tuple of ints)."""
    ndim = property(lambda self: self.array.ndim)
    """The number of axes."""
    dtype = property(lambda self: self.array.dtype)
    """The array's NumPy dtype."""
    device = property(lambda self: self.backend.name)
    """Where the array lives: 'cpu' or 'cuda'."""
    is_cuda = property(lambda self: self.backend.name == "cuda")
    """True for a tensor on the GPU."""
    is_xpu = is_mps = property(lambda self: False)
    """Always False: PyTorch's other accelerators are not here."""
    deepcopy_keeps_grad = True
    """Whether copy.deepcopy copies .grad too (a Parameter's is left behind, as PyTorch's)."""
    is_leaf = property(lambda self: self.creator is None)
    """True for a tensor made by no recorded op (its creator is None)."""
    grad_fn = property(lambda self: self.creator)
    """The Function that made this tensor, None for a leaf (PyTorch's name for creator)."""
    _version = property(lambda self: self._counter.count)  # in-place modifications so far

    def size(self, dim=None):
        """The shape (a Size), or the length of axis ``dim`` (negative counts from the end)."""
        return self.shape if dim is None else self.array.shape[self._axis(dim, "size")]

    def dim(self):
        """The number of axes."""
        return self.array.ndim

    def numel(self):
        """The number of elements."""
        return self.array.size

    nelement = numel
    """numel's other name (PyTorch has both)."""

    def _axis(self, dim, name):
        """``dim`` as an axis in [0, ndim), or an IndexError naming ``name`` and the range."""
        ndim = self.array.ndim
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
            raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__} {dim!r}")
        if not -ndim <= dim < ndim:
            raise IndexError(f"{name}: dim {dim} is out of range for a {ndim}-d tensor "
                             f"(expected {-ndim} to {ndim - 1})")
        return int(dim) % ndim

    # --- Python's protocols, as PyTorch's -------------------------------------------------
    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.array)

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.array)))

    def __bool__(self):
        return bool(self._one_value("bool"))

    def __float__(self):
        return float(self._one_value("float"))

    def __int__(self):
        return int(self._one_value("int"))

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors of a single element can be used as an "
                            f"index, got dtype {self.dtype}")
        return int(self._one_value("index"))

    def __contains__(self, element):
        found = self == element
        if found is NotImplemented:
            raise TypeError(f"'in' needs a number or a tensor, got {type(element).__name__}")
        return bool(found.array.any())

    def _one_value(self, name):
        """The value of a one-element tensor, for Python's bool(), float(), int() and index."""
        if self.array.size != 1:
            raise RuntimeError(f"{name}: a tensor of {self.array.size} elements (shape "
                               f"{tuple(self.shape)}) has no single value; use .any(), .all() "
                               "or index one element")
        return self.item()

    def __deepcopy__(self, memo):
        """A copy of a leaf with its own array, requires_grad and (unless a Parameter, whose
        grad is left behind) a copy of its grad, of the same class, as PyTorch's; a computed
        tensor is refused."""
        if self.creator is not None:
            raise RuntimeError("deepcopy: only leaf tensors (not results of recorded ops) can be "
                               "deep-copied, as in PyTorch; detach() it first")
        made = type(self).__new__(type(self))
        made._hold(self.array.copy(), self.backend)
        made.requires_grad = self.requires_grad
        memo[id(self)] = made
        made.grad = copy.deepcopy(self.grad, memo) if self.deepcopy_keeps_grad else None
        return made

    def __reduce__(self):
        """Pickled as its values (on the host), device, class and requires_grad; no graph."""
        return _rebuild, (type(self), self.numpy(), self.device, self.requires_grad)

    def clone(self, *, memory_format=None):
        """A copy with its own array, in the graph: the gradient flows back to this tensor."""
        return self.to(copy=True)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return (f"Tensor(shape={self.shape}, dtype={self.dtype}, device={self.device!r}{grad})"
                f"\n{self.numpy()}")

    def numpy(self):
        """The array as a NumPy array (copied to the host if it lives elsewhere)."""
        return self.backend.to_numpy(self.array)

    def __array__(self, dtype=None, copy=None):
        """NumPy's view of a CPU tensor (np.asarray(t)), as PyTorch's; a GPU tensor is refused."""
        if self.device != "cpu":
            raise TypeError(f"can't convert a {self.device} tensor to a NumPy array; "
                            "call .cpu() first")
        return self.array if dtype is None else self.array.astype(dtype, copy=bool(copy))

    def tolist(self):
        """The values as (nested) Python lists of Python numbers; a 0-d tensor as one number."""
        return self.numpy().tolist()

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self.shape}")
        return self.numpy().item()

    # --- views of the same array and conversions -------------------------------------------
    @property
    def data(self):
        """A Tensor sharing this one's array that does not require grad (PyTorch's ``.data``)."""
        return wrap(self.array, self.backend)

    @data.setter
    def data(self, value):
        """Make this tensor hold ``value``'s array (any shape, dtype or device), as PyTorch."""
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__} (a raw "
                            "array goes to .array)")
        self.array, self.backend = value.array, value.backend

    def detach(self):
        """A tensor sharing this one's array (and its version counter), cut off from the graph."""
        return _share(wrap(self.array, self.backend), self)

    def _mark_modified(self, op):
        """Count an in-place write to this tensor's array by ``op`` (a name, for errors)."""
        self._counter.count += 1
        self._counter.op = op

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place (on only for float tensors, off only on leaves); self."""
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"requires_grad: only floating-point tensors can require grad, "
                               f"got dtype {self.dtype}")
        if not requires_grad and self.creator is not None:
            raise RuntimeError("requires_grad: only a leaf's requires_grad can be turned off; "
                               "detach() gives a computed tensor without grad")
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """This tensor on a device and/or in a dtype, as PyTorch's to(dtype), to(device, dtype)
        and to(other): itself when nothing changes (unless copy), else a converted copy that
        gradients flow back through when the new dtype is a float one."""
        device, dtype = _to_target(args, device, dtype)
        device = self.device if device is None else devices.device(device)
        dtype = self.dtype if dtype is None else dtype
        if device == self.device and dtype == self.dtype and not copy:
            return self
        if self.requires_grad and _grad_enabled and dtype.kind == "f":
            return ops.convert(self, dtype=dtype, device=device, copy=copy)
        target = backends.get(device)
        return wrap(convert_array(self.array, self.backend, target, dtype, copy), target)

    def cpu(self):
        """This tensor on the CPU (itself if it is there)."""
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        """This tensor on the GPU (itself if it is there): device None, 0, 'cuda', 'cuda:0' or
        such a tinygan.device (tinygan uses one GPU per process)."""
        if device is not None and devices.device(device).type != "cuda":
            raise ValueError(f"cuda: device must be the GPU (None, 0, 'cuda' or 'cuda:0'), got "
                             f"{device!r}")
        return self.to("cuda")

    def type(self, dtype=None):
        """PyTorch's type name ('torch.FloatTensor', 'torch.cuda.FloatTensor') without an
        argument; with a dtype, a legacy type or such a name, this tensor converted to it."""
        if dtype is None:
            cuda = ".cuda" if self.is_cuda else ""
            return f"torch{cuda}.{_TYPE_NAMES.get(self.dtype, str(self.dtype))}"
        if isinstance(dtype, _LegacyType):
            return self.to("cpu", dtype.dtype)
        if isinstance(dtype, str) and dtype.startswith("torch."):
            device, _, name = dtype[len("torch."):].rpartition(".")
            by_name = {v: k for k, v in _TYPE_NAMES.items()}
            if device not in ("", "cuda") or name not in by_name:
                raise ValueError(f"type: unknown type name {dtype!r}; expected one like "
                                 "'torch.FloatTensor' or 'torch.cuda.LongTensor'")
            return self.to(device or "cpu", by_name[name])
        return self.to(dtypes.as_dtype(dtype, "type: dtype"))

    def contiguous(self):
        """This tensor if its array is C-contiguous, else a C-ordered copy (in the graph)."""
        return self if self.array.flags.c_contiguous else self.to(copy=True)

    def float(self):
        """This tensor as float32."""
        return self.to(dtypes.float32)

    def double(self):
        """This tensor as float64."""
        return self.to(dtypes.float64)

    def half(self):
        """This tensor as float16."""
        return self.to(dtypes.float16)

    def long(self):
        """This tensor as int64."""
        return self.to(dtypes.int64)

    def int(self):
        """This tensor as int32."""
        return self.to(dtypes.int32)

    def bool(self):
        """This tensor as bool."""
        return self.to(dtypes.bool)

    # --- autograd ------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) * gradient into ``.grad`` of every leaf that requires grad.

        retain_graph: keep the arrays the graph saved, for another backward through it
        (default: create_graph). create_graph: record this backward too, so that each ``.grad``
        is a Tensor with a graph and can be differentiated again.
        """
        leaves = _backpropagate([self], [gradient], retain_graph, create_graph)
        with _recording(create_graph):
            for leaf, gx in leaves.items():
                leaf.grad = (gx if create_graph else wrap(gx.array, gx.backend)) \
                    if leaf.grad is None else leaf.grad + gx
        _run_callbacks(leaves)

    # --- operator sugar (the ops live in tinygan/ops/) ------------------------------------
    # NumPy's ufuncs step aside: ``array + tensor`` calls Tensor.__radd__, as ``number + tensor``
    __array_ufunc__ = None

    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pow__(self, exponent):
        return ops.pow(self, exponent)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __lt__(self, other):
        return self._compare(other, operator.lt, "lt")

    def __le__(self, other):
        return self._compare(other, operator.le, "le")

    def __gt__(self, other):
        return self._compare(other, operator.gt, "gt")

    def __ge__(self, other):
        return self._compare(other, operator.ge, "ge")

    def __eq__(self, other):
        return self._compare(other, operator.eq, "eq")

    def __ne__(self, other):
        return self._compare(other, operator.ne, "ne")

    __hash__ = object.__hash__  # a tensor is a dict key by identity, as in PyTorch

    def __and__(self, other):
        return self._bitwise(other, operator.and_, "and")

    def __or__(self, other):
        return self._bitwise(other, operator.or_, "or")

    def __xor__(self, other):
        return self._bitwise(other, operator.xor, "xor")

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        return self._bitwise(None, lambda a, _: ~a, "invert")

    def _bitwise(self, other, operation, name):
        """operation(self, other) elementwise on bool or integer tensors (masks), no gradient."""
        for value in (self, other):
            if isinstance(value, Tensor) and value.dtype.kind not in "biu":
                raise TypeError(f"{name}: bitwise ops take bool or integer tensors, got dtype "
                                f"{value.dtype}; compare first (x > 0) to make a mask")
        if other is not None:
            other = self._other_array(other, name)
            if other is NotImplemented:
                return NotImplemented
        return wrap(self.backend.asarray(operation(self.array, other)), self.backend)

    def _compare(self, other, relation, name):
        """relation(self, other) elementwise, as a bool Tensor (a comparison has no gradient);
        NotImplemented for what is neither a tensor, an array nor a number (``t == None``)."""
        other = self._other_array(other, name)
        if other is NotImplemented:
            return NotImplemented
        try:
            shape = np.broadcast_shapes(self.array.shape, other.shape)
        except ValueError:
            raise ValueError(f"{name}: shapes {self.shape} and {tuple(other.shape)} do not "
                             "broadcast together") from None
        return wrap(self.backend.asarray(relation(self.array, other)).reshape(shape),
                    self.backend)

    def _other_array(self, other, name):
        """The other operand of a comparison or bitwise op as an array of this tensor's backend:
        a tensor on this device, a NumPy array or a number; NotImplemented for anything else."""
        if isinstance(other, Tensor):
            if other.device != self.device:
                raise ValueError(f"{name}: tensors on different devices, {self.device!r} and "
                                 f"{other.device!r}; move one with .to() first")
            return other.array
        if isinstance(other, (numbers.Number, np.generic, np.ndarray)):
            return self.backend.asarray(other)
        return NotImplemented

    @property
    def T(self):  # noqa: N802  (the name NumPy and PyTorch use)
        """The axes in reverse order: a matrix's transpose (NumPy's .T)."""
        return ops.transpose(self)

    def t(self):
        """The transpose of a matrix; a 0-d or 1-d tensor as it is (PyTorch's t())."""
        if self.ndim > 2:
            raise RuntimeError(f"t: expects a tensor of at most 2 dims, got shape {self.shape}; "
                               "use transpose(dim0, dim1)")
        return ops.transpose(self)

    # --- reductions and elementwise functions (ops); axis/keepdims: NumPy's names -----------
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """sum over dim (all dims if None); keepdim keeps them as size 1."""
        return ops.sum(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """sum / count over dim (all dims if None); keepdim keeps them as size 1."""
        return ops.mean(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """sum((x - mean)^2) / (count - correction) over dim; correction 1 (0 if unbiased=False)."""
        return ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """sqrt(var(dim, unbiased, keepdim, correction=...)): the standard deviation over dim."""
        return ops.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        """The largest value; with dim, (values, indices) of the largest along dim."""
        return ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        """The smallest value; with dim, (values, indices) of the smallest along dim."""
        return ops.min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        """The int64 index of the largest value along dim (in the flattened tensor if None)."""
        return ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """The int64 index of the smallest value along dim (in the flattened tensor if None)."""
        return ops.argmin(self, dim, keepdim)

    def norm(self, p=2, dim=None, keepdim=False):
        """sum(|x|^p)^(1/p) over dim (all dims if None); p may be inf, -inf, 0 or 'fro' (2)."""
        return ops.norm(self, p, dim, keepdim)

    def abs(self):
        """|x|, elementwise (gradient sign(x), 0 at 0)."""
        return ops.abs(self)

    __abs__ = abs

    def any(self, dim=None, keepdim=False):
        """True where some element over dim (all dims if None) is nonzero; a bool tensor."""
        return ops.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        """True where every element over dim (all dims if None) is nonzero; a bool tensor."""
        return ops.all(self, dim, keepdim)

    def exp(self):
        """exp(x), elementwise."""
        return ops.exp(self)

    def log(self):
        """ln(x), the natural logarithm, elementwise."""
        return ops.log(self)

    def sqrt(self):
        """sqrt(x) = x ** 0.5, elementwise."""
        return ops.sqrt(self)

    def pow(self, exponent):
        """x ** exponent (a Python number), elementwise."""
        return ops.pow(self, exponent)

    def clamp(self, min=None, max=None):  # noqa: A002  (torch.clamp's names)
        """min(max(x, min), max), elementwise; a None bound is no limit."""
        return ops.clamp(self, min, max)

    clip = clamp
    """clamp's other name (NumPy's and PyTorch's)."""

    def sigmoid(self):
        """1 / (1 + exp(-x)), elementwise."""
        return ops.sigmoid(self)

    def tanh(self):
        """tanh(x), elementwise."""
        return ops.tanh(self)

    def relu(self):
        """max(x, 0), elementwise."""
        return ops.relu(self)

    def masked_fill(self, mask, value):
        """value where mask (bool, broadcast to x's shape) is True, else x."""
        return ops.masked_fill(self, mask, value)

    def reshape(self, *shape):
        """The same elements in shape ``shape`` (ints or one tuple; one entry may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """Axes start_dim to end_dim (both included) merged into one."""
        return ops.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        """Size-1 axes removed (only dim's, an int or tuple, if given)."""
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        """A size-1 axis inserted at dim (negative counts from the new end)."""
        return ops.unsqueeze(self, dim)

    def permute(self, *dims):
        """Axes reordered: the result's axis i is this tensor's axis dims[i]."""
        return ops.permute(self, *dims)

    def transpose(self, dim0, dim1):
        """Axes dim0 and dim1 swapped."""
        return ops.transpose(self, dim0, dim1)

    def expand(self, *sizes):
        """Broadcast to ``sizes``, no copy (-1 keeps an axis's size; new axes go in front)."""
        return ops.expand(self, *sizes)

    def repeat(self, *sizes):
        """Tiled sizes[i] times along axis i (new axes go in front)."""
        return ops.repeat(self, *sizes)

    def view(self, *shape):
        """This tensor with a new shape (one entry may be -1), as reshape."""
        return self.reshape(*shape)

    # --- in-place ops (inplace.py): PyTorch's trailing underscore, each returns self ----------
    def fill_(self, value):
        """x[...] = value (number or 1-element tensor), in place; counted on the version counter."""
        return inplace.fill_(self, value)

    def zero_(self):
        """x[...] = 0, in place; counted on the version counter."""
        return inplace.zero_(self)

    def copy_(self, src, non_blocking=False):
        """x[...] = src, broadcast and converted, in place; counted on the version counter."""
        return inplace.copy_(self, src)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """x[...] = draws from N(mean, std^2), in place; counted on the version counter."""
        return inplace.normal_(self, mean, std, generator)

    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        """x[...] = draws from U[from_, to), in place; counted on the version counter."""
        return inplace.uniform_(self, from_, to, generator)

    def clamp_(self, min=None, max=None):  # noqa: A002  (torch.clamp_'s names)
        """x = min(max(x, min), max), in place; counted on the version counter."""
        return inplace.clamp_(self, min, max)

    clip_ = clamp_
    """clamp_'s other name (PyTorch's)."""

    def masked_fill_(self, mask, value):
        """x[mask] = value (mask broadcast), in place; counted on the version counter."""
        return inplace.masked_fill_(self, mask, value)

    def add_(self, other, *, alpha=1):
        """x = x + alpha * other, in place; counted on the version counter."""
        return inplace.arithmetic(self, "add_", ops.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, *, alpha=1):
        """x = x - alpha * other, in place; counted on the version counter."""
        return inplace.arithmetic(self, "sub_", ops.sub, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        """x = x * other, in place; counted on the version counter."""
        return inplace.arithmetic(self, "mul_", ops.mul, other)

    def div_(self, other):
        """x = x / other, in place; counted on the version counter."""
        return inplace.arithmetic(self, "div_", ops.div, other)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def __getitem__(self, key):
        return ops.index(self, key)

    def split(self, split_size_or_sections, dim=0):
        """Pieces along dim of split_size each (the last may be shorter), or of the listed sizes."""
        return ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        """At most ``chunks`` pieces along dim, each ceil(size / chunks) long but the last."""
        return ops.chunk(self, chunks, dim)

    def gather(self, dim, index):
        """out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and so on for other dims)."""
        return ops.gather(self, dim, index)


def _rebuild(cls, array, device, requires_grad):
    """A pickled tensor made again: ``array`` on ``device`` as a leaf of class ``cls``."""
    made = cls.__new__(cls)
    target = backends.get(device)
    made._hold(target.asarray(array), target)
    made.requires_grad = requires_grad
    return made


def wrap(array, backend=None):
    """A leaf Tensor holding ``array`` (a NumPy or CuPy array, or a NumPy scalar) itself: no
    copy, no cast; how tinygan's own code makes tensors (``backend``: the array's, if known)."""
    made = Tensor.__new__(Tensor)
    made._hold(array, backend)
    return made


def as_array(data, name):
    """(array, backend) for ``data``: a NumPy or CuPy array itself, a NumPy scalar as a 0-d
    array, numbers in nested lists as NumPy reads them but Python floats in the default dtype
    (PyTorch's inference); ``name`` is the function named when data is not numbers."""
    try:
        array, backend = data, backends.backend_of(data)
    except TypeError:
        try:
            array, backend = np.asarray(data), backends.get("cpu")
        except ValueError:
            raise ValueError(f"{name}: data must be numbers in nested lists of equal lengths, "
                             f"got ragged {type(data).__name__}") from None
        if array.dtype == np.float64 and not isinstance(data, np.generic):
            array = array.astype(dtypes.get_default_dtype())
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: data must be bools, integers or floats (in lists or an "
                        f"array), got {type(data).__name__} of dtype {array.dtype}")
    return array, backend


def convert_array(array, source, target, dtype, copy):
    """``array`` (of backend ``source``) as an array of backend ``target`` in ``dtype``: itself if
    nothing changes, else a new array in the same memory order; with ``copy`` always a new
    C-ordered array."""
    if target is not source:
        array, copy = target.asarray(source.to_numpy(array)), False
    return array.astype(dtype, order="C" if copy else "K", copy=copy)


def _legacy_array(name, args, dtype, device):
    """(array, backend) that PyTorch's legacy constructor ``name(*args)`` makes in ``dtype`` on
    ``device``: no args an empty array, ints or a Size uninitialised, else one data argument."""
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        if any(a < 0 for a in args):
            raise ValueError(f"{name}: sizes must be >= 0, got {tuple(int(a) for a in args)}")
        target = backends.get("cpu" if device is None else device)
        return target.xp.empty(args or (0,), dtype), target
    if len(args) != 1:
        raise TypeError(f"{name}: expected sizes (ints) or one data argument, got arguments of "
                        f"types ({', '.join(type(a).__name__ for a in args)})")
    if isinstance(args[0], (numbers.Number, np.generic)):
        raise TypeError(f"{name}: data must be a sequence or an array, got "
                        f"{type(args[0]).__name__} {args[0]!r}; tinygan.tensor({args[0]!r}) "
                        "makes a 0-d tensor")
    array, source = as_array(args[0], name)
    target = source if device is None else backends.get(device)
    return convert_array(array, source, target, dtype, copy=False), target


def _alias(source):
    """A new tensor sharing ``source``'s array; in its graph (as a view) if it requires grad."""
    if source.requires_grad and _grad_enabled:
        return ops.reshape(source, source.shape)
    return _share(wrap(source.array, source.backend), source)


def _share(alias, source):
    """``alias``, which holds ``source``'s array, made to count its versions with source's."""
    alias._counter = source._counter
    return alias


def _viewed_input(array, tensors):
    """The first of ``tensors`` whose array ``array`` is a view of (same base), or None."""
    root = _root(array)
    return next((t for t in tensors if _root(t.array) is root), None)


def _root(array):
    """The array that owns ``array``'s memory (itself if it is not a view)."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _to_target(args, device, dtype):
    """(device, dtype) from Tensor.to's arguments: (dtype), (device[, dtype]) or (tensor), or
    by keyword; the dtype as a NumPy dtype, None where not given."""
    if len(args) == 1 and isinstance(args[0], Tensor):
        args = (args[0].device, args[0].dtype)
    names = ("device", "dtype") if args and isinstance(args[0], str) else ("dtype",)
    if len(args) > len(names):
        raise TypeError(f"to: expected (dtype), (device, dtype) or (tensor), got {len(args)} "
                        "positional arguments")
    given = {"device": device, "dtype": dtype}
    for key, value in zip(names, args):
        if given[key] is not None:
            raise TypeError(f"to: {key} given both by position and by keyword")
        given[key] = value
    dtype = given["dtype"]
    return given["device"], None if dtype is None else dtypes.as_dtype(dtype, "to: dtype")


_TYPE_NAMES = {dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor",
               dtypes.float16: "HalfTensor", dtypes.int64: "LongTensor", dtypes.int32: "IntTensor",
               dtypes.int16: "ShortTensor", dtypes.int8: "CharTensor", dtypes.uint8: "ByteTensor",
               dtypes.bool: "BoolTensor"}


class _LegacyType(type):
    """The type of FloatTensor, DoubleTensor and LongTensor: calling one is PyTorch's legacy
    constructor in its dtype, and isinstance(t, FloatTensor) asks for a float32 CPU tensor."""

    def __call__(cls, *data, device=None):
        """Tensor(*data) in this type's dtype, on ``device``."""
        return Tensor(*data, dtype=cls.dtype, device=device)

    def __instancecheck__(cls, instance):
        """True for a CPU Tensor of this type's dtype."""
        return (isinstance(instance, Tensor) and instance.dtype == cls.dtype
                and instance.device == "cpu")


class FloatTensor(metaclass=_LegacyType):
    """float32: FloatTensor(*sizes) uninitialised, FloatTensor(data) converted."""
    dtype = dtypes.float32
    """The dtype it makes and that isinstance asks for: float32."""


class DoubleTensor(metaclass=_LegacyType):
    """float64: DoubleTensor(*sizes) uninitialised, DoubleTensor(data) converted."""
    dtype = dtypes.float64
    """The dtype it makes and that isinstance asks for: float64."""


class LongTensor(metaclass=_LegacyType):
    """int64: LongTensor(*sizes) uninitialised, LongTensor(data) converted (floats truncated)."""
    dtype = dtypes.int64
    """The dtype it makes and that isinstance asks for: int64."""


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf holding a copy of ``data`` (an array, a Tensor, numbers in nested lists), as
    torch.tensor: its dtype kept (Python floats: the default dtype, ints int64, bools bool)
    unless ``dtype`` is given, on ``device`` (default: where the data is)."""
    if isinstance(data, Tensor):
        array, source = data.array, data.backend
    else:
        array, source = as_array(data, "tensor")
    target = source if device is None else backends.get(device)
    dtype = array.dtype if dtype is None else dtypes.as_dtype(dtype, "tensor: dtype")
    copy = isinstance(data, Tensor) or array is data
    return wrap(convert_array(array, source, target, dtype, copy), target).requires_grad_(
        requires_grad)


def from_numpy(ndarray):
    """A Tensor that shares ``ndarray``'s memory and keeps its dtype, as torch.from_numpy."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: expected an array of numbers or bools, got dtype "
                        f"{ndarray.dtype}")
    return wrap(ndarray, backends.get("cpu"))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of ``outputs`` (weighted by ``grad_outputs``) with respect to ``inputs``, as
    torch.autograd.grad: a tuple with one Tensor per input; no ``.grad`` is touched.

    An input that no output depends on is an error, or None with allow_unused=True. With
    create_graph=True the gradients carry a graph and can be differentiated again.
    """
    outputs, inputs = _tensor_list(outputs, "outputs"), _tensor_list(inputs, "inputs")
    if grad_outputs is not None:
        grad_outputs = (list(grad_outputs) if isinstance(grad_outputs, (list, tuple))
                        else [grad_outputs])
        if len(grad_outputs) != len(outputs):
            raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for position, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: inputs[{position}] does not require grad "
                               "(set requires_grad=True on it before the forward pass)")
    found = _backpropagate(outputs, grad_outputs, retain_graph, create_graph, inputs)
    for position, t in enumerate(inputs):
        if t not in found and not allow_unused:
            raise RuntimeError(f"grad: inputs[{position}] (shape {t.shape}) was not used to "
                               "compute the outputs; pass allow_unused=True to get None for it")
    return tuple(found.get(t) for t in inputs)


def _tensor_list(values, name):
    """A Tensor or a list or tuple of Tensors as a list."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    for position, v in enumerate(values):
        if not isinstance(v, Tensor):
            raise TypeError(f"grad: {name}[{position}] must be a Tensor, got {type(v).__name__}")
    return values


def _root_gradient(root, gradient):
    """The gradient a backward pass starts from at ``root``, as a Tensor of root's dtype."""
    if not root.requires_grad:
        raise RuntimeError("backward() called on a tensor that does not require grad "
                           "(no input of the computation had requires_grad=True)")
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"backward() on a tensor of shape {root.shape} needs a gradient argument "
                "of that shape; only a one-element tensor can be the root without one")
        return wrap(root.backend.xp.ones_like(root.array), root.backend)
    if not isinstance(gradient, Tensor):
        gradient = wrap(root.backend.asarray(gradient), root.backend)
    if gradient.shape != root.shape:
        raise ValueError(f"backward(): gradient has shape {gradient.shape}, "
                         f"expected the tensor's shape {root.shape}")
    if gradient.device != root.device:
        raise ValueError(f"backward(): gradient is on {gradient.device!r}, the tensor on "
                         f"{root.device!r}; move it with .to({root.device!r}) first")
    if gradient.dtype.kind != "f":
        raise TypeError(f"backward(): gradient has dtype {gradient.dtype}; expected a float "
                        f"dtype (it is cast to the tensor's {root.dtype})")
    if gradient.dtype != root.dtype:  # as PyTorch: cast, so a float32 .grad stays float32
        if gradient.requires_grad:
            raise TypeError(f"backward(): gradient has dtype {gradient.dtype} and requires grad; "
                            f"give it the tensor's dtype, {root.dtype}")
        gradient = wrap(gradient.array.astype(root.dtype), gradient.backend)
    return gradient


def _backpropagate(roots, root_grads, retain_graph, create_graph, targets=None):
    """Run the backward pass from ``roots``; return {tensor: its gradient} for the leaves that
    require grad (targets None) or for ``targets`` (any tensors requiring grad).

    Each Function's backward runs once, in reverse post-order, after every Function that
    consumed its output has handed it a gradient; with targets, only on paths to them.
    """
    root_grads = [None] * len(roots) if root_grads is None else root_grads
    targets = None if targets is None else set(targets)
    retain_graph = create_graph if retain_graph is None else retain_graph
    grads, found = {}, {}  # gradient of each Function's output; of each leaf or target
    with _recording(create_graph):
        for root, gradient in zip(roots, root_grads):
            _add_gradient(grads, found, root, _root_gradient(root, gradient), targets, set())
        order = _topological_order([r.creator for r in roots if r.creator is not None])
        wanted = _wanted(order, targets)
        done = set()  # Functions whose backward has run: no gradient may reach them later
        for fn in reversed(order):
            if fn not in grads:
                continue
            fn.needs_input_grad = tuple(wanted(t) for t in fn.inputs)
            fn.check_saved()
            gxs = fn.backward(grads.pop(fn))
            gxs = gxs if isinstance(gxs, tuple) else (gxs,)
            for tensor, gx, needed in zip(fn.inputs, gxs, fn.needs_input_grad):
                if needed and gx is not None:
                    _check_gradient(fn, tensor, gx)
                    _add_gradient(grads, found, tensor, gx, targets, done)
            done.add(fn)
            if not retain_graph:
                fn.release()
    return found


def _wanted(order, targets):
    """A test of whether a tensor's gradient is needed: every tensor requiring grad, or with
    targets only the targets and tensors whose creator leads to one."""
    if targets is None:
        return lambda t: t.requires_grad
    leading = set()
    for fn in order:  # post-order: each Function after its inputs' creators
        if any(t in targets or t.creator in leading for t in fn.inputs):
            leading.add(fn)
    return lambda t: t.requires_grad and (t in targets or t.creator in leading)


def _add_gradient(grads, found, tensor, gx, targets, done):
    """Add gx to what ``tensor`` has received: to its creator's, or to found for a leaf/target."""
    if (tensor.creator is None and targets is None) or (targets is not None and tensor in targets):
        found[tensor] = gx if tensor not in found else found[tensor] + gx
    if tensor.creator is None:
        return
    if tensor.creator in done:
        raise RuntimeError(f"backward: a gradient reached {type(tensor.creator).__name__} "
                           "after its backward ran (the graph was ordered wrongly)")
    fn = tensor.creator
    grads[fn] = gx if fn not in grads else grads[fn] + gx


def _check_gradient(fn, tensor, gx):
    """A Function must return each gradient as a Tensor of its input's shape and dtype."""
    if not isinstance(gx, Tensor) or gx.shape != tensor.shape or gx.dtype != tensor.dtype:
        got = (f"shape {gx.shape} dtype {gx.dtype}" if isinstance(gx, Tensor)
               else type(gx).__name__)
        raise RuntimeError(f"{type(fn).__name__}.backward returned a gradient ({got}) for an "
                           f"input of shape {tensor.shape} dtype {tensor.dtype}")


def _topological_order(roots):
    """Functions reachable from ``roots`` in post-order: each after every Function that produced
    one of its inputs, found by an iterative depth-first search (no recursion limit).

    A Function is marked visited when it is first expanded, and appended only when the stack
    comes back to it, after all of its inputs' creators (in a DAG, a visited Function that is
    not yet appended would be its own ancestor).
    """
    order, visited, stack = [], set(), [(root, False) for root in reversed(roots)]
    while stack:
        fn, inputs_done = stack.pop()
        if inputs_done:
            order.append(fn)
        elif fn not in visited:
            if fn.released:
                raise RuntimeError(
                    f"backward through the graph a second time ({type(fn).__name__}): the "
                    "first backward released its saved arrays; pass retain_graph=True to it")
            visited.add(fn)
            stack.append((fn, True))
            stack.extend((t.creator, False) for t in fn.inputs
                         if t.creator is not None and t.creator not in visited)
    return order


class Function:
    """One differentiable op: ``forward`` works on raw arrays, ``backward`` on Tensors.

    ``forward(self, *arrays, **settings)`` returns the output array and keeps on ``self``
    what backward needs. ``backward(self, gy)`` gets the output's gradient as a Tensor and
    returns one gradient Tensor per positional input (a tuple, or a single Tensor for one
    input; None where none is needed), computed with tinygan ops: the engine runs it under
    no_grad, or recorded when create_graph=True, so the same code is the first derivative and
    the graph of the second. ``self.inputs`` are the input Tensors, ``self.xp`` the array module,
    ``self.backend`` the backend; ``self.needs_input_grad``, one bool per positional input, lets
    backward skip gradients nobody asked for (as in PyTorch).

    Version counters guard what forward saved: a backward that reads its inputs' values
    (``reads_inputs``, unless a subclass says it uses only their shapes), its output (through
    ``output_tensor``) or a view's base refuses to run once one of them was modified in place.
    """
    released = False
    """True once release() dropped the saved arrays: a second backward is refused."""
    reads_inputs = True
    """Whether backward reads the inputs' values (False: only their shapes, so an in-place
    change to an input after the forward is allowed)."""

    @classmethod
    def apply(cls, *inputs, **settings):
        """Run the op on Tensors (or numbers) and record it in the graph if a grad is needed."""
        fn = cls()
        tensors = _as_tensors(cls.__name__, inputs)
        fn.backend = tensors[0].backend
        fn.xp = fn.backend.xp
        result = fn.forward(*(t.array for t in tensors), **settings)
        output = wrap(fn.backend.asarray(result), fn.backend)  # forward may set another backend
        base = _viewed_input(output.array, tensors)
        if base is not None:
            output._counter, output._base = base._counter, base
        if _grad_enabled and any(t.requires_grad for t in tensors):
            fn.inputs = tensors
            fn.needs_input_grad = tuple(t.requires_grad for t in tensors)
            fn.input_versions = tuple(t._counter.count for t in tensors)
            fn.output_version = output._counter, output._counter.count
            fn.output_is_view = base is not None
            for t in tensors:
                t._used_by = cls.__name__
            output.requires_grad = True
            output.creator = fn
        return output

    def output_tensor(self, array):
        """``array``, this Function's output, as a Tensor made by it: a recorded backward that
        uses the output then differentiates through this Function too."""
        self._check_output()
        output = wrap(array, self.backend)
        output.requires_grad, output.creator = True, self
        return output

    def check_saved(self):
        """Raise if an input whose values backward reads, or a view's base, was modified in
        place after the forward (the saved arrays would give a wrong gradient)."""
        if self.reads_inputs:
            for position, (t, version) in enumerate(zip(self.inputs, self.input_versions)):
                if t._counter.count != version:
                    raise _modified_error(self, f"its input {position}", t, version)
        if self.output_is_view:
            self._check_output()

    def _check_output(self):
        """Raise if this Function's output was modified in place after the forward."""
        counter, version = self.output_version
        if counter.count != version:
            raise _modified_error(self, "its output", None, version, counter)

    def release(self):
        """Drop the saved arrays and the inputs (after a backward without retain_graph)."""
        self.__dict__.clear()
        self.released = True


def _modified_error(fn, what, tensor, version, counter=None):
    """The one-line error for a backward whose saved values were overwritten in place."""
    counter = tensor._counter if counter is None else counter
    described = "" if tensor is None else f" (a {tensor.dtype} tensor of shape {tensor.shape})"
    return RuntimeError(
        f"backward: {what}{described} of {type(fn).__name__} was modified in place by "
        f"{counter.op} after the forward saved it (version {counter.count}, saved at {version}); "
        "clone() it before the in-place op, or call backward first")


def _as_tensors(op_name, inputs):
    """Inputs as Tensors that share one device and one float dtype; numbers adopt both."""
    tensors = [x for x in inputs if isinstance(x, Tensor)]
    if not tensors:
        raise TypeError(f"{op_name}: expected at least one Tensor input")
    first = tensors[0]
    for position, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            continue
        if t.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{op_name}: input {position} has dtype {t.dtype}; tinygan ops need "
                            "float32 or float64 (convert with x.float() or x.double())")
        if t.dtype != first.dtype:
            raise TypeError(f"{op_name}: inputs mix dtypes {first.dtype} and {t.dtype}; "
                            "convert them to one dtype first")
        if t.device != first.device:
            raise ValueError(f"{op_name}: inputs are on different devices, {first.device!r} "
                             f"and {t.device!r}; move them with .to(device) first")
    return [x if isinstance(x, Tensor)
            else wrap(first.backend.asarray(x, dtype=first.dtype), first.backend) for x in inputs]


from . import ops  # noqa: E402  (it builds on Function, defined above)
from . import inplace  # noqa: E402,I100  (it builds on ops)
