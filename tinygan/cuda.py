"""tinygan.cuda, as torch.cuda: whether CuPy finds a usable GPU, how many this process uses
(tinygan uses one: 1 or 0), and seeding its global generator."""
from . import backend as backends, random


def is_available():
    """True where CuPy is installed, finds a GPU and can compile and run on it (the checks of
    tinygan.backend.cuda.check_available), else False."""
    try:
        backends.get("cuda")
    except (RuntimeError, ImportError):
        return False
    return True


def device_count():
    """The GPUs this process uses: 1 where one is available (tinygan uses one per process; pick
    it with CUDA_VISIBLE_DEVICES), else 0."""
    return int(is_available())


def current_device():
    """The index of the GPU in use: 0 (refused in one line where no GPU is available)."""
    backends.get("cuda")
    return 0


def manual_seed(seed):
    """Seed the GPU's global generator alone (the CPU's is left as it is); silently nothing
    where no GPU is available, as PyTorch."""
    if is_available():
        random._device_generators["cuda"] = random.Generator("cuda").manual_seed(int(seed))


manual_seed_all = manual_seed  # tinygan uses one GPU, so 'all' is that one


def synchronize(device=None):
    """Wait for the GPU's queued work to finish (nothing where no GPU is available)."""
    if is_available():
        backends.get("cuda").xp.cuda.Device().synchronize()
