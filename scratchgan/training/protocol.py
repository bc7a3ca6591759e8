"""What the trainer and a model family agree on: ``Model``, ``Unsupported`` and ``StepContext``."""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import data as sgdata
from ..tensor import tensor


@dataclass(frozen=True)
class StepContext:
    """Where a training step stands, passed to ``Model.train_step(batch, ctx)``.

    step: optimisation steps completed before this one in the whole run (0 for the first step)
    epoch: completed epochs before this step (0 during the first epoch)
    epoch_step: steps completed in the current epoch before this one
    steps_per_epoch: batches the loader gives per epoch
    rank, world_size: this process's place in data-parallel training (0 and 1 in one process)
    """

    step: int = 0
    epoch: int = 0
    epoch_step: int = 0
    steps_per_epoch: int = 1
    rank: int = 0
    world_size: int = 1


class Unsupported(Exception):
    """A command or option this model does not support; the message says why and what to use."""


class Model:
    """What a model family gives the trainer. Subclass it, then register it in scratchgan.models.

    Class attributes:
        recipe: dict of defaults (merged over COMMON_DEFAULTS): lr, optimizer, epochs, sizes, ...
            Each default also fixes its key's type: ``train --set`` and ``make_config`` refuse a
            value of another type (an int where a float is expected is accepted).
        options: keys the family's code also reads, off by default (e.g. a GAN's tricks), typed
            the same way.
        recipe_types: {key: type} for keys the family reads that have no default in the recipe or
            a default of None (no type can be read off it), e.g. {"truncation_cutoff": int}.
        loss_presets: {loss name: config overrides} for ``--loss``; empty = the option is refused.
        recipes: {preset name: config overrides} for ``--recipe NAME``, layered after the recipe
            and the loss preset (e.g. "full", the full-length run); a key "NAME/LOSS" adds the
            values that preset takes with that loss. Each value is typed as an override is.
        generative: True when ``sample`` draws from a prior.

    Build: ``Model(config, generator)`` makes the networks and optimisers from ``config`` (a dict),
    drawing every random number from ``generator`` (a CPU ``sg.Generator``; create parameters on
    the CPU, then move and cast them with ``self.place(module)``). ``self.dtype`` is the run's
    float dtype (``config["dtype"]``: float32, or float64 for exactness tests); ``place`` and
    ``floats`` are the one place that applies it to networks and to inputs.

    The trainer calls:
        loader_arrays(images, labels) -> tuple of arrays the DataLoader batches (default (images,))
        train_step(batch, ctx) -> {name: float}   one optimisation step on a batch (numpy arrays);
            ``ctx`` (a StepContext) says where the step stands, so a family keeps no step counter
        evaluate(images, labels) -> {name: float}   validation metrics (no randomness; default none)
        after_steps(train_images)            before each validation and picture (each epoch's
            end, a --max-steps stop): fit what comes from the data rather than from the steps
            (vae's mixture prior); default nothing
        picture(images, path)                the per-epoch picture, from the validation images
        modules() -> {name: nn.Module}, optimizers() -> {name: optimizer}   what a checkpoint holds
        extra_state() -> {name: ndarray}, load_extra_state(state)   anything else to checkpoint
    The command line calls sample / reconstruct / interpolate / inpaint where the family has them;
    the defaults raise ``Unsupported`` with a message. ``scratchgan sample`` calls
    ``save_sample(n, generator, path, valid_images)``: by default a grid of ``sample``'s images; a
    family without a prior (cyclegan) may draw something else to look at from
    ``valid_images()``.
    """

    recipe: ClassVar[dict] = {}
    options: ClassVar[dict] = {}
    recipe_types: ClassVar[dict] = {}
    loss_presets: ClassVar[dict] = {}
    recipes: ClassVar[dict] = {}
    generative = False

    def __init__(self, config, generator):
        self.config = config
        self.generator = generator
        self.device = config.get("device", "cpu")
        self.dtype = np.dtype(config.get("dtype", "float32"))
        self.name = config.get("model", type(self).__name__)

    # ----- what the trainer needs
    def loader_arrays(self, images, labels):
        return (images,)

    def train_step(self, batch, ctx):
        raise NotImplementedError

    def evaluate(self, images, labels):
        return {}

    def after_steps(self, train_images):
        pass

    def picture(self, images, path):
        pass

    def modules(self):
        return {}

    def optimizers(self):
        return {}

    def extra_state(self):
        return {}

    def load_extra_state(self, state):
        pass

    # ----- helpers for subclasses
    def place(self, *modules):
        """Move ``modules`` to the run's device and cast their floats to its dtype (in place)."""
        for module in modules:
            module.to(self.device, self.dtype)

    def floats(self, array):
        """A NumPy array -> Tensor of the run's dtype on its device (what the networks take)."""
        return tensor(array, dtype=self.dtype, device=self.device)

    def to_input(self, images):
        """uint8 images (N x H x W or N x C x H x W) -> Tensor N x C x H x W in [0, 1] of the
        run's dtype on the device."""
        return self.floats(sgdata.to_float(images))

    def train(self, mode=True):
        for module in self.modules().values():
            module.train(mode)

    # ----- what the command line may ask for
    def save_sample(self, n, generator, path, valid_images):
        """Write ``scratchgan sample``'s picture to ``path``; returns a note on what it shows (or
        None). ``valid_images()`` loads the run's validation images."""
        from .. import viz

        viz.save_image_grid(self.sample(n, generator), path)

    def sample(self, n, generator):
        raise Unsupported(
            f"{self.name} cannot sample: it is not a generative model (no prior over "
            "its codes); try a vae or a gan"
        )

    def reconstruct(self, images):
        raise Unsupported(f"{self.name} does not reconstruct images: it has no encoder")

    def interpolate(self, images, rows, steps, generator):
        raise Unsupported(f"{self.name} does not support interpolate")

    def inpaint(self, images, mask, generator):
        raise Unsupported(f"{self.name} does not support inpaint")
