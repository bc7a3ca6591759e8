"""Training, as one public module: the names of scratchgan.training, re-exported.

Each concern has its own module in scratchgan/training/:

    protocol.py     Model (what a family gives the trainer), Unsupported, StepContext
    recipes.py      COMMON_DEFAULTS, make_config (typed overrides), derive_seeds, load_data,
                    build_optimizer
    checkpoints.py  save_checkpoint / load_checkpoint: the .npz format (no pickle), written
                    atomically with a sha256 manifest and previous.npz; CHECKPOINT,
                    CheckpointError
    progress.py     ProgressBar (tqdm on a terminal, plain lines in a log)
    trainer.py      Trainer: the loop, run directories, exact resume, Ctrl-C
    runs.py         read_config, load_run, build_model, default_run_dir, and the --resume rule

Example:
    >>> from scratchgan import train
    >>> config = train.make_config("stacked-ae", epochs=2)
    >>> summary = train.Trainer(config, "runs/try").fit()
"""

from . import data as sgdata  # noqa: F401  (tests replace sgdata.load through this name)
from .training.checkpoints import CHECKPOINT, CheckpointError, load_checkpoint, save_checkpoint
from .training.progress import NullBar, ProgressBar
from .training.protocol import Model, StepContext, Unsupported
from .training.recipes import (
    COMMON_DEFAULTS,
    RecipeError,
    build_optimizer,
    derive_seeds,
    load_data,
    loss_names,
    make_config,
    recipe_defaults,
    with_settings,
)
from .training.runs import (
    RunError,
    build_model,
    default_run_dir,
    find_run,
    load_run,
    read_config,
    resume_config,
)
from .training.trainer import Trainer

__all__ = [
    "CHECKPOINT",
    "COMMON_DEFAULTS",
    "CheckpointError",
    "Model",
    "NullBar",
    "ProgressBar",
    "RecipeError",
    "RunError",
    "StepContext",
    "Trainer",
    "Unsupported",
    "build_model",
    "build_optimizer",
    "default_run_dir",
    "derive_seeds",
    "find_run",
    "load_checkpoint",
    "load_data",
    "load_run",
    "loss_names",
    "make_config",
    "read_config",
    "recipe_defaults",
    "resume_config",
    "save_checkpoint",
    "with_settings",
]
