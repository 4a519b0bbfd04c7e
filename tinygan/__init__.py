"""tinygan: a small deep-learning framework on NumPy (and CuPy) that trains a DCGAN."""
from . import nn, ops, optim
from .nn import manual_seed
from .tensor import Function, Tensor, is_grad_enabled, no_grad

__all__ = ["Function", "Tensor", "is_grad_enabled", "manual_seed", "nn", "no_grad", "ops", "optim"]
__version__ = "0.1.0"
