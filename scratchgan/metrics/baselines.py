"""Floors and ceilings: what the metrics say for the best any model can do and for trivial models.

For a data set, every "model" below is scored against the test split exactly as ``evaluate_run``
scores a run (n images; all metrics of ``compute_all``):

    training split    n training images (all of them if fewer): a perfect generator; the ceiling
    one class         n training images of class 0 only: a perfectly sharp, fully mode-collapsed
                      model
    mean image        the per-pixel mean of the training split, repeated n times
    gaussian noise    independent pixels ~ N(per-pixel training mean, per-pixel training std),
                      clipped to [0, 1]

    measure_baselines(dataset, n=10000) -> list of metric dicts (with "baseline" naming the row)
"""

import time

import numpy as np

from .. import data as sgdata
from .classifier import dataset_embedding, load_classifier
from .evaluate import compute_all

BASELINES = ("training split", "one class", "mean image", "gaussian noise")


def baseline_images(name, train_images, train_labels, n, rng):
    """The n images of baseline ``name`` (uint8 or float in [0, 1], N x H x W)."""
    x = (
        sgdata.to_float(train_images)[:, 0]
        if train_images.ndim == 3
        else sgdata.to_float(train_images)
    )
    if name == "training split":
        return train_images[
            np.sort(rng.choice(len(train_images), min(n, len(train_images)), replace=False))
        ]
    if name == "one class":
        pool = train_images[train_labels == 0]
        return pool[rng.choice(len(pool), n, replace=len(pool) < n)]
    if name == "mean image":
        return np.repeat(x.mean(axis=0, keepdims=True), n, axis=0)
    if name == "gaussian noise":
        mean, std = x.mean(axis=0), x.std(axis=0)
        return np.clip(mean + std * rng.standard_normal((n, *mean.shape)), 0, 1).astype(np.float32)
    raise ValueError(f"baseline {name!r}: expected one of {', '.join(BASELINES)}")


def measure_baselines(dataset, n=10000, names=BASELINES, seed=0, progress=True):
    """Score each baseline of ``names`` against ``dataset``'s test split; returns one dict per
    baseline."""
    classifier = load_classifier(dataset, progress=progress)
    real, _ = sgdata.load(dataset, "test")
    train_x, train_y = sgdata.load(dataset, "train")
    feats, probs, _ = dataset_embedding(dataset, "test", classifier)
    rows = []
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        fake = baseline_images(name, train_x, train_y, n, np.random.default_rng([seed, i]))
        row = {
            "baseline": name,
            "dataset": dataset,
            "model": name,
            "n": len(fake),
            "seed": seed,
            **compute_all(real, fake, classifier, (feats, probs), seed=seed),
        }
        row["eval_time_s"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
    return rows
