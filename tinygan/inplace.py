"""In-place ops, PyTorch's methods with a trailing underscore: ``x.add_(y)`` writes x + y into x.

Each one computes its result with tinygan's out-of-place ops and writes it into the tensor's
own array, so every tensor that shares the array (detach(), views) sees the new values, and
counts the write on the array's version counter: a Function that saved the old values then
refuses to run its backward (PyTorch's rule), rather than give a wrong gradient.

While gradients are recorded and the tensor or an operand requires grad, the tensor takes the
op's place in the graph: its gradient flows through the op to a copy of its old self, which
the op's backward reads. Refused there, as in PyTorch: a leaf that requires grad (wrap the
update in ``no_grad()``). Refused by tinygan, which records a graph of tensors where PyTorch
rewrites a graph of nodes: a view, and a tensor that a recorded op has already used.
"""
from . import creation, ops
from .tensor import Tensor, _recording, is_grad_enabled


def modify(tensor, op, result_of, operands=()):
    """Write ``result_of(tensor, *operands)`` (a Tensor that broadcasts to tensor's shape) into
    ``tensor``; returns it. ``op`` names the method in errors; ``operands`` (which may require
    grad) are passed on, the tensor itself among them as its old values (``x.mul_(x)``)."""
    in_graph = is_grad_enabled() and (tensor.requires_grad or any(
        isinstance(o, Tensor) and o.requires_grad for o in operands))
    if not in_graph:
        with _recording(False):
            _write(tensor, op, result_of(tensor, *operands))
        return tensor
    _check_rebase(tensor, op)
    old = Tensor.__new__(Tensor)
    vars(old).update(vars(tensor))  # the tensor as it was: its array, creator and counter
    copy = old.to(copy=True)  # the op's backward reads this copy, kept intact
    result = result_of(copy, *(copy if o is tensor else o for o in operands))
    _write(tensor, op, result)
    result = ops.broadcast_to(result, tensor.shape)
    tensor.creator, tensor.requires_grad = result.creator, result.requires_grad
    return tensor


def _check_rebase(tensor, op):
    """Refuse an in-place op on ``tensor`` that the graph could not follow."""
    if tensor.requires_grad and tensor.is_leaf:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in place "
                           "while gradients are recorded; do it inside `with torch.no_grad():`")
    if tensor._base is not None:
        raise RuntimeError(f"{op}: tinygan cannot modify a view (an indexing, reshape or "
                           "transpose result) in place while gradients are recorded; build the "
                           "new tensor out of place (torch.cat, torch.where)")
    if tensor._used_by is not None:
        raise RuntimeError(f"{op}: this tensor is already an input of {tensor._used_by} in the "
                           "graph, so tinygan cannot modify it in place while gradients are "
                           f"recorded; write x = x.{op.rstrip('_')}(...) instead")


def _write(tensor, op, result):
    """Copy ``result``'s values (broadcast) into ``tensor``'s array and count the write."""
    if not ops.broadcasts_to(result.shape, tensor.shape):
        raise RuntimeError(f"{op}: the result has shape {result.shape} but the tensor written "
                           f"in place has shape {tensor.shape} (an in-place op cannot change "
                           "a tensor's shape)")
    if not tensor.array.flags.writeable:
        raise RuntimeError(f"{op}: the tensor is read-only (an expand() result, whose elements "
                           "share memory); clone() it before writing in place")
    tensor.array[...] = result.array
    tensor._mark_modified(op)


def _operand(value, tensor, op):
    """A number as is; a Tensor in ``tensor``'s dtype, as in-place ops compute in it."""
    if isinstance(value, Tensor):
        if value.device != tensor.device:
            raise ValueError(f"{op}: the operand is on {value.device!r} and the tensor on "
                             f"{tensor.device!r}; move it with .to({tensor.device!r}) first")
        return value.to(tensor.dtype)
    return value


def arithmetic(tensor, op, combine, other):
    """tensor = combine(tensor, other) in place (add_, sub_, mul_, div_)."""
    other = _operand(other, tensor, op)
    return modify(tensor, op, combine, (other,))


def fill_(tensor, value):
    """Every element set to ``value`` (a number or a one-element Tensor)."""
    value = _operand(value, tensor, "fill_")
    if isinstance(value, Tensor) and value.numel() != 1:
        raise RuntimeError(f"fill_: value must be a number or a one-element tensor, got shape "
                           f"{value.shape}")
    constant = (value.reshape(()) if isinstance(value, Tensor)
                else creation.full((), value, dtype=tensor.dtype, device=tensor.device))
    return modify(tensor, "fill_", lambda t, v: v, (constant,))


def zero_(tensor):
    """Every element set to 0."""
    return fill_(tensor, 0)


def copy_(tensor, src):
    """The values of ``src`` (broadcast to the tensor's shape, converted to its dtype and
    device) written into the tensor; gradients flow to src."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
    src = src.to(tensor.device, tensor.dtype)
    return modify(tensor, "copy_", lambda t, s: s, (src,))


def random_fill(tensor, op, draw):
    """The tensor's elements replaced by ``draw(shape, dtype, device)`` (a fresh Tensor)."""
    if tensor.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor, got dtype {tensor.dtype}")
    drawn = draw(tensor.shape, tensor.dtype, tensor.device)
    return modify(tensor, op, lambda t, d: d, (drawn,))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Elements drawn from N(mean, std^2)."""
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return random_fill(tensor, "normal_", lambda shape, dtype, device: creation.randn(
        shape, generator=generator, dtype=dtype, device=device) * std + mean)


def uniform_(tensor, from_=0.0, to=1.0, generator=None):
    """Elements drawn uniformly from [from_, to)."""
    if not from_ <= to:
        raise ValueError(f"uniform_: expected from_ <= to, got from_={from_}, to={to}")
    return random_fill(tensor, "uniform_", lambda shape, dtype, device: creation.rand(
        shape, generator=generator, dtype=dtype, device=device) * (to - from_) + from_)


def clamp_(tensor, min=None, max=None):  # noqa: A002  (torch.clamp_'s names)
    """Elements limited to [min, max] (either bound may be None)."""
    return modify(tensor, "clamp_", lambda t: t.clamp(min, max))


def masked_fill_(tensor, mask, value):
    """Elements where ``mask`` (bool, broadcast to the tensor's shape) is True set to value."""
    value = _operand(value, tensor, "masked_fill_")
    return modify(tensor, "masked_fill_", lambda t, v: t.masked_fill(mask, v), (value,))
