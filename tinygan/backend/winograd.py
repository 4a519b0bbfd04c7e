"""Winograd F(4x4, 2x2) for stride-2 4x4 convolutions with padding 1, as plain array code.

A conv2d with kernel 4, stride 2 and padding 1 is a stride-1 2x2 conv of the space-to-depth
of its padded input x_p, over 4C channels (c, bh, bw):
    X[c, bh, bw, n, m, l] = x_p[n, c, 2m + bh, 2l + bw]
    W[o, c, bh, bw, a, b] = w[o, c, 2a + bh, 2b + bw]
Winograd's F(4, 2) gets each 4x4 output tile of that conv from the 5x5 tile d of X under it
with 25 products instead of 64:
    y_tile = A^T [(G W G^T) * (B^T d B)] A
with the matrices below, from the Toom-Cook interpolation points 0, 1, -1, 2 and infinity
(B^T and A^T have small integer entries; G carries the interpolation's 1/2 and 1/6). Summed
over the 4C channels, the 25 products per tile become 25 matrix products, one per transform
position uv:
    M[uv] (OC, T) = U[uv] (OC, 4C) @ V[uv] (4C, T),  U = G W G^T,  V = B^T d B,  T = N*OH/4*OW/4
tiles in (n, tile row, tile column) order: 25/64 of im2col's multiply-adds. Each transform's
adjoint (its transpose) carries gradients back, so conv2d's three products and
conv_transpose2d's (its adjoint) all run in the transformed domain.

These functions take the array module ``xp``; the CPU backend runs numba twins of them
(cpu_winograd.py) and the tests check those against these.
"""
TILE, ALPHA = 4, 5  # output tile side m; input tile side m + 1 (the 2x2 kernel adds one)
B_T = ((2, -1, -2, 1, 0),  # input transform, 5x5 tile -> 5x5
       (0, 2, 1, -1, 0),
       (0, -2, 3, -1, 0),
       (0, -1, 0, 1, 0),
       (0, 2, -1, -2, 1))
G = ((1 / 2, 0.0), (1 / 2, 1 / 2), (1 / 6, -1 / 6), (1 / 6, 1 / 3), (0.0, 1.0))  # 2x2 -> 5x5
A_T = ((1, 1, 1, 1, 0),  # output transform, 5x5 -> 4x4 tile
       (0, 1, -1, 2, 0),
       (0, 1, 1, 4, 0),
       (0, 1, -1, 8, 1))
# With few input channels the products are thin (4C rows) and the transforms' passes over
# memory cost more than the multiply-adds they save: on the CPU, Winograd wins from 8 input
# channels on (docs/performance.md).
MIN_CHANNELS = 8


def applies(image_size, kernel, stride, padding, in_channels):
    """Whether a conv2d with these settings (image_size: its input's H, W) runs here: kernel
    4, stride 2, padding 1, an output of whole 4x4 tiles (H, W multiples of 8), and at least
    MIN_CHANNELS input channels."""
    return (tuple(kernel) == (4, 4) and tuple(stride) == (2, 2) and tuple(padding) == (1, 1)
            and image_size[0] % (2 * TILE) == 0 and image_size[1] % (2 * TILE) == 0
            and in_channels >= MIN_CHANNELS)


def tiles(image_size, batch):
    """The 4x4 output tiles of a stride-2 conv over ``batch`` images: batch x H/8 x W/8."""
    return batch * (image_size[0] // (2 * TILE)) * (image_size[1] // (2 * TILE))


def _combine(left, right, blocks):
    """out[u][v] = sum over i, j of left[u][i] * right[v][j] * blocks[i][j] (a list of lists),
    skipping zero coefficients."""
    return [[sum(lu[i] * rv[j] * blocks[i][j] for i in range(len(lu)) for j in range(len(rv))
                 if lu[i] and rv[j]) for rv in right] for lu in left]


def _transpose(matrix):
    return tuple(zip(*matrix))


def _stack(xp, grid):
    """An ALPHA x ALPHA list of lists of equal arrays as one (ALPHA^2, ...) array, uv =
    ALPHA u + v first."""
    return xp.stack([block for row in grid for block in row])


def filter_transform(xp, w):
    """U[uv] = G W G^T for w (OC, C, 4, 4): (ALPHA^2, OC, 4C), its columns in (c, bh, bw)
    order."""
    oc, c = w.shape[:2]
    w6 = w.reshape(oc, c, 2, 2, 2, 2)  # (OC, C, a, bh, b, bw)
    taps = [[w6[:, :, a, :, b, :] for b in range(2)] for a in range(2)]  # each (OC, C, 2, 2)
    return _stack(xp, _combine(G, G, taps)).reshape(ALPHA ** 2, oc, 4 * c)


def filter_transform_adjoint(xp, gu, in_channels):
    """gw = G^T gU G, the transpose of filter_transform: (ALPHA^2, OC, 4C) -> (OC, C, 4, 4)."""
    oc = gu.shape[1]
    blocks = gu.reshape(ALPHA, ALPHA, oc, in_channels, 2, 2)
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
    """The ALPHA x ALPHA tiles of a (..., TILE rows + 1, TILE cols + 1) with stride TILE, as
    views tiles[i][j]: tiles[i][j][..., p, q] = a[..., TILE p + i, TILE q + j]."""
    return [[a[..., i:i + TILE * rows:TILE, j:j + TILE * cols:TILE] for j in range(ALPHA)]
            for i in range(ALPHA)]


def input_transform(xp, x):
    """V[uv] = B^T d B over every tile d of the space-to-depth of x (N, C, H, W):
    (ALPHA^2, 4C, T), rows in (c, bh, bw) order."""
    n, c, h, w = x.shape
    v = _combine(B_T, B_T, _tiles(_space_to_depth(xp, x), h // (2 * TILE), w // (2 * TILE)))
    return _stack(xp, v).reshape(ALPHA ** 2, 4 * c, -1)


def input_transform_adjoint(xp, gv, image_size):
    """The transpose of input_transform: gx (N, C, H, W), each tile's B gV B^T added back
    where the tile was read (neighbouring tiles share a row or column)."""
    (h, w), c = image_size, gv.shape[1] // 4
    rows, cols = h // (2 * TILE), w // (2 * TILE)
    n = gv.shape[2] // (rows * cols)
    blocks = gv.reshape(ALPHA, ALPHA, c, 2, 2, n, rows, cols)
    g_space = xp.zeros((c, 2, 2, n, TILE * rows + 1, TILE * cols + 1), gv.dtype)
    g_tiles = _tiles(g_space, rows, cols)
    for i, row in enumerate(_combine(_transpose(B_T), _transpose(B_T), blocks)):
        for j, g in enumerate(row):
            g_tiles[i][j] += g
    g_padded = g_space.transpose(3, 0, 4, 1, 5, 2).reshape(n, c, h + 2, w + 2)
    return g_padded[:, :, 1:-1, 1:-1]


def output_transform(xp, m, n, out_size):
    """y = A^T M A per tile: M (ALPHA^2, OC, T) -> y (N, OC, OH, OW)."""
    oc, (oh, ow) = m.shape[1], out_size
    blocks = m.reshape(ALPHA, ALPHA, oc, n, oh // TILE, ow // TILE)
    y = _combine(A_T, A_T, blocks)  # y[r][s][o, n, p, q] = output (n, o, TILE p + r, TILE q + s)
    stacked = xp.stack([xp.stack(row, axis=-1) for row in y], axis=-3)  # (OC, N, P, 4, Q, 4)
    return stacked.reshape(oc, n, oh, ow).transpose(1, 0, 2, 3)


def output_transform_adjoint(xp, gy):
    """The transpose of output_transform: gM = A gY A^T per tile, gy (N, OC, OH, OW) ->
    (ALPHA^2, OC, T)."""
    n, oc, oh, ow = gy.shape
    blocks = gy.transpose(1, 0, 2, 3).reshape(oc, n, oh // TILE, TILE, ow // TILE, TILE)
    tiles = [[blocks[:, :, :, r, :, s] for s in range(TILE)] for r in range(TILE)]
    grid = _combine(_transpose(A_T), _transpose(A_T), tiles)
    return _stack(xp, grid).reshape(ALPHA ** 2, oc, -1)
