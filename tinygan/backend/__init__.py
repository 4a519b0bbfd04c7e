"""Backend registry: maps an array to the backend that owns it, and a device name to a backend.

A backend is a module exposing the same small set of names: ``name``, ``xp`` (the array
module), ``check_available``, ``asarray``, ``to_numpy``, ``synchronize``, ``im2col``,
``col2im``, ``adam_update``, ``leaky_relu`` and ``leaky_relu_backward``, the batch-norm passes
``bn_statistics``, ``bn_running_update``, ``bn_act_forward``, ``bn_act_backward_sums`` and
``bn_act_backward_input``, and ``winograd_applies``, which says where a conv takes Winograd's
route: where it says yes, the backend also has ``winograd_products`` and the Winograd
transforms ``winograd_filter``, ``winograd_input``, ``winograd_output`` and their
``_adjoint``s (the CPU backend; the CUDA one runs every conv as im2col and one product).
Ops reach arrays only through these names, so no op ever branches on the backend.
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
