"""scratchgan: a from-scratch deep-learning engine for generative models (NumPy / CuPy)."""

import numpy as np

from . import cuda, data  # noqa: F401

from .autograd import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import Device, default_device
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import profiler  # noqa: F401
from .profiler import profile
from .random import Generator, manual_seed
from .tensor import (
    Tensor,
    as_tensor,
    full,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .ops.shape import cat, concat, stack
from .ops.elementwise import maximum, minimum, where
from .ops.matmul import matmul

float32 = np.float32
float64 = np.float64
int64 = np.int64

__version__ = "0.1.0"


def device(spec):
    """Parse 'cpu', 'cuda' or 'cuda:N' into a Device (raising if CUDA is asked for and missing)."""
    from .backend import parse_device

    return parse_device(spec)


def __getattr__(name):
    # sg.metrics, sg.models, sg.train, sg.viz load on first use (they pull in matplotlib and the models)
    if name in ("metrics", "models", "train", "viz", "nn", "optim", "functional"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'scratchgan' has no attribute {name!r}")
