"""The CuPy backend: arrays in GPU memory; im2col, col2im and the fused updates are our own
CUDA kernels from kernels/NAME.cu, compiled on first use (and cached) with cupy.RawKernel.

Every launch passes contiguous float32 arrays and numpy-typed scalars (np.int32 for ``int``,
np.int64 for ``long long``, np.float32 for ``float``): RawKernel ignores strides, and sends a
bare Python int as 8 bytes, which would garble an ``int`` parameter.
"""
import math
from pathlib import Path

import numpy as np

from .layout import channel_major, conv_output_size, empty_images

try:
    import cupy
except ImportError as error:
    cupy, _IMPORT_ERROR = None, error

name = "cuda"
xp = cupy
BLOCK = 256
MAX_BLOCKS = 65535  # grid-stride loops cover anything larger
MAX_CHANNEL_BLOCKS = 64  # blocks per channel of bn_sums: enough to fill a GPU at C >= 64
INSTALL_HINT = 'install CuPy with: pip install -e ".[cuda]" (".[cuda13]" for CUDA 13 drivers)'
LIBRARY_HINT = ('pip install -e ".[cuda]" (".[cuda13]" for CUDA 13 drivers) installs CuPy with '
                'the CUDA libraries it loads; or install the CUDA toolkit that matches CuPy')
# What CuPy says when it cannot load a CUDA library (CuPy 14's wording; dlopen's).
MISSING_LIBRARY = ("failed to load", "cannot open shared object file")
PROBE_KERNEL = 'extern "C" __global__ void probe(float* x) { x[threadIdx.x] += 1.0f; }'
COMPILE_OPTIONS = ("-std=c++14",)  # NVRTC options; tests/test_cuda_compile.py uses the same
_kernels = {}


def check_available():
    """Raise a one-line RuntimeError that says why and how to fix it when CuPy, a usable GPU,
    the compiler (NVRTC) or the matrix library (cuBLAS) is missing: one probe kernel is
    compiled and launched and one small product run, so nothing fails later, mid-run."""
    if cupy is None:
        raise RuntimeError(f"the cuda device needs CuPy, which is not installed "
                           f"({_IMPORT_ERROR}); {INSTALL_HINT}")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as error:
        raise RuntimeError(f"CuPy is installed but no GPU is usable: {error} (is the NVIDIA "
                           "driver installed and recent enough for this CuPy?)") from None
    if count == 0:
        raise RuntimeError("CuPy is installed but no GPU was found")
    for what, probe in (("compile and launch a kernel (NVRTC)", _probe_kernel),
                        ("run a matrix product (cuBLAS)", _probe_product)):
        try:
            probe()
        except Exception as error:  # noqa: BLE001  (any failure here becomes the one line)
            raise RuntimeError(_probe_failure(what, error)) from error


def _probe_failure(what, error):
    """The one line for a failed probe: the fix when a CUDA library is missing, else what
    really failed (a compile error, a wrong result, a bug), which no install would fix."""
    text = str(error).strip()
    reason = f"{type(error).__name__}: {text.splitlines()[0] if text else '(no message)'}"
    if isinstance(error, (OSError, ImportError)) or any(sign in text for sign in MISSING_LIBRARY):
        return f"CuPy found a GPU but cannot {what}: {reason}; {LIBRARY_HINT}"
    return (f"CuPy found a GPU but cannot {what}: {reason} (not a missing library: the probe "
            f"itself failed; please report it with the full error)")


def _probe_kernel():
    """Compile and launch a one-line kernel, and read its result back."""
    x = cupy.zeros(1, dtype=np.float32)
    cupy.RawKernel(PROBE_KERNEL, "probe", options=COMPILE_OPTIONS)((1,), (1,), (x,))
    if float(x[0]) != 1.0:
        raise RuntimeError(f"the probe kernel wrote {float(x[0])} instead of 1")


def _probe_product():
    """One 2x2 matrix product on cuBLAS."""
    a = cupy.ones((2, 2), dtype=np.float32)
    if float(cupy.matmul(a, a)[0, 0]) != 2.0:
        raise RuntimeError("a 2x2 product of ones is not 2")


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


def im2col(x, kernel, stride, padding):
    """col[c, i, j, n, oh, ow] = x_padded[n, c, stride_h * oh + i, stride_w * ow + j]
    (kernels/im2col.cu, which reads x channel-major).
    """
    _check_float32(x)
    n, c, h, w = x.shape
    kh, kw = kernel
    oh, ow = conv_output_size((h, w), kernel, stride, padding)
    col = cupy.empty((c, kh, kw, n, oh, ow), dtype=np.float32)
    launch("im2col", col.size, (channel_major(cupy, x), col)
           + _geometry(n, c, h, w, kernel, stride, padding, oh, ow))
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


def winograd_applies(image_size, kernel, stride, padding, in_channels, batch):
    """Never: on the GPU every conv is im2col (or col2im) and one cuBLAS product, three
    launches, where Winograd's transforms as CuPy array expressions took about 3,000 (one
    multiply and one add per term) and would leave each step host-bound."""
    return False


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
    """(mean, var) of x per channel (axis 1) over every other axis; var is the biased one.
    Two launches: kernels/bn_sums.cu adds each channel's values and squares in double, on a
    grid of (blocks, C), and kernels/bn_moments.cu turns the sums into float32 statistics."""
    (xc,) = _channels(x)
    channels, inner = xc.shape
    sums = cupy.zeros(2 * channels, dtype=np.float64)
    blocks = max(1, min(math.ceil(inner / BLOCK), MAX_CHANNEL_BLOCKS))
    kernel("bn_sums")((blocks, channels), (BLOCK,), (xc, sums, np.int32(inner)))
    mean, var = (cupy.empty(channels, dtype=np.float32) for _ in range(2))
    launch("bn_moments", channels, (sums, mean, var, np.int32(channels), np.int64(inner)))
    return mean, var


def bn_running_update(running_mean, running_var, mean, var, momentum, count):
    """In place, one launch (kernels/bn_running_update.cu):
    running_mean += momentum (mean - running_mean);
    running_var += momentum (var count / (count - 1) - running_var)."""
    for a in (running_mean, running_var):
        if a.dtype != np.float32 or not a.flags.c_contiguous:
            raise TypeError("bn_running_update updates the running statistics in place: "
                            "they must be contiguous float32")
    _check_shapes("bn_running_update", running_mean.shape, running_var, mean, var)
    mean, var = _float32(mean, var)
    launch("bn_running_update", mean.size,
           (running_mean, running_var, mean, var, np.int32(mean.size), np.float32(momentum),
            np.float32(count / (count - 1))))


def bn_act_backward_sums(x, mean, inv_std, gamma, beta, slope, gy):
    """(sum of gz, sum of gz * xhat) per channel: kernels/bn_act_backward_terms.cu writes gz and
    gz * xhat in one pass, CuPy sums their (C, M) rows."""
    _check_shapes("bn_act_backward_sums", x.shape, gy)
    stats = _check_per_channel("bn_act_backward_sums", x, mean, inv_std, gamma, beta)
    xc, gyc = _channels(x, gy)
    gz, gz_xhat = cupy.empty_like(xc), cupy.empty_like(xc)
    launch("bn_act_backward_terms", xc.size,
           (xc, gyc, *stats, gz, gz_xhat) + _channel_layout(xc) + (np.float32(slope),))
    return gz.sum(axis=1), gz_xhat.sum(axis=1)


def bn_act_backward_input(x, mean, inv_std, gamma, beta, slope, gy, sum_gz, sum_gz_xhat, count):
    """gx = gamma inv_std (gz - (sum_gz + xhat sum_gz_xhat) / count) in one pass
    (kernels/bn_act_backward_input.cu).
    """
    _check_shapes("bn_act_backward_input", x.shape, gy)
    stats = _check_per_channel("bn_act_backward_input", x, mean, inv_std, gamma, beta)
    sums = _check_per_channel("bn_act_backward_input", x, sum_gz, sum_gz_xhat)
    gx = empty_images(cupy, x.shape, np.float32)
    xc, gyc, gxc = _channels(x, gy, gx)
    launch("bn_act_backward_input", xc.size, (xc, *stats, gyc, *sums, gxc)
           + _channel_layout(xc) + (np.float32(slope), np.float32(count)))
    return gx
