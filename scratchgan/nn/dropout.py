"""Dropout: zero each element with probability p in training mode, scaling the rest by 1/(1-p)."""

from ..ops.dropout import dropout, dropout2d
from .module import Module


class Dropout(Module):
    """Inverted dropout while ``self.training``; the identity in eval mode.

    ``generator`` (a scratchgan Generator) drives the masks, for reproducible runs.
    """

    def __init__(self, p=0.5, inplace=False, generator=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Channel dropout (torch.nn.Dropout2d): whole (N, C) feature maps are zeroed with
    probability p while ``self.training``, the rest scaled by 1 / (1 - p)."""

    def forward(self, input):
        return dropout2d(input, self.p, self.training, self.inplace, generator=self.generator)
