"""Arithmetic: elementwise ops, matrix products, and the broadcasting glue between them.

Operands broadcast as NumPy's do; each gradient is then summed back to its operand's shape
(sum_to, the adjoint of broadcast_to). gy is the gradient at the output, gx, ga, gb at inputs.

- add: y = a + b;  ga = gy, gb = gy
- sub: y = a - b;  ga = gy, gb = -gy
- mul: y = a * b;  ga = gy * b, gb = gy * a
- div: y = a / b;  ga = gy / b, gb = -gy * a / b^2
- neg: y = -x;  gx = -gy
- pow: y = x^p for a number p;  gx = gy * p * x^(p - 1)
- sqrt: y = x^0.5, a pow;  gx = gy * 0.5 * x^(-0.5)
- exp: y = exp(x);  gx = gy * y
- log: y = log(x);  gx = gy / x
- abs: y = x * sign(x), a mul;  gx = gy * sign(x) (0 at 0, as PyTorch)
- clamp (clip): y = min(max(x, min), max);  gx = gy where min <= x <= max, else 0
- matmul: y = a @ b;  ga = gy @ b^T, gb = a^T @ gy
- linear: y = x @ w^T + b, a matmul and an add;  gx = gy @ w, gw = gy^T @ x, gb = sum of gy's rows
- broadcast_to: y = x broadcast to a shape;  gx = sum_to(gy, x's shape)
- sum_to: y = x summed down to a shape;  gx = broadcast_to(gy, x's shape)
- convert (Tensor.to): y = x in a dtype on a device;  gx = gy converted back to x's
"""

__all__ = ["Add", "BroadcastTo", "Clamp", "Convert", "Div", "Exp", "Log", "MatMul", "Mul", "Neg",
           "Pow", "Sub", "SumTo", "abs", "add", "broadcast_to", "broadcasts_to", "clamp", "clip",
           "convert", "div", "exp", "linear", "log", "matmul", "mul", "neg", "pow", "sqrt", "sub",
           "sum_to"]

import numbers

import numpy as np

from .. import backend as backends
from ..tensor import Function, Tensor, convert_array, wrap


def _stretched_axes(shape, target_ndim, target_shape):
    """The axes of an array of ``target_shape`` along which one of ``shape`` was broadcast."""
    lead = target_ndim - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, size in enumerate(shape)
                                      if size == 1 and target_shape[lead + i] != 1)


class SumTo(Function):
    """y = x summed over the axes along which ``shape`` was broadcast to x's shape; the adjoint
    of broadcast_to (each undoes the other's broadcasting in its backward)."""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, x, shape=None):
        self.shape = x.shape
        return x.sum(axis=_stretched_axes(shape, x.ndim, x.shape), keepdims=True).reshape(shape)

    def backward(self, gy):
        return broadcast_to(gy, self.shape)


class Convert(Function):
    """y = x in ``dtype`` on ``device`` (Tensor.to);  gx = gy converted back to x's dtype and
    device."""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, x, dtype=None, device=None, copy=False):
        self.source = self.backend.name, x.dtype
        target = backends.get(device)
        y = convert_array(x, self.backend, target, dtype, copy)
        self.backend, self.xp = target, target.xp  # the output lives on the target device
        return y

    def backward(self, gy):
        return gy.to(*self.source)


convert = Convert.apply


def broadcasts_to(shape, target):
    """True if an array of ``shape`` broadcasts to ``target`` (NumPy's rules) unchanged."""
    try:
        return np.broadcast_shapes(tuple(shape), tuple(target)) == tuple(target)
    except ValueError:
        return False


def sum_to(x, shape):
    """x summed down to ``shape`` (x itself if it has that shape already)."""
    shape = tuple(shape)
    if not broadcasts_to(shape, x.shape):
        raise ValueError(f"sum_to: shape {shape} does not broadcast to the shape {x.shape} "
                         "it would be summed from")
    return x if x.shape == shape else SumTo.apply(x, shape=shape)


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (NumPy's rules; a view)."""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, x, shape=None):
        self.shape = x.shape
        return self.xp.broadcast_to(x, shape)

    def backward(self, gy):
        return sum_to(gy, self.shape)


def broadcast_to(x, shape):
    """x broadcast to ``shape`` (x itself if it has that shape already)."""
    return x if x.shape == tuple(shape) else BroadcastTo.apply(x, shape=tuple(shape))


def _check_broadcast(name, a, b):
    """Raise a ValueError naming the op and both shapes unless they broadcast together."""
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast together "
                         "(trailing sizes must be equal or 1)") from None


class Add(Function):
    """y = a + b;  ga = gy, gb = gy (each summed over the axes it was broadcast along)"""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, a, b):
        _check_broadcast("add", a, b)
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(gy, b.shape)


add = Add.apply


class Sub(Function):
    """y = a - b;  ga = gy, gb = -gy (each summed over the axes it was broadcast along)"""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, a, b):
        _check_broadcast("sub", a, b)
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), (sum_to(-gy, b.shape) if self.needs_input_grad[1] else None)


sub = Sub.apply


class Mul(Function):
    """y = a * b;  ga = gy b, gb = gy a (each summed over the axes it was broadcast along)"""
    def forward(self, a, b):
        _check_broadcast("mul", a, b)
        return a * b

    def backward(self, gy):
        (a, b), (needs_a, needs_b) = self.inputs, self.needs_input_grad
        return (sum_to(gy * b, a.shape) if needs_a else None,
                sum_to(gy * a, b.shape) if needs_b else None)


mul = Mul.apply


class Div(Function):
    """y = a / b;  dy/da = 1 / b,  dy/db = -a / b^2"""
    def forward(self, a, b):
        _check_broadcast("div", a, b)
        return a / b

    def backward(self, gy):
        (a, b), (needs_a, needs_b) = self.inputs, self.needs_input_grad
        ga = gy / b
        return (sum_to(ga, a.shape) if needs_a else None,
                sum_to(-ga * a / b, b.shape) if needs_b else None)


div = Div.apply


class Neg(Function):
    """y = -x;  gx = -gy"""
    reads_inputs = False  # backward uses their shapes only

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


neg = Neg.apply


class Pow(Function):
    """y = x ** p for a Python number p;  dy/dx = p x^(p - 1)"""
    def forward(self, x, exponent=2):
        self.exponent = exponent
        return x ** exponent

    def backward(self, gy):
        x, = self.inputs
        return gy * (self.exponent * pow(x, self.exponent - 1))


def pow(x, exponent):  # noqa: A001  (like torch.pow; the builtin is not used in this module)
    """x ** exponent, a Python number; x ** 1 is x and x ** 0 a constant 1 (no graph)."""
    if isinstance(exponent, Tensor) and exponent.numel() == 1 and not exponent.requires_grad:
        exponent = exponent.item()
    if not isinstance(exponent, numbers.Real):
        raise TypeError(f"pow: the exponent must be a number (or a one-element tensor without "
                        f"grad), got {type(exponent).__name__}"
                        + (f" of shape {tuple(exponent.shape)}" if isinstance(exponent, Tensor)
                           else ""))
    if exponent == 1:
        return x
    if exponent == 0:
        return wrap(x.backend.xp.ones_like(x.array))
    return Pow.apply(x, exponent=exponent)


class Exp(Function):
    """y = exp(x);  dy/dx = y"""
    reads_inputs = False  # backward reads its output

    def forward(self, x):
        self.y = self.xp.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.output_tensor(self.y)


exp = Exp.apply


class Log(Function):
    """y = log x (natural);  dy/dx = 1 / x"""
    def forward(self, x):
        return self.xp.log(x)

    def backward(self, gy):
        x, = self.inputs
        return gy / x


log = Log.apply


class Clamp(Function):
    """y = min(max(x, min), max) (either bound may be None);  dy/dx = 1 where
    min <= x <= max, else 0, as torch.clamp."""
    def forward(self, x, min=None, max=None):  # noqa: A002  (torch.clamp's names)
        self.inside = self.xp.ones(x.shape, dtype=x.dtype)
        if min is not None:
            self.inside *= x >= min
        if max is not None:
            self.inside *= x <= max
        return self.xp.clip(x, min, max)

    def backward(self, gy):
        return gy * wrap(self.inside)


def clamp(x, min=None, max=None):  # noqa: A002
    """x limited to [min, max] (a None bound is no limit; at least one must be given)."""
    if min is None and max is None:
        raise ValueError("clamp: give min, max or both (both None would change nothing)")
    return Clamp.apply(x, min=min, max=max)


clip = clamp


def abs(input):  # noqa: A001  (torch.abs)
    """|x|;  gradient sign(x) (0 at 0, as PyTorch)."""
    return input * wrap(input.backend.xp.sign(input.array))


def sqrt(input):
    """x ** 0.5."""
    return pow(input, 0.5)


class MatMul(Function):
    """y = a @ b: a (N, K), b (K, M) -> (N, M);  ga = gy @ b.T,  gb = a.T @ gy"""
    def forward(self, a, b):
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f"matmul: expected matrices (N, K) and (K, M), got {a.shape} "
                             f"and {b.shape}")
        return a @ b

    def backward(self, gy):
        (a, b), (needs_a, needs_b) = self.inputs, self.needs_input_grad
        return (matmul(gy, b.T) if needs_a else None,
                matmul(a.T, gy) if needs_b else None)


matmul = MatMul.apply


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, as torch.nn.functional.linear (2-D input, weight (out, in))."""
    if input.ndim != 2 or weight.ndim != 2 or input.shape[1] != weight.shape[1]:
        raise ValueError(f"linear: expected input (N, in) and weight (out, in), got input "
                         f"{input.shape} and weight {weight.shape}")
    y = matmul(input, weight.T)  # BLAS reads the transposed view in place
    return y if bias is None else y + bias
