"""Dtypes under PyTorch's names, and the default dtype that float data is made with.

tinygan's dtypes are NumPy dtypes: ``tinygan.float32`` is ``numpy.dtype("float32")``, so
``dtype=tinygan.float32``, ``dtype=np.float32`` and ``dtype="float32"`` all mean the same.
The default dtype (float32, as PyTorch's) is what ``Tensor(data)``, ``tensor([1.0])`` and the
creation functions make; ``set_default_dtype(tinygan.float64)`` changes it, as PyTorch's does.
tinygan's ops compute in float32 and float64 only, so those are the two defaults it accepts.
"""
import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # noqa: A001  (PyTorch's names)
float64 = double = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # noqa: A001
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001

FLOAT_DTYPES = (float32, float64)  # the dtypes tinygan ops compute in, hence the defaults
_default = float32


def as_dtype(dtype, name="dtype"):
    """``dtype`` (a tinygan or NumPy dtype, a NumPy type, a name, or Python's float, int or
    bool) as a NumPy dtype; ``name`` is the argument named in the error."""
    if isinstance(dtype, np.dtype):
        return dtype
    if dtype is None:  # np.dtype(None) is float64; what None means is the caller's to say
        raise TypeError(f"{name}: expected a dtype such as tinygan.float32, got None")
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: expected a dtype such as tinygan.float32, got "
                        f"{type(dtype).__name__} {dtype!r}") from None


def get_default_dtype():
    """The dtype that floating-point data is made with when no dtype is given (float32 unless
    set_default_dtype changed it)."""
    return _default


def set_default_dtype(d):
    """Make ``d`` (float32 or float64) the dtype that floating-point data is made with."""
    global _default
    d = as_dtype(d, "set_default_dtype")
    if d not in FLOAT_DTYPES:
        raise TypeError(f"set_default_dtype: expected float32 or float64 (the dtypes tinygan "
                        f"ops compute in), got {d}")
    _default = d
