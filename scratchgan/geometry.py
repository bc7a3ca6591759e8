"""Window geometry shared by convolution, pooling and their CUDA kernels.

One definition each of the two rules they all follow: how an ``int or (h, w)`` argument becomes a
pair, and how many windows fit along an axis. This module imports only NumPy.
"""

import numpy as np


def pair(value, name, fn, minimum):
    """``value`` as an (h, w) pair of ints: an int n means (n, n); bools and the rest are refused.

    Raises TypeError naming ``fn`` and ``name`` for anything but an int or a pair of ints, and
    ValueError when either entry is below ``minimum``.
    Example: pair(2, "stride", "conv2d", 1) == (2, 2);
    pair((1, 0), "padding", "conv2d", 0) == (1, 0).
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        value = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    if min(value) < minimum:
        raise ValueError(f"{fn}: {name} must be at least {minimum}, got {value}")
    return value


def conv_output_size(size, k, stride, padding, dilation):
    """Windows along one axis: floor((size + 2 padding - dilation (k - 1) - 1) / stride) + 1.

    As in PyTorch's conv2d and max_pool2d; ``k`` is the kernel size along the axis. Zero or less
    means the padded input is smaller than one dilated kernel.
    Example: conv_output_size(28, 5, stride=2, padding=2, dilation=1) == 14.
    """
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1
