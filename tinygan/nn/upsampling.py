"""Upsample: nearest-neighbour upsampling by whole factors (F.interpolate)."""
from . import functional as F
from .module import Module


class Upsample(Module):
    """F.interpolate(x, size, scale_factor, mode) with mode 'nearest' (others refused in one
    line); scale_factor kept as a float, as PyTorch keeps it."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        F._refuse("Upsample", mode=(mode, "nearest"), align_corners=(align_corners, None))
        self.size, self.mode = size, mode
        self.scale_factor = (tuple(float(f) for f in scale_factor)
                             if isinstance(scale_factor, (tuple, list))
                             else None if scale_factor is None else float(scale_factor))

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode)

    def extra_repr(self):
        text = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        return text + f", mode={self.mode!r}"
