"""docs/GALLERY.md from the full runs (issue 18): per model one large sample grid, its metrics, its
images seen, wall time and machine, and the command that trained it.

    python scripts/gallery.py [--runs runs/full] [--out docs/GALLERY.md] [--img docs/img/gallery]

A run (a folder under --runs with a config.json) is finished when its metrics.json exists
(cyclegan: translation.json, see scripts/full_recipes.sh); any other is listed as not finished
yet, with how far it got from metrics.csv (else summary.json), and no numbers. Every number comes
from the run's own files; a fact a run did not record is said to be missing. Runs are not kept
from one machine to the next: a finished section on the page whose run folder is gone, and whose
PNG is still there, is kept as it was. The grids are drawn
as ``scratchgan sample RUN --n 100`` draws them (the run's last checkpoint in evaluation mode, so
with the generator's EMA when the run used it; the same fixed seed); conditional GANs get one row
per class, cyclegan its cycle figure of validation images. Rerunning rewrites the page and the
PNGs but keeps what a person wrote after each "Described:" marker; nothing needs the network.
"""

import argparse
import csv
import json
import os
import re
import shlex
import sys

import numpy as np

from scratchgan import models, viz
from scratchgan.inspection.report import read_json
from scratchgan.random import Generator
from scratchgan.training import recipes
from scratchgan.training.checkpoints import CHECKPOINT
from scratchgan.training.runs import load_run, read_config

DESCRIBED = re.compile(r"^Described: <!-- describe: (\S+) -->(.*)$", re.MULTILINE)
NOT_LOOKED_AT = "(not yet looked at)"
GRID = 10  # 10 x 10 samples; conditional: one row of 10 per class
CYCLE_IMAGES = 8  # cyclegan: validation images per domain in its cycle figure
TRAIN_FLAGS = {"dataset", "epochs", "batch_size", "lr", "seed", "device", "valid_size"}
TRAIN_FLAGS |= {"checkpoint_every", "metrics_every", "tensorboard", "keep_checkpoints"}


def done_file(config):
    return "translation.json" if config["model"] == "cyclegan" else "metrics.json"


def train_command(config):
    """The ``scratchgan train`` line that makes ``config``: the model, its --loss (models with loss
    presets), its --recipe, then every key that differs from what those give, the optimiser
    fallbacks included (image_shape, which the trainer takes from the data, is no option)."""
    model = config["model"]
    loss = config.get("loss") if models.get(model).loss_presets else None
    recipe = config.get("recipe")
    base = recipes.FALLBACK_DEFAULTS | recipes.make_config(
        model, loss=loss, recipe=recipe, device="cpu"
    )
    words = ["scratchgan", "train", model]
    words += ["--loss", loss] if loss else []
    words += ["--recipe", recipe] if recipe else []
    for key in sorted(config):
        value = config[key]
        if key in ("model", "loss", "recipe", "image_shape") or base.get(key) == value:
            continue
        if key == "keep_checkpoints" or key == "tensorboard":
            words += [f"--{key.replace('_', '-')}"] if value else ["--set", f"{key}=false"]
        elif key in TRAIN_FLAGS:
            words += [f"--{key.replace('_', '-')}", str(value)]
        else:
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            words += ["--set", f"{key}={text}"]
    return shlex.join(words)


def images_seen(run_dir):
    """Training images the run's steps consumed (the trainer's own counter in its last
    checkpoint), or None."""
    path = os.path.join(run_dir, "checkpoints", CHECKPOINT)
    if not os.path.isfile(path):
        return None
    with np.load(path) as npz:
        return json.loads(str(npz["json/trainer"][()])).get("images_seen")


def progress(run_dir, config):
    """How far an unfinished run got, from metrics.csv's last row, else summary.json."""
    path = os.path.join(run_dir, "metrics.csv")
    rows = []
    if os.path.isfile(path):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    summary = read_json(os.path.join(run_dir, "summary.json"))
    if rows:
        epoch, step = rows[-1]["epoch"], rows[-1]["step"]
    elif summary:
        epoch, step = summary["epochs"], summary["steps"]
    else:
        return "no epoch recorded yet"
    return f"epoch {epoch} of {config['epochs']}, step {step}"


def draw_grid(run_dir, config, path):
    """The run's sample grid at ``path``; returns a note on what it shows."""
    model, config = load_run(run_dir, device="cpu")
    generator = Generator(recipes.derive_seeds(0)["extra"])  # `scratchgan sample`'s fixed seed
    if config["model"] == "cyclegan":
        valid = lambda: recipes.load_data(config)[2]  # noqa: E731
        return model.save_sample(CYCLE_IMAGES, generator, path, valid)
    if hasattr(model, "picture_labels") and model.picture_labels() is not None:
        k = config["num_classes"]
        labels = np.repeat(np.arange(k), GRID).astype(np.int64)
        images = model.sample(k * GRID, generator, labels)
        note = f"one row per class 0-{k - 1}, {GRID} samples each"
    else:
        images = model.sample(GRID * GRID, generator)
        note = f"{GRID * GRID} samples, as `scratchgan sample RUN --n {GRID * GRID}` draws them"
    # 64 x 64 images are large enough at 1 screen pixel each; 2 x keeps a 28 x 28 grid readable
    viz.save_image_grid(images, path, ncol=GRID, scale=2 if images.shape[-1] <= 32 else 1)
    return note


def fmt(value, digits=3):
    return "not recorded" if value is None else f"{value:.{digits}f}"


def metric_lines(config, done):
    if config["model"] == "cyclegan":
        return [f"| {k} | {v} |" for k, v in done.items() if not isinstance(v, (dict, list))]
    kid = (
        "not recorded" if done.get("kid") is None else f"{done['kid']:.4f} ± {done['kid_std']:.4f}"
    )
    covered = done.get("classes_covered")
    return [
        f"| FID | {fmt(done.get('fid'), 1)} |",
        f"| KID | {kid} |",
        f"| precision | {fmt(done.get('precision'))} |",
        f"| recall | {fmt(done.get('recall'))} |",
        "| class coverage | "
        + ("not recorded" if covered is None else f"{covered} of {done['num_classes']}")
        + " |",
        f"| samples scored | {done.get('n', 'not recorded')} ({done.get('split', '?')} split) |",
    ]


def hours(seconds):
    return f"{seconds / 3600:.2f} h ({seconds:,.0f} s)"


def machine(summary, done):
    """The run's recorded machine facts; the device alone when nothing more was recorded."""
    for facts in (summary, done):
        recorded = facts.get("machine")
        if recorded:
            return recorded["label"] if isinstance(recorded, dict) else str(recorded)
    return f"not recorded by the run (device {summary.get('device', 'not recorded')})"


def descriptions(page):
    """{run name: the words a person wrote after its "Described:" marker} on an existing page, so
    that regenerating the page keeps what was written about each picture."""
    if not os.path.isfile(page):
        return {}
    with open(page) as f:
        found = {name: text.strip() for name, text in DESCRIBED.findall(f.read())}
    return {name: text for name, text in found.items() if text and text != NOT_LOOKED_AT}


def kept_sections(page, img_dir):
    """{run name: its section's lines} for the finished sections of an existing page whose PNG is
    under ``img_dir`` (``build`` keeps those whose run folder is gone)."""
    if not os.path.isfile(page):
        return {}
    with open(page) as f:
        text = f.read()
    kept = {}
    for part in re.split(r"^(?=## )", text, flags=re.MULTILINE)[1:]:
        name = part.split("\n", 1)[0][3:].strip()
        if f"<!-- describe: {name} -->" in part and os.path.isfile(
            os.path.join(img_dir, f"{name}.png")
        ):
            kept[name] = part.rstrip("\n").split("\n") + [""]
    return kept


def finished_section(name, run_dir, config, done, img_dir, page_dir, described=""):
    png = os.path.join(img_dir, f"{name}.png")
    note = draw_grid(run_dir, config, png)
    summary = read_json(os.path.join(run_dir, "summary.json")) or {}
    seen = images_seen(run_dir)
    wall = summary.get("wall_time_s")
    lines = [
        f"## {name}",
        "",
        f"![{name}: {note}]({os.path.relpath(png, page_dir)})",
        "",
        f"*{note}.*",
        "",
        f"Described: <!-- describe: {name} --> {described or NOT_LOOKED_AT}",
        "",
        "| | |",
        "|---|---|",
        *metric_lines(config, done),
        f"| images seen | {'not recorded' if seen is None else f'{seen:,}'} |",
        f"| wall time | {'not recorded' if wall is None else hours(wall)} |",
        f"| machine | {machine(summary, done)} |",
        "",
        f"Trained with: `{train_command(config)}`",
        "",
    ]
    return lines


def build(runs_dir, out, img_dir):
    """Write the page ``out`` and the PNGs under ``img_dir``; returns the page's text."""
    if not os.path.isdir(runs_dir):
        raise SystemExit(f"--runs {runs_dir}: no such folder (expected the full runs' folder)")
    os.makedirs(img_dir, exist_ok=True)
    page_dir = os.path.dirname(os.path.abspath(out))
    lines = [
        "# Gallery: every model after its full recipe",
        "",
        f"Generated by `python scripts/gallery.py` from the runs in `{runs_dir}` (trained by "
        "scripts/full_recipes.sh, two at a time on one BLAS thread each, so a wall time includes "
        "sharing the machine); rerun it to regenerate this page (a section whose run is no longer "
        "on the machine is kept as it was). FID, KID, precision, recall "
        "and class coverage are from each run's metrics.json (`scratchgan eval RUN --n 10000`, "
        "scratchgan's own classifier).",
        "",
    ]
    waiting = []
    described = descriptions(out)
    sections = kept_sections(out, img_dir)  # replaced below by every run that finished here
    for name in sorted(os.listdir(runs_dir)):
        run_dir = os.path.join(runs_dir, name)
        if not os.path.isfile(os.path.join(run_dir, "config.json")):
            continue
        config = read_config(run_dir)
        done = read_json(os.path.join(run_dir, done_file(config)))
        if done is None:
            waiting.append(
                f"- {name} ({config['model']}): not finished yet, {progress(run_dir, config)}"
            )
            continue
        sections[name] = finished_section(
            name, run_dir, config, done, img_dir, page_dir, described.get(name, "")
        )
    for name in sorted(sections):
        lines += sections[name]
    if waiting:
        lines += ["## Not finished yet", "", *waiting, ""]
    text = "\n".join(lines)
    os.makedirs(page_dir, exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    return text


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", default="runs/full", help="folder of run folders (default runs/full)")
    p.add_argument("--out", default="docs/GALLERY.md", help="the page (default docs/GALLERY.md)")
    p.add_argument(
        "--img", default="docs/img/gallery", help="PNG folder (default docs/img/gallery)"
    )
    args = p.parse_args(argv)
    build(args.runs, args.out, args.img)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
