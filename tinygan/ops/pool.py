"""Pooling over non-overlapping windows of x (N, C, H, W): stride = kernel_size, and a
remainder that fills no whole window is dropped, as PyTorch does.

- avg_pool2d: y = the mean of each KH x KW window;  gx = gy / (KH KW) over its window
- max_pool2d: y = the max of each window;  gx = gy at the window's first maximum, 0 elsewhere

Each backward is an adjoint Function (_AvgPool2dAdjoint, _MaxPool2dAdjoint) whose own backward
is the pooling again.
"""

__all__ = ["AvgPool2d", "MaxPool2d", "avg_pool2d", "max_pool2d"]

from ..tensor import Function
from .conv import _pair


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
    reads_inputs = False  # backward uses their shapes only

    def forward(self, x, kernel_size=2):
        self.kernel, self.x_shape = _pair(kernel_size, "kernel_size"), x.shape
        return _windows(_check_4d("avg_pool2d", x), self.kernel).mean(axis=(3, 5))

    def backward(self, gy):
        return _AvgPool2dAdjoint.apply(gy, kernel=self.kernel, x_shape=self.x_shape)


class _AvgPool2dAdjoint(Function):
    """avg_pool2d's adjoint: each g[n, c, p, q] / (KH KW) spread over its window, zeros where
    no window reaches; its own adjoint is avg_pool2d."""
    reads_inputs = False  # backward uses their shapes only

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
