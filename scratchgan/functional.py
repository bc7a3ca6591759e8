"""scratchgan.functional: the ops as functions, with PyTorch's names and semantics.

Each name is defined in the op-family module it comes from (``scratchgan/ops/<family>.py``),
next to its forward and backward; this module only gathers them.
"""

from .ops.activation import (  # noqa: F401
    elu,
    leaky_relu,
    log_softmax,
    relu,
    selu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from .ops.conv import conv2d, conv_transpose2d  # noqa: F401
from .ops.dropout import dropout, dropout2d  # noqa: F401
from .ops.elementwise import abs, clip, exp, log, maximum, minimum, sqrt, where  # noqa: F401
from .ops.embedding import embedding  # noqa: F401
from .ops.gan import adain, minibatch_stddev, pixel_norm  # noqa: F401
from .ops.loss import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    gaussian_kl,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .ops.matmul import linear, matmul  # noqa: F401
from .ops.normalization import batch_norm, instance_norm, layer_norm  # noqa: F401
from .ops.pooling import avg_pool2d, max_pool2d  # noqa: F401
from .ops.shape import cat, concat, reshape, stack  # noqa: F401
from .ops.upsample import interpolate  # noqa: F401
