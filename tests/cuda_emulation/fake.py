"""A NumPy stand-in for the part of CuPy that tinygan uses, so the CUDA backend runs in CI.

``module`` is what ``import cupy`` gives while ``installed()`` is active:

- ``ndarray`` is a NumPy subclass, a type of its own as cupy.ndarray is. As in CuPy, mixing it
  with NumPy arrays in arithmetic or in ``cupy.*`` functions is a TypeError, host data reaches
  the device only through ``asarray``/``array`` (which copy), and ``asnumpy``/``get`` copy back.
- ``RawKernel`` builds the unchanged .cu source with the host emulator (build.py) and checks
  each launch the way the GPU needs it: grid and block tuples within CUDA's limits, one
  argument per parameter, float32 C-contiguous device arrays for pointers, and exactly
  numpy.int32 / int64 / float32 for int / long long / float.
- ``cuda`` has ``runtime.getDeviceCount`` (1), ``Device(0).use``/``synchronize`` (nothing to
  wait for), ``get_current_stream`` (the null stream), ``runtime.CUDARuntimeError``,
  ``compiler.CompileException`` and ``nccl``, NCCL's collectives over MPI (nccl.py);
  ``ndarray.data.ptr`` is the address NCCL's calls take.
- ``random`` has ``RandomState`` (standard_normal, random_sample, randint, permutation, seed),
  drawing with NumPy: CuPy's arguments and checks, not CuPy's numbers.

Only names that real CuPy also has are offered; any other attribute is an AttributeError
that says so. Not emulated: ``numpy.asarray(device_array)`` works here (CuPy refuses it).
"""
import collections
import contextlib
import functools
import importlib
import sys
import types

import numpy as np

import tinygan.backend as registry

from . import nccl
from .build import BuildError, EmulatedKernel, kernel_file

# Every name here is in CuPy's top-level namespace (checked in cupy/__init__.py of 15.0.0a1).
FUNCTIONS = (
    "abs", "absolute", "add", "all", "allclose", "any", "arange", "ascontiguousarray",
    "broadcast_to", "clip", "concatenate", "copy", "divide", "dot", "empty", "empty_like", "exp",
    "expand_dims", "eye", "full", "full_like", "isfinite", "isnan", "log", "log1p", "matmul",
    "maximum", "mean", "minimum", "moveaxis", "multiply", "negative", "ones", "ones_like", "outer",
    "pad", "prod", "reshape", "sign", "sqrt", "square", "stack", "subtract", "sum", "tanh",
    "tensordot", "transpose", "var", "where", "zeros", "zeros_like",
)
NUMPY_NAMES = ("bool_", "dtype", "finfo", "float16", "float32", "float64", "inf", "int32",
               "int64", "nan", "newaxis", "result_type", "uint8")
# CUDA's launch limits (compute capability 5.0 and later).
GRID_LIMITS = (2**31 - 1, 65535, 65535)
BLOCK_LIMITS = (1024, 1024, 64)
MAX_THREADS_PER_BLOCK = 1024
LAUNCHES = collections.Counter()  # kernel name -> launches so far, for tests to check coverage
# Every device call so far, by what it is ("kernel.im2col", "ufunc.add.__call__",
# "cupy.zeros", "setitem", "astype", "random.randint"), counted as NumPy executes it: an upper
# bound for CuPy, which runs mean or var as one reduction where NumPy makes two or three calls.
CALLS = collections.Counter()
# Device-to-host copies so far (asnumpy, get, float, int, bool, item, tolist): each one waits
# for the device to finish all queued work.
TO_HOST = collections.Counter()
# cupy functions that make a view or an uninitialised array: no kernel runs.
VIEWS = {"broadcast_to", "empty", "empty_like", "expand_dims", "moveaxis", "reshape",
         "transpose"}


class ndarray(np.ndarray):  # noqa: N801 (the name CuPy uses)
    """A device array: NumPy memory under its own type, refusing to mix with NumPy arrays."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """Run a ufunc on host views of device arrays; NumPy array operands are refused."""
        CALLS[f"ufunc.{ufunc.__name__}.{method}"] += 1
        out = kwargs.get("out", ())
        refuse_host_arrays(ufunc.__name__, inputs + out)
        if out:
            kwargs["out"] = host_view(out)
        result = getattr(ufunc, method)(*host_view(inputs), **kwargs)
        if out:
            return out[0] if len(out) == 1 else out
        return to_device(result)

    def __getitem__(self, index):
        """Index as NumPy does, but give a 0-d device array where NumPy gives a scalar."""
        return to_device(super().__getitem__(host_view(index)))

    def __setitem__(self, index, value):
        """Assign as NumPy does: one copy (or fill) kernel on the device."""
        refuse_host_arrays("ndarray.__setitem__", (value,))
        CALLS["setitem"] += 1
        super().__setitem__(host_view(index), host_view(value))

    def astype(self, dtype, *args, **kwargs):
        """A cast: a copy kernel unless the dtype is already the one asked for (copy=False)."""
        if np.dtype(dtype) != self.dtype or kwargs.get("copy", True):
            CALLS["astype"] += 1
        return to_device(self.view(np.ndarray).astype(dtype, *args, **kwargs))

    @property
    def data(self):
        """Where the array's memory starts, as CuPy's ``ndarray.data.ptr``."""
        return MemoryPointer(self.ctypes.data)

    def get(self):
        """A NumPy copy of this array (cupy.ndarray.get)."""
        TO_HOST["get"] += 1
        return np.array(self.view(np.ndarray))

    def __float__(self):
        TO_HOST["float"] += 1
        return float(self.view(np.ndarray))

    def __int__(self):
        TO_HOST["int"] += 1
        return int(self.view(np.ndarray))

    def __bool__(self):
        TO_HOST["bool"] += 1
        return bool(self.view(np.ndarray))

    def item(self, *args):
        TO_HOST["item"] += 1
        return self.view(np.ndarray).item(*args)

    def tolist(self):
        TO_HOST["tolist"] += 1
        return self.view(np.ndarray).tolist()


def host_view(value):
    """Device arrays viewed as NumPy arrays, through tuples and lists; anything else as is."""
    if isinstance(value, ndarray):
        return value.view(np.ndarray)
    if isinstance(value, (tuple, list)):
        return type(value)(host_view(item) for item in value)
    return value


def to_device(value):
    """NumPy results as device arrays (scalars as 0-d arrays, as CuPy returns them)."""
    if isinstance(value, tuple):
        return tuple(to_device(item) for item in value)
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value).view(ndarray)
    return value


def refuse_host_arrays(function_name, values):
    """Raise CuPy's TypeError if a NumPy array is among values (through tuples and lists)."""
    for value in values:
        if isinstance(value, (tuple, list)):
            refuse_host_arrays(function_name, value)
        elif isinstance(value, np.ndarray) and not isinstance(value, ndarray):
            raise TypeError(f"cupy.{function_name}: Unsupported type {type(value)} (a NumPy "
                            f"array; move it to the device with cupy.asarray first)")


def device_function(name):
    """cupy.NAME: numpy.NAME on host views of device arrays, returning device arrays."""
    numpy_function = getattr(np, name)

    @functools.wraps(numpy_function)
    def function(*args, **kwargs):
        refuse_host_arrays(name, args + tuple(kwargs.values()))
        copies = name == "ascontiguousarray" and not host_view(args[0]).flags.c_contiguous
        if (name not in VIEWS and name != "ascontiguousarray") or copies:
            CALLS[f"cupy.{name}"] += 1
        kwargs = {key: host_view(value) for key, value in kwargs.items()}
        return to_device(numpy_function(*host_view(args), **kwargs))
    return function


def ufunc_at(name):
    """cupy.NAME.at (CuPy 12 and later): numpy.NAME.at, in place, on host views of device
    arrays; NumPy arrays among the operands or indices are refused."""
    numpy_ufunc = getattr(np, name)

    def at(a, indices, b=None):
        refuse_host_arrays(f"{name}.at", (a, indices, b))
        CALLS[f"ufunc.{name}.at"] += 1
        numpy_ufunc.at(host_view(a), host_view(indices), *(() if b is None else (host_view(b),)))
    return at


def asarray(a, dtype=None, order=None):
    """cupy.asarray: device arrays pass through (cast if asked); host data is copied over."""
    if isinstance(a, ndarray):
        return to_device(np.asarray(a.view(np.ndarray), dtype=dtype, order=order))
    return to_device(np.array(a, dtype=dtype, order=order))


def array(obj, dtype=None, copy=True, order="K"):
    """cupy.array: a device array; host data is always copied, device data when copy is True."""
    copy = copy or not isinstance(obj, ndarray)
    return to_device(np.array(host_view(obj), dtype=dtype, copy=copy, order=order))


def asnumpy(a):
    """cupy.asnumpy: a NumPy copy of a device array (counted by get); others as numpy.asarray."""
    return a.get() if isinstance(a, ndarray) else np.asarray(a)


def is_available():
    """cupy.is_available: the emulated device is always there."""
    return True


class CUDARuntimeError(RuntimeError):
    """cupy.cuda.runtime.CUDARuntimeError."""


class CompileException(Exception):
    """cupy.cuda.compiler.CompileException: the message is the compiler's log."""

    def __init__(self, msg, source, name, options, backend="nvrtc"):
        super().__init__(msg)
        self.source, self.name, self.options, self.backend = source, name, options, backend

    def get_message(self):
        """The compiler's log."""
        return str(self)


def get_device_count():
    """cupy.cuda.runtime.getDeviceCount: one emulated device."""
    return 1


class Device:
    """cupy.cuda.Device: the one emulated device."""

    def __init__(self, device=0):
        if device != 0:
            raise CUDARuntimeError(f"cudaErrorInvalidDevice: device {device} (the stand-in "
                                   f"has device 0 only)")

    def use(self):
        """Make this the current device: it always is."""

    def synchronize(self):
        """Kernels run to completion when launched: there is nothing to wait for."""


class MemoryPointer:
    """cupy.cuda.MemoryPointer: ``ptr`` is the address of an array's first element."""

    def __init__(self, ptr):
        self.ptr = ptr


class Stream:
    """cupy.cuda.Stream: the null stream, address 0."""
    ptr = 0


def get_current_stream():
    """cupy.cuda.get_current_stream: work is queued on the null stream."""
    return Stream()


def launch_shape(what, dims, limits):
    """A grid or block tuple padded to 3-D as CuPy pads it, checked against CUDA's limits."""
    if not (isinstance(dims, tuple) and 1 <= len(dims) <= 3
            and all(isinstance(d, (int, np.integer)) for d in dims)):
        raise TypeError(f"{what} must be a tuple of 1 to 3 ints (CuPy requires a tuple), "
                        f"got {dims!r}")
    shape = tuple(max(1, int(d)) for d in (dims + (1, 1))[:3])  # CuPy launches at least 1
    if any(d > limit for d, limit in zip(shape, limits)):
        raise ValueError(f"{what} {shape} exceeds CUDA's limits {limits}")
    return shape


def checked_argument(kernel_name, index, parameter, value):
    """``value`` if it can be passed to ``parameter`` as the GPU needs it; a clear error if not."""
    where = f"{kernel_name} argument {index} ({parameter.c_type} {parameter.name})"
    expected = parameter.numpy_type.__name__
    if parameter.is_pointer:
        if not isinstance(value, ndarray):
            raise TypeError(f"{where} must be a cupy.ndarray, got {type(value).__module__}."
                            f"{type(value).__name__}")
        if value.dtype != parameter.numpy_type:
            raise TypeError(f"{where} must be a {expected} array, got {value.dtype}")
        if not value.flags.c_contiguous:
            raise ValueError(f"{where} must be C-contiguous: a kernel reads raw memory and "
                             f"ignores strides (use cupy.ascontiguousarray)")
        return value
    if type(value) is not parameter.numpy_type:
        size = np.dtype(parameter.numpy_type).itemsize
        raise TypeError(f"{where} must be numpy.{expected}, got {type(value).__name__} "
                        f"{value!r}: CuPy sends a scalar with its own size (8 bytes for a "
                        f"Python int or float), and any other size garbles this {size}-byte "
                        f"parameter")
    return value


class RawKernel:
    """cupy.RawKernel, run by the host emulator with every launch argument checked."""

    def __init__(self, code, name, options=(), backend="nvrtc"):
        for label, value, kind in [("code", code, str), ("name", name, str),
                                   ("options", options, tuple), ("backend", backend, str)]:
            if not isinstance(value, kind):
                raise TypeError(f"RawKernel {label} must be a {kind.__name__} (as in CuPy), "
                                f"got {type(value).__name__}")
        self.code, self.name, self.options, self.backend = code, name, options, backend
        self._kernel = None

    def compile(self):
        """Build the kernel for the host (once); a failure raises CompileException with the log."""
        if self._kernel is not None:
            return
        try:
            self._kernel = EmulatedKernel(kernel_file(self.code, self.name), self.name)
        except BuildError as error:
            raise CompileException(str(error), self.code, self.name, self.options,
                                   self.backend) from error

    def __call__(self, grid, block, args, *, shared_mem=0):
        """Launch over grid x block with args, one per kernel parameter, checked first."""
        self.compile()
        if shared_mem:
            raise NotImplementedError("dynamic shared memory is not emulated")
        grid = launch_shape("grid", grid, GRID_LIMITS)
        block = launch_shape("block", block, BLOCK_LIMITS)
        if block[0] * block[1] * block[2] > MAX_THREADS_PER_BLOCK:
            raise ValueError(f"block {block} has more than {MAX_THREADS_PER_BLOCK} threads")
        parameters = self._kernel.parameters
        args = tuple(args)
        if len(args) != len(parameters):
            names = ", ".join(p.name for p in parameters)
            raise TypeError(f"{self.name} takes {len(parameters)} arguments ({names}), "
                            f"got {len(args)}")
        values = [checked_argument(self.name, index, parameter, value)
                  for index, (parameter, value) in enumerate(zip(parameters, args))]
        self._kernel.launch(grid, block, values)
        LAUNCHES[self.name] += 1
        CALLS[f"kernel.{self.name}"] += 1


class RandomState:
    """cupy.random.RandomState, cuRAND's generator on a GPU, here drawing with NumPy's PCG64:
    CuPy's methods with their arguments and checks, other numbers than CuPy's."""

    def __init__(self, seed=None, method=100):
        self.method = method
        self.seed(seed)

    def seed(self, seed=None):
        """Restart from ``seed``, which must cast safely to uint64 (a Python int does not)."""
        if seed is not None:
            seed = int(np.asarray(seed).astype(np.uint64, casting="safe"))
        self._numpy = np.random.default_rng(seed)

    def standard_normal(self, size=None, dtype=float):
        """Samples of N(0, 1), float32 or float64."""
        return self._draw("standard_normal", size, float_dtype(dtype))

    def random_sample(self, size=None, dtype=float):
        """Samples of U[0, 1), float32 or float64."""
        return self._draw("random", size, float_dtype(dtype))

    def randint(self, low, high=None, size=None, dtype=int):
        """Integers drawn uniformly from [low, high) (from [0, low) without high)."""
        low, high = (0, low) if high is None else (low, high)
        if low >= high:
            raise ValueError("low >= high")
        if low < np.iinfo(dtype).min or high - 1 > np.iinfo(dtype).max:
            raise ValueError(f"low or high is out of bounds for {np.dtype(dtype).name}")
        CALLS["random.randint"] += 1
        return to_device(np.asarray(self._numpy.integers(low, high, size), dtype))

    def permutation(self, a):
        """A permuted range(a) for a Python int (int64), else the array a permuted."""
        CALLS["random.permutation"] += 1
        if isinstance(a, int):
            return to_device(self._numpy.permutation(a))
        return a[to_device(self._numpy.permutation(len(a)))]

    def _draw(self, method, size, dtype):
        CALLS[f"random.{method}"] += 1
        return to_device(np.asarray(getattr(self._numpy, method)(size, dtype)))


def float_dtype(dtype):
    """``dtype`` if float32 or float64: the only ones cupy.random draws (else CuPy's error)."""
    dtype = np.dtype(dtype)
    if dtype.char not in "fd":
        raise TypeError("cupy.random only supports float32 and float64")
    return dtype


def module_getattr(name):
    """A clear AttributeError for CuPy names this stand-in does not offer."""
    raise AttributeError(f"the NumPy stand-in for cupy has no {name!r}: if CuPy has it, add it "
                         f"to FUNCTIONS or NUMPY_NAMES in {__name__}")


def make_modules():
    """The fake ``cupy`` package and its submodules, as {module name: module}."""
    runtime = types.ModuleType("cupy.cuda.runtime")
    runtime.getDeviceCount = get_device_count
    runtime.CUDARuntimeError = CUDARuntimeError
    compiler = types.ModuleType("cupy.cuda.compiler")
    compiler.CompileException = CompileException
    cuda = types.ModuleType("cupy.cuda")
    cuda.__dict__.update(runtime=runtime, compiler=compiler, nccl=nccl, Device=Device,
                         MemoryPointer=MemoryPointer, Stream=Stream,
                         get_current_stream=get_current_stream, is_available=is_available)
    random = types.ModuleType("cupy.random")
    random.RandomState = RandomState
    cupy = types.ModuleType("cupy", __doc__)
    cupy.__dict__.update({name: device_function(name) for name in FUNCTIONS})
    cupy.__dict__.update({name: getattr(np, name) for name in NUMPY_NAMES})
    cupy.add.at = ufunc_at("add")
    cupy.__dict__.update(ndarray=ndarray, asarray=asarray, array=array, asnumpy=asnumpy,
                         is_available=is_available, RawKernel=RawKernel, cuda=cuda,
                         random=random, __getattr__=module_getattr)
    modules = {module.__name__: module for module in (cupy, cuda, runtime, compiler, random)}
    return modules | {"cupy.cuda.nccl": nccl}  # the MPI-backed NCCL of nccl.py


MODULES = make_modules()
module = MODULES["cupy"]


@contextlib.contextmanager
def cuda_backend_on(cupy_modules):
    """Yield tinygan.backend.cuda imported on ``cupy_modules`` ({name: module or None})."""
    # On exit sys.modules and tinygan's backend registry are as they were before.
    backend_name = "tinygan.backend.cuda"
    saved_modules = {name: sys.modules.get(name) for name in [*MODULES, backend_name]}
    saved_backend = registry._loaded.pop("cuda", None)
    saved_attribute = registry.__dict__.pop("cuda", None)
    for name in saved_modules:
        sys.modules.pop(name, None)
    sys.modules.update(cupy_modules)
    try:
        yield importlib.import_module(backend_name)
    finally:
        registry._loaded.pop("cuda", None)
        registry.__dict__.pop("cuda", None)
        for name, saved_module in saved_modules.items():
            sys.modules.pop(name, None)
            if saved_module is not None:
                sys.modules[name] = saved_module
        if saved_backend is not None:
            registry._loaded["cuda"] = saved_backend
        if saved_attribute is not None:
            registry.cuda = saved_attribute


def installed():
    """Within the block, ``import cupy`` gives this fake and tinygan's cuda backend runs on it."""
    return cuda_backend_on(MODULES)


def not_installed():
    """Within the block, ``import cupy`` fails as it does where CuPy is not installed."""
    return cuda_backend_on({"cupy": None})
