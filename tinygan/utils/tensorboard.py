"""torch.utils.tensorboard for tinygan: a SummaryWriter that takes Tensors (on any device), NumPy
arrays and numbers, written by tensorboardX (pip install -e ".[monitor]"), imported on first use.

    from tinygan.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/mine") as writer:
        writer.add_scalar("loss", loss, step)      # then: tensorboard --logdir runs
"""
import importlib

import numpy as np

from ..tensor import Tensor

INSTALL = 'pip install -e ".[monitor]"'


def tensorboardX():
    """The tensorboardX module; an ImportError naming the extra to install where it is missing."""
    try:
        return importlib.import_module("tensorboardX")
    except ImportError:
        raise ImportError(f"TensorBoard logging needs tensorboardX: {INSTALL}") from None


def to_numpy(value):
    """A Tensor, CuPy array, NumPy array or number as a NumPy array on the host."""
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if hasattr(value, "__cuda_array_interface__"):  # a CuPy array
        return value.get()
    return np.asarray(value)


def to_number(value):
    """A one-element Tensor or array, or a number, as a Python number (bool and str kept)."""
    return value if isinstance(value, (bool, str)) else to_numpy(value).item()


class SummaryWriter:
    """Writes TensorBoard event files to ``log_dir`` (default runs/DATE_HOST); ``purge_step``
    hides the events at that step and after written before a crash (a resumed run's)."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        self.writer = tensorboardX().SummaryWriter(
            logdir=None if log_dir is None else str(log_dir), comment=comment,
            purge_step=purge_step, max_queue=max_queue, flush_secs=flush_secs,
            filename_suffix=filename_suffix)

    @property
    def log_dir(self):
        """The folder of the event files."""
        return self.writer.logdir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None):
        """One value of the curve ``tag`` at ``global_step``."""
        self.writer.add_scalar(tag, to_number(scalar_value), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several curves in one chart: {name: value}, each name its own run main_tag/name."""
        values = {k: to_number(v) for k, v in tag_scalar_dict.items()}
        self.writer.add_scalars(main_tag, values, global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """One image: floats in [0, 1] or uint8 in [0, 255], laid out as ``dataformats``."""
        self.writer.add_image(tag, to_numpy(img_tensor), global_step, walltime, dataformats)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """A batch of images shown as one grid (values as add_image)."""
        self.writer.add_images(tag, to_numpy(img_tensor), global_step, walltime, dataformats)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        """The distribution of ``values`` (any shape) at ``global_step``."""
        self.writer.add_histogram(tag, to_numpy(values).ravel(), global_step, bins, walltime,
                                  max_bins)

    def add_hparams(self, hparam_dict, metric_dict, run_name=None, global_step=None):
        """A run's settings and its results, one row of the HPARAMS table, written to the
        sub-folder ``run_name`` (default: the time)."""
        self.writer.add_hparams({k: to_number(v) for k, v in hparam_dict.items()},
                                {k: to_number(v) for k, v in metric_dict.items()},
                                name=run_name, global_step=global_step)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """A piece of text (Markdown) at ``global_step``."""
        self.writer.add_text(tag, text_string, global_step, walltime)

    def flush(self):
        """Write the pending events to disk."""
        self.writer.flush()

    def close(self):
        """Write the pending events and close the event files."""
        self.writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
