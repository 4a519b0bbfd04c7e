"""Activations: ReLU, LeakyReLU (both with inplace=), Tanh, Sigmoid, Softmax, LogSoftmax."""
from . import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0); with inplace=True the input tensor itself is overwritten and returned, as
    PyTorch's (refused in one line where tinygan's graph cannot follow: see tinygan.inplace)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = F._check_inplace("ReLU", inplace)

    def forward(self, x):
        return F.relu(x, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x; inplace=True as ReLU's."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = F._check_inplace("LeakyReLU", inplace)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, inplace=self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    """y = tanh(x), elementwise."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x)), elementwise."""

    def forward(self, x):
        return F.sigmoid(x)


class Softmax(Module):
    """softmax along dim (required: PyTorch's implicit choice is deprecated)."""

    function = staticmethod(F.softmax)
    """The function applied along dim (F.softmax; LogSoftmax's: F.log_softmax)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return self.function(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log_softmax along dim, computed as x - logsumexp(x)."""

    function = staticmethod(F.log_softmax)
