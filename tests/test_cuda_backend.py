"""tinygan/backend/cuda.py, unchanged, on the NumPy stand-in for CuPy whose kernels run on the CPU.

This drives the backend's own launch code (grid sizes, argument order, dtypes, contiguity)
through the emulator: its primitives must match the NumPy backend, and a whole DCGAN training
step on "cuda" must match the same step on "cpu". Without CuPy, or without a GPU, asking for
"cuda" must fail with a message that says why.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygan
from cuda_emulation import CALLS, KERNELS, LAUNCHES, TO_HOST, fake_cupy, installed, not_installed
from test_cuda_kernels import bn_inputs, channel_shapes, conv_geometries
from support import load_example
from tinygan import backend, gan, optim
from tinygan.gan import dcgan
from tinygan.backend import cpu

SEEDS = st.integers(0, 2**32 - 1)


@pytest.fixture(scope="module")
def cuda():
    """The cuda backend, built on the fake CuPy for the tests of this module."""
    with installed():
        yield backend.get("cuda")


def on_device(cuda, array, strided=False):
    """array on the cuda backend; with ``strided``, as a non-contiguous view of the same values."""
    if not strided:
        return cuda.asarray(array)
    return cuda.asarray(np.ascontiguousarray(np.swapaxes(array, -1, -2))).swapaxes(-1, -2)


@pytest.mark.parametrize("mix", [lambda device, host: device + host,
                                 lambda device, host: host * device,
                                 lambda device, host: fake_cupy.maximum(host, device)])
def test_the_fake_refuses_numpy_arrays_where_cupy_does(mix):
    device, host = fake_cupy.zeros(3, fake_cupy.float32), np.zeros(3, np.float32)
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        mix(device, host)


def test_the_fake_copies_host_data_to_the_device_and_back():
    host = np.zeros(3, np.float32)
    device = fake_cupy.asarray(host)
    device += 1
    back = fake_cupy.asnumpy(device)
    back += 1
    assert host.sum() == 0 and device.sum() == 3 and type(back) is np.ndarray
    assert type(device) is type(device.sum()) is type(device[0]) is fake_cupy.ndarray


def test_the_fake_offers_only_names_cupy_has():
    with pytest.raises(AttributeError, match="stand-in for cupy has no 'errstate'"):
        fake_cupy.errstate  # noqa: B018 (CuPy has cupyx.errstate, not cupy.errstate)


def test_get_gives_the_cuda_backend_on_the_fake(cuda):
    assert cuda.name == "cuda" and cuda.xp is fake_cupy
    assert backend.backend_of(cuda.asarray(np.zeros(3, np.float32))) is cuda
    assert backend.backend_of(np.zeros(3, np.float32)) is cpu


@given(conv_geometries(), st.booleans(), SEEDS)
def test_im2col_and_col2im_match_the_cpu_backend(cuda, geometry, strided, seed):
    shape, kernel_size, stride, padding = geometry
    x = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
    col = cpu.im2col(x, kernel_size, stride, padding)
    col_cuda = cuda.im2col(on_device(cuda, x, strided), kernel_size, stride, padding)
    np.testing.assert_array_equal(cuda.to_numpy(col_cuda), col)
    image = cuda.col2im(on_device(cuda, col, strided), shape[2:], stride, padding)
    np.testing.assert_array_equal(cuda.to_numpy(image), cpu.col2im(col, shape[2:], stride, padding))


@given(channel_shapes(), st.booleans(), SEEDS)
def test_leaky_relu_passes_match_the_cpu_backend(cuda, shape, strided, seed):
    rng = np.random.default_rng(seed)
    x, gy = (rng.standard_normal(shape, dtype=np.float32) for _ in range(2))
    x_cuda, gy_cuda = on_device(cuda, x, strided), on_device(cuda, gy, strided)
    np.testing.assert_array_equal(cuda.to_numpy(cuda.leaky_relu(x_cuda, 0.2)),
                                  cpu.leaky_relu(x, 0.2))
    np.testing.assert_array_equal(cuda.to_numpy(cuda.leaky_relu_backward(x_cuda, gy_cuda, 0.2)),
                                  cpu.leaky_relu_backward(x, gy, 0.2))


@given(st.integers(1, 300), SEEDS)
def test_adam_update_matches_the_cpu_backend(cuda, size, seed):
    rng = np.random.default_rng(seed)
    p, g, m = (rng.standard_normal(size, dtype=np.float32) for _ in range(3))
    v = rng.random(size, dtype=np.float32)
    hyper = (2e-4, 0.5, 0.999, 1e-8, 1 - 0.5 ** 3, 1 - 0.999 ** 3)
    state = [cuda.asarray(a) for a in (p, g, m, v)]
    cuda.adam_update(*state, *hyper)
    cpu.adam_update(p, g, m, v, *(np.float32(h) for h in hyper))
    for updated, expected in zip(state, (p, g, m, v)):
        np.testing.assert_allclose(cuda.to_numpy(updated), expected, rtol=1e-6, atol=1e-7)


@given(channel_shapes(), st.sampled_from([0.0, 0.2]), st.booleans(), SEEDS)
def test_fused_batch_norm_passes_match_the_cpu_backend(cuda, shape, slope, strided, seed):
    rng = np.random.default_rng(seed)
    x, stats = bn_inputs(rng, shape)
    gy = rng.standard_normal(shape, dtype=np.float32)
    x_cuda, gy_cuda = on_device(cuda, x, strided), on_device(cuda, gy, strided)
    stats_cuda = [cuda.asarray(s) for s in stats]
    close = {"rtol": 1e-5, "atol": 1e-6}
    y = cuda.bn_act_forward(x_cuda, *stats_cuda, slope)
    np.testing.assert_allclose(cuda.to_numpy(y), cpu.bn_act_forward(x, *stats, slope), **close)
    for got, expected in zip(cuda.bn_statistics(x_cuda), cpu.bn_statistics(x)):
        np.testing.assert_allclose(cuda.to_numpy(got), expected, **close)
    sums = cuda.bn_act_backward_sums(x_cuda, *stats_cuda, slope, gy_cuda)
    for got, expected in zip(sums, cpu.bn_act_backward_sums(x, *stats, slope, gy)):
        np.testing.assert_allclose(cuda.to_numpy(got), expected, **close)
    sum_gz, sum_gz_xhat = (rng.standard_normal(shape[1], dtype=np.float32) for _ in range(2))
    m = x.size // shape[1]
    gx = cuda.bn_act_backward_input(x_cuda, *stats_cuda, slope, gy_cuda, cuda.asarray(sum_gz),
                                    cuda.asarray(sum_gz_xhat), m)
    expected = cpu.bn_act_backward_input(x, *stats, slope, gy, sum_gz, sum_gz_xhat, m)
    np.testing.assert_allclose(cuda.to_numpy(gx), expected, **close)


def test_float64_input_is_refused_with_a_clear_message(cuda):
    x = cuda.asarray(np.zeros((1, 1, 4, 4)))
    with pytest.raises(TypeError, match="the cuda backend computes in float32, got float64"):
        cuda.im2col(x, (3, 3), (1, 1), (0, 0))


def dcgan_setup(device):
    """Small DCGAN models on ``device`` from seed 0, and their Adam optimizers."""
    tinygan.manual_seed(0)
    G, D = dcgan.Generator(nz=8, ngf=4), dcgan.Discriminator(ndf=4)
    G.to(device), D.to(device)
    optimizers = [optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999)) for model in (G, D)]
    return G, D, *optimizers


@pytest.mark.parametrize("recipe", [gan.Recipe(real_label=0.9), gan.Recipe(r1=1.0),
                                    gan.Recipe(loss="wgan", gp=10.0)], ids=["bce", "r1", "wgan-gp"])
def test_dcgan_training_steps_on_cuda_match_cpu_step_by_step(cuda, recipe):
    """The default step, and the double backward of the gradient penalties, on both backends."""
    rng = np.random.default_rng(0)
    models = {device: dcgan_setup(device) for device in ("cpu", "cuda")}
    launches_before = LAUNCHES.copy()
    for step in range(3):
        real = rng.uniform(-1, 1, (4, 3, 32, 32)).astype(np.float32)
        z = rng.standard_normal((4, 8, 1, 1), dtype=np.float32)
        metrics = {device: gan.train_step(
            *models[device], tinygan.tensor(backend.get(device).asarray(real)),
            tinygan.tensor(backend.get(device).asarray(z)), recipe,
            rng=np.random.default_rng(step)) for device in models}
        metrics = {device: {**{k: v for k, v in m.items() if k != "grad_norms"},
                            **m["grad_norms"]} for device, m in metrics.items()}
        for name, value in metrics["cpu"].items():
            assert metrics["cuda"][name] == pytest.approx(value, rel=1e-5, abs=2e-6), (step, name)
        for model_cpu, model_cuda in zip(models["cpu"][:2], models["cuda"][:2]):
            for (name, p_cpu), (_, p_cuda) in zip(model_cpu.named_parameters(),
                                                   model_cuda.named_parameters()):
                assert p_cuda.device == "cuda"
                np.testing.assert_allclose(p_cuda.numpy(), p_cpu.numpy(), rtol=1e-5, atol=1e-6,
                                           err_msg=f"step {step}: {name}")
    launched = {name for name in LAUNCHES if LAUNCHES[name] > launches_before[name]}
    assert launched == {path.stem for path in KERNELS.glob("*.cu")}


def test_spectral_norm_and_ema_on_cuda_match_cpu_and_the_step_still_waits_once(cuda):
    """D with spectral norm (its power iteration on the device) and G's moving average."""
    rng = np.random.default_rng(0)
    runs = {}
    for device in ("cpu", "cuda"):
        tinygan.manual_seed(0)
        G, D = (m.to(device) for m in dcgan.models({"nz": 8, "ngf": 4, "ndf": 4,
                                                    "d_norm": "spectral"}))
        runs[device] = (G, D, *(optim.Adam(m.parameters(), lr=2e-4) for m in (G, D)),
                        optim.ExponentialMovingAverage(G, 0.9))
    for step in range(3):
        real = rng.uniform(-1, 1, (4, 3, 32, 32)).astype(np.float32)
        z = rng.standard_normal((4, 8, 1, 1), dtype=np.float32)
        TO_HOST.clear()
        for device, (G, D, opt_G, opt_D, ema) in runs.items():
            gan.train_step(G, D, opt_G, opt_D, tinygan.tensor(backend.get(device).asarray(real)),
                           tinygan.tensor(backend.get(device).asarray(z)))
            ema.update(G)
        assert sum(TO_HOST.values()) == 1  # the cuda step's one wait, EMA and u, v included
        for on_cpu, on_cuda in zip(runs["cpu"][1].buffers() + runs["cpu"][4].module.parameters(),
                                   runs["cuda"][1].buffers() + runs["cuda"][4].module.parameters()):
            # a tenth of Adam's first steps (lr): the backends' conv routes round differently,
            # and Adam moves a weight by about lr whatever the size of its gradient
            np.testing.assert_allclose(on_cuda.numpy(), on_cpu.numpy(), rtol=1e-4, atol=2e-5)


def test_without_cupy_asking_for_cuda_says_how_to_install_it():
    message = r'needs CuPy, which is not installed .*pip install -e "\.\[cuda\]"'
    with not_installed(), pytest.raises(RuntimeError, match=message):
        backend.get("cuda")


def test_without_a_usable_gpu_asking_for_cuda_says_why(monkeypatch):
    def no_driver():
        raise fake_cupy.cuda.runtime.CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver "
                                                      "version is insufficient")
    monkeypatch.setattr(fake_cupy.cuda.runtime, "getDeviceCount", no_driver)
    message = "CuPy is installed but no GPU is usable: cudaErrorInsufficientDriver"
    with installed(), pytest.raises(RuntimeError, match=message):
        backend.get("cuda")


def test_with_no_gpu_found_asking_for_cuda_says_so(monkeypatch):
    monkeypatch.setattr(fake_cupy.cuda.runtime, "getDeviceCount", lambda: 0)
    with installed(), pytest.raises(RuntimeError, match="CuPy is installed but no GPU was found"):
        backend.get("cuda")


def cannot_load(library):
    """What CuPy raises when a CUDA library it needs is missing (CuPy 14's wording)."""
    def fail(*args, **kwargs):
        raise RuntimeError(f"CuPy failed to load {library}: OSError: {library}: cannot open "
                           "shared object file: No such file or directory")
    return fail


@pytest.mark.parametrize("broken, library, what", [
    ("compile", "libnvrtc.so.12", "compile and launch a kernel (NVRTC)"),
    ("matmul", "libcublas.so.12", "run a matrix product (cuBLAS)"),
])
def test_a_missing_cuda_library_is_one_line_with_the_fix(broken, library, what, monkeypatch):
    """check_available compiles and launches a probe kernel and runs one product, so a missing
    NVRTC or cuBLAS is found when the backend loads, not at the first step."""
    if broken == "compile":
        monkeypatch.setattr(fake_cupy.RawKernel, "compile", cannot_load(library))
    else:
        monkeypatch.setattr(fake_cupy, "matmul", cannot_load(library))
    with installed(), pytest.raises(RuntimeError) as error:
        backend.get("cuda")
    message = str(error.value)
    assert "\n" not in message and f"CuPy found a GPU but cannot {what}" in message
    assert f"CuPy failed to load {library}" in message and 'pip install -e ".[cuda]"' in message


def compile_error(*args, **kwargs):
    """What the stand-in raised when a rank read a half-written cached source (issue 33)."""
    raise fake_cupy.cuda.compiler.CompileException(
        "/cache/sources/9f90/probe.cu: no extern \"C\" __global__ kernel named 'probe' (found: "
        "none)\nsecond line of the log", "", "probe", ())


def wrong_result(*args, **kwargs):
    raise ValueError("the probe kernel wrote 0.0 instead of 1")


@pytest.mark.parametrize("failure, reason", [
    (compile_error, "CompileException: /cache/sources/9f90/probe.cu: no extern \"C\" __global__ "
                    "kernel named 'probe' (found: none)"),
    (wrong_result, "ValueError: the probe kernel wrote 0.0 instead of 1"),
])
def test_a_probe_that_fails_for_another_reason_says_what_it_was(failure, reason, monkeypatch):
    """Only a library that cannot be loaded gets the install hint: a compile error or a bug is
    named as what it is (issue 33: a race in the stand-in read as a missing CUDA library)."""
    monkeypatch.setattr(fake_cupy.RawKernel, "compile", failure)
    with installed(), pytest.raises(RuntimeError) as error:
        backend.get("cuda")
    message = str(error.value)
    assert message == (f"CuPy found a GPU but cannot compile and launch a kernel (NVRTC): "
                       f"{reason} (not a missing library: the probe itself failed; please "
                       f"report it with the full error)")
    assert "pip install" not in message and error.value.__cause__ is not None


def test_a_missing_library_stops_train_cifar_with_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(fake_cupy, "matmul", cannot_load("libcublas.so.12"))
    with installed():
        status = load_example("train_cifar").main(["--backend", "cupy", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("error: --backend cupy: CuPy found a GPU but cannot run a matrix "
                          "product (cuBLAS)")


def test_primitives_refuse_mismatched_shapes_before_launching(cuda):
    x = cuda.asarray(np.ones((2, 3, 4), np.float32))
    per_channel, wrong = cuda.asarray(np.ones(3, np.float32)), cuda.asarray(np.ones(2, np.float32))
    with pytest.raises(ValueError, match=r"adam_update: expected an array of shape \(3,\), "
                                         r"got \(2,\)"):
        cuda.adam_update(per_channel, wrong, per_channel.copy(), per_channel.copy(),
                         1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001)
    with pytest.raises(ValueError, match=r"bn_act_forward: expected an array of shape \(3,\)"):
        cuda.bn_act_forward(x, per_channel, per_channel, wrong, per_channel, 0.0)
    with pytest.raises(ValueError, match=r"bn_act_backward_sums: expected .* \(2, 3, 4\), "
                                         r"got \(2, 3\)"):
        cuda.bn_act_backward_sums(x, per_channel, per_channel, per_channel, per_channel, 0.0,
                                  x[..., 0])
    with pytest.raises(ValueError, match=r"bn_act_backward_input: expected an array of shape "
                                         r"\(3,\), got \(2,\)"):
        cuda.bn_act_backward_input(x, per_channel, per_channel, per_channel, per_channel, 0.0, x,
                                   per_channel, wrong, 24)


# Device calls of one default training step (kernel launches, CuPy elementwise, reduction and
# copy calls, matrix products), and its device-to-host copies. Issue 19 found about 19,800
# calls (about 18,700 of them Winograd transforms as CuPy expressions) and 25 copies, each copy a
# wait for the device; CuPy spends about 10 us of host time per call.
CALL_BUDGET = {32: 400, 64: 450}


def calls_of_one_step(size, batch):
    """(device calls by kind, device-to-host copies) of the second default training step."""
    tinygan.manual_seed(0)
    G, D = (m.to("cuda") for m in dcgan.models({"image_size": size}))
    opt_G, opt_D = (optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (G, D))
    rng = np.random.default_rng(0)
    cuda = backend.get("cuda")
    real = tinygan.tensor(cuda.asarray(rng.uniform(-1, 1, (batch, 3, size, size)), np.float32))
    z = tinygan.tensor(cuda.asarray(rng.standard_normal((batch, 100, 1, 1)), np.float32))
    gan.train_step(G, D, opt_G, opt_D, real, z)  # the first step also allocates Adam's moments
    CALLS.clear()
    TO_HOST.clear()
    gan.train_step(G, D, opt_G, opt_D, real, z)
    return CALLS.copy(), sum(TO_HOST.values())


@pytest.mark.parametrize("size", sorted(CALL_BUDGET))
def test_a_training_step_stays_within_its_call_budget_and_waits_once(cuda, size, capsys):
    """The counts do not depend on the batch (two batches give the same), so the test runs
    small batches for the budget of 32x32 at batch 128."""
    (calls, to_host), (calls_again, _) = calls_of_one_step(size, 2), calls_of_one_step(size, 3)
    assert calls == calls_again
    total = sum(calls.values())
    with capsys.disabled():
        print(f"\n{size}x{size} DCGAN step on cuda: {total} device calls, {to_host} "
              f"device-to-host copy; most: {calls.most_common(4)}")
    assert total <= CALL_BUDGET[size], calls.most_common(10)
    assert to_host == 1
