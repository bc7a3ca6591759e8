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
        raise ValueError(f"images: expected uint8 N x H x W or N x C x H x W, got {images.dtype} {images.shape}")
    if images.ndim == 3:
        images = images[:, None]
    with profiler.region("to_float", "data"):
        x = images.astype(np.float32)
        x /= np.float32(255)
        return x


def to_tanh_range(images):
    """uint8 images -> float32 in [-1, 1] with a channel axis: 2 * to_float(images) - 1 (for tanh outputs)."""
    return to_float(images) * np.float32(2) - np.float32(1)
