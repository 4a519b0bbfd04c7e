"""torch.nn.functional's names and signatures over tinygan.ops (``import tinygan.nn.functional
as F``). Settings tinygan does not implement (dilation, groups, overlapping or padded pools,
class weights, ...) are refused in one line, never ignored."""
import numpy as np

from .. import creation, inplace, ops
from ..ops.loss import _check_labels
from ..tensor import Tensor, wrap

sigmoid, tanh, linear = ops.sigmoid, ops.tanh, ops.linear


def _check_inplace(name, inplace):
    """inplace must be a bool (or 0 or 1), refused in one line otherwise."""
    if not (isinstance(inplace, (bool, np.bool_)) or (type(inplace) is int and inplace in (0, 1))):
        raise TypeError(f"{name}: inplace must be True or False, got {inplace!r}")
    return bool(inplace)


def _refuse(name, **settings):
    """One line naming the first setting that is not at the only value tinygan implements;
    each keyword maps to (given, supported)."""
    for setting, (given, supported) in settings.items():
        if not (given is supported if supported is None else given == supported):
            raise NotImplementedError(f"{name}: {setting}={given!r} is not supported by tinygan "
                                      f"(only {supported!r})")


def _apply_inplace(name, input, inplace_flag, function):
    """function(input), written into input itself where inplace_flag (see tinygan.inplace)."""
    if _check_inplace(name, inplace_flag):
        return inplace.modify(input, name + "_", function)
    return function(input)


def relu(input, inplace=False):
    """max(x, 0); inplace=True overwrites and returns the input."""
    return _apply_inplace("relu", input, inplace, ops.relu)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x; inplace=True overwrites and returns the input."""
    return _apply_inplace("leaky_relu", input, inplace,
                          lambda x: ops.leaky_relu(x, negative_slope=negative_slope))


def _softmax_dim(name, input, dim, dtype):
    """The input cast to dtype (if given); dim is required (PyTorch's implicit one is
    deprecated)."""
    if dim is None:
        raise TypeError(f"{name}: give dim (PyTorch's implicit choice of dim is deprecated)")
    return input if dtype is None else input.to(dtype=dtype)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along dim."""
    return ops.softmax(_softmax_dim("softmax", input, dim, dtype), axis=dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along dim, the largest x subtracted first so no exp overflows (its
    gradient is softmax's, exact: the shift is a constant)."""
    x = _softmax_dim("log_softmax", input, dim, dtype)
    shifted = x - ops.max(x.detach(), dim, keepdim=True).values
    return shifted - ops.log(ops.sum(ops.exp(shifted), dim, keepdim=True))


def _reduction(name, size_average, reduce, reduction):
    """The reduction, refusing the deprecated size_average and reduce and unknown names."""
    if size_average is not None or reduce is not None:
        raise TypeError(f"{name}: size_average and reduce are deprecated in PyTorch and not "
                        "supported by tinygan; use reduction='mean', 'sum' or 'none'")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    """The per-element ``loss`` reduced as ``reduction`` says."""
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def _check_pair(name, input, target):
    """Both Tensors of the same shape (PyTorch broadcasts with a warning; refused here)."""
    for role, value in (("input", input), ("target", target)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: {role} must be a Tensor, got {type(value).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"{name}: target shape {target.shape} must equal input shape "
                         f"{input.shape}")


def _check_weight(name, weight):
    if weight is not None and not isinstance(weight, Tensor):
        raise TypeError(f"{name}: weight must be a Tensor or None, got {type(weight).__name__}")


def _check_pos_weight(name, pos_weight):
    if pos_weight is not None:
        raise NotImplementedError(f"{name}: pos_weight is not supported by tinygan; weight the "
                                  "positive terms yourself")


def _weighted(name, function, input, target, weight, reduction):
    """function(input, target) per element, times ``weight`` (broadcast) where given, reduced."""
    _check_pair(name, input, target)
    _check_weight(name, weight)
    if weight is None:
        return function(input, target, reduction=reduction)
    return _reduce(function(input, target, reduction="none") * weight, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)) of probabilities p, each log clamped at -100."""
    reduction = _reduction("binary_cross_entropy", size_average, reduce, reduction)
    return _weighted("binary_cross_entropy", ops.binary_cross_entropy, input, target, weight,
                     reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """binary_cross_entropy of sigmoid(input), computed from the logits without overflow."""
    name = "binary_cross_entropy_with_logits"
    reduction = _reduction(name, size_average, reduce, reduction)
    _check_pos_weight(name, pos_weight)
    return _weighted(name, ops.binary_cross_entropy_with_logits, input, target, weight,
                     reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """(input - target) ** 2, reduced."""
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    _check_pair("mse_loss", input, target)
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """|input - target|, reduced (gradient 0 where they are equal, as PyTorch's)."""
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    _check_pair("l1_loss", input, target)
    return _reduce(ops.abs(input - target), reduction)


def _refuse_class_weights(name, weight):
    if weight is not None:
        raise NotImplementedError(f"{name}: class weights are not supported by tinygan")


def _check_class_target(name, input, target, weight, ignore_index):
    """Logits or log-probabilities (N, K) and integer labels (N,); class weights and labels
    equal to ignore_index refused in one line."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{name}: input and target must be Tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    _refuse_class_weights(name, weight)
    if target.dtype.kind in "iu" and bool((target == ignore_index).any()):
        raise NotImplementedError(f"{name}: target holds ignore_index {ignore_index}; tinygan "
                                  "does not skip labels")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (N, K) against integer labels (N,)."""
    reduction = _reduction("cross_entropy", size_average, reduce, reduction)
    _check_class_target("cross_entropy", input, target, weight, ignore_index)
    _refuse("cross_entropy", label_smoothing=(label_smoothing, 0.0))
    return ops.cross_entropy(input, target, reduction=reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[n, target[n]] of log-probabilities (N, K) and integer labels (N,), reduced."""
    reduction = _reduction("nll_loss", size_average, reduce, reduction)
    _check_class_target("nll_loss", input, target, weight, ignore_index)
    if input.ndim != 2:
        raise ValueError(f"nll_loss: expected input (N, K), got shape {tuple(input.shape)}")
    _check_labels(target.array, input.shape)
    picked = ops.gather(input, 1, wrap(target.array.reshape(-1, 1), target.backend))
    return _reduce(-ops.reshape(picked, (-1,)), reduction)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation plus bias per output channel."""
    _refuse("conv2d", dilation=(dilation, 1), groups=(groups, 1))
    return ops.conv2d(input, weight, bias, stride=stride, padding=padding)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv2d (weight (in, out, kH, kW)) plus bias per output channel."""
    _refuse("conv_transpose2d", groups=(groups, 1), dilation=(dilation, 1))
    return ops.conv_transpose2d(input, weight, bias, stride=stride, padding=padding,
                                output_padding=output_padding)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise over every axis but 1 (batch statistics in training, moving the running ones
    by momentum; else the running ones), then weight * . + bias per channel."""
    return ops.batch_norm(input, running_mean, running_var, weight, bias, training=training,
                          momentum=momentum, eps=eps)


def _check_pool(name, kernel_size, stride, padding, ceil_mode):
    """tinygan pools non-overlapping windows only: stride None or kernel_size, no padding."""
    stride = kernel_size if stride is None or stride == [] else stride
    pair = ops.conv._pair
    _refuse(name, stride=(pair(stride, "stride"), pair(kernel_size, "kernel_size")),
            padding=(pair(padding, "padding"), (0, 0)), ceil_mode=(ceil_mode, False))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over non-overlapping kernel_size windows (a remainder that fills none is dropped)."""
    _check_pool("avg_pool2d", kernel_size, stride, padding, ceil_mode)
    _refuse("avg_pool2d", divisor_override=(divisor_override, None))
    return ops.avg_pool2d(input, kernel_size)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over non-overlapping kernel_size windows (a remainder that fills none is
    dropped)."""
    _check_pool("max_pool2d", kernel_size, stride, padding, ceil_mode)
    _refuse("max_pool2d", dilation=(dilation, 1), return_indices=(return_indices, False))
    return ops.max_pool2d(input, kernel_size)


def _check_p(name, p):
    if not 0 <= p <= 1:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")
    return p


def dropout(input, p=0.5, training=True, inplace=False):
    """In training, each element zeroed with probability p (drawn from the global generator of
    the input's device) and the others scaled by 1 / (1 - p); else the input itself."""
    return _dropout("dropout", input, p, training, inplace, input.shape)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """dropout of whole channels: each (sample, channel) plane of an (N, C, H, W) or (C, H, W)
    input zeroed with probability p, the others scaled by 1 / (1 - p)."""
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected an (N, C, H, W) or (C, H, W) input, got shape "
                         f"{tuple(input.shape)}")
    return _dropout("dropout2d", input, p, training, inplace, input.shape[:-2] + (1, 1))


def _dropout(name, input, p, training, inplace, mask_shape):
    """input times a mask of ``mask_shape`` (broadcast): 0 with probability p, else 1 / (1 - p)."""
    _check_p(name, p)
    _check_inplace(name, inplace)
    if not training:
        return input
    draw = creation.rand(*mask_shape, dtype=input.dtype, device=input.device).array
    scale = 0.0 if p == 1 else 1 / (1 - p)
    mask = wrap((draw >= p).astype(input.dtype) * input.dtype.type(scale), input.backend)
    return _apply_inplace(name, input, inplace, lambda x: x * mask)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """weight[input]: the rows named by integer indices (any shape) stacked, the gradient added
    up at repeated indices; none reaches row padding_idx."""
    _refuse("embedding", max_norm=(max_norm, None), scale_grad_by_freq=(scale_grad_by_freq, False),
            sparse=(sparse, False))
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"embedding: input must be an integer Tensor of indices, got {kind}")
    rows = weight[input]
    if padding_idx is None:
        return rows
    padding_idx = padding_idx + weight.shape[0] if padding_idx < 0 else padding_idx
    keep = input.backend.xp.expand_dims(input.array != padding_idx, -1)
    return ops.where(keep, rows, weight.detach()[input])


def _scale_factors(input, size, scale_factor):
    """The whole number each spatial dim grows by, from size or scale_factor (one of them)."""
    spatial = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        sizes = (size,) * len(spatial) if isinstance(size, int) else tuple(size)
        factors = [s / n for s, n in zip(sizes, spatial)]
    else:
        factors = ([scale_factor] * len(spatial) if isinstance(scale_factor, (int, float))
                   else list(scale_factor))
    if len(factors) != len(spatial) or any(f != int(f) or f < 1 for f in factors):
        raise NotImplementedError(f"interpolate: tinygan scales each of the {len(spatial)} "
                                  "spatial dims by a whole number >= 1 only, got size="
                                  f"{size!r}, scale_factor={scale_factor!r} for input "
                                  f"{tuple(input.shape)}")
    return [int(f) for f in factors]


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Nearest-neighbour upsampling of (N, C, ...) by whole factors: each value repeated
    factor times along each spatial dim (the gradient sums over the copies)."""
    _refuse("interpolate", mode=(mode, "nearest"), align_corners=(align_corners, None),
            antialias=(antialias, False))
    if input.ndim < 3:
        raise ValueError(f"interpolate: expected input (N, C, ...) with spatial dims, got shape "
                         f"{tuple(input.shape)}")
    factors = _scale_factors(input, size, scale_factor)
    lead, spatial = tuple(input.shape[:2]), tuple(input.shape[2:])
    spread = lead + tuple(n for s in spatial for n in (s, 1))
    grown = lead + tuple(n for s, f in zip(spatial, factors) for n in (s, f))
    out = lead + tuple(s * f for s, f in zip(spatial, factors))
    return ops.reshape(ops.expand(ops.reshape(input, spread), grown), out)
