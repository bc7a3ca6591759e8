"""Mode coverage: which classes the generated samples fall into, by the data set's own classifier.

histogram  fraction of samples predicted as each class (argmax of p(y|x))
covered    number of classes that receive at least ``min_fraction`` of the samples
           (default 0.1 / C: a tenth of a uniform share, 1% for 10 classes)
kl         KL(histogram || uniform) = sum_c h_c log(C h_c), in nats: 0 for perfectly balanced
           classes, log C (2.303 for 10) when every sample falls into one class
"""

from typing import NamedTuple

import numpy as np

from .features import classifier_for
from .inputs import is_images


class ModeCoverage(NamedTuple):
    histogram: tuple
    covered: int
    num_classes: int
    kl: float


def mode_coverage(samples, classifier=None, num_classes=None, min_fraction=None):
    """Mode coverage of ``samples``.

    samples: images (classified by ``classifier``, a Classifier or a data-set name), class
    probabilities N x C, or predicted class indices (1-D ints; give ``num_classes``).
    Returns ``ModeCoverage(histogram, covered, num_classes, kl)``.
    """
    if is_images(samples):
        samples = classifier_for(classifier, "mode_coverage").probabilities(samples)
    samples = np.asarray(samples)
    if samples.ndim == 2:
        num_classes = num_classes or samples.shape[1]
        if samples.shape[1] != num_classes:
            raise ValueError(
                f"mode_coverage: probabilities have {samples.shape[1]} classes, "
                f"num_classes={num_classes}"
            )
        predicted = samples.argmax(axis=1)
    elif samples.ndim == 1 and np.issubdtype(samples.dtype, np.integer):
        if num_classes is None:
            raise ValueError("mode_coverage: got class indices; pass num_classes as well")
        predicted = samples
    else:
        raise ValueError(
            f"mode_coverage: expected images, probabilities N x C or class indices (1-D ints), "
            f"got {samples.dtype} array of shape {samples.shape}"
        )
    if len(predicted) == 0:
        raise ValueError("mode_coverage: got no samples")
    if predicted.min() < 0 or predicted.max() >= num_classes:
        raise ValueError(
            f"mode_coverage: class indices must lie in [0, {num_classes}), got "
            f"[{predicted.min()}, {predicted.max()}]"
        )
    hist = np.bincount(predicted, minlength=num_classes) / len(predicted)
    threshold = 0.1 / num_classes if min_fraction is None else min_fraction
    nz = hist > 0
    kl = float((hist[nz] * np.log(num_classes * hist[nz])).sum())
    return ModeCoverage(
        tuple(float(h) for h in hist),
        int(((hist >= threshold) & nz).sum()),
        int(num_classes),
        max(kl, 0.0),
    )
