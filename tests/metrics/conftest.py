"""Shared fixtures for the metric tests: small synthetic images and a tiny untrained classifier."""

import numpy as np
import pytest

from scratchgan.metrics.classifier import Classifier, FeatureCNN
from scratchgan.random import Generator


def blob_images(n, seed=0, size=28):
    """Bright Gaussian blobs on a dark background, uint8 n x size x size, with labels 0..9 by
    position."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    centres = rng.uniform(5, size - 5, (n, 2, 1, 1))
    images = 255 * np.exp(-((yy - centres[:, 0]) ** 2 + (xx - centres[:, 1]) ** 2) / 12.0)
    labels = (centres[:, 0, 0, 0] > size / 2).astype(np.int64) * 5 + rng.integers(0, 5, n)
    return images.astype(np.uint8), labels


@pytest.fixture(scope="session")
def tiny_classifier():
    """An untrained, narrow FeatureCNN (weights from a fixed seed): features are still a fixed
    function."""
    net = FeatureCNN(widths=(4, 8), feature_dim=16, generator=Generator(0))
    return Classifier(net, {"dataset": "blobs", "test_accuracy": 0.1})


@pytest.fixture(scope="session")
def make_blobs():
    return blob_images


@pytest.fixture(scope="session")
def blobs():
    return blob_images(96, seed=1)
