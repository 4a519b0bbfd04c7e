"""The NumPy backend: arrays live in host memory."""
import numpy as np

name = "cpu"
xp = np


def asarray(array, dtype=None):
    """Copy-free conversion of host data (or a NumPy array) to this backend's array type."""
    return np.asarray(array, dtype=dtype)


def to_numpy(array):
    """Return the array as a NumPy array (no copy on this backend)."""
    return np.asarray(array)


def synchronize():
    """Wait for queued work to finish: NumPy is synchronous, so there is nothing to wait for."""


def im2col(x, kernel, stride, padding):
    """col[n, c, i, j, oh, ow] = x_padded[n, c, i + stride_h * oh, j + stride_w * ow]."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)  # (N, C, KH, KW, OH, OW)
    for i in range(kh):
        for j in range(kw):
            col[:, :, i, j] = padded[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    return col


def col2im(col, image_size, stride, padding):
    """The adjoint of im2col: x[n, c, y, x] = sum of every col entry that im2col read from it."""
    n, c, kh, kw, oh, ow = col.shape
    (h, w), (sh, sw), (ph, pw) = image_size, stride, padding
    padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += col[:, :, i, j]
    return padded[:, :, ph:ph + h, pw:pw + w]
