"""Sliced Wasserstein distance on Laplacian-pyramid patches (Karras et al. 2018, ProGAN, appendix
D).

Pixels, not classifier features: it measures local image statistics at each scale.

1. Each image (in [0, 1]) gets a Laplacian pyramid: a 5x5 binomial blur ([1 4 6 4 1]/16 both ways,
   mirrored borders) and 2x subsampling make the Gaussian levels; each level minus the 2x upsampled
   (zero insertion, blur x 4) next level is a band; the coarsest Gaussian level is kept as it is.
   ProGAN goes from 1024 down to 16 pixels; at 28 x 28 we keep every level whose side is at least
   the patch size: 28 (band), 14 (band), 7 (the low-pass residual, one patch = the whole thumbnail).
2. From every level, ``patches_per_image`` 7x7 neighbourhoods per image at random positions (ProGAN:
   128 per image on large images; here 16, capped by the number of positions: 484, 64 and 1). Both
   sets use the same positions (image i of each set is cut at the same places).
3. Descriptor normalisation per level, as ProGAN does: each set's descriptors have their per-channel
   mean subtracted and are divided by their per-channel standard deviation (over all descriptors and
   the 7x7 positions), each set with its own statistics. (So SWD ignores a global change of contrast
   per band; FID and KID do not.) A constant band is left unscaled.
4. The sliced Wasserstein distance between the two descriptor sets: 512 random directions (4 repeats
   of 128, unit vectors), the projections of both sets sorted, the mean absolute difference of the
   sorted values, averaged over directions. Both sets use the same number of images (the larger set
   is subsampled).

Values are reported x 1e3, like ProGAN's tables; ``levels`` is finest first, ``mean`` their average.
"""

import itertools
from typing import NamedTuple

import numpy as np

from .inputs import as_images

BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
SCALE = 1e3


class SWD(NamedTuple):
    levels: tuple  # per pyramid level, finest first, x 1e3
    resolutions: tuple  # side of each level
    mean: float


def _blur(x):
    """Separable 5x5 binomial filter over the last two axes, mirrored borders
    (x is N x C x H x W)."""
    p = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    h, w = x.shape[-2:]
    rows = sum(BINOMIAL[k] * p[:, :, k : k + h, :] for k in range(5))
    return sum(BINOMIAL[k] * rows[:, :, :, k : k + w] for k in range(5))


def pyr_down(x):
    return _blur(x)[:, :, ::2, ::2]


def pyr_up(x, shape):
    """Upsample 2x by zero insertion and blur (x 4 to keep the mean),
    cropped to ``shape`` (H, W)."""
    n, c, h, w = x.shape
    z = np.zeros((n, c, 2 * h, 2 * w))
    z[:, :, ::2, ::2] = 4 * x
    return _blur(z)[:, :, : shape[0], : shape[1]]


def laplacian_pyramid(x, min_size=7):
    """Bands finest first, then the low-pass residual; levels halve while the side stays >=
    min_size."""
    gauss = [x]
    while min(gauss[-1].shape[-2:]) // 2 >= min_size:
        gauss.append(pyr_down(gauss[-1]))
    bands = [g - pyr_up(nxt, g.shape[-2:]) for g, nxt in itertools.pairwise(gauss)]
    return bands + [gauss[-1]]


def extract_patches(level, per_image, size, rng):
    """Random size x size neighbourhoods: (N * per_image) x (C * size * size) descriptors."""
    n, c, h, w = level.shape
    per_image = min(per_image, (h - size + 1) * (w - size + 1))
    ys = rng.integers(0, h - size + 1, (n, per_image))
    xs = rng.integers(0, w - size + 1, (n, per_image))
    k = np.arange(size)
    idx_n = np.arange(n)[:, None, None, None, None]
    idx_c = np.arange(c)[None, None, :, None, None]
    rows = ys[:, :, None, None, None] + k[:, None]
    cols = xs[:, :, None, None, None] + k
    return level[idx_n, idx_c, rows, cols].reshape(n * per_image, c, size, size)


def normalize_descriptors(desc):
    """Per-channel standardisation over all descriptors and positions (ProGAN's
    finalize_descriptors)."""
    desc = desc - desc.mean(axis=(0, 2, 3), keepdims=True)
    std = desc.std(axis=(0, 2, 3), keepdims=True)
    desc = desc / np.where(std > 1e-12, std, 1.0)
    return desc.reshape(len(desc), -1)


def sliced_wasserstein(A, B, n_directions=512, chunk=32, rng=None):
    """Mean over random unit directions of the 1-D Wasserstein-1 distance of the projections (len(A)
    == len(B))."""
    rng = rng or np.random.default_rng(0)
    total = 0.0
    for start in range(0, n_directions, chunk):
        k = min(chunk, n_directions - start)
        dirs = rng.standard_normal((A.shape[1], k))
        dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
        pa, pb = (
            np.sort(dirs.T @ A.T, axis=1),
            np.sort(dirs.T @ B.T, axis=1),
        )  # k x M: rows sort fast
        total += np.abs(pa - pb).mean(axis=1).sum()
    return total / n_directions


def swd(real, fake, patches_per_image=16, patch_size=7, n_directions=512, seed=0):
    """Sliced Wasserstein distance x 1e3 between two image sets, per Laplacian-pyramid level and
    averaged.

    real, fake: images (uint8 or [0, 1] floats, N x H x W or N x C x H x W) of the same size.
    Returns ``SWD(levels, resolutions, mean)``; lower is better, 0 for identical sets.
    """
    if np.ndim(real) not in (3, 4) or np.ndim(fake) not in (3, 4):
        raise ValueError(
            f"swd: compares images (N x H x W or N x C x H x W), got arrays of shape "
            f"{np.shape(real)} and {np.shape(fake)}"
        )
    a, b = as_images(real, "swd: real"), as_images(fake, "swd: fake")
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(
            f"swd: real images are {a.shape[1:]}, fake images are {b.shape[1:]}; "
            "expected the same size"
        )
    if min(a.shape[-2:]) < patch_size:
        raise ValueError(
            f"swd: images of {a.shape[-2:]} are smaller than the {patch_size}x{patch_size} patches"
        )
    rng = np.random.default_rng(seed)
    n = min(len(a), len(b))
    if len(a) > n:
        a = a[np.sort(rng.choice(len(a), n, replace=False))]
    if len(b) > n:
        b = b[np.sort(rng.choice(len(b), n, replace=False))]
    pa = laplacian_pyramid(a.astype(np.float64), patch_size)
    pb = laplacian_pyramid(b.astype(np.float64), patch_size)
    levels = []
    for i, (la, lb) in enumerate(zip(pa, pb)):
        # the same patch positions for both sets, so that identical sets are at distance 0
        da = normalize_descriptors(
            extract_patches(la, patches_per_image, patch_size, np.random.default_rng([seed, i]))
        )
        db = normalize_descriptors(
            extract_patches(lb, patches_per_image, patch_size, np.random.default_rng([seed, i]))
        )
        levels.append(float(SCALE * sliced_wasserstein(da, db, n_directions, rng=rng)))
    return SWD(tuple(levels), tuple(level.shape[-1] for level in pa), float(np.mean(levels)))
