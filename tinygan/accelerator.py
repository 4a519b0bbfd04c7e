"""tinygan.accelerator, as torch.accelerator: the GPU where CuPy finds one (tinygan's only
accelerator), else none."""
from . import cuda
from .devices import device


def is_available():
    """Whether a GPU is usable (tinygan.cuda.is_available())."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """device('cuda') where a GPU is usable, else None (PyTorch: None where no accelerator is
    built in or, with check_available, where it is not usable)."""
    return device("cuda") if cuda.is_available() else None


def device_count():
    """The accelerators this process uses: tinygan.cuda.device_count()."""
    return cuda.device_count()
