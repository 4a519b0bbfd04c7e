"""The whole autograd engine: Tensor holds an array, Function records how it was made.

Reverse mode in one sentence: walk the graph of Functions from the output back to the
leaves in reverse topological order, and hand each Function the gradient of the loss with
respect to its output (``gy``); it returns the gradients with respect to its inputs
(``gx``), which are summed wherever a tensor feeds more than one Function.
"""
import contextlib

import numpy as np

from . import backend as backends

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Inside this block no graph is recorded: results have no creator and need no grad."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled():
    """True unless inside ``no_grad()``."""
    return _grad_enabled


class Tensor:
    """An array plus what autograd needs: ``requires_grad``, ``grad`` and its ``creator``.

    ``data`` may be a NumPy or CuPy array (kept as it is) or anything ``numpy.asarray``
    takes; Python floats become float32, PyTorch's default dtype.
    """

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        try:
            backend = backends.backend_of(data)
        except TypeError:
            data = np.asarray(data)
            if dtype is None and data.dtype == np.float64:
                dtype = np.float32
            backend = backends.get("cpu")
        self.data = data if dtype is None else data.astype(dtype, copy=False)
        self.backend = backend
        self.requires_grad = requires_grad
        self.grad = None
        self.creator = None

    # --- facts about the array -------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    device = property(lambda self: self.backend.name)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return (f"Tensor(shape={self.shape}, dtype={self.dtype}, device={self.device!r}{grad})"
                f"\n{self.numpy()}")

    def numpy(self):
        """The data as a NumPy array (copied to the host if it lives elsewhere)."""
        return self.backend.to_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self.shape}")
        return self.numpy().item()

    def detach(self):
        """A tensor sharing this one's data, cut off from the graph."""
        return Tensor(self.data)

    def to(self, device):
        """A copy of this tensor on ``device`` ("cpu" or "cuda"); this tensor if already there."""
        if device == self.device:
            return self
        target = backends.get(device)
        moved = Tensor(target.asarray(self.backend.to_numpy(self.data)))
        moved.requires_grad = self.requires_grad
        return moved

    # --- autograd ------------------------------------------------------------------------
    def backward(self, gradient=None):
        """Accumulate d(self)/d(leaf) * gradient into ``.grad`` of every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad "
                               "(no input of the computation had requires_grad=True)")
        if gradient is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward() on a tensor of shape {self.shape} needs a gradient argument "
                    "of that shape; only a one-element tensor can be the root without one")
            gy = self.backend.xp.ones_like(self.data)
        else:
            gy = gradient.data if isinstance(gradient, Tensor) else gradient
            if gy.shape != self.shape:
                raise ValueError(f"backward(): gradient has shape {gy.shape}, "
                                 f"expected the tensor's shape {self.shape}")
        if self.creator is None:
            self._accumulate(gy)
            return
        grads = {self.creator: gy}  # gradient of the loss w.r.t. each Function's output
        done = set()  # Functions whose backward has run: no gradient may reach them later
        for fn in reversed(_topological_order(self.creator)):
            gxs = fn.backward(grads.pop(fn))
            done.add(fn)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for tensor, gx in zip(fn.inputs, gxs):
                if not tensor.requires_grad or gx is None:
                    continue
                if gx.shape != tensor.shape:
                    raise RuntimeError(f"{type(fn).__name__}.backward returned a gradient of "
                                       f"shape {gx.shape} for an input of shape {tensor.shape}")
                if tensor.creator is None:
                    tensor._accumulate(gx)
                elif tensor.creator in done:
                    raise RuntimeError(f"backward: a gradient reached {type(tensor.creator).__name__} "
                                       "after its backward ran (the graph was ordered wrongly)")
                elif tensor.creator in grads:
                    grads[tensor.creator] = grads[tensor.creator] + gx
                else:
                    grads[tensor.creator] = gx

    def _accumulate(self, gx):
        """grad += gx for a leaf (gradients add up over uses and over backward() calls)."""
        self.grad = Tensor(self.backend.asarray(gx if self.grad is None else self.grad.data + gx))

    # --- operator sugar (the ops live in ops.py) ------------------------------------------
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

    def sum(self, axis=None, keepdims=False):
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.mean(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def flatten(self, start_dim=0):
        return ops.flatten(self, start_dim)


def _topological_order(root):
    """Functions reachable from ``root`` in post-order: each after every Function that produced
    one of its inputs, found by an iterative depth-first search (no recursion limit).

    A Function is marked visited when it is first expanded, and appended only when the stack
    comes back to it, after all of its inputs' creators (in a DAG, a visited Function that is
    not yet appended would be its own ancestor).
    """
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        fn, inputs_done = stack.pop()
        if inputs_done:
            order.append(fn)
        elif fn not in visited:
            visited.add(fn)
            stack.append((fn, True))
            stack.extend((t.creator, False) for t in fn.inputs
                         if t.creator is not None and t.creator not in visited)
    return order


class Function:
    """One differentiable op: ``forward`` and ``backward`` work on raw arrays.

    ``forward(self, *arrays, **settings)`` returns the output array and keeps on ``self``
    what backward needs. ``backward(self, gy)`` returns one gradient per positional input
    (a tuple, or a single array for one input; None where none is needed). ``self.xp`` is the
    array module and ``self.backend`` the backend of the inputs; ``self.needs_input_grad``, one
    bool per positional input, lets backward skip gradients nobody asked for (as in PyTorch).
    """

    @classmethod
    def apply(cls, *inputs, **settings):
        """Run the op on Tensors (or numbers) and record it in the graph if a grad is needed."""
        fn = cls()
        tensors = _as_tensors(cls.__name__, inputs)
        fn.backend = tensors[0].backend
        fn.xp = fn.backend.xp
        output = Tensor(fn.backend.asarray(fn.forward(*(t.data for t in tensors), **settings)))
        if _grad_enabled and any(t.requires_grad for t in tensors):
            fn.inputs = tensors
            fn.needs_input_grad = tuple(t.requires_grad for t in tensors)
            output.requires_grad = True
            output.creator = fn
        return output


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
                            "float32 or float64 (convert with Tensor(x, dtype=np.float32))")
        if t.dtype != first.dtype:
            raise TypeError(f"{op_name}: inputs mix dtypes {first.dtype} and {t.dtype}; "
                            "convert them to one dtype first")
        if t.device != first.device:
            raise ValueError(f"{op_name}: inputs are on different devices, {first.device!r} "
                             f"and {t.device!r}; move them with .to(device) first")
    return [x if isinstance(x, Tensor)
            else Tensor(first.backend.asarray(x, dtype=first.dtype)) for x in inputs]


from . import ops  # noqa: E402  (ops.py builds on Function, defined above)
