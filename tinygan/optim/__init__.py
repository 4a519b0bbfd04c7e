"""Optimizers, as torch.optim: update parameters in place from their ``.grad``, on the
parameters' device, per parameter group; learning-rate schedules (lr_scheduler); and a moving
average of a module's weights (for G's EMA)."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .ema import ExponentialMovingAverage
from .optimizer import Optimizer
from .sgd import SGD, RMSprop

__all__ = ["SGD", "Adam", "AdamW", "ExponentialMovingAverage", "Optimizer", "RMSprop",
           "lr_scheduler"]
