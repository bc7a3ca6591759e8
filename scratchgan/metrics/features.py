"""Features and class probabilities of what a metric is given: images go through the feature
classifier (a Classifier, or a data-set name whose cached classifier is loaded), 2-D arrays are
taken as they are (checked).

    classifier_for(classifier, what)                 -> Classifier
    features_of(x, classifier, what, name)           -> N x D float64
    probabilities_of(x, classifier, what, name)      -> N x C float64, rows summing to 1
"""

import numpy as np

from . import classifier as feature_classifier
from .inputs import as_features, is_images


def classifier_for(classifier, what):
    """The Classifier to embed images with: a Classifier as is, or a data-set name loaded from the
    cache."""
    if classifier is None:
        raise ValueError(
            f"{what}: got images but no classifier; pass classifier='fashion-mnist' "
            "(a data-set name) "
            "or a Classifier, or pass precomputed feature arrays"
        )
    if isinstance(classifier, str):
        return feature_classifier.load_classifier(classifier)
    return classifier


def features_of(x, classifier, what, name):
    """Features of ``x``: images go through ``classifier``'s feature layer, 2-D arrays are taken as
    they are."""
    if is_images(x):
        return classifier_for(classifier, what).features(x)
    return as_features(x, f"{what}: {name}")


def probabilities_of(x, classifier, what, name="probabilities"):
    """Class probabilities N x C: images go through ``classifier``; a 2-D array must already be
    probabilities."""
    if is_images(x):
        return classifier_for(classifier, what).probabilities(x)
    p = as_features(x, f"{what}: {name}")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError(
            f"{what}: {name} must be non-negative rows summing to 1 (softmax outputs), "
            f"got row sums in [{p.sum(1).min():.6g}, {p.sum(1).max():.6g}]"
        )
    return p
