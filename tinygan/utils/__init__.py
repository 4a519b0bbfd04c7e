"""Utilities under PyTorch's names: ``tinygan.utils.data`` is torch.utils.data, and
``tinygan.utils.tensorboard`` (imported by name, as PyTorch's) is torch.utils.tensorboard."""
from . import data  # noqa: F401

__all__ = ["data"]
