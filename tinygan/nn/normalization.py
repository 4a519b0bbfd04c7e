"""Batch norm (1-D and 2-D, and fused with an activation), instance norm, layer norm."""
import numpy as np

from . import functional as F
from .module import Module, Parameter
from .. import ops
from ..dtypes import get_default_dtype


def _filled(shape, value):
    """An array of ``value`` in the default dtype (float32 unless set_default_dtype changed it,
    as PyTorch makes its layers' parameters)."""
    return np.full(shape, value, dtype=get_default_dtype())


class _BatchNorm(Module):
    """Batch norm over the channels (axis 1): weight 1, bias 0 (none with affine=False),
    running mean 0 and var 1 (none with track_running_stats=False: batch statistics in eval
    mode too, as PyTorch).

    num_batches_tracked counts the training batches, as PyTorch's buffer, but in the default
    float dtype like the other buffers (float32: exact to 2^24 batches; PyTorch's is int64).
    momentum=None makes the running statistics the cumulative average of every training
    batch's: batch k moves them by 1 / k.
    """

    negative_slope = 1.0  # no activation; BatchNormAct2d sets its own
    group = None  # tinygan.distributed.sync_batch_norm sets a communicator: SyncBatchNorm
    input_dims = None
    """The input ranks accepted (None: any with a channel axis)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):
        super().__init__()
        ops.normalization._check_eps(type(self).__name__, eps)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(_filled(num_features, 1)) if affine else None
        self.bias = Parameter(_filled(num_features, 0)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", _filled(num_features, 0))
            self.register_buffer("running_var", _filled(num_features, 1))
            self.register_buffer("num_batches_tracked", _filled((), 0))

    def forward(self, x):
        if self.input_dims is not None and x.ndim not in self.input_dims:
            raise ValueError(f"{type(self).__name__}: expected a "
                             f"{' or '.join(f'{d}-D' for d in self.input_dims)} input, got shape "
                             f"{tuple(x.shape)}")
        momentum = 0.0 if self.momentum is None else self.momentum  # eval mode uses none
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                momentum = 1 / self.num_batches_tracked.item()
        running = ((self.running_mean, self.running_var) if self.track_running_stats
                   else (None, None))
        return ops.batch_norm(x, *running, self.weight, self.bias,
                              training=self.training or not self.track_running_stats,
                              momentum=momentum, eps=self.eps,
                              negative_slope=self.negative_slope, group=self.group)

    def extra_repr(self):
        return _norm_repr(self, self.momentum, self.track_running_stats)


def _norm_repr(layer, momentum, track_running_stats):
    """torch.nn.BatchNorm2d's and InstanceNorm2d's extra_repr (PyTorch 2.13's, with bias)."""
    return (f"{layer.num_features}, eps={layer.eps}, momentum={momentum}, "
            f"affine={layer.weight is not None}, bias={layer.bias is not None}, "
            f"track_running_stats={track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L), statistics per channel over N (and L). As PyTorch's,
    the second positional argument is eps: BatchNorm1d(C, 0.8) sets eps = 0.8."""

    input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W), statistics per channel over N, H and W."""

    input_dims = (4,)


class BatchNormAct2d(BatchNorm2d):
    """BatchNorm2d fused with the activation after it: ReLU (negative_slope=0) or LeakyReLU;
    any input (N, C, ...)."""

    input_dims = None

    def __init__(self, num_features, negative_slope=0.0, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps, momentum)
        self.negative_slope = negative_slope

    def extra_repr(self):
        """BatchNorm2d's, then the activation it carries (a print of G or D shows it)."""
        activation = ("ReLU" if self.negative_slope == 0
                      else f"LeakyReLU(negative_slope={self.negative_slope})")
        return f"{super().extra_repr()}, then {activation}"


class InstanceNorm2d(Module):
    """Instance norm of (N, C, H, W): each (sample, channel) normalised over H, W, then
    weight[c] * . + bias[c] with affine=True (weight 1, bias 0; PyTorch's default is
    affine=False). Running statistics (track_running_stats=True) are refused in one line."""

    norm = staticmethod(ops.instance_norm)
    """The normalisation forward applies (ops.instance_norm; LayerNorm2d's: ops.layer_norm)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False):
        super().__init__()
        F._refuse(type(self).__name__, track_running_stats=(track_running_stats, False))
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(_filled(num_features, 1)) if affine else None
        self.bias = Parameter(_filled(num_features, 0)) if affine else None

    def forward(self, x):
        return self.norm(x, self.weight, self.bias, eps=self.eps)

    def extra_repr(self):
        return _norm_repr(self, self.momentum, False)


class LayerNorm2d(InstanceNorm2d):
    """Layer norm of (N, C, H, W): each sample normalised over C, H, W, then weight[c] * . +
    bias[c] per channel (weight 1, bias 0), not PyTorch's elementwise (C, H, W) affine."""

    norm = staticmethod(ops.layer_norm)

    def __init__(self, num_features, eps=1e-5):
        super().__init__(num_features, eps, affine=True)
