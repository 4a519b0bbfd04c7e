"""Normalisation: x standardised, xhat = (x - mean) / std with std = sqrt(var + eps) (var
biased), then scaled and shifted per channel, y = gamma xhat + beta. With g = gy gamma and
the means over the axes the statistics were taken over:
- batch_norm: statistics per channel;  gx = (g - mean(g) - xhat mean(g xhat)) / std (eval: g / std)
- instance_norm: statistics per (sample, channel), over H and W;  gx as batch_norm's
- layer_norm: statistics per sample, over C, H and W;  gx as batch_norm's
- all three: ggamma = sum(gy xhat), gbeta = sum(gy), over every axis but 1
- spectral_normalize: y = W / sigma, sigma = u^T W v;  gW = (gy - <gy, y> u v^T) / sigma
"""

__all__ = ["BatchNorm", "Normalize", "SpectralNormalize", "batch_norm", "instance_norm",
           "layer_norm", "spectral_normalize"]

import numbers

from ..tensor import Function, is_grad_enabled, wrap
from .activation import _LeakyReLUJacobian
from .array import reshape
from .conv import _tensors


class BatchNorm(Function):
    """y = act(gamma * (x - mean) / sqrt(var + eps) + beta), statistics per channel (axis 1).

    act(z) = z if z > 0 else negative_slope * z: 1 (the default) is no activation, 0 ReLU,
    0.2 LeakyReLU; fusing it saves whole passes over memory. Training: batch statistics over
    every axis but 1, and the running statistics (if given) move toward them by ``momentum``
    (the variance unbiased, as in PyTorch). Eval: the running statistics. With gz the gradient
    at z, xhat the normalised input and self.count values per channel (the means are over
    them), the training-mode input gradient is gamma / std * (gz - mean(gz) - xhat *
    mean(gz * xhat)); the two sums are exactly the
    beta and gamma gradients. The passes over x are backend primitives (bn_statistics, bn_act_*).
    With ``group`` (a tinygan.distributed.Communicator) the statistics and the two sums are
    those of every rank's batch together (SyncBatchNorm); gamma's and beta's gradients stay
    this rank's own, to be averaged with the other gradients.
    """
    def forward(self, x, gamma, beta, running_mean=None, running_var=None, training=True,
                momentum=0.1, eps=1e-5, negative_slope=1.0, group=None):
        _check_eps("batch_norm", eps)
        if not isinstance(momentum, numbers.Real):
            raise TypeError(f"batch_norm: momentum must be a number, got {momentum!r}; for the "
                            "cumulative average (momentum=None) use BatchNorm2d, which counts")
        channels = x.shape[1] if x.ndim >= 2 else None
        if channels is None or gamma.shape != (channels,) or beta.shape != (channels,):
            raise ValueError(f"batch_norm: expected input (N, C, ...) and weight and bias of shape "
                             f"(C,), got input {x.shape}, weight {gamma.shape}, bias {beta.shape}")
        self.count = x.size // channels  # values per channel
        if training:
            if self.count == 1:
                raise ValueError(f"batch_norm: training needs more than one value per channel, "
                                 f"got input shape {x.shape}")
            mean, var = self.backend.bn_statistics(x)
            if group is not None:  # every rank's batch holds self.count values per channel
                mean, var = group.batch_statistics(mean, var)
                self.count *= group.size
            if running_mean is not None and self.count > 0:  # an empty batch moves nothing
                self.backend.bn_running_update(running_mean, running_var, mean, var, momentum,
                                               self.count)
        elif running_mean is None or running_var is None:
            raise ValueError("batch_norm: eval mode (training=False) "
                             "needs running_mean and running_var")
        else:
            mean, var = running_mean, running_var
        self.training, self.slope, self.eps, self.group = training, negative_slope, eps, group
        self.saved = x, mean, 1 / self.xp.sqrt(var + eps), gamma, beta
        return self.backend.bn_act_forward(*self.saved, negative_slope)

    def backward(self, gy):
        if is_grad_enabled():
            return self._recorded_backward(gy)
        args = (*self.saved, self.slope, gy.array)  # the forward's arguments, then gy
        gbeta, ggamma = self.backend.bn_act_backward_sums(*args)
        sums = (gbeta, ggamma) if self.training else (self.xp.zeros_like(gbeta),) * 2
        if self.training and self.group is not None:  # the sums over every rank's batch
            sums = tuple(self.group.allreduce_sum(list(sums)))
        gx = self.backend.bn_act_backward_input(*args, *sums, self.count)
        return _tensors(gx, ggamma, gbeta)

    def _recorded_backward(self, gy):
        """The fused passes' gradients written as ops, the statistics recomputed from x in
        training mode (they depend on x), so that the backward can be differentiated again."""
        if self.training and self.group is not None:
            raise NotImplementedError("batch_norm across ranks (SyncBatchNorm) has no double "
                                      "backward: the gradient penalties need one process")
        (x, gamma, _), (_, mean, inv_std, _, _) = self.inputs, self.saved
        axes, channel = (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
        if self.slope != 1.0:  # gz: gy through the activation, at the pre-activation z
            z = self.backend.bn_act_forward(*self.saved, 1.0)
            gy = _LeakyReLUJacobian.apply(gy, x=z, slope=self.slope)
        if self.training:
            xhat, inv_std = _standardize(x, axes, self.eps)
        else:
            inv_std = wrap(inv_std.reshape(channel))
            xhat = (x - wrap(mean.reshape(channel))) * inv_std
        g = gy * reshape(gamma, channel)
        gx = _standardized_input_grad(g, xhat, inv_std, axes) if self.training else g * inv_std
        return gx, (gy * xhat).sum(axis=axes), gy.sum(axis=axes)


def _check_eps(name, eps):
    """Refuse eps <= 0: it must keep var + eps, under a square root, above 0."""
    if not eps > 0:
        raise ValueError(f"{name}: eps must be positive, got eps={eps}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, negative_slope=1.0, group=None):
    """Batch normalisation over axis 1, then leaky_relu(negative_slope) unless it is 1 (0: ReLU).

    Running stats (Tensors or None) are updated in place in training mode; ``group``: the
    communicator whose ranks' batches are normalised together (None: this batch alone).
    """
    xp, channels = input.backend.xp, (input.shape[1],) if input.ndim >= 2 else (1,)
    weight = wrap(xp.ones(channels, dtype=input.dtype)) if weight is None else weight
    bias = wrap(xp.zeros(channels, dtype=input.dtype)) if bias is None else bias
    stats = [None if s is None else s.array for s in (running_mean, running_var)]
    return BatchNorm.apply(input, weight, bias, running_mean=stats[0], running_var=stats[1],
                           training=training, momentum=momentum, eps=eps,
                           negative_slope=negative_slope, group=group)


class Normalize(Function):
    """y = gamma[c] * xhat + beta[c], xhat = (x - mean) / sqrt(var + eps), x (N, C, H, W).

    mean and the biased var are taken over ``axes``, one per index of the other axes: (2, 3)
    is instance norm, (1, 2, 3) layer norm; gamma and beta are (C,). With g = gy * gamma and
    means over the same axes, gx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps);
    ggamma = sum(gy * xhat) and gbeta = sum(gy) over every axis but 1.
    """
    def forward(self, x, gamma, beta, axes=(2, 3), eps=1e-5, name="normalize"):
        if x.ndim != 4:
            raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
        channels = (x.shape[1],)
        if gamma.shape != channels or beta.shape != channels:
            raise ValueError(f"{name}: expected weight and bias of shape (C,) = {channels} for "
                             f"input {x.shape}, got weight {gamma.shape} and bias {beta.shape}")
        if all(x.shape[a] == 1 for a in axes):
            group = "sample" if 1 in axes else "channel"
            raise ValueError(f"{name}: needs more than one value per {group} to normalise, "
                             f"got input shape {x.shape}")
        self.axes, self.eps = axes, eps
        self.xhat, self.inv_std = _standardize(x, axes, eps)  # (N, C, H, W), size 1 along axes
        return gamma.reshape(-1, 1, 1) * self.xhat + beta.reshape(-1, 1, 1)

    def backward(self, gy):
        x, gamma, _ = self.inputs
        if is_grad_enabled():  # recorded: the statistics as ops on x, which they depend on
            xhat, inv_std = _standardize(x, self.axes, self.eps)
        else:
            xhat, inv_std = wrap(self.xhat), wrap(self.inv_std)
        gx = _standardized_input_grad(gy * reshape(gamma, (-1, 1, 1)), xhat, inv_std, self.axes)
        return gx, (gy * xhat).sum(axis=(0, 2, 3)), gy.sum(axis=(0, 2, 3))


def _standardize(x, axes, eps):
    """(xhat, inv_std) with xhat = (x - mean) * inv_std, inv_std = (var + eps)^(-1/2), mean and
    the biased var over ``axes`` (kept, size 1); x a raw array or a Tensor."""
    centred = x - x.mean(axis=axes, keepdims=True)
    inv_std = ((centred * centred).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return centred * inv_std, inv_std


def _standardized_input_grad(g, xhat, inv_std, axes):
    """gx of xhat = _standardize(x) for g = dloss/dxhat, means over ``axes``:
    inv_std * (g - mean(g) - xhat * mean(g * xhat))."""
    return inv_std * (g - g.mean(axis=axes, keepdims=True)
                      - xhat * (g * xhat).mean(axis=axes, keepdims=True))


def _normalize(name, axes, input, weight, bias, eps):
    """Normalize over ``axes`` with weight and bias (C,); None gives ones and zeros, no grad."""
    xp, channels = input.backend.xp, input.shape[1:2]
    weight = wrap(xp.ones(channels, dtype=input.dtype)) if weight is None else weight
    bias = wrap(xp.zeros(channels, dtype=input.dtype)) if bias is None else bias
    return Normalize.apply(input, weight, bias, axes=axes, eps=eps, name=name)


def instance_norm(input, weight=None, bias=None, eps=1e-5):
    """Each (sample, channel) of (N, C, H, W) normalised over H, W, then weight[c] * . + bias[c];
    torch.nn.functional.instance_norm without running statistics."""
    return _normalize("instance_norm", (2, 3), input, weight, bias, eps)


def layer_norm(input, weight=None, bias=None, eps=1e-5):
    """Each sample of (N, C, H, W) normalised over C, H, W, then weight[c] * . + bias[c].

    The affine is per channel, (C,); torch.nn.functional.layer_norm(input, (C, H, W), ...)
    takes an elementwise one of shape (C, H, W), which is this one broadcast over H, W.
    """
    return _normalize("layer_norm", (1, 2, 3), input, weight, bias, eps)


class SpectralNormalize(Function):
    """y = W / sigma, sigma = u^T W_mat v, W_mat = W as (rows, -1), u (rows,) and v (-1,) fixed
    unit vectors (spectral norm's power-iteration estimates);  since d sigma / dW = u v^T,
    gW = gy / sigma - <gy, W> / sigma^2 u v^T = (gy - <gy, y> u v^T) / sigma"""
    def forward(self, w, u=None, v=None):
        rows = w.shape[0]
        if u.shape != (rows,) or v.shape != (w.size // rows,):
            raise ValueError(f"spectral_normalize: weight {w.shape} needs u ({rows},) and v "
                             f"({w.size // rows},), got u {u.shape} and v {v.shape}")
        self.uv = self.xp.outer(u, v).reshape(w.shape)  # (rows, ...) like W
        self.y = w / (u @ (w.reshape(rows, -1) @ v))
        return self.y

    def backward(self, gy):
        w, = self.inputs
        uv = wrap(self.uv)
        sigma = (w * uv).sum()  # u^T W_mat v, recorded so that a second derivative sees it
        return (gy - (gy * self.output_tensor(self.y)).sum() * uv) / sigma


def spectral_normalize(weight, u, v):
    """weight divided by u^T W_mat v, its largest singular value where u and v are the top
    singular vectors; u and v are arrays on weight's device (no gradient flows to them)."""
    return SpectralNormalize.apply(weight, u=u, v=v)
