"""Unsupervised pretraining (Hands-On ML ch. 17): reuse a stacked autoencoder's encoder in a
classifier when labels are scarce.

The autoencoder has seen every training image without labels (a finished ``stacked-ae`` run, or any
autoencoder whose encoder ends in a flat coding vector). A classifier is the encoder plus a softmax
layer, ``Flatten, Dense 100 SELU, Dense 30 SELU, Dense 10``, trained on ``fraction`` of the training
images' labels (1%: 550 images) in three ways:

    scratch      the whole network from Keras's initialisation
    frozen       the encoder's weights, frozen; only the new output layer trains
    fine-tuned   the encoder's weights as the starting point; everything trains

Each is trained with the same budget (Adam, ``epochs`` passes over the labelled images, batch 32)
and scored on the test split. Every figure is a mean over ``seeds`` (each seed draws its own
labelled subset and initialisation), with the standard deviation.

    python -m scratchgan.models.pretraining runs/ae/stacked-ae --out runs/ae/pretraining.json
"""

import argparse
import copy
import json
import sys
import time

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..data import DataLoader
from ..random import Generator
from ..tensor import tensor
from ..train import load_data, load_run
from .parts import fit_classifier, keras_init_, seeded_subset

VARIANTS = ("scratch", "frozen", "fine-tuned")


def labelled_subset(n_images, fraction, seed):
    """Indices of ``round(fraction * n_images)`` training images drawn without replacement."""
    return seeded_subset(n_images, max(1, round(fraction * n_images)), seed)


def build_classifier(encoder, codings_size, num_classes, generator, pretrained):
    """``encoder`` (a copy: reinitialised with Keras's init unless ``pretrained``) +
    Dense(num_classes)."""
    body = copy.deepcopy(encoder)
    head = nn.Linear(codings_size, num_classes, generator=generator)
    net = nn.Sequential(body, head)
    keras_init_(net if not pretrained else nn.Sequential(head), generator)
    return net


def accuracy(net, x, y, chunk=2000):
    net.train(False)
    with no_grad():
        predicted = np.concatenate(
            [net(tensor(x[i : i + chunk])).numpy().argmax(axis=1) for i in range(0, len(x), chunk)]
        )
    return float((predicted == y).mean())


def fit(net, params, x, y, epochs, lr, batch_size, seed):
    """Adam on ``params`` over shuffled minibatches of (x, y), cross-entropy on the class logits."""
    opt = optim.Adam(params, lr=lr)
    loader = DataLoader((x, y), batch_size, shuffle=True, drop_last=False, seed=seed)

    def batches(epoch):
        return ((tensor(xb), yb.astype(np.int64)) for xb, yb in loader)

    return fit_classifier(net, opt, batches, epochs)


def run(
    ae_run, fraction=0.01, seeds=(0, 1, 2, 3, 4), epochs=100, lr=1e-3, batch_size=32, progress=True
):
    """The experiment on a finished autoencoder run directory; returns a dict of settings and
    accuracies."""
    t0 = time.perf_counter()
    model, config = load_run(ae_run, device="cpu")
    train_x, train_y, _, _ = load_data(config)
    test_x, test_y, _, _ = load_data(config, "test")
    to_float = model.to_input
    test_f = to_float(test_x).numpy()
    num_classes = int(train_y.max()) + 1
    encoder = model.encoder
    codings_size = int(np.prod(model.encode(train_x[:1]).shape[1:]))
    results = {v: [] for v in VARIANTS}
    for seed in seeds:
        pick = labelled_subset(len(train_x), fraction, seed)
        x, y = to_float(train_x[pick]).numpy(), train_y[pick]
        for variant in VARIANTS:
            g = Generator(seed)
            net = build_classifier(
                encoder, codings_size, num_classes, g, pretrained=variant != "scratch"
            )
            if variant == "frozen":
                for q in net[0].parameters():
                    q.requires_grad_(False)
            params = list(net[1].parameters()) if variant == "frozen" else list(net.parameters())
            fit(net, params, x, y, epochs, lr, batch_size, seed)
            results[variant].append(accuracy(net, test_f, test_y))
            if progress:
                print(
                    f"seed {seed} {variant:>10}: test accuracy {results[variant][-1]:.4f}",
                    file=sys.stderr,
                )
    summary = {
        "autoencoder_run": ae_run,
        "autoencoder": config["model"],
        "dataset": config["dataset"],
        "labelled_images": len(labelled_subset(len(train_x), fraction, 0)),
        "fraction": fraction,
        "train_images_unlabelled": len(train_x),
        "test_images": len(test_x),
        "epochs": epochs,
        "optimizer": f"adam lr {lr}, batch {batch_size}",
        "seeds": list(seeds),
        "accuracy": {
            v: {"mean": float(np.mean(a)), "std": float(np.std(a)), "runs": a}
            for v, a in results.items()
        },
        "wall_time_s": round(time.perf_counter() - t0, 1),
    }
    return summary


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m scratchgan.models.pretraining",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run", help="a finished autoencoder run directory (e.g. runs/ae/stacked-ae)")
    p.add_argument(
        "--fraction",
        type=float,
        default=0.01,
        help="share of the training labels used (default 0.01)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=5,
        help="repetitions, each with its own labelled subset (default 5)",
    )
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--out", help="write the results as JSON here")
    args = p.parse_args(argv)
    from ..cli import _limit_blas_threads

    _limit_blas_threads()  # small matrices: one BLAS thread, as `scratchgan train`
    summary = run(args.run, args.fraction, tuple(range(args.seeds)), args.epochs)
    for v, a in summary["accuracy"].items():
        print(f"{v:>10}: {a['mean']:.4f} +- {a['std']:.4f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
