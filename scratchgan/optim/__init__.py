"""Optimisers (``optimizers``) and learning-rate schedulers (``lr_scheduler``): ``torch.optim``."""

from . import lr_scheduler
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
