"""Dropout: in training each element zeroed with probability p, the rest scaled by 1/(1-p)."""
from . import functional as F
from .module import Module


class Dropout(Module):
    """F.dropout in training mode (drawing from the global generator), the identity in eval."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = F._check_p("Dropout", p)
        self.inplace = F._check_inplace("Dropout", inplace)

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """F.dropout2d in training mode (whole channels zeroed), the identity in eval."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, self.inplace)
