"""scratchgan.functional: the ops as functions, with PyTorch's names and semantics.

Each name is defined in the op-family module it comes from (``scratchgan/ops/<family>.py``),
next to its forward and backward; this module only gathers them.
"""

from .ops.activation import elu, leaky_relu, log_softmax, relu, selu, sigmoid, softmax, softplus, tanh  # noqa: F401
from .ops.elementwise import abs, clip, exp, log, maximum, minimum, sqrt, where  # noqa: F401
from .ops.matmul import linear, matmul  # noqa: F401
from .ops.shape import cat, concat, reshape, stack  # noqa: F401
