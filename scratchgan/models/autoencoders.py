"""Autoencoders (Hands-On ML ch. 17): an encoder and a decoder trained to reconstruct their input.

``Autoencoder`` is the family's base: it holds encoder + decoder and one optimiser, trains on the
reconstruction loss (binary cross-entropy on [0, 1] pixels, the book's choice), validates on it,
draws input-over-reconstruction pictures and gives the command line encode / decode /
reconstruct / interpolate / inpaint. A family member only says how to build its two networks
(``build_networks``) and, if its objective has more terms (sparsity, KL), overrides ``loss``.

    StackedAE   stacked-ae: Flatten, Dense 100 SELU, Dense 30 SELU | Dense 100 SELU, Dense 784 sigmoid, reshape
"""

import itertools
import math
from typing import ClassVar

import numpy as np

from .. import functional as F
from .. import nn, viz
from ..autograd import no_grad
from ..tensor import tensor
from ..train import Model, build_optimizer

EVAL_CHUNK = 1000  # images per forward pass when validating


def keras_init_(module, generator):
    """Keras's Dense defaults on every Linear of ``module``: glorot_uniform weights, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


def dense_stack(sizes, activation, last_activation, generator):
    """Linear layers sizes[0] -> sizes[1] -> ..., each followed by ``activation()``, the last one by
    ``last_activation()`` (None: no activation), as a list of modules."""
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out, generator=generator))
        act = last_activation if i == len(sizes) - 2 else activation
        if act is not None:
            layers.append(act())
    return layers


class Autoencoder(Model):
    """Base of the autoencoders; subclasses implement ``build_networks(generator) -> (encoder, decoder)``.

    The encoder takes N x C x H x W images in [0, 1]; the decoder returns images of the same shape.
    """

    loss_name = "bce"

    def __init__(self, config, generator):
        super().__init__(config, generator)
        self.image_shape = tuple(config.get("image_shape", (1, 28, 28)))
        self.encoder, self.decoder = self.build_networks(generator)
        if config.get("init") == "glorot":
            keras_init_(self.encoder, generator)
            keras_init_(self.decoder, generator)
        self.encoder.to(self.device)
        self.decoder.to(self.device)
        self.optimizer = build_optimizer(self.parameters(), config)

    def build_networks(self, generator):
        raise NotImplementedError

    def parameters(self):
        """Encoder and decoder parameters, each once (tied weights are shared)."""
        seen, params = set(), []
        for module in (self.encoder, self.decoder):
            for p in module.parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        return params

    def modules(self):
        return {"encoder": self.encoder, "decoder": self.decoder}

    def optimizers(self):
        return {"optimizer": self.optimizer}

    # ----- training
    def forward(self, x):
        return self.decoder(self.encoder(x))

    def loss(self, x, x_hat):
        """The training objective (a scalar Tensor) and the dict of its parts to log."""
        bce = F.binary_cross_entropy(x_hat, x)
        return bce, {"bce": bce}

    def train_step(self, batch):
        x = self.to_input(batch[0])
        self.optimizer.zero_grad()
        loss, parts = self.loss(x, self.forward(x))
        loss.backward()
        self.optimizer.step()
        return {k: v.item() for k, v in parts.items()}

    def evaluate(self, images, labels=None):
        """Mean of each loss part over ``images`` (per pixel for the reconstruction loss)."""
        totals = {}
        with no_grad():
            for i in range(0, len(images), EVAL_CHUNK):
                x = self.to_input(images[i : i + EVAL_CHUNK])
                _, parts = self.loss(x, self.forward(x))
                for k, v in parts.items():
                    totals[k] = totals.get(k, 0.0) + v.item() * len(x)
        return {k: v / len(images) for k, v in totals.items()}

    def picture(self, images, path, n=10):
        viz.save_reconstructions(self.to_input(images[:n]).numpy(), self.reconstruct(images[:n]), path)

    # ----- for the command line
    def encode(self, images):
        with no_grad():
            return self.encoder(self.to_input(images)).numpy()

    def decode(self, codes):
        with no_grad():
            return self.decoder(tensor(np.asarray(codes, dtype=np.float32), device=self.device)).numpy()

    def reconstruct(self, images):
        with no_grad():
            return self.forward(self.to_input(images)).numpy()

    def interpolate(self, images, rows, steps, generator):
        """Decode straight lines between the codes of random pairs of ``images``: rows x steps x C x H x W."""
        pick = generator.integers(0, len(images), (2 * rows,))
        codes = self.encode(images[pick])
        a, b = codes[:rows, None], codes[rows:, None]
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
        lines = (1 - t) * a + t * b  # rows x steps x code
        out = self.decode(lines.reshape(rows * steps, -1))
        return out.reshape((rows, steps) + out.shape[1:])

    def inpaint(self, images, mask, generator=None):
        """Fill the pixels where ``mask`` (H x W, True = known) is False with the reconstruction of the
        masked image (unknown pixels set to 0). Returns float images in [0, 1]."""
        x = self.to_input(images).numpy()
        known = np.broadcast_to(np.asarray(mask, dtype=bool), x.shape[-2:])
        masked = np.where(known, x, np.float32(0))
        with no_grad():
            out = self.forward(tensor(masked, device=self.device)).numpy()
        return np.where(known, x, out)


class StackedAE(Autoencoder):
    """stacked-ae (Hands-On ML ch. 17): 784-100-30 SELU encoder, 30-100-784 decoder with a sigmoid output.

    The book's recipe: binary cross-entropy, keras SGD(lr=1.5), batch 32, 10 epochs on Fashion-MNIST
    scaled to [0, 1], 55,000 training / 5,000 validation images, Keras initialisation (glorot_uniform,
    zero biases); Keras's fit keeps the last, smaller batch of each epoch (drop_last False).
    """

    recipe: ClassVar[dict] = {
        "epochs": 10,
        "batch_size": 32,
        "optimizer": "sgd",
        "lr": 1.5,
        "loss": "bce",
        "hidden_size": 100,
        "codings_size": 30,
        "init": "glorot",
        "drop_last": False,
    }

    def build_networks(self, generator):
        c = self.config
        pixels = math.prod(self.image_shape)
        encoder = nn.Sequential(nn.Flatten(), *dense_stack([pixels, c["hidden_size"], c["codings_size"]], nn.SELU, nn.SELU, generator))
        decoder = nn.Sequential(
            *dense_stack([c["codings_size"], c["hidden_size"], pixels], nn.SELU, nn.Sigmoid, generator),
            nn.Unflatten(1, self.image_shape),
        )
        return encoder, decoder
