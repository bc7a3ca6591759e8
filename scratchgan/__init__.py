"""scratchgan: a from-scratch deep-learning engine for generative models (NumPy / CuPy)."""

import numpy as np

from . import (  # noqa: F401
    allocator,  # keeps freed memory for reuse (SCRATCHGAN_MALLOC=system: not)
    cuda,
    data,
    profiler,  # noqa: F401
)
from . import autograd as _autograd
from . import autograd_api as _autograd_api
from .autograd import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import Device, default_device
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops.elementwise import maximum, minimum, where
from .ops.matmul import matmul
from .profiler import profile
from .random import Generator, manual_seed
from .serialization import load, save  # noqa: F401
from .tensor import (
    Tensor,
    full,
    ones,
    rand,
    randint,
    randn,
    tensor,
    zeros,
)
from .torch_api import *  # noqa: F401,F403  (sum, mean, ..., arange, linspace, eye, from_numpy, ...)
from .torch_api import as_tensor, cat, concat, stack  # noqa: F401

if not hasattr(_autograd, "backward"):  # sg.autograd.backward, as torch.autograd.backward
    _autograd.backward = _autograd_api.backward
if not hasattr(_autograd, "Variable"):  # legacy torch.autograd.Variable
    _autograd.Variable = Variable  # noqa: F405

float32 = float = np.float32
float64 = double = np.float64
float16 = half = np.float16
int64 = long = np.int64
int32 = int = np.int32
uint8 = np.uint8
bool = np.bool_

__version__ = "0.1.0"


def device(spec):
    """Parse 'cpu', 'cuda' or 'cuda:N' into a Device (raising if CUDA is asked for and missing)."""
    from .backend import parse_device

    return parse_device(spec)


def __getattr__(name):
    # sg.metrics, sg.models, sg.train, sg.viz load on first use (they pull in matplotlib and the
    # models)
    if name in ("metrics", "models", "train", "viz", "nn", "optim", "functional", "backends"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    from .unsupported import TORCH_FUNCTIONS

    if name in TORCH_FUNCTIONS:
        raise AttributeError(
            f"torch.{name} (PyTorch) is not supported by scratchgan: {TORCH_FUNCTIONS[name]}"
        )
    raise AttributeError(f"module 'scratchgan' has no attribute {name!r} (see docs/PYTORCH.md)")
