"""Dropout: zero each element with probability p and scale the survivors by 1 / (1 - p).

The mask is drawn once in forward; the op is then a multiplication by a constant
(mask / (1 - p)), so backward multiplies the gradient by exactly the same mask, and the
second derivative is zero.
"""

import numbers

from ..random import resolve
from ..tensor import Tensor


def dropout(input, p=0.5, training=True, generator=None):
    """Inverted dropout, as in PyTorch.

    y = input * m / (1 - p) with m_i ~ Bernoulli(1 - p) drawn from ``generator`` (default:
    the input device's default generator, see ``sg.manual_seed``). With ``training=False``
    or ``p=0`` the input is returned unchanged; ``p=1`` gives zeros. Any shape.
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
