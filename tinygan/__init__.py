"""tinygan: a small deep-learning framework on NumPy (and CuPy) that trains a DCGAN."""
import os

# After each matrix product OpenBLAS's idle threads spin before they sleep, taking the cores
# from the numba kernels that run next; a timeout of 2^4 cycles lets them sleep at once
# (docs/performance.md has the numbers). OpenBLAS reads it when NumPy first loads it, so
# import tinygan before NumPy (and before PyTorch, which loads NumPy).
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from . import nn, ops, optim, viz  # noqa: E402
from .nn import manual_seed  # noqa: E402
from .tensor import Function, Tensor, grad, is_grad_enabled, no_grad  # noqa: E402

__all__ = ["Function", "Tensor", "grad", "is_grad_enabled", "manual_seed", "nn", "no_grad", "ops",
           "optim", "viz"]
__version__ = "0.1.0"
