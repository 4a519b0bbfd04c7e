"""The reference backend (tinygan/backend/reference.py, plain NumPy): tinygan.backend.use puts
it behind the "cpu" device and back, the PyTorch-facing device stays "cpu", and a DCGAN training
step on it matches the same step on the numba backend."""
import numpy as np
import pytest

import tinygan
from tinygan import backend, gan, optim
from test_backends import CONTRACT
from tinygan.backend import cpu, reference
from tinygan.gan import dcgan

PRIMITIVES = [name for name, parameters in CONTRACT.items() if parameters is not None]


def test_use_serves_the_cpu_device_with_the_reference_backend_until_the_block_ends():
    with backend.use("reference") as module:
        assert module is reference and backend.get("cpu") is reference
        made = tinygan.zeros(2, 3)
        assert made.backend is reference and backend.backend_of(np.zeros(1)) is reference
        assert made.device == "cpu" and made.to("cpu") is made and made.cpu() is made
        assert (made + 1).backend is reference
    assert backend.get("cpu") is cpu and backend.backend_of(np.zeros(1)) is cpu
    assert made.backend is reference and tinygan.zeros(1).backend is cpu


def test_use_as_a_call_switches_until_the_next_call():
    try:
        backend.use("reference")
        assert tinygan.ones(1).backend is reference
    finally:
        backend.use("cpu")
    assert tinygan.ones(1).backend is cpu


@pytest.mark.parametrize("name", ["cuda", "numba", "Reference"])
def test_use_refuses_a_backend_that_cannot_serve_the_cpu_device(name):
    with pytest.raises(ValueError, match=rf"^use: unknown backend '{name}'; the cpu device can "
                                         r"run on cpu, reference$"):
        backend.use(name)
    assert backend.get("cpu") is cpu


def test_the_reference_backend_never_takes_the_winograd_route():
    dcgan_conv = ((16, 16), (4, 4), (2, 2), (1, 1), 64, 128)  # a stride-2 4x4 conv of D
    assert cpu.winograd_applies(*dcgan_conv) and not reference.winograd_applies(*dcgan_conv)


def dcgan_run(name):
    """Small float64 DCGAN models from seed 0 on backend ``name``, and their Adam optimizers."""
    with backend.use(name):
        tinygan.manual_seed(0)
        G, D = dcgan.Generator(nz=8, ngf=4).double(), dcgan.Discriminator(ndf=4).double()
    return G, D, *(optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999)) for model in (G, D))


def refuse(*args):
    raise AssertionError("the reference run called a primitive of the numba backend")


@pytest.mark.parametrize("recipe", [gan.Recipe(), gan.Recipe(loss="wgan", gp=10.0)],
                         ids=["dcgan", "wgan-gp"])
def test_dcgan_training_steps_on_the_reference_backend_match_cpu(monkeypatch, recipe):
    """Two steps in float64 from the same weights and data: losses, D's outputs and gradient
    norms to rel 1e-11, every parameter and buffer to rel 1e-11 or abs 1e-14 (measured: under
    6e-13 and 2e-15); the numba backend's Winograd route and kernels sum in other orders."""
    runs = {name: dcgan_run(name) for name in ("cpu", "reference")}
    assert all(p.backend is reference for p in runs["reference"][0].parameters())
    data = np.random.default_rng(0)
    for step in range(2):
        real, z = data.uniform(-1, 1, (2, 3, 32, 32)), data.standard_normal((2, 8, 1, 1))
        metrics = {}
        for name, run in runs.items():
            with monkeypatch.context() as patch, backend.use(name):
                if name == "reference":
                    for primitive in PRIMITIVES:
                        patch.setattr(cpu, primitive, refuse)
                found = gan.train_step(*run, tinygan.tensor(real), tinygan.tensor(z), recipe,
                                       rng=np.random.default_rng(step))
            metrics[name] = {**found.pop("grad_norms"), **found}
        for key, value in metrics["cpu"].items():
            assert metrics["reference"][key] == pytest.approx(value, rel=1e-11), (step, key)
        for model_cpu, model_reference in zip(runs["cpu"][:2], runs["reference"][:2]):
            for (key, ours), theirs in zip(model_cpu.state_dict().items(),
                                           model_reference.state_dict().values()):
                np.testing.assert_allclose(theirs, ours, rtol=1e-11, atol=1e-14,
                                           err_msg=f"step {step}: {key}")
