"""Improved precision and recall (Kynkaanniemi et al. 2019): k-nearest-neighbour manifolds in
feature space.

The manifold of a set is the union of balls centred at its samples, each with the radius of the
distance to its k-th nearest neighbour within the set (the sample itself not counted; k = 3 as in
the paper). Then

    precision = fraction of fake samples that fall inside the real manifold   (fidelity)
    recall    = fraction of real samples that fall inside the fake manifold   (diversity)

Distances are Euclidean on the classifier's 128-d features, computed in blocks of rows so that
10,000 x 10,000 comparisons fit in little memory. A point on a ball's boundary counts as inside
(with a relative slack of 1e-9 on squared distances, for rounding).
"""

from typing import NamedTuple

import numpy as np

from .features import features_of

BLOCK = 1000  # rows per block of the pairwise-distance matrix
SLACK = 1e-9


class PrecisionRecall(NamedTuple):
    precision: float
    recall: float


def _sq_dists(A, B, a2, b2):
    return np.maximum(a2[:, None] + b2[None, :] - 2 * (A @ B.T), 0.0)


def knn_radii(X, k=3):
    """Squared distance from each row of X to its k-th nearest other row."""
    if len(X) <= k:
        raise ValueError(
            f"precision_recall: a set of {len(X)} samples has no neighbour number k={k}; "
            "need more than k samples"
        )
    x2 = (X * X).sum(axis=1)
    radii = np.empty(len(X))
    for i in range(0, len(X), BLOCK):
        d = _sq_dists(X[i : i + BLOCK], X, x2[i : i + BLOCK], x2)
        d[np.arange(len(d)), np.arange(i, i + len(d))] = np.inf  # not its own neighbour
        radii[i : i + BLOCK] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return radii


def in_manifold(points, centres, radii):
    """Boolean per point: inside at least one ball (centre, squared radius)."""
    p2, c2 = (points * points).sum(axis=1), (centres * centres).sum(axis=1)
    slack = SLACK * (c2.mean() + p2.mean() + 1e-300)
    inside = np.empty(len(points), dtype=bool)
    for i in range(0, len(points), BLOCK):
        d = _sq_dists(points[i : i + BLOCK], centres, p2[i : i + BLOCK], c2)
        inside[i : i + BLOCK] = (d <= radii[None, :] + slack).any(axis=1)
    return inside


def precision_recall(real, fake, classifier=None, k=3):
    """(precision, recall) of ``fake`` against ``real`` with k-NN manifolds (Kynkaanniemi et al.
    2019).

    real, fake: images (embedded with ``classifier``, a Classifier or a data-set name) or features
    N x D. Both in [0, 1]; higher is better; 1 and 1 for identical sets.
    """
    a = features_of(real, classifier, "precision_recall", "real")
    b = features_of(fake, classifier, "precision_recall", "fake")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"precision_recall: real has {a.shape[1]} feature dimensions, fake has {b.shape[1]}"
        )
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"precision_recall: k must be a positive int, got {k!r}")
    precision = in_manifold(b, a, knn_radii(a, k)).mean()
    recall = in_manifold(a, b, knn_radii(b, k)).mean()
    return PrecisionRecall(float(precision), float(recall))
