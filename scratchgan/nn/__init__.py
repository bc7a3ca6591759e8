"""scratchgan.nn: Module, Parameter and the layers, with PyTorch's names and signatures."""

from . import init  # noqa: F401
from .activation import ELU, SELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh  # noqa: F401
from .container import ModuleList, Sequential  # noqa: F401
from .conv import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, Upsample  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .gan_layers import AdaIN, EqualizedConv2d, EqualizedLinear, MinibatchStdDev, NoiseInjection, PixelNorm  # noqa: F401
from .linear import DenseTranspose, Embedding, Linear  # noqa: F401
from .module import LoadStateDictError, Module, Parameter  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm  # noqa: F401
from .rnn import LSTM  # noqa: F401
from .shape import Flatten, Unflatten  # noqa: F401
