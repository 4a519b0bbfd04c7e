"""Backend registry: maps an array to the backend that owns it, and a device name to a backend.

A backend is a module with the names that contract.py lists (``Backend``, and ``Winograd`` where
its ``winograd_applies`` can say yes), with their shapes: the CPU one (cpu.py, numba kernels)
and the CUDA one (cuda.py, kernels/*.cu through CuPy). Ops reach arrays only through these
names, so no op ever branches on the backend.
"""
import importlib

from . import cpu

DEVICES = ("cpu", "cuda")
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
