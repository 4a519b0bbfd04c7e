"""The reference backend: every primitive of contract.py in plain NumPy, to read and to step
through in a debugger, and the oracle that the fast kernels are tested against.

It serves the "cpu" device in cpu.py's place after ``tinygan.backend.use("reference")``: the
same arrays (numpy.ndarray), the same device name, the same results up to rounding, slower. No
numba kernel, no Winograd route (winograd_applies says no), no layout tricks: each function
states its math in its docstring and computes it as directly as NumPy allows.
"""
import numpy as np

from . import cpu
from .layout import conv_output_size

name = "cpu"
xp = np
# Arrays in host memory, as cpu.py's: the same conversions, nothing to check or wait for.
check_available, asarray, to_numpy, synchronize = (cpu.check_available, cpu.asarray,
                                                   cpu.to_numpy, cpu.synchronize)


def im2col(x, kernel, stride, padding):
    """col[c, i, j, n, oh, ow] = x_padded[n, c, i + stride_h oh, j + stride_w ow]."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = conv_output_size((h, w), kernel, stride, padding)
    padded = np.pad(x.transpose(1, 0, 2, 3), ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (C, N, ., .)
    col = np.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)  # (C, KH, KW, N, OH, OW)
    for i in range(kh):
        for j in range(kw):
            col[:, i, j] = padded[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]  # (C, N, OH, OW)
    return col


def col2im(col, image_size, stride, padding):
    """x[n, c, y, x] = sum of the col entries im2col copied from x[n, c, y, x] (its adjoint)."""
    c, kh, kw, n, oh, ow = col.shape
    (h, w), (sh, sw), (ph, pw) = image_size, stride, padding
    padded = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=col.dtype)  # (C, N, ., .)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += col[:, i, j]  # (C, N, OH, OW)
    return np.ascontiguousarray(padded[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3))


def winograd_applies(image_size, kernel, stride, padding, in_channels, batch):
    """Never: every conv takes the im2col route here."""
    return False


def leaky_relu(x, slope):
    """y = x if x > 0 else slope x, any shape."""
    return np.where(x > 0, x, slope * x)


def leaky_relu_backward(x, gy, slope):
    """gx = gy if x > 0 else slope gy, any shape."""
    return np.where(x > 0, gy, slope * gy)


def adam_update(p, g, m, v, lr, b1, b2, eps, bias1, bias2):
    """In place, m, v = b1 m + (1-b1) g, b2 v + (1-b2) g^2; p -= lr m/bias1 / (sqrt(v/bias2)+eps)"""
    m[...] = b1 * m + (1 - b1) * g
    v[...] = b2 * v + (1 - b2) * g * g
    p -= lr * (m / bias1) / (np.sqrt(v / bias2) + eps)


def _per_channel(a, ndim):
    """A (C,) array as (1, C, 1, ...), to broadcast over an (N, C, ...) array of rank ndim."""
    return a.reshape((1, -1) + (1,) * (ndim - 2))


def _all_but_channels(x):
    """The axes of x (N, C, ...) other than the channel axis 1."""
    return (0,) + tuple(range(2, x.ndim))


def bn_statistics(x):
    """x (N, C, ...) -> (mean, biased var), each (C,), over every axis but 1."""
    return x.mean(axis=_all_but_channels(x)), x.var(axis=_all_but_channels(x))


def bn_running_update(running_mean, running_var, mean, var, momentum, count):
    """In place, (C,): running_mean, running_var += momentum (mean, var count/(count-1) - each)."""
    running_mean += momentum * (mean - running_mean)
    running_var += momentum * (var * count / (count - 1) - running_var)


def bn_act_forward(x, mean, inv_std, gamma, beta, slope):
    """y (N, C, ...) = act(gamma (x - mean) inv_std + beta), act(z) = z if z > 0 else slope z."""
    z = (_per_channel(gamma * inv_std, x.ndim) * (x - _per_channel(mean, x.ndim))
         + _per_channel(beta, x.ndim))  # (N, C, ...)
    return np.where(z > 0, z, slope * z)


def gz_and_xhat(x, mean, inv_std, gamma, beta, slope, gy):
    """(gz, xhat), each (N, C, ...): xhat = (x - mean) inv_std, gz = gy act'(gamma xhat + beta)."""
    xhat = (x - _per_channel(mean, x.ndim)) * _per_channel(inv_std, x.ndim)
    z = _per_channel(gamma, x.ndim) * xhat + _per_channel(beta, x.ndim)
    return np.where(z > 0, gy, slope * gy), xhat


def bn_act_backward_sums(x, mean, inv_std, gamma, beta, slope, gy):
    """(sum of gz, sum of gz xhat), each (C,): the beta and gamma gradients."""
    gz, xhat = gz_and_xhat(x, mean, inv_std, gamma, beta, slope, gy)
    return gz.sum(axis=_all_but_channels(x)), (gz * xhat).sum(axis=_all_but_channels(x))


def bn_act_backward_input(x, mean, inv_std, gamma, beta, slope, gy, sum_gz, sum_gz_xhat, count):
    """gx (N, C, ...) = gamma inv_std (gz - (sum_gz + xhat sum_gz_xhat) / count)."""
    gz, xhat = gz_and_xhat(x, mean, inv_std, gamma, beta, slope, gy)
    correction = (_per_channel(sum_gz, x.ndim) + xhat * _per_channel(sum_gz_xhat, x.ndim)) / count
    return _per_channel(gamma * inv_std, x.ndim) * (gz - correction)
