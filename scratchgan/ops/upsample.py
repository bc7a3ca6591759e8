"""Nearest-neighbour upsampling by an integer factor, composed from broadcast_to and reshape.

Each pixel becomes an sy x sx block: x (N, C, H, W) is viewed as (N, C, H, 1, W, 1), broadcast
to (N, C, H, sy, W, sx) and reshaped to (N, C, H sy, W sx). The backward of broadcasting sums
the gradient over each block, and that sum's backward is broadcasting again, so the op is
differentiable to any order with no node of its own.
"""

import numbers

from .arithmetic import broadcast_to


def _scale(scale_factor):
    pair = isinstance(scale_factor, (tuple, list))
    factors = scale_factor if pair else (scale_factor, scale_factor)
    ok = len(factors) == 2 and all(
        isinstance(f, numbers.Real) and not isinstance(f, bool) and f >= 1 and float(f).is_integer()
        for f in factors
    )
    if not ok:
        raise ValueError(
            "interpolate: scale_factor must be a positive integer or a pair of them "
            "(mode='nearest' supports "
            f"integer scaling only), got {scale_factor!r}"
        )
    return int(factors[0]), int(factors[1])


def interpolate(input, scale_factor, mode="nearest"):
    """Upsample by repeating each pixel, as torch.nn.functional.interpolate(mode="nearest").

    y[n, c, i, j] = x[n, c, floor(i / sy), floor(j / sx)].

    Args:
        input: (N, C, H, W). scale_factor: a positive integer or a pair (sy, sx) of them (2.0 counts
        as 2). mode: only "nearest".
    Returns:
        (N, C, H sy, W sx).

    Example: interpolate(x (8, 128, 7, 7), scale_factor=2) has shape (8, 128, 14, 14).
    """
    if mode != "nearest":
        raise ValueError(
            f"interpolate: mode {mode!r} is not supported; only mode='nearest' is implemented"
        )
    if input.ndim != 4:
        raise ValueError(
            f"interpolate: input must be 4-D (N, C, H, W), got shape {input.shape} ({input.ndim}-D)"
        )
    sy, sx = _scale(scale_factor)
    n, c, h, w = input.shape
    if sy == sx == 1:
        return input
    blocks = broadcast_to(input.reshape(n, c, h, 1, w, 1), (n, c, h, sy, w, sx))
    return blocks.reshape(n, c, h * sy, w * sx)


__all__ = ["interpolate"]
