"""ProGAN's layers (Karras et al. 2018), shared by progan and stylegan's critic.

Every layer has an equalized learning rate (nn.EqualizedConv2d / EqualizedLinear); every G
convolution is followed by pixel norm; LeakyReLU slope 0.2 throughout.

    GConv, GFirst, GBlock, to_rgb   the generator's convolution, 4 x 4 stage, growth stage, toRGB
    DConv, FromRGB, DBlock, DLast   the critic's convolution, fromRGB, growth stage, 4 x 4 block
    lerp(a, b, t)                        the fade-in blend (1 - t) a + t b
"""

import math

from ... import functional as F
from ... import nn

SLOPE = 0.2  # LeakyReLU slope everywhere in G and D


def lerp(a, b, t):
    """a + (b - a) t: the fade-in blend, (1 - t) a + t b."""
    return a + (b - a) * t


class GConv(nn.Module):
    """Equalized conv, LeakyReLU 0.2, pixel norm: every convolution of ProGAN's generator."""

    def __init__(self, in_channels, out_channels, kernel_size, generator=None):
        super().__init__()
        self.conv = nn.EqualizedConv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, generator=generator
        )

    def forward(self, x):
        return F.pixel_norm(F.leaky_relu(self.conv(x), SLOPE))


class DConv(nn.Module):
    """Equalized conv and LeakyReLU 0.2: the critic's convolutions (no normalisation in D)."""

    def __init__(self, in_channels, out_channels, kernel_size, padding=None, generator=None):
        super().__init__()
        padding = kernel_size // 2 if padding is None else padding
        self.conv = nn.EqualizedConv2d(
            in_channels, out_channels, kernel_size, padding=padding, generator=generator
        )

    def forward(self, x):
        return F.leaky_relu(self.conv(x), SLOPE)


class GFirst(nn.Module):
    """Stage 0 of G: pixel-normalised z -> "Conv 4x4" (a dense layer to c x 4 x 4) -> Conv 3x3."""

    def __init__(self, codings_size, channels, generator=None):
        super().__init__()
        self.channels = channels
        # the reference code's dense layer has gain sqrt(2)/4: fan-in is codings_size, not 16x that
        self.dense = nn.EqualizedLinear(
            codings_size, channels * 16, gain=math.sqrt(2) / 4, generator=generator
        )
        self.conv = GConv(channels, channels, 3, generator=generator)

    def forward(self, z):
        x = self.dense(F.pixel_norm(z)).reshape(z.shape[0], self.channels, 4, 4)
        return self.conv(F.pixel_norm(F.leaky_relu(x, SLOPE)))


class GBlock(nn.Module):
    """One growth stage of G: upsample x2 (nearest), Conv 3x3, Conv 3x3."""

    def __init__(self, in_channels, out_channels, generator=None):
        super().__init__()
        self.conv1 = GConv(in_channels, out_channels, 3, generator=generator)
        self.conv2 = GConv(out_channels, out_channels, 3, generator=generator)

    def forward(self, x):
        return self.conv2(self.conv1(F.interpolate(x, 2)))


class DBlock(nn.Module):
    """One growth stage of D: Conv 3x3, Conv 3x3 (to the next stage's width), average pool 2."""

    def __init__(self, in_channels, out_channels, generator=None):
        super().__init__()
        self.conv1 = DConv(in_channels, in_channels, 3, generator=generator)
        self.conv2 = DConv(in_channels, out_channels, 3, generator=generator)

    def forward(self, x):
        return F.avg_pool2d(self.conv2(self.conv1(x)), 2)


class DLast(nn.Module):
    """D's 4 x 4 block: minibatch stddev, Conv 3x3, Conv 4x4 (valid, to 1 x 1), fully-connected to a
    score."""

    def __init__(self, channels, group_size=4, generator=None):
        super().__init__()
        self.stddev = nn.MinibatchStdDev(group_size)
        self.conv1 = DConv(channels + 1, channels, 3, generator=generator)
        self.conv2 = DConv(channels, channels, 4, padding=0, generator=generator)
        self.dense = nn.EqualizedLinear(channels, 1, gain=1.0, generator=generator)

    def forward(self, x):
        return self.dense(self.conv2(self.conv1(self.stddev(x))).flatten(1))


def to_rgb(channels, image_channels, generator):
    return nn.EqualizedConv2d(channels, image_channels, 1, gain=1.0, generator=generator)


class FromRGB(nn.Module):
    def __init__(self, image_channels, channels, generator=None):
        super().__init__()
        self.conv = DConv(image_channels, channels, 1, generator=generator)

    def forward(self, x):
        return self.conv(x)
