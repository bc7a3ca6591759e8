"""``scratchgan.nn.functional``: ``torch.nn.functional``'s module path, so ``import ... as F`` works unchanged.

Everything in scratchgan.functional, plus the losses written in nn/loss.py (kl_div, smooth_l1_loss).
"""

from ..functional import *  # noqa: F401,F403
from .loss import kl_div, smooth_l1_loss  # noqa: F401
