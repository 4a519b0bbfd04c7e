"""Stage 7: binary cross-entropy on logits, in the form that cannot overflow; its gradient.

D gives each image a logit z (any real number); p = sigmoid(z) = 1 / (1 + exp(-z)) is its
probability of being real. Against a target y in [0, 1] (1: real, 0: fake) the binary
cross-entropy is

    l = -(y log p + (1 - y) log(1 - p)).

Computed that way it breaks: for z > 37, p rounds to 1.0 in float64 and log(1 - p) = -inf;
for z < -709, exp(-z) overflows. Write it with softplus(t) = log(1 + exp(t)) instead: since
log p = -softplus(-z), log(1 - p) = -softplus(z) and softplus(-z) = softplus(z) - z,

    l = y softplus(-z) + (1 - y) softplus(z) = softplus(z) - y z.

softplus(z) = log(exp(0) + exp(z)) is a log-sum-exp: take the larger of the two terms out,
and what is left inside the log is in (1, 2], so nothing overflows:

    softplus(z) = max(z, 0) + log(1 + exp(-|z|))      (log1p keeps its precision near 0).

Its derivative is sigmoid(z), so dl/dz = sigmoid(z) - y: how far the probability is from the
target. The loss is the mean over the N logits, so each gradient is also divided by N.
"""
import numpy as np

import tinygan  # the oracle: only check() uses it
import tinygan.nn.functional as F


def softplus(z):
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)): exp only ever sees numbers <= 0."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def sigmoid(z):
    """1 / (1 + exp(-z)) = exp(-softplus(-z)): no overflow for any z."""
    return np.exp(-softplus(-z))


def bce_with_logits(z, y):
    """The mean over all elements of softplus(z) - y z."""
    return np.mean(softplus(z) - y * z)


def bce_with_logits_grad(z, y):
    """d mean(l)/dz = (sigmoid(z) - y) / N, N the number of elements."""
    return (sigmoid(z) - y) / z.size


def naive_bce(z, y):
    """-(y log p + (1 - y) log(1 - p)) with p = sigmoid(z) computed first: overflows."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        p = 1 / (1 + np.exp(-z))
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def check():
    """The mean loss and its gradient against tinygan's binary_cross_entropy_with_logits and
    autograd in float64, soft targets and logits up to +-800 included; returns the largest
    relative error."""
    rng = np.random.default_rng(7)
    worst = 0.0
    for shape, scale in ((16,), 1.0), ((4, 1, 1, 1), 5.0), ((3, 7), 50.0):
        z = rng.normal(scale=scale, size=shape)
        z.flat[:2] = 800.0, -800.0
        y = rng.choice([0.0, 0.9, 1.0], size=shape)
        zt = tinygan.tensor(z, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(zt, tinygan.tensor(y))
        loss.backward()
        pairs = [("loss", bce_with_logits(z, y), loss.item()),
                 ("gradient", bce_with_logits_grad(z, y), zt.grad.numpy())]
        for name, ours, want in pairs:
            np.testing.assert_allclose(ours, want, rtol=1e-12, atol=1e-15,
                                       err_msg=f"stage 7: {name} for logits of shape {shape}")
            scale_of = np.maximum(np.abs(want), 1e-300)
            worst = max(worst, float(np.max(np.abs(ours - want) / scale_of)))
    return worst


if __name__ == "__main__":
    print("   z     y   naive       stable      sigmoid(z) - y")
    for z, y in (-800.0, 1.0), (-40.0, 1.0), (0.0, 1.0), (40.0, 0.0), (800.0, 0.0):
        z, y = np.array(z), np.array(y)
        print(f"{z:6.0f} {y:4.0f}   {naive_bce(z, y):<10.4g}  {softplus(z) - y * z:<10.4g}  "
              f"{sigmoid(z) - y:+.4g}")
    error = check()
    print(f"stage 7: BCE on logits and its gradient match tinygan (max relative error "
          f"{error:.1e})")
