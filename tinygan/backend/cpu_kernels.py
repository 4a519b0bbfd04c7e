"""The CPU twins of kernels/*.cu, compiled by numba: the same index math (im2col reads it from
a small table of offsets), one pass over memory, parallel over rows (numba.prange) instead of
over CUDA threads.

NumPy expressions of the same math live in reference.py, the oracle these are tested
against. Arrays arrive contiguous; images channel-major, (C, N, H, W) (see layout.py);
per-channel arrays are (C,); the batch-norm passes take their (N, C, ...) arrays as (C, M) views,
M = N * H * W values per channel.
"""
import functools
import math
import os

import numba
import numpy as np
from numba import prange

# numba's default OpenMP threads spin after each kernel and fight OpenBLAS's own threads for
# the cores; its plain work-queue threads do not.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

jit = numba.njit(parallel=True, cache=True)
# The per-channel sums accumulate in float64 and may reorder their additions, so that LLVM
# vectorises them; a strictly sequential sum waits on each add.
reduce_jit = numba.njit(parallel=True, cache=True, fastmath={"reassoc"})


@numba.njit(cache=True)
def source_offsets(kh, kw, h, w, oh, ow, sh, sw, ph, pw):
    """off[i, j, oy * ow + ox] = y * w + xx, the pixel that col entry (i, j, oy, ox) copies
    (y = oy * sh - ph + i, xx = ox * sw - pw + j), or -1 where that lies in the padding."""
    off = np.empty((kh, kw, oh * ow), np.int64)
    for i in range(kh):
        for j in range(kw):
            for oy in range(oh):
                y = oy * sh - ph + i
                for ox in range(ow):
                    xx = ox * sw - pw + j
                    inside = 0 <= y < h and 0 <= xx < w
                    off[i, j, oy * ow + ox] = y * w + xx if inside else -1
    return off


@jit
def im2col(x, col, off):
    """col[c, i, j, n, k] = x[c, n, off[i, j, k]], or 0 where off is -1 (the padding).

    x is channel-major and flat per image, (C, N, H*W); col is (C, KH, KW, N, OH*OW); off comes
    from source_offsets. With the index math in that small table, each image's slab is one
    flat gather with no index arithmetic in its loop; the loop reads and writes through one
    channel's 2-D views, which keeps its addressing simple.
    """
    c, n = x.shape[:2]
    kh, kw, positions = off.shape
    for row in prange(c * kh * kw):
        ch, i, j = row // (kh * kw), (row // kw) % kh, row % kw
        source, target, table = x[ch], col[ch, i, j], off[i, j]  # (N, H*W), (N, OH*OW), (OH*OW,)
        for b in range(n):
            for k in range(positions):
                o = table[k]
                target[b, k] = source[b, o] if o >= 0 else 0


@jit
def col2im_unit_stride(col, x, ph, pw):
    """x[c, n, y, xx] = sum of col[c, i, j, n, oy, ox] over all (i, j, oy, ox) with
    oy - ph + i = y and ox - pw + j = xx (stride 1); x is channel-major, (C, N, H, W).

    Each (c, n) image plane is one iteration that adds in its col rows (i, j, oy) in order: no
    two iterations write the same pixel, and every pixel sums in the (i, j) order col2im.cu uses.
    Each row is first clipped to the part that lands inside the image, so the inner loop runs
    from 0 with no test in it (neither a bounds test nor numba's wrap of negative indices), and
    LLVM vectorises it.
    """
    c, n, h, w = x.shape
    kh, kw, oh, ow = col.shape[1], col.shape[2], col.shape[4], col.shape[5]
    for plane in prange(c * n):
        ch, b = plane // n, plane % n
        target = x[ch, b]  # (H, W)
        target[:] = 0
        for i in range(kh):
            for j in range(kw):
                first, last = max(0, pw - j), min(ow, w + pw - j)  # 0 <= ox - pw + j < w
                for oy in range(max(0, ph - i), min(oh, h + ph - i)):  # 0 <= oy - ph + i < h
                    row = target[oy - ph + i, first - pw + j:last - pw + j]
                    source = col[ch, i, j, b, oy, first:last]
                    for k in range(last - first):
                        row[k] += source[k]


@numba.njit(cache=True)
def col_entries(off, pixels, tap_stride):
    """source_offsets inverted: the col entries that copy pixel p, in (i, j) order.

    entry[t, p] = tap * tap_stride + k for pixel p's t-th entry col[., i, j, ., k], where
    tap = i * kw + j, or -1 past its last; tap_stride is the distance between two taps' rows.
    """
    kh, kw, positions = off.shape
    counts = np.zeros(pixels, np.int64)
    for i in range(kh):
        for j in range(kw):
            for k in range(positions):
                if off[i, j, k] >= 0:
                    counts[off[i, j, k]] += 1
    most = counts.max() if pixels else 0
    entry = np.full((most, pixels), -1, np.int64)
    counts[:] = 0
    for i in range(kh):
        for j in range(kw):
            for k in range(positions):
                p = off[i, j, k]
                if p >= 0:
                    entry[counts[p], p] = (i * kw + j) * tap_stride + k
                    counts[p] += 1
    return entry


@jit
def col2im_gather(col, x, entry):
    """x[c, n, p] = sum over t of col[c].flat[n * OH*OW + entry[t, p]], in t order, skipping
    entry -1 (col[c].flat: the (KH*KW, N, OH*OW) block of channel c as one flat array).

    col is (C, KH*KW, N, OH*OW); x is channel-major and flat per image, (C, N, H*W); entry comes
    from col_entries with tap_stride N*OH*OW. Each pass over t adds one entry into every pixel
    of the image: a long, regular loop, where summing each pixel's entries in turn would be a
    short loop per pixel and adding col rows in (with stride > 1) would hop over pixels.
    """
    c, n, pixels = x.shape
    taps, positions = col.shape[1], col.shape[3]
    for plane in prange(c * n):
        ch, b = plane // n, plane % n
        source = col[ch].reshape(taps * n * positions)[b * positions:]
        target = x[ch, b]
        target[:] = 0
        for t in range(entry.shape[0]):
            for p in range(pixels):
                e = entry[t, p]
                if e >= 0:
                    target[p] += source[e]


def elementwise(scalar_function):
    """scalar_function as a parallel ufunc (any shape and memory layout; the output is laid out
    as the first input), compiled on first use: compiling at import doubled tinygan's import."""
    @functools.cache
    def ufunc():
        signatures = ["float32(float32, float32, float32)", "float64(float64, float64, float64)"]
        return numba.vectorize(signatures, target="parallel", cache=True)(scalar_function)
    return lambda *args: ufunc()(*args)


@elementwise
def leaky_gate(x, g, slope):
    """g if x > 0 else slope g: leaky_relu(x) = leaky_gate(x, x), its backward leaky_gate(x, gy)."""
    return g if x > 0 else slope * g


@jit
def adam(p, g, m, v, lr, b1, b2, eps, bias1, bias2):
    """In place, flat arrays: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    p -= lr (m / bias1) / (sqrt(v / bias2) + eps)."""
    for k in prange(p.size):
        m[k] = b1 * m[k] + (1 - b1) * g[k]
        v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k]
        p[k] -= lr * (m[k] / bias1) / (math.sqrt(v[k] / bias2) + eps)


@jit
def bn_act_forward(x, mean, inv_std, gamma, beta, slope, y):
    """y = act(gamma (x - mean) inv_std + beta), act(z) = z if z > 0 else slope z."""
    for ch in prange(x.shape[0]):
        for k in range(x.shape[1]):
            z = gamma[ch] * ((x[ch, k] - mean[ch]) * inv_std[ch]) + beta[ch]
            y[ch, k] = z if z > 0 else slope * z


@reduce_jit
def bn_statistics(x, mean, var):
    """mean[c] = sum over k of x[c, k] / M;  var[c] = sum over k of (x[c, k] - mean[c])^2 / M."""
    count = x.shape[1]
    for ch in prange(x.shape[0]):
        total = 0.0
        for k in range(count):
            total += x[ch, k]
        centre = total / count
        squares = 0.0
        for k in range(count):
            squares += (x[ch, k] - centre) ** 2
        mean[ch], var[ch] = centre, squares / count


@numba.njit(cache=True, inline="always")
def gz_and_xhat(x, mean, inv_std, gamma, beta, slope, gy):
    """For one value: gz = gy act'(gamma xhat + beta) and xhat = (x - mean) inv_std."""
    xhat = (x - mean) * inv_std
    return (gy if gamma * xhat + beta > 0 else slope * gy), xhat


@reduce_jit
def bn_act_backward_sums(x, mean, inv_std, gamma, beta, slope, gy, sum_gz, sum_gz_xhat):
    """sum_gz[c] = sum over k of gz and sum_gz_xhat[c] = sum over k of gz xhat, where
    xhat = (x - mean) inv_std and gz = gy act'(gamma xhat + beta)."""
    for ch in prange(x.shape[0]):
        total, total_xhat = 0.0, 0.0
        for k in range(x.shape[1]):
            g, xhat = gz_and_xhat(x[ch, k], mean[ch], inv_std[ch], gamma[ch], beta[ch], slope,
                                  gy[ch, k])
            total += g
            total_xhat += g * xhat
        sum_gz[ch], sum_gz_xhat[ch] = total, total_xhat


@jit
def bn_act_backward_input(x, mean, inv_std, gamma, beta, slope, gy, sum_gz, sum_gz_xhat, count,
                          gx):
    """gx = gamma inv_std (gz - (sum_gz + xhat sum_gz_xhat) / count), xhat = (x - mean) inv_std
    and gz = gy act'(gamma xhat + beta)."""
    for ch in prange(x.shape[0]):
        for k in range(x.shape[1]):
            g, xhat = gz_and_xhat(x[ch, k], mean[ch], inv_std[ch], gamma[ch], beta[ch], slope,
                                  gy[ch, k])
            correction = (sum_gz[ch] + xhat * sum_gz_xhat[ch]) / count
            gx[ch, k] = gamma[ch] * inv_std[ch] * (g - correction)
