"""progan: Progressive Growing of GANs (Karras et al. 2018; GANs in Action ch. 6).

Training starts at 4 x 4 and grows G and D by one resolution at a time, 4 -> 8 -> 16 -> 32
(Fashion-MNIST padded from 28 to 32). Each new resolution first fades in: for ``fade_images``
images alpha rises linearly from 0 to 1 and

    G's output   = (1 - alpha) * upsample_nearest(toRGB_old(h_old))
                   + alpha * toRGB_new(block_new(h_old))
    D's features = (1 - alpha) * fromRGB_old(avg_pool(x)) + alpha * block_new(fromRGB_new(x))
    real images  = (1 - alpha) * upsample_nearest(avg_pool(x)) + alpha * x   (x at the new size)

then it trains ``stable_images`` images at alpha = 1 before the next one grows. Every layer has an
equalized learning rate (nn.EqualizedConv2d / EqualizedLinear: N(0, 1) weights scaled at run time by
gain / sqrt(fan_in)), every G convolution is followed by pixel norm, and the critic's last block
starts with minibatch standard deviation. Loss: WGAN-GP (lambda 10) plus the drift term 0.001
E[D(x)^2], one D step per G step, Adam lr 1e-3, betas (0, 0.99), eps 1e-8, optimiser state reset at
each growth.

The paper's Table 2, with widths c4, c8, c16, c32 (``channels``; the paper: 512 up to 64 x 64) and
latent size ``codings_size`` (the paper: 512):

    Generator                               act.      output           (stage)
      latent z, pixel norm                            codings x 1 x 1
      Conv 4x4 (a dense layer, gain sqrt2/4) LReLU    c4 x 4 x 4       0
      Conv 3x3                              LReLU     c4 x 4 x 4
      Upsample                                        c4 x 8 x 8       1
      Conv 3x3                              LReLU     c8 x 8 x 8
      Conv 3x3                              LReLU     c8 x 8 x 8
      Upsample, Conv 3x3, Conv 3x3          LReLU     c16 x 16 x 16    2
      Upsample, Conv 3x3, Conv 3x3          LReLU     c32 x 32 x 32    3
      Conv 1x1 (toRGB, gain 1)              linear    1 x 32 x 32
    (pixel norm after every convolution of G; LReLU slope 0.2)

    Discriminator
      Conv 1x1 (fromRGB)                    LReLU     c32 x 32 x 32    3
      Conv 3x3                              LReLU     c32 x 32 x 32
      Conv 3x3                              LReLU     c16 x 32 x 32
      Downsample (average pool 2)                     c16 x 16 x 16
      Conv 3x3, Conv 3x3, Downsample        LReLU     c8 x 8 x 8       2
      Conv 3x3, Conv 3x3, Downsample        LReLU     c4 x 4 x 4       1
      Minibatch stddev                                (c4 + 1) x 4 x 4 0
      Conv 3x3                              LReLU     c4 x 4 x 4
      Conv 4x4 (valid)                      LReLU     c4 x 1 x 1
      Fully-connected (gain 1)              linear    1
    (at stage s, D starts with fromRGB of stage s, runs the blocks s, s-1, ..., 1, then the last)

All stages are built at once, so a checkpoint always has the same arrays; the blocks and
toRGB/fromRGB layers of stages not yet reached simply get no gradient. The growth schedule counts
training images (``stable_images``, ``fade_images``); once the last stage is stable, training
continues there.
"""

import os
from typing import ClassVar

import numpy as np

from .. import data as sgdata
from .. import functional as F
from .. import nn, viz
from ..autograd import no_grad
from ..train import build_optimizer
from .gan_base import GAN
from .parts import crop_to, frozen, g_loss, gradient_penalty, pad_to, seeded_subset
from .parts.progressive import DBlock, DLast, FromRGB, GBlock, GFirst, lerp, to_rgb


# ----- the growth schedule
def schedule(images, stages, stable_images, fade_images):
    """(stage, alpha) after ``images`` training images.

    Stage 0 (4 x 4) trains ``stable_images``; each later stage fades in over ``fade_images`` (alpha
    rises linearly from 0) and then trains ``stable_images`` at alpha 1; the last stage stays.
    """
    if images < stable_images:
        return 0, 1.0
    phase = fade_images + stable_images
    stage, into = divmod(images - stable_images, phase)
    stage += 1
    if stage >= stages:
        return stages - 1, 1.0
    return int(stage), (min(into / fade_images, 1.0) if fade_images else 1.0)


def schedule_images(stages, stable_images, fade_images):
    """Images until the last stage is reached and stable."""
    return stable_images + (stages - 1) * (fade_images + stable_images)


# ----- the networks
class Generator(nn.Module):
    """ProGAN's G with every stage built; ``forward(z, stage, alpha)`` -> images at 4 * 2**stage."""

    def __init__(self, codings_size, channels, image_channels=1, generator=None):
        super().__init__()
        self.stages = len(channels)
        self.first = GFirst(codings_size, channels[0], generator)
        self.blocks = nn.ModuleList(
            [GBlock(channels[s - 1], channels[s], generator) for s in range(1, self.stages)]
        )
        self.to_rgb = nn.ModuleList([to_rgb(c, image_channels, generator) for c in channels])

    def forward(self, z, stage=None, alpha=1.0):
        stage = self.stages - 1 if stage is None else stage
        x = self.first(z)
        for s in range(1, stage):
            x = self.blocks[s - 1](x)
        if stage == 0:
            return self.to_rgb[0](x)
        new = self.to_rgb[stage](self.blocks[stage - 1](x))
        if alpha >= 1.0:
            return new
        old = F.interpolate(self.to_rgb[stage - 1](x), 2)
        return lerp(old, new, alpha)


class Discriminator(nn.Module):
    """ProGAN's critic with every stage built; ``forward(x, stage, alpha)`` for x at 4 * 2**stage ->
    (N, 1)."""

    def __init__(self, channels, image_channels=1, group_size=4, generator=None):
        super().__init__()
        self.stages = len(channels)
        self.from_rgb = nn.ModuleList([FromRGB(image_channels, c, generator) for c in channels])
        # blocks[s - 1] takes stage s's resolution down to stage s - 1's
        self.blocks = nn.ModuleList(
            [DBlock(channels[s], channels[s - 1], generator) for s in range(1, self.stages)]
        )
        self.last = DLast(channels[0], group_size, generator)

    def forward(self, x, stage=None, alpha=1.0):
        stage = self.stages - 1 if stage is None else stage
        side = 4 * 2**stage
        if x.shape[-2:] != (side, side):
            raise ValueError(
                f"progan D at stage {stage} takes {side}x{side} images, got shape {x.shape}"
            )
        h = self.from_rgb[stage](x)
        if stage > 0:
            h = self.blocks[stage - 1](h)
            if alpha < 1.0:
                h = lerp(self.from_rgb[stage - 1](F.avg_pool2d(x, 2)), h, alpha)
            for s in range(stage - 1, 0, -1):
                h = self.blocks[s - 1](h)
        return self.last(h)


class ProGAN(GAN):
    """progan: see the module docstring. Images in [-1, 1]; G's output is linear (no tanh)."""

    data_range = (-1.0, 1.0)
    loss_presets: ClassVar[dict] = {}  # always WGAN-GP with drift
    options: ClassVar[dict] = {"ema_decay": 0.0}  # its own train_step: of the tricks, only EMA
    recipe_types: ClassVar[dict] = {}  # nor does d_batches
    recipe: ClassVar[dict] = {
        "epochs": 1,
        "batch_size": 16,
        "loss": "wgan-gp",
        "gp_weight": 10.0,
        "drift": 0.001,
        "optimizer": "adam",
        "lr": 1e-3,
        "betas": [0.0, 0.99],
        "eps": 1e-8,
        "codings_size": 64,
        "channels": [64, 64, 32, 16],  # widths at 4, 8, 16, 32
        "resolution": 32,
        "group_size": 4,
        "stable_images": 5000,
        "fade_images": 5000,
        "reset_optimizers_on_growth": True,
        # the schedule: 5000 + 3 * (5000 + 5000); a fixed random subset of the split
        "train_images": 35000,
    }
    # --recipe full (docs/RESULTS.md: why; 220,000 images, 13,748 steps ~ 4,400 CPU s at 1 thread,
    # 6,600 at 1.5 x): 6 x the default's images per phase (the paper 800,000), EMA 0.999 (its Gs).
    recipes: ClassVar[dict] = {
        "full": dict(stable_images=30000, fade_images=30000, train_images=0, epochs=4)
        | dict(ema_decay=0.999, checkpoint_every=500)
    }

    def __init__(self, config, generator):
        self.resolution = config.get("resolution", 32)
        self.stages = len(config["channels"])
        if 4 * 2 ** (self.stages - 1) != self.resolution:
            raise ValueError(
                f"progan: {len(config['channels'])} channel widths grow 4x4 to "
                f"{4 * 2 ** (self.stages - 1)}, but resolution is {self.resolution}"
            )
        self.images_seen, self.stage, self.alpha = 0, 0, 1.0  # images seen: after the last step
        self.epoch_images = None  # the images of one epoch, known once loader_arrays has run
        self.optimizer_stage = 0  # the stage the optimisers' state belongs to
        self.history = []  # (images seen before the step, stage, alpha) per step
        self.snapshots = {}  # resolution -> fixed-z samples at the end of its stable phase
        super().__init__(config, generator)

    def build_networks(self, generator):
        C = self.image_shape[0]
        G = Generator(self.config["codings_size"], self.config["channels"], C, generator)
        D = Discriminator(self.config["channels"], C, self.config.get("group_size", 4), generator)
        return G, D

    # ----- the schedule
    def phase(self, images=None):
        c = self.config
        return schedule(
            self.images_seen if images is None else images,
            self.stages,
            c["stable_images"],
            c["fade_images"],
        )

    def images_before(self, ctx):
        """Images trained on before the step at ``ctx``: every batch holds batch_size images but the
        last of an epoch, which holds the rest of the epoch's images."""
        b = self.config["batch_size"]
        short = 0 if self.epoch_images is None else ctx.steps_per_epoch * b - self.epoch_images
        return ctx.step * b - ctx.epoch * short

    def set_phase(self, images):
        """Move to the stage and alpha after ``images`` images (snapshot and optimiser reset on
        growth)."""
        stage, alpha = self.phase(images)
        if stage != self.stage:
            with self.averaged():  # the snapshot shows what samples show
                self.snapshots[4 * 2**self.stage] = self.draw_fixed()
        self.stage, self.alpha = stage, alpha
        if stage != self.optimizer_stage and self.config.get("reset_optimizers_on_growth", True):
            self.opt_g = build_optimizer(list(self.G.parameters()), self.config, "g_")
            self.opt_d = build_optimizer(list(self.D.parameters()), self.config, "d_")
        self.optimizer_stage = stage

    # ----- G and D at the current stage
    def generate(self, z, labels=None):
        return self.G(z, self.stage, self.alpha)

    def critic(self, x, labels=None):
        return self.D(x, self.stage, self.alpha)

    def to_input(self, images):
        """uint8 images -> [-1, 1] floats at the current resolution, blended during fade-in as D's
        input."""
        x = sgdata.to_tanh_range(pad_to(sgdata.to_float(images), self.resolution))
        return self.floats(self.real_at(x, self.stage, self.alpha))

    def real_at(self, x, stage, alpha):
        """Float images N x C x R x R -> stage's resolution (average pooling), faded as G's output
        is."""
        n, c, r = x.shape[0], x.shape[1], x.shape[-1]
        side = 4 * 2**stage
        x = x.reshape(n, c, side, r // side, side, r // side).mean(axis=(3, 5), dtype=x.dtype)
        if stage == 0 or alpha >= 1.0:
            return x
        low = x.reshape(n, c, side // 2, 2, side // 2, 2).mean(axis=(3, 5), dtype=x.dtype)
        low = low.repeat(2, axis=2).repeat(2, axis=3)
        return (low + (x - low) * np.float32(alpha)).astype(x.dtype)

    def loader_arrays(self, images, labels):
        """The training images, or a random subset of ``train_images`` of them (chosen from the
        seed), so that one epoch is one pass through the growth schedule."""
        n = self.config.get("train_images", 0)
        if n and n < len(images):
            images = images[seeded_subset(len(images), n, self.config["seed"])]
        b = self.config["batch_size"]
        self.epoch_images = len(images) // b * b if self.config.get("drop_last") else len(images)
        return (images,)

    # ----- training
    def train_step(self, batch, ctx):
        seen = self.images_before(ctx)
        self.set_phase(seen)
        c = self.config
        real = self.to_input(batch[0])
        n = real.shape[0]
        with no_grad():
            fake = self.generate(self.noise(n))
        # the critic: WGAN-GP with drift, real and fake in separate passes (pure minibatch-stddev
        # groups)
        self.opt_d.zero_grad()
        real_out, fake_out = self.critic(real), self.critic(fake)
        wasserstein = real_out.mean() - fake_out.mean()
        gp = gradient_penalty(self.critic, real, fake, self.generator)
        drift = (real_out**2).mean()
        loss_d = -wasserstein + gp * c["gp_weight"] + drift * c["drift"]
        loss_d.backward()
        self.opt_d.step()
        # the generator, through a frozen critic
        self.opt_g.zero_grad()
        with frozen(self.D):
            loss_g = g_loss("wgan", self.critic(self.generate(self.noise(n))))
            loss_g.backward()
        self.opt_g.step()
        self.update_ema()
        self.history.append((seen, self.stage, self.alpha))
        self.images_seen = seen + n
        return {
            "d_loss": loss_d.item(),
            "g_loss": loss_g.item(),
            "wasserstein": wasserstein.item(),
            "gp": gp.item(),
        }

    # ----- pictures and samples at the full resolution
    def full_size(self, images):
        """G's output at the current stage, nearest-upsampled to the final resolution, in [0, 1]."""
        x = self.to_unit(images)
        k = self.resolution // x.shape[-1]
        return x.repeat(k, axis=2).repeat(k, axis=3) if k > 1 else x

    def draw_fixed(self):
        with no_grad():
            return self.to_unit(self.generate(self.fixed_z))

    def sample(self, n, generator, labels=None):
        """n images in [0, 1] in the data's shape (the centre of the 32 x 32 canvas, e.g. 28 x
        28)."""
        z = self.noise(n, generator)
        with no_grad():
            out = self.full_size(self.generate(z))
        return crop_to(out, *self.image_shape[1:])

    def picture(self, images, path):
        """The fixed-z samples (at the current stage, upsampled to 32 x 32), plus, beside them,
        resolutions.png (samples at every resolution grown through) and alpha.png (the schedule as
        run)."""
        viz.save_image_grid(self.full_size(sgdata.to_tanh_range(self.draw_fixed())), path, ncol=8)
        folder = os.path.dirname(path)
        save_resolutions(self, os.path.join(folder, "resolutions.png"))
        if self.history:
            save_alpha_plot(self, os.path.join(folder, "alpha.png"))

    def evaluate(self, images, labels=None):
        out = super().evaluate(images[:512], labels)
        return {**out, "resolution": 4 * 2**self.stage, "alpha": self.alpha}

    # ----- checkpoints
    def extra_state(self):
        state = super().extra_state()
        state["progress"] = np.array(
            [self.images_seen, self.stage, self.optimizer_stage], dtype=np.int64
        )
        state["alpha"] = np.float64(self.alpha)
        state["history"] = np.array(self.history, dtype=np.float64).reshape(-1, 3)
        for res, images in self.snapshots.items():
            state[f"snapshot_{res}"] = images
        return state

    def load_extra_state(self, state):
        super().load_extra_state(state)
        if "progress" in state:
            self.images_seen, self.stage, self.optimizer_stage = (int(v) for v in state["progress"])
            self.alpha = float(state["alpha"])
            self.history = [(int(i), int(s), float(a)) for i, s, a in state["history"]]
            self.snapshots = {
                int(k[len("snapshot_") :]): np.asarray(v)
                for k, v in state.items()
                if k.startswith("snapshot_")
            }


# ----- figures
def save_resolutions(model, path, n=8):
    """One row of ``n`` fixed-z samples per resolution grown through (each shown at 32 x 32,
    nearest), labelled with its resolution: the snapshots taken as each stage ended, then the
    current G."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sides = sorted(model.snapshots)
    rows = [model.full_size(sgdata.to_tanh_range(model.snapshots[r][:n])) for r in sides]
    rows.append(model.full_size(sgdata.to_tanh_range(model.draw_fixed()[:n])))
    sides.append(4 * 2**model.stage)
    picture = viz.mosaic(np.concatenate(rows), ncol=n)
    fig = Figure(figsize=(1.0 + 0.8 * n, 0.8 * len(rows) + 0.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.02, 0.88, 0.9))
    ax.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    step = picture.shape[0] / len(rows)
    ax.set_yticks(
        [step * (i + 0.5) for i in range(len(rows))],
        [
            f"{s}x{s}"
            + (f"\nalpha {model.alpha:.2f}" if i == len(rows) - 1 and model.alpha < 1 else "")
            for i, s in enumerate(sides)
        ],
    )
    ax.set_xticks([])
    ax.set_title("progan: the same latents at every resolution grown through", fontsize=9)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, format="png")
    return path


def save_alpha_plot(model, path):
    """alpha and the resolution against the images seen, one point per training step."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    h = np.array(model.history, dtype=np.float64)
    fig = Figure(figsize=(6.4, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(
        h[:, 0], h[:, 2], drawstyle="steps-post", label="alpha (fade-in weight of the newest block)"
    )
    ax.set_xlabel("training images seen")
    ax.set_ylabel("alpha")
    ax.set_ylim(-0.05, 1.1)
    ax2 = ax.twinx()
    ax2.step(h[:, 0], 4 * 2 ** h[:, 1], where="post", color="tab:orange", label="resolution")
    ax2.set_yscale("log", base=2)
    ax2.set_ylabel("resolution (pixels)")
    ax.legend(loc="lower right")
    ax2.legend(loc="center right")
    ax.set_title("progan growth schedule as trained")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, format="png")
    return path


def main(argv=None):
    """python -m scratchgan.models.progan RUN [--out DIR]: the docs figures of a progan run."""
    import argparse

    from ..train import load_run

    parser = argparse.ArgumentParser(
        prog="python -m scratchgan.models.progan", description=main.__doc__
    )
    parser.add_argument("run")
    parser.add_argument("--out", default="docs/img")
    args = parser.parse_args(argv)
    model, _ = load_run(args.run)
    paths = [
        save_resolutions(model, os.path.join(args.out, "progan-resolutions.png")),
        save_alpha_plot(model, os.path.join(args.out, "progan-alpha.png")),
        viz.save_image_grid(
            model.full_size(sgdata.to_tanh_range(model.draw_fixed())),
            os.path.join(args.out, "progan-samples.png"),
            ncol=8,
            scale=2,
        ),
    ]
    print("\n".join(paths))


if __name__ == "__main__":
    main()
