"""``scratchgan.nn.functional``: ``torch.nn.functional``'s path, so ``import ... as F`` works as is.

Everything in scratchgan.functional, plus the losses written in nn/loss.py (kl_div, smooth_l1_loss).
"""

from ..functional import *  # noqa: F403  (this module is a re-export of scratchgan.functional)
from .loss import kl_div, smooth_l1_loss  # noqa: F401
