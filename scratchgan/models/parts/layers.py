"""Generic layers and canvas helpers the model families share.

pad_to(images, size) / crop_to(images, h, w)   zero-pad to a square canvas and back
Rows, Transpose12          images <-> sequences of rows (N x C x H x W <-> N x H x C*W)
RecurrentLayer             Keras's LSTM layer (all outputs, or the last one)
RepeatVector               N x D -> N x n x D
GaussianNoise              x + N(0, std^2) in training, the identity in evaluation
minibatch_stddev_layers    a GAN discriminator's optional minibatch standard deviation
require_separate_batches   refuses a D layer that mixes a batch unless real and fake come apart
"""

import numpy as np

from ... import nn
from ...ops.shape import stack
from ...tensor import randn


def pad_to(images, size):
    """uint8 or float N x [C x] H x W -> N x C x size x size, zero-padded evenly
    (Fashion-MNIST 28 -> 32)."""
    x = images if images.ndim == 4 else images[:, None]
    h, w = x.shape[-2:]
    if h > size or w > size:
        raise ValueError(f"images of {h}x{w} do not fit the model's {size}x{size} canvas")
    top, left = (size - h) // 2, (size - w) // 2
    return np.pad(x, ((0, 0), (0, 0), (top, size - h - top), (left, size - w - left)))


def crop_to(images, h, w):
    """The inverse of pad_to: the centre h x w of N x C x S x S images."""
    size = images.shape[-1]
    top, left = (size - h) // 2, (size - w) // 2
    return images[..., top : top + h, left : left + w]


class Rows(nn.Module):
    """N x C x H x W images -> N x H x (C*W) sequences: one time step per image row."""

    def forward(self, input):
        n, c, h, w = input.shape
        return input.permute(0, 2, 1, 3).reshape(n, h, c * w)


class RecurrentLayer(nn.Module):
    """Keras's LSTM layer: the sequence of outputs (``return_sequences``) or the last output
    only."""

    def __init__(self, input_size, hidden_size, return_sequences=False, generator=None):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True, generator=generator)
        self.return_sequences = return_sequences

    def forward(self, input):
        output, _ = self.lstm(input)
        return output if self.return_sequences else output[:, -1]


class RepeatVector(nn.Module):
    """N x D -> N x n x D, the vector repeated at every time step (Keras's RepeatVector)."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, input):
        return stack([input] * self.n, axis=1)


class Transpose12(nn.Module):
    """N x H x C x W -> N x C x H x W (rows back into an image)."""

    def forward(self, input):
        return input.permute(0, 2, 1, 3)


class GaussianNoise(nn.Module):
    """x + N(0, std^2) noise in training mode, the identity in eval mode (Keras's GaussianNoise)."""

    def __init__(self, std, generator=None):
        super().__init__()
        self.std, self.generator = std, generator

    def forward(self, input):
        if not self.training or self.std == 0:
            return input
        noise = randn(*input.shape, dtype=input.dtype, generator=self.generator).to(input.device)
        return input + noise * self.std

    def extra_repr(self):
        return f"std={self.std}"


def minibatch_stddev_layers(config, features=None):
    """ProGAN's minibatch standard deviation (Karras et al. 2018) for a discriminator's last layer,
    when ``config["d_minibatch_stddev"]`` is on: [] when off, else the layers that append one
    channel to N x C x H x W maps, or with ``features`` = F one feature to N x F vectors. It lets
    D see how alike a batch's samples are, which a generator collapsed onto few images cannot hide.
    Its groups of 4 must hold only real or only fake images, so D sees them in separate passes."""
    if not config.get("d_minibatch_stddev"):
        return []
    require_separate_batches(config, "d_minibatch_stddev", "in its groups")
    if features is None:
        return [nn.MinibatchStdDev(4)]
    return [nn.Unflatten(1, (features, 1, 1)), nn.MinibatchStdDev(4), nn.Flatten()]


def require_separate_batches(config, option, where):
    """ValueError naming ``option`` unless D sees real and fake batches in separate passes
    (``d_batches`` 'separate'): a layer that mixes a batch's images would mix the two."""
    batches = config.get("d_batches", "joint")
    if batches != "separate":
        raise ValueError(
            f"{option}: needs d_batches 'separate', got {batches!r} (a joint [fake; real] batch "
            f"mixes them {where})"
        )
