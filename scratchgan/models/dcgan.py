"""Deep convolutional GANs (Radford et al. 2016): dcgan (28x28, Hands-On ML ch. 17) and dcgan64 (the
paper's 64x64).

The DCGAN rules: strided convolutions instead of pooling (transposed in G), batch norm, no hidden
dense layers, ReLU in G with a tanh output, LeakyReLU in D; images scaled to [-1, 1].

dcgan, the book's small Fashion-MNIST DCGAN (codings 100; Keras "same" padding as PyTorch padding 2,
plus output_padding 1 in the transposed convolutions so that each doubles the size):

    G  Dense 100 -> 7*7*128, reshape 128 x 7 x 7, BatchNorm
       ConvTranspose 128 -> 64, k5 s2      14 x 14, SELU, BatchNorm
       ConvTranspose 64 -> C, k5 s2        28 x 28, tanh
    D  Conv C -> 64, k5 s2                 14 x 14, LeakyReLU 0.2, Dropout 0.4
       Conv 64 -> 128, k5 s2               7 x 7,   LeakyReLU 0.2, Dropout 0.4
       Flatten, Dense 6272 -> 1            (the sigmoid is in the loss)

    Recipe: the book's: BCE (ns), Keras "rmsprop" (lr 1e-3, rho 0.9, eps 1e-7) for both, batch 32,
    Keras initialisation (glorot_uniform kernels, zero biases) and Keras batch norm (momentum 0.99,
    i.e. PyTorch momentum 0.01, eps 1e-3). One D pass over [fake; real] (D has no batch norm).
    Recipe keys beyond the book: ``d_dropout`` (0: none), ``d_batch_norm`` (BatchNorm after D's
    second conv, as the WGAN paper's critic), ``d_minibatch_stddev`` (ProGAN's, before the Dense).

dcgan64, the paper's generator and discriminator (width w = 64 as PyTorch's DCGAN example; the paper
used 128; ``width`` is a recipe key):

    G  z (100) as 100 x 1 x 1
       ConvTranspose 100 -> 8w, k4 s1 p0   4 x 4,   BatchNorm, ReLU
       ConvTranspose 8w -> 4w, k4 s2 p1    8 x 8,   BatchNorm, ReLU
       ConvTranspose 4w -> 2w, k4 s2 p1    16 x 16, BatchNorm, ReLU
       ConvTranspose 2w -> w, k4 s2 p1     32 x 32, BatchNorm, ReLU
       ConvTranspose w -> C, k4 s2 p1      64 x 64, tanh
    D  Conv C -> w, k4 s2 p1               32 x 32, LeakyReLU 0.2      (no batch norm on D's input)
       Conv w -> 2w, k4 s2 p1              16 x 16, BatchNorm, LeakyReLU 0.2
       Conv 2w -> 4w, k4 s2 p1             8 x 8,   BatchNorm, LeakyReLU 0.2
       Conv 4w -> 8w, k4 s2 p1             4 x 4,   BatchNorm, LeakyReLU 0.2
       Conv 8w -> 1, k4 s1 p0              1 x 1 (the logit)

    Recipe: Adam lr 2e-4, beta1 0.5; batch 128; every conv weight ~ N(0, 0.02), batch-norm scales
    ~ N(1, 0.02), biases 0 (convolutions before batch norm have none). D sees real and fake batches
    in separate passes, so its batch norm never mixes them. Images of another size (Fashion-MNIST's
    28 x 28) are resized to ``image_size`` (64) bilinearly, batch by batch.

Both take ``--loss mm|ns|wgan|wgan-gp|ls`` and the tricks of ``gan_base.GAN``. The registry's wgan,
wgan-gp and lsgan are dcgan with that loss's preset (classes WGAN, WGANGP, LSGAN below).
"""

from typing import ClassVar

from .. import data as sgdata
from .. import nn
from ..data.transforms import resize
from .gan_base import GAN
from .parts import keras_batch_norm, minibatch_stddev_layers, require_separate_batches


def dcgan_init_(module, generator):
    """Radford et al.: conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02, generator=generator)
            nn.init.zeros_(m.bias)
    return module


class DCGAN(GAN):
    """dcgan: the Hands-On ML ch. 17 DCGAN for 28 x 28 images (see the module docstring)."""

    data_range = (-1.0, 1.0)
    recipe: ClassVar[dict] = {
        "epochs": 2,
        "batch_size": 32,
        "loss": "ns",
        "optimizer": "rmsprop",
        "lr": 1e-3,
        "alpha": 0.9,
        "eps": 1e-7,
        "codings_size": 100,
        "init": "glorot",
        "d_batches": "joint",
        "d_dropout": 0.4,  # after each of D's conv layers (the book); 0: no dropout layers
        "d_minibatch_stddev": False,  # not in the book: ProGAN's layer before D's last (parts)
        "d_batch_norm": False,  # not in the book: batch norm after D's second conv (the DCGAN rule)
    }
    # `train dcgan [--loss L] --recipe full` (also wgan, wgan-gp, lsgan --recipe full): sized to
    # <= 2 h on one core at 1.5 x the CPU time per step measured with 1 BLAS thread (process_time,
    # median of 6 steps after 2 warm-up steps, 2026-12-01, machine loaded: load average 6 to 17).
    # The default (2 epochs; the loss study 1) stopped long before convergence.
    recipes: ClassVar[dict] = {
        # ns, mm, ls: 0.253 CPU s/step -> 17,180 steps ~ 4,350 s CPU (6,520 s at 1.5 x);
        # checkpoints every 1,000 steps (~4 min) so an interruption loses little.
        # No EMA: G has batch norm, whose running statistics belong to the trained weights,
        # not to an average of them.
        "full": {"epochs": 10, "checkpoint_every": 1000},
        # ns and ls: plus a minibatch standard deviation in D (ProGAN's; D then sees real and fake
        # batches apart). Over the first 3,436 steps (seed 0) it took ls from FID 215.2 to 173.1
        # and left ns where it was (168.6 -> 168.0); Adam 2e-4 (372.1), a linear lr decay over
        # the second half (178.1) and G's EMA 0.999 (185.5) did not help ns (docs/RESULTS.md).
        # Full runs: ns 118.8 (142.0 without it), ls 119.3 (160.1). Not for mm, whose full run
        # (FID 106.9) predates it. ns also decays every lr linearly to 0 over the second half,
        # which over the full run took it from 118.8 to 89.5 (seed 0; over 3,436 steps it had not
        # helped: 178.1 against 168.6).
        "full/ns": {"d_batches": "separate", "d_minibatch_stddev": True, "lr_decay_start": 0.5},
        "full/ls": {"d_batches": "separate", "d_minibatch_stddev": True},
        # wgan (the WGAN paper, Arjovsky et al. 2017: RMSprop, clip 0.01, as the wgan loss preset).
        # The paper's critic has batch norm (d_batch_norm, so D sees real and fake batches apart)
        # and no dropout; without batch norm, weights clipped to [-0.01, 0.01] shrink every layer's
        # output and the critic can hardly tell images apart. Deviations: lr 5e-4 (the paper
        # 5e-5), n_critic 1 (5, and 100 before each of the first 25 and every 500th G step) and
        # the lr decay over the second half (as ns). The paper's settings over 17 epochs (~5,300
        # G steps) scored FID 545.7, still blobs. One epoch (seed 0): the loss study's settings
        # (the paper's lr and n_critic, the book's critic) 586.9; lr 1e-3, n_critic 1, no dropout
        # 486.2; + batch norm (lr 5e-4) 302.7. Full runs (seed 0): 10 epochs 159.9, 20 epochs
        # 136.6, 15 epochs decaying from the 5th 137.6 (docs/RESULTS.md).
        "full/wgan": {
            "epochs": 20,
            "lr": 5e-4,
            "n_critic": 1,
            "d_dropout": 0.0,
            "d_batches": "separate",
            "d_batch_norm": True,
            "lr_decay_start": 0.5,
        },
        # wgan-gp (Gulrajani et al. 2017: Adam betas (0.5, 0.9), lambda 10, as the preset).
        # Deviations: lr 1e-3 (the paper 1e-4), n_critic 1 (5) and no dropout in the critic. The
        # paper's settings gave blobs after ~3,090 G steps (FID 459.4): Adam at 1e-4 moves G about
        # a tenth as far per step as the book's RMSprop 1e-3, on a fifth of the steps. One epoch
        # (seed 0): the preset 510.0, lr 1e-3 454.9, + n_critic 1 (lr 5e-4) 389.4, + no dropout
        # 341.4 (lr 5e-4) and 246.8 (lr 1e-3), against ns's 202.7 (docs/RESULTS.md).
        "full/wgan-gp": {"epochs": 10, "lr": 1e-3, "n_critic": 1, "d_dropout": 0.0},
    }

    def build_networks(self, generator):
        C, H, W = self.image_shape
        if H % 4 or W % 4:
            raise ValueError(
                "dcgan: image height and width must be multiples of 4 (two stride-2 layers), got "
                f"{H}x{W}"
            )
        h, w = H // 4, W // 4
        G = nn.Sequential(
            nn.Linear(self.codings_size, 128 * h * w, generator=generator),
            nn.Unflatten(1, (128, h, w)),
            keras_batch_norm(128),
            nn.ConvTranspose2d(
                128, 64, 5, stride=2, padding=2, output_padding=1, generator=generator
            ),
            nn.SELU(),
            keras_batch_norm(64),
            nn.ConvTranspose2d(
                64, C, 5, stride=2, padding=2, output_padding=1, generator=generator
            ),
            nn.Tanh(),
        )
        p = self.config.get("d_dropout", 0.4)  # runs from before the option: the book's 0.4
        dropout = lambda: [nn.Dropout(p, generator=generator)] if p else []  # noqa: E731
        stddev = minibatch_stddev_layers(self.config)  # [] unless on: one more channel
        D = nn.Sequential(
            nn.Conv2d(C, 64, 5, stride=2, padding=2, generator=generator),
            nn.LeakyReLU(0.2),
            *dropout(),
            nn.Conv2d(64, 128, 5, stride=2, padding=2, generator=generator),
            *self.d_batch_norm_layers(128),
            nn.LeakyReLU(0.2),
            *dropout(),
            *stddev,
            nn.Flatten(),
            nn.Linear((128 + (1 if stddev else 0)) * h * w, 1, generator=generator),
        )
        return G, D

    def d_batch_norm_layers(self, channels):
        """[] unless ``d_batch_norm``: then BatchNorm2d (PyTorch's defaults) before the activation,
        as the WGAN paper's DCGAN critic has. Without it, weight clipping to [-c, c] shrinks every
        layer's output, so a clipped critic can hardly tell images apart. Batch norm mixes a batch,
        so D must see real and fake batches apart, and the gradient penalty (per image) cannot be
        used with it (Gulrajani et al. 2017, section 4)."""
        if not self.config.get("d_batch_norm"):
            return []
        require_separate_batches(self.config, "d_batch_norm", "in its statistics")
        if self.config["loss"] == "wgan-gp":
            raise ValueError(
                "d_batch_norm: not with loss 'wgan-gp' (its penalty is on each image's gradient, "
                "which batch norm mixes across the batch); expected another loss"
            )
        return [nn.BatchNorm2d(channels)]


class DCGAN64(GAN):
    """dcgan64: Radford et al.'s 64 x 64 DCGAN (see the module docstring)."""

    data_range = (-1.0, 1.0)
    recipe: ClassVar[dict] = {
        "epochs": 1,
        "batch_size": 128,
        "loss": "ns",
        "optimizer": "adam",
        "lr": 2e-4,
        "betas": [0.5, 0.999],
        "eps": 1e-8,
        "codings_size": 100,
        "width": 64,
        "image_size": 64,
        "init": "dcgan",
        "d_batches": "separate",
    }
    # `train dcgan64 --recipe full`: 1.40 CPU s/step at width 32, batch 64 (1 BLAS thread,
    # measured as dcgan's) -> 3,436 steps ~ 4,800 s CPU (7,200 s at 1.5 x). Deviations: width 32
    # (the paper 128, PyTorch's example 64) and batch 64 (the paper 128): at width 64 and batch
    # 128 a step costs about 7 s (benchmarks/results/train-step-cpu-threads1.md: 3.56 s at batch
    # 64), so 2 h would buy about 1,000 steps; the smaller network gets 3.4 x as many.
    recipes: ClassVar[dict] = {
        "full": {"width": 32, "batch_size": 64, "epochs": 4, "checkpoint_every": 200},
    }

    def __init__(self, config, generator):
        config = dict(config)
        size = config.get("image_size", 64)
        if size != 64:
            raise ValueError(
                f"dcgan64: image_size must be 64 (four stride-2 layers from 4 x 4), got {size}"
            )
        channels, *_ = config.get("image_shape", (1, 28, 28))
        config["image_shape"] = [channels, size, size]
        super().__init__(config, generator)

    def build_networks(self, generator):
        C, w, nz = self.image_shape[0], self.config.get("width", 64), self.codings_size

        def up(cin, cout, stride, padding):
            return [
                nn.ConvTranspose2d(cin, cout, 4, stride, padding, bias=False, generator=generator),
                nn.BatchNorm2d(cout),
                nn.ReLU(),
            ]

        def down(cin, cout, norm=True):
            return [
                nn.Conv2d(cin, cout, 4, 2, 1, bias=False, generator=generator),
                *([nn.BatchNorm2d(cout)] if norm else []),
                nn.LeakyReLU(0.2),
            ]

        G = nn.Sequential(
            nn.Unflatten(1, (nz, 1, 1)),
            *up(nz, 8 * w, 1, 0),
            *up(8 * w, 4 * w, 2, 1),
            *up(4 * w, 2 * w, 2, 1),
            *up(2 * w, w, 2, 1),
            nn.ConvTranspose2d(w, C, 4, 2, 1, bias=False, generator=generator),
            nn.Tanh(),
        )
        D = nn.Sequential(
            *down(C, w, norm=False),
            *down(w, 2 * w),
            *down(2 * w, 4 * w),
            *down(4 * w, 8 * w),
            nn.Conv2d(8 * w, 1, 4, 1, 0, bias=False, generator=generator),
            nn.Flatten(),
        )
        return G, D

    def init_weights(self, generator):
        if self.config.get("init") == "dcgan":
            dcgan_init_(self.G, generator)
            dcgan_init_(self.D, generator)

    def to_input(self, images):
        x = resize(sgdata.to_float(images), self.image_shape[-1])
        return self.floats(sgdata.to_tanh_range(x))


# ----- the registry's aliases: dcgan with a loss preset, i.e. `train dcgan --loss ...`
class WGAN(DCGAN):
    """wgan: dcgan with the Wasserstein critic and weight clipping (RMSprop 5e-5, clip 0.01,
    n_critic 5)."""

    recipe: ClassVar[dict] = {**DCGAN.recipe, **GAN.loss_presets["wgan"]}


class WGANGP(DCGAN):
    """wgan-gp: dcgan with the Wasserstein critic and gradient penalty 10 (Adam 1e-4, betas (0.5,
    0.9), n_critic 5)."""

    recipe: ClassVar[dict] = {**DCGAN.recipe, **GAN.loss_presets["wgan-gp"]}


class LSGAN(DCGAN):
    """lsgan: dcgan with the least-squares loss."""

    recipe: ClassVar[dict] = {**DCGAN.recipe, **GAN.loss_presets["ls"]}
