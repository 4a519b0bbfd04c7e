"""The numba twins of winograd.py's transforms (its docstring states the math), one pass each.

Images are channel-major, (C, N, H, W); transformed arrays are (9, rows, T) with uv = 3u + v
first and tiles t = (n * P + p) * Q + q last (P, Q tiles down and across). The 3x3 tile of the
space-to-depth X at tile (p, q), phase (bh, bw), entry (i, j) is padded pixel
(4p + 2i + bh, 4q + 2j + bw): each phase reads every other row and column of the padded image.
"""
import numpy as np
from numba import prange

from .cpu_kernels import jit


@jit
def filter_transform(w, u):
    """u[3a' + b', o, 4c + 2bh + bw] = (G W G^T)[a', b'], W[a, b] = w[o, c, 2a + bh, 2b + bw]."""
    oc, c = w.shape[:2]
    for o in prange(oc):
        for ch in range(c):
            for bh in range(2):
                for bw in range(2):
                    k = 4 * ch + 2 * bh + bw
                    w00, w01 = w[o, ch, bh, bw], w[o, ch, bh, 2 + bw]
                    w10, w11 = w[o, ch, 2 + bh, bw], w[o, ch, 2 + bh, 2 + bw]
                    rows = ((w00, w01), (w00 + w10, w01 + w11), (w10, w11))  # G W
                    for i in range(3):
                        left, right = rows[i]
                        u[3 * i, o, k] = left
                        u[3 * i + 1, o, k] = left + right
                        u[3 * i + 2, o, k] = right


@jit
def filter_transform_adjoint(gu, gw):
    """gw = G^T gU G per (o, c, bh, bw): the transpose of filter_transform."""
    oc, c = gw.shape[:2]
    for o in prange(oc):
        for ch in range(c):
            for bh in range(2):
                for bw in range(2):
                    k = 4 * ch + 2 * bh + bw
                    g = gu[:, o, k]  # (9,): gU[i, j] = g[3i + j]
                    r0, r1, r2 = g[0] + g[1], g[3] + g[4], g[6] + g[7]  # gU G
                    s0, s1, s2 = g[1] + g[2], g[4] + g[5], g[7] + g[8]
                    gw[o, ch, bh, bw], gw[o, ch, bh, 2 + bw] = r0 + r1, s0 + s1  # G^T (gU G)
                    gw[o, ch, 2 + bh, bw], gw[o, ch, 2 + bh, 2 + bw] = r1 + r2, s1 + s2


@jit
def input_transform(x, v):
    """v[3u + s, 4c + 2bh + bw, t] = (B^T d B)[u, s] for the tile d of X at t, phase (bh, bw).

    Per channel: pad the images once, apply B^T down the rows (whole padded rows, which LLVM
    vectorises), then B across, writing each of v's rows as one contiguous run.
    """
    c, n, h, w = x.shape
    rows, cols = h // 4, w // 4
    for ch in prange(c):
        padded = np.zeros((n, h + 2, w + 2), x.dtype)
        padded[:, 1:h + 1, 1:w + 1] = x[ch]
        down = np.empty((3, n * rows, w + 2), x.dtype)  # B^T applied down each tile's rows
        for bh in range(2):
            for b in range(n):
                for p in range(rows):
                    r = b * rows + p
                    top, mid = padded[b, 4 * p + bh], padded[b, 4 * p + bh + 2]
                    bottom = padded[b, 4 * p + bh + 4]
                    for j in range(w + 2):
                        down[0, r, j] = top[j] - mid[j]
                        down[1, r, j] = mid[j]
                        down[2, r, j] = bottom[j] - mid[j]
            for bw in range(2):
                k = 4 * ch + 2 * bh + bw
                for u in range(3):
                    d, left, middle, right = down[u], v[3 * u, k], v[3 * u + 1, k], v[3 * u + 2, k]
                    for r in range(n * rows):
                        for q in range(cols):
                            t, mid = r * cols + q, d[r, 4 * q + bw + 2]
                            left[t] = d[r, 4 * q + bw] - mid
                            middle[t] = mid
                            right[t] = d[r, 4 * q + bw + 4] - mid


@jit
def input_transform_adjoint(gv, gx):
    """gx = the sum over tiles and phases of B gV B^T, added back where input_transform read
    each tile: its transpose.

    Neighbouring tiles share a row and a column of X: X row m = 2p is row 0 of tile p plus
    row 2 of tile p - 1, and row 2p + 1 is row 1 of tile p alone (the same across). Writing
    each X row and column as that sum, rather than adding tiles in, writes every pixel once.
    """
    c, n, h, w = gx.shape
    rows, cols = h // 4, w // 4
    for ch in prange(c):
        across = np.empty((3, n * rows, w + 2), gx.dtype)  # B applied across, padded width
        for bh in range(2):
            for bw in range(2):
                k = 4 * ch + 2 * bh + bw
                for u in range(3):
                    g, left = across[u], gv[3 * u, k]
                    middle, right = gv[3 * u + 1, k], gv[3 * u + 2, k]
                    for r in range(n * rows):  # padded column 4q + bw + 2j is tile q's column j
                        first = r * cols
                        g[r, bw] = left[first]
                        for q in range(cols):
                            t = first + q
                            g[r, 4 * q + bw + 2] = middle[t] - left[t] - right[t]
                        for q in range(1, cols):
                            g[r, 4 * q + bw] = left[first + q] + right[first + q - 1]
                        g[r, 4 * cols + bw] = right[first + cols - 1]
            for b in range(n):  # padded row 4p + bh + 2i is tile p's row i; row y is gx row y - 1
                image, tiles = gx[ch, b], across[:, b * rows:(b + 1) * rows, 1:w + 1]
                for p in range(rows):  # loops, not array expressions: no temporaries
                    y = 4 * p + bh - 1
                    if p > 0:
                        for j in range(w):
                            image[y, j] = tiles[0, p, j] + tiles[2, p - 1, j]
                    elif bh == 1:  # bh = 0: the padding row
                        for j in range(w):
                            image[y, j] = tiles[0, p, j]
                    for j in range(w):
                        image[y + 2, j] = tiles[1, p, j] - tiles[0, p, j] - tiles[2, p, j]
                if bh == 0:  # bh = 1: the padding row
                    for j in range(w):
                        image[h - 1, j] = tiles[2, rows - 1, j]


@jit
def output_transform(m, y):
    """y[o, n, 2p + r, 2q + s] = (A^T M A)[r, s] for the tile t = (n, p, q) of m[:, o, t]."""
    oc, n, oh, ow = y.shape
    rows, cols = oh // 2, ow // 2
    for plane in prange(oc * n):
        o, b = plane // n, plane % n
        for p in range(rows):
            for q in range(cols):
                t = (b * rows + p) * cols + q
                a0, a1, a2 = (m[0, o, t] + m[3, o, t], m[1, o, t] + m[4, o, t],
                              m[2, o, t] + m[5, o, t])  # the rows of A^T M
                c0, c1, c2 = (m[3, o, t] + m[6, o, t], m[4, o, t] + m[7, o, t],
                              m[5, o, t] + m[8, o, t])
                y[o, b, 2 * p, 2 * q], y[o, b, 2 * p, 2 * q + 1] = a0 + a1, a1 + a2
                y[o, b, 2 * p + 1, 2 * q], y[o, b, 2 * p + 1, 2 * q + 1] = c0 + c1, c1 + c2


@jit
def output_transform_adjoint(gy, gm):
    """gm[:, o, t] = A gY A^T for the 2x2 tile of gy[o, n] at t: output_transform's transpose."""
    oc, n, oh, ow = gy.shape
    rows, cols = oh // 2, ow // 2
    for plane in prange(oc * n):
        o, b = plane // n, plane % n
        for p in range(rows):
            for q in range(cols):
                t = (b * rows + p) * cols + q
                g00, g01 = gy[o, b, 2 * p, 2 * q], gy[o, b, 2 * p, 2 * q + 1]
                g10, g11 = gy[o, b, 2 * p + 1, 2 * q], gy[o, b, 2 * p + 1, 2 * q + 1]
                rows_of_a_gy = ((g00, g01), (g00 + g10, g01 + g11), (g10, g11))
                for i in range(3):
                    left, right = rows_of_a_gy[i]
                    gm[3 * i, o, t] = left
                    gm[3 * i + 1, o, t] = left + right
                    gm[3 * i + 2, o, t] = right
