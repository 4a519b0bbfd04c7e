"""tinygan.autograd, as torch.autograd: ``grad``, ``backward`` and PyTorch 0.3's ``Variable``.

The engine is tensor.py's; this module gives it PyTorch's names and keywords. PyTorch's custom
``autograd.Function`` (a ctx, static forward on Tensors and backward) is not here:
tinygan.Function has another protocol (forward on arrays, backward on ``self``), and asking
for ``tinygan.autograd.Function`` says so in one line.
"""
import warnings

from . import tensor as engine
from .creation import zeros_like
from .tensor import Tensor


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """tinygan.grad with torch.autograd.grad's keywords: a dict of inputs, materialize_grads."""
    if is_grads_batched:
        raise NotImplementedError("autograd.grad: is_grads_batched=True is not supported; "
                                  "call grad once per row of grad_outputs")
    if not only_inputs:
        warnings.warn("autograd.grad: only_inputs is deprecated and ignored, as in PyTorch "
                      "(gradients go to the inputs only); autograd.backward accumulates into "
                      ".grad", FutureWarning, stacklevel=2)
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("autograd.grad: materialize_grads=True needs allow_unused True or "
                         "not passed, got allow_unused=False")
    if type(inputs) is dict:
        return dict(zip(inputs, grad(outputs, list(inputs.values()), grad_outputs, retain_graph,
                                     create_graph, allow_unused=allow_unused,
                                     materialize_grads=materialize_grads)))
    grads = engine.grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)
    if materialize_grads:
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        grads = tuple(zeros_like(t) if g is None else g for t, g in zip(inputs, grads))
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into ``.grad`` of the leaves (or of ``inputs``) in one pass, as PyTorch's."""
    tensors = engine._tensor_list(tensors, "tensors")
    if grad_tensors is not None:
        grad_tensors = (list(grad_tensors) if isinstance(grad_tensors, (list, tuple))
                        else [grad_tensors])
        if len(grad_tensors) != len(tensors):
            raise ValueError(f"autograd.backward: {len(grad_tensors)} grad_tensors for "
                             f"{len(tensors)} tensors")
    if type(inputs) is dict:
        inputs = list(inputs.values())
    if inputs is not None:
        inputs = engine._tensor_list(inputs, "inputs")
        if not inputs:
            raise RuntimeError("autograd.backward: inputs is empty; leave it out to accumulate "
                               "into every leaf")
    found = engine._backpropagate(tensors, grad_tensors, retain_graph, create_graph, inputs)
    with engine._recording(create_graph):
        for t, g in found.items():
            g = g if create_graph else g.detach()
            t.grad = g if t.grad is None else t.grad + g
    engine._run_callbacks(found)  # DistributedDataParallel's averaging, as after Tensor.backward


class _VariableType(type):
    """The type of Variable: calling it is PyTorch's ``Variable(data)``; every Tensor is one."""

    def __call__(cls, data=None, requires_grad=False, volatile=False):
        """``data`` detached (sharing its array), requiring grad if asked; no data: empty."""
        if volatile:
            warnings.warn("Variable: volatile was removed and now has no effect; use "
                          "`with tinygan.no_grad():` instead", UserWarning, stacklevel=2)
        if data is None:
            data = Tensor()
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)

    def __instancecheck__(cls, instance):
        """True for every Tensor, as in PyTorch."""
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableType):
    """PyTorch 0.3's wrapper, a Tensor today: ``Variable(t)`` is ``t.detach()``."""


def __getattr__(name):
    """Refuse PyTorch's custom Function in one line; any other missing name as usual."""
    if name == "Function":
        raise AttributeError("tinygan.autograd has no Function: PyTorch's custom Function (ctx, "
                             "static forward/backward) is not supported; subclass tinygan.Function"
                             " (forward on arrays, backward on Tensors), see docs/extending.md")
    raise AttributeError(f"module 'tinygan.autograd' has no attribute {name!r}")
