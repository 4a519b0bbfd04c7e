"""A training run watched in TensorBoard (examples/train_cifar.py --tensorboard): every step's
curves, the sample grids, each epoch's histograms, the measurements and the run's settings."""
import math

from ..utils import tensorboard
from . import visual


def check_available():
    """Raise a one-line ImportError naming the extra to install if tensorboardX is missing."""
    tensorboard.tensorboardX()


class Monitor:
    """Writes one run's events to ``log_dir``, going on after ``step``: what an earlier try of
    the run wrote at later steps (after its last checkpoint, before a crash) is hidden by
    TensorBoard (purge_step), so that a resumed run's curves continue without doubled points.
    The event file's name ends in the first step, which orders the files of one second."""

    def __init__(self, log_dir, step):
        self.writer = tensorboard.SummaryWriter(log_dir, purge_step=step + 1, flush_secs=10,
                                                filename_suffix=f".from_step_{step + 1:010d}")
        self.image_step = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.writer.close()

    def step(self, step, metrics, grad_norms):
        """A step's metrics as train/NAME and each layer's gradient norm as grad_norm/MODEL/NAME;
        a NaN (loss_G of a step without a G update) is left out."""
        for prefix, values in (("train", metrics), ("grad_norm", grad_norms)):
            for name, value in values.items():
                if math.isfinite(value):
                    self.writer.add_scalar(f"{prefix}/{name}", value, step)

    def samples(self, step, images):
        """The fixed-noise grid of uint8 (N, C, H, W) images, 8 a row, once per step."""
        if step != self.image_step:
            self.writer.add_image("samples", visual.make_grid(images, 8), step, dataformats="HWC")
            self.image_step = step

    def histograms(self, step, named_parameters):
        """Each parameter's values (weights/NAME) and its last gradient (gradients/NAME)."""
        for name, p in named_parameters:
            self.writer.add_histogram(f"weights/{name}", p, step)
            if p.grad is not None:
                self.writer.add_histogram(f"gradients/{name}", p.grad, step)

    def evaluation(self, step, results):
        """A measurement's results {name: value} as eval/NAME."""
        for name, value in results.items():
            self.writer.add_scalar(f"eval/{name}", value, step)

    def finish(self, step, settings, results):
        """The run's settings with its final results (hparam/NAME), one row of TensorBoard's
        HPARAMS table (in the sub-folder hparams)."""
        self.writer.add_hparams(settings, {f"hparam/{k}": v for k, v in results.items()},
                                run_name="hparams", global_step=step)

    def flush(self):
        """Flush the event file to disk (at each checkpoint)."""
        self.writer.flush()
