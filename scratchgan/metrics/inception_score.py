"""Inception-style score (Salimans et al. 2016) on the data set's own classifier.

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x)

computed on each of ``splits`` (nearly) equal parts of the samples (p(y) per part), then averaged:
(mean, std over the parts, ddof 0). The samples are put in a seeded random order first, so that a
set sorted by class (the MNIST sample's test split, a conditional GAN's samples drawn class by
class) is not scored one class per part; with ``shuffle=False`` the parts are consecutive, as in the
original code. 1 <= IS <= number of classes: high when each sample
is classified confidently (low entropy of p(y|x)) and the classes are balanced (high entropy of
p(y)).
"""

from typing import NamedTuple

import numpy as np

from .features import probabilities_of


class InceptionScore(NamedTuple):
    mean: float
    std: float


def _xlogy_ratio(p, q):
    """p log(p / q) elementwise, with 0 log 0 = 0."""
    out = np.zeros_like(p)
    nz = p > 0
    out[nz] = p[nz] * (np.log(p[nz]) - np.log(np.broadcast_to(q, p.shape)[nz]))
    return out


def score_of(probs):
    """exp(mean KL(p(y|x) || p(y))) of one set of probabilities N x C."""
    marginal = probs.mean(axis=0, keepdims=True)
    return float(np.exp(_xlogy_ratio(probs, marginal).sum(axis=1).mean()))


def inception_score(samples, classifier=None, splits=10, shuffle=True, seed=0):
    """Inception-style score of ``samples``: (mean, std) over ``splits`` parts.

    samples: images (classified by ``classifier``, a Classifier or a data-set name) or class
    probabilities N x C (softmax outputs). ``shuffle``: split a seeded permutation of the samples
    (numpy PCG64 with ``seed``). Higher is better; at most the number of classes.
    """
    p = probabilities_of(samples, classifier, "inception_score")
    if not 1 <= splits <= len(p):
        raise ValueError(
            f"inception_score: splits must be in [1, {len(p)}] (the number of samples), "
            f"got {splits}"
        )
    if shuffle:
        p = p[np.random.default_rng(seed).permutation(len(p))]
    scores = [score_of(part) for part in np.array_split(p, splits)]
    return InceptionScore(float(np.mean(scores)), float(np.std(scores)))
