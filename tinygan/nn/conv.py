"""Conv2d and ConvTranspose2d, their weights and biases drawn as PyTorch's defaults."""
from . import functional as F
from .init import default_uniform
from .module import Module, Parameter
from .. import ops


class _ConvNd(Module):
    """The settings shared by both: in/out channels, kernel_size as a pair, stride, padding."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, weight_shape,
                 fan_in, bias):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ops.conv._pair(kernel_size, "kernel_size")
        self.stride, self.padding = stride, padding
        self.weight = Parameter(default_uniform(weight_shape + self.kernel_size, fan_in))
        self.bias = Parameter(default_uniform((out_channels,), fan_in)) if bias else None

    def extra_repr(self):
        """torch.nn.Conv2d's extra_repr: stride always, padding and output_padding where not 0."""
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={_as_pair(self.stride)}")
        if _as_pair(self.padding) != (0, 0):
            text += f", padding={_as_pair(self.padding)}"
        if _as_pair(getattr(self, "output_padding", 0)) != (0, 0):
            text += f", output_padding={_as_pair(self.output_padding)}"
        return text + (", bias=False" if self.bias is None else "")


def _as_pair(value):
    """An int as (int, int), as PyTorch stores a conv's settings; anything else as it is."""
    return (value, value) if isinstance(value, int) else tuple(value)


def _fan_in(channels, kernel_size):
    kh, kw = ops.conv._pair(kernel_size, "kernel_size")
    return channels * kh * kw


class Conv2d(_ConvNd):
    """Conv layer, weight (out_channels, in_channels, k, k) as in PyTorch; dilation and groups
    other than 1 are refused in one line."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros"):
        F._refuse("Conv2d", dilation=(dilation, 1), groups=(groups, 1),
                  padding_mode=(padding_mode, "zeros"))
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         (out_channels, in_channels), _fan_in(in_channels, kernel_size), bias)

    def forward(self, x):
        return self.forward_with(x, self.weight)

    def forward_with(self, x, weight):
        """The layer with ``weight`` in place of its own (SpectralNorm's normalised one)."""
        return F.conv2d(x, weight, self.bias, stride=self.stride, padding=self.padding)


class ConvTranspose2d(_ConvNd):
    """Transposed conv layer, weight (in_channels, out_channels, k, k) as in PyTorch, whose
    fan_in (for the default init) is out_channels * k * k, from weight.shape[1:] as PyTorch's."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros"):
        F._refuse("ConvTranspose2d", groups=(groups, 1), dilation=(dilation, 1),
                  padding_mode=(padding_mode, "zeros"))
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         (in_channels, out_channels), _fan_in(out_channels, kernel_size), bias)
        self.output_padding = output_padding

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, stride=self.stride,
                                  padding=self.padding, output_padding=self.output_padding)
