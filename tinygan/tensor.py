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
import operator

import numpy as np

from . import backend as backends

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_grad_enabled = True


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


class Tensor:
    """An array plus what autograd needs: ``requires_grad``, ``grad`` and its ``creator``.

    ``data`` may be a NumPy or CuPy array or scalar (kept as it is) or anything
    ``numpy.asarray`` takes; Python floats become float32, PyTorch's default dtype.
    """

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as a 0-d array
            data = np.asarray(data)
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
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) * gradient into ``.grad`` of every leaf that requires grad.

        retain_graph: keep the arrays the graph saved, for another backward through it
        (default: create_graph). create_graph: record this backward too, so that each ``.grad``
        is a Tensor with a graph and can be differentiated again.
        """
        leaves = _backpropagate([self], [gradient], retain_graph, create_graph)
        with _recording(create_graph):
            for leaf, gx in leaves.items():
                leaf.grad = (gx if create_graph else Tensor(gx.data)) if leaf.grad is None \
                    else leaf.grad + gx

    # --- operator sugar (the ops live in ops.py) ------------------------------------------
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

    def _compare(self, other, relation, name):
        """relation(self, other) elementwise, as a bool Tensor (a comparison has no gradient)."""
        a, b = _as_tensors(name, (self, other))
        return Tensor(relation(a.data, b.data))

    @property
    def T(self):  # noqa: N802  (the name NumPy and PyTorch use)
        return ops.transpose(self)

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

    def __getitem__(self, key):
        return indexing.index(self, key)

    def split(self, split_size_or_sections, dim=0):
        return indexing.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return indexing.chunk(self, chunks, dim)

    def gather(self, dim, index):
        return indexing.gather(self, dim, index)


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
        if root.size != 1:
            raise RuntimeError(
                f"backward() on a tensor of shape {root.shape} needs a gradient argument "
                "of that shape; only a one-element tensor can be the root without one")
        return Tensor(root.backend.xp.ones_like(root.data))
    if not isinstance(gradient, Tensor):
        gradient = Tensor(root.backend.asarray(gradient))
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
        gradient = Tensor(gradient.data.astype(root.dtype))
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
    """
    released = False

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

    def output_tensor(self, array):
        """``array``, this Function's output, as a Tensor made by it: a recorded backward that
        uses the output then differentiates through this Function too."""
        output = Tensor(array)
        output.requires_grad, output.creator = True, self
        return output

    def release(self):
        """Drop the saved arrays and the inputs (after a backward without retain_graph)."""
        self.__dict__.clear()
        self.released = True


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


from . import indexing, ops  # noqa: E402  (they build on Function, defined above)
