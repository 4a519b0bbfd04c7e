"""The CuPy backend: arrays in GPU memory; im2col, col2im and the fused updates are our own
CUDA kernels from kernels/NAME.cu, compiled on first use (and cached) with cupy.RawKernel.

Every launch passes contiguous float32 arrays and numpy-typed scalars (np.int32 for ``int``,
np.int64 for ``long long``, np.float32 for ``float``): RawKernel ignores strides, and sends a
bare Python int as 8 bytes, which would garble an ``int`` parameter.
"""
import functools
import math
from pathlib import Path

import numpy as np

from . import winograd
from .layout import channel_major, empty_images

try:
    import cupy
except ImportError as error:
    cupy, _IMPORT_ERROR = None, error

name = "cuda"
xp = cupy
BLOCK = 256
MAX_BLOCKS = 65535  # grid-stride loops cover anything larger
INSTALL_HINT = 'install CuPy with: pip install -e ".[cuda]"'
COMPILE_OPTIONS = ("-std=c++14",)  # NVRTC options; tests/test_cuda_compile.py uses the same
_kernels = {}


def check_available():
    """Raise a RuntimeError that says why when CuPy or a usable GPU is missing."""
    if cupy is None:
        raise RuntimeError(f"the cuda device needs CuPy, which is not installed "
                           f"({_IMPORT_ERROR}); {INSTALL_HINT}")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as error:
        raise RuntimeError(f"CuPy is installed but no GPU is usable: {error}") from None
    if count == 0:
        raise RuntimeError("CuPy is installed but no GPU was found")


def kernel_dir():
    """kernels/ of a checkout, or the copy installed inside the tinygan package."""
    here = Path(__file__).resolve().parent.parent  # tinygan/
    for folder in (here / "kernels", here.parent / "kernels"):
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"no kernels/ folder beside {here} or inside it")


def kernel(kernel_name):
    """The compiled RawKernel of kernels/NAME.cu (compiled once per process)."""
    if kernel_name not in _kernels:
        path = kernel_dir() / f"{kernel_name}.cu"
        compiled = cupy.RawKernel(path.read_text(), kernel_name, options=COMPILE_OPTIONS)
        try:
            compiled.compile()
        except cupy.cuda.compiler.CompileException as error:
            raise RuntimeError(f"{path} failed to compile:\n{error}") from None
        _kernels[kernel_name] = compiled
    return _kernels[kernel_name]


def launch(kernel_name, size, args):
    """Run a grid-stride kernel over ``size`` elements."""
    blocks = max(1, min(math.ceil(size / BLOCK), MAX_BLOCKS))
    kernel(kernel_name)((blocks,), (BLOCK,), args)


def asarray(array, dtype=None):
    """Host data (or a CuPy array) as a CuPy array on the current GPU."""
    return cupy.asarray(array, dtype=dtype)


def to_numpy(array):
    """Copy a CuPy array to host memory."""
    return cupy.asnumpy(array)


def synchronize():
    """Wait until the GPU has finished all queued work."""
    cupy.cuda.Device().synchronize()


def _check_float32(*arrays):
    for a in arrays:
        if a.dtype != np.float32:
            raise TypeError(f"the cuda backend computes in float32, got {a.dtype}")


def _float32(*arrays):
    """Contiguous float32 copies (or the arrays themselves when they already are)."""
    _check_float32(*arrays)
    return [cupy.ascontiguousarray(a) for a in arrays]


def _check_shapes(name, shape, *arrays):
    """A kernel trusts its sizes: refuse arrays whose shape differs from ``shape``."""
    for a in arrays:
        if a.shape != shape:
            raise ValueError(f"{name}: expected an array of shape {shape}, got {a.shape}")


def _geometry(n, c, h, w, kernel_size, stride, padding, oh, ow):
    """The 14 int arguments of im2col.cu and col2im.cu, as np.int32."""
    return tuple(np.int32(v) for v in (n, c, h, w, *kernel_size, *stride, *padding, oh, ow))


def im2col(x, kernel_size, stride, padding):
    """col[c, i, j, n, oh, ow] = x_padded[n, c, stride_h * oh + i, stride_w * ow + j]
    (kernels/im2col.cu, which reads x channel-major).
    """
    _check_float32(x)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    col = cupy.empty((c, kh, kw, n, oh, ow), dtype=np.float32)
    launch("im2col", col.size, (channel_major(cupy, x), col)
           + _geometry(n, c, h, w, kernel_size, stride, padding, oh, ow))
    return col


def col2im(col, image_size, stride, padding):
    """The adjoint of im2col, one thread per pixel gathering its column entries
    (kernels/col2im.cu, which writes x channel-major).
    """
    (col,) = _float32(col)
    c, kh, kw, n, oh, ow = col.shape
    h, w = image_size
    x = empty_images(cupy, (n, c, h, w), np.float32)
    launch("col2im", x.size, (col, channel_major(cupy, x))
           + _geometry(n, c, h, w, (kh, kw), stride, padding, oh, ow))
    return x


# Winograd's transforms as CuPy array expressions (winograd.py), not yet kernels of their own.
winograd_filter = functools.partial(winograd.filter_transform, cupy)
winograd_filter_adjoint = functools.partial(winograd.filter_transform_adjoint, cupy)
winograd_input = functools.partial(winograd.input_transform, cupy)
winograd_input_adjoint = functools.partial(winograd.input_transform_adjoint, cupy)
winograd_output = functools.partial(winograd.output_transform, cupy)
winograd_output_adjoint = functools.partial(winograd.output_transform_adjoint, cupy)


def winograd_products(a, b):
    """The 25 matrix products a[uv] @ b[uv] of the transformed domain."""
    return a @ b


def leaky_relu(x, slope):
    """y = x if x > 0 else slope x (a CuPy elementwise kernel)."""
    return cupy.where(x > 0, x, x * slope)


def leaky_relu_backward(x, gy, slope):
    """gx = gy if x > 0 else slope gy (a CuPy elementwise kernel)."""
    return cupy.where(x > 0, gy, gy * slope)


def adam_update(p, g, m, v, lr, b1, b2, eps, bias1, bias2):
    """In place:

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    p -= lr (m / bias1) / (sqrt(v / bias2) + eps)
    """
    (g,) = _float32(g)
    _check_shapes("adam_update", p.shape, g, m, v)
    for a in (p, m, v):
        if a.dtype != np.float32 or not a.flags.c_contiguous:
            raise TypeError("adam_update updates p, m and v in place: "
                            "they must be contiguous float32")
    scalars = tuple(np.float32(s) for s in (lr, b1, b2, eps, bias1, bias2))
    launch("adam", p.size, (p, g, m, v, np.int64(p.size)) + scalars)


def _channels(*arrays):
    """Each (N, C, ...) array as the bn_act kernels take it: contiguous float32 (C, M), M values
    per channel (a view of a channel-major array, a copy of any other)."""
    _check_float32(*arrays)
    return [channel_major(cupy, a).reshape(a.shape[1], -1) for a in arrays]


def _channel_layout(x):
    """(size, channels, inner) arguments of the bn_act kernels for a (C, M) array."""
    return np.int64(x.size), np.int32(x.shape[0]), np.int32(x.shape[1])


def _check_per_channel(name, x, *per_channel):
    """The (C,) arrays of an (N, C, ...) x as contiguous float32, after checking their shape."""
    _check_shapes(name, x.shape[1:2], *per_channel)
    return _float32(*per_channel)


def bn_act_forward(x, mean, inv_std, gamma, beta, slope):
    """y = act(gamma (x - mean) inv_std + beta) in one pass (kernels/bn_act_forward.cu)."""
    stats = _check_per_channel("bn_act_forward", x, mean, inv_std, gamma, beta)
    y = empty_images(cupy, x.shape, np.float32)
    (xc, yc) = _channels(x, y)
    launch("bn_act_forward", xc.size,
           (xc, *stats, yc) + _channel_layout(xc) + (np.float32(slope),))
    return y


def bn_statistics(x):
    """(mean, var) of x per channel (axis 1) over every other axis; var is the biased one
    (CuPy's reductions over the channel-major (C, M) view)."""
    (xc,) = _channels(x)
    return xc.mean(axis=1), xc.var(axis=1)


def bn_act_backward_sums(x, mean, inv_std, gamma, beta, slope, gy):
    """(sum of gz, sum of gz * xhat) per channel: kernels/bn_act_backward_pre.cu writes gz and
    gz * xhat in one pass, CuPy sums their (C, M) rows."""
    _check_shapes("bn_act_backward_sums", x.shape, gy)
    stats = _check_per_channel("bn_act_backward_sums", x, mean, inv_std, gamma, beta)
    xc, gyc = _channels(x, gy)
    gz, gz_xhat = cupy.empty_like(xc), cupy.empty_like(xc)
    launch("bn_act_backward_pre", xc.size,
           (xc, gyc, *stats, gz, gz_xhat) + _channel_layout(xc) + (np.float32(slope),))
    return gz.sum(axis=1), gz_xhat.sum(axis=1)


def bn_act_backward_input(x, mean, inv_std, gamma, beta, slope, gy, sum_gz, sum_gz_xhat, m):
    """gx = gamma inv_std (gz - (sum_gz + xhat sum_gz_xhat) / m) in one pass
    (kernels/bn_act_backward_input.cu).
    """
    _check_shapes("bn_act_backward_input", x.shape, gy)
    stats = _check_per_channel("bn_act_backward_input", x, mean, inv_std, gamma, beta)
    sums = _check_per_channel("bn_act_backward_input", x, sum_gz, sum_gz_xhat)
    gx = empty_images(cupy, x.shape, np.float32)
    xc, gyc, gxc = _channels(x, gy, gx)
    launch("bn_act_backward_input", xc.size, (xc, *stats, gyc, *sums, gxc)
           + _channel_layout(xc) + (np.float32(slope), np.float32(m)))
    return gx
