"""The numba kernels of the NumPy backend against the plain NumPy oracles of the reference
backend (tinygan/backend/reference.py)."""
import math
import os
import resource
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

from test_cuda_kernels import BN_ATOL, BN_RTOL, bn_inputs, channel_shapes, conv_geometries
from tinygan.backend import cpu, reference

SEEDS = st.integers(0, 2**32 - 1)
DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@given(geometry=conv_geometries(), seed=SEEDS)
def test_im2col_and_col2im_equal_the_numpy_oracle_bit_for_bit(dtype, geometry, seed):
    shape, kernel_size, stride, padding = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    col = cpu.im2col(x, kernel_size, stride, padding)
    np.testing.assert_array_equal(col, reference.im2col(x, kernel_size, stride, padding))
    c = rng.standard_normal(col.shape).astype(dtype)
    np.testing.assert_array_equal(cpu.col2im(c, shape[2:], stride, padding),
                                  reference.col2im(c, shape[2:], stride, padding))


def raises(*args):
    raise AssertionError("col2im took another route")


# (image, kernel, stride, padding), the col2im kernel it must call (counted; None for the
# one-window transpose, which calls neither), the others replaced by one that fails.
COL2IM_ROUTES = [
    ((2, 3, 9, 12), (3, 3), (1, 1), (1, 1), "col2im_unit_stride"),  # rows of 12
    ((2, 3, 4, 6), (3, 6), (1, 1), (0, 0), "col2im_gather"),        # rows of 1
    ((2, 3, 10, 16), (4, 4), (2, 2), (1, 1), "col2im_gather"),      # stride 2
    ((2, 3, 4, 6), (4, 6), (3, 1), (0, 0), None),                   # one window: a transpose
]
COL2IM_KERNELS = ("col2im_unit_stride", "col2im_gather")


@pytest.mark.parametrize("shape, kernel, stride, padding, taken", COL2IM_ROUTES)
def test_each_col2im_route_equals_the_numpy_oracle(monkeypatch, shape, kernel, stride, padding,
                                                   taken):
    calls = []
    for name in COL2IM_KERNELS:
        kernel_function = getattr(cpu.kernels, name)
        monkeypatch.setattr(cpu.kernels, name, raises if name != taken else
                            lambda *args, run=kernel_function: calls.append(run(*args)))
    rng = np.random.default_rng(0)
    col = rng.standard_normal(reference.im2col(np.zeros(shape), kernel, stride, padding).shape)
    np.testing.assert_array_equal(cpu.col2im(col, shape[2:], stride, padding),
                                  reference.col2im(col, shape[2:], stride, padding))
    assert len(calls) == (taken is not None)


def test_one_window_im2col_is_a_transpose_without_the_gather_kernel(monkeypatch):
    monkeypatch.setattr(cpu.kernels, "im2col", raises)
    x = np.random.default_rng(0).standard_normal((3, 5, 4, 6))
    col = cpu.im2col(x, (4, 6), (2, 2), (0, 0))
    assert col.shape == (5, 4, 6, 3, 1, 1)
    np.testing.assert_array_equal(col, reference.im2col(x, (4, 6), (2, 2), (0, 0)))


@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=channel_shapes(), seed=SEEDS)
def test_adam_update_equals_the_numpy_oracle(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    p, g, m = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    v = np.abs(rng.standard_normal(shape)).astype(dtype)
    hyper = (1e-3, 0.5, 0.999, 1e-8, 0.75, 0.002)
    ours, theirs = [a.copy() for a in (p, m, v)], [a.copy() for a in (p, m, v)]
    cpu.adam_update(ours[0], g, ours[1], ours[2], *hyper)
    reference.adam_update(theirs[0], g, theirs[1], theirs[2], *hyper)
    # atol: m = b1 m + (1 - b1) g can cancel to ~1e-6, where 1 ulp of rounding is 1e-6 relative
    tol = {"rtol": 1e-6, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-15}
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=channel_shapes(), slope=st.sampled_from([0.0, 0.2, 1.0]), seed=SEEDS)
def test_batch_norm_passes_equal_the_numpy_oracle(dtype, shape, slope, seed):
    rng = np.random.default_rng(seed)
    x, stats = bn_inputs(rng, shape)
    x, stats = x.astype(dtype), [s.astype(dtype) for s in stats]
    gy = rng.standard_normal(shape).astype(dtype)
    tol = {"rtol": BN_RTOL, "atol": BN_ATOL} if dtype == np.float32 else {"rtol": 1e-12}
    np.testing.assert_allclose(cpu.bn_act_forward(x, *stats, slope),
                               reference.bn_act_forward(x, *stats, slope), **tol)
    for ours, theirs in zip(cpu.bn_statistics(x), reference.bn_statistics(x)):
        np.testing.assert_allclose(ours, theirs, **tol)
    for ours, theirs in zip(cpu.bn_act_backward_sums(x, *stats, slope, gy),
                            reference.bn_act_backward_sums(x, *stats, slope, gy)):
        np.testing.assert_allclose(ours, theirs, **tol)
    sums, m = [rng.standard_normal(shape[1]).astype(dtype) for _ in range(2)], x.size // shape[1]
    np.testing.assert_allclose(cpu.bn_act_backward_input(x, *stats, slope, gy, *sums, m),
                               reference.bn_act_backward_input(x, *stats, slope, gy, *sums, m),
                               **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=channel_shapes(), slope=st.sampled_from([0.0, 0.2, -1.5]), seed=SEEDS)
def test_leaky_relu_passes_equal_the_numpy_oracle_and_keep_the_layout(dtype, shape, slope, seed):
    rng = np.random.default_rng(seed)
    x, gy = (rng.standard_normal(shape).astype(dtype).swapaxes(0, 1) for _ in range(2))
    x[0, 0, 0, 0] = 0.0  # where the two branches meet
    y = cpu.leaky_relu(x, slope)
    np.testing.assert_array_equal(y, reference.leaky_relu(x, slope))
    np.testing.assert_array_equal(cpu.leaky_relu_backward(x, gy, slope),
                                  reference.leaky_relu_backward(x, gy, slope))
    assert y.dtype == dtype and y.swapaxes(0, 1).flags.c_contiguous  # channel-major, as x


def test_kernels_accept_non_contiguous_inputs():
    x = np.random.default_rng(0).standard_normal((3, 2, 5, 4)).transpose(1, 0, 2, 3)
    np.testing.assert_array_equal(cpu.im2col(x, (2, 2), (1, 1), (1, 1)),
                                  reference.im2col(x, (2, 2), (1, 1), (1, 1)))
    stats = [np.ones(3), np.ones(3), np.ones(3), np.zeros(3)]
    np.testing.assert_allclose(cpu.bn_act_forward(x, *stats, 0.0),
                               reference.bn_act_forward(x, *stats, 0.0), rtol=1e-12)
    assert math.isfinite(float(cpu.bn_act_forward(x, *stats, 0.0).sum()))


@pytest.mark.parametrize("preset, expected", [(None, "4"), ("20", "20")])
def test_importing_tinygan_sets_openblas_thread_timeout_unless_the_user_did(preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if preset is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = preset
    code = "import os, tinygan; print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tunes glibc's malloc")
def test_a_freed_buffer_comes_back_without_page_faults():
    floats = 16 << 20  # 64 MB, far above glibc's default threshold for returning memory
    np.ones(floats, np.float32)  # allocated, touched, freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    np.ones(floats, np.float32)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 16, f"{faults} page faults: the freed 64 MB went back to the OS"
