"""Fingerprint the checkpoints of short seeded training runs: proof a refactor changed no number.

Trains dcgan, wgan-gp, progan, stylegan, cyclegan, vae, sgan and greedy-ae for a few steps each on
generated images (fixed seeds, no data files needed) through the public trainer, then hashes every
array in each run's checkpoints/last.npz (models, optimisers, loader, RNG state, extra state, and
the trainer's counters without its clock readings). Run it before and after a change:

    python scripts/checkpoint_fingerprint.py --write before.json
    python scripts/checkpoint_fingerprint.py --compare before.json  # exit 1 naming moved arrays
"""

import argparse
import hashlib
import json
import sys
import tempfile

import numpy as np

# the checkout this script is in, not whichever copy the environment would import
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

import scratchgan.data as sgdata  # noqa: E402
from scratchgan import train  # noqa: E402

STEPS = 3
# the smallest sizes the tests use, so the whole script takes about a minute on one core
RUNS = {
    "dcgan": dict(batch_size=8),
    "wgan-gp": dict(batch_size=8),
    "progan": dict(
        channels=[8, 8, 6, 4],
        codings_size=8,
        batch_size=4,
        stable_images=8,
        fade_images=8,
        train_images=0,
    ),
    "stylegan": dict(channels=[8, 8, 6, 4], codings_size=8, w_dim=8, batch_size=4),
    "cyclegan": dict(gf=4, df=4, batch_size=4),
    "vae": dict(batch_size=8),
    "sgan": dict(num_labeled=10, batch_size=4),
    "greedy-ae": dict(batch_size=8),
}
TIMING_KEYS = ("epoch_time", "train_time", "wall_time")


def generated_images(n, seed):
    """Blurry blobs with class labels 0..9: enough structure for every loss to move."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:28, :28]
    labels = np.arange(n) % 10
    centres = rng.uniform(6, 22, size=(n, 2))
    images = np.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / 30.0)
    images += 0.1 * rng.random((n, 28, 28))
    return (np.clip(images, 0, 1) * 255).astype(np.uint8), labels


def fake_load(name, split="train"):
    """Stands in for scratchgan.data.load (cyclegan asks it for its second domain)."""
    return generated_images(64, seed=1 if split == "train" else 2)


def fingerprint(model, overrides, workdir):
    config = train.make_config(model, epochs=1, valid_size=8, seed=0, **overrides)
    x, y = generated_images(72, seed=0)
    trainer = train.Trainer(
        config, f"{workdir}/{model}", data=(x[:64], y[:64], x[64:], y[64:]), progress=False
    )
    trainer.fit(max_steps=STEPS)
    hashes = {}
    with np.load(f"{workdir}/{model}/checkpoints/last.npz", allow_pickle=False) as npz:
        for key in sorted(npz.files):
            array = npz[key]
            if key == "json/trainer":
                state = json.loads(str(array[()]))
                state = {k: v for k, v in state.items() if k not in TIMING_KEYS}
                state["history"] = [
                    {k: v for k, v in row.items() if "time" not in k and "per_s" not in k}
                    for row in state.get("history", [])
                ]
                array = np.array(json.dumps(state, sort_keys=True))
            digest = hashlib.sha256(array.dtype.str.encode() + str(array.shape).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
            hashes[key] = digest.hexdigest()[:16]
    return hashes


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="JSON", help="write the fingerprints here")
    group.add_argument(
        "--compare", metavar="JSON", help="compare with fingerprints written earlier"
    )
    parser.add_argument(
        "--models", nargs="*", default=list(RUNS), help="a subset of: " + " ".join(RUNS)
    )
    parser.add_argument(
        "--allow-removed",
        nargs="*",
        default=[],
        metavar="KEY",
        help="checkpoint keys (e.g. extra/d_steps) a change stopped writing by design",
    )
    args = parser.parse_args(argv)
    sgdata.load = fake_load
    with tempfile.TemporaryDirectory() as workdir:
        result = {m: fingerprint(m, RUNS[m], workdir) for m in args.models}
    if args.write:
        with open(args.write, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
        print(
            f"{sum(map(len, result.values()))} arrays of {len(result)} runs fingerprinted into "
            f"{args.write}"
        )
        return 0
    with open(args.compare) as f:
        expected = json.load(f)
    moved, removed = [], []
    for m in result:
        before = expected.get(m, {})
        for k in sorted(set(result[m]) | set(before)):
            if k not in result[m] and k in args.allow_removed:
                removed.append(f"{m}: {k}")
            elif result[m].get(k) != before.get(k):
                moved.append(
                    f"{m}: {k}"
                    + ("" if k in before else " (new)")
                    + ("" if k in result[m] else " (gone)")
                )
    total = sum(map(len, result.values()))
    if moved:
        print(
            f"{len(moved)} checkpoint arrays differ from {args.compare}:\n  " + "\n  ".join(moved)
        )
        return 1
    print(
        f"all {total} checkpoint arrays of {len(result)} runs are bit-identical to {args.compare}"
    )
    if removed:
        print(
            f"{len(removed)} keys no longer written (allowed by --allow-removed):\n  "
            + "\n  ".join(removed)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
