"""The backend contract (tinygan/backend/contract.py) is the whole of what a backend is: both
backends implement exactly it, and tinygan reaches backends through nothing else."""
import inspect
import re
from pathlib import Path

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
        yield {"cpu": backend.get("cpu"), "cuda": backend.get("cuda")}


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_each_backend_implements_the_contract_with_its_signatures(backends, device):
    module = backends[device]
    assert implemented(module, CONTRACT) == CONTRACT
    if device == "cpu":  # the backend whose winograd_applies can say yes
        assert implemented(module, WINOGRAD) == WINOGRAD


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
