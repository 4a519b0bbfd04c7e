"""MaxPool2d and AvgPool2d over non-overlapping windows (stride = kernel_size, no padding)."""
from . import functional as F
from .module import Module


class _Pool2d(Module):
    """Pooling over non-overlapping kernel_size windows with the function named by ``pool``;
    other strides, padding and ceil_mode are refused in one line."""

    def __init__(self, kernel_size=2, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        F._check_pool(type(self).__name__, kernel_size, stride, padding, ceil_mode)
        self.kernel_size = kernel_size

    def forward(self, x):
        return self.pool(x, self.kernel_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.kernel_size}, padding=0"


class MaxPool2d(_Pool2d):
    """The maximum of each kernel_size x kernel_size window (stride = kernel_size, no padding)."""

    pool = staticmethod(F.max_pool2d)
    """The pooling function forward applies: F.max_pool2d."""

    def __init__(self, kernel_size=2, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        F._refuse("MaxPool2d", dilation=(dilation, 1), return_indices=(return_indices, False))
        super().__init__(kernel_size, stride, padding, ceil_mode)

    def extra_repr(self):
        return super().extra_repr() + ", dilation=1, ceil_mode=False"


class AvgPool2d(_Pool2d):
    """The mean of each kernel_size x kernel_size window (stride = kernel_size, no padding)."""

    pool = staticmethod(F.avg_pool2d)
    """The pooling function forward applies: F.avg_pool2d."""

    def __init__(self, kernel_size=2, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        F._refuse("AvgPool2d", divisor_override=(divisor_override, None))
        super().__init__(kernel_size, stride, padding, ceil_mode)
