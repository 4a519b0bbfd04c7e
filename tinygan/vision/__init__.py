"""Vision as torchvision: ``tinygan.vision.datasets``, ``.transforms`` and ``.utils``."""
from . import datasets, transforms, utils  # noqa: F401

__all__ = ["datasets", "transforms", "utils"]
