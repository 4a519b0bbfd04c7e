"""Every kernels/*.cu file run on the CPU by the emulator, against the reference backend's function.

Launches are built by hand here (tinygan/backend/cuda.py has its own tests), with grids too
small to cover the array, so that grid-stride loops go round, and block sizes that do not
divide the array size. Device arrays sit between NaN guard zones: a write out of bounds
changes a guard, and a read just out of bounds turns a result into NaN.
"""
import functools
import math
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

from cuda_emulation import KERNELS, fake_cupy as cupy
from tinygan.backend import reference

GUARD = 64  # floats of NaN on each side of every device array
BN_RTOL, BN_ATOL = 1e-5, 1e-6  # float32: host compiler and NumPy may round differently


@functools.cache
def kernel(name):
    """The RawKernel of kernels/NAME.cu, built for the host once per test run."""
    return cupy.RawKernel((KERNELS / f"{name}.cu").read_text(), name)


class Guarded:
    """A device array between two NaN guard zones, which get() checks are untouched."""

    def __init__(self, array):
        array = np.asarray(array, dtype=np.float32)
        self.buffer = cupy.full(array.size + 2 * GUARD, np.nan, dtype=np.float32)
        self.array = self.buffer[GUARD:GUARD + array.size].reshape(array.shape)
        self.array[...] = cupy.asarray(array)

    def get(self):
        """The array's contents after asserting that no kernel wrote into the guards."""
        buffer = self.buffer.get()
        assert np.isnan(buffer[:GUARD]).all() and np.isnan(buffer[-GUARD:]).all(), \
            "a kernel wrote outside its array"
        return buffer[GUARD:-GUARD].reshape(self.array.shape)


def output(shape):
    """A guarded output array filled with NaN, so an element the kernel skips stays NaN."""
    return Guarded(np.full(shape, np.nan, dtype=np.float32))


@st.composite
def launches(draw, size):
    """(grid, block) for ``size`` elements: sometimes covering them, often far too small."""
    block = draw(st.sampled_from([1, 7, 32, 33, 128, 256]))
    covering = max(1, math.ceil(size / block))
    grid = draw(st.one_of(st.just(covering), st.integers(1, covering)))
    return (grid,), (block,)


@st.composite
def conv_geometries(draw):
    """x shape (N, C, H, W), kernel, stride and padding with at least one output pixel."""
    kernel_size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h, w = (draw(st.integers(max(1, k - 2 * p), k - 2 * p + 8))
            for k, p in zip(kernel_size, padding))
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 4)), h, w)
    return shape, kernel_size, stride, padding


@st.composite
def channel_shapes(draw):
    """(N, C, H, W) shapes for the per-channel batch-norm kernels, odd and even sizes."""
    return tuple(draw(st.integers(1, 4)) for _ in range(2)) + tuple(
        draw(st.integers(1, 7)) for _ in range(2))


def ints(*values):
    """The values as np.int32, as `int` kernel parameters need them."""
    return tuple(np.int32(v) for v in values)


def geometry_args(x_shape, kernel_size, stride, padding, out_size):
    """The 12 int arguments that im2col and col2im share."""
    return ints(*x_shape, *kernel_size, *stride, *padding, *out_size)


@given(conv_geometries(), st.data(), st.integers(0, 2**32 - 1))
def test_im2col_kernel_equals_numpy_bit_for_bit(geometry, data, seed):
    shape, kernel_size, stride, padding = geometry
    x = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
    expected = reference.im2col(x, kernel_size, stride, padding)
    x_device, col = Guarded(x.swapaxes(0, 1)), output(expected.shape)  # x channel-major
    grid, block = data.draw(launches(expected.size))
    args = geometry_args(shape, kernel_size, stride, padding, expected.shape[-2:])
    kernel("im2col")(grid, block, (x_device.array, col.array) + args)
    np.testing.assert_array_equal(col.get(), expected)
    np.testing.assert_array_equal(x_device.get(), x.swapaxes(0, 1))


# Bit-exact as well: each pixel's sum runs over (i, j) in the same order as NumPy's loop, from
# 0.0 in float32, and g++ neither reorders nor fuses float additions without -ffast-math.
@given(conv_geometries(), st.data(), st.integers(0, 2**32 - 1))
def test_col2im_kernel_equals_numpy_bit_for_bit(geometry, data, seed):
    shape, kernel_size, stride, padding = geometry
    col_shape = reference.im2col(np.zeros(shape, np.float32), kernel_size, stride, padding).shape
    col = np.random.default_rng(seed).standard_normal(col_shape, dtype=np.float32)
    expected = reference.col2im(col, shape[2:], stride, padding)
    col_device, x = Guarded(col), output((shape[1], shape[0], *shape[2:]))  # channel-major
    grid, block = data.draw(launches(x.array.size))
    args = geometry_args(shape, kernel_size, stride, padding, col_shape[-2:])
    kernel("col2im")(grid, block, (col_device.array, x.array) + args)
    np.testing.assert_array_equal(x.get(), expected.swapaxes(0, 1))


@given(st.integers(1, 300), st.data(), st.integers(0, 2**32 - 1), st.integers(1, 1000))
def test_adam_kernel_matches_numpy(size, data, seed, step):
    rng = np.random.default_rng(seed)
    p, g, m = (rng.standard_normal(size, dtype=np.float32) for _ in range(3))
    v = rng.random(size, dtype=np.float32)
    lr, b1, b2, eps = 2e-4, 0.5, 0.999, 1e-8
    bias1, bias2 = 1 - b1 ** step, 1 - b2 ** step
    scalars = tuple(np.float32(s) for s in (lr, b1, b2, eps, bias1, bias2))
    on_device = [Guarded(a) for a in (p, g, m, v)]
    grid, block = data.draw(launches(size))
    kernel("adam")(grid, block, tuple(a.array for a in on_device) + (np.int64(size),) + scalars)
    reference.adam_update(p, g, m, v, *scalars)
    for device, expected in zip(on_device, (p, g, m, v)):
        np.testing.assert_allclose(device.get(), expected, rtol=1e-6, atol=1e-7)


def bn_inputs(rng, shape):
    """x and per-channel (mean, inv_std > 0, gamma, beta), with z = 0 exactly at x[:, 0, 0, 0]."""
    x = rng.standard_normal(shape, dtype=np.float32)
    channels = shape[1]
    mean, gamma, beta = (rng.standard_normal(channels, dtype=np.float32) for _ in range(3))
    inv_std = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    x[:, 0, 0, 0], beta[0] = mean[0], 0.0  # where the activation's two branches meet
    return x, (mean, inv_std, gamma, beta)


def layout(shape):
    """(size, channels, inner) arguments of the bn_act kernels for an (N, C, H, W) array."""
    return np.int64(math.prod(shape)), np.int32(shape[1]), np.int32(shape[2] * shape[3])


@given(channel_shapes(), st.sampled_from([0.0, 0.2, 1.0]), st.data(), st.integers(0, 2**32 - 1))
def test_bn_act_forward_kernel_matches_numpy(shape, slope, data, seed):
    rng = np.random.default_rng(seed)
    x, stats = bn_inputs(rng, shape)
    inputs, y = [Guarded(a) for a in (x, *stats)], output(shape)
    grid, block = data.draw(launches(x.size))
    args = tuple(a.array for a in inputs) + (y.array,) + layout(shape) + (np.float32(slope),)
    kernel("bn_act_forward")(grid, block, args)
    expected = reference.bn_act_forward(x, *stats, slope)
    np.testing.assert_allclose(y.get(), expected, rtol=BN_RTOL, atol=BN_ATOL)


@given(channel_shapes(), st.sampled_from([0.0, 0.2, 1.0]), st.data(), st.integers(0, 2**32 - 1))
def test_bn_act_backward_terms_kernel_matches_numpy(shape, slope, data, seed):
    rng = np.random.default_rng(seed)
    x, stats = bn_inputs(rng, shape)
    gy = rng.standard_normal(shape, dtype=np.float32)
    inputs, gz, gz_xhat = [Guarded(a) for a in (x, gy, *stats)], output(shape), output(shape)
    grid, block = data.draw(launches(x.size))
    args = (tuple(a.array for a in inputs) + (gz.array, gz_xhat.array) + layout(shape)
            + (np.float32(slope),))
    kernel("bn_act_backward_terms")(grid, block, args)
    expected_gz, xhat = reference.gz_and_xhat(x, *stats, slope, gy)
    np.testing.assert_allclose(gz.get(), expected_gz, rtol=BN_RTOL, atol=BN_ATOL)
    np.testing.assert_allclose(gz_xhat.get(), expected_gz * xhat, rtol=BN_RTOL, atol=BN_ATOL)


@given(channel_shapes(), st.sampled_from([0.0, 0.2, 1.0]), st.data(), st.integers(0, 2**32 - 1))
def test_bn_act_backward_input_kernel_matches_numpy(shape, slope, data, seed):
    rng = np.random.default_rng(seed)
    x, stats = bn_inputs(rng, shape)
    gy = rng.standard_normal(shape, dtype=np.float32)
    sums = [rng.standard_normal(shape[1], dtype=np.float32) for _ in range(2)]
    m = math.prod(shape) // shape[1]
    inputs = [Guarded(a) for a in (x, *stats, gy, *sums)]
    gx = output(shape)
    grid, block = data.draw(launches(x.size))
    args = (tuple(a.array for a in inputs) + (gx.array,) + layout(shape)
            + (np.float32(slope), np.float32(m)))
    kernel("bn_act_backward_input")(grid, block, args)
    expected = reference.bn_act_backward_input(x, *stats, slope, gy, *sums, m)
    np.testing.assert_allclose(gx.get(), expected, rtol=BN_RTOL, atol=BN_ATOL)


@given(channel_shapes(), st.sampled_from([1, 7, 32, 256]), st.integers(1, 5),
       st.integers(0, 2**32 - 1))
def test_bn_sums_and_moments_kernels_give_the_statistics(shape, block, blocks, seed):
    """bn_sums on a (blocks, C) grid, each block too few or too many for the channel's values,
    then bn_moments: the mean and biased variance of every channel."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    xc = np.ascontiguousarray(x.swapaxes(0, 1)).reshape(shape[1], -1)  # (C, M)
    channels, inner = xc.shape
    sums = cupy.zeros(2 * channels, dtype=np.float64)
    kernel("bn_sums")((blocks, channels), (block,), (cupy.asarray(xc), sums, np.int32(inner)))
    mean, var = output(channels), output(channels)
    kernel("bn_moments")((1,), (3,), (sums, mean.array, var.array, np.int32(channels),
                                      np.int64(inner)))
    for got, expected in zip((mean.get(), var.get()), reference.bn_statistics(x)):
        np.testing.assert_allclose(got, expected, rtol=BN_RTOL, atol=BN_ATOL)


@given(st.integers(1, 300), st.data(), st.integers(0, 2**32 - 1))
def test_bn_running_update_kernel_matches_numpy(channels, data, seed):
    rng = np.random.default_rng(seed)
    running = [rng.standard_normal(channels, dtype=np.float32),
               rng.uniform(0.5, 2, channels).astype(np.float32)]
    batch = [rng.standard_normal(channels, dtype=np.float32),
             rng.uniform(0.1, 3, channels).astype(np.float32)]
    device_running, device_batch = [Guarded(a) for a in running], [Guarded(a) for a in batch]
    grid, block = data.draw(launches(channels))
    kernel("bn_running_update")(grid, block, (*(a.array for a in device_running),
                                              *(a.array for a in device_batch),
                                              np.int32(channels), np.float32(0.1),
                                              np.float32(50 / 49)))
    expected = [a.copy() for a in running]
    reference.bn_running_update(*expected, *batch, 0.1, 50)  # in place
    for got, want in zip(device_running, expected):
        np.testing.assert_allclose(got.get(), want, rtol=BN_RTOL, atol=BN_ATOL)


THREAD_IDS = """
extern "C" __global__ void thread_ids(float* out)
{
    long long block = ((long long)blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    long long thread = ((long long)threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x
                       + threadIdx.x;
    long long k = block * blockDim.x * blockDim.y * blockDim.z + thread;
    out[k] += k;
}
"""


def test_emulator_runs_every_thread_of_a_3d_grid_once():
    out = output((2 * 3 * 2) * (4 * 2 * 3))
    out.array[...] = 0
    cupy.RawKernel(THREAD_IDS, "thread_ids")((2, 3, 2), (4, 2, 3), (out.array,))
    np.testing.assert_array_equal(out.get(), np.arange(out.array.size))


def im2col_launch():
    """A valid im2col launch: (grid, block, args) for a 1x1x4x4 image, 3x3 kernel."""
    x, col = cupy.zeros((1, 1, 4, 4), cupy.float32), cupy.zeros((1, 1, 3, 3, 2, 2), cupy.float32)
    return (1,), (32,), [x, col, *ints(1, 1, 4, 4, 3, 3, 1, 1, 0, 0, 2, 2)]


def replace(args, index, value):
    """args with args[index] replaced by value."""
    return args[:index] + [value] + args[index + 1:]


BAD_ARGUMENTS = {
    "a Python int for an int": (lambda a: replace(a, 2, 1), TypeError,
                                r"im2col argument 2 \(int n\) must be numpy\.int32, got int 1: "
                                r"CuPy sends a scalar with its own size"),
    "np.int64 for an int": (lambda a: replace(a, 2, np.int64(1)), TypeError,
                            r"argument 2 \(int n\) must be numpy\.int32, got int64"),
    "a strided array": (lambda a: replace(a, 0, cupy.zeros((1, 1, 4, 8), cupy.float32)[..., ::2]),
                        ValueError, r"argument 0 \(const float\* x\) must be C-contiguous"),
    "a NumPy array": (lambda a: replace(a, 1, np.zeros((1, 1, 3, 3, 2, 2), np.float32)),
                      TypeError, r"argument 1 \(float\* col\) must be a cupy\.ndarray, "
                                 r"got numpy\.ndarray"),
    "a float64 array": (lambda a: replace(a, 0, cupy.zeros((1, 1, 4, 4))), TypeError,
                        r"argument 0 \(const float\* x\) must be a float32 array, got float64"),
    "too few arguments": (lambda a: a[:-1], TypeError, r"im2col takes 14 arguments .* got 13"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_emulator_refuses_an_argument_the_gpu_would_misread(case):
    grid, block, args = im2col_launch()
    spoil, error, message = BAD_ARGUMENTS[case]
    with pytest.raises(error, match=message):
        kernel("im2col")(grid, block, spoil(args))


@pytest.mark.parametrize("grid, block, error, message", [
    (1, (32,), TypeError, r"grid must be a tuple of 1 to 3 ints \(CuPy requires a tuple\)"),
    ((1,), (2048,), ValueError, r"block \(2048, 1, 1\) exceeds CUDA's limits"),
    ((1,), (64, 32), ValueError, r"block \(64, 32, 1\) has more than 1024 threads"),
])
def test_emulator_refuses_a_launch_shape_cuda_would_refuse(grid, block, error, message):
    args = im2col_launch()[2]
    with pytest.raises(error, match=message):
        kernel("im2col")(grid, block, args)


def test_a_syntax_error_is_reported_with_file_name_and_line():
    source = (KERNELS / "adam.cu").read_text().replace("m[k] = mk;", "m[k] = mk")
    line = source[:source.index("m[k] = mk")].count("\n") + 1
    with pytest.raises(cupy.cuda.compiler.CompileException) as caught:
        cupy.RawKernel(source, "adam").compile()
    assert re.search(rf"adam\.cu:{line}:\d+: error: expected ';'", str(caught.value)), \
        caught.value


def test_a_kernel_that_synchronizes_threads_is_refused_with_a_clear_message():
    source = THREAD_IDS.replace("out[k] += k;", "__syncthreads();")
    with pytest.raises(cupy.cuda.compiler.CompileException,
                       match=r"thread_ids\.cu:8:5: note: in expansion of macro '__syncthreads'"):
        cupy.RawKernel(source, "thread_ids").compile()
