"""tinygan.nn, as torch.nn: Module and Parameter, layers, losses and containers, with the
submodules functional, init, utils and parallel."""
from . import functional, init, parallel, utils
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .init import init_rng
from .linear import Flatten, Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNormAct2d, InstanceNorm2d,
                            LayerNorm2d)
from .pooling import AvgPool2d, MaxPool2d
from .sparse import Embedding
from .upsampling import Upsample
from .utils import SpectralNorm
from ..random import manual_seed  # tinygan.nn.manual_seed, as before

__all__ = ["AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d",
           "BatchNormAct2d", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout",
           "Dropout2d", "Embedding", "Flatten", "Identity", "InstanceNorm2d", "L1Loss",
           "LayerNorm2d", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module",
           "ModuleDict", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid",
           "Softmax", "SpectralNorm", "Tanh", "Upsample", "functional", "init", "init_rng",
           "manual_seed", "parallel", "utils"]
