"""Winograd F(2x2, 2x2) for stride-2 4x4 convolutions with padding 1, as plain array code.

A conv2d with kernel 4, stride 2 and padding 1 is a stride-1 2x2 conv of the space-to-depth
of its padded input x_p, over 4C channels (c, bh, bw):
    X[c, bh, bw, n, m, l] = x_p[n, c, 2m + bh, 2l + bw]
    W[o, c, bh, bw, a, b] = w[o, c, 2a + bh, 2b + bw]
Winograd's F(2, 2) gets each 2x2 output tile of that conv from the 3x3 tile d of X under it
with 9 products instead of 16:
    y_tile = A^T [(G W G^T) * (B^T d B)] A
    B^T = [[1, -1, 0], [0, 1, 0], [0, -1, 1]],  G = [[1, 0], [1, 1], [0, 1]]
    A^T = [[1, 1, 0], [0, 1, 1]]
(all exact in floating point: the transforms only add and subtract). Summed over the 4C
channels, the 9 products per tile become 9 matrix products, one per transform position uv:
    M[uv] (OC, T) = U[uv] (OC, 4C) @ V[uv] (4C, T),  U = G W G^T,  V = B^T d B,  T = N*OH/2*OW/2
tiles in (n, tile row, tile column) order: 9/16 of im2col's multiply-adds. Each transform's
adjoint (its transpose) carries gradients back, so conv2d's three products and
conv_transpose2d's (its adjoint) all run in the transformed domain.

These functions take the array module ``xp``; the CPU backend runs numba twins of them
(cpu_winograd.py) and the tests check those against these.
"""
B_T = ((1, -1, 0), (0, 1, 0), (0, -1, 1))  # input transform, 3x3 tile -> 3x3
G = ((1, 0), (1, 1), (0, 1))  # filter transform, 2x2 taps -> 3x3
A_T = ((1, 1, 0), (0, 1, 1))  # output transform, 3x3 -> 2x2 tile
# With few input channels the products are thin (4C rows) and the transforms' passes over
# memory cost more than the multiply-adds they save. Forward and weight gradient at batch 128,
# 64 output channels on 32x32, Winograd against im2col: C = 3 7.2 against 4.1 ms (on 64x64:
# 45 against 15), C = 8 9.3 against 8.4, C = 16 13.5 against 14.9, C = 32 22.9 against 29.0.
MIN_CHANNELS = 16


def applies(image_size, kernel, stride, padding, in_channels):
    """Whether a conv2d with these settings (image_size: its input's H, W) runs here: kernel
    4, stride 2, padding 1, an output of whole 2x2 tiles (H, W multiples of 4), and at least
    MIN_CHANNELS input channels."""
    return (tuple(kernel) == (4, 4) and tuple(stride) == (2, 2) and tuple(padding) == (1, 1)
            and image_size[0] % 4 == 0 and image_size[1] % 4 == 0
            and in_channels >= MIN_CHANNELS)


def _combine(left, right, blocks):
    """out[u][v] = sum over i, j of left[u][i] * right[v][j] * blocks[i][j] (a list of lists),
    skipping zero coefficients."""
    return [[sum(lu[i] * rv[j] * blocks[i][j] for i in range(len(lu)) for j in range(len(rv))
                 if lu[i] and rv[j]) for rv in right] for lu in left]


def _transpose(matrix):
    return tuple(zip(*matrix))


def _stack(xp, grid):
    """A 3x3 list of lists of equal arrays as one (9, ...) array, uv = 3u + v first."""
    return xp.stack([block for row in grid for block in row])


def filter_transform(xp, w):
    """U[uv] = G W G^T for w (OC, C, 4, 4): (9, OC, 4C), its columns in (c, bh, bw) order."""
    oc, c = w.shape[:2]
    w6 = w.reshape(oc, c, 2, 2, 2, 2)  # (OC, C, a, bh, b, bw)
    taps = [[w6[:, :, a, :, b, :] for b in range(2)] for a in range(2)]  # each (OC, C, 2, 2)
    return _stack(xp, _combine(G, G, taps)).reshape(9, oc, 4 * c)


def filter_transform_adjoint(xp, gu, in_channels):
    """gw = G^T gU G, the transpose of filter_transform: (9, OC, 4C) -> (OC, C, 4, 4)."""
    oc = gu.shape[1]
    blocks = gu.reshape(3, 3, oc, in_channels, 2, 2)
    taps = _combine(_transpose(G), _transpose(G), blocks)
    gw = xp.empty((oc, in_channels, 2, 2, 2, 2), gu.dtype)  # (OC, C, a, bh, b, bw)
    for a in range(2):
        for b in range(2):
            gw[:, :, a, :, b, :] = taps[a][b]
    return gw.reshape(oc, in_channels, 4, 4)


def _space_to_depth(xp, x):
    """x (N, C, H, W) padded by 1 -> X (C, 2, 2, N, H/2 + 1, W/2 + 1)."""
    n, c, h, w = x.shape
    padded = xp.zeros((n, c, h + 2, w + 2), x.dtype)
    padded[:, :, 1:-1, 1:-1] = x
    return padded.reshape(n, c, h // 2 + 1, 2, w // 2 + 1, 2).transpose(1, 3, 5, 0, 2, 4)


def _tiles(a, rows, cols):
    """The 3x3 tiles of a (..., 2 rows + 1, 2 cols + 1) with stride 2, as views tiles[i][j]:
    tiles[i][j][..., p, q] = a[..., 2p + i, 2q + j]."""
    return [[a[..., i:i + 2 * rows:2, j:j + 2 * cols:2] for j in range(3)] for i in range(3)]


def input_transform(xp, x):
    """V[uv] = B^T d B over every tile d of the space-to-depth of x (N, C, H, W):
    (9, 4C, T), rows in (c, bh, bw) order."""
    n, c, h, w = x.shape
    v = _combine(B_T, B_T, _tiles(_space_to_depth(xp, x), h // 4, w // 4))
    return _stack(xp, v).reshape(9, 4 * c, -1)


def input_transform_adjoint(xp, gv, image_size):
    """The transpose of input_transform: gx (N, C, H, W), each tile's B gV B^T added back
    where the tile was read (neighbouring tiles share a row or column)."""
    (h, w), c = image_size, gv.shape[1] // 4
    rows, cols = h // 4, w // 4
    n = gv.shape[2] // (rows * cols)
    blocks = gv.reshape(3, 3, c, 2, 2, n, rows, cols)
    g_space = xp.zeros((c, 2, 2, n, 2 * rows + 1, 2 * cols + 1), gv.dtype)
    g_tiles = _tiles(g_space, rows, cols)
    for i, row in enumerate(_combine(_transpose(B_T), _transpose(B_T), blocks)):
        for j, g in enumerate(row):
            g_tiles[i][j] += g
    g_padded = g_space.transpose(3, 0, 4, 1, 5, 2).reshape(n, c, h + 2, w + 2)
    return g_padded[:, :, 1:-1, 1:-1]


def output_transform(xp, m, n, out_size):
    """y = A^T M A per tile: M (9, OC, T) -> y (N, OC, OH, OW)."""
    oc, (oh, ow) = m.shape[1], out_size
    blocks = m.reshape(3, 3, oc, n, oh // 2, ow // 2)
    y = _combine(A_T, A_T, blocks)  # y[r][s][o, n, p, q] = output (n, o, 2p + r, 2q + s)
    stacked = xp.stack([xp.stack(row, axis=-1) for row in y], axis=-3)  # (OC, N, P, 2, Q, 2)
    return stacked.reshape(oc, n, oh, ow).transpose(1, 0, 2, 3)


def output_transform_adjoint(xp, gy):
    """The transpose of output_transform: gM = A gY A^T per tile, gy (N, OC, OH, OW) ->
    (9, OC, T)."""
    n, oc, oh, ow = gy.shape
    blocks = gy.transpose(1, 0, 2, 3).reshape(oc, n, oh // 2, 2, ow // 2, 2)
    tiles = [[blocks[:, :, :, r, :, s] for s in range(2)] for r in range(2)]
    return _stack(xp, _combine(_transpose(A_T), _transpose(A_T), tiles)).reshape(9, oc, -1)
