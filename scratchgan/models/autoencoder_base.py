"""The autoencoder base (Hands-On ML ch. 17): an encoder and a decoder trained to reconstruct their
input.

``Autoencoder`` holds encoder + decoder and one optimiser, trains on the reconstruction loss (binary
cross-entropy on [0, 1] pixels, the book's choice), validates on it, draws input-over-reconstruction
pictures and gives the command line encode / decode / reconstruct / interpolate / inpaint. A family
member only says how to build its two networks (``build_networks``) and, if its objective has more
terms, overrides ``loss`` (the reconstruction term) or ``penalties`` (terms on the codings:
sparsity). The members: linear_ae.py, autoencoders.py (dense stacked, tied, greedy, denoising,
sparse), conv_ae.py, recurrent_ae.py and vae.py.
"""

import numpy as np

from .. import functional as F
from .. import nn, viz
from ..autograd import no_grad
from ..train import Model, build_optimizer
from .parts import keras_init_, unique_parameters

EVAL_CHUNK = 1000  # images per forward pass when validating


class Autoencoder(Model):
    """Base of the autoencoders; subclasses implement ``build_networks(generator) -> (encoder,
    decoder)``.

    The encoder takes N x C x H x W images in [0, 1]; the decoder returns images of the same shape.
    Recipe keys every autoencoder understands: ``init`` ("glorot": Keras's initialisation, see
    ``keras_init_``; otherwise PyTorch's) and ``train_images`` (train on the first N images of the
    training split only, to fit a time budget; None: all of them).
    """

    loss_name = "bce"

    def __init__(self, config, generator):
        super().__init__(config, generator)
        self.image_shape = tuple(config.get("image_shape", (1, 28, 28)))
        self.encoder, self.decoder = self.build_networks(generator)
        if config.get("init") == "glorot":
            keras_init_(nn.ModuleList([self.encoder, self.decoder]), generator)
        self.place(self.encoder, self.decoder)
        self._optimizers = self.build_optimizers()
        self.optimizer = next(iter(self._optimizers.values()))

    def build_networks(self, generator):
        raise NotImplementedError

    def build_optimizers(self):
        """{name: optimiser}; by default one optimiser of ``config['optimizer']`` over every
        parameter."""
        return {"optimizer": build_optimizer(self.parameters(), self.config)}

    def parameters(self):
        """Encoder and decoder parameters, each once (tied weights are shared)."""
        return unique_parameters(self.encoder, self.decoder)

    def num_parameters(self):
        return int(sum(p.numel() for p in self.parameters()))

    def modules(self):
        return {"encoder": self.encoder, "decoder": self.decoder}

    def optimizers(self):
        return self._optimizers

    def loader_arrays(self, images, labels):
        n = self.config.get("train_images")
        return (images if n is None else images[: int(n)],)

    # ----- training
    def forward(self, x):
        return self.decoder(self.encoder(x))

    def loss(self, x, x_hat):
        """The reconstruction objective (a scalar Tensor) and the dict of its parts to log."""
        bce = F.binary_cross_entropy(x_hat, x)
        return bce, {"bce": bce}

    def penalties(self, codings):
        """Extra terms on the codings, already weighted: {name: scalar Tensor} (none by default)."""
        return {}

    def coding_stats(self, codings):
        """Statistics of the codings to log beside the loss (not trained on): {name: scalar
        Tensor}."""
        return {}

    def objective(self, x):
        """(scalar loss, {name: Tensor to log}) of a batch: reconstruction loss + penalties."""
        codings = self.encoder(x)
        loss, parts = self.loss(x, self.decoder(codings))
        extra = self.penalties(codings)
        for term in extra.values():
            loss = loss + term
        if extra:
            parts = {**parts, **extra, "loss": loss}
        return loss, {**parts, **self.coding_stats(codings)}

    def train_step(self, batch, ctx):
        x = self.to_input(batch[0])
        self.optimizer.zero_grad()
        loss, parts = self.objective(x)
        loss.backward()
        self.optimizer.step()
        return {k: v.item() for k, v in parts.items()}

    def evaluate(self, images, labels=None):
        """Mean of each logged part over ``images`` (per pixel for the reconstruction loss)."""
        totals = {}
        with no_grad():
            for i in range(0, len(images), EVAL_CHUNK):
                x = self.to_input(images[i : i + EVAL_CHUNK])
                _, parts = self.objective(x)
                for k, v in parts.items():
                    totals[k] = totals.get(k, 0.0) + v.item() * len(x)
        return {k: v / len(images) for k, v in totals.items()}

    def picture(self, images, path, n=10):
        viz.save_reconstructions(
            self.to_input(images[:n]).numpy(), self.reconstruct(images[:n]), path
        )

    # ----- for the command line and the figures
    def encode(self, images):
        with no_grad():
            return np.concatenate(
                [
                    self.encoder(self.to_input(images[i : i + EVAL_CHUNK])).numpy()
                    for i in range(0, len(images), EVAL_CHUNK)
                ]
            )

    def decode(self, codes):
        with no_grad():
            return self.decoder(self.floats(np.asarray(codes))).numpy()

    def reconstruct(self, images):
        with no_grad():
            return self.forward(self.to_input(images)).numpy()

    def interpolate(self, images, rows, steps, generator):
        """Decode straight lines between the codes of random pairs of ``images``: rows x steps x C x
        H x W."""
        pick = generator.integers(0, len(images), (2 * rows,))
        codes = self.encode(images[pick])
        a, b = codes[:rows, None], codes[rows:, None]
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
        lines = (1 - t) * a + t * b  # rows x steps x code
        out = self.decode(lines.reshape(rows * steps, -1))
        return out.reshape((rows, steps) + out.shape[1:])

    def inpaint(self, images, mask, generator=None):
        """Fill the pixels where ``mask`` (H x W, True = known) is False with the reconstruction of
        the masked image (unknown pixels set to 0). Returns float images in [0, 1]."""
        x = self.to_input(images).numpy()
        known = np.broadcast_to(np.asarray(mask, dtype=bool), x.shape[-2:])
        masked = np.where(known, x, x.dtype.type(0))
        with no_grad():
            out = self.forward(self.floats(masked)).numpy()
        return np.where(known, x, out)

    def codings_map(self, images, labels, path, method="auto", seed=0, class_names=None):
        """The book's view of the code space: the codings of ``images`` mapped to 2-D (t-SNE when
        scikit-learn is installed and ``method`` is "auto" or "tsne", else PCA), coloured by class
        (legend: ``class_names``, default the class numbers). Returns the method used."""
        codes = self.encode(images).reshape(len(images), -1).astype(np.float64)
        if method == "auto":
            try:
                import sklearn  # noqa: F401

                method = "tsne"
            except ImportError:
                method = "pca"
        if method == "tsne":
            from sklearn.manifold import TSNE

            points = TSNE(n_components=2, init="pca", random_state=seed).fit_transform(codes)
        elif method == "pca":
            centred = codes - codes.mean(axis=0)
            points = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
        else:
            raise ValueError(f"method {method!r}: expected auto, tsne or pca")
        names = class_names or [str(c) for c in range(int(np.max(labels)) + 1)]
        viz.save_latent_scatter(points, labels, path, class_names=names)
        return method
