"""Image-to-image networks (CycleGAN, Zhu et al. 2017; GANs in Action ch. 9; pix2pix's U-Net).

SameConv             Keras's Conv2D(k=4, padding="same") at stride 1 or 2
Down, Up             U-Net steps: Conv 4x4 s2 + LReLU + IN; Upsample + Conv 4x4 + ReLU + IN,
                     then the skip connection
UNetGenerator        the book's U-Net: 4 down, 3 up with skips, upsample + tanh conv
reflect_pad, ReflectConv, ResidualBlock, ResNetGenerator   the paper's ResNet generator
PatchDiscriminator   the book's PatchGAN: one score per overlapping patch
"""

import numpy as np

from ... import functional as F
from ... import nn
from ...ops.shape import concat


class SameConv(nn.Module):
    """Keras ``Conv2D(k=4, padding="same")``: stride 2 pads 1 on every side; stride 1 pads 1 before
    and 2 after (Keras puts the odd pixel at the end), done here as padding 2 and dropping the first
    row/column."""

    def __init__(self, in_channels, out_channels, stride, generator=None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"SameConv: stride must be 1 or 2, got {stride!r}")
        self.stride = stride
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            4,
            stride=stride,
            padding=1 if stride == 2 else 2,
            generator=generator,
        )

    def forward(self, x):
        y = self.conv(x)
        return y if self.stride == 2 else y[:, :, 1:, 1:]


def instance_norm(channels):
    return nn.InstanceNorm2d(channels, affine=True)


class Down(nn.Module):
    """U-Net down step: Conv 4x4 s2, LReLU 0.2, InstanceNorm (none on the first step of D)."""

    def __init__(self, in_channels, out_channels, norm=True, generator=None):
        super().__init__()
        self.conv = SameConv(in_channels, out_channels, 2, generator)
        self.norm = instance_norm(out_channels) if norm else None

    def forward(self, x):
        x = F.leaky_relu(self.conv(x), 0.2)
        return self.norm(x) if self.norm is not None else x


class Up(nn.Module):
    """U-Net up step: Upsample 2, Conv 4x4 s1, ReLU, InstanceNorm, then concatenate the skip
    connection."""

    def __init__(self, in_channels, out_channels, generator=None):
        super().__init__()
        self.conv = SameConv(in_channels, out_channels, 1, generator)
        self.norm = instance_norm(out_channels)

    def forward(self, x, skip):
        x = self.norm(F.relu(self.conv(F.interpolate(x, 2))))
        return concat([x, skip], 1)


class UNetGenerator(nn.Module):
    """The book's U-Net (see the module docstring): 4 down steps, 3 up steps with skips, upsample +
    tanh conv."""

    def __init__(self, channels=1, gf=32, generator=None):
        super().__init__()
        self.d1 = Down(channels, gf, generator=generator)
        self.d2 = Down(gf, 2 * gf, generator=generator)
        self.d3 = Down(2 * gf, 4 * gf, generator=generator)
        self.d4 = Down(4 * gf, 8 * gf, generator=generator)
        self.u1 = Up(8 * gf, 4 * gf, generator)
        self.u2 = Up(8 * gf, 2 * gf, generator)
        self.u3 = Up(4 * gf, gf, generator)
        self.out = SameConv(2 * gf, channels, 1, generator)

    def forward(self, x):
        d1 = self.d1(x)
        d2 = self.d2(d1)
        d3 = self.d3(d2)
        d4 = self.d4(d3)
        u1 = self.u1(d4, d3)
        u2 = self.u2(u1, d2)
        u3 = self.u3(u2, d1)
        return F.tanh(self.out(F.interpolate(u3, 2)))


def reflect_pad(x, p):
    """Reflection padding of the last two axes by p (as torch's "reflect": the edge pixel is not
    repeated)."""
    h, w = x.shape[-2:]
    if p >= h or p >= w:
        raise ValueError(f"reflect_pad: padding {p} must be smaller than the image ({h}x{w})")

    def index(n):
        return np.concatenate([np.arange(p, 0, -1), np.arange(n), np.arange(n - 2, n - 2 - p, -1)])

    return x[:, :, index(h)][:, :, :, index(w)]


class ReflectConv(nn.Module):
    """Reflection padding then a convolution (the ResNet generator's c7s1 and R layers)."""

    def __init__(self, in_channels, out_channels, kernel_size, generator=None):
        super().__init__()
        self.pad = kernel_size // 2
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, generator=generator)

    def forward(self, x):
        return self.conv(reflect_pad(x, self.pad))


class ResidualBlock(nn.Module):
    """R: x + IN(Conv3x3(pad(ReLU(IN(Conv3x3(pad(x)))))))."""

    def __init__(self, channels, generator=None):
        super().__init__()
        self.conv1 = ReflectConv(channels, channels, 3, generator)
        self.norm1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ReflectConv(channels, channels, 3, generator)
        self.norm2 = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x):
        return x + self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x)))))


class ResNetGenerator(nn.Module):
    """The paper's generator (Johnson et al.'s): c7s1-ngf, d2ngf, d4ngf, R4ngf x blocks, u2ngf,
    ungf, c7s1-C."""

    def __init__(self, channels=1, ngf=32, blocks=6, generator=None):
        super().__init__()

        def norm_relu(c):
            return [nn.InstanceNorm2d(c, affine=True), nn.ReLU()]

        self.net = nn.Sequential(
            ReflectConv(channels, ngf, 7, generator),
            *norm_relu(ngf),
            nn.Conv2d(ngf, 2 * ngf, 3, stride=2, padding=1, generator=generator),
            *norm_relu(2 * ngf),
            nn.Conv2d(2 * ngf, 4 * ngf, 3, stride=2, padding=1, generator=generator),
            *norm_relu(4 * ngf),
            *[ResidualBlock(4 * ngf, generator) for _ in range(blocks)],
            nn.ConvTranspose2d(
                4 * ngf, 2 * ngf, 3, stride=2, padding=1, output_padding=1, generator=generator
            ),
            *norm_relu(2 * ngf),
            nn.ConvTranspose2d(
                2 * ngf, ngf, 3, stride=2, padding=1, output_padding=1, generator=generator
            ),
            *norm_relu(ngf),
            ReflectConv(ngf, channels, 7, generator),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """The book's PatchGAN: ``layers`` Conv 4x4 s2 + LReLU 0.2 (+ InstanceNorm after the first),
    then a Conv 4x4 s1 to one score per patch."""

    def __init__(self, channels=1, df=64, layers=3, generator=None):
        super().__init__()
        widths = [channels] + [df * 2**i for i in range(layers)]
        self.body = nn.Sequential(
            *[
                Down(widths[i], widths[i + 1], norm=i > 0, generator=generator)
                for i in range(layers)
            ]
        )
        self.score = SameConv(widths[-1], 1, 1, generator)

    def forward(self, x):
        return self.score(self.body(x))
