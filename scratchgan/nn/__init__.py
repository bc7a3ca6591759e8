"""scratchgan.nn: Module, Parameter and the layers, with PyTorch's names and signatures."""

from . import functional, init, utils
from .activation import ELU, SELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .container import ModuleList, Sequential
from .conv import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, Upsample
from .dropout import Dropout, Dropout2d
from .gan_layers import (
    AdaIN,
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    NoiseInjection,
    PixelNorm,
)
from .linear import DenseTranspose, Embedding, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Identity,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import LoadStateDictError, Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm
from .rnn import LSTM
from .shape import Flatten, Unflatten


def __getattr__(name):
    from ..unsupported import NN_NAMES

    if name in NN_NAMES:
        raise AttributeError(
            f"torch.nn.{name} (PyTorch) is not supported by scratchgan: {NN_NAMES[name]}"
        )
    raise AttributeError(f"module 'scratchgan.nn' has no attribute {name!r} (see docs/PYTORCH.md)")
