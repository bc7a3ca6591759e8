"""What the metrics accept: image arrays or precomputed feature arrays, checked and converted once.

Images: uint8 (0..255) or float in [0, 1], shaped N x H x W or N x C x H x W.
Features: a 2-D float array N x D (one row per sample).
Images become features through a classifier in features.py.
"""

import numpy as np

FLOAT_SLACK = 1e-3  # float images may overshoot [0, 1] by rounding; more than this is an error


def is_images(x):
    """True for an N x H x W or N x C x H x W array (images), False for N x D (features)."""
    return np.ndim(x) in (3, 4)


def as_images(x, name="images"):
    """uint8 or [0, 1] float images -> float32 N x C x H x W in [0, 1] (a numpy copy)."""
    x = np.asarray(x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else x)
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: expected images N x H x W or N x C x H x W, got shape {x.shape}")
    if len(x) == 0:
        raise ValueError(f"{name}: got no images (shape {x.shape})")
    if x.ndim == 3:
        x = x[:, None]
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name}: expected uint8 or float images, got dtype {x.dtype}")
    lo, hi = float(x.min()), float(x.max())
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -FLOAT_SLACK or hi > 1 + FLOAT_SLACK:
        raise ValueError(
            f"{name}: float images must lie in [0, 1], got values in [{lo:.4g}, {hi:.4g}] "
            "(map tanh outputs with (x + 1) / 2)"
        )
    return np.clip(x, 0, 1).astype(np.float32)


def as_features(x, name="features"):
    """A 2-D N x D array -> float64, checked finite and non-empty."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty feature array N x D, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: features contain NaN or infinity")
    return x
