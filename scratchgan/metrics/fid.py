"""Frechet distance between Gaussians fitted to two feature sets (FID, Heusel et al. 2017).

    FID = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1^1/2 S2 S1^1/2)

The trace term is the usual tr sqrt(S1 S2): S1 S2 is similar to the symmetric positive semi-definite
S1^1/2 S2 S1^1/2, so both have the same (non-negative) eigenvalues. Working with the symmetric form
lets ``numpy.linalg.eigh`` do all the work: no complex square roots, and rank-deficient covariances
(fewer samples than feature dimensions, dead ReLU features) are fine, since eigenvalues at the level
of rounding noise (below D * eps * the largest) are set to zero before their square roots are taken.
"""

import numpy as np

from .features import features_of


def _clean(w):
    """Eigenvalues of a PSD matrix with rounding noise removed: those below D * eps * max |w| become
    0 (the square root would turn a 1e-17 into a 3e-9 and break symmetry and zero distances)."""
    tol = len(w) * np.finfo(np.float64).eps * max(np.abs(w).max(initial=0.0), 1e-300)
    return np.where(w > tol, w, 0.0)


def psd_sqrt(S):
    """The symmetric square root of a symmetric positive semi-definite matrix (negative eigenvalues
    -> 0)."""
    w, V = np.linalg.eigh((S + S.T) / 2)
    return (V * np.sqrt(_clean(w))) @ V.T


def trace_sqrt_product(S1, S2):
    """tr sqrt(S1 S2) for symmetric PSD S1, S2, via the eigenvalues of S1^1/2 S2 S1^1/2."""
    R = psd_sqrt(S1)
    M = R @ S2 @ R
    return float(np.sqrt(_clean(np.linalg.eigvalsh((M + M.T) / 2))).sum())


def frechet_distance(mu1, S1, mu2, S2):
    """Squared Frechet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2).

    mu1, mu2: (D,); S1, S2: (D, D) symmetric positive semi-definite. Returns a float >= 0.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    S1, S2 = np.asarray(S1, np.float64), np.asarray(S2, np.float64)
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or S1.shape != (d, d) or S2.shape != (d, d):
        raise ValueError(
            f"frechet_distance: expected mu1, mu2 of shape (D,) and S1, S2 of shape (D, D), got "
            f"{mu1.shape}, {S1.shape}, {mu2.shape}, {S2.shape}"
        )
    diff = mu1 - mu2
    value = diff @ diff + np.trace(S1) + np.trace(S2) - 2 * trace_sqrt_product(S1, S2)
    return max(float(value), 0.0)


def gaussian_stats(features):
    """(mean, covariance with N - 1 in the denominator) of an N x D feature array."""
    mu = features.mean(axis=0)
    if len(features) < 2:
        return mu, np.zeros((features.shape[1],) * 2)
    return mu, np.cov(features, rowvar=False).reshape(features.shape[1], features.shape[1])


def fid(real, fake, classifier=None):
    """Frechet Inception-style Distance between two sets.

    real, fake: images (uint8 or [0, 1] floats, N x H x W or N x C x H x W; embedded with
    ``classifier``'s 128-d feature layer) or precomputed features (N x D). ``classifier``: a
    Classifier or a data-set name ('fashion-mnist'), needed only for images. Lower is better; 0 for
    identical feature sets.

    Example:
        >>> fid(test_images, generated_images, classifier="fashion-mnist")
    """
    a = features_of(real, classifier, "fid", "real")
    b = features_of(fake, classifier, "fid", "fake")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"fid: real has {a.shape[1]} feature dimensions, fake has {b.shape[1]}")
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))
