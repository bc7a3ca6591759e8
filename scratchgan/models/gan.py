"""gan: the book's MLP GAN (Hands-On ML ch. 17); the family's base, ``GAN``, is in gan_base.py.

MLPGAN   gan: G Dense 100 SELU, Dense 150 SELU, Dense 784 sigmoid, reshape (codings 30);
              D Flatten, Dense 150 SELU, Dense 100 SELU, Dense 1 (sigmoid applied by the losses)
"""

import math
from typing import ClassVar

from .. import nn
from .gan_base import GAN
from .parts import dense_stack, minibatch_stddev_layers

__all__ = ["GAN", "MLPGAN"]


class MLPGAN(GAN):
    """gan (Hands-On ML ch. 17): the book's dense generator and discriminator on Fashion-MNIST in
    [0, 1].

    The book's recipe: BCE, keras "rmsprop" for both networks (lr 1e-3, rho 0.9, eps 1e-7), batch
    32, codings 30, Keras initialisation (glorot_uniform, zero biases). Keras 2's RMSprop without
    momentum divides by sqrt(v) + eps, as PyTorch's does (TF's fused kernel, used with momentum,
    puts eps inside the sqrt); with eps = 1e-7 either placement changes nothing visible. The book
    trains 50 epochs; our default is fewer (see ``recipe``), chosen so that `scratchgan train gan`
    takes minutes on 2 CPU cores.

    Two deviations, both against the salt-and-pepper noise of the book's recipe (after 2 epochs 19%
    of generated pixels above 0.95 against the data's 2%, and the mean sample's neighbour
    differences 3.5x the data's):

    - ``ema_decay`` 0.999: pictures, samples and metrics come from an exponential moving average
      of G's weights (GAN's ema_decay). G's own weights never settle: each RMSprop step moves
      every weight by about lr, D answers the pixels G got wrong, and G's 784 independent sigmoid
      outputs chase it, so many pixels flip between 0 and 1 from step to step. The average over
      the last ~1000 G steps cancels that oscillation: clean garments after one epoch.
    - lr 5e-4, not 1e-3: at 1e-3 G's output logits keep growing (std 21 after 5 epochs), so even
      the average draws 18% of its pixels saturated, garments pure white or black; at 5e-4, 11%.

    Adam (2e-4, beta1 0.5), lower rates without the average, batch 128, LeCun init for SELU,
    instance noise and label smoothing each left the noise in place after 1-3 epochs. The default
    5 epochs (`make demo`) score FID 522 with the average against 663 without it (own classifier,
    10,000 samples, seed 0; the book's recipe: 722); 10 epochs: 529, so the rest is not time.

    ``hidden_sizes`` (default the book's [100, 150]) widens G's hidden layers, D's mirrored;
    ``hidden_activation`` and ``g_batch_norm`` give the usual PyTorch MLP GAN (LeakyReLU 0.2,
    batch norm in G). ``d_minibatch_stddev`` puts ProGAN's minibatch standard deviation before D's
    last layer (``parts.minibatch_stddev_layers``), against G's collapse onto a few garments; the
    full preset uses each of these options (docs/RESULTS.md, "The MLP GAN").
    """

    recipe: ClassVar[dict] = {
        "epochs": 5,
        "batch_size": 32,
        "loss": "ns",
        "optimizer": "rmsprop",
        "lr": 5e-4,  # the book: 1e-3 (keras "rmsprop"); see the docstring
        "alpha": 0.9,
        "eps": 1e-7,
        "codings_size": 30,
        "hidden_sizes": [100, 150],  # G's hidden layers; D's are the same, reversed
        "hidden_activation": "selu",  # or leaky_relu (slope 0.2), in both networks
        "g_batch_norm": False,  # not in the book: batch norm after each of G's hidden layers
        "init": "glorot",
        "ema_decay": 0.999,  # not in the book: G's weight average cancels its pixel noise
        "d_minibatch_stddev": False,  # not in the book: ProGAN's layer before D's last (parts)
    }

    # `train gan --recipe full` (issue 18): the usual PyTorch MLP GAN's layers on the book's
    # optimiser, and a minibatch standard deviation in D. Wider layers (G 30-256-512-1024-784, D
    # mirrored), LeakyReLU 0.2 and batch norm in G, no EMA (G has batch norm; see dcgan's preset),
    # 20 epochs. Without the minibatch standard deviation G collapses onto a few kinds of garment
    # (FID 515-590 at every epoch from 1 to 10 on one machine, 549.5 after 20); with it, 5 epochs
    # score 223.8 against 378.8 without, and 20 epochs 206.9 and 193.1 (seeds 0, 1; 9 classes of
    # 10: pullovers come out as shirts). Decaying every lr linearly to 0 over the second half
    # (epochs 11-20) then took seed 0 to 125.1 with 10 classes (docs/RESULTS.md, "The MLP GAN").
    # Deviations from the book: all of the above; D sees real and fake batches apart, as the
    # minibatch layer requires.
    recipes: ClassVar[dict] = {
        "full": {
            "epochs": 20,
            "hidden_sizes": [256, 512, 1024],
            "hidden_activation": "leaky_relu",
            "g_batch_norm": True,
            "ema_decay": 0.0,
            "d_batches": "separate",
            "d_minibatch_stddev": True,
            "lr_decay_start": 0.5,
            "checkpoint_every": 2000,
        }
    }

    def build_networks(self, generator):
        pixels = math.prod(self.image_shape)
        c = self.config
        hidden = list(c.get("hidden_sizes", [100, 150]))  # runs from before the option
        name = c.get("hidden_activation", "selu")
        if name not in ACTIVATIONS:
            expected = ", ".join(ACTIVATIONS)
            raise ValueError(f"hidden_activation {name!r}: expected one of {expected}")
        act, norm = ACTIVATIONS[name], nn.BatchNorm1d if c.get("g_batch_norm") else None
        G = nn.Sequential(
            *dense_stack([self.codings_size, *hidden, pixels], act, nn.Sigmoid, generator, norm),
            nn.Unflatten(1, self.image_shape),
        )
        stddev = minibatch_stddev_layers(c, features=hidden[0])  # [] unless on: one more feature
        D = nn.Sequential(
            nn.Flatten(),
            *dense_stack([pixels, *hidden[::-1]], act, act, generator),
            *stddev,
            nn.Linear(hidden[0] + (1 if stddev else 0), 1, generator=generator),
        )
        return G, D


ACTIVATIONS = {"selu": nn.SELU, "leaky_relu": lambda: nn.LeakyReLU(0.2)}
