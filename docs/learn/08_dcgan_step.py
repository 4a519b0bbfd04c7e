"""Stage 8: one DCGAN training step, from the pieces of stages 5 to 7, plus Adam.

G maps noise z (N, nz, 1, 1) to images (N, 3, 32, 32), D an image to a logit. Each op returns
its output and its backward, gy -> (gx, its weights' gradients); forward() chains the backwards
of a list of ops in reverse. The step has the DCGAN paper's two phases:
1. D: loss_D = BCE(D(x), 1) + BCE(D(G(z)), 0), the fakes taken as plain data ("detached": no
   gradient flows into G); one Adam step on D's weights.
2. G: loss_G = BCE(D(G(z)), 1) through the updated D (the "non-saturating" loss): the gradient
   flows through D, whose weight gradients are dropped (D is "frozen"), into G; one Adam step.
"""
import importlib.util
from pathlib import Path

import numpy as np

import tinygan  # the oracle: only check() uses it
from tinygan.gan import dcgan, recipes


def earlier_stage(name):
    """docs/learn/<name>.py as a module (its name starts with a digit: `import` cannot)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    stage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stage)
    return stage


# Stage 5: im2col, col2im (its adjoint), conv2d and conv2d_backward: gy -> (gx, gw).
# Stage 6: batch_norm -> (y, saved) and batch_norm_backward(gy, saved) -> (gx, ggamma, gbeta).
# Stage 7: bce_with_logits(z, y) = mean(softplus(z) - y z) and its gradient (sigmoid(z) - y) / N.
stage5, stage6, stage7 = map(earlier_stage, ("05_im2col", "06_batch_norm", "07_bce_on_logits"))


def conv2d(x, w, s, p):
    """y = w_mat @ im2col(x), w (OC, C, K, K) (stage 5), and its backward gy -> (gx, gw)."""
    return stage5.conv2d(x, w, s, p), lambda gy: stage5.conv2d_backward(gy, x, w, s, p)


def conv_transpose2d(x, w, s, p):
    """y = col2im(w_mat.T @ x_mat), w (C_in, C_out, K, K): conv2d's input gradient used as a
    layer, which goes up in size. Its backward is conv2d's forward, gx = conv2d(gy, w), and
    conv2d's weight gradient with x in the role of conv2d's gy."""
    (n, _, h, _), (c_in, c_out, k, _) = x.shape, w.shape
    size = (h - 1) * s - 2 * p + k
    x_mat = x.transpose(1, 0, 2, 3).reshape(c_in, -1)                   # (C_in, N*H*W)
    y = stage5.col2im(w.reshape(c_in, -1).T @ x_mat, (n, c_out, size, size), k, k, s, p)
    return y, lambda gy: (stage5.conv2d(gy, w, s, p), stage5.conv2d_backward(x, gy, w, s, p)[1])


def batch_norm(x, gamma, beta):
    """Stage 6's training-mode batch norm, and its backward gy -> (gx, ggamma, gbeta)."""
    y, saved = stage6.batch_norm(x, gamma, beta)
    return y, lambda gy: stage6.batch_norm_backward(gy, saved)


def leaky_relu(x, slope):
    """y = x where x > 0, else slope x (slope 0: ReLU); gx = gy, or slope gy."""
    return np.where(x > 0, x, slope * x), lambda gy: (np.where(x > 0, gy, slope * gy),)


def tanh(x):
    """y = tanh(x); gx = gy (1 - y^2)."""
    return np.tanh(x), lambda gy: (gy * (1 - np.tanh(x) ** 2),)


def bce(z, y):
    """Stage 7: the mean of softplus(z) - y z over the N logits, and its gradient."""
    return stage7.bce_with_logits(z, y), stage7.bce_with_logits_grad(z, y)


OPS = {"conv": (conv2d, 1), "convT": (conv_transpose2d, 1), "bn": (batch_norm, 2),
       "leaky": (leaky_relu, 0), "tanh": (tanh, 0)}  # op, how many weights it takes
G_LAYERS = ([("convT", 1, 0), ("bn",), ("leaky", 0.0)]      # (N, 8 ngf, 4, 4)
            + [("convT", 2, 1), ("bn",), ("leaky", 0.0)] * 3  # (N, ngf, 32, 32)
            + [("conv", 1, 1), ("tanh",)])                    # (N, 3, 32, 32) in [-1, 1]
D_LAYERS = ([("conv", 2, 1), ("leaky", 0.2)]                 # (N, ndf, 16, 16)
            + [("conv", 2, 1), ("bn",), ("leaky", 0.2)] * 2  # (N, 4 ndf, 4, 4)
            + [("conv", 1, 0)])                              # (N, 1, 1, 1): a logit each
# D's scores stay (N, 1, 1, 1) here, and bce takes them so; the library's Discriminator
# (tinygan/gan/dcgan.py) flattens them to (N,), one logit per image, as its losses expect.


def forward(layers, weights, x):
    """x through the layers; returns the output and backward: gy -> (gx, a gradient per weight)."""
    backwards, used = [], 0
    for kind, *settings in layers:
        op, count = OPS[kind]
        x, backward_of_op = op(x, *weights[used:used + count], *settings)
        backwards.append(backward_of_op)
        used += count

    def backward(gy):
        grads = []
        for backward_of_op in reversed(backwards):
            gy, *weight_grads = backward_of_op(gy)
            grads = weight_grads + grads
        return gy, grads
    return x, backward


def adam(weights, grads, state, lr=2e-4, b1=0.5, b2=0.999, eps=1e-8):
    """One Adam step in place: running means m of g and v of g^2, each divided by 1 - b^t to
    undo its start at 0 (t counts steps; state is {} at first), then w -= lr m / (sqrt v + eps)."""
    t = state["t"] = state.get("t", 0) + 1
    for i, (w, g) in enumerate(zip(weights, grads)):
        m, v = state.setdefault(i, (np.zeros_like(w), np.zeros_like(w)))
        m[...] = b1 * m + (1 - b1) * g
        v[...] = b2 * v + (1 - b2) * g * g
        w -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)


def train_step(g_weights, d_weights, g_state, d_state, real, z):
    """The two phases; returns loss_D, loss_G and the gradients of D's and of G's weights."""
    fake, g_backward = forward(G_LAYERS, g_weights, z)          # (N, 3, 32, 32)
    real_scores, real_backward = forward(D_LAYERS, d_weights, real)
    fake_scores, fake_backward = forward(D_LAYERS, d_weights, fake)  # fake as data: detached
    (loss_real, g_real), (loss_fake, g_fake) = bce(real_scores, 1.0), bce(fake_scores, 0.0)
    d_grads = [a + b for a, b in zip(real_backward(g_real)[1], fake_backward(g_fake)[1])]
    adam(d_weights, d_grads, d_state)
    scores, d_backward = forward(D_LAYERS, d_weights, fake)     # the updated D
    loss_g, g_scores = bce(scores, 1.0)
    g_grads = g_backward(d_backward(g_scores)[0])[1]  # via D's input; D's weight grads unused
    adam(g_weights, g_grads, g_state)
    return loss_real + loss_fake, loss_g, d_grads, g_grads


def check(nz=8, width=2, batch=4):
    """This step against tinygan's recipes.train_step from the same float64 weights and data:
    losses, every gradient, every updated weight; returns the largest relative error."""
    G, D = dcgan.Generator(nz=nz, ngf=width).double(), dcgan.Discriminator(ndf=width).double()
    g_weights, d_weights = ([p.numpy().copy() for p in m.parameters()] for m in (G, D))
    rng = np.random.default_rng(8)
    real, z = rng.uniform(-1, 1, (batch, 3, 32, 32)), rng.normal(size=(batch, nz, 1, 1))
    ours = train_step(g_weights, d_weights, {}, {}, real, z)
    opt_g, opt_d = (tinygan.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (G, D))
    metrics = recipes.train_step(G, D, opt_g, opt_d, tinygan.tensor(real), tinygan.tensor(z))
    pairs = [("loss_D", ours[0], metrics["loss_D"]), ("loss_G", ours[1], metrics["loss_G"])]
    for net, grads, weights, module in ("D", ours[2], d_weights, D), ("G", ours[3], g_weights, G):
        for i, p in enumerate(module.parameters()):
            pairs += [(f"{net} gradient {i}", grads[i], p.grad.numpy()),
                      (f"{net} weight {i} after Adam", weights[i], p.numpy())]
    errors = [np.max(np.abs(mine - want)) / np.max(np.abs(want)) for _, mine, want in pairs]
    for (name, _, _), error in zip(pairs, errors):
        assert error < 1e-9, f"stage 8: {name} differs from tinygan's by {error:.1e} (relative)"
    return max(errors), metrics


if __name__ == "__main__":
    error, metrics = check()
    print(f"stage 8: one DCGAN step (loss_D {metrics['loss_D']:.4f}, loss_G "
          f"{metrics['loss_G']:.4f}): losses, gradients and Adam updates match tinygan's "
          f"train_step (max relative error {error:.1e})")
