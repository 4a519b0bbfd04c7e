"""The numba twins of winograd.py's transforms (its docstring states the math), one pass each.

Images are channel-major, (C, N, H, W); transformed arrays are (ALPHA^2, rows, T) with
uv = ALPHA u + v first and tiles t = (n * P + p) * Q + q last (P, Q tiles down and across).
The ALPHA x ALPHA tile of the space-to-depth X at tile (p, q), phase (bh, bw), entry (i, j) is
padded pixel (2 TILE p + 2i + bh, 2 TILE q + 2j + bw): each phase reads every other row and
column of the padded image, and neighbouring tiles share one X row (or column).

The small matrices act through the functions below, each one written out term by term (the
tests check every transform against winograd.py's array code, which reads B_T, G and A_T):
numba inlines them and LLVM then vectorises the loops over pixels, which loops over the
matrices' entries would prevent.
"""
import numba
import numpy as np
from numba import prange

from .cpu_kernels import jit
from .winograd import ALPHA, TILE

inline = numba.njit(inline="always", cache=True)


@inline
def _b_t(d0, d1, d2, d3, d4):
    """B^T d for one column d of a tile (products by small integers written as sums, which
    keep float32 in float32)."""
    e, f = d0 - d2, d1 - d3
    return (e + e + d3 - d1, d1 + d1 + d2 - d3, d2 + d2 + d2 - d1 - d1 - d3, d3 - d1,
            f + f + d4 - d2)


@inline
def _b(e0, e1, e2, e3, e4):
    """B e, the transpose of _b_t."""
    f = e1 - e2 + e4
    return (e0 + e0, f + f - e0 - e3, e1 + e2 + e2 + e2 - e0 - e0 - e4,
            e0 - e1 - e2 + e3 - e4 - e4, e4)


@inline
def _g(a, b):
    """G (a, b), one column of the 2x2 taps, in float64 (b / 1 too, so that the tuple has one
    type and can be indexed in a loop)."""
    return a / 2, (a + b) / 2, (a - b) / 6, (a + 2 * b) / 6, b / 1


@inline
def _g_t(e0, e1, e2, e3, e4):
    """G^T e, the transpose of _g (in float64)."""
    return (e0 + e1) / 2 + (e2 + e3) / 6, e1 / 2 + (2 * e3 - e2) / 6 + e4


@inline
def _a_t(m0, m1, m2, m3, m4):
    """A^T m for one column m of a transformed tile."""
    d, s, m3_2 = m1 - m2, m1 + m2, m3 + m3
    m3_4 = m3_2 + m3_2
    return m0 + s + m3, d + m3_2, s + m3_4, d + m3_4 + m3_4 + m4


@inline
def _a(g0, g1, g2, g3):
    """A g, the transpose of _a_t."""
    g1_2, g2_4, g3_8 = g1 + g1, g2 + g2 + g2 + g2, g3 + g3 + g3 + g3 + g3 + g3 + g3 + g3
    return g0, g0 + g1 + g2 + g3, g0 - g1 + g2 - g3, g0 + g1_2 + g2_4 + g3_8, g3


@jit
def filter_transform(w, u):
    """u[ALPHA i + j, o, 4c + 2bh + bw] = (G W G^T)[i, j], W[a, b] = w[o, c, 2a + bh, 2b + bw]."""
    oc, c = w.shape[:2]
    for o in prange(oc):
        gw = np.empty((ALPHA, 2))  # G W
        for ch in range(c):
            for bh in range(2):
                for bw in range(2):
                    k = 4 * ch + 2 * bh + bw
                    gw[0, 0], gw[1, 0], gw[2, 0], gw[3, 0], gw[4, 0] = _g(
                        w[o, ch, bh, bw], w[o, ch, 2 + bh, bw])
                    gw[0, 1], gw[1, 1], gw[2, 1], gw[3, 1], gw[4, 1] = _g(
                        w[o, ch, bh, 2 + bw], w[o, ch, 2 + bh, 2 + bw])
                    for i in range(ALPHA):
                        row = _g(gw[i, 0], gw[i, 1])  # row i of G W G^T
                        for j in range(ALPHA):
                            u[ALPHA * i + j, o, k] = row[j]


@jit
def filter_transform_adjoint(gu, gw):
    """gw = G^T gU G per (o, c, bh, bw): the transpose of filter_transform."""
    oc, c = gw.shape[:2]
    for o in prange(oc):
        ug = np.empty((ALPHA, 2))  # gU G
        for ch in range(c):
            for bh in range(2):
                for bw in range(2):
                    k = 4 * ch + 2 * bh + bw
                    for i in range(ALPHA):  # the rows of gU G
                        ug[i, 0], ug[i, 1] = _g_t(gu[5 * i, o, k], gu[5 * i + 1, o, k],
                                                  gu[5 * i + 2, o, k], gu[5 * i + 3, o, k],
                                                  gu[5 * i + 4, o, k])
                    top = _g_t(ug[0, 0], ug[1, 0], ug[2, 0], ug[3, 0], ug[4, 0])
                    bottom = _g_t(ug[0, 1], ug[1, 1], ug[2, 1], ug[3, 1], ug[4, 1])
                    gw[o, ch, bh, bw], gw[o, ch, 2 + bh, bw] = top
                    gw[o, ch, bh, 2 + bw], gw[o, ch, 2 + bh, 2 + bw] = bottom


@jit
def input_transform(x, v):
    """v[ALPHA u + s, 4c + 2bh + bw, t] = (B^T d B)[u, s] for the tile d of X at t, phase
    (bh, bw).

    Per channel: pad its images, apply B^T down each tile's rows (whole padded rows, which
    LLVM vectorises), then B across, writing each of v's rows in one run over all tiles (25
    short runs per image would defeat the prefetcher).
    """
    c, n, h, w = x.shape
    rows, cols = h // (2 * TILE), w // (2 * TILE)
    for ch in prange(c):
        padded = np.zeros((n, h + 2, w + 2), x.dtype)
        padded[:, 1:h + 1, 1:w + 1] = x[ch]
        down = np.empty((ALPHA, n * rows, w + 2), x.dtype)  # B^T applied down each tile's rows
        for bh in range(2):
            for r in range(n * rows):  # tile row r = b * rows + p
                image, top = padded[r // rows], 2 * TILE * (r % rows) + bh  # tile's row 0
                d0, d1, d2 = image[top], image[top + 2], image[top + 4]
                d3, d4 = image[top + 6], image[top + 8]
                for col in range(w + 2):
                    (down[0, r, col], down[1, r, col], down[2, r, col], down[3, r, col],
                     down[4, r, col]) = _b_t(d0[col], d1[col], d2[col], d3[col], d4[col])
            for bw in range(2):
                out = v[:, 4 * ch + 2 * bh + bw]  # (ALPHA^2, T)
                for u in range(ALPHA):
                    for r in range(n * rows):
                        row = down[u, r]
                        for q in range(cols):
                            t, left = r * cols + q, 2 * TILE * q + bw
                            (out[5 * u, t], out[5 * u + 1, t], out[5 * u + 2, t],
                             out[5 * u + 3, t], out[5 * u + 4, t]) = _b_t(
                                row[left], row[left + 2], row[left + 4], row[left + 6],
                                row[left + 8])


@jit
def input_transform_adjoint(gv, gx):
    """gx = the sum over tiles and phases of B gV B^T, added back where input_transform read
    each tile: its transpose.

    Neighbouring tiles share one X row (or column): the last of tile p is the first of tile
    p + 1. Each tile writes its rows, adding its first to the one the tile before it wrote, so
    every pixel is written, and nothing needs zeroing first.
    """
    c, n, h, w = gx.shape
    rows, cols = h // (2 * TILE), w // (2 * TILE)
    for ch in prange(c):
        g_padded = np.empty((n, h + 2, w + 2), gx.dtype)
        across = np.empty((ALPHA, n * rows, w + 2), gx.dtype)  # B applied across, padded width
        for bh in range(2):
            for bw in range(2):
                g = gv[:, 4 * ch + 2 * bh + bw]  # (ALPHA^2, T)
                for u in range(ALPHA):
                    for r in range(n * rows):
                        row = across[u, r]
                        for q in range(cols):
                            t, left = r * cols + q, 2 * TILE * q + bw
                            e0, e1, e2, e3, e4 = _b(g[5 * u, t], g[5 * u + 1, t], g[5 * u + 2, t],
                                                    g[5 * u + 3, t], g[5 * u + 4, t])
                            row[left] = e0 if q == 0 else row[left] + e0
                            row[left + 2], row[left + 4], row[left + 6] = e1, e2, e3
                            row[left + 8] = e4
            for r in range(n * rows):
                image, p = g_padded[r // rows], r % rows
                top = 2 * TILE * p + bh
                d0, d1, d2 = image[top], image[top + 2], image[top + 4]
                d3, d4 = image[top + 6], image[top + 8]
                for col in range(w + 2):
                    e0, e1, e2, e3, e4 = _b(across[0, r, col], across[1, r, col],
                                            across[2, r, col], across[3, r, col],
                                            across[4, r, col])
                    d0[col] = e0 if p == 0 else d0[col] + e0
                    d1[col], d2[col], d3[col], d4[col] = e1, e2, e3, e4
        gx[ch] = g_padded[:, 1:h + 1, 1:w + 1]


@jit
def output_transform(m, y):
    """y[o, n, TILE p + r, TILE q + s] = (A^T M A)[r, s] for the tile t = (n, p, q) of
    m[:, o, t]."""
    oc, n, oh, ow = y.shape
    rows, cols = oh // TILE, ow // TILE
    for o in prange(oc):  # each of the transformed array's rows in one run over all tiles
        left = np.empty((TILE, ALPHA), m.dtype)  # A^T M
        for b in range(n):
            for p in range(rows):
                for q in range(cols):
                    t = (b * rows + p) * cols + q
                    for v in range(ALPHA):
                        (left[0, v], left[1, v], left[2, v], left[3, v]) = _a_t(
                            m[v, o, t], m[5 + v, o, t], m[10 + v, o, t], m[15 + v, o, t],
                            m[20 + v, o, t])
                    for r in range(TILE):
                        out = y[o, b, TILE * p + r]
                        (out[TILE * q], out[TILE * q + 1], out[TILE * q + 2],
                         out[TILE * q + 3]) = _a_t(left[r, 0], left[r, 1], left[r, 2], left[r, 3],
                                                   left[r, 4])


@jit
def output_transform_adjoint(gy, gm):
    """gm[:, o, t] = A gY A^T for the 4x4 tile of gy[o, n] at t: output_transform's
    transpose."""
    oc, n, oh, ow = gy.shape
    rows, cols = oh // TILE, ow // TILE
    for plane in prange(oc * n):
        o, b = plane // n, plane % n
        left = np.empty((ALPHA, TILE), gy.dtype)  # A gY
        for p in range(rows):
            for q in range(cols):
                t, g = (b * rows + p) * cols + q, gy[o, b, TILE * p:TILE * p + TILE]
                for s in range(TILE):
                    (left[0, s], left[1, s], left[2, s], left[3, s], left[4, s]) = _a(
                        g[0, TILE * q + s], g[1, TILE * q + s], g[2, TILE * q + s],
                        g[3, TILE * q + s])
                for u in range(ALPHA):
                    (gm[5 * u, o, t], gm[5 * u + 1, o, t], gm[5 * u + 2, o, t],
                     gm[5 * u + 3, o, t], gm[5 * u + 4, o, t]) = _a(
                        left[u, 0], left[u, 1], left[u, 2], left[u, 3])
