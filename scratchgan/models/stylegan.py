"""stylegan: a style-based generator (Karras, Laine and Aila 2019; GANs in Action ch. 6, Hands-On ML
ch. 17).

The generator has two parts. The mapping network f turns a latent z into an intermediate latent w;
the synthesis network g starts from a learned constant and, at every layer, takes a style from w (a
learned affine map "A" of w into a per-channel scale and bias for AdaIN) and fresh per-pixel noise
(scaled per channel by learned weights "B"):

    Mapping network f (``mapping_depth`` = 8 as in the paper; width ``w_dim``, the paper's 512)
      z, pixel norm                                       codings
      8 x [Fully-connected (equalized, lr x 0.01), LReLU]  w_dim
    Synthesis network g at 32 x 32 (widths c4..c32 = ``channels``; the paper: 512 up to 64 x 64)
      layer  operation                                              output
      0      Const 4x4 (learned, starts at 1), + noise B, LReLU, AdaIN(A w)   c4 x 4 x 4
      1      Conv 3x3, + noise B, LReLU, AdaIN(A w)                  c4 x 4 x 4
      2      Upsample, Conv 3x3, + noise B, LReLU, AdaIN(A w)        c8 x 8 x 8
      3      Conv 3x3, + noise B, LReLU, AdaIN(A w)                  c8 x 8 x 8
      4, 5   as 2, 3                                                 c16 x 16 x 16
      6, 7   as 2, 3                                                 c32 x 32 x 32
             Conv 1x1 (toRGB, gain 1), linear                        1 x 32 x 32
    (every layer equalized; LReLU slope 0.2; noise weights start at 0, AdaIN scales at 1; each
    convolution's bias is added with the noise, before the activation, as in the reference code)

Layers 0-3 (4 x 4 and 8 x 8) are the "coarse" styles, 4-5 (16 x 16) "middle", 6-7 (32 x 32) "fine".

Training (the paper's FFHQ recipe): non-saturating logistic loss, R1 penalty gamma/2 E|grad D(x)|^2
on real images (gamma 10), style-mixing regularisation (with probability 0.9 a second latent takes
over the layers from a random crossover point on), Adam lr 1e-3, betas (0, 0.99), eps 1e-8; the
mapping network learns 100 x slower (lr multiplier 0.01). The running mean of w (``w_avg``, decay
0.995) gives the truncation trick: w' = w_avg + psi (w - w_avg) on layers below
``truncation_cutoff``; psi = 0 gives the "mean image" g(w_avg). D is ProGAN's critic at full
resolution, without growing. What we leave out: progressive growing (we train at 32 x 32 from the
start, as StyleGAN2 does) and the blur after upsampling. Images: Fashion-MNIST padded to 32 x 32, in
[-1, 1].
"""

import itertools
import os
from typing import ClassVar

import numpy as np

from .. import data as sgdata
from .. import functional as F
from .. import nn, viz
from ..autograd import no_grad
from ..random import Generator as RandomGenerator
from ..tensor import ones, zeros
from .gan_base import GAN
from .parts import crop_to, frozen, pad_to, r1_penalty, seeded_subset
from .parts.progressive import SLOPE, DBlock, DLast, FromRGB

PICTURE_NOISE_SEED = 12345  # the same noise maps in every per-epoch picture


class MappingNetwork(nn.Module):
    """f: z -> w, pixel norm then ``depth`` equalized fully-connected layers with LReLU 0.2."""

    def __init__(self, z_dim, w_dim, depth=8, lr_mul=0.01, generator=None):
        super().__init__()
        layers = []
        for i in range(depth):
            layers += [
                nn.EqualizedLinear(
                    z_dim if i == 0 else w_dim, w_dim, lr_mul=lr_mul, generator=generator
                ),
                nn.LeakyReLU(SLOPE),
            ]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(F.pixel_norm(z))


class StyleLayer(nn.Module):
    """One synthesis layer: [upsample x2] [Conv 3x3], + noise (per-channel weights B), LReLU 0.2,
    AdaIN(A w).

    ``conv=False`` is the first layer, which works on the learned constant directly.
    """

    def __init__(self, in_channels, out_channels, w_dim, conv=True, upsample=False, generator=None):
        super().__init__()
        self.upsample = upsample
        self.conv = (
            nn.EqualizedConv2d(in_channels, out_channels, 3, padding=1, generator=generator)
            if conv
            else None
        )
        self.noise = nn.NoiseInjection(out_channels)
        self.adain = nn.AdaIN(out_channels, w_dim, generator=generator)

    def forward(self, x, w, noise=None, generator=None):
        if self.upsample:
            x = F.interpolate(x, 2)
        if self.conv is not None:
            x = self.conv(x)
        x = self.noise(x, noise=noise, generator=generator)
        return self.adain(F.leaky_relu(x, SLOPE), w)


class SynthesisNetwork(nn.Module):
    """g: per-layer styles ws (a list of (N, w_dim), one per layer) -> images; noise drawn from
    ``generator`` unless given (a list of (N, 1, H, W) maps or None per layer)."""

    def __init__(self, w_dim, channels, image_channels=1, generator=None):
        super().__init__()
        c0 = channels[0]
        self.const = nn.Parameter(ones(1, c0, 4, 4))
        layers = [
            StyleLayer(c0, c0, w_dim, conv=False, generator=generator),
            StyleLayer(c0, c0, w_dim, generator=generator),
        ]
        for c_in, c_out in itertools.pairwise(channels):
            layers += [
                StyleLayer(c_in, c_out, w_dim, upsample=True, generator=generator),
                StyleLayer(c_out, c_out, w_dim, generator=generator),
            ]
        self.layers = nn.ModuleList(layers)
        self.to_rgb = nn.EqualizedConv2d(
            channels[-1], image_channels, 1, gain=1.0, generator=generator
        )

    @property
    def num_layers(self):
        return len(self.layers)

    def noise_shapes(self, n):
        """The (N, 1, H, W) shape of each layer's noise input."""
        sides = [4, 4] + [4 * 2 ** (i // 2 + 1) for i in range(len(self.layers) - 2)]
        return [(n, 1, s, s) for s in sides]

    def forward(self, ws, noise=None, generator=None):
        if len(ws) != len(self.layers):
            raise ValueError(
                f"synthesis: expected {len(self.layers)} styles (one per layer), got {len(ws)}"
            )
        noise = noise if noise is not None else [None] * len(self.layers)
        n = ws[0].shape[0]
        x = self.const.expand(n, *self.const.shape[1:])
        for layer, w, nz in zip(self.layers, ws, noise):
            x = layer(x, w, nz, generator)
        return self.to_rgb(x)


class StyleGenerator(nn.Module):
    """mapping + synthesis, with the running mean ``w_avg`` (a buffer) for truncation.

    forward(z, psi=1.0, cutoff=None, z_mix=None, crossover=None, noise=None, generator=None):
      z_mix, crossover: style mixing, layers >= crossover take their style from f(z_mix);
      psi, cutoff: truncation w_avg + psi (w - w_avg) on layers < cutoff (default: all).
    """

    def __init__(
        self, z_dim, w_dim, mapping_depth, channels, image_channels=1, lr_mul=0.01, generator=None
    ):
        super().__init__()
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_depth, lr_mul, generator)
        self.synthesis = SynthesisNetwork(w_dim, channels, image_channels, generator)
        self.register_buffer("w_avg", zeros(w_dim))

    @property
    def num_layers(self):
        return self.synthesis.num_layers

    def styles(self, z, z_mix=None, crossover=None):
        """The per-layer list of w for z (mixed with z_mix from layer ``crossover`` on)."""
        w = self.mapping(z)
        ws = [w] * self.num_layers
        if z_mix is not None:
            w2 = self.mapping(z_mix)
            ws = [w if i < crossover else w2 for i in range(self.num_layers)]
        return ws

    def truncate(self, ws, psi, cutoff=None):
        cutoff = self.num_layers if cutoff is None else cutoff
        avg = self.w_avg
        return [avg + (w - avg) * psi if i < cutoff else w for i, w in enumerate(ws)]

    def forward(
        self, z, psi=1.0, cutoff=None, z_mix=None, crossover=None, noise=None, generator=None
    ):
        ws = self.styles(z, z_mix, crossover)
        if psi != 1.0:
            ws = self.truncate(ws, psi, cutoff)
        return self.synthesis(ws, noise, generator)


class Discriminator(nn.Module):
    """ProGAN's critic at a fixed resolution: fromRGB, then per resolution Conv 3x3, Conv 3x3,
    average pool, then minibatch stddev, Conv 3x3, Conv 4x4, fully-connected (progan's table)."""

    def __init__(self, channels, image_channels=1, group_size=4, generator=None):
        super().__init__()
        self.from_rgb = FromRGB(image_channels, channels[-1], generator)
        self.blocks = nn.ModuleList(
            [
                DBlock(channels[s], channels[s - 1], generator)
                for s in range(len(channels) - 1, 0, -1)
            ]
        )
        self.last = DLast(channels[0], group_size, generator)

    def forward(self, x):
        h = self.from_rgb(x)
        for block in self.blocks:
            h = block(h)
        return self.last(h)


class StyleGAN(GAN):
    """stylegan: see the module docstring."""

    data_range = (-1.0, 1.0)
    loss_presets: ClassVar[dict] = {}  # always the logistic loss with R1
    options: ClassVar[dict] = {"ema_decay": 0.0}  # its own train_step: of the tricks, only EMA
    recipe_types: ClassVar[dict] = {}  # nor does d_batches
    recipe: ClassVar[dict] = {
        "epochs": 1,
        "batch_size": 16,
        "loss": "ns",
        "r1_gamma": 10.0,
        "optimizer": "adam",
        "lr": 1e-3,
        "betas": [0.0, 0.99],
        "eps": 1e-8,
        "codings_size": 64,  # z
        "w_dim": 64,
        "mapping_depth": 8,
        "mapping_lr_mul": 0.01,
        "channels": [64, 64, 32, 16],  # widths at 4, 8, 16, 32
        "resolution": 32,
        "group_size": 4,
        "mixing_prob": 0.9,
        "w_avg_beta": 0.995,
        "truncation_psi": 1.0,  # for sample() (and so FID); the figures show others
        "truncation_cutoff": None,
        "train_images": 24000,  # a fixed random subset of the training split per epoch (0: all)
    }
    # --recipe full (docs/RESULTS.md: why): 3 x 44,000 images (the default 24,000 once), 8,250 steps
    # ~ 4,500 CPU s at 1 thread (6,700 at 1.5 x); EMA 0.999 (the paper's 10,000-image half-life).
    recipes: ClassVar[dict] = {
        "full": dict(train_images=44000, epochs=3, ema_decay=0.999, checkpoint_every=500)
    }

    def __init__(self, config, generator):
        self.resolution = config.get("resolution", 32)
        if 4 * 2 ** (len(config["channels"]) - 1) != self.resolution:
            raise ValueError(
                f"stylegan: {len(config['channels'])} channel widths make "
                f"{4 * 2 ** (len(config['channels']) - 1)}x that size, but resolution is "
                f"{self.resolution}"
            )
        super().__init__(config, generator)

    def build_networks(self, generator):
        c, C = self.config, self.image_shape[0]
        sizes = (self.codings_size, c["w_dim"], c["mapping_depth"], c["channels"])
        G = StyleGenerator(*sizes, C, c.get("mapping_lr_mul", 0.01), generator)
        D = Discriminator(c["channels"], C, c.get("group_size", 4), generator)
        return G, D

    def to_input(self, images):
        return self.floats(sgdata.to_tanh_range(pad_to(sgdata.to_float(images), self.resolution)))

    def loader_arrays(self, images, labels):
        n = self.config.get("train_images", 0)
        if n and n < len(images):
            images = images[seeded_subset(len(images), n, self.config["seed"])]
        return (images,)

    def generate(self, z, labels=None, psi=None, generator=None):
        psi = self.config.get("truncation_psi", 1.0) if psi is None else psi
        return self.G(
            z, psi, self.config.get("truncation_cutoff"), generator=generator or self.generator
        )

    # ----- training
    def mixed(self, n):
        """G's keyword arguments for a training batch: with probability mixing_prob a second latent
        and a crossover layer drawn uniformly from 1 .. num_layers - 1 (one per batch, as the
        reference code)."""
        p = self.config.get("mixing_prob", 0.0)
        if p and float(self.generator.uniform((), np.float64)) < p:
            crossover = int(self.generator.integers(1, self.G.num_layers, ()))
            return {"z_mix": self.noise(n), "crossover": crossover}
        return {}

    def fake_batch(self, n):
        return self.G(self.noise(n), generator=self.generator, **self.mixed(n))

    def update_w_avg(self, z):
        beta = self.config.get("w_avg_beta", 0.995)
        with no_grad():
            w = self.G.mapping(z).mean(0)
            self.G.w_avg._data = (w + (self.G.w_avg - w) * beta).array

    def train_step(self, batch, ctx):
        c = self.config
        real = self.to_input(batch[0])
        n = real.shape[0]
        with no_grad():
            fake = self.fake_batch(n)
        # D: logistic loss softplus(D(fake)) + softplus(-D(real)), plus R1 on the real images
        self.opt_d.zero_grad()
        real.requires_grad = True
        real_out, fake_out = self.D(real), self.D(fake)
        r1 = r1_penalty(real_out, real)
        loss_d = (
            F.softplus(fake_out).mean() + F.softplus(-real_out).mean() + r1 * (c["r1_gamma"] / 2)
        )
        loss_d.backward()
        self.opt_d.step()
        # G: softplus(-D(G(z))) through a frozen D
        self.opt_g.zero_grad()
        with frozen(self.D):
            kwargs = self.mixed(n)
            z = self.noise(n)
            fake_out = self.D(self.G(z, generator=self.generator, **kwargs))
            loss_g = F.softplus(-fake_out).mean()
            loss_g.backward()
        self.opt_g.step()
        self.update_w_avg(z)
        self.update_ema()
        return {
            "d_loss": loss_d.item(),
            "g_loss": loss_g.item(),
            "r1": r1.item(),
            "d_real": F.sigmoid(real_out.detach()).mean().item(),
            "d_fake": F.sigmoid(fake_out.detach()).mean().item(),
        }

    # ----- pictures and samples
    def picture(self, images, path, psi=1.0):
        with no_grad():
            out = self.generate(
                self.fixed_z, psi=psi, generator=RandomGenerator(PICTURE_NOISE_SEED)
            )
        viz.save_image_grid(self.to_unit(out), path, ncol=8)

    def sample(self, n, generator, labels=None, psi=None):
        """n images in [0, 1] in the data's shape (the centre of the 32 x 32 canvas); noise from
        ``generator``."""
        z = self.noise(n, generator)
        with no_grad():
            out = self.to_unit(self.generate(z, psi=psi, generator=generator))
        return crop_to(out, *self.image_shape[1:])

    def render(self, ws, noise=None, generator=None):
        """Images in [0, 1] (full 32 x 32 canvas) from a per-layer list of w."""
        with no_grad():
            return self.to_unit(
                self.G.synthesis(ws, noise, generator or RandomGenerator(PICTURE_NOISE_SEED))
            )

    def style_mixing(self, rows, cols, crossover, generator, noise_seed=PICTURE_NOISE_SEED):
        """The paper's Fig. 3 grid as an array (rows + 1) x (cols + 1) x C x H x W in [0, 1]: the
        top row are sources A (cols), the left column sources B (rows); cell (i, j) takes layers <
        crossover (the coarse styles) from B_i and the rest from A_j. Corner: blank. Same noise
        everywhere."""
        with no_grad():
            wa = self.G.mapping(self.noise(cols, generator))
            wb = self.G.mapping(self.noise(rows, generator))
        L = self.G.num_layers
        shapes = self.G.synthesis.noise_shapes(1)
        fixed = RandomGenerator(noise_seed)
        one = [self.floats(fixed.normal(s, np.float32)) for s in shapes]

        def noise_for(n):
            return [x.expand(n, *x.shape[1:]) for x in one]

        a = self.render([wa] * L, noise_for(cols))
        b = self.render([wb] * L, noise_for(rows))
        ii, jj = np.repeat(np.arange(rows), cols), np.tile(np.arange(cols), rows)
        mixed_ws = [wb[ii] if layer < crossover else wa[jj] for layer in range(L)]
        mixed = self.render(mixed_ws, noise_for(rows * cols))
        grid = np.ones((rows + 1, cols + 1) + a.shape[1:], dtype=np.float32)
        grid[0, 1:], grid[1:, 0] = a, b
        grid[1:, 1:] = mixed.reshape((rows, cols) + a.shape[1:])
        return grid

    def noise_variations(self, n_latents, n_noise, generator):
        """(images n_latents x n_noise, per-pixel std over many noise draws n_latents): the same w
        with different noise inputs, the paper's Fig. 4."""
        with no_grad():
            w = self.G.mapping(self.noise(n_latents, generator))
        draws = max(n_noise, 32)
        out = np.stack(
            [self.render([w] * self.G.num_layers, generator=generator) for _ in range(draws)],
            axis=1,
        )
        return out[:, :n_noise], out.std(axis=1)

    def truncation_strip(self, n, psis, generator):
        """n x len(psis) images: the same z and noise at each truncation psi (0: the mean image)."""
        z = self.noise(n, generator)
        with no_grad():
            rows = [
                self.generate(z, psi=p, generator=RandomGenerator(PICTURE_NOISE_SEED)) for p in psis
            ]
        return np.stack([self.to_unit(r) for r in rows], axis=1)


# ----- figures
def save_figures(model, folder, prefix="stylegan", seed=0):
    """style-mixing grids (coarse and fine crossovers), the noise figure and a truncation strip,
    as PNGs."""

    def save(grid, name):
        path = os.path.join(folder, f"{prefix}-{name}.png")
        flat = grid.reshape((-1,) + grid.shape[2:])
        return viz.save_image_grid(flat, path, ncol=grid.shape[1], scale=3)

    paths = []
    for name, crossover in (("mixing-coarse", 4), ("mixing-fine", model.G.num_layers - 2)):
        paths.append(save(model.style_mixing(5, 6, crossover, RandomGenerator(seed)), name))
    images, std = model.noise_variations(6, 6, RandomGenerator(seed + 1))
    std = std / max(float(std.max()), 1e-8)
    paths.append(save(np.concatenate([images, std[:, None]], axis=1), "noise"))
    strip = model.truncation_strip(6, [1.0, 0.7, 0.5, 0.25, 0.0], RandomGenerator(seed + 2))
    paths.append(save(strip, "truncation"))
    return paths


def main(argv=None):
    """python -m scratchgan.models.stylegan RUN [--out DIR]: the docs figures of a stylegan run."""
    import argparse

    from ..train import load_run

    parser = argparse.ArgumentParser(
        prog="python -m scratchgan.models.stylegan", description=main.__doc__
    )
    parser.add_argument("run")
    parser.add_argument("--out", default="docs/img")
    args = parser.parse_args(argv)
    model, _ = load_run(args.run)
    paths = save_figures(model, args.out)
    path = os.path.join(args.out, "stylegan-samples.png")
    model.picture(None, path)
    print("\n".join([*paths, path]))


if __name__ == "__main__":
    main()
