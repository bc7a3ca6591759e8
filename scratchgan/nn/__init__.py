"""scratchgan.nn: Module, Parameter and the layers, with PyTorch's names and signatures."""

from . import (  # noqa: F401,E402
    functional,
    init,  # noqa: F401
    utils,
)
from .activation import ELU, SELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh  # noqa: F401
from .container import ModuleList, Sequential  # noqa: F401
from .conv import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, Upsample  # noqa: F401
from .dropout import Dropout, Dropout2d  # noqa: F401
from .gan_layers import (
    AdaIN,
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    NoiseInjection,
    PixelNorm,
)  # noqa: F401
from .linear import DenseTranspose, Embedding, Linear  # noqa: F401
from .loss import (  # noqa: F401
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
from .module import LoadStateDictError, Module, Parameter  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm  # noqa: F401
from .rnn import LSTM  # noqa: F401
from .shape import Flatten, Unflatten  # noqa: F401


def __getattr__(name):
    from ..unsupported import NN_NAMES

    if name in NN_NAMES:
        raise AttributeError(
            f"torch.nn.{name} (PyTorch) is not supported by scratchgan: {NN_NAMES[name]}"
        )
    raise AttributeError(f"module 'scratchgan.nn' has no attribute {name!r} (see docs/PYTORCH.md)")
