"""Losses, each reduced over its elements (or rows) by 'mean' (the default), 'sum' or 'none'.

The gradients below are per element, before gy and the reduction's scale multiply them:
- binary_cross_entropy: l = -(t log p + (1-t) log(1-p));  gp = (p-t) / (p (1-p)), gt = log((1-p)/p)
- binary_cross_entropy_with_logits: l = BCE(sigmoid(x), t);  gx = sigmoid(x) - t, gt = -x
- cross_entropy: l_n = logsumexp(x_n) - x_n[t_n], t labels;  gx_n = softmax(x_n) - onehot(t_n)

As PyTorch, binary_cross_entropy clamps each log at -100 (and p (1-p) at 1e-12 in gp).
"""

__all__ = ["BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy"]

import numpy as np

from ..tensor import Function, Tensor, wrap
from .activation import sigmoid, softmax
from .arithmetic import clamp, log
from .array import reshape


class _Loss(Function):
    """Shared reduction of a loss per element or per row: 'mean' (default), 'sum' or 'none'."""
    def reduce(self, loss, reduction):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.scale = 1 / loss.size if reduction == "mean" else 1
        return loss if reduction == "none" else loss.sum() * self.scale

    @staticmethod
    def check_shapes(name, x, target):
        if x.shape != target.shape:
            raise ValueError(f"{name}: target shape {target.shape} "
                             f"must equal input shape {x.shape}")


def _clamped_log(a):
    """max(log a, -100) for a Tensor a in [0, 1], as PyTorch's BCE clamps it; log never sees 0:
    a is first raised to the dtype's smallest subnormal, whose log is below -100."""
    tiny = float(np.finfo(a.dtype).smallest_subnormal)
    return clamp(log(clamp(a, min=tiny)), min=-100.0)


class BinaryCrossEntropy(_Loss):
    """loss = -(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch does;
    dloss/dp = (p - t) / (p (1 - p)) (its denominator at least 1e-12), dloss/dt = log(1-p) - log p.
    """
    def forward(self, p, target, reduction="mean"):
        self.check_shapes("binary_cross_entropy", p, target)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1], got "
                             f"values in [{float(p.min())}, {float(p.max())}]; use "
                             "binary_cross_entropy_with_logits for raw scores")
        log_p, log_q = _clamped_log(wrap(p)).array, _clamped_log(wrap(1 - p)).array
        return self.reduce(-(target * log_p + (1 - target) * log_q), reduction)

    def backward(self, gy):
        (p, t), (needs_p, needs_t) = self.inputs, self.needs_input_grad
        gy = gy * self.scale
        return (gy * (p - t) / clamp(p * (1 - p), min=1e-12) if needs_p else None,
                gy * (_clamped_log(1 - p) - _clamped_log(p)) if needs_t else None)


binary_cross_entropy = BinaryCrossEntropy.apply


class BinaryCrossEntropyWithLogits(_Loss):
    """loss = max(x, 0) - x t + log(1 + exp(-|x|)) = BCE(sigmoid(x), t), without overflow;
    dloss/dx = sigmoid(x) - t, dloss/dt = -x."""
    def forward(self, x, target, reduction="mean"):
        self.check_shapes("binary_cross_entropy_with_logits", x, target)
        xp = self.xp
        loss = xp.maximum(x, 0) - x * target + xp.log1p(xp.exp(-abs(x)))
        return self.reduce(loss, reduction)

    def backward(self, gy):
        (x, t), (needs_x, needs_t) = self.inputs, self.needs_input_grad
        gy = gy * self.scale
        return gy * (sigmoid(x) - t) if needs_x else None, gy * -x if needs_t else None


binary_cross_entropy_with_logits = BinaryCrossEntropyWithLogits.apply


class CrossEntropy(_Loss):
    """loss_n = logsumexp(x_n) - x_n[t_n] = -log softmax(x_n)[t_n], x (N, K), integer t (N,);
    gx_n = softmax(x_n) - onehot(t_n)."""
    def forward(self, x, target, reduction="mean"):
        if x.ndim != 2:
            raise ValueError(f"cross_entropy: expected logits (N, K), got shape {x.shape}")
        _check_labels(target, x.shape)
        xp = self.xp
        shifted = x - x.max(axis=1, keepdims=True)  # (N, K), largest logit 0: exp cannot overflow
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))  # log softmax
        rows = xp.arange(x.shape[0])
        self.onehot = xp.zeros_like(x)  # (N, K)
        self.onehot[rows, target] = 1
        return self.reduce(-log_p[rows, target], reduction)

    def backward(self, gy):
        x, = self.inputs
        return (softmax(x, axis=1) - wrap(self.onehot)) * reshape(gy * self.scale, (-1, 1))


def _check_labels(target, logits_shape):
    """Labels must be integers of shape (N,) in [0, K) for logits (N, K)."""
    n, k = logits_shape
    if target.dtype.kind not in "iu" or target.shape != (n,):
        raise ValueError(f"cross_entropy: target must be integer class labels of shape ({n},), "
                         f"got dtype {target.dtype} shape {target.shape}")
    if n and (int(target.min()) < 0 or int(target.max()) >= k):
        raise ValueError(f"cross_entropy: labels must lie in [0, {k}) for {k} classes, got "
                         f"values in [{int(target.min())}, {int(target.max())}]")


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy of logits (N, K) against integer labels (N,) (a Tensor or array)."""
    labels = target.array if isinstance(target, Tensor) else input.backend.asarray(target)
    return CrossEntropy.apply(input, target=labels, reduction=reduction)
