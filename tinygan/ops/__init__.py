"""Every differentiable op, one module per family, as Chainer's functions/ has them.

Each op is a Function subclass with forward on raw arrays and backward on Tensors, followed by
its lower-case name, which takes Tensors positionally and settings by keyword, with the names
and argument order of PyTorch (``torch`` and ``torch.nn.functional``). ``gy`` is the gradient of
the loss with respect to the op's output, ``gx`` with respect to an input. Each backward is
written with these same ops, so that recorded (create_graph=True) it is itself a graph: the
gradient of a gradient needs nothing more. Each module's docstring lists its ops and their
derivatives, one line each:

- arithmetic: add, sub, mul, div, neg, pow, sqrt, exp, log, abs, clamp, matmul, linear, and the
  broadcasting glue broadcast_to, sum_to and convert (Tensor.to)
- activation: relu, leaky_relu, tanh, sigmoid, softmax
- array: reshape, flatten, transpose, squeeze, unsqueeze, permute, expand, repeat
- indexing: index (t[key]), gather
- join: cat, stack, split, chunk
- reduction: sum, mean, var, std, norm, max, min, argmax, argmin, where, masked_fill
- loss: binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy
- pool: avg_pool2d, max_pool2d
- conv: conv2d, conv_transpose2d
- normalization: batch_norm, instance_norm, layer_norm, spectral_normalize

``tinygan.ops.NAME`` reaches every name in a family's ``__all__``; the private helpers (the
adjoint Functions among them) stay in their modules, e.g. ``tinygan.ops.pool._unpool``.
"""
from . import (activation, arithmetic, array, conv, indexing, join, loss, normalization, pool,
               reduction)

_FAMILIES = (arithmetic, activation, array, indexing, join, reduction, loss, pool, conv,
             normalization)
__all__ = [name for family in _FAMILIES for name in family.__all__]
globals().update((name, getattr(family, name)) for family in _FAMILIES for name in family.__all__)
