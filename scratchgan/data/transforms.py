"""Tiny conversions from uint8 images to the float inputs models train on."""

import numpy as np

from .. import profiler


def to_float(images):
    """uint8 images -> float32 in [0, 1] with a channel axis.

    N x H x W (grayscale) becomes N x 1 x H x W; N x C x H x W keeps its shape. Values are x / 255.

    Example:
        >>> to_float(np.full((2, 28, 28), 255, np.uint8)).shape   # (2, 1, 28, 28), all 1.0
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(
            f"images: expected uint8 N x H x W or N x C x H x W, got {images.dtype} {images.shape}"
        )
    if images.ndim == 3:
        images = images[:, None]
    with profiler.region("to_float", "data"):
        x = images.astype(np.float32)
        x /= np.float32(255)
        return x


def to_tanh_range(images):
    """Images in [0, 1] -> [-1, 1] for tanh generators: 2 x - 1, the project's one such scaling.

    uint8 images go through ``to_float`` first (float32 with a channel axis); float arrays (already
    in [0, 1], e.g. padded to a canvas) keep their shape and dtype.

    Example:
        >>> to_tanh_range(np.full((2, 28, 28), 255, np.uint8)).max()   # 1.0, shape (2, 1, 28, 28)
    """
    x = to_float(images) if np.asarray(images).dtype == np.uint8 else images
    return x * np.float32(2) - np.float32(1)
