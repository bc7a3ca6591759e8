"""scripts/gallery.py on tiny real runs (generated blobs, a band-means stand-in classifier):
finished runs get their grid PNG, their metrics.json numbers and their command; an unfinished run
is listed without numbers; a rerun rewrites the same page."""

import functools
import importlib
import json
import os
import shlex
import struct
import sys

import numpy as np
import pytest

from scratchgan import cli, train, viz
from scratchgan.metrics import evaluate_run
from scratchgan.models import cyclegan
from scratchgan.training import recipes

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import gallery  # noqa: E402

evaluate = importlib.import_module("scratchgan.metrics.evaluate")


def blobs(n, seed=0, size=28):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    centres = rng.uniform(5, size - 5, (n, 2, 1, 1))
    images = 255 * np.exp(-((yy - centres[:, 0]) ** 2 + (xx - centres[:, 1]) ** 2) / 12.0)
    return images.astype(np.uint8), rng.integers(0, 10, n)


class BandMeans:
    """A stand-in classifier: features = the means of 8 horizontal bands in [0, 1], probabilities
    over 10 classes from them (so two different models get different numbers)."""

    test_accuracy = 0.5

    def embed(self, images):
        x = np.asarray(images, dtype=np.float64)
        x = (x / 255 if x.max() > 1 else x).reshape(len(x), 8, -1).mean(axis=2)
        e = np.exp(np.concatenate([x, x[:, :2]], axis=1) * 10)
        return x, e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def tiny_world(monkeypatch):
    """'fashion-mnist' is 64 blob images per split, scored by the band-means stand-in."""
    images, labels = blobs(128, seed=6)
    splits = {"train": (images[:64], labels[:64]), "test": (images[64:], labels[64:])}
    clf = BandMeans()
    monkeypatch.setattr(evaluate.sgdata, "load", lambda name, split="train": splits[split])
    monkeypatch.setattr(evaluate, "load_classifier", lambda dataset, progress=True: clf)
    monkeypatch.setattr(
        evaluate, "dataset_embedding", lambda d, split, c: (*c.embed(splits[split][0]), None)
    )
    monkeypatch.setattr(
        evaluate, "swd", functools.partial(evaluate.swd, n_directions=32, patches_per_image=4)
    )
    return splits


def make_run(run_dir, model, splits, max_steps=2, **overrides):
    cfg = train.make_config(model, **{"epochs": 1, "batch_size": 8, "valid_size": 8, **overrides})
    x, y = splits["train"]
    trainer = train.Trainer(
        cfg, str(run_dir), data=(x[:48], y[:48], x[48:], y[48:]), progress=False
    )
    trainer.fit(max_steps=max_steps)
    return str(run_dir)


def png_size(path):
    """(width, height) from a PNG's IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def section(page, name):
    start = page.index(f"## {name}\n")
    end = page.find("\n## ", start + 1)
    return page[start : end if end != -1 else None]


def test_gallery_page_from_tiny_runs(tmp_path, tiny_world):
    runs = tmp_path / "runs"
    finished = {
        "dcgan-ns": make_run(runs / "dcgan-ns", "dcgan", tiny_world, loss="ns", lr=5e-4),
        "vae": make_run(runs / "vae", "vae", tiny_world),
    }
    scored = {name: evaluate_run(run, n=20, progress=False) for name, run in finished.items()}
    make_run(runs / "wgan", "dcgan", tiny_world, max_steps=1, loss="wgan")  # never evaluated
    out, img = tmp_path / "docs" / "GALLERY.md", tmp_path / "docs" / "img" / "gallery"

    page = gallery.build(str(runs), str(out), str(img))
    assert scored["vae"]["fid"] != scored["dcgan-ns"]["fid"]

    assert out.read_text() == page
    side = (gallery.GRID * (28 + viz.PAD) + viz.PAD) * 2  # 10 x 10 grid of 28 x 28 at scale 2
    for name, metrics in scored.items():
        with open(os.path.join(finished[name], "metrics.json")) as f:
            assert json.load(f) == json.loads(json.dumps(metrics))
        text = section(page, name)
        assert f"| FID | {metrics['fid']:.1f} |" in text
        assert f"| KID | {metrics['kid']:.4f} ± {metrics['kid_std']:.4f} |" in text
        assert f"| precision | {metrics['precision']:.3f} |" in text
        assert f"| recall | {metrics['recall']:.3f} |" in text
        covered = f"{metrics['classes_covered']} of {metrics['num_classes']}"
        assert f"| class coverage | {covered} |" in text
        assert f"<!-- describe: {name} -->" in text
        with open(os.path.join(finished[name], "summary.json")) as f:
            recorded = json.load(f)["machine"]  # the trainer's record of where it trained
        assert recorded["threads"] >= 1 and recorded["cpu_model"] in recorded["label"]
        assert f"| machine | {recorded['label']} |" in text
        png = img / f"{name}.png"
        assert png_size(png) == (side, side) and png.stat().st_size < 400_000
        assert f"](img/gallery/{name}.png)" in text
    dcgan = section(page, "dcgan-ns")
    assert "| images seen | 16 |" in dcgan  # 2 steps of batch 8
    assert (
        "`scratchgan train dcgan --loss ns --batch-size 8 --epochs 1 --lr 0.0005 --valid-size 8`"
        in dcgan
    )
    assert "`scratchgan train vae --batch-size 8 --epochs 1 --valid-size 8`" in section(page, "vae")

    assert "## wgan" not in page
    waiting = section(page, "Not finished yet")
    assert "- wgan (dcgan): not finished yet, epoch" in waiting and "step 1" in waiting
    assert "FID" not in waiting and not (img / "wgan.png").exists()

    before = (img / "vae.png").read_bytes()
    assert gallery.build(str(runs), str(out), str(img)) == page  # a rerun rewrites the same page
    assert (img / "vae.png").read_bytes() == before

    # what a person wrote about a picture survives regenerating the page
    assert f"<!-- describe: vae --> {gallery.NOT_LOOKED_AT}" in section(page, "vae")
    marker = "Described: <!-- describe: vae -->"
    out.write_text(page.replace(f"{marker} {gallery.NOT_LOOKED_AT}", f"{marker} blurry shirts"))
    again = gallery.build(str(runs), str(out), str(img))
    assert f"{marker} blurry shirts" in section(again, "vae")
    assert f"<!-- describe: dcgan-ns --> {gallery.NOT_LOOKED_AT}" in section(again, "dcgan-ns")


def test_gallery_conditional_grid_has_a_row_per_class(tmp_path, tiny_world):
    run = make_run(tmp_path / "cgan", "cgan", tiny_world)
    _, config = train.load_run(run)
    note = gallery.draw_grid(run, config, str(tmp_path / "cgan.png"))
    assert note.startswith("one row per class 0-9")
    side = (gallery.GRID * (28 + viz.PAD) + viz.PAD) * 2
    assert png_size(tmp_path / "cgan.png") == (side, side)


def test_gallery_grid_is_scratchgan_sample_with_the_ema(tmp_path, tiny_world):
    """With ema_decay on, the grid is drawn by G's averaged weights, exactly as `scratchgan sample
    RUN --n 100` draws it."""
    run = make_run(tmp_path / "dcgan", "dcgan", tiny_world, loss="ns", ema_decay=0.9)
    model, config = train.load_run(run)
    assert model.ema is not None and model.ema.active  # evaluation mode swaps the average in
    gallery.draw_grid(run, config, str(tmp_path / "gallery.png"))
    assert cli.main(["sample", run, "--n", "100", "--out", str(tmp_path / "cli.png")]) == 0
    assert (tmp_path / "gallery.png").read_bytes() == (tmp_path / "cli.png").read_bytes()


def test_gallery_cyclegan_cycle_figure_and_its_own_done_file(tmp_path, tiny_world, monkeypatch):
    """cyclegan: the cycle figure of 8 validation images per domain (rows A, A->B, A->B->A, B,
    B->A, B->A->B at 32 x 32); with metrics.json but no translation.json it is not finished."""
    domain_b, _ = blobs(24, seed=1)

    def synthetic_domain_b(self):
        self.train_b, self.valid_b = domain_b, domain_b
        return self.train_b, self.valid_b

    monkeypatch.setattr(cyclegan.CycleGAN, "domain_b", synthetic_domain_b)
    monkeypatch.setattr(recipes.sgdata, "load", lambda name, split="train": tiny_world[split])
    runs = tmp_path / "runs"
    run = make_run(runs / "cyclegan", "cyclegan", tiny_world, batch_size=4, gf=4, df=4)
    _, config = train.load_run(run)
    note = gallery.draw_grid(run, config, str(tmp_path / "cycle.png"))
    assert note.startswith("rows: A, A->B")
    per_domain = gallery.CYCLE_IMAGES
    assert png_size(tmp_path / "cycle.png") == ((per_domain * 34 + 2) * 3, (6 * 34 + 2) * 3)
    (runs / "cyclegan" / "metrics.json").write_text("{}")  # not cyclegan's finishing file
    page = gallery.build(str(runs), str(tmp_path / "g.md"), str(tmp_path / "img"))
    assert "- cyclegan (cyclegan): not finished yet, epoch" in page


@pytest.mark.parametrize(
    "model, overrides",
    [
        ("dcgan", {"loss": "wgan-gp", "recipe": "full"}),
        ("progan", {"recipe": "full", "epochs": 6, "betas": [0.0, 0.9], "ema_decay": 0.99}),
        ("vae", {"batch_size": 16, "keep_checkpoints": True, "lr": 3e-4}),
        # betas: an optimiser fallback, in no key of gan's recipe (rmsprop)
        ("gan", {"optimizer": "adam", "betas": [0.5, 0.999]}),
    ],
)
def test_train_command_rebuilds_the_config(model, overrides):
    """The page's command, parsed as `scratchgan train` parses it, makes the run's config again."""
    config = recipes.make_config(model, device="cpu", **overrides)
    words = shlex.split(gallery.train_command(config))
    assert words[:3] == ["scratchgan", "train", model]
    args = cli.build_parser().parse_args(words[1:])
    options = {k: getattr(args, k) for k in cli.TRAIN_OPTIONS}
    again = recipes.with_settings(model, options, args.set or ())
    if args.keep_checkpoints:
        again["keep_checkpoints"] = True
    assert recipes.make_config(model, **again) == config


def test_gallery_refuses_a_missing_runs_folder(tmp_path):
    with pytest.raises(SystemExit, match="--runs .*no such folder"):
        gallery.build(str(tmp_path / "nowhere"), str(tmp_path / "g.md"), str(tmp_path / "img"))


def test_gallery_keeps_sections_of_runs_no_longer_here(tmp_path, tiny_world):
    """Runs stay on the machine that trained them: regenerating the page elsewhere keeps a
    finished section whose run folder is gone (its PNG still there), and drops one whose PNG is
    gone too."""
    runs = tmp_path / "runs"
    for name, model in (("vae", "vae"), ("ae-gone", "vae"), ("dcgan-ns", "dcgan")):
        run = make_run(runs / name, model, tiny_world)
        evaluate_run(run, n=20, progress=False)
    out, img = tmp_path / "GALLERY.md", tmp_path / "img"
    marker = "Described: <!-- describe: vae -->"
    page = gallery.build(str(runs), str(out), str(img))
    out.write_text(page.replace(f"{marker} {gallery.NOT_LOOKED_AT}", f"{marker} blurry shirts"))
    written = section(out.read_text(), "vae")
    for name in ("vae", "ae-gone"):
        for path in (runs / name).rglob("*"):
            if path.is_file():
                path.unlink()
    (img / "ae-gone.png").unlink()
    again = gallery.build(str(runs), str(out), str(img))
    assert section(again, "vae") == written  # kept word for word, description included
    assert "## ae-gone" not in again
    assert section(again, "dcgan-ns") == section(page, "dcgan-ns")  # still built from its run
    assert again.index("## dcgan-ns") < again.index("## vae")  # sorted by name as before
