"""conv-ae (Hands-On ML ch. 17): a convolutional autoencoder."""

from typing import ClassVar

from .. import nn
from .autoencoder_base import Autoencoder


class ConvAE(Autoencoder):
    """conv-ae (Hands-On ML ch. 17):

        encoder  conv 16, 3x3 same, SELU, max pool 2 | conv 32 ... | conv 64 ...  28 -> 14 -> 7 -> 3
                                                                                  (3x3x64)
        decoder  conv-transpose 32, 3x3, stride 2, valid, SELU                    3 -> 7
                 conv-transpose 16, 3x3, stride 2, same, SELU                     7 -> 14
                 conv-transpose 1, 3x3, stride 2, same, sigmoid                   14 -> 28

    Keras's "same" transposed convolution is padding=1, output_padding=1 here; the two crop the
    extra row on opposite sides (a one-pixel shift of the output grid, nothing more). BCE, keras
    SGD. The book's text gives no training recipe for this model: lr 1.0, batch 32, on the first
    20,000 training images for 2 epochs, to fit a few minutes on 2 CPU cores (about 350 images/s).
    """

    recipe: ClassVar[dict] = {
        "epochs": 2,
        "batch_size": 32,
        "optimizer": "sgd",
        "lr": 1.0,
        "loss": "bce",
        "init": "glorot",
        "drop_last": False,
        "train_images": 20000,
    }

    def build_networks(self, generator):
        g, c = generator, self.image_shape[0]
        encoder = nn.Sequential(
            nn.Conv2d(c, 16, 3, padding=1, generator=g),
            nn.SELU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, generator=g),
            nn.SELU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, generator=g),
            nn.SELU(),
            nn.MaxPool2d(2),
        )
        decoder = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 3, stride=2, generator=g),
            nn.SELU(),
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1, generator=g),
            nn.SELU(),
            nn.ConvTranspose2d(16, c, 3, stride=2, padding=1, output_padding=1, generator=g),
            nn.Sigmoid(),
        )
        return encoder, decoder
