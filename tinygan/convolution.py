"""How the three products of one convolution are computed: three routes, chosen in one place.

A conv2d of x (N, C, H, W) with w (OC, C, KH, KW) into y (N, OC, OH, OW) has three products,
and conv_transpose2d, its adjoint, has the same three in other roles:
    correlate(x, w)          y = conv2d(x, w)                  = conv_transpose2d's input grad
    correlate_adjoint(g, w)  gx of y for gy = g                = conv_transpose2d(g, w)
    kernel_grad(x, g)        gw of y for gy = g, a correlation of x with g (both ops')
Every route computes them as matrix products; they differ in which matrix they build:

- InputCols, the plain route: col = im2col(x), (C*KH*KW, N*OH*OW):
      y = w @ col;  gx = col2im(w.T @ gy);  gw = gy @ col.T
- OutputCols, for stride 1 where the output side's matrix is smaller: with w flipped
  (in and out channels swapped, taps reversed) and padding K - 1 - p, the same products use
  (OC*KH*KW, N*H*W) matrices: gx = flip(w) @ im2col(gy); y = col2im(flip(w).T @ x); gw the
  flip of x @ im2col(gy).T. The DCGAN's last 3x3 conv (64 -> 3) builds 27 rows, not 576.
- Winograd F(4x4, 2x2), where the backend says it applies (backend.winograd_applies: on the
  CPU, the stride-2 4x4 convs): the same products on transformed tiles (backend/winograd.py),
  25/64 of the multiply-adds: y = output(U @ V); gx = input_adjoint(U.T @ gM);
  gw = filter_adjoint(gM @ V.T), with U = filter(w), V = input(x), gM = output_adjoint(gy).

A route belongs to one Function and keeps what it builds (a col, U, V, gM) for the other
products of that Function, which see the same arrays in the same roles.
"""
from .backend.layout import conv_output_size, images


def choose(backend, image_size, kernel, stride, padding, in_channels, out_channels, batch):
    """The route for a conv2d over ``batch`` images of ``image_size`` with these settings."""
    out_size = conv_output_size(image_size, kernel, stride, padding)
    geometry = (backend, image_size, out_size, tuple(kernel), tuple(stride), tuple(padding))
    if backend.winograd_applies(image_size, kernel, stride, padding, in_channels, batch):
        return Winograd(*geometry)
    flip_padding = [k - 1 - p for k, p in zip(kernel, padding)]
    output_side_smaller = (out_channels * image_size[0] * image_size[1]
                           < in_channels * out_size[0] * out_size[1])
    if tuple(stride) == (1, 1) and min(flip_padding) >= 0 and output_side_smaller:
        return OutputCols(*geometry)
    return InputCols(*geometry)


class Route:
    """A conv2d geometry on a backend, and what its products have built so far."""

    def __init__(self, backend, image_size, out_size, kernel, stride, padding):
        self.backend, self.xp = backend, backend.xp
        self.image_size, self.out_size = image_size, out_size
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.built = {}

    def once(self, key, build):
        """build() the first time ``key`` is asked for, the same array after."""
        if key not in self.built:
            self.built[key] = build()
        return self.built[key]


def rows(a):
    """(N, C, H, W) -> (C, N*H*W): one matrix row per channel (a view if a is channel-major)."""
    return a.transpose(1, 0, 2, 3).reshape(a.shape[1], -1)


def correlate(col, w):
    """y[n, o, oh, ow] = sum over c, i, j of w[o, c, i, j] col[c, i, j, n, oh, ow]"""
    c, kh, kw, n, oh, ow = col.shape
    y = w.reshape(w.shape[0], -1) @ col.reshape(c * kh * kw, -1)  # (OC, N*OH*OW)
    return images(y.reshape(w.shape[0], n, oh, ow))  # (N, OC, OH, OW), channel-major


def kernel_grad(g, col):
    """gw[o, c, i, j] = sum over n, oh, ow of g[n, o, oh, ow] col[c, i, j, n, oh, ow]"""
    c, kh, kw = col.shape[:3]
    gw = rows(g) @ col.reshape(c * kh * kw, -1).T  # (OC, C*KH*KW)
    return gw.reshape(g.shape[1], c, kh, kw)


def correlate_adjoint(backend, g, w, image_size, stride, padding):
    """gx = col2im(gcol), gcol[c, i, j, n, oh, ow] = sum over o of w[o, c, i, j] g[n, o, oh, ow]"""
    oc, c, kh, kw = w.shape
    gcol = w.reshape(oc, -1).T @ rows(g)  # (C*KH*KW, N*OH*OW)
    gcol = gcol.reshape(c, kh, kw, g.shape[0], *g.shape[2:])  # (C, KH, KW, N, OH, OW)
    return backend.col2im(gcol, image_size, stride, padding)


def flip(xp, w):
    """w[o, c, i, j] -> w[c, o, KH-1-i, KW-1-j], its own inverse. With stride 1,
    conv2d(x, w, padding p) = conv_transpose2d(x, flip(w), padding K-1-p), and vice versa."""
    return xp.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


class InputCols(Route):
    """The plain route: one col of the input side, (C*KH*KW, N*OH*OW)."""

    def col(self, x):
        return self.once("col", lambda: self.backend.im2col(x, self.kernel, self.stride,
                                                            self.padding))

    def correlate(self, x, w):
        return correlate(self.col(x), w)

    def correlate_adjoint(self, g, w):
        return correlate_adjoint(self.backend, g, w, self.image_size, self.stride, self.padding)

    def kernel_grad(self, x, g):
        return kernel_grad(g, self.col(x))


class OutputCols(Route):
    """Stride 1, the output side's matrices: (OC*KH*KW, N*H*W), the kernel flipped."""

    def flip_padding(self):
        return tuple(k - 1 - p for k, p in zip(self.kernel, self.padding))

    def col(self, g):  # (OC, KH, KW, N, H, W)
        return self.once("col", lambda: self.backend.im2col(g, self.kernel, (1, 1),
                                                            self.flip_padding()))

    def flipped(self, w):  # (C, OC, KH, KW)
        return self.once("flipped", lambda: flip(self.xp, w))

    def correlate(self, x, w):
        return correlate_adjoint(self.backend, x, self.flipped(w), self.out_size, (1, 1),
                                 self.flip_padding())

    def correlate_adjoint(self, g, w):
        return correlate(self.col(g), self.flipped(w))

    def kernel_grad(self, x, g):
        return flip(self.xp, kernel_grad(x, self.col(g)))


class Winograd(Route):
    """Winograd F(4x4, 2x2) on transformed tiles: U of w, V of x, gM of the output side."""

    def u(self, w):  # (25, OC, 4C)
        return self.once("u", lambda: self.backend.winograd_filter(w))

    def v(self, x):  # (25, 4C, T)
        return self.once("v", lambda: self.backend.winograd_input(x))

    def gm(self, g):  # (25, OC, T)
        return self.once("gm", lambda: self.backend.winograd_output_adjoint(g))

    def correlate(self, x, w):
        m = self.backend.winograd_products(self.u(w), self.v(x))  # (25, OC, T)
        return self.backend.winograd_output(m, x.shape[0], self.out_size)

    def correlate_adjoint(self, g, w):
        gv = self.backend.winograd_products(self.u(w).transpose(0, 2, 1), self.gm(g))
        return self.backend.winograd_input_adjoint(gv, self.image_size)  # (N, C, H, W)

    def kernel_grad(self, x, g):
        gu = self.backend.winograd_products(self.gm(g), self.v(x).transpose(0, 2, 1))
        return self.backend.winograd_filter_adjoint(gu, x.shape[1])  # (OC, C, 4, 4)
