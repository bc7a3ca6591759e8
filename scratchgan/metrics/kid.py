"""Kernel Inception-style Distance (Binkowski et al. 2018): an unbiased estimate of MMD^2.

    k(x, y) = (x . y / d + 1)^3                          (cubic polynomial kernel,
                                                          d = feature dimension)
    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
              - 2 sum_{i, j} k(x_i, y_j) / (m n)

computed on ``n_subsets`` random subsets of ``subset_size`` samples of each set (without replacement
within a subset), as the paper's code does; returns their mean and standard deviation (ddof 0).
Being unbiased, the estimate is near 0 for two samples of one distribution and can be negative.
"""

from typing import NamedTuple

import numpy as np

from .features import features_of


class KID(NamedTuple):
    mean: float
    std: float


def polynomial_kernel(X, Y, degree=3, gamma=None, coef0=1.0):
    """(gamma X Y^T + coef0)^degree with gamma = 1 / d by default."""
    gamma = 1.0 / X.shape[1] if gamma is None else gamma
    base = X @ Y.T
    base *= gamma
    base += coef0
    out = base.copy()
    for _ in range(degree - 1):  # repeated products: much faster than a float power
        out *= base
    return out


def mmd2_unbiased(X, Y, degree=3, gamma=None, coef0=1.0):
    """The unbiased MMD^2 estimate between samples X (m x d) and Y (n x d), m, n >= 2."""
    m, n = len(X), len(Y)
    Kxx = polynomial_kernel(X, X, degree, gamma, coef0)
    Kyy = polynomial_kernel(Y, Y, degree, gamma, coef0)
    Kxy = polynomial_kernel(X, Y, degree, gamma, coef0)
    return float(
        (Kxx.sum() - np.trace(Kxx)) / (m * (m - 1))
        + (Kyy.sum() - np.trace(Kyy)) / (n * (n - 1))
        - 2 * Kxy.sum() / (m * n)
    )


def kid(real, fake, classifier=None, n_subsets=100, subset_size=1000, seed=0):
    """Kernel Inception-style Distance: (mean, std) of the unbiased MMD^2 over random subsets.

    real, fake: images (embedded with ``classifier``, a Classifier or a data-set name) or features
    N x D. ``subset_size`` is capped by the smaller set. Draws come from numpy's PCG64 seeded with
    ``seed``. Lower is better; about 0 for identical distributions.
    """
    a = features_of(real, classifier, "kid", "real")
    b = features_of(fake, classifier, "kid", "fake")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"kid: real has {a.shape[1]} feature dimensions, fake has {b.shape[1]}")
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError(
            f"kid: needs at least 2 samples per set, got {len(a)} real and {len(b)} fake"
        )
    if n_subsets < 1:
        raise ValueError(f"kid: n_subsets must be positive, got {n_subsets}")
    rng = np.random.default_rng(seed)
    values = [
        mmd2_unbiased(
            a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        )
        for _ in range(n_subsets)
    ]
    return KID(float(np.mean(values)), float(np.std(values)))
