"""The backend contract (tinygan/backend/contract.py) is the whole of what a backend is: every
backend (cpu, cuda on the emulator, reference) implements exactly it, with its shapes, dtypes and
in-place updates, and tinygan reaches backends through nothing else."""
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from cuda_emulation import installed
from tinygan import backend
from tinygan.backend import contract

TINYGAN = Path(backend.__file__).resolve().parent.parent


def members(protocol):
    """{name: parameter names (without self)} of a Protocol's methods and attributes."""
    methods = {name: list(inspect.signature(value).parameters)[1:]
               for name, value in vars(protocol).items()
               if inspect.isfunction(value) and not name.startswith("_")}
    return methods | {name: None for name in protocol.__annotations__}


CONTRACT = members(contract.Backend)
WINOGRAD = members(contract.Winograd)


def implemented(module, names):
    """{name: parameter names, or None for a non-function} of ``names`` in ``module``."""
    return {name: (list(inspect.signature(getattr(module, name)).parameters)
                   if inspect.isfunction(getattr(module, name)) else None)
            for name in names if hasattr(module, name)}


@pytest.fixture(scope="module")
def backends():
    with installed():
        yield {"cpu": backend.get("cpu"), "cuda": backend.get("cuda"),
               "reference": backend.CPU_BACKENDS["reference"]}


BACKENDS = ["cpu", "cuda", "reference"]


@pytest.mark.parametrize("name", BACKENDS)
def test_each_backend_implements_the_contract_with_its_signatures(backends, name):
    module = backends[name]
    assert implemented(module, CONTRACT) == CONTRACT
    if name == "cpu":  # the backend whose winograd_applies can say yes
        assert implemented(module, WINOGRAD) == WINOGRAD


@pytest.mark.parametrize("name", BACKENDS)
def test_each_backend_keeps_the_contracts_shapes_dtypes_and_in_place_updates(backends, name):
    module, rng = backends[name], np.random.default_rng(0)
    x = module.asarray(rng.standard_normal((2, 3, 8, 8), dtype=np.float32))  # (N, C, H, W)
    assert module.name in backend.DEVICES and isinstance(x, module.xp.ndarray)
    col = module.im2col(x, (4, 4), (2, 2), (1, 1))
    assert col.shape == (3, 4, 4, 2, 4, 4) and col.dtype == np.float32
    back = module.col2im(col, (8, 8), (2, 2), (1, 1))
    assert back.shape == x.shape and back.dtype == np.float32
    # col2im is im2col's adjoint: <im2col(x), col> = <x, col2im(col)> for col = im2col(x)
    assert float(module.to_numpy((col * col).sum())) == pytest.approx(
        float(module.to_numpy((x * back).sum())), rel=1e-5)
    stats = [module.asarray(rng.uniform(0.5, 2, 3).astype(np.float32)) for _ in range(4)]  # (C,)
    for y in (module.leaky_relu(x, 0.2), module.bn_act_forward(x, *stats, 0.2),
              module.bn_act_backward_input(x, *stats, 0.2, x, *stats[:2], 128)):
        assert y.shape == x.shape and y.dtype == np.float32
    for pair in (module.bn_statistics(x), module.bn_act_backward_sums(x, *stats, 0.2, x)):
        assert [(a.shape, a.dtype) for a in pair] == [((3,), np.float32)] * 2
    updated = [module.asarray(rng.uniform(0.5, 2, 3).astype(np.float32)) for _ in range(5)]
    before = [module.to_numpy(a).copy() for a in updated]
    assert module.bn_running_update(*updated[:2], *stats[:2], 0.1, 128) is None
    p, m, v = updated[2:]
    assert module.adam_update(p, stats[0], m, v, 1e-3, 0.5, 0.999, 1e-8, 0.5, 1e-3) is None
    for array, old in zip(updated, before):  # running mean and var, p, m and v: in place
        assert not np.array_equal(module.to_numpy(array), old)


def test_tinygan_reaches_backends_only_through_the_contract():
    """Every ``backend.NAME`` / ``self.backend.NAME`` in tinygan outside the backend package
    names a member of the contract."""
    used = set()
    for path in TINYGAN.rglob("*.py"):
        if "backend" in path.relative_to(TINYGAN).parts[:1]:
            continue
        used |= set(re.findall(r"\bbackend\.([a-z_]+)\b", path.read_text()))
    used -= {"get", "backend_of", "cpu", "cuda", "layout", "winograd", "contract"}  # modules
    assert used <= set(CONTRACT) | set(WINOGRAD), used - set(CONTRACT) - set(WINOGRAD)


def imported(path):
    """The tinygan modules a file imports, as dotted names relative to the tinygan package."""
    package = path.relative_to(TINYGAN).parts[:-1]
    names = set()
    for dots, module, items in re.findall(r"^\s*from (\.+)([\w.]*) import ([\w, ]+)",
                                          path.read_text(), re.M):
        base = list(package[:len(package) - len(dots) + 1]) + ([module] if module else [])
        names |= {".".join(base)} if module else {".".join(base + [i.strip()])
                                                  for i in items.split(",")}
    return names


def test_imports_flow_one_way():
    """The GAN kit (tinygan/gan/) and tinygan/vision (as torchvision, a library over the
    framework; it reads CIFAR-10 through the kit's loader) use the framework; the framework never
    uses them; the backends use nothing above them."""
    for path in TINYGAN.rglob("*.py"):
        layer = path.relative_to(TINYGAN).parts[0]
        names = imported(path)
        if layer not in ("gan", "vision"):
            assert not any(n.split(".")[0] in ("gan", "vision") for n in names), (path, names)
        if layer == "backend":
            assert all(n.startswith("backend") for n in names), (path, names)
