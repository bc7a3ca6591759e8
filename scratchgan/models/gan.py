"""gan: the book's MLP GAN (Hands-On ML ch. 17); the family's base, ``GAN``, is in gan_base.py.

MLPGAN   gan: G Dense 100 SELU, Dense 150 SELU, Dense 784 sigmoid, reshape (codings 30);
              D Flatten, Dense 150 SELU, Dense 100 SELU, Dense 1 (sigmoid applied by the losses)
"""

import math
from typing import ClassVar

from .. import nn
from .gan_base import GAN
from .parts import dense_stack

__all__ = ["GAN", "MLPGAN"]


class MLPGAN(GAN):
    """gan (Hands-On ML ch. 17): the book's dense generator and discriminator on Fashion-MNIST in
    [0, 1].

    Recipe: BCE, keras "rmsprop" for both networks (lr 1e-3, rho 0.9, eps 1e-7), batch 32, codings
    30, Keras initialisation (glorot_uniform, zero biases). Keras 2's RMSprop without momentum
    divides by sqrt(v) + eps, as PyTorch's does (TF's fused kernel, used with momentum, puts eps
    inside the sqrt); with eps = 1e-7 either placement changes nothing visible. The book trains 50
    epochs; our default is fewer (see ``recipe``), chosen so that `scratchgan train gan` takes
    minutes on 2 CPU cores.
    """

    recipe: ClassVar[dict] = {
        "epochs": 5,
        "batch_size": 32,
        "loss": "ns",
        "optimizer": "rmsprop",
        "lr": 1e-3,
        "alpha": 0.9,
        "eps": 1e-7,
        "codings_size": 30,
        "init": "glorot",
    }

    def build_networks(self, generator):
        pixels = math.prod(self.image_shape)
        G = nn.Sequential(
            *dense_stack([self.codings_size, 100, 150, pixels], nn.SELU, nn.Sigmoid, generator),
            nn.Unflatten(1, self.image_shape),
        )
        D = nn.Sequential(
            nn.Flatten(), *dense_stack([pixels, 150, 100, 1], nn.SELU, None, generator)
        )
        return G, D
