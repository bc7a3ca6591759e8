"""Learning-rate schedulers, ``scratchgan.optim.lr_scheduler``, with PyTorch's values.

Each ``step()`` advances ``last_epoch`` and sets every param group's ``lr``. The chainable
schedulers compute the new lr from the group's current one, with PyTorch's recursive
formulas (so their floating-point values agree with torch's exactly, and two schedulers on one
optimizer compose as they do there); LambdaLR uses the closed form base_lr * lambda(epoch).
Construct the scheduler after the optimizer; it sets ``group["initial_lr"]`` once.
``state_dict()`` holds plain numbers and lists (``sg.save`` writes it without pickle).
"""

import math
from collections import Counter

from .optimizer import Optimizer


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``state_dict()`` / ``load_state_dict()``."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a "
                    "scheduler with last_epoch >= 0 (load the optimizer's state first)"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self):
        raise NotImplementedError

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self):
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def get_last_lr(self):
        return list(self._last_lr)

    _not_state = ("optimizer", "_is_initial")

    def state_dict(self):
        """Every attribute except the optimizer (and LambdaLR's functions)."""
        return {key: value for key, value in self.__dict__.items() if key not in self._not_state}

    def load_state_dict(self, state_dict):
        self.__dict__.update(
            {key: value for key, value in dict(state_dict).items() if key not in self._not_state}
        )


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch); one function, or one per param group."""

    _not_state = ("optimizer", "_is_initial", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n:
            raise ValueError(f"LambdaLR: expected {n} lr_lambdas, got {len(lambdas)}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [
            base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)
        ]


class StepLR(LRScheduler):
    """lr <- lr * gamma every ``step_size`` epochs (closed form: base_lr gamma^(t // step_size))."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    """lr <- lr * gamma^k at an epoch that appears k times in ``milestones``."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = dict(Counter(int(m) for m in milestones))
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """lr <- lr * gamma every epoch (closed form: base_lr gamma^epoch)."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr to eta_min over T = T_max epochs (SGDR without restarts):

    closed form   lr_t = eta_min + (base_lr - eta_min) (1 + cos(pi t / T)) / 2
    as computed   lr_t = eta_min + (lr_{t-1} - eta_min) r_t,
                  r_t = (1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T)),
    except where (t - 1 - T) is a multiple of 2 T (there r_t would be 0 / 0):
                  lr_t = lr_{t-1} + (base_lr - eta_min) (1 - cos(pi / T)) / 2
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:
            return [
                eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                for base in self.base_lrs
            ]
        if (t - 1 - T) % (2 * T) == 0:
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for lr, base in zip(self._current_lrs(), self.base_lrs)
            ]
        return [
            (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - eta_min)
            + eta_min
            for lr in self._current_lrs()
        ]


__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR", "MultiStepLR", "StepLR"]
