"""Pictures and the docs/RESULTS.md section of the autoencoders (issue 7); run by
scripts/make_ae_figures.sh.

python scripts/ae_figures.py train MODEL [key=value ...] --out DIR   train with recipe overrides
python scripts/ae_figures.py figures [--runs runs/ae] [--no-metrics]
"""

import argparse
import json
import os
import sys

import numpy as np
from ae_results_section import fmt, write_results


def parse_value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def cmd_train(args):
    from scratchgan import train

    overrides = dict(item.split("=", 1) for item in args.overrides)
    config = train.make_config(args.model, **{k: parse_value(v) for k, v in overrides.items()})
    summary = train.Trainer(config, args.out, progress=False).fit()
    final = ", ".join(
        f"{k} {v:.4f}" for k, v in summary["final"].items() if k.startswith(("train_", "valid_"))
    )
    print(f"{args.out}: {summary['epochs']} epochs, {summary['wall_time_s']:.1f} s; {final}")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("model")
    t.add_argument(
        "overrides",
        nargs="*",
        help="recipe overrides key=value (values parsed as JSON when they parse)",
    )
    t.add_argument("--out", required=True)
    t.set_defaults(func=cmd_train)
    f = sub.add_parser("figures")
    f.add_argument("--runs", default="runs/ae")
    f.add_argument("--no-metrics", action="store_true", help="skip KID/FID of the VAE samples")
    f.set_defaults(func=lambda a: cmd_figures(a))
    args = p.parse_args(argv)
    from scratchgan.cli import _limit_blas_threads

    _limit_blas_threads()
    return args.func(args)


IMG = "docs/img"
# run directory -> (model name, what the row calls it)
RUNS = [
    ("linear-ae", "linear-ae"),
    ("stacked-ae", "stacked-ae"),
    ("tied-ae", "tied-ae"),
    ("greedy-ae", "greedy-ae"),
    ("conv-ae", "conv-ae"),
    ("recurrent-ae", "recurrent-ae"),
    ("denoising-ae", "denoising-ae (Gaussian 0.2)"),
    ("denoising-ae-dropout", "denoising-ae (dropout 0.5)"),
    ("sparse-l1-ae", "sparse-l1-ae"),
    ("sparse-kl-ae", "sparse-kl-ae"),
    ("vae", "vae"),
    ("conv-vae", "conv-vae"),
]
FASHION = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
RECONSTRUCTION_ROWS = [
    "stacked-ae",
    "tied-ae",
    "greedy-ae",
    "conv-ae",
    "recurrent-ae",
    "sparse-l1-ae",
    "sparse-kl-ae",
    "vae",
]


def img(name):
    return os.path.join(IMG, name)


def load(runs, run):
    """(model, config, summary) of a finished run, or None."""
    from scratchgan.train import load_run

    path = os.path.join(runs, run, "summary.json")
    if not os.path.isfile(path):
        return None
    model, config = load_run(os.path.join(runs, run), device="cpu")
    with open(path) as f:
        return model, config, json.load(f)


def eval_split(config):
    """(images, labels, name): the validation split, or the test split for a run trained without
    one."""
    from scratchgan.train import load_data

    if config.get("valid_size", 0):
        _, _, x, y = load_data(config)
        return x, y, "valid"
    x, y, _, _ = load_data(config, "test")
    return x, y, "test"


def reconstruction_figure(entries, images, path):
    """One labelled row of 10 reconstructions per model under the inputs (a matplotlib figure)."""
    from scratchgan import viz
    from scratchgan.data import to_float

    rows = [("input", to_float(images))] + [(label, m.reconstruct(images)) for label, m in entries]
    strips = [viz.mosaic(x, ncol=len(x)) for _, x in rows]
    h, w = strips[0].shape
    fig, dpi = viz._figure((w * 2 + 120, (h * 2 + 4) * len(rows) + 10))
    for i, ((label, _), strip) in enumerate(zip(rows, strips)):
        ax = fig.add_axes(
            [110 / (w * 2 + 120), 1 - (i + 1) / len(rows), (w * 2) / (w * 2 + 120), 1 / len(rows)]
        )
        ax.imshow(strip, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_axis_off()
        fig.text(
            105 / (w * 2 + 120),
            1 - (i + 0.5) / len(rows),
            label,
            ha="right",
            va="center",
            fontsize=8,
        )
    return viz._save_figure(fig, path, dpi)


def framed_grid(images, original, path, scale=2):
    """A rows x cols mosaic with the cells where ``original`` is True framed in red (the book's
    figure)."""
    from scratchgan import viz

    cols = original.shape[1]
    grey = viz.mosaic(images, ncol=cols)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    h, w, pad = images.shape[-2], images.shape[-1], viz.PAD
    for r, c in zip(*np.nonzero(original)):
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        rgb[top - pad : top + h + pad, left - pad : left + w + pad] = (0.85, 0.1, 0.1)
        rgb[top : top + h, left : left + w] = np.repeat(
            grey[top : top + h, left : left + w, None], 3, axis=2
        )
    return viz._save_pixels(rgb, path, scale)


def save_grey(picture, path):
    """A [0, 1] grey picture as an 8-bit greyscale PNG (a quarter of matplotlib's RGBA size)."""
    from PIL import Image

    Image.fromarray(np.round(picture * 255).astype(np.uint8), mode="L").save(path, optimize=True)
    return path


def vae_metrics(run_dir, use):
    """KID/FID of the run's samples with scratchgan.metrics, or the reason they are missing."""
    if not use:
        return {"error": "skipped (--no-metrics)"}
    try:
        from scratchgan.metrics import evaluate_run, load_classifier
        from scratchgan.train import read_config

        load_classifier(
            read_config(run_dir)["dataset"], train_if_missing=False
        )  # never train one from here
        return evaluate_run(run_dir, n=5000, progress=False)
    except Exception as e:  # noqa: BLE001  (the metrics package is another issue's: say what went wrong)
        return {"error": f"{type(e).__name__}: {e}"}


def cmd_figures(args):
    from scratchgan import data as sgdata
    from scratchgan import viz
    from scratchgan.random import Generator

    os.makedirs(IMG, exist_ok=True)
    runs, rows, notes, pictures = args.runs, [], {}, []
    models = {}
    for run, label in RUNS:
        loaded = load(runs, run)
        if loaded is None:
            rows.append({"label": label, "missing": True})
            continue
        model, config, summary = loaded
        models[run] = model
        final = summary["final"]
        row = {
            "label": label,
            "run": run,
            "dataset": config["dataset"],
            "params": model.num_parameters(),
            "epochs": summary["epochs"],
            "train_images": config.get("train_images") or summary["train_images"],
            "batch": config["batch_size"],
            "opt": f"{config.get('optimizer')} {config.get('lr')}",
            "wall": summary["wall_time_s"],
            "train_time": summary["train_time_s"],
            "steps": summary["steps"],
            "ips": summary["images_per_s"],
            "valid_bce": final.get("valid_bce"),
            "extra": "",
        }
        if run == "linear-ae":
            points, _ = sgdata.load("synthetic-3d")
            test, _ = sgdata.load("synthetic-3d", "test")
            angles = model.angles_to_pca(points)
            row["valid_bce"] = None
            row["extra"] = (
                f"MSE {model.evaluate(points)['mse']:.5f} (train), "
                f"{model.evaluate(test)['mse']:.5f} (60 new points); principal angles to the PCA "
                f"plane {angles[0]:.3f} and {angles[1]:.3f} deg"
            )
            notes["angles"] = angles.tolist()
            pictures.append(
                (
                    "linear-ae: the 3-D data, the learned plane and the 2-D codings",
                    model.picture(points, img("ae-linear-pca.png")),
                )
            )
        else:
            vx, vy, split = eval_split(config)
            ev = model.evaluate(vx)
            row["valid_bce"] = ev["bce"]
            if split != "valid":
                row["extra"] = f"BCE on the {len(vx):,} test images (no validation split); "
            if run in RECONSTRUCTION_ROWS:
                viz.save_reconstructions(
                    model.to_input(vx[:10]).numpy(),
                    model.reconstruct(vx[:10]),
                    img(f"ae-{run}-recon.png"),
                )
            if run == "stacked-ae":
                names = FASHION if config["dataset"] == "fashion-mnist" else None
                method = model.codings_map(vx, vy, img("ae-stacked-codings.png"), class_names=names)
                pictures.append(
                    (
                        "stacked-ae: validation codings mapped to 2-D "
                        f"({'t-SNE' if method == 'tsne' else 'PCA'}), coloured by class",
                        img("ae-stacked-codings.png"),
                    )
                )
            if run == "greedy-ae":
                row["extra"] += f"phase 1 BCE {fmt(ev['bce1'])}, phase 2 MSE {fmt(ev['mse2'])}"
            if run.startswith("denoising"):
                kind = "dropout" if "dropout" in run else "gaussian"
                model.picture(vx, img(f"ae-denoising-{kind}.png"))
                pictures.append(
                    (f"{label}: clean / noisy input / output", img(f"ae-denoising-{kind}.png"))
                )
            if run.startswith("sparse"):
                act = ev["mean_activation"]
                row["extra"] += f"mean coding activation {act:.4f}; " + (
                    f"L1 term {fmt(ev['l1'])}" if "l1" in run else f"KL term {fmt(ev['kl'])}"
                )
                notes[run] = act
                model.activation_histogram(vx, img(f"ae-{run}-activations.png"))
                pictures.append(
                    (
                        f"{run}: coding activations on the validation set",
                        img(f"ae-{run}-activations.png"),
                    )
                )
            if run in ("vae", "conv-vae"):
                row["extra"] += (
                    f"-ELBO {ev['nelbo']:.2f} nats/image (KL {ev['kl']:.2f}); training loss "
                    f"{ev['loss']:.4f}"
                )
                m = vae_metrics(os.path.join(runs, run), not args.no_metrics)
                row["metrics"] = m
            if run == "vae":
                viz.save_image_grid(
                    model.sample(12, Generator(42)), img("ae-vae-samples.png"), ncol=6
                )
                grid, original = model.semantic_grid(Generator(42))
                framed_grid(grid, original, img("ae-vae-interpolation.png"))
                pictures.append(("vae: 12 samples from the prior", img("ae-vae-samples.png")))
                pictures.append(
                    (
                        "vae: semantic interpolation, 3 x 4 prior codings (framed) resized to 5 x "
                        "7",
                        img("ae-vae-interpolation.png"),
                    )
                )
            if run == "conv-vae":
                save_grey(
                    viz.mosaic(model.decode(viz.latent_grid_codes(30, 1.0)), ncol=30),
                    img("ae-conv-vae-grid.png"),
                )
                viz.save_latent_scatter(
                    model.encode(vx), vy, img("ae-conv-vae-codings.png"), size=(480, 420)
                )
                pictures.append(
                    (
                        "conv-vae: decodings of a 30 x 30 grid over [-1, 1]^2",
                        img("ae-conv-vae-grid.png"),
                    )
                )
                pictures.append(
                    (
                        f"conv-vae: mean codings of the {len(vx):,} {split} digits",
                        img("ae-conv-vae-codings.png"),
                    )
                )
        rows.append(row)
    recon = [(r, models[r]) for r in RECONSTRUCTION_ROWS if r in models]
    if recon:
        first = next(iter(models[r] for r in RECONSTRUCTION_ROWS if r in models))
        vx, _, _ = eval_split(first.config)
        reconstruction_figure(recon, vx[:10], img("ae-reconstructions.png"))
        pictures.insert(
            0,
            (
                "reconstructions of 10 validation images by each model",
                img("ae-reconstructions.png"),
            ),
        )
    pretraining = None
    path = os.path.join(runs, "pretraining.json")
    if os.path.isfile(path):
        with open(path) as f:
            pretraining = json.load(f)
    write_results(rows, pictures, pretraining, notes)
    for _, p in pictures:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
