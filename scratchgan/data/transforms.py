"""Tiny conversions from uint8 images to the float inputs models train on, and bilinear resizing."""

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


def resize_matrix(n_in, n_out):
    """(n_out, n_in) bilinear interpolation weights, half-pixel centres (PIL /
    align_corners=False)."""
    src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    R = np.zeros((n_out, n_in))
    R[np.arange(n_out), lo] += 1 - frac
    R[np.arange(n_out), hi] += frac
    return R


def resize(images, size):
    """Float images N x C x H x W -> N x C x size x size, bilinear (separable: R_y x R_x^T)."""
    h, w = images.shape[-2:]
    if (h, w) == (size, size):
        return images
    Ry, Rx = resize_matrix(h, size), resize_matrix(w, size)
    return np.einsum("yh,nchw,xw->ncyx", Ry, images, Rx, optimize=True).astype(images.dtype)
