"""Stage 4: convolution as loops, the definition, with stride and padding, and its gradients.

A conv slides a weight w (OC, C, KH, KW) over an input x (N, C, H, W). Padding p puts p rows
and columns of zeros around each image (xp below); stride s moves the window s pixels a step.
Each output is the sum of the products of one window of xp with one filter w[o]:

    y[n, o, i, j] = sum over c, a, b of xp[n, c, i s + a, j s + b] * w[o, c, a, b],
    OH = (H + 2p - KH) // s + 1 outputs down, OW likewise across.

(Deep learning calls this convolution; mathematicians call it cross-correlation, as the
kernel is not flipped.) y is a sum of products, so by the chain rule each term hands gy[n, o,
i, j] times its partner back: to the window of xp, gy * w[o]; to w[o], gy * the window.
Windows overlap when s < KH, so those contributions are added, never overwritten. The
gradient of x is the gradient of xp without its border: the padded zeros are constants.
"""
import numpy as np

import tinygan  # the oracle: only check() uses it
import tinygan.nn.functional as F


def output_size(n, k, stride, padding):
    """How many windows of size k fit in n + 2 padding, s apart: (n + 2p - k) // s + 1."""
    return (n + 2 * padding - k) // stride + 1


def pad(x, padding):
    """x (N, C, H, W) with `padding` zeros around each image: (N, C, H + 2p, W + 2p)."""
    p = padding
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def windows(x_shape, w_shape, stride, padding):
    """Every (n, o, i, j, rows, cols): the output y[n, o, i, j] and the slices of xp under it."""
    batch, _, h, width = x_shape
    oc, _, kh, kw = w_shape
    out = (batch, oc, output_size(h, kh, stride, padding), output_size(width, kw, stride, padding))
    for n, o, i, j in np.ndindex(out):  # every index of y, the last one fastest
        rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
        yield n, o, i, j, rows, cols


def conv2d(x, w, stride=1, padding=0):
    """y[n, o, i, j] = sum over c, a, b of xp[n, c, i s + a, j s + b] w[o, c, a, b]."""
    xp = pad(x, padding)                                    # (N, C, H + 2p, W + 2p)
    batch, _, h, width = x.shape
    oc, _, kh, kw = w.shape
    y = np.zeros((batch, oc, output_size(h, kh, stride, padding),
                  output_size(width, kw, stride, padding)))  # (N, OC, OH, OW)
    for n, o, i, j, rows, cols in windows(x.shape, w.shape, stride, padding):
        y[n, o, i, j] = np.sum(xp[n, :, rows, cols] * w[o])  # (C, KH, KW) window times filter
    return y


def conv2d_input_grad(gy, w, x_shape, stride, padding):
    """gx: each window of xp collects gy[n, o, i, j] * w[o]; then the border is cut off."""
    p = padding
    batch, c, h, width = x_shape
    gxp = np.zeros((batch, c, h + 2 * p, width + 2 * p))        # (N, C, H + 2p, W + 2p)
    for n, o, i, j, rows, cols in windows(x_shape, w.shape, stride, padding):
        gxp[n, :, rows, cols] += gy[n, o, i, j] * w[o]      # += : windows overlap
    return gxp[:, :, p:p + h, p:p + width]                  # (N, C, H, W)


def conv2d_weight_grad(x, gy, w_shape, stride, padding):
    """gw[o] = sum over n, i, j of gy[n, o, i, j] * (the window of xp under y[n, o, i, j])."""
    xp = pad(x, padding)
    gw = np.zeros(w_shape)                                  # (OC, C, KH, KW)
    for n, o, i, j, rows, cols in windows(x.shape, w_shape, stride, padding):
        gw[o] += gy[n, o, i, j] * xp[n, :, rows, cols]
    return gw


# (x shape, w shape, stride, padding): the last row of the second is in no window; the third
# is the DCGAN's 4x4 stride-2 conv.
CASES = [((2, 3, 5, 6), (4, 3, 3, 2), 1, 0),
         ((2, 3, 8, 7), (4, 3, 3, 3), 2, 1),
         ((2, 3, 8, 8), (5, 3, 4, 4), 2, 1),
         ((1, 2, 7, 9), (2, 2, 2, 3), 3, 2)]


def check():
    """y, gx and gw of every case against tinygan's conv2d and its autograd (float64, loss =
    sum(y * gy) for a random gy); returns the largest error."""
    rng = np.random.default_rng(4)
    worst = 0.0
    for x_shape, w_shape, stride, padding in CASES:
        x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
        xt, wt = tinygan.tensor(x, requires_grad=True), tinygan.tensor(w, requires_grad=True)
        yt = F.conv2d(xt, wt, stride=stride, padding=padding)
        gy = rng.normal(size=yt.shape)
        (yt * tinygan.tensor(gy)).sum().backward()
        ours = {"y": conv2d(x, w, stride, padding),
                "gx": conv2d_input_grad(gy, w, x_shape, stride, padding),
                "gw": conv2d_weight_grad(x, gy, w_shape, stride, padding)}
        theirs = {"y": yt.detach().numpy(), "gx": xt.grad.numpy(), "gw": wt.grad.numpy()}
        for name, want in theirs.items():
            np.testing.assert_allclose(ours[name], want, rtol=1e-10, atol=1e-12,
                                       err_msg=f"stage 4: {name} of x {x_shape}, w {w_shape}, "
                                               f"stride {stride}, padding {padding}")
            worst = max(worst, np.abs(ours[name] - want).max())
    return worst


if __name__ == "__main__":
    x = np.arange(9.0).reshape(1, 1, 3, 3)     # (N, C, H, W) = (1, 1, 3, 3): 0 ... 8
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # (OC, C, KH, KW) = (1, 1, 2, 2)
    print("x[n, c] =", x[0, 0].tolist(), "w[o, c] =", w[0, 0].tolist())
    print("conv2d(x, w) =", conv2d(x, w)[0, 0].tolist(), "(each x[i, j] - x[i + 1, j + 1])")
    print("conv2d(x, w, stride=2, padding=1) =", conv2d(x, w, 2, 1)[0, 0].tolist())
    error = check()
    print(f"stage 4: conv2d and its gradients match tinygan in {len(CASES)} cases "
          f"(max error {error:.1e})")
