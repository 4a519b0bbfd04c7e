"""Random numbers as PyTorch has them: one global generator per device that ``manual_seed``
seeds, and ``Generator`` objects of one's own.

``manual_seed(s)`` makes every later draw reproducible: the creation functions (randn, rand,
randint, randperm, normal and their *_like forms) and parameter initialisation (nn) all draw
from the global generator of their device, unless given a ``generator=``. The numbers are
tinygan's own, never PyTorch's for the same seed: on the CPU they come from NumPy's PCG64 (the
stream ``numpy.random.default_rng(seed)`` gives, the one parameter init always drew from), on
CUDA from CuPy's ``cupy.random.RandomState`` (cuRAND), where PyTorch uses its Mersenne Twister
and Philox. Before any ``manual_seed`` the seed is 0 (PyTorch's is 67280421310721).
"""
import os

import numpy as np

from . import backend as backends
from .tensor import Tensor

DEFAULT_SEED = 0
SEED_RANGE = (-2**63, 2**64)  # what PyTorch's manual_seed takes; negative seeds wrap mod 2**64
_STATE_FIELDS = (("seed", 8), ("state", 16), ("inc", 16), ("has_uint32", 8), ("uinteger", 8))
STATE_BYTES = sum(size for _, size in _STATE_FIELDS)
NO_DEVICE_STATE = ("a cuda Generator's state cannot be read or set (CuPy's RandomState does not "
                   "expose it); reseed it with manual_seed instead")


class _HostStream:
    """Draws on the CPU: NumPy's Generator on PCG64, as ``numpy.random.default_rng(seed)``."""

    def __init__(self, seed):
        self.numpy = np.random.default_rng(seed)

    def normal(self, shape, dtype):
        """An array of N(0, 1) draws (dtype float32 or float64)."""
        return self.numpy.standard_normal(shape, dtype)

    def uniform(self, shape, dtype):
        """An array of U[0, 1) draws (dtype float32 or float64)."""
        return self.numpy.random(shape, dtype)

    def integers(self, low, high, shape):
        """An int64 array of integers drawn uniformly from [low, high)."""
        return self.numpy.integers(low, high, shape, dtype=np.int64)

    def permutation(self, n):
        """An int64 array of 0, ..., n - 1 in a random order."""
        return self.numpy.permutation(n)

    def get_state(self):
        """PCG64's state as {name: int}, the names of _STATE_FIELDS but "seed"."""
        state = self.numpy.bit_generator.state
        return {**state["state"], "has_uint32": state["has_uint32"],
                "uinteger": state["uinteger"]}

    def set_state(self, fields):
        """Put back a state that get_state gave."""
        self.numpy.bit_generator.state = {
            "bit_generator": "PCG64", "state": {"state": fields["state"], "inc": fields["inc"]},
            "has_uint32": fields["has_uint32"], "uinteger": fields["uinteger"]}


class _DeviceStream:
    """Draws on CUDA: CuPy's ``cupy.random.RandomState`` (cuRAND), whose state is not readable."""

    def __init__(self, seed):
        self.cupy = backends.get("cuda").xp.random.RandomState(np.uint64(seed))

    def normal(self, shape, dtype):
        """A device array of N(0, 1) draws (dtype float32 or float64)."""
        return self.cupy.standard_normal(shape, dtype)

    def uniform(self, shape, dtype):
        """A device array of U[0, 1) draws (dtype float32 or float64)."""
        return self.cupy.random_sample(shape, dtype)

    def integers(self, low, high, shape):
        """An int64 device array of integers drawn uniformly from [low, high)."""
        return self.cupy.randint(low, high, shape, np.int64)

    def permutation(self, n):
        """An int64 device array of 0, ..., n - 1 in a random order."""
        return self.cupy.permutation(n)

    def get_state(self):
        """Refused: cuRAND's state is not readable through CuPy."""
        raise NotImplementedError(f"get_state: {NO_DEVICE_STATE}")

    def set_state(self, fields):
        """Refused: cuRAND's state cannot be set through CuPy."""
        raise NotImplementedError(f"set_state: {NO_DEVICE_STATE}")


_STREAMS = {"cpu": _HostStream, "cuda": _DeviceStream}


def _entropy():
    """A 64-bit seed from the operating system's entropy."""
    return int.from_bytes(os.urandom(8), "little")


def device_name(device):
    """A device ("cpu", "cuda" or an object with a ``type``, as torch.device) as its name."""
    name = getattr(device, "type", device)
    backends.get(name)  # one line naming the device when it is unknown or unavailable
    return name


class Generator:
    """A random number generator on one device, as torch.Generator: seeded with manual_seed
    (0 until then), passed as ``generator=`` to the random creation functions."""

    def __init__(self, device="cpu"):
        self.device = device_name(device)
        self.manual_seed(DEFAULT_SEED)

    def __repr__(self):
        return f"Generator(device={self.device!r}, initial_seed={self._seed})"

    def manual_seed(self, seed):
        """Restart this generator's stream from ``seed`` (an int; negative ones wrap mod 2**64,
        as PyTorch's); returns the generator."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__} "
                            f"{seed!r}")
        if not SEED_RANGE[0] <= seed < SEED_RANGE[1]:
            raise ValueError(f"manual_seed: seed must be in [-2**63, 2**64), got {seed}")
        self._seed = int(seed) % 2**64
        self._stream = _STREAMS[self.device](self._seed)
        return self

    def seed(self):
        """Seed this generator from the operating system's entropy; returns the seed."""
        entropy = _entropy()
        self.manual_seed(entropy)
        return entropy

    def initial_seed(self):
        """The seed this generator's stream started from."""
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 Tensor, for ``set_state`` (CPU generators only)."""
        fields = {"seed": self._seed, **self._stream.get_state()}
        state = b"".join(fields[name].to_bytes(size, "little") for name, size in _STATE_FIELDS)
        return Tensor(np.frombuffer(state, np.uint8).copy(), dtype=np.uint8)

    def set_state(self, new_state):
        """Put back a state that ``get_state`` returned; returns the generator."""
        if not isinstance(new_state, Tensor) or new_state.dtype != np.uint8 \
                or new_state.shape != (STATE_BYTES,):
            got = (f"a {new_state.dtype} Tensor of shape {new_state.shape}"
                   if isinstance(new_state, Tensor) else type(new_state).__name__)
            raise TypeError(f"set_state: new_state must be a uint8 Tensor of {STATE_BYTES} "
                            f"bytes from get_state(), got {got}")
        state, fields, start = new_state.numpy().tobytes(), {}, 0
        for name, size in _STATE_FIELDS:
            fields[name] = int.from_bytes(state[start:start + size], "little")
            start += size
        self._stream.set_state(fields)
        self._seed = fields["seed"]
        return self

    @property
    def numpy(self):
        """The NumPy Generator that a CPU generator draws with (parameter init uses it)."""
        return self._stream.numpy

    def draw(self, kind, *args):
        """An array of this generator's device: kind is normal(shape, dtype),
        uniform(shape, dtype) in [0, 1), integers(low, high, shape) or permutation(n)."""
        return getattr(self._stream, kind)(*args)


default_generator = Generator()
_device_generators = {}  # the global generators of other devices than the CPU, made on use
_seed = DEFAULT_SEED


def global_generator(device):
    """The global generator of ``device`` (a device name); one other than the CPU's is made on
    first use after each manual_seed, from that seed (so seeding never needs the device)."""
    if device == "cpu":
        return default_generator
    if device not in _device_generators:
        _device_generators[device] = Generator(device).manual_seed(_seed)
    return _device_generators[device]


def manual_seed(seed):
    """Seed the global generator of every device (``int(seed)``, as PyTorch); returns the CPU
    one. Parameter init and the random creation functions draw from them."""
    global _seed
    default_generator.manual_seed(int(seed))
    _seed = default_generator.initial_seed()
    _device_generators.clear()
    return default_generator


def seed():
    """Seed every global generator from the operating system's entropy; returns the seed."""
    entropy = _entropy()
    manual_seed(entropy)
    return entropy


def initial_seed():
    """The seed the global CPU generator started from."""
    return default_generator.initial_seed()


def get_rng_state():
    """The global CPU generator's state as a uint8 Tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Put back a state of the global CPU generator that get_rng_state returned."""
    default_generator.set_state(new_state)
