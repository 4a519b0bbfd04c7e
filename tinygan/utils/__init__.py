"""Utilities under PyTorch's names: ``tinygan.utils.data`` is torch.utils.data."""
from . import data  # noqa: F401

__all__ = ["data"]
