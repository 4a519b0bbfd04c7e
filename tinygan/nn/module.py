"""Module and Parameter: parameters and buffers with names, train/eval, devices, state dicts."""
import collections

import numpy as np

from ..tensor import Tensor, as_array, wrap


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates: requires_grad by default."""
    deepcopy_keeps_grad = False
    """False: copy.deepcopy(model) leaves the grads behind, as PyTorch's."""

    def __init__(self, data=None, requires_grad=True):
        """A leaf sharing the array of ``data`` (a Tensor, or an array kept as it is; None: an
        empty one), as torch.nn.Parameter."""
        self._hold(*_shared_array(Tensor() if data is None else data, "Parameter"))
        self.requires_grad_(requires_grad)


def _shared_array(value, name):
    """(array, backend) of a Tensor or an array-like ``value``, no copy where it is an array."""
    return (value.array, value.backend) if isinstance(value, Tensor) else as_array(value, name)


IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class: attributes that are Parameters, Modules or buffers are found by name."""

    def __init__(self):
        self.training = True
        """True in training mode (train()), False in evaluation mode (eval())."""
        self._buffers = {}

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """The layer's own settings inside its printed parentheses, as PyTorch's extra_repr."""
        return ""

    def __repr__(self):
        """PyTorch's format: ``Name(extra)``, or each sub-module on its own indented line as
        ``(name): Child(...)``."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                       for name, child in self.named_children()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, children first, then on this one (as
        PyTorch's, e.g. ``net.apply(weights_init)``); returns self."""
        if not callable(fn):
            raise TypeError(f"apply: fn must be callable, got {type(fn).__name__}")
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def register_buffer(self, name, array):
        """A named, non-trainable tensor that moves and saves with the module (e.g. running_mean),
        sharing ``array`` (a Tensor or an array)."""
        self._buffers[name] = wrap(*_shared_array(array, "register_buffer"))

    def __getattr__(self, name):
        buffers = self.__dict__.get("_buffers", {})
        if name in buffers:
            return buffers[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def named_children(self):
        """(name, module) for each direct sub-module, in the order they were assigned."""
        return [(k, v) for k, v in vars(self).items() if isinstance(v, Module)]

    def children(self):
        """Each direct sub-module, in the order they were assigned (as PyTorch's, no names)."""
        return [module for _, module in self.named_children()]

    def modules(self):
        """This module and every module inside it, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) for every parameter, this module's first."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_parameters(f"{prefix}{name}.")

    def parameters(self):
        """Every parameter of this module and its sub-modules, as named_parameters orders them."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        """(dotted name, Tensor) for every buffer, this module's first."""
        for name, buffer in self._buffers.items():
            yield prefix + name, buffer
        for name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}{name}.")

    def buffers(self):
        """Every buffer of this module and its sub-modules, as named_buffers orders them."""
        return [b for _, b in self.named_buffers()]

    def train(self, mode=True):
        """Set training mode here and in every sub-module (batch norm uses batch statistics)."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        """Set evaluation mode (batch norm uses its running statistics)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient (None, or zeros with set_to_none=False)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = wrap(p.grad.backend.xp.zeros_like(p.grad.array), p.grad.backend)

    def to(self, *args, **kwargs):
        """Move every parameter and buffer to a device and/or cast the floating-point ones to a
        dtype, in place, with Tensor.to's arguments (to(device), to(dtype), to(device, dtype),
        to(tensor)); gradients go along, as PyTorch's; returns self."""
        for tensor in self.parameters() + self.buffers():
            moved = tensor.data.to(*args, **kwargs)
            if tensor.dtype.kind != "f":  # as PyTorch's: integer buffers keep their dtype
                moved = moved.to(dtype=tensor.dtype)
            tensor.data = moved
            if tensor.grad is not None:
                tensor.grad = tensor.grad.to(*args, **kwargs)
        return self

    def cuda(self, device=None):
        """to("cuda") (one line naming the problem where CuPy finds no GPU); returns self."""
        return self.to("cuda" if device is None else device)

    def cpu(self):
        """to("cpu"): every parameter and buffer moved to the host, in place; returns self."""
        return self.to("cpu")

    def float(self):
        """Floating-point parameters and buffers cast to float32, in place; returns self."""
        return self.to(dtype=np.float32)

    def double(self):
        """Floating-point parameters and buffers cast to float64, in place; returns self."""
        return self.to(dtype=np.float64)

    def state_dict(self):
        """{dotted name: a detached Tensor sharing its array} of every parameter and buffer, as
        PyTorch's (a later step changes it too: copy.deepcopy it for a snapshot)."""
        named = list(self.named_parameters()) + list(self.named_buffers())
        return {name: tensor.detach() for name, tensor in named}

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (or Tensors) from ``state_dict`` into the parameters and buffers; returns
        PyTorch's (missing_keys, unexpected_keys). strict=True refuses either kind in one line; a
        shape mismatch is always refused. A missing BatchNorm ``num_batches_tracked`` is not
        missing (left as it is), as PyTorch treats state dicts saved before it had one."""
        own = dict(self.named_parameters()) | dict(self.named_buffers())
        missing = sorted(k for k in set(own) - set(state_dict)
                         if k.rsplit(".", 1)[-1] != "num_batches_tracked")
        unexpected = sorted(set(state_dict) - set(own))
        if strict and (missing or unexpected):
            raise ValueError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                             f"unexpected keys {unexpected}")
        found = [(name, tensor) for name, tensor in own.items() if name in state_dict]
        values = {}
        for name, tensor in found:
            value = state_dict[name]
            values[name] = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if values[name].shape != tensor.shape:
                raise ValueError(f"load_state_dict for {type(self).__name__}: {name!r} has shape "
                                 f"{values[name].shape} in the state dict, expected "
                                 f"{tensor.shape}")
        for name, tensor in found:
            tensor.array = tensor.backend.asarray(values[name].astype(tensor.dtype))
            tensor._mark_modified("load_state_dict")
        return IncompatibleKeys(missing, unexpected)


def check_module(name, module):
    """Refuse, in one line, anything that is not a Module."""
    if not isinstance(module, Module):
        raise TypeError(f"{name}: {type(module).__name__} is not a Module subclass")
