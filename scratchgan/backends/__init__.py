"""``torch.backends``' path, so ``import torch.backends.cudnn as cudnn`` maps one to one.

scratchgan has no library backends to tune; the flags exist so that scripts which set them run
unchanged, and they change nothing (see scratchgan/backends/cudnn.py).
"""

from . import cudnn  # noqa: F401
