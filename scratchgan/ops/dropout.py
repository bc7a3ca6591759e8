"""Dropout: zero each element with probability p and scale the survivors by 1 / (1 - p).

The mask is drawn once in forward; the op is then a multiplication by a constant
(mask / (1 - p)), so backward multiplies the gradient by exactly the same mask, and the
second derivative is zero.
"""

import numbers

from ..random import resolve
from ..tensor import Tensor


def dropout(input, p=0.5, training=True, generator=None):
    """Inverted dropout, as torch.nn.functional.dropout.

    y = input * m / (1 - p) with m_i ~ Bernoulli(1 - p) drawn from ``generator`` (default: the
    input device's default generator, see ``sg.manual_seed``); backward multiplies by the same
    m / (1 - p). With ``training=False`` or ``p=0`` the input is returned unchanged; ``p=1``
    gives zeros.

    Args:
        input: any shape, e.g. (N, features). p: the probability of zeroing an element.
        training: whether to drop at all. generator: an ``sg.Generator`` or None.
    Returns:
        A tensor of input's shape.

    Example: dropout(x (64, 256), 0.5) zeroes about half the values and doubles the others.
    """
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: input must be a Tensor, got {type(input).__name__}")
    if not training or p == 0:
        return input
    xp, dtype = input.xp, input.dtype
    if p == 1:
        return input * Tensor._make(xp.zeros((), dtype=dtype))
    u = resolve(generator, input.device).uniform(input.shape, dtype)
    scale = (u >= p).astype(dtype)
    scale *= dtype.type(1 / (1 - p))
    scale = Tensor._make(scale)
    return input * scale
