"""recurrent-ae (Hands-On ML ch. 17): an LSTM autoencoder that reads an image as a sequence of
rows."""

from typing import ClassVar

from .. import nn
from .autoencoder_base import Autoencoder
from .parts import RecurrentLayer, RepeatVector, Rows, Transpose12


class RecurrentAE(Autoencoder):
    """recurrent-ae (Hands-On ML ch. 17): an image is a sequence of its 28 rows of 28 pixels.

        encoder  LSTM 100 (return sequences), LSTM 30 (last output: the codings, in (-1, 1))
        decoder  repeat the codings 28 times, LSTM 100 (return sequences), Dense 28 sigmoid at
                 every step

    BCE. The book's text gives no training recipe for this model. The unrolled LSTMs cost per step
    more than per image (about 450 images/s at batch 128 against 130 at 32 on 2 idle cores), so the
    recipe takes batch 128, and with so few steps (3 epochs over the first 20,000 training images:
    471 steps) Adam lr 0.003, which after 40 steps was ahead of Adam lr 0.001 and SGD lr 1.0
    (validation BCE 0.477 against 0.512 and 0.536).
    """

    recipe: ClassVar[dict] = {
        "epochs": 3,
        "batch_size": 128,
        "optimizer": "adam",
        "lr": 0.003,
        "loss": "bce",
        "hidden_size": 100,
        "codings_size": 30,
        "init": "glorot",
        "drop_last": False,
        "train_images": 20000,
    }

    def build_networks(self, generator):
        c, g = self.config, generator
        channels, height, width = self.image_shape
        encoder = nn.Sequential(
            Rows(),
            RecurrentLayer(channels * width, c["hidden_size"], True, g),
            RecurrentLayer(c["hidden_size"], c["codings_size"], False, g),
        )
        decoder = nn.Sequential(
            RepeatVector(height),
            RecurrentLayer(c["codings_size"], c["hidden_size"], True, g),
            nn.Linear(c["hidden_size"], channels * width, generator=g),
            nn.Sigmoid(),
            nn.Unflatten(2, (channels, width)),
            Transpose12(),
        )
        return encoder, decoder
