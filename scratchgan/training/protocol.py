"""What the trainer and a model family agree on."""

from dataclasses import dataclass


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
