"""Named recipe presets (``train MODEL --recipe NAME``): layered after the recipe and the --loss
preset, before the overrides, typed like any override, recorded in config.json, listed by
``scratchgan list``; "NAME/LOSS" adds a preset's values for one loss."""

import json
import struct

import numpy as np
import pytest

from scratchgan import models, train
from scratchgan.cli import main
from scratchgan.training import recipes


@pytest.fixture
def presets(monkeypatch):
    """dcgan with a made-up "fast" preset (and its wgan values), stacked-ae with "tiny"."""
    monkeypatch.setattr(
        models.get("dcgan"),
        "recipes",
        {"fast": {"epochs": 7, "lr": 0.5}, "fast/wgan": {"n_critic": 2, "lr": 1e-4}},
    )
    monkeypatch.setattr(models.get("stacked-ae"), "recipes", {"tiny": {"lr": 0.25}})


def test_a_preset_layers_over_the_recipe_and_under_the_overrides(presets):
    config = train.make_config("dcgan", recipe="fast")
    assert (config["epochs"], config["lr"], config["recipe"]) == (7, 0.5, "fast")
    assert train.make_config("dcgan", recipe="fast", epochs=2)["epochs"] == 2
    assert "recipe" not in train.make_config("dcgan")  # no preset: nothing recorded


def test_a_preset_adds_its_values_for_the_runs_loss(presets):
    wgan = train.make_config("dcgan", loss="wgan", recipe="fast")
    assert (wgan["n_critic"], wgan["lr"], wgan["clip_value"], wgan["epochs"]) == (2, 1e-4, 0.01, 7)
    assert train.make_config("dcgan", loss="ls", recipe="fast")["lr"] == 0.5  # no fast/ls


def test_an_unknown_preset_is_refused_naming_the_models_presets(presets):
    with pytest.raises(recipes.RecipeError) as error:
        train.make_config("dcgan", recipe="fulll")
    assert str(error.value) == "--recipe 'fulll': dcgan has fast"
    with pytest.raises(recipes.RecipeError, match="'fast/wgan': dcgan has fast$"):
        train.make_config("dcgan", recipe="fast/wgan")  # a loss's part is not a preset
    with pytest.raises(recipes.RecipeError, match="linear-ae has no named recipes"):
        train.make_config("linear-ae", recipe="full")


def test_a_preset_value_of_the_wrong_type_is_refused(monkeypatch):
    monkeypatch.setattr(models.get("dcgan"), "recipes", {"bad": {"n_critic": 2.5}})
    with pytest.raises(recipes.RecipeError, match=r"--recipe bad: n_critic=2.5: .* takes an int"):
        train.make_config("dcgan", recipe="bad")
    monkeypatch.setattr(models.get("dcgan"), "recipes", {"bad": {"n_critics": 2}})
    with pytest.raises(recipes.RecipeError, match="no such key; nearest: n_critic"):
        train.make_config("dcgan", recipe="bad")


def test_every_models_presets_build_typed_configs():
    """Each shipped preset, with each --loss the model takes, passes the type checks."""
    seen = 0
    for name in models.names():
        if not models.is_built(name):
            continue
        cls = models.get(name)
        for preset in recipes.recipe_names(name):
            for loss in [None, *cls.loss_presets]:
                config = train.make_config(name, loss=loss, recipe=preset)
                assert config["recipe"] == preset
                seen += 1
        for key in cls.recipes:
            assert key.partition("/")[0] in cls.recipes, f"{name}: {key} has no base preset"
    assert seen > 0


# ----- the command line
def write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "fashion-mnist"
    folder.mkdir(parents=True)
    for prefix, n in (("train", 40), ("t10k", 8)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 12, 12)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n))
    monkeypatch.setenv("SCRATCHGAN_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_train_records_the_preset_and_resume_keeps_it(presets, data_dir, capsys):
    run = data_dir / "run"
    common = ["--batch-size", "8", "--valid-size", "8", "--out", str(run), "--quiet"]
    assert main(["train", "stacked-ae", "--recipe", "tiny", "--max-steps", "1", *common]) == 0
    config = json.loads((run / "config.json").read_text())
    assert (config["recipe"], config["lr"]) == ("tiny", 0.25)
    again = ["train", "stacked-ae", "--recipe", "tiny", "--resume", "--max-steps", "2", *common]
    assert main(again) == 0
    assert json.loads((run / "summary.json").read_text())["steps"] == 2
    capsys.readouterr()
    assert main(["train", "stacked-ae", "--recipe", "huge", "--out", str(data_dir / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("--recipe 'huge': stacked-ae has tiny")


def test_list_shows_each_models_presets(presets, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "presets (--recipe NAME): fast" in out and "presets (--recipe NAME): tiny" in out
