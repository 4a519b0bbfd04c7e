"""Every differentiable op: a Function subclass with forward on raw arrays, backward on Tensors.

Each class is followed by its lower-case name, which takes Tensors positionally and settings
by keyword, with the names and argument order of ``torch.nn.functional``. ``gy`` is the
gradient of the loss with respect to the op's output, ``gx`` with respect to an input. Each
backward is written with these same ops, so that recorded (create_graph=True) it is itself a
graph: the gradient of a gradient needs nothing more.
"""
import numbers

import numpy as np

from . import convolution
from . import backend as backends
from .tensor import Function, Tensor, convert_array, is_grad_enabled, wrap


# --- glue: arithmetic with broadcasting, reductions, reshapes -------------------------------

def _stretched_axes(shape, target_ndim, target_shape):
    """The axes of an array of ``target_shape`` along which one of ``shape`` was broadcast."""
    lead = target_ndim - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, size in enumerate(shape)
                                      if size == 1 and target_shape[lead + i] != 1)


class SumTo(Function):
    """y = x summed over the axes along which ``shape`` was broadcast to x's shape; the adjoint
    of broadcast_to (each undoes the other's broadcasting in its backward)."""
    def forward(self, x, shape=None):
        self.shape = x.shape
        return x.sum(axis=_stretched_axes(shape, x.ndim, x.shape), keepdims=True).reshape(shape)

    def backward(self, gy):
        return broadcast_to(gy, self.shape)


class Convert(Function):
    """y = x in ``dtype`` on ``device`` (Tensor.to);  gx = gy converted back to x's dtype and
    device."""
    def forward(self, x, dtype=None, device=None, copy=False):
        self.source = self.backend.name, x.dtype
        target = backends.get(device)
        y = convert_array(x, self.backend, target, dtype, copy)
        self.backend, self.xp = target, target.xp  # the output lives on the target device
        return y

    def backward(self, gy):
        return gy.to(*self.source)


convert = Convert.apply


def sum_to(x, shape):
    """x summed down to ``shape`` (x itself if it has that shape already)."""
    shape = tuple(shape)
    try:
        fits = np.broadcast_shapes(shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"sum_to: shape {shape} does not broadcast to the shape {x.shape} "
                         "it would be summed from")
    return x if x.shape == shape else SumTo.apply(x, shape=shape)


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (NumPy's rules; a view)."""
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
    def forward(self, a, b):
        _check_broadcast("add", a, b)
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(gy, b.shape)


add = Add.apply


class Sub(Function):
    """y = a - b;  ga = gy, gb = -gy (each summed over the axes it was broadcast along)"""
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
    if exponent == 1:
        return x
    if exponent == 0:
        return wrap(x.backend.xp.ones_like(x.array))
    return Pow.apply(x, exponent=exponent)


class Exp(Function):
    """y = exp(x);  dy/dx = y"""
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


class Sum(Function):
    """y = sum of x over ``axis`` (all axes when None); every x element gets gy back."""
    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = tuple(range(x.ndim)) if axis is None else tuple(
            a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        kept = tuple(1 if i in self.axes else n for i, n in enumerate(self.shape))
        return broadcast_to(reshape(gy, kept), self.shape)


sum = Sum.apply  # noqa: A001  (like torch.sum; the builtin is not used in this module)


class Mean(Sum):
    """y = sum(x) / count over ``axis``: Sum's backward, scaled by 1 / count."""
    def forward(self, x, axis=None, keepdims=False):
        total = super().forward(x, axis=axis, keepdims=keepdims)
        self.count = x.size // max(total.size, 1)
        return total / self.count

    def backward(self, gy):
        return super().backward(gy / self.count)


mean = Mean.apply


class Reshape(Function):
    """y = x with a new shape (same elements, same order)."""
    def forward(self, x, shape=None):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view shape {x.shape} ({x.size} elements) as "
                             f"{shape}") from None

    def backward(self, gy):
        return reshape(gy, self.shape)


def reshape(x, shape):
    """x viewed with ``shape`` (one entry may be -1)."""
    return Reshape.apply(x, shape=tuple(shape))


def flatten(x, start_dim=0):
    """x with all axes from ``start_dim`` on merged into one."""
    return reshape(x, x.shape[:start_dim] + (-1,))


class Transpose(Function):
    """y = x with its axes permuted: y's axis i is x's axis axes[i] (all reversed if None)."""
    def forward(self, x, axes=None):
        self.axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(axes)
        return x.transpose(self.axes)

    def backward(self, gy):
        return transpose(gy, tuple(int(a) for a in np.argsort(self.axes)))


def transpose(x, axes=None):
    """x with its axes permuted (reversed when ``axes`` is None, as x.T)."""
    return Transpose.apply(x, axes=axes)


# --- activations ----------------------------------------------------------------------------

class _LeakyReLUJacobian(Function):
    """y = g where x > 0, else slope * g: the Jacobian of leaky_relu at a fixed x applied to g.
    It is diagonal, so its backward is itself (and its derivative in x is 0 almost everywhere)."""
    def forward(self, g, x=None, slope=0.0):
        self.x, self.slope = x, slope
        return self.backend.leaky_relu_backward(x, g, slope)

    def backward(self, gy):
        return _LeakyReLUJacobian.apply(gy, x=self.x, slope=self.slope)


class ReLU(Function):
    """y = max(x, 0);  gx = gy where x > 0, else 0"""
    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, gy):
        return _LeakyReLUJacobian.apply(gy, x=self.inputs[0].array, slope=0.0)


relu = ReLU.apply


class LeakyReLU(Function):
    """y = x if x > 0 else negative_slope * x;  gx = gy where x > 0, else negative_slope * gy"""
    def forward(self, x, negative_slope=0.01):
        self.slope = negative_slope
        return self.backend.leaky_relu(x, negative_slope)

    def backward(self, gy):
        return _LeakyReLUJacobian.apply(gy, x=self.inputs[0].array, slope=self.slope)


def leaky_relu(input, negative_slope=0.01):
    """x if x > 0 else negative_slope * x (the slope a number, by position or keyword)."""
    return LeakyReLU.apply(input, negative_slope=negative_slope)


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y^2"""
    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, gy):
        y = self.output_tensor(self.y)
        return gy * (1 - y * y)


tanh = Tanh.apply


def _stable_sigmoid(xp, x):
    """1 / (1 + exp(-x)), written with exp(-|x|) so that no exponent overflows."""
    e = xp.exp(-abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y)"""
    def forward(self, x):
        self.y = _stable_sigmoid(self.xp, x)
        return self.y

    def backward(self, gy):
        y = self.output_tensor(self.y)
        return gy * y * (1 - y)


sigmoid = Sigmoid.apply


class Softmax(Function):
    """y = exp(x) / sum(exp(x)) along ``axis``;  gx = y * (gy - sum(gy * y) along axis)"""
    def forward(self, x, axis=-1):
        self.axis = axis
        e = self.xp.exp(x - x.max(axis=axis, keepdims=True))  # the largest exponent is 0
        self.y = e / e.sum(axis=axis, keepdims=True)
        return self.y

    def backward(self, gy):
        y = self.output_tensor(self.y)
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


def softmax(input, axis=-1):
    """Softmax along ``axis`` (torch.softmax's ``dim``)."""
    return Softmax.apply(input, axis=axis)


# --- losses ---------------------------------------------------------------------------------

class _Loss(Function):
    """Shared reduction of a loss per element or per row: 'mean' (default), 'sum' or 'none'."""
    def reduce(self, loss, reduction):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.scale = 1 / loss.size if reduction == "mean" else 1
        return loss if reduction == "none" else loss.sum() * self.scale

    @staticmethod
    def check_shapes(name, x, target):
        if x.shape != target.shape:
            raise ValueError(f"{name}: target shape {target.shape} "
                             f"must equal input shape {x.shape}")


def _clamped_log(a):
    """max(log a, -100) for a Tensor a in [0, 1], as PyTorch's BCE clamps it; log never sees 0:
    a is first raised to the dtype's smallest subnormal, whose log is below -100."""
    tiny = float(np.finfo(a.dtype).smallest_subnormal)
    return clamp(log(clamp(a, min=tiny)), min=-100.0)


class BinaryCrossEntropy(_Loss):
    """loss = -(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch does;
    dloss/dp = (p - t) / (p (1 - p)) (its denominator at least 1e-12), dloss/dt = log(1-p) - log p.
    """
    def forward(self, p, target, reduction="mean"):
        self.check_shapes("binary_cross_entropy", p, target)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1], got "
                             f"values in [{float(p.min())}, {float(p.max())}]; use "
                             "binary_cross_entropy_with_logits for raw scores")
        log_p, log_q = _clamped_log(wrap(p)).array, _clamped_log(wrap(1 - p)).array
        return self.reduce(-(target * log_p + (1 - target) * log_q), reduction)

    def backward(self, gy):
        (p, t), (needs_p, needs_t) = self.inputs, self.needs_input_grad
        gy = gy * self.scale
        return (gy * (p - t) / clamp(p * (1 - p), min=1e-12) if needs_p else None,
                gy * (_clamped_log(1 - p) - _clamped_log(p)) if needs_t else None)


binary_cross_entropy = BinaryCrossEntropy.apply


class BinaryCrossEntropyWithLogits(_Loss):
    """loss = max(x, 0) - x t + log(1 + exp(-|x|)) = BCE(sigmoid(x), t), without overflow;
    dloss/dx = sigmoid(x) - t, dloss/dt = -x."""
    def forward(self, x, target, reduction="mean"):
        self.check_shapes("binary_cross_entropy_with_logits", x, target)
        xp = self.xp
        loss = xp.maximum(x, 0) - x * target + xp.log1p(xp.exp(-abs(x)))
        return self.reduce(loss, reduction)

    def backward(self, gy):
        (x, t), (needs_x, needs_t) = self.inputs, self.needs_input_grad
        gy = gy * self.scale
        return gy * (sigmoid(x) - t) if needs_x else None, gy * -x if needs_t else None


binary_cross_entropy_with_logits = BinaryCrossEntropyWithLogits.apply


class CrossEntropy(_Loss):
    """loss_n = logsumexp(x_n) - x_n[t_n] = -log softmax(x_n)[t_n], x (N, K), integer t (N,);
    gx_n = softmax(x_n) - onehot(t_n)."""
    def forward(self, x, target, reduction="mean"):
        if x.ndim != 2:
            raise ValueError(f"cross_entropy: expected logits (N, K), got shape {x.shape}")
        _check_labels(target, x.shape)
        xp = self.xp
        shifted = x - x.max(axis=1, keepdims=True)  # (N, K), largest logit 0: exp cannot overflow
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))  # log softmax
        rows = xp.arange(x.shape[0])
        self.onehot = xp.zeros_like(x)  # (N, K)
        self.onehot[rows, target] = 1
        return self.reduce(-log_p[rows, target], reduction)

    def backward(self, gy):
        x, = self.inputs
        return (softmax(x, axis=1) - wrap(self.onehot)) * reshape(gy * self.scale, (-1, 1))


def _check_labels(target, logits_shape):
    """Labels must be integers of shape (N,) in [0, K) for logits (N, K)."""
    n, k = logits_shape
    if target.dtype.kind not in "iu" or target.shape != (n,):
        raise ValueError(f"cross_entropy: target must be integer class labels of shape ({n},), "
                         f"got dtype {target.dtype} shape {target.shape}")
    if n and (int(target.min()) < 0 or int(target.max()) >= k):
        raise ValueError(f"cross_entropy: labels must lie in [0, {k}) for {k} classes, got "
                         f"values in [{int(target.min())}, {int(target.max())}]")


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy of logits (N, K) against integer labels (N,) (a Tensor or array)."""
    labels = target.array if isinstance(target, Tensor) else input.backend.asarray(target)
    return CrossEntropy.apply(input, target=labels, reduction=reduction)


# --- dense layers and pooling ---------------------------------------------------------------

class MatMul(Function):
    """y = a @ b: a (N, K), b (K, M) -> (N, M);  ga = gy @ b.T,  gb = a.T @ gy"""
    def forward(self, a, b):
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f"matmul: expected matrices (N, K) and (K, M), got {a.shape} "
                             f"and {b.shape}")
        return a @ b

    def backward(self, gy):
        (a, b), (needs_a, needs_b) = self.inputs, self.needs_input_grad
        return (matmul(gy, transpose(b)) if needs_a else None,
                matmul(transpose(a), gy) if needs_b else None)


matmul = MatMul.apply


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, as torch.nn.functional.linear (2-D input, weight (out, in))."""
    if input.ndim != 2 or weight.ndim != 2 or input.shape[1] != weight.shape[1]:
        raise ValueError(f"linear: expected input (N, in) and weight (out, in), got input "
                         f"{input.shape} and weight {weight.shape}")
    y = matmul(input, transpose(weight))  # BLAS reads the transposed view in place
    return y if bias is None else y + bias


def _windows(x, kernel):
    """The (KH, KW) pooling windows of x as a view (N, C, OH, KH, OW, KW); a remainder that
    fills no whole window is dropped, as PyTorch does."""
    n, c, h, w = x.shape
    if min(kernel) < 1:
        raise ValueError(f"pooling: kernel_size must be >= 1, got {kernel}")
    (kh, kw), (oh, ow) = kernel, (h // kernel[0], w // kernel[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"pooling: the {kh}x{kw} window does not fit the input {x.shape}")
    return x[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw)


def _unpool(xp, x_shape, windows_grad):
    """Place the gradient of the windows view (N, C, OH, KH, OW, KW) back into x's shape."""
    n, c, oh, kh, ow, kw = windows_grad.shape
    gx = xp.zeros(x_shape, dtype=windows_grad.dtype)
    gx[:, :, :oh * kh, :ow * kw] = windows_grad.reshape(n, c, oh * kh, ow * kw)
    return gx


class AvgPool2d(Function):
    """y[n, c, p, q] = mean of x over the non-overlapping window (p, q) of size KH x KW;
    gx = gy[n, c, p, q] / (KH KW) at every pixel of window (p, q), 0 where no window reaches."""
    def forward(self, x, kernel_size=2):
        self.kernel, self.x_shape = _pair(kernel_size, "kernel_size"), x.shape
        return _windows(_check_4d("avg_pool2d", x), self.kernel).mean(axis=(3, 5))

    def backward(self, gy):
        return _AvgPool2dAdjoint.apply(gy, kernel=self.kernel, x_shape=self.x_shape)


class _AvgPool2dAdjoint(Function):
    """avg_pool2d's adjoint: each g[n, c, p, q] / (KH KW) spread over its window, zeros where
    no window reaches; its own adjoint is avg_pool2d."""
    def forward(self, g, kernel=None, x_shape=None):
        (kh, kw), self.kernel = kernel, kernel
        share = g[:, :, :, None, :, None] / (kh * kw)  # (N, C, OH, 1, OW, 1)
        return _unpool(self.xp, x_shape, self.xp.broadcast_to(
            share, g.shape[:3] + (kh, g.shape[3], kw)))

    def backward(self, gy):
        return avg_pool2d(gy, self.kernel)


class MaxPool2d(Function):
    """y[n, c, p, q] = max of x over the non-overlapping window (p, q);  gx = gy[n, c, p, q] at
    the first maximum of each window, 0 elsewhere. Given ``argmax`` (N, C, OH, OW), y takes
    the entries at those window positions instead: the adjoint of _MaxPool2dAdjoint."""
    def forward(self, x, kernel_size=2, argmax=None):
        self.kernel, self.x_shape = _pair(kernel_size, "kernel_size"), x.shape
        windows = _windows(_check_4d("max_pool2d", x), self.kernel)
        n, c, oh, kh, ow, kw = windows.shape
        flat = windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
        self.argmax = flat.argmax(axis=4) if argmax is None else argmax  # (N, C, OH, OW)
        return self.xp.take_along_axis(flat, self.argmax[..., None], axis=4)[..., 0]

    def backward(self, gy):
        return _MaxPool2dAdjoint.apply(gy, kernel=self.kernel, x_shape=self.x_shape,
                                       argmax=self.argmax)


class _MaxPool2dAdjoint(Function):
    """max_pool2d's adjoint: each g[n, c, p, q] placed at its window's argmax, zeros elsewhere;
    its own adjoint is max_pool2d with the same argmax."""
    def forward(self, g, kernel=None, x_shape=None, argmax=None):
        (kh, kw), self.kernel, self.argmax = kernel, kernel, argmax
        n, c, oh, ow = g.shape
        first_max = self.xp.arange(kh * kw) == argmax[..., None]  # (N, C, OH, OW, KH*KW)
        grad = (first_max * g[..., None]).reshape(n, c, oh, ow, kh, kw).transpose(0, 1, 2, 4, 3, 5)
        return _unpool(self.xp, x_shape, grad)  # (N, C, OH, KH, OW, KW) placed into x

    def backward(self, gy):
        return MaxPool2d.apply(gy, kernel_size=self.kernel, argmax=self.argmax)


def _check_4d(name, x):
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    return x


def avg_pool2d(input, kernel_size=2):
    """Average over non-overlapping kernel_size windows (stride = kernel_size)."""
    return AvgPool2d.apply(input, kernel_size=kernel_size)


def max_pool2d(input, kernel_size=2):
    """Maximum over non-overlapping kernel_size windows (stride = kernel_size)."""
    return MaxPool2d.apply(input, kernel_size=kernel_size)


# --- convolution ----------------------------------------------------------------------------
# conv2d and conv_transpose2d are each other's adjoint: the same three products in swapped
# roles (convolution.py computes them, on the route it chooses for the geometry).

def _pair(value, name):
    """An int or a pair of ints as a pair."""
    pair = (value, value) if isinstance(value, int) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, int) for v in pair)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    return tuple(pair)


def _check_conv_args(name, x, w, stride, padding):
    """Validate ranks and hyper-parameters shared by conv2d and conv_transpose2d."""
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D weight, got shape {w.shape}")
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    if min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"{name}: stride must be >= 1 and padding >= 0, "
                         f"got stride={stride}, padding={padding}")
    return stride, padding


def _check_output_size(name, x, w, out_size):
    if min(out_size) < 1:
        raise ValueError(f"{name}: output size would be {out_size} for input shape {x.shape} "
                         f"and weight shape {w.shape}; the input is too small for this kernel, "
                         "stride and padding")


def _tensors(*arrays):
    """Arrays as Tensors (None stays None): a backward's results when it is not recorded."""
    return tuple(None if a is None else wrap(a) for a in arrays)


def _conv2d_input_grad(gy, w, x_shape, stride, padding):
    """gx of y = conv2d(x, w) as the op conv_transpose2d(gy, w), with the output_padding that
    gives back x's size (the rows and columns the forward's stride skipped at the end)."""
    extra = tuple(n + 2 * p - k - (m - 1) * s for n, p, k, m, s in
                  zip(x_shape[2:], padding, w.shape[2:], gy.shape[2:], stride))
    return conv_transpose2d(gy, w, stride=stride, padding=padding, output_padding=extra)


class _Conv2dWeightGrad(Function):
    """gw[o, c, i, j] = sum over n, oh, ow of gy[n, o, oh, ow] * col(x)[c, i, j, n, oh, ow]:
    conv2d's weight gradient, bilinear in (x, gy). Its gradients are those of conv2d(x, g)
    with respect to its input and to its output: conv_transpose2d(gy, g) and conv2d(x, g)."""
    def forward(self, x, gy, kernel=None, stride=None, padding=None):
        self.stride, self.padding = stride, padding
        route = convolution.choose(self.backend, x.shape[2:], kernel, stride, padding, x.shape[1],
                                   gy.shape[1])
        return route.kernel_grad(x, gy)

    def backward(self, g):
        (x, gy), (needs_x, needs_gy) = self.inputs, self.needs_input_grad
        return (_conv2d_input_grad(gy, g, x.shape, self.stride, self.padding) if needs_x else None,
                conv2d(x, g, stride=self.stride, padding=self.padding) if needs_gy else None)


class Conv2d(Function):
    """y = cross-correlation of x (N, C, H, W) with w (OC, C, KH, KW): (N, OC, OH, OW);
    gx = conv_transpose2d(gy, w), gw[o, c, i, j] = sum over n, oh, ow of gy[n, o, oh, ow]
    x_padded[n, c, i + s oh, j + s ow] (the correlation of x with gy). convolution.choose
    picks how the three products are computed (im2col, its flipped twin, or Winograd).
    """
    def forward(self, x, w, stride=1, padding=0):
        self.stride, self.padding = _check_conv_args("conv2d", x, w, stride, padding)
        if x.shape[1] != w.shape[1]:
            raise ValueError(f"conv2d: the weight {w.shape} has in_channels={w.shape[1]}, but the "
                             f"input {x.shape} has {x.shape[1]} channels")
        self.route = convolution.choose(self.backend, x.shape[2:], w.shape[2:], self.stride,
                                        self.padding, x.shape[1], w.shape[0])
        _check_output_size("conv2d", x, w, self.route.out_size)
        return self.route.correlate(x, w)

    def backward(self, gy):
        x, w = self.inputs
        needs_gx, needs_gw = self.needs_input_grad
        if is_grad_enabled():  # recorded: the adjoint ops, differentiable again
            return (_conv2d_input_grad(gy, w, x.shape, self.stride, self.padding)
                    if needs_gx else None,
                    _Conv2dWeightGrad.apply(x, gy, kernel=w.shape[2:], stride=self.stride,
                                            padding=self.padding) if needs_gw else None)
        gy = gy.array  # not recorded: raw products, on what the route built in the forward
        return _tensors(self.route.correlate_adjoint(gy, w.array) if needs_gx else None,
                        self.route.kernel_grad(x.array, gy) if needs_gw else None)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation, plus ``bias`` (OC,) per output channel when given."""
    y = Conv2d.apply(input, weight, stride=stride, padding=padding)  # checks the ranks first
    _check_bias("conv2d", bias, weight.shape[0])
    return y if bias is None else y + reshape(bias, (1, -1, 1, 1))


class ConvTranspose2d(Function):
    """y = conv2d's input gradient applied to x (N, C_in, H, W) with w (C_in, C_out, KH, KW):
    (N, C_out, (H - 1) * stride - 2 * padding + KH + output_padding, ...);
    gx = conv2d(gy, w), gw = conv2d's weight gradient with x and gy in swapped roles. The
    products are those of the conv2d whose input is y (convolution.choose picks the route).
    """
    def forward(self, x, w, stride=1, padding=0, output_padding=0):
        self.stride, self.padding = _check_conv_args("conv_transpose2d", x, w, stride, padding)
        extra = _pair(output_padding, "output_padding")
        if not all(0 <= e < s for e, s in zip(extra, self.stride)):
            raise ValueError(f"conv_transpose2d: output_padding must be >= 0 and smaller than "
                             f"stride, got output_padding={extra}, stride={self.stride}")
        if x.shape[1] != w.shape[0]:
            raise ValueError(f"conv_transpose2d: the weight {w.shape} has "
                             f"in_channels={w.shape[0]}, but the input {x.shape} has "
                             f"{x.shape[1]} channels")
        out_size = tuple((n - 1) * s - 2 * p + k + e for n, s, p, k, e in
                         zip(x.shape[2:], self.stride, self.padding, w.shape[2:], extra))
        _check_output_size("conv_transpose2d", x, w, out_size)
        self.route = convolution.choose(self.backend, out_size, w.shape[2:], self.stride,
                                        self.padding, w.shape[1], w.shape[0])
        return self.route.correlate_adjoint(x, w)

    def backward(self, gy):
        x, w = self.inputs
        needs_gx, needs_gw = self.needs_input_grad
        if is_grad_enabled():  # recorded: gx = conv2d(gy, w), gw as conv2d's with x as its gy
            return (conv2d(gy, w, stride=self.stride, padding=self.padding) if needs_gx else None,
                    _Conv2dWeightGrad.apply(gy, x, kernel=w.shape[2:], stride=self.stride,
                                            padding=self.padding) if needs_gw else None)
        gy = gy.array  # not recorded: raw products, on what the route built in the forward
        return _tensors(self.route.correlate(gy, w.array) if needs_gx else None,
                        self.route.kernel_grad(gy, x.array) if needs_gw else None)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """2-D transposed convolution, plus ``bias`` (C_out,) per output channel when given."""
    y = ConvTranspose2d.apply(input, weight, stride=stride, padding=padding,
                              output_padding=output_padding)  # checks the ranks first
    _check_bias("conv_transpose2d", bias, weight.shape[1])
    return y if bias is None else y + reshape(bias, (1, -1, 1, 1))


def _check_bias(name, bias, out_channels):
    """A conv's bias must be (out_channels,)."""
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{name}: bias of shape {bias.shape}, expected ({out_channels},): one "
                         "per output channel of the weight")


# --- normalisation --------------------------------------------------------------------------

class BatchNorm(Function):
    """y = act(gamma * (x - mean) / sqrt(var + eps) + beta), statistics per channel (axis 1).

    act(z) = z if z > 0 else negative_slope * z: 1 (the default) is no activation, 0 ReLU,
    0.2 LeakyReLU; fusing it saves whole passes over memory. Training: batch statistics over
    every axis but 1, and the running statistics (if given) move toward them by ``momentum``
    (the variance unbiased, as in PyTorch). Eval: the running statistics. With gz the gradient
    at z, xhat the normalised input and m values per channel, the training-mode input gradient
    is gamma / std * (gz - mean(gz) - xhat * mean(gz * xhat)); the two sums are exactly the
    beta and gamma gradients. The passes over x are backend primitives (bn_statistics, bn_act_*).
    With ``group`` (a tinygan.distributed.Communicator) the statistics and the two sums are
    those of every rank's batch together (SyncBatchNorm); gamma's and beta's gradients stay
    this rank's own, to be averaged with the other gradients.
    """
    def forward(self, x, gamma, beta, running_mean=None, running_var=None, training=True,
                momentum=0.1, eps=1e-5, negative_slope=1.0, group=None):
        _check_eps("batch_norm", eps)
        if not isinstance(momentum, numbers.Real):
            raise TypeError(f"batch_norm: momentum must be a number, got {momentum!r}; for the "
                            "cumulative average (momentum=None) use BatchNorm2d, which counts")
        channels = x.shape[1] if x.ndim >= 2 else None
        if channels is None or gamma.shape != (channels,) or beta.shape != (channels,):
            raise ValueError(f"batch_norm: expected input (N, C, ...) and weight and bias of shape "
                             f"(C,), got input {x.shape}, weight {gamma.shape}, bias {beta.shape}")
        self.count = x.size // channels  # values per channel
        if training:
            if self.count == 1:
                raise ValueError(f"batch_norm: training needs more than one value per channel, "
                                 f"got input shape {x.shape}")
            mean, var = self.backend.bn_statistics(x)
            if group is not None:  # every rank's batch holds self.count values per channel
                mean, var = group.batch_statistics(mean, var)
                self.count *= group.size
            if running_mean is not None and self.count > 0:  # an empty batch moves nothing
                self.backend.bn_running_update(running_mean, running_var, mean, var, momentum,
                                               self.count)
        elif running_mean is None or running_var is None:
            raise ValueError("batch_norm: eval mode (training=False) "
                             "needs running_mean and running_var")
        else:
            mean, var = running_mean, running_var
        self.training, self.slope, self.eps, self.group = training, negative_slope, eps, group
        self.saved = x, mean, 1 / self.xp.sqrt(var + eps), gamma, beta
        return self.backend.bn_act_forward(*self.saved, negative_slope)

    def backward(self, gy):
        if is_grad_enabled():
            return self._recorded_backward(gy)
        args = (*self.saved, self.slope, gy.array)  # the forward's arguments, then gy
        gbeta, ggamma = self.backend.bn_act_backward_sums(*args)
        sums = (gbeta, ggamma) if self.training else (self.xp.zeros_like(gbeta),) * 2
        if self.training and self.group is not None:  # the sums over every rank's batch
            sums = tuple(self.group.allreduce_sum(list(sums)))
        gx = self.backend.bn_act_backward_input(*args, *sums, self.count)
        return _tensors(gx, ggamma, gbeta)

    def _recorded_backward(self, gy):
        """The fused passes' gradients written as ops, the statistics recomputed from x in
        training mode (they depend on x), so that the backward can be differentiated again."""
        if self.training and self.group is not None:
            raise NotImplementedError("batch_norm across ranks (SyncBatchNorm) has no double "
                                      "backward: the gradient penalties need one process")
        (x, gamma, _), (_, mean, inv_std, _, _) = self.inputs, self.saved
        axes, channel = (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
        if self.slope != 1.0:  # gz: gy through the activation, at the pre-activation z
            z = self.backend.bn_act_forward(*self.saved, 1.0)
            gy = _LeakyReLUJacobian.apply(gy, x=z, slope=self.slope)
        if self.training:
            xhat, inv_std = _standardize(x, axes, self.eps)
        else:
            inv_std = wrap(inv_std.reshape(channel))
            xhat = (x - wrap(mean.reshape(channel))) * inv_std
        g = gy * reshape(gamma, channel)
        gx = _standardized_input_grad(g, xhat, inv_std, axes) if self.training else g * inv_std
        return gx, (gy * xhat).sum(axis=axes), gy.sum(axis=axes)


def _check_eps(name, eps):
    """Refuse eps <= 0: it must keep var + eps, under a square root, above 0."""
    if not eps > 0:
        raise ValueError(f"{name}: eps must be positive, got eps={eps}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, negative_slope=1.0, group=None):
    """Batch normalisation over axis 1, then leaky_relu(negative_slope) unless it is 1 (0: ReLU).

    Running stats (Tensors or None) are updated in place in training mode; ``group``: the
    communicator whose ranks' batches are normalised together (None: this batch alone).
    """
    xp, channels = input.backend.xp, (input.shape[1],) if input.ndim >= 2 else (1,)
    weight = wrap(xp.ones(channels, dtype=input.dtype)) if weight is None else weight
    bias = wrap(xp.zeros(channels, dtype=input.dtype)) if bias is None else bias
    stats = [None if s is None else s.array for s in (running_mean, running_var)]
    return BatchNorm.apply(input, weight, bias, running_mean=stats[0], running_var=stats[1],
                           training=training, momentum=momentum, eps=eps,
                           negative_slope=negative_slope, group=group)


# --- instance and layer normalisation -------------------------------------------------------

class Normalize(Function):
    """y = gamma[c] * xhat + beta[c], xhat = (x - mean) / sqrt(var + eps), x (N, C, H, W).

    mean and the biased var are taken over ``axes``, one per index of the other axes: (2, 3)
    is instance norm, (1, 2, 3) layer norm; gamma and beta are (C,). With g = gy * gamma and
    means over the same axes, gx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps);
    ggamma = sum(gy * xhat) and gbeta = sum(gy) over every axis but 1.
    """
    def forward(self, x, gamma, beta, axes=(2, 3), eps=1e-5, name="normalize"):
        if x.ndim != 4:
            raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
        channels = (x.shape[1],)
        if gamma.shape != channels or beta.shape != channels:
            raise ValueError(f"{name}: expected weight and bias of shape (C,) = {channels} for "
                             f"input {x.shape}, got weight {gamma.shape} and bias {beta.shape}")
        if all(x.shape[a] == 1 for a in axes):
            group = "sample" if 1 in axes else "channel"
            raise ValueError(f"{name}: needs more than one value per {group} to normalise, "
                             f"got input shape {x.shape}")
        self.axes, self.eps = axes, eps
        self.xhat, self.inv_std = _standardize(x, axes, eps)  # (N, C, H, W), size 1 along axes
        return gamma.reshape(-1, 1, 1) * self.xhat + beta.reshape(-1, 1, 1)

    def backward(self, gy):
        x, gamma, _ = self.inputs
        if is_grad_enabled():  # recorded: the statistics as ops on x, which they depend on
            xhat, inv_std = _standardize(x, self.axes, self.eps)
        else:
            xhat, inv_std = wrap(self.xhat), wrap(self.inv_std)
        gx = _standardized_input_grad(gy * reshape(gamma, (-1, 1, 1)), xhat, inv_std, self.axes)
        return gx, (gy * xhat).sum(axis=(0, 2, 3)), gy.sum(axis=(0, 2, 3))


def _standardize(x, axes, eps):
    """(xhat, inv_std) with xhat = (x - mean) * inv_std, inv_std = (var + eps)^(-1/2), mean and
    the biased var over ``axes`` (kept, size 1); x a raw array or a Tensor."""
    centred = x - x.mean(axis=axes, keepdims=True)
    inv_std = ((centred * centred).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return centred * inv_std, inv_std


def _standardized_input_grad(g, xhat, inv_std, axes):
    """gx of xhat = _standardize(x) for g = dloss/dxhat, means over ``axes``:
    inv_std * (g - mean(g) - xhat * mean(g * xhat))."""
    return inv_std * (g - g.mean(axis=axes, keepdims=True)
                      - xhat * (g * xhat).mean(axis=axes, keepdims=True))


def _normalize(name, axes, input, weight, bias, eps):
    """Normalize over ``axes`` with weight and bias (C,); None gives ones and zeros, no grad."""
    xp, channels = input.backend.xp, input.shape[1:2]
    weight = wrap(xp.ones(channels, dtype=input.dtype)) if weight is None else weight
    bias = wrap(xp.zeros(channels, dtype=input.dtype)) if bias is None else bias
    return Normalize.apply(input, weight, bias, axes=axes, eps=eps, name=name)


def instance_norm(input, weight=None, bias=None, eps=1e-5):
    """Each (sample, channel) of (N, C, H, W) normalised over H, W, then weight[c] * . + bias[c];
    torch.nn.functional.instance_norm without running statistics."""
    return _normalize("instance_norm", (2, 3), input, weight, bias, eps)


def layer_norm(input, weight=None, bias=None, eps=1e-5):
    """Each sample of (N, C, H, W) normalised over C, H, W, then weight[c] * . + bias[c].

    The affine is per channel, (C,); torch.nn.functional.layer_norm(input, (C, H, W), ...)
    takes an elementwise one of shape (C, H, W), which is this one broadcast over H, W.
    """
    return _normalize("layer_norm", (1, 2, 3), input, weight, bias, eps)


class SpectralNormalize(Function):
    """y = W / sigma, sigma = u^T W_mat v, W_mat = W as (rows, -1), u (rows,) and v (-1,) fixed
    unit vectors (spectral norm's power-iteration estimates);  since d sigma / dW = u v^T,
    gW = gy / sigma - <gy, W> / sigma^2 u v^T = (gy - <gy, y> u v^T) / sigma"""
    def forward(self, w, u=None, v=None):
        rows = w.shape[0]
        if u.shape != (rows,) or v.shape != (w.size // rows,):
            raise ValueError(f"spectral_normalize: weight {w.shape} needs u ({rows},) and v "
                             f"({w.size // rows},), got u {u.shape} and v {v.shape}")
        self.uv = self.xp.outer(u, v).reshape(w.shape)  # (rows, ...) like W
        self.y = w / (u @ (w.reshape(rows, -1) @ v))
        return self.y

    def backward(self, gy):
        w, = self.inputs
        uv = wrap(self.uv)
        sigma = (w * uv).sum()  # u^T W_mat v, recorded so that a second derivative sees it
        return (gy - (gy * self.output_tensor(self.y)).sum() * uv) / sigma


def spectral_normalize(weight, u, v):
    """weight divided by u^T W_mat v, its largest singular value where u and v are the top
    singular vectors; u and v are arrays on weight's device (no gradient flows to them)."""
    return SpectralNormalize.apply(weight, u=u, v=v)
