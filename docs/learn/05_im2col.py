"""Stage 5: im2col and col2im: a conv as one matrix product, and its backward as two more.

im2col ("image to columns") copies every window of the padded input xp into a column of a
matrix col, shape `(C*KH*KW, N*OH*OW)`: row (c, a, b) holds xp[n, c, i s + a, j s + b] at
column (n, i, j). Stage 4's sum over c, a, b is then a row of w times a column of col, all at
once:

    y = w_mat @ col,  w_mat = w as (OC, C*KH*KW),  y as (OC, N*OH*OW).

im2col is linear in x, and its backward needs its adjoint. The adjoint of a linear map A is
the map A* with `<A x, c> = <x, A* c>` for every x and c, where `<u, v>` is the sum of u v
over all elements (for a matrix A, A* is its transpose). The chain rule gives `gx = A* gy` for
any linear y = A x, since `<gy, A dx> = <A* gy, dx>`. im2col's adjoint is col2im: it adds
every column back onto the window it came from (adds: a pixel in several windows collects
from each), then drops the padding. So the conv's gradients are matrix products too:

    gw_mat = gy_mat @ col.T,    gx = col2im(w_mat.T @ gy_mat).
"""
import numpy as np

import tinygan  # the oracle: only check() uses it
import tinygan.nn.functional as F


def output_size(n, k, stride, padding):
    """How many windows of size k fit in n + 2 padding, s apart: (n + 2p - k) // s + 1."""
    return (n + 2 * padding - k) // stride + 1


def im2col(x, kh, kw, stride, padding):
    """col[(c, a, b), (n, i, j)] = xp[n, c, i s + a, j s + b]: (C*KH*KW, N*OH*OW)."""
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))          # (N, C, H + 2p, W + 2p)
    col = np.empty((c, kh, kw, n, oh, ow))
    for a in range(kh):  # one kernel position (a, b) at a time: xp[.., i s + a, j s + b]
        for b in range(kw):  # for every output (i, j) is one strided slice
            window = xp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride]  # (N, C, OH, OW)
            col[:, a, b] = window.transpose(1, 0, 2, 3)
    return col.reshape(c * kh * kw, n * oh * ow)


def col2im(col, x_shape, kh, kw, stride, padding):
    """The adjoint of im2col: each entry of col added back where im2col read it, (N, C, H, W)."""
    n, c, h, w = x_shape
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    p = padding
    col = col.reshape(c, kh, kw, n, oh, ow)
    xp = np.zeros((n, c, h + 2 * p, w + 2 * p))
    for a in range(kh):
        for b in range(kw):
            xp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride] += (
                col[:, a, b].transpose(1, 0, 2, 3))
    return xp[:, :, p:p + h, p:p + w]


def conv2d(x, w, stride=1, padding=0):
    """y = w_mat @ im2col(x), (OC, N*OH*OW) seen as (N, OC, OH, OW)."""
    n, _, h, width = x.shape
    oc, _, kh, kw = w.shape
    y = w.reshape(oc, -1) @ im2col(x, kh, kw, stride, padding)  # (OC, N*OH*OW)
    oh, ow = output_size(h, kh, stride, padding), output_size(width, kw, stride, padding)
    return y.reshape(oc, n, oh, ow).transpose(1, 0, 2, 3)      # (N, OC, OH, OW)


def conv2d_backward(gy, x, w, stride, padding):
    """(gx, gw) = (col2im(w_mat.T @ gy_mat), gy_mat @ im2col(x).T)."""
    oc, _, kh, kw = w.shape
    gy_mat = gy.transpose(1, 0, 2, 3).reshape(oc, -1)          # (OC, N*OH*OW)
    gx = col2im(w.reshape(oc, -1).T @ gy_mat, x.shape, kh, kw, stride, padding)
    gw = gy_mat @ im2col(x, kh, kw, stride, padding).T         # (OC, C*KH*KW)
    return gx, gw.reshape(w.shape)


# (x shape, w shape, stride, padding), as in stage 4.
CASES = [((2, 3, 5, 6), (4, 3, 3, 2), 1, 0),
         ((2, 3, 8, 7), (4, 3, 3, 3), 2, 1),
         ((2, 3, 8, 8), (5, 3, 4, 4), 2, 1),
         ((1, 2, 7, 9), (2, 2, 2, 3), 3, 2)]


def check():
    """<im2col(x), c> = <x, col2im(c)>, then y, gx and gw against tinygan's conv2d and its
    autograd, float64; returns the largest error."""
    rng = np.random.default_rng(5)
    worst = 0.0
    for x_shape, w_shape, stride, padding in CASES:
        x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
        kernel = w_shape[2:]
        c = rng.normal(size=im2col(x, *kernel, stride, padding).shape)
        left = np.sum(im2col(x, *kernel, stride, padding) * c)
        right = np.sum(x * col2im(c, x_shape, *kernel, stride, padding))
        assert abs(left - right) <= 1e-12 * abs(left), (
            f"stage 5: col2im is not im2col's adjoint for {x_shape}: {left} != {right}")
        xt, wt = tinygan.tensor(x, requires_grad=True), tinygan.tensor(w, requires_grad=True)
        yt = F.conv2d(xt, wt, stride=stride, padding=padding)
        gy = rng.normal(size=yt.shape)
        (yt * tinygan.tensor(gy)).sum().backward()
        ours = dict(zip(("y", "gx", "gw"), (conv2d(x, w, stride, padding),
                                            *conv2d_backward(gy, x, w, stride, padding))))
        theirs = {"y": yt.detach().numpy(), "gx": xt.grad.numpy(), "gw": wt.grad.numpy()}
        for name, want in theirs.items():
            np.testing.assert_allclose(ours[name], want, rtol=1e-10, atol=1e-12,
                                       err_msg=f"stage 5: {name} of x {x_shape}, w {w_shape}, "
                                               f"stride {stride}, padding {padding}")
            worst = max(worst, np.abs(ours[name] - want).max())
    return worst


if __name__ == "__main__":
    x = np.arange(9.0).reshape(1, 1, 3, 3)  # (N, C, H, W) = (1, 1, 3, 3): 0 ... 8
    print("im2col of a 3x3 image for a 2x2 kernel: a row per kernel position (a, b),\n"
          "a column per output (i, j):\n", im2col(x, 2, 2, 1, 0))
    print("col2im(ones): in how many windows each pixel lies:\n",
          col2im(np.ones((4, 4)), x.shape, 2, 2, 1, 0)[0, 0])
    c = np.random.default_rng(0).normal(size=(4, 4))  # any col matrix
    print(f"<im2col(x), c> = {np.sum(im2col(x, 2, 2, 1, 0) * c):.12f}, "
          f"<x, col2im(c)> = {np.sum(x * col2im(c, x.shape, 2, 2, 1, 0)):.12f}")
    error = check()
    print(f"stage 5: col2im is im2col's adjoint, and conv2d and its gradients match tinygan "
          f"in {len(CASES)} cases (max error {error:.1e})")
