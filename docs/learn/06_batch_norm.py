"""Stage 6: batch norm in training mode, and its input gradient derived by hand.

For each channel, over its `m = N*H*W` values x_k in the batch (the batch statistics):

    mean = sum x_k / m,   var = sum (x_k - mean)^2 / m,   std = sqrt(var + eps),
    xhat_k = (x_k - mean) / std,   y_k = gamma xhat_k + beta.

gamma and beta (one each per channel) get gbeta = sum gy_k and ggamma = sum gy_k xhat_k. For x,
every xhat_i depends on every x_k through mean and std. With g = gy gamma (the gradient at
xhat) and means over the channel's m values:

    d mean/d x_k = 1/m,
    d var/d x_k = 2 (x_k - mean) / m     (the part through mean is -2 sum (x_i - mean) / m = 0),
    d std/d x_k = d var/d x_k / (2 std) = xhat_k / m,
    d xhat_i/d x_k = (delta_ik - 1/m) / std - (x_i - mean) / std^2 * xhat_k / m
                   = (delta_ik - 1/m - xhat_i xhat_k / m) / std,   delta_ik = 1 if i = k else 0,
    gx_k = sum over i of g_i d xhat_i/d x_k = (g_k - mean(g) - xhat_k mean(g xhat)) / std.

So gx is g with its mean and its component along xhat taken out: shifting or scaling a
channel's x changes no xhat, and gx is blind to those directions (it sums to 0 and is
orthogonal to xhat).
"""
import numpy as np

import tinygan  # the oracle: only check() uses it
import tinygan.nn.functional as F

AXES = (0, 2, 3)  # every axis of (N, C, H, W) but the channel axis 1


def channel_mean(a):
    """The mean of a (N, C, H, W) over each channel's N*H*W values, kept as (1, C, 1, 1)."""
    return a.mean(axis=AXES, keepdims=True)


def per_channel(v):
    """A (C,) vector as (1, C, 1, 1), to broadcast over (N, C, H, W)."""
    return v.reshape(1, -1, 1, 1)


def batch_norm(x, gamma, beta, eps=1e-5):
    """y = gamma (x - mean) / sqrt(var + eps) + beta, statistics per channel; returns y and
    what the backward needs (xhat, std, gamma)."""
    mean = channel_mean(x)                       # (1, C, 1, 1)
    var = channel_mean((x - mean) ** 2)          # biased: divided by m, not m - 1
    std = np.sqrt(var + eps)
    xhat = (x - mean) / std                      # (N, C, H, W)
    return per_channel(gamma) * xhat + per_channel(beta), (xhat, std, gamma)


def batch_norm_backward(gy, saved):
    """(gx, ggamma, gbeta) = ((g - mean(g) - xhat mean(g xhat)) / std, sum gy xhat, sum gy)."""
    xhat, std, gamma = saved
    g = gy * per_channel(gamma)                  # the gradient at xhat
    gx = (g - channel_mean(g) - xhat * channel_mean(g * xhat)) / std
    return gx, (gy * xhat).sum(axis=AXES), gy.sum(axis=AXES)


def tiny_example():
    """One channel, x = (-1, -1, 1, 1), eps = 0: mean 0, std 1, xhat = x; with gamma = 1 and
    gy = (1, 0, 0, 0): mean(g) = 1/4, mean(g xhat) = -1/4, so gx = g - 1/4 - x (-1/4) =
    (0.5, -0.5, 0, 0). Returns gx by batch_norm_backward and by central differences."""
    x = np.array([-1.0, -1.0, 1.0, 1.0]).reshape(4, 1, 1, 1)  # (N, C, H, W) = (4, 1, 1, 1)
    gamma, beta, gy = np.ones(1), np.zeros(1), np.array([1.0, 0, 0, 0]).reshape(x.shape)
    gx = batch_norm_backward(gy, batch_norm(x, gamma, beta, eps=0.0)[1])[0]
    h, differences = 1e-6, []
    for k in range(4):  # d (sum gy y)/d x_k ~ (f(x + h e_k) - f(x - h e_k)) / 2h
        step = np.zeros_like(x)
        step.flat[k] = h
        ups, downs = (np.sum(gy * batch_norm(x + s, gamma, beta, eps=0.0)[0])
                      for s in (step, -step))
        differences.append((ups - downs) / (2 * h))
    return gx.ravel(), np.array(differences)


def check():
    """The tiny example against its hand value, then y, gx, ggamma and gbeta on random data
    against tinygan's batch_norm (training) and autograd in float64; returns the largest error."""
    gx, differences = tiny_example()
    np.testing.assert_allclose(gx, [0.5, -0.5, 0, 0], atol=1e-12, err_msg="stage 6: tiny gx")
    np.testing.assert_allclose(differences, gx, atol=1e-8, err_msg="stage 6: tiny gx vs f.d.")
    rng = np.random.default_rng(6)
    worst = 0.0
    for shape in (2, 3, 4, 5), (8, 2, 1, 1), (1, 4, 3, 2):
        x, gy = rng.normal(2, 3, size=shape), rng.normal(size=shape)
        gamma, beta = rng.normal(1, 0.5, size=shape[1]), rng.normal(size=shape[1])
        xt, gt, bt = (tinygan.tensor(a, requires_grad=True) for a in (x, gamma, beta))
        yt = F.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
        (yt * tinygan.tensor(gy)).sum().backward()
        y, saved = batch_norm(x, gamma, beta, eps=1e-5)
        ours = dict(zip(("y", "gx", "ggamma", "gbeta"), (y, *batch_norm_backward(gy, saved))))
        theirs = {"y": yt.detach().numpy(), "gx": xt.grad.numpy(), "ggamma": gt.grad.numpy(),
                  "gbeta": bt.grad.numpy()}
        for name, want in theirs.items():
            np.testing.assert_allclose(ours[name], want, rtol=1e-10, atol=1e-12,
                                       err_msg=f"stage 6: {name} of x {shape}")
            worst = max(worst, np.abs(ours[name] - want).max())
    return worst


if __name__ == "__main__":
    gx, differences = tiny_example()
    print("x = (-1, -1, 1, 1), gy = (1, 0, 0, 0): by hand gx = (0.5, -0.5, 0, 0)")
    print("  batch_norm_backward:", gx.round(12),
          " central differences:", differences.round(6) + 0.0)
    error = check()
    print(f"stage 6: batch norm's output and gradients match tinygan (max error {error:.1e})")
