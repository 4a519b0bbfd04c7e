"""Modules: parameters and buffers with names, train/eval, devices and state dicts."""
import numpy as np

from . import inplace, ops, random
from .random import manual_seed  # tinygan.nn.manual_seed, as before
from .tensor import Tensor, as_array, wrap


def init_rng():
    """The NumPy generator that parameters are initialised from (always on the CPU): the one
    behind tinygan's global CPU generator, so manual_seed seeds it."""
    return random.default_generator.numpy


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates: requires_grad by default."""

    def __init__(self, data=None, requires_grad=True):
        """A leaf sharing the array of ``data`` (a Tensor, or an array kept as it is; None: an
        empty one), as torch.nn.Parameter."""
        self._hold(*_shared_array(Tensor() if data is None else data, "Parameter"))
        self.requires_grad_(requires_grad)


def _shared_array(value, name):
    """(array, backend) of a Tensor or an array-like ``value``, no copy where it is an array."""
    return (value.array, value.backend) if isinstance(value, Tensor) else as_array(value, name)


class Module:
    """Base class: attributes that are Parameters, Modules or buffers are found by name."""

    def __init__(self):
        self.training = True
        self._buffers = {}

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """The layer's own settings inside its printed parentheses, as PyTorch's extra_repr."""
        return ""

    def __repr__(self):
        """PyTorch's format: ``Name(extra)``, or each sub-module on its own indented line as
        ``(name): Child(...)``."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                       for name, child in self.named_children()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, children first, then on this one (as
        PyTorch's, e.g. ``net.apply(weights_init)``); returns self."""
        if not callable(fn):
            raise TypeError(f"apply: fn must be callable, got {type(fn).__name__}")
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def register_buffer(self, name, array):
        """A named, non-trainable tensor that moves and saves with the module (e.g. running_mean),
        sharing ``array`` (a Tensor or an array)."""
        self._buffers[name] = wrap(*_shared_array(array, "register_buffer"))

    def __getattr__(self, name):
        buffers = self.__dict__.get("_buffers", {})
        if name in buffers:
            return buffers[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def named_children(self):
        """(name, module) for each direct sub-module, in the order they were assigned."""
        return [(k, v) for k, v in vars(self).items() if isinstance(v, Module)]

    def children(self):
        """Each direct sub-module, in the order they were assigned (as PyTorch's, no names)."""
        return [module for _, module in self.named_children()]

    def modules(self):
        """This module and every module inside it, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) for every parameter, this module's first."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_parameters(f"{prefix}{name}.")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        """(dotted name, Tensor) for every buffer, this module's first."""
        for name, buffer in self._buffers.items():
            yield prefix + name, buffer
        for name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}{name}.")

    def buffers(self):
        return [b for _, b in self.named_buffers()]

    def train(self, mode=True):
        """Set training mode here and in every sub-module (batch norm uses batch statistics)."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        """Set evaluation mode (batch norm uses its running statistics)."""
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def to(self, device=None, dtype=None):
        """Move every parameter and buffer to ``device`` and/or cast to ``dtype``, in place."""
        for tensor in self.parameters() + self.buffers():
            tensor.data = tensor.data.to(device=device, dtype=dtype)
            tensor.grad = None
        return self

    def state_dict(self):
        """{dotted name: NumPy copy} of every parameter and buffer."""
        named = list(self.named_parameters()) + list(self.named_buffers())
        return {name: tensor.numpy().copy() for name, tensor in named}

    def load_state_dict(self, state):
        """Copy arrays from ``state`` into the parameters and buffers, checking names and shapes."""
        own = dict(self.named_parameters()) | dict(self.named_buffers())
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                             f"unexpected keys {unexpected}")
        for name, tensor in own.items():
            value = np.asarray(state[name])
            if value.shape != tensor.shape:
                raise ValueError(f"load_state_dict for {type(self).__name__}: {name!r} has shape "
                                 f"{value.shape} in the state dict, expected {tensor.shape}")
            tensor.array = tensor.backend.asarray(value.astype(tensor.dtype))
            tensor._mark_modified("load_state_dict")


def _uniform_fan_in(shape, fan_in):
    """PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as float32."""
    bound = 1 / np.sqrt(fan_in)
    return init_rng().uniform(-bound, bound, size=shape).astype(np.float32)


class Conv2d(Module):
    """Conv layer, weight (out_channels, in_channels, k, k) as in PyTorch."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = ops.conv._pair(kernel_size, "kernel_size")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, (kh, kw)
        self.stride, self.padding = stride, padding
        fan_in = in_channels * kh * kw
        self.weight = Parameter(_uniform_fan_in((out_channels, in_channels, kh, kw), fan_in))
        self.bias = Parameter(_uniform_fan_in((out_channels,), fan_in)) if bias else None

    def forward(self, x):
        return self.forward_with(x, self.weight)

    def forward_with(self, x, weight):
        """The layer with ``weight`` in place of its own (SpectralNorm's normalised one)."""
        return ops.conv2d(x, weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self):
        return _conv_repr(self)


class ConvTranspose2d(Module):
    """Transposed conv layer, weight (in_channels, out_channels, k, k) as in PyTorch."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True):
        super().__init__()
        kh, kw = ops.conv._pair(kernel_size, "kernel_size")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, (kh, kw)
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        fan_in = out_channels * kh * kw  # PyTorch computes fan_in from weight.shape[1:]
        self.weight = Parameter(_uniform_fan_in((in_channels, out_channels, kh, kw), fan_in))
        self.bias = Parameter(_uniform_fan_in((out_channels,), fan_in)) if bias else None

    def forward(self, x):
        return ops.conv_transpose2d(x, self.weight, self.bias, stride=self.stride,
                                    padding=self.padding, output_padding=self.output_padding)

    def extra_repr(self):
        return _conv_repr(self)


def _as_pair(value):
    """An int as (int, int), as PyTorch stores a conv's settings; anything else as it is."""
    return (value, value) if isinstance(value, int) else tuple(value)


def _conv_repr(layer):
    """torch.nn.Conv2d's extra_repr: stride always, padding and output_padding where not 0."""
    text = (f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, "
            f"stride={_as_pair(layer.stride)}")
    if _as_pair(layer.padding) != (0, 0):
        text += f", padding={_as_pair(layer.padding)}"
    if _as_pair(getattr(layer, "output_padding", 0)) != (0, 0):
        text += f", output_padding={_as_pair(layer.output_padding)}"
    return text + (", bias=False" if layer.bias is None else "")


class Linear(Module):
    """Dense layer y = x @ weight.T + bias, weight (out_features, in_features) as in PyTorch."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_uniform_fan_in((out_features, in_features), in_features))
        self.bias = Parameter(_uniform_fan_in((out_features,), in_features)) if bias else None

    def forward(self, x):
        return self.forward_with(x, self.weight)

    def forward_with(self, x, weight):
        """The layer with ``weight`` in place of its own (SpectralNorm's normalised one)."""
        return ops.linear(x, weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class SpectralNorm(Module):
    """A Conv2d or Linear whose weight is divided by its largest singular value sigma
    (spectral normalisation, Miyato et al. 2018), as torch.nn.utils.parametrizations.spectral_norm:

    W_mat = weight as (out, -1);  sigma = u^T W_mat v;  the layer runs with weight / sigma.

    u and v are buffers. In training mode each forward first refines them by one power
    iteration, u = normalize(W_mat v), v = normalize(W_mat^T u), without gradient; in eval mode
    they stay as they are. The wrapped layer's parameters are named "module.weight", ...
    """

    def __init__(self, module, eps=1e-12, warmup_iterations=15):
        super().__init__()
        if not isinstance(module, (Conv2d, Linear)):
            raise TypeError(f"SpectralNorm wraps a Conv2d or Linear, got {type(module).__name__}")
        self.module, self.eps = module, eps
        rows = module.weight.shape[0]
        for name, size in (("u", rows), ("v", module.weight.numel() // rows)):
            vector = init_rng().standard_normal(size)
            self.register_buffer(name, (vector / np.linalg.norm(vector)).astype(np.float32))
        self.power_iteration(warmup_iterations)

    def power_iteration(self, iterations=1):
        """Refine u and v towards W_mat's top singular vectors (call it again after changing
        the weight other than by training, e.g. a re-initialisation)."""
        xp = self.module.weight.backend.xp
        w = self.module.weight.array.reshape(self.u.shape[0], -1)  # (out, in * KH * KW)
        for _ in range(iterations):
            u = w @ self.v.array
            self.u.array = u / xp.maximum(xp.sqrt(u @ u), self.eps)
            v = w.T @ self.u.array
            self.v.array = v / xp.maximum(xp.sqrt(v @ v), self.eps)

    def forward(self, x):
        if self.training:
            self.power_iteration()
        weight = ops.spectral_normalize(self.module.weight, self.u.array, self.v.array)
        return self.module.forward_with(x, weight)


class _Pool2d(Module):
    """Pooling over non-overlapping kernel_size windows with the op named by ``pool``."""

    def __init__(self, kernel_size=2):
        super().__init__()
        self.kernel_size = kernel_size

    def forward(self, x):
        return self.pool(x, self.kernel_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.kernel_size}, padding=0"


class MaxPool2d(_Pool2d):
    pool = staticmethod(ops.max_pool2d)

    def extra_repr(self):
        return super().extra_repr() + ", dilation=1, ceil_mode=False"


class AvgPool2d(_Pool2d):
    pool = staticmethod(ops.avg_pool2d)


class BatchNorm2d(Module):
    """Batch norm over channels of (N, C, H, W): weight 1, bias 0, running mean 0 and var 1.

    momentum=None makes the running statistics the cumulative average of every training
    batch's, as in PyTorch: batch k moves them by 1 / k, counted in the buffer
    num_batches_tracked (float32, like the other buffers: exact to 2^24 batches).
    """

    negative_slope = 1.0  # no activation; BatchNormAct2d sets its own
    group = None  # tinygan.distributed.sync_batch_norm sets a communicator: SyncBatchNorm

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        ops.normalization._check_eps(type(self).__name__, eps)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=np.float32))
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
        if momentum is None:
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.float32))

    def forward(self, x):
        momentum = 0.0 if self.momentum is None else self.momentum  # eval mode uses none
        if self.momentum is None and self.training:
            self.num_batches_tracked.array += 1
            momentum = 1 / self.num_batches_tracked.item()
        return ops.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              training=self.training, momentum=momentum, eps=self.eps,
                              negative_slope=self.negative_slope, group=self.group)

    def extra_repr(self):
        return _norm_repr(self, self.momentum, True)


def _norm_repr(layer, momentum, track_running_stats):
    """torch.nn.BatchNorm2d's and InstanceNorm2d's extra_repr (PyTorch 2.13's, with bias)."""
    return (f"{layer.num_features}, eps={layer.eps}, momentum={momentum}, "
            f"affine={layer.weight is not None}, bias={layer.bias is not None}, "
            f"track_running_stats={track_running_stats}")


class BatchNormAct2d(BatchNorm2d):
    """BatchNorm2d fused with the activation after it: ReLU (negative_slope=0) or LeakyReLU."""

    def __init__(self, num_features, negative_slope=0.0, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps, momentum)
        self.negative_slope = negative_slope


class InstanceNorm2d(Module):
    """Instance norm of (N, C, H, W): each (sample, channel) normalised over H, W, then
    weight[c] * . + bias[c] (weight 1, bias 0; none with affine=False, PyTorch's default)."""

    norm = staticmethod(ops.instance_norm)

    def __init__(self, num_features, eps=1e-5, affine=True):
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.weight = Parameter(np.ones(num_features, dtype=np.float32)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32)) if affine else None

    def forward(self, x):
        return self.norm(x, self.weight, self.bias, eps=self.eps)

    def extra_repr(self):
        return _norm_repr(self, 0.1, False)


class LayerNorm2d(InstanceNorm2d):
    """Layer norm of (N, C, H, W): each sample normalised over C, H, W, then weight[c] * . +
    bias[c] per channel (weight 1, bias 0), not PyTorch's elementwise (C, H, W) affine."""

    norm = staticmethod(ops.layer_norm)

    def __init__(self, num_features, eps=1e-5):
        super().__init__(num_features, eps)


def _check_inplace(name, inplace):
    """inplace must be a bool (or 0 or 1), refused in one line otherwise."""
    if not (isinstance(inplace, (bool, np.bool_)) or (type(inplace) is int and inplace in (0, 1))):
        raise TypeError(f"{name}: inplace must be True or False, got {inplace!r}")
    return bool(inplace)


class ReLU(Module):
    """max(x, 0); with inplace=True the input tensor itself is overwritten and returned, as
    PyTorch's (refused in one line where tinygan's graph cannot follow: see tinygan.inplace)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = _check_inplace("ReLU", inplace)

    def forward(self, x):
        if self.inplace:
            return inplace.modify(x, "relu_", ops.relu)
        return ops.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x; inplace=True as ReLU's."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = _check_inplace("LeakyReLU", inplace)

    def forward(self, x):
        if self.inplace:
            return inplace.modify(x, "leaky_relu_", lambda old: ops.leaky_relu(
                old, negative_slope=self.negative_slope))
        return ops.leaky_relu(x, negative_slope=self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    def forward(self, x):
        return ops.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return ops.sigmoid(x)


class Flatten(Module):
    """Merge every axis from ``start_dim`` on (default 1: keep the batch axis)."""

    def __init__(self, start_dim=1):
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x):
        return ops.flatten(x, self.start_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim=-1"


class Identity(Module):
    """Returns its input unchanged (its arguments accepted and ignored, as PyTorch's)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Sequential(Module):
    """Modules applied one after another; their parameters are named "0.weight", "1.bias", ..."""

    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            setattr(self, str(index), module)

    def __getitem__(self, index):
        modules = self.children()
        return type(self)(*modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self):
        return len(self.children())

    def __iter__(self):
        return iter(self.children())

    def forward(self, x):
        for module in self.children():
            x = module(x)
        return x


class _Loss(Module):
    """A loss module: reduction 'mean' (the default), 'sum' or 'none', as PyTorch's; the
    deprecated size_average and reduce are refused in one line."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        name = type(self).__name__
        if size_average is not None or reduce is not None:
            raise TypeError(f"{name}: size_average and reduce are deprecated in PyTorch and not "
                            "supported by tinygan; use reduction='mean', 'sum' or 'none'")
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got "
                             f"{reduction!r}")
        self.reduction = reduction

    def check(self, input, target):
        """Both Tensors of the same shape (PyTorch broadcasts with a warning; refused here)."""
        name = type(self).__name__
        for role, value in (("input", input), ("target", target)):
            if not isinstance(value, Tensor):
                raise TypeError(f"{name}: {role} must be a Tensor, got {type(value).__name__}")
        if input.shape != target.shape:
            raise ValueError(f"{name}: target shape {target.shape} must equal input shape "
                             f"{input.shape}")

    def reduce(self, loss):
        """The per-element ``loss`` reduced as self.reduction says."""
        if self.reduction == "none":
            return loss
        return loss.mean() if self.reduction == "mean" else loss.sum()


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight`` (a Tensor broadcast over the per-element losses)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if weight is not None and not isinstance(weight, Tensor):
            raise TypeError(f"{type(self).__name__}: weight must be a Tensor or None, got "
                            f"{type(weight).__name__}")
        self.weight = weight  # a plain tensor, not a parameter (PyTorch's is a buffer)

    def weighted(self, function, input, target):
        """function(input, target) per element, times the weight, reduced."""
        if self.weight is None:
            return function(input, target, reduction=self.reduction)
        return self.reduce(function(input, target, reduction="none") * self.weight)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1]: -(t log p + (1 - t) log(1 - p)), each
    log clamped at -100 as PyTorch's."""

    def forward(self, input, target):
        self.check(input, target)
        return self.weighted(ops.binary_cross_entropy, input, target)


class BCEWithLogitsLoss(_WeightedLoss):
    """BCELoss of sigmoid(input), computed from the logits without overflow."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        if pos_weight is not None:
            raise NotImplementedError("BCEWithLogitsLoss: pos_weight is not supported by "
                                      "tinygan; weight the positive terms yourself")

    def forward(self, input, target):
        self.check(input, target)
        return self.weighted(ops.binary_cross_entropy_with_logits, input, target)


class MSELoss(_Loss):
    """(input - target) ** 2, reduced."""

    def forward(self, input, target):
        self.check(input, target)
        return self.reduce((input - target) ** 2)


class L1Loss(_Loss):
    """|input - target|, reduced (gradient 0 where they are equal, as PyTorch's)."""

    def forward(self, input, target):
        self.check(input, target)
        return self.reduce(ops.abs(input - target))


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, K) against integer class labels (N,). Refused in one
    line, as tinygan does not implement them: class weights, label_smoothing, probability
    targets, more than 2 dimensions, and labels equal to ignore_index."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(size_average, reduce, reduction)
        if weight is not None:
            raise NotImplementedError("CrossEntropyLoss: class weights are not supported by "
                                      "tinygan")
        if label_smoothing != 0.0:
            raise NotImplementedError("CrossEntropyLoss: label_smoothing is not supported by "
                                      "tinygan")
        self.ignore_index = ignore_index

    def forward(self, input, target):
        if not isinstance(input, Tensor) or not isinstance(target, Tensor):
            raise TypeError("CrossEntropyLoss: input and target must be Tensors, got "
                            f"{type(input).__name__} and {type(target).__name__}")
        if target.dtype.kind in "iu" and bool((target == self.ignore_index).any()):
            raise NotImplementedError(f"CrossEntropyLoss: target holds ignore_index "
                                      f"{self.ignore_index}; tinygan does not skip labels")
        return ops.cross_entropy(input, target, reduction=self.reduction)


class ModuleList(Module):
    """A list of modules whose parameters the owner finds ("0.weight", ...); no forward of its
    own, as PyTorch's: index it or iterate over it."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def __getitem__(self, index):
        modules = self.children()
        return ModuleList(modules[index]) if isinstance(index, slice) else modules[index]

    def __setitem__(self, index, module):
        _check_module("ModuleList", module)
        index = range(len(self))[index]  # IndexError for an index out of range
        setattr(self, str(index), module)

    def __len__(self):
        return len(self.children())

    def __iter__(self):
        return iter(self.children())

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        _check_module("ModuleList.append", module)
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = self.children()
        modules.insert(index, module)
        _check_module("ModuleList.insert", module)
        for name in [name for name, _ in self.named_children()]:
            delattr(self, name)
        return self.extend(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: call the modules it holds")

    def __repr__(self):
        """PyTorch's: runs of modules printed alike are one line, ``(0-2): 3 x Linear(...)``."""
        blocks = []  # [first index, last index, repr]
        for index, module in enumerate(self):
            text = repr(module)
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = index
            else:
                blocks.append([index, index, text])
        if not blocks:
            return "ModuleList()"
        lines = [(f"({first}): " if first == last else
                  f"({first}-{last}): {last - first + 1} x ") + text.replace("\n", "\n  ")
                 for first, last, text in blocks]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


def _check_module(name, module):
    if not isinstance(module, Module):
        raise TypeError(f"{name}: {type(module).__name__} is not a Module subclass")


__all__ = ["Module", "Parameter", "Conv2d", "ConvTranspose2d", "Linear", "MaxPool2d", "AvgPool2d",
           "BatchNorm2d", "BatchNormAct2d", "SpectralNorm", "InstanceNorm2d", "LayerNorm2d",
           "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Flatten", "Sequential", "Identity",
           "ModuleList", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "CrossEntropyLoss",
           "manual_seed"]
