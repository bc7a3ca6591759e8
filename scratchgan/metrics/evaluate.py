"""Every metric at once: ``compute_all`` for two image sets, ``evaluate_run`` for a training run.

    evaluate_run(run_dir, n=10000) -> dict   samples n images from the run's generator (or, for a
                                             model that cannot sample, reconstructs n test images),
                                             scores them against the test split, writes
                                             run_dir/metrics.json (metrics-NAME.json for another
                                             checkpoint than the last: metrics_path)
    print_table(metrics)                     the dict as an aligned two-column table

The real set is the data set's test split (all of it: 10,000 Fashion-MNIST images, 1,000 for the
MNIST sample). Features come from scratchgan's own classifier for the data set (see classifier.py),
so the numbers compare runs of this project with each other, not with papers' Inception-based ones.
"""

import json
import os
import sys
import time

import numpy as np

from .. import data as sgdata
from ..data.transforms import resize
from ..training.checkpoints import CHECKPOINT
from ..training.protocol import Unsupported
from ..training.runs import load_run, read_config
from .classifier import dataset_embedding, load_classifier
from .coverage import mode_coverage
from .fid import fid
from .inception_score import inception_score
from .inputs import as_images
from .kid import kid
from .precision_recall import precision_recall
from .swd import swd

SAMPLE_CHUNK = 500  # images per call to model.sample / model.reconstruct


def compute_all(real_images, fake_images, classifier, real_embedding=None, seed=0):
    """FID, KID, IS, SWD, precision/recall and mode coverage of ``fake_images`` against
    ``real_images``.

    Both image sets: uint8 or [0, 1] floats. ``real_embedding``: (features, probabilities) of the
    real set if already known (saves a pass). Returns a flat dict of plain floats, ints and lists.
    """
    real_feats, _ = real_embedding if real_embedding is not None else classifier.embed(real_images)
    fake_feats, fake_probs = classifier.embed(fake_images)
    k = kid(real_feats, fake_feats, seed=seed)
    score = inception_score(fake_probs, seed=seed)
    s = swd(real_images, fake_images, seed=seed)
    pr = precision_recall(real_feats, fake_feats)
    cov = mode_coverage(fake_probs)
    return {
        "n_real": len(real_feats),
        "n_fake": len(fake_feats),
        "fid": fid(real_feats, fake_feats),
        "kid": k.mean,
        "kid_std": k.std,
        "is": score.mean,
        "is_std": score.std,
        "swd": s.mean,
        "swd_levels": list(s.levels),
        "swd_resolutions": list(s.resolutions),
        "precision": pr.precision,
        "recall": pr.recall,
        "classes_covered": cov.covered,
        "num_classes": cov.num_classes,
        "coverage_kl": cov.kl,
        "class_histogram": list(cov.histogram),
        "classifier_test_accuracy": classifier.test_accuracy,
    }


def to_unit_range(images):
    """Model outputs -> floats in [0, 1], clipped. ``Model.sample`` and ``reconstruct`` return [0,
    1] images; outputs with values below -0.01 are taken to be tanh's [-1, 1] and mapped by (x + 1)
    / 2."""
    x = np.asarray(images, dtype=np.float32)
    if x.min() < -0.01:
        x = (x + 1) / 2
    return np.clip(x, 0, 1)


def _generate(model, n, seed, size):
    """n samples in [0, 1], bilinearly resized to size x size when the model draws another size
    (dcgan64's 64 x 64 against the 28 x 28 data its classifier reads)."""
    from ..random import Generator

    generator = Generator(seed)
    return np.concatenate(
        [
            resize(to_unit_range(model.sample(min(SAMPLE_CHUNK, n - i), generator)), size)
            for i in range(0, n, SAMPLE_CHUNK)
        ]
    )


def _reconstruct(model, images):
    return np.concatenate(
        [
            to_unit_range(model.reconstruct(images[i : i + SAMPLE_CHUNK]))
            for i in range(0, len(images), SAMPLE_CHUNK)
        ]
    )


def _run_info(run_dir, config):
    """Epochs and training wall time from summary.json (else metrics.csv)."""
    info = {
        "run": os.path.basename(os.path.normpath(run_dir)),
        "model": config.get("model"),
        "dataset": config.get("dataset"),
        "epochs": None,
        "wall_time_s": None,
    }
    path = os.path.join(run_dir, "summary.json")
    if os.path.isfile(path):
        with open(path) as f:
            summary = json.load(f)
        info["epochs"], info["wall_time_s"] = summary.get("epochs"), summary.get("wall_time_s")
    elif os.path.isfile(os.path.join(run_dir, "metrics.csv")):
        import csv

        with open(os.path.join(run_dir, "metrics.csv")) as f:
            rows = list(csv.DictReader(f))
        if rows:
            info["epochs"] = int(rows[-1]["epoch"])
            info["wall_time_s"] = round(sum(float(r.get("epoch_time_s") or 0) for r in rows), 3)
    return info


def _device_for(config, device):
    """The device to load the run on: ``device`` if given, else the run's own if it is usable here,
    else cpu."""
    if device is not None:
        return device
    own = config.get("device") or "cpu"
    if own.startswith("cuda"):
        from .. import cuda

        return own if cuda.is_available() else "cpu"
    return own


def evaluate_run(
    run_dir,
    n=10000,
    split="test",
    seed=0,
    device=None,
    write=True,
    progress=True,
    checkpoint=None,
):
    """Score a training run: every metric of ``compute_all``, written to ``metrics_path(run_dir,
    checkpoint)``. ``checkpoint``: a file name in run_dir/checkpoints or a path (None: the last).

    Generative models (GANs, VAEs): ``n`` samples from the prior (a CPU ``Generator(seed)``) against
    the ``split`` images. Autoencoders that cannot sample: the reconstructions of the first ``n``
    ``split`` images against the same images (``mode: reconstructions``; it measures how much of the
    data the code keeps, not generation), plus the per-pixel reconstruction MSE. ``device``: where
    the run's networks run (default: the run's own device, or cpu when that is a GPU this machine
    lacks); the classifier runs on the CPU. Returns the dict.
    """
    t0 = time.perf_counter()
    checkpoint = checkpoint or CHECKPOINT
    config = read_config(run_dir)
    model, config = load_run(run_dir, checkpoint=checkpoint, device=_device_for(config, device))
    info = _run_info(run_dir, config)
    dataset = config["dataset"]
    real, _ = sgdata.load(dataset, split)
    classifier = load_classifier(dataset, progress=progress)
    feats, probs, _ = dataset_embedding(dataset, split, classifier)
    extra = {}
    if model.generative:
        fake, mode = _generate(model, n, seed, real.shape[-1]), "samples"
    else:
        real, feats, probs = real[:n], feats[:n], probs[:n]
        try:
            fake, mode = _reconstruct(model, real), "reconstructions"
        except Unsupported as e:
            raise ValueError(
                f"evaluate_run: {config['model']} can neither sample nor reconstruct: {e}"
            ) from e
        extra["reconstruction_mse"] = float(((fake - as_images(real)) ** 2).mean())
    metrics = {
        **info,
        "checkpoint": os.path.basename(checkpoint),
        "mode": mode,
        "split": split,
        "n": len(fake),
        "seed": seed,
        **compute_all(real, fake, classifier, (feats, probs), seed=seed),
        **extra,
    }
    metrics["eval_time_s"] = round(time.perf_counter() - t0, 1)
    if write:
        with open(metrics_path(run_dir, checkpoint), "w") as f:
            json.dump(metrics, f, indent=2)
            f.write("\n")
    return metrics


def metrics_path(run_dir, checkpoint=None, stem="metrics"):
    """run_dir/STEM.json for the run's last checkpoint (None), run_dir/STEM-NAME.json for another
    (NAME: its file name without .npz): scoring an earlier one never replaces the run's record."""
    name = os.path.splitext(os.path.basename(checkpoint or CHECKPOINT))[0]
    last = os.path.splitext(CHECKPOINT)[0]
    return os.path.join(run_dir, f"{stem}.json" if name == last else f"{stem}-{name}.json")


def interval_metrics(model, dataset, n=1000, seed=0):
    """FID, KID, IS and coverage of ``n`` samples of a model in training, against the test split.

    The trainer calls this every ``metrics_every`` epochs (a recipe option); the numbers land in
    metrics.csv as ``metric_fid`` etc. Smaller ``n`` than ``eval`` uses, so compare within one run.
    """
    classifier = load_classifier(dataset, progress=True)
    real, _ = sgdata.load(dataset, "test")
    feats, probs, _ = dataset_embedding(dataset, "test", classifier)
    fake = _generate(model, n, seed, real.shape[-1])
    m = compute_all(real, fake, classifier, (feats, probs), seed=seed)
    return {k: m[k] for k in ("fid", "kid", "is", "classes_covered")}


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


ROWS = [
    ("run", "run"),
    ("model", "model"),
    ("dataset", "data set"),
    ("epochs", "epochs trained"),
    ("mode", "scored"),
    ("n", "images scored"),
    ("n_real", "real images (test split)"),
    ("classifier_test_accuracy", "classifier test accuracy"),
    ("fid", "FID (lower is better)"),
    ("kid", "KID (lower is better)"),
    ("kid_std", "KID std over subsets"),
    ("is", "Inception-style score (higher, max 10)"),
    ("is_std", "IS std over 10 splits"),
    ("swd", "SWD x1e3 (mean of levels)"),
    ("swd_levels", "SWD x1e3 per level (28, 14, 7)"),
    ("precision", "precision (k=3)"),
    ("recall", "recall (k=3)"),
    ("classes_covered", "classes covered"),
    ("coverage_kl", "KL(class histogram || uniform)"),
    ("reconstruction_mse", "reconstruction MSE per pixel"),
    ("eval_time_s", "evaluation time (s)"),
]


def print_table(metrics, file=None):
    """Print ``metrics`` (a dict from evaluate_run or compute_all) as an aligned table."""
    file = file or sys.stdout
    shown = dict(metrics)
    if "classes_covered" in shown and "num_classes" in shown:
        shown["classes_covered"] = f"{shown['classes_covered']} of {shown['num_classes']}"
    if shown.get("eval_time_s") is not None:
        shown["eval_time_s"] = f"{shown['eval_time_s']:.1f}"
    rows = [(label, _fmt(shown[key])) for key, label in ROWS if shown.get(key) is not None]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}", file=file)
    print(
        "features: scratchgan's own classifier for the data set (no Inception weights offline); "
        "not comparable with papers' numbers",
        file=file,
    )
