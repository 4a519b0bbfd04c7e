"""The NumPy backend: arrays live in host memory; the primitives run as numba kernels
(cpu_kernels.py, the CPU twins of kernels/*.cu).
"""
import ctypes
import sys

import numpy as np
from numba import get_num_threads

from . import cpu_kernels as kernels, cpu_winograd, winograd
from .layout import channel_major, conv_output_size, empty_images, images
from .winograd import ALPHA, TILE

name = "cpu"
xp = np
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
# col2im with stride 1 adds col rows of this many pixels or more in as rows (vectorised along
# the row); shorter rows are gathered per pixel, which is faster for them (docs/performance.md).
ROW_KERNEL_MIN_WIDTH = 12


def reuse_freed_memory():
    """Ask glibc to keep freed blocks for reuse instead of returning them to the OS.

    glibc serves big allocations with mmap and unmaps them on free, so each training step
    would page-fault its col buffers in afresh, several times the cost of filling them.
    With these thresholds a freed buffer is handed back to the next allocation of its size.
    mallopt takes a C int: a larger value wraps (1 << 40 became 0, which trims on every free).
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None)
        if hasattr(libc, "mallopt"):  # glibc; musl and others have no such knob
            libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)  # blocks below 1 GiB come from the heap
            libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1)  # nor trimmed (the largest C int)


reuse_freed_memory()


def check_available():
    """NumPy runs wherever tinygan imports: nothing to check."""


def asarray(array, dtype=None):
    """Copy-free conversion of host data (or a NumPy array) to this backend's array type."""
    return np.asarray(array, dtype=dtype)


def to_numpy(array):
    """Return the array as a NumPy array (no copy on this backend)."""
    return np.asarray(array)


def synchronize():
    """Wait for queued work to finish: NumPy is synchronous, so there is nothing to wait for."""


def _one_window(image_size, kernel, padding):
    """Whether the kernel covers the unpadded image exactly: a single window (OH = OW = 1) whose
    col is the image with its batch axis moved last. That transpose is NumPy's strided copy,
    which it blocks for the cache; the gather kernels' inner loop would run over a single
    position."""
    return tuple(kernel) == tuple(image_size) and tuple(padding) == (0, 0)


def im2col(x, kernel, stride, padding):
    """col[c, i, j, n, oh, ow] = x_padded[n, c, i + stride_h * oh, j + stride_w * ow]."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = conv_output_size((h, w), kernel, stride, padding)
    col = np.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)  # (C, KH, KW, N, OH, OW)
    x_cm = channel_major(np, x).reshape(c, n, h * w)
    if _one_window((h, w), kernel, padding):  # col[c, i, j, n] = x[c, n, i, j]
        np.copyto(col.reshape(c, h * w, n), x_cm.transpose(0, 2, 1))
    else:
        offsets = kernels.source_offsets(kh, kw, h, w, oh, ow, sh, sw, ph, pw)  # (KH, KW, OH*OW)
        kernels.im2col(x_cm, col.reshape(c, kh, kw, n, oh * ow), offsets)
    return col


def col2im(col, image_size, stride, padding):
    """The adjoint of im2col: x[n, c, y, x] = sum of every col entry that im2col read from it."""
    c, kh, kw, n, oh, ow = col.shape
    x = empty_images(np, (n, c, *image_size), col.dtype)
    col, x_cm = np.ascontiguousarray(col), channel_major(np, x)  # x_cm: a view of x
    pixels = image_size[0] * image_size[1]
    if _one_window(image_size, (kh, kw), padding):  # x[c, n, i, j] = col[c, i, j, n]
        np.copyto(x_cm.reshape(c, n, pixels), col.reshape(c, pixels, n).transpose(0, 2, 1))
    elif tuple(stride) == (1, 1) and ow >= ROW_KERNEL_MIN_WIDTH:
        kernels.col2im_unit_stride(col, x_cm, *padding)
    else:  # the same sums, gathered per pixel (faster where rows are short or strided)
        offsets = kernels.source_offsets(kh, kw, *image_size, oh, ow, *stride, *padding)
        entry = kernels.col_entries(offsets, pixels, n * oh * ow)
        kernels.col2im_gather(col.reshape(c, kh * kw, n, oh * ow), x_cm.reshape(c, n, pixels),
                              entry)
    return x


def _transformed(rows, cols, dtype):
    """An empty (ALPHA^2, rows, cols) array whose planes lie a cache line further apart than
    packed: the transforms touch all 25 planes at once, and 25 streams a power of two apart
    would share one set of the L1 cache and evict each other."""
    plane = rows * cols + 64 // np.dtype(dtype).itemsize
    return np.empty((ALPHA ** 2, plane), dtype)[:, :rows * cols].reshape(ALPHA ** 2, rows, cols)


# The filter transforms (and U, 6.25x the weight, read by every product) cost the same at any
# batch while the multiply-adds saved grow with the output tiles; both scale with OC x C, so the
# tile count decides. On 2 threads the thin products and transforms of few tiles split worse
# than im2col's one product: im2col won below 64 tiles a thread (docs/performance.md).
MIN_TILES_PER_THREAD = 64


def winograd_applies(image_size, kernel, stride, padding, in_channels, batch):
    """Whether a conv takes the Winograd route here: where it applies (winograd.applies) and
    has MIN_TILES_PER_THREAD output tiles per numba thread."""
    return (winograd.applies(image_size, kernel, stride, padding, in_channels)
            and winograd.tiles(image_size, batch) >= MIN_TILES_PER_THREAD * get_num_threads())


def winograd_products(a, b):
    """The 25 matrix products a[uv] @ b[uv] of the transformed domain, into planes spaced
    as _transformed's."""
    out = _transformed(a.shape[1], b.shape[2], np.result_type(a, b))
    return np.matmul(a, b, out=out)


def winograd_filter(w):
    """U = G W G^T for w (OC, C, 4, 4): (ALPHA^2, OC, 4C) (winograd.py states the math)."""
    u = _transformed(w.shape[0], 4 * w.shape[1], w.dtype)
    cpu_winograd.filter_transform(np.ascontiguousarray(w), u)
    return u


def winograd_filter_adjoint(gu, in_channels):
    """The transpose of winograd_filter: gU (ALPHA^2, OC, 4C) -> gw (OC, C, 4, 4)."""
    gw = np.empty((gu.shape[1], in_channels, 4, 4), gu.dtype)
    cpu_winograd.filter_transform_adjoint(gu, gw)
    return gw


def winograd_input(x):
    """V = B^T d B over the tiles of x (N, C, H, W)'s space-to-depth: (ALPHA^2, 4C, T)."""
    n, c, h, w = x.shape
    v = _transformed(4 * c, n * (h // (2 * TILE)) * (w // (2 * TILE)), x.dtype)
    cpu_winograd.input_transform(channel_major(np, x), v)
    return v


def winograd_input_adjoint(gv, image_size):
    """The transpose of winograd_input: gV (ALPHA^2, 4C, T) -> gx (N, C, H, W)."""
    (h, w), c = image_size, gv.shape[1] // 4
    tiles = (h // (2 * TILE)) * (w // (2 * TILE))
    gx = np.empty((c, gv.shape[2] // tiles, h, w), gv.dtype)  # (C, N, H, W)
    cpu_winograd.input_transform_adjoint(gv, gx)
    return images(gx)


def winograd_output(m, n, out_size):
    """y = A^T M A per tile: M (ALPHA^2, OC, T) -> y (N, OC, OH, OW)."""
    y = np.empty((m.shape[1], n, *out_size), m.dtype)  # (OC, N, OH, OW)
    cpu_winograd.output_transform(m, y)
    return images(y)


def winograd_output_adjoint(gy):
    """The transpose of winograd_output: gy (N, OC, OH, OW) -> gM (ALPHA^2, OC, T)."""
    n, oc, oh, ow = gy.shape
    gm = _transformed(oc, n * (oh // TILE) * (ow // TILE), gy.dtype)
    cpu_winograd.output_transform_adjoint(channel_major(np, gy), gm)
    return gm


def leaky_relu(x, slope):
    """y = x if x > 0 else slope x, in x's memory layout."""
    return kernels.leaky_gate(x, x, slope)


def leaky_relu_backward(x, gy, slope):
    """gx = gy if x > 0 else slope gy."""
    return kernels.leaky_gate(x, gy, slope)


def adam_update(p, g, m, v, lr, b1, b2, eps, bias1, bias2):
    """In place:

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    p -= lr (m / bias1) / (sqrt(v / bias2) + eps)
    """
    if not all(a.flags.c_contiguous for a in (p, m, v)):
        raise TypeError("adam_update updates p, m and v in place: they must be contiguous")
    flat = [a.reshape(-1) for a in (p, np.ascontiguousarray(g), m, v)]  # views, not copies
    kernels.adam(*flat, lr, b1, b2, eps, bias1, bias2)


def _channels(x):
    """An (N, C, ...) array as a contiguous (C, N * inner) array, the layout the kernels take:
    a view of a channel-major array (as ``y`` below), a copy of any other."""
    return channel_major(np, x).reshape(x.shape[1], -1)


def bn_act_forward(x, mean, inv_std, gamma, beta, slope):
    """y = act(gamma (x - mean) inv_std + beta), act(z) = z if z > 0 else slope z,
    per channel (axis 1).
    """
    y = empty_images(np, x.shape, x.dtype)  # channel-major, so _channels(y) is a view
    kernels.bn_act_forward(_channels(x), mean, inv_std, gamma, beta, slope, _channels(y))
    return y


def bn_statistics(x):
    """(mean, var) of x per channel (axis 1) over every other axis; var is the biased one."""
    mean, var = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], x.dtype)
    kernels.bn_statistics(_channels(x), mean, var)
    return mean, var


def bn_running_update(running_mean, running_var, mean, var, momentum, count):
    """In place: running_mean += momentum (mean - running_mean);
    running_var += momentum (var count / (count - 1) - running_var), the unbiased variance as
    in PyTorch."""
    running_mean += momentum * (mean - running_mean)
    running_var += momentum * (var * count / (count - 1) - running_var)


def bn_act_backward_sums(x, mean, inv_std, gamma, beta, slope, gy):
    """(sum of gz, sum of gz * xhat) per channel, xhat = (x - mean) inv_std and
    gz = gy * act'(gamma xhat + beta): the beta and gamma gradients."""
    sum_gz, sum_gz_xhat = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], x.dtype)
    kernels.bn_act_backward_sums(_channels(x), mean, inv_std, gamma, beta, slope, _channels(gy),
                                 sum_gz, sum_gz_xhat)
    return sum_gz, sum_gz_xhat


def bn_act_backward_input(x, mean, inv_std, gamma, beta, slope, gy, sum_gz, sum_gz_xhat, count):
    """gx = gamma inv_std (gz - (sum_gz + xhat sum_gz_xhat) / count), per channel (axis 1)."""
    gx = empty_images(np, x.shape, x.dtype)
    kernels.bn_act_backward_input(_channels(x), mean, inv_std, gamma, beta, slope, _channels(gy),
                                  sum_gz, sum_gz_xhat, count, _channels(gx))
    return gx
