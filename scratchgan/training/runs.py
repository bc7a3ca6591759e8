"""Run directories: where a new run goes, which run ``--resume`` continues and with what config, and
the model of a finished or interrupted run."""

import glob
import json
import os
import time

from .. import models
from ..backend import parse_device
from ..random import Generator
from .checkpoints import CHECKPOINT, load_checkpoint
from .recipes import derive_seeds


class RunError(ValueError):
    """A run directory that cannot be used as asked; one line says why."""


class RunFileError(RuntimeError):
    """A file of a run directory that is there but cannot be read (e.g. a broken config.json)."""


def default_run_dir(model):
    return os.path.join("runs", f"{model}-{time.strftime('%Y%m%d-%H%M%S')}")


def build_model(config, generator=None):
    """The model of ``config``, its parameters drawn from ``generator`` (default: seeded from
    ``config["seed"]``)."""
    if generator is None:
        generator = Generator(derive_seeds(config["seed"])["model"])
    return models.get(config["model"])(config, generator)


def read_config(run_dir):
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{run_dir} is not a run directory: {path} does not exist")
    try:
        with open(path) as f:
            config = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise RunFileError(f"{path} is not valid JSON ({e}); restore it or start a new run") from e
    if not isinstance(config, dict) or "model" not in config:
        raise RunFileError(f'{path} does not hold a run\'s config (no "model" key)')
    return config


def load_run(run_dir, checkpoint=CHECKPOINT, device=None):
    """(model, config) of a finished or interrupted run, with its last checkpoint loaded."""
    config = read_config(run_dir)
    if device is not None:
        config["device"] = device
    model = build_model(config)
    # a bare name is one of the run's checkpoints; a path (e.g. from --checkpoint) is used as is
    if not os.path.dirname(checkpoint):
        checkpoint = os.path.join(run_dir, "checkpoints", checkpoint)
    load_checkpoint(checkpoint, model)
    model.train(False)
    return model, config


def find_run(model, run_dir=None):
    """The run to resume: ``run_dir`` if given, else the newest runs/<model>-* with a checkpoint."""
    if run_dir:
        return run_dir
    pattern = os.path.join("runs", f"{model}-*", "checkpoints", CHECKPOINT)
    runs = sorted(glob.glob(pattern), key=os.path.getmtime)
    if not runs:
        raise RunError(
            f"--resume: no runs/{model}-*/checkpoints/{CHECKPOINT} here; "
            "name the run with --out DIR"
        )
    return os.path.dirname(os.path.dirname(runs[-1]))


def resume_config(run_dir, model, overrides):
    """The config to continue ``run_dir`` with: its own, with only ``epochs`` changed if given.

    Resuming continues the run exactly, so any other override (None: not given) that differs from
    the run's value is refused, as is a run of another model.
    """
    config = read_config(run_dir)
    if config["model"] != model:
        raise RunError(f"--resume: {run_dir} is a {config['model']} run, not {model}")
    for key, value in overrides.items():
        if key == "device" and value is not None:  # 'cuda' and 'cuda:0' name one device
            value = str(parse_device(value))
        if value is not None and key != "epochs" and value != config.get(key):
            option = "--" + key.replace("_", "-")
            raise RunError(
                f"--resume continues the run exactly: only --epochs may change, but "
                f"{option} {value} differs from the run's {config.get(key)}"
            )
    if overrides.get("epochs") is not None:
        config["epochs"] = overrides["epochs"]
    return config
