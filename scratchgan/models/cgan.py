"""cgan: the conditional GAN of GANs in Action ch. 8 (Mirza and Osindero 2014): G(z, y) and D(x, y).

The label y enters G as an embedding multiplied into the code, and D as an embedding shaped like an
image and appended as an extra channel:

    G  z (100) * Embedding(10, 100)[y]
       Dense 100 -> 7*7*256, reshape 256 x 7 x 7
       ConvTranspose 256 -> 128, k3 s2     14 x 14, BatchNorm, LeakyReLU 0.01
       ConvTranspose 128 -> 64, k3 s1      14 x 14, BatchNorm, LeakyReLU 0.01
       ConvTranspose 64 -> C, k3 s2        28 x 28, tanh
    D  [x ; Embedding(10, C*H*W)[y] as 1 x H x W]   (C + 1) x 28 x 28
       Conv C+1 -> 64, k3 s2               14 x 14, LeakyReLU 0.01
       Conv 64 -> 64, k3 s2                7 x 7,   BatchNorm, LeakyReLU 0.01
       Conv 64 -> 128, k3 s2               4 x 4,   BatchNorm, LeakyReLU 0.01
       Flatten, Dense 2048 -> 1            (the sigmoid is in the loss)

Keras "same" padding is PyTorch padding 1 (plus output_padding 1 where a transposed convolution
doubles the size). Recipe: the book's: BCE (ns), Keras Adam() for both (lr 1e-3, betas (0.9, 0.999),
eps 1e-7), batch 32, codings 100, Keras initialisation (glorot_uniform kernels, zero biases), Keras
batch norm (momentum 0.99, eps 1e-3). One change: the label embeddings start N(0, 1) (PyTorch's
nn.Embedding) instead of Keras's U(-0.05, 0.05) (``embedding_init: "keras"`` restores it). With
Keras's, z * e has std ~0.03, the activations before G's first batch norm have variance ~1e-5, far
below its eps 1e-3, so the batch norms pass almost nothing of z or y on: on Fashion-MNIST G ignored
both and collapsed to one image within 50 steps (std of samples within a class 0.002; 0.13 with N(0,
1) embeddings, same seed and steps). As in the book's loop, D learns on real pairs (x, y) and on
fakes G(z, y) made for the same labels, G on random labels. The book calls ``train_on_batch`` once
on the real and once on the fake batch (two Adam steps); here D sees them in two separate passes (so
batch norm never mixes them) and takes one step on the summed loss. The book trains 12,000
iterations on MNIST; here the data set is the project's default, Fashion-MNIST.

The per-epoch picture is a 10 x 10 grid, row = requested class.
"""

from typing import ClassVar

import numpy as np

from .. import nn
from ..ops.shape import concat
from .gan_base import GAN
from .parts import gia_generator, keras_batch_norm, keras_init_


class ConditionalGenerator(nn.Module):
    """G(z, y) = body(z * embedding[y])."""

    def __init__(self, num_classes, codings_size, body, generator=None):
        super().__init__()
        self.label_embedding = nn.Embedding(num_classes, codings_size, generator=generator)
        self.body = body

    def forward(self, z, labels):
        return self.body(z * self.label_embedding(labels))


class ConditionalDiscriminator(nn.Module):
    """D(x, y) = body([x ; embedding[y] reshaped to 1 x H x W])."""

    def __init__(self, num_classes, image_shape, body, generator=None):
        super().__init__()
        self.image_shape = tuple(image_shape)
        H, W = self.image_shape[1:]
        self.label_embedding = nn.Embedding(num_classes, H * W, generator=generator)
        self.body = body

    def forward(self, x, labels):
        H, W = self.image_shape[1:]
        plane = self.label_embedding(labels).reshape(x.shape[0], 1, H, W)
        return self.body(concat([x, plane], 1))


class CGAN(GAN):
    """cgan: GANs in Action ch. 8 (see the module docstring)."""

    data_range = (-1.0, 1.0)
    picture_samples = 100
    recipe: ClassVar[dict] = {
        "epochs": 3,
        "batch_size": 32,
        "loss": "ns",
        "optimizer": "adam",
        "lr": 1e-3,
        "betas": [0.9, 0.999],
        "eps": 1e-7,
        "codings_size": 100,
        "num_classes": 10,
        "init": "glorot",
        "embedding_init": "normal",
        "d_batches": "separate",
    }
    # `train cgan --recipe full`: 0.259 CPU s/step (1 BLAS thread, process_time, median of 6 steps
    # after 2 warm-up, 2026-12-01, machine loaded) -> 17,180 steps ~ 4,450 s CPU (6,670 s at
    # 1.5 x), against the default's 3 epochs. No EMA: G has batch norm (see dcgan's preset).
    recipes: ClassVar[dict] = {"full": {"epochs": 10, "checkpoint_every": 1000}}

    def build_networks(self, generator):
        C, H, W = self.image_shape
        if (H, W) != (28, 28):
            raise ValueError(f"cgan: the book's networks take 28 x 28 images, got {H} x {W}")
        k = self.config["num_classes"]
        G = ConditionalGenerator(
            k, self.codings_size, gia_generator(self.codings_size, C, generator), generator
        )
        body = nn.Sequential(
            nn.Conv2d(C + 1, 64, 3, stride=2, padding=1, generator=generator),
            nn.LeakyReLU(0.01),
            nn.Conv2d(64, 64, 3, stride=2, padding=1, generator=generator),
            keras_batch_norm(64),
            nn.LeakyReLU(0.01),
            nn.Conv2d(64, 128, 3, stride=2, padding=1, generator=generator),
            keras_batch_norm(128),
            nn.LeakyReLU(0.01),
            nn.Flatten(),
            nn.Linear(128 * 4 * 4, 1, generator=generator),
        )
        return G, ConditionalDiscriminator(k, self.image_shape, body, generator)

    def init_weights(self, generator):
        if self.config.get("init") == "glorot":
            for net in (self.G, self.D):
                keras_init_(net, generator)
                if self.config.get("embedding_init", "keras") == "keras":
                    nn.init.uniform_(net.label_embedding.weight, -0.05, 0.05, generator=generator)

    # ----- the conditional hooks
    def loader_arrays(self, images, labels):
        if labels is None:
            raise ValueError(
                f"cgan needs class labels; data set {self.config.get('dataset')!r} has none"
            )
        return images, np.asarray(labels, dtype=np.int64)

    def real_inputs(self, batch):
        return self.to_input(batch[0]), np.asarray(batch[1], dtype=np.int64)

    def generate(self, z, labels=None):
        if labels is None:
            raise ValueError("cgan: generate needs the labels to condition on")
        return self.G(z, labels)

    def critic(self, x, labels=None):
        if labels is None:
            raise ValueError("cgan: the discriminator needs the labels of its images")
        return self.D(x, labels)

    def random_labels(self, n, generator=None):
        return (
            (generator or self.generator)
            .integers(0, self.config["num_classes"], (n,))
            .astype(np.int64)
        )

    def picture_labels(self):
        k = self.config["num_classes"]
        return np.repeat(np.arange(k), self.picture_samples // k).astype(np.int64)

    def inpaint(self, images, mask, generator, **kwargs):
        from ..train import Unsupported

        raise Unsupported("cgan does not inpaint: its codes need a class label; use dcgan")
