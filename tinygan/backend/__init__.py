"""Backend registry: maps an array to the backend that owns it, and a device name to a backend.

A backend is a module exposing the same small set of names: ``name``, ``xp`` (the array
module), ``asarray``, ``to_numpy``, ``im2col``, ``col2im`` and ``synchronize``. Ops reach
arrays only through these names, so no op ever branches on the backend.
"""
from . import cpu

_BACKENDS = {"cpu": cpu}


def get(device):
    """Return the backend module for a device name such as ``"cpu"``."""
    if device not in _BACKENDS:
        raise ValueError(
            f"unknown device {device!r}; available devices: {', '.join(sorted(_BACKENDS))}")
    return _BACKENDS[device]


def backend_of(array):
    """Return the backend module whose array type ``array`` is."""
    for backend in _BACKENDS.values():
        if isinstance(array, backend.xp.ndarray):
            return backend
    raise TypeError(f"expected an array of a known backend, got {type(array).__name__}")
