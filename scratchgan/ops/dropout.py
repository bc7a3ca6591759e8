"""Dropout: zero each element with probability p and scale the survivors by 1 / (1 - p).

The mask is drawn once in forward; the op is then a multiplication by a constant
(mask / (1 - p)), so backward multiplies the gradient by exactly the same mask, and the
second derivative is zero.
"""

import numbers

from ..random import resolve
from ..tensor import Tensor
from ..tensor_inplace import apply_inplace


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """Inverted dropout, as torch.nn.functional.dropout.

    y = input * m / (1 - p) with m_i ~ Bernoulli(1 - p) drawn from ``generator`` (default: the
    input device's default generator, see ``sg.manual_seed``); backward multiplies by the same
    m / (1 - p). With ``training=False`` or ``p=0`` the input is returned unchanged; ``p=1``
    gives zeros. ``inplace=True`` writes y into input's array (see ops/inplace.py).

    Args:
        input: any shape, e.g. (N, features). p: the probability of zeroing an element.
        training: whether to drop at all. generator: an ``sg.Generator`` or None.
    Returns:
        A tensor of input's shape.

    Example: dropout(x (64, 256), 0.5) zeroes about half the values and doubles the others.
    """
    return _dropout(input, p, training, inplace, generator, input.shape if _is(input) else None)


def dropout2d(input, p=0.5, training=True, inplace=False, generator=None):
    """Channel dropout, as torch.nn.functional.dropout2d: one Bernoulli(1 - p) draw per
    (sample, channel) zeroes or keeps the whole feature map; survivors are scaled by 1 / (1 - p).

    Args:
        input: (N, C, H, W) or (C, H, W). p, training, inplace, generator: as ``dropout``.
    Returns:
        A tensor of input's shape.

    Example: dropout2d(x (64, 128, 8, 8), 0.25) zeroes about a quarter of the 64 x 128 maps.
    """
    if _is(input) and input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D or 4-D input, got shape {input.shape}")
    shape = input.shape[:-2] + (1, 1) if _is(input) else None
    return _dropout(input, p, training, inplace, generator, shape)


def _is(input):
    return isinstance(input, Tensor)


def _dropout(input, p, training, inplace, generator, mask_shape):
    name = "dropout"
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"{name}: p must be a probability in [0, 1], got {p!r}")
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if not training or p == 0:
        return input
    xp, dtype = input.xp, input.dtype
    if p == 1:
        scale = Tensor._make(xp.zeros((), dtype=dtype))
    else:
        u = resolve(generator, input.device).uniform(mask_shape, dtype)
        scale = (u >= p).astype(dtype)
        scale *= dtype.type(1 / (1 - p))
        scale = Tensor._make(scale)
    if inplace:
        return apply_inplace(input, lambda x: x * scale, name + "_")
    return input * scale
