"""Linear, Identity and Flatten."""
from . import functional as F
from .init import default_uniform
from .module import Module, Parameter
from .. import ops


class Linear(Module):
    """Dense layer y = x @ weight.T + bias, weight (out_features, in_features) as in PyTorch."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(default_uniform((out_features, in_features), in_features))
        self.bias = Parameter(default_uniform((out_features,), in_features)) if bias else None

    def forward(self, x):
        return self.forward_with(x, self.weight)

    def forward_with(self, x, weight):
        """The layer with ``weight`` in place of its own (SpectralNorm's normalised one)."""
        return F.linear(x, weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (its arguments accepted and ignored, as PyTorch's)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge every axis from ``start_dim`` on (default 1: keep the batch axis)."""

    def __init__(self, start_dim=1):
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x):
        return ops.flatten(x, self.start_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim=-1"
