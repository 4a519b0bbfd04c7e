"""tinygan: a small deep-learning framework on NumPy (and CuPy) that trains a DCGAN."""
import os

# After each matrix product OpenBLAS's idle threads spin before they sleep, taking the cores
# from the numba kernels that run next; a timeout of 2^4 cycles lets them sleep at once
# (docs/performance.md has the numbers). OpenBLAS reads it when NumPy first loads it, so
# import tinygan before NumPy (and before PyTorch, which loads NumPy).
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from . import autograd, dtypes, nn, ops, optim, viz  # noqa: E402
from .dtypes import (  # noqa: E402, F401  (PyTorch's dtype names, float/int/bool too)
    bool, double, float, float16, float32, float64, get_default_dtype, half, int, int8, int16,
    int32, int64, long, set_default_dtype, short, uint8)
from .creation import (  # noqa: E402
    arange, empty, empty_like, eye, full, full_like, linspace, normal, ones, ones_like, rand,
    rand_like, randint, randn, randn_like, randperm, zeros, zeros_like)
from .random import (  # noqa: E402  (tinygan.random, as torch.random)
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state)
from .autograd import grad  # noqa: E402  (torch.autograd.grad's keywords, only_inputs too)
from .tensor import (  # noqa: E402
    DoubleTensor, FloatTensor, Function, LongTensor, Size, Tensor, from_numpy, is_grad_enabled,
    no_grad, tensor)

# float, int and bool stay out of __all__: ``from tinygan import *`` must not hide the builtins.
# tinygan.tensor is the function, as torch.tensor; the module is importlib's "tinygan.tensor".
__all__ = ["DoubleTensor", "FloatTensor", "Function", "LongTensor", "Size", "Tensor", "double",
           "dtypes", "float16", "float32", "float64", "from_numpy", "get_default_dtype", "grad",
           "half", "int8", "int16", "int32", "int64", "is_grad_enabled", "long", "manual_seed",
           "nn", "no_grad", "ops", "optim", "set_default_dtype", "short", "tensor", "uint8", "viz"]
__all__ += ["Generator", "arange", "default_generator", "empty", "empty_like", "eye", "full",
            "full_like", "get_rng_state", "initial_seed", "linspace", "normal", "ones",
            "ones_like", "rand", "rand_like", "randint", "randn", "randn_like", "randperm", "seed",
            "set_rng_state", "zeros", "zeros_like"]
__all__ += ["autograd"]  # the module, as torch.autograd
from . import accelerator, cuda  # noqa: E402  (torch.accelerator, torch.cuda)
from .devices import device  # noqa: E402
__all__ += ["accelerator", "cuda", "device"]
from .serialization import load, save  # noqa: E402  (torch.save and torch.load, without pickle)
__all__ += ["load", "save"]
from .ops import cat, chunk, gather, split, stack  # noqa: E402
__all__ += ["cat", "chunk", "gather", "split", "stack"]
from .ops import (  # noqa: E402, A004  (abs, all, any, max, min, pow, sum as torch's)
    abs, all, any, argmax, argmin, clamp, clip, exp, log, masked_fill, max, mean, min, norm, pow,
    relu, sigmoid, sqrt, std, sum, tanh, var, where)
clone = Tensor.clone  # torch.clone(x) is x.clone()
# abs, all, any, max, min, pow and sum stay out of __all__, as float, int and bool do.
__all__ += ["argmax", "argmin", "clamp", "clip", "clone", "exp", "log", "masked_fill", "mean",
            "norm", "relu", "sigmoid", "sqrt", "std", "tanh", "var", "where"]
from .ops import flatten, permute, squeeze, transpose, unsqueeze  # noqa: E402
__all__ += ["flatten", "permute", "squeeze", "transpose", "unsqueeze"]
__version__ = "0.1.0"
from . import utils  # noqa: E402  (torch.utils: tinygan.utils.data.DataLoader)
__all__ += ["utils"]
from . import onnx  # noqa: E402  (torch.onnx: tinygan.onnx.export; loads the onnx package on use)
__all__ += ["onnx"]
