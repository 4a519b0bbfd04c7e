"""Plain NumPy versions of the backend primitives: the oracles the fast kernels are tested against.

Each states its math as directly as NumPy allows; tinygan/backend/cpu_kernels.py (numba) and
kernels/*.cu (CUDA) must agree with them.
"""
import numpy as np

from tinygan.backend.layout import conv_output_size


def im2col(x, kernel, stride, padding):
    """col[c, i, j, n, oh, ow] = x_padded[n, c, i + stride_h * oh, j + stride_w * ow]."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = conv_output_size((h, w), kernel, stride, padding)
    padded = np.pad(x.transpose(1, 0, 2, 3), ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (C, N, ., .)
    col = np.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)  # (C, KH, KW, N, OH, OW)
    for i in range(kh):
        for j in range(kw):
            col[:, i, j] = padded[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    return col


def col2im(col, image_size, stride, padding):
    """The adjoint of im2col: x[n, c, y, x] = sum of every col entry that im2col read from it."""
    c, kh, kw, n, oh, ow = col.shape
    (h, w), (sh, sw), (ph, pw) = image_size, stride, padding
    padded = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += col[:, i, j]
    return np.ascontiguousarray(padded[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3))


def adam_update(p, g, m, v, lr, b1, b2, eps, bias1, bias2):
    """In place:

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    p -= lr (m / bias1) / (sqrt(v / bias2) + eps)
    """
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * g * g
    p -= lr * (m / bias1) / (np.sqrt(v / bias2) + eps)


def leaky_relu(x, slope):
    """y = x if x > 0 else slope x."""
    return np.where(x > 0, x, slope * x)


def leaky_relu_backward(x, gy, slope):
    """gx = gy if x > 0 else slope gy."""
    return np.where(x > 0, gy, slope * gy)


def _per_channel(a, ndim):
    """A (C,) array shaped to broadcast over (N, C, ...) of rank ``ndim``."""
    return a.reshape((1, -1) + (1,) * (ndim - 2))


def bn_act_forward(x, mean, inv_std, gamma, beta, slope):
    """y = act(gamma (x - mean) inv_std + beta), act(z) = z if z > 0 else slope z,
    per channel (axis 1).
    """
    z = (_per_channel(gamma * inv_std, x.ndim) * (x - _per_channel(mean, x.ndim))
         + _per_channel(beta, x.ndim))
    return np.where(z > 0, z, slope * z)


def bn_statistics(x):
    """(mean, biased var) per channel (axis 1), over every other axis."""
    axes = (0,) + tuple(range(2, x.ndim))
    return x.mean(axis=axes), x.var(axis=axes)


def bn_running_update(running_mean, running_var, mean, var, momentum, count):
    """The running statistics after one batch, as new arrays: each moves toward the batch's by
    momentum, the variance made unbiased (var count / (count - 1))."""
    return (running_mean + momentum * (mean - running_mean),
            running_var + momentum * (var * count / (count - 1) - running_var))


def gz_and_xhat(x, mean, inv_std, gamma, beta, slope, gy):
    """gz = gy * act'(gamma xhat + beta) and xhat = (x - mean) inv_std."""
    xhat = (x - _per_channel(mean, x.ndim)) * _per_channel(inv_std, x.ndim)
    z = _per_channel(gamma, x.ndim) * xhat + _per_channel(beta, x.ndim)
    return np.where(z > 0, gy, slope * gy), xhat


def bn_act_backward_sums(x, mean, inv_std, gamma, beta, slope, gy):
    """(sum of gz, sum of gz * xhat) per channel (axis 1)."""
    gz, xhat = gz_and_xhat(x, mean, inv_std, gamma, beta, slope, gy)
    axes = (0,) + tuple(range(2, x.ndim))
    return gz.sum(axis=axes), (gz * xhat).sum(axis=axes)


def bn_act_backward_input(x, mean, inv_std, gamma, beta, slope, gy, sum_gz, sum_gz_xhat, count):
    """gx = gamma inv_std (gz - (sum_gz + xhat sum_gz_xhat) / count), per channel (axis 1)."""
    gz, xhat = gz_and_xhat(x, mean, inv_std, gamma, beta, slope, gy)
    correction = (_per_channel(sum_gz, x.ndim) + xhat * _per_channel(sum_gz_xhat, x.ndim)) / count
    return _per_channel(gamma * inv_std, x.ndim) * (gz - correction)
