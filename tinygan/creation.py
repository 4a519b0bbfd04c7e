"""Tensors made from sizes and numbers: PyTorch's creation functions, with PyTorch's arguments.

Sizes come as PyTorch takes them: ``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros([2, 3])`` or
``zeros(size=(2, 3))`` (``full``, ``randint`` and ``normal`` take one tuple or list). Keywords:
``dtype=`` (default: the default dtype for floating-point results, int64 for integer ones, as
PyTorch), ``device=`` ("cpu" or "cuda"), ``requires_grad=`` and, for the random functions,
``generator=`` (default: the device's global generator, which ``manual_seed`` seeds; see
tinygan/random.py). Random draws are reproducible under a seed but are not PyTorch's numbers.
"""
import math
import numbers

import numpy as np

from . import backend as backends, dtypes, random as rng
from .tensor import Function, Tensor

DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.uint8, dtypes.int8,
          dtypes.int16, dtypes.int32, dtypes.int64, dtypes.bool)
SEQUENCES = (tuple, list)


def _dims(function, size):
    """``size``, a tuple or list of non-negative ints, as a shape."""
    if not isinstance(size, SEQUENCES):
        raise TypeError(f"{function}: size must be a tuple or list of ints, got "
                        f"{type(size).__name__} {size!r}")
    for dim in size:
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, (bool, np.bool_)):
            raise TypeError(f"{function}: size must be ints (as {function}(2, 3) or "
                            f"{function}((2, 3))), got {type(dim).__name__} {dim!r} in {size!r}")
        if dim < 0:
            raise ValueError(f"{function}: size must be non-negative, got {dim} in {size!r}")
    return tuple(int(dim) for dim in size)


def _shape(function, sizes, size):
    """The shape of ``f(*sizes)`` or ``f(size=size)``: ints, or one tuple or list of them."""
    if size is not None and sizes:
        raise TypeError(f"{function}: size given twice, as {sizes!r} and as size={size!r}")
    if size is None and not sizes:
        raise TypeError(f"{function}: missing the size (as {function}(2, 3) or "
                        f"{function}((2, 3)))")
    if size is None and len(sizes) == 1 and isinstance(sizes[0], SEQUENCES):
        size = sizes[0]
    return _dims(function, sizes if size is None else size)


def _count(function, name, value):
    """``value`` (an int >= 0: a length or a number of steps) as an int."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{function}: {name} must be an int, got {type(value).__name__} "
                        f"{value!r}")
    if value < 0:
        raise ValueError(f"{function}: {name} must be non-negative, got {value}")
    return int(value)


def _number(function, name, value, kind=numbers.Real):
    """``value`` (a number of ``kind``, or a 0-d Tensor) as a Python number."""
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.item()
    if not isinstance(value, kind) or (kind is numbers.Integral and isinstance(value, bool)):
        wanted = "an int" if kind is numbers.Integral else "a real number"
        raise TypeError(f"{function}: {name} must be {wanted}, got {type(value).__name__} "
                        f"{value!r}")
    return value.item() if isinstance(value, np.generic) else value


class _Call:
    """One creation call's keywords, checked: ``dtype`` (of the dtype kinds ``kinds``),
    ``device`` and its ``backend``, ``requires_grad`` and, for a ``random`` function, the
    ``generator`` (the device's global one if None). ``like``: the input of a *_like function,
    whose dtype and device are the defaults."""

    def __init__(self, function, dtype, device, requires_grad, default_dtype=None,
                 kinds="fiub", random=False, generator=None, like=None):
        self.function = function
        if like is not None and not isinstance(like, Tensor):
            raise TypeError(f"{function}: input must be a Tensor, got {type(like).__name__}")
        if dtype is None:
            dtype = like.dtype if like is not None else default_dtype or dtypes.get_default_dtype()
        self.dtype = dtypes.as_dtype(dtype, f"{function}(dtype=...)")
        if self.dtype not in DTYPES or self.dtype.kind not in kinds:
            allowed = ", ".join(str(d) for d in DTYPES if d.kind in kinds)
            raise TypeError(f"{function}: dtype {self.dtype} is not supported; it takes "
                            f"{allowed}")
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"{function}: requires_grad must be True or False, got "
                            f"{type(requires_grad).__name__} {requires_grad!r}")
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"{function}: requires_grad=True needs a floating-point dtype, got "
                            f"{self.dtype} (only floating-point tensors can require gradients)")
        self.requires_grad = bool(requires_grad)
        if device is None:
            device = like.device if like is not None else "cpu"
        self.device = rng.device_name(device)
        self.backend = backends.get(self.device)
        self.xp = self.backend.xp
        self.generator = self._generator(generator) if random else None

    def _generator(self, generator):
        """``generator``, checked to be a Generator on this call's device; None: the global one."""
        if generator is None:
            return rng.global_generator(self.device)
        if not isinstance(generator, rng.Generator):
            raise TypeError(f"{self.function}: generator must be a tinygan.Generator, got "
                            f"{type(generator).__name__}")
        if generator.device != self.device:
            raise ValueError(f"{self.function}: generator is on {generator.device!r} but the "
                             f"tensor is made on {self.device!r} (pass device= to match)")
        return generator

    def draw(self, kind, shape):
        """A floating-point array of ``shape`` drawn from the generator (normal or uniform)."""
        drawn = np.float64 if self.dtype == dtypes.float64 else np.float32
        return self.generator.draw(kind, shape, drawn)

    def tensor(self, array):
        """``array`` as this call's Tensor: its dtype, device and requires_grad."""
        return Tensor(self.backend.asarray(array, self.dtype), requires_grad=self.requires_grad,
                      dtype=self.dtype)


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of the given size."""
    call = _Call("zeros", dtype, device, requires_grad)
    return call.tensor(call.xp.zeros(_shape("zeros", sizes, size), call.dtype))


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of the given size."""
    call = _Call("ones", dtype, device, requires_grad)
    return call.tensor(call.xp.ones(_shape("ones", sizes, size), call.dtype))


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of the given size."""
    call = _Call("empty", dtype, device, requires_grad)
    return call.tensor(call.xp.empty(_shape("empty", sizes, size), call.dtype))


def _fill_dtype(fill_value):
    """The dtype ``full`` gives a fill value when no dtype is given, as PyTorch: bool, int64
    for an int, else the default dtype."""
    if isinstance(fill_value, (bool, np.bool_)):
        return dtypes.bool
    return dtypes.int64 if isinstance(fill_value, numbers.Integral) else None


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of the given size (a tuple or list) filled with ``fill_value``."""
    fill_value = _number("full", "fill_value", fill_value)
    call = _Call("full", dtype, device, requires_grad, default_dtype=_fill_dtype(fill_value))
    return call.tensor(call.xp.full(_dims("full", size), fill_value, call.dtype))


def arange(start=None, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """A 1-D tensor of start, start + step, ... up to end (excluded): ``arange(end)`` or
    ``arange(start, end, step)``; int64 if all three are ints, else the default dtype."""
    if end is None:  # arange(end)
        start, end = 0, start
    if end is None:
        raise TypeError("arange: missing end (as arange(5) or arange(0, 5, 1))")
    start = 0 if start is None else start  # arange(end=end)
    start, end, step = (_number("arange", name, value)
                        for name, value in (("start", start), ("end", end), ("step", step)))
    integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    call = _Call("arange", dtype, device, requires_grad, kinds="fiu",
                 default_dtype=dtypes.int64 if integral else None)
    if call.dtype.kind != "f":  # PyTorch casts the bounds to an integer dtype first
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: end={end} lies on the wrong side of start={start} for "
                         f"step={step}")
    if call.dtype.kind == "f":  # computed in float64, then rounded, as PyTorch
        count = math.ceil((end - start) / step)
        return call.tensor(start + step * call.xp.arange(count, dtype=np.float64))
    return call.tensor(call.xp.arange(start, end, step, dtype=np.int64))


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """A 1-D tensor of ``steps`` evenly spaced values from start to end, both included."""
    start, end = _number("linspace", "start", start), _number("linspace", "end", end)
    steps = _count("linspace", "steps", steps)
    call = _Call("linspace", dtype, device, requires_grad, kinds="fiu")
    # PyTorch's formula, in the dtype for floats (in float64 for integers): the first half
    # counts up from start, the second down from end, so both ends are exact (one step: start)
    computed = call.dtype.type if call.dtype.kind == "f" else np.float64
    start, end = computed(start), computed(end)
    step = (end - start) / computed(max(steps - 1, 1))
    index = call.xp.arange(steps, dtype=computed)
    values = call.xp.where(index < max(steps // 2, 1), start + step * index,
                           end - step * (computed(steps - 1) - index))
    return call.tensor(values)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """A 2-D tensor (n, m; m = n by default) with ones on the diagonal, zeros elsewhere."""
    n = _count("eye", "n", n)
    m = n if m is None else _count("eye", "m", m)
    call = _Call("eye", dtype, device, requires_grad)
    return call.tensor(call.xp.eye(n, m, dtype=call.dtype))


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """A tensor of the given size drawn from the standard normal distribution N(0, 1)."""
    call = _Call("randn", dtype, device, requires_grad, kinds="f", random=True,
                 generator=generator)
    return call.tensor(call.draw("normal", _shape("randn", sizes, size)))


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """A tensor of the given size drawn uniformly from [0, 1)."""
    call = _Call("rand", dtype, device, requires_grad, kinds="f", random=True,
                 generator=generator)
    return call.tensor(call.draw("uniform", _shape("rand", sizes, size)))


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """A tensor of the given size (a tuple or list) of integers drawn uniformly from
    [low, high): ``randint(high, size)`` or ``randint(low, high, size)``; int64 by default."""
    if size is None and high is not None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=size)
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing size (as randint(10, (3,)) or randint(0, 10, (3,)))")
    low, high = (_number("randint", name, value, numbers.Integral)
                 for name, value in (("low", low), ("high", high)))
    call = _Call("randint", dtype, device, requires_grad, default_dtype=dtypes.int64,
                 random=True, generator=generator)
    if high <= low:
        raise ValueError(f"randint: high must be greater than low, got low={low}, high={high}")
    info = np.iinfo(call.dtype if call.dtype.kind in "iu" else np.int64)
    lowest, highest = (0, 1) if call.dtype == dtypes.bool else (info.min, info.max)
    if low < lowest or high - 1 > highest:
        raise ValueError(f"randint: [low, high) = [{low}, {high}) does not fit dtype "
                         f"{call.dtype} ({lowest} to {highest})")
    return call.tensor(call.generator.draw("integers", low, high, _dims("randint", size)))


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A 1-D tensor of 0, ..., n - 1 in a random order (int64 by default)."""
    n = _count("randperm", "n", n)
    call = _Call("randperm", dtype, device, requires_grad, kinds="fiu",
                 default_dtype=dtypes.int64, random=True, generator=generator)
    return call.tensor(call.generator.draw("permutation", n))


class _Normal(Function):
    """mean + std z, z ~ N(0, 1) from a generator, for tensor mean or std. As in PyTorch the
    result is in the graph (it requires grad where mean or std does) with a zero gradient."""

    def forward(self, mean, std, call):
        """mean + std z, z drawn by ``call`` (a _Call) in the broadcast shape."""
        if bool((std < 0).any()):
            raise ValueError("normal: std must be >= 0 in every element")
        self.shapes = mean.shape, std.shape
        return mean + std * call.draw("normal", np.broadcast_shapes(mean.shape, std.shape))

    def backward(self, gy):
        """Zero gradients for mean and std, as PyTorch's normal gives."""
        return tuple(Tensor(self.xp.zeros(shape, gy.dtype), dtype=gy.dtype)
                     for shape in self.shapes)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """A tensor drawn from N(mean, std^2): ``normal(mean, std, size)`` for numbers, or elementwise
    for a tensor mean or std (then the result has their broadcast shape, dtype and device)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None or dtype is not None or device is not None or requires_grad:
            raise TypeError("normal: size, dtype, device and requires_grad go with number mean "
                            "and std; with a tensor mean or std the result follows the tensor")
        like = mean if isinstance(mean, Tensor) else std
        call = _Call("normal", None, None, False, kinds="f", random=True, generator=generator,
                     like=like)
        return _Normal.apply(mean, std, call=call)
    mean, std = _number("normal", "mean", mean), _number("normal", "std", std)
    if size is None:
        raise TypeError("normal: missing size (as normal(0.0, 1.0, (2, 3))) for number mean "
                        "and std")
    if std < 0:
        raise ValueError(f"normal: std must be >= 0, got {std}")
    call = _Call("normal", dtype, device, requires_grad, kinds="f", random=True,
                 generator=generator)
    return call.tensor(mean + std * call.draw("normal", _dims("normal", size)))


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """A tensor of zeros with the shape of ``input`` (and its dtype and device by default)."""
    call = _Call("zeros_like", dtype, device, requires_grad, like=input)
    return call.tensor(call.xp.zeros(input.shape, call.dtype))


def ones_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """A tensor of ones with the shape of ``input`` (and its dtype and device by default)."""
    call = _Call("ones_like", dtype, device, requires_grad, like=input)
    return call.tensor(call.xp.ones(input.shape, call.dtype))


def empty_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """An uninitialised tensor with the shape of ``input`` (and its dtype and device)."""
    call = _Call("empty_like", dtype, device, requires_grad, like=input)
    return call.tensor(call.xp.empty(input.shape, call.dtype))


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """A tensor with the shape of ``input`` (and its dtype and device) filled with fill_value."""
    fill_value = _number("full_like", "fill_value", fill_value)
    call = _Call("full_like", dtype, device, requires_grad, like=input)
    return call.tensor(call.xp.full(input.shape, fill_value, call.dtype))


def randn_like(input, *, generator=None, dtype=None, device=None,  # noqa: A002
               requires_grad=False):
    """A tensor with the shape of ``input`` (and its dtype and device) drawn from N(0, 1)."""
    call = _Call("randn_like", dtype, device, requires_grad, kinds="f", random=True,
                 generator=generator, like=input)
    return call.tensor(call.draw("normal", input.shape))


def rand_like(input, *, generator=None, dtype=None, device=None,  # noqa: A002
              requires_grad=False):
    """A tensor with the shape of ``input`` (and its dtype and device) drawn from U[0, 1)."""
    call = _Call("rand_like", dtype, device, requires_grad, kinds="f", random=True,
                 generator=generator, like=input)
    return call.tensor(call.draw("uniform", input.shape))
