"""Backend registry: maps an array to the backend that owns it, and a device name to a backend.

A backend is a module with the names that contract.py lists (``Backend``, and ``Winograd`` where
its ``winograd_applies`` can say yes), with their shapes: the CPU one (cpu.py, numba kernels),
the CUDA one (cuda.py, kernels/*.cu through CuPy) and the reference one (reference.py, plain
NumPy to step through in a debugger). Ops reach arrays only through these names, so no op ever
branches on the backend.

The device names are PyTorch's, "cpu" and "cuda". The reference backend is not a device: it
holds NumPy arrays as cpu.py does, so ``use("reference")`` makes it the one that serves "cpu",
and each NumPy array then has one backend, the one that ``get("cpu")`` returns.
"""
import importlib

from . import cpu, reference

DEVICES = ("cpu", "cuda")
CPU_BACKENDS = {"cpu": cpu, "reference": reference}  # the backends that can serve "cpu"
_loaded = {"cpu": cpu}


def get(device):
    """Return the backend module for a device name, "cpu" or "cuda" (loading it on first use)."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; tinygan knows {', '.join(DEVICES)}")
    if device not in _loaded:
        module = importlib.import_module(f".{device}", __name__)
        module.check_available()
        _loaded[device] = module
    return _loaded[device]


def backend_of(array):
    """Return the backend whose array type ``array`` is (the most recently loaded first)."""
    for backend in reversed(_loaded.values()):
        if isinstance(array, backend.xp.ndarray):
            return backend
    raise TypeError(f"expected an array of a known backend, got {type(array).__name__}")


class use:  # noqa: N801  (a call that is also a context manager, as torch.set_grad_enabled)
    """Serve the "cpu" device with backend ``name`` ("cpu": numba kernels, "reference": plain
    NumPy) for the tensors made from now on; in a ``with`` block, until the block ends."""

    def __init__(self, name):
        if name not in CPU_BACKENDS:
            raise ValueError(f"use: unknown backend {name!r}; the cpu device can run on "
                             f"{', '.join(CPU_BACKENDS)}")
        self.previous, _loaded["cpu"] = _loaded["cpu"], CPU_BACKENDS[name]

    def __enter__(self):
        return _loaded["cpu"]

    def __exit__(self, *exc_info):
        _loaded["cpu"] = self.previous
