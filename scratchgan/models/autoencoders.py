"""Dense autoencoders of Hands-On ML ch. 17 (the family's base, ``Autoencoder``, is in
autoencoder_base.py).

    StackedAE     stacked-ae:   Flatten, Dense 100 SELU, Dense 30 SELU | Dense 100 SELU,
                                Dense 784 sigmoid, reshape
    TiedAE        tied-ae:      the same encoder | DenseTranspose(dense 2) SELU,
                                DenseTranspose(dense 1) sigmoid
    GreedyAE      greedy-ae:    784-100-784 trained first, then 100-30-100 on its codings, stacked
    DenoisingAE   denoising-ae: stacked-ae with Gaussian noise (std 0.2) or dropout (0.5) on the
                                input, in training
    SparseL1AE    sparse-l1-ae: Dense 100 SELU, Dense 300 sigmoid + L1 activity penalty 1e-3 |
                                Dense 100, Dense 784
    SparseKLAE    sparse-kl-ae: the same with a KL penalty towards a mean activation of 0.1
                                (weight 0.05)

The linear autoencoder is in linear_ae.py, the convolutional and recurrent ones in conv_ae.py and
recurrent_ae.py, the variational ones in vae.py.
"""

import math
from typing import ClassVar

import numpy as np

from .. import functional as F
from .. import nn, viz
from ..autograd import no_grad
from ..random import Generator
from ..train import build_optimizer
from .autoencoder_base import Autoencoder
from .parts import GaussianNoise, dense_stack, training_mode, unique_parameters


class StackedAE(Autoencoder):
    """stacked-ae (Hands-On ML ch. 17): 784-100-30 SELU encoder, 30-100-784 decoder with a sigmoid
    output.

    The book's recipe: binary cross-entropy, keras SGD(lr=1.5), batch 32, 10 epochs on Fashion-MNIST
    scaled to [0, 1], 55,000 training / 5,000 validation images, Keras initialisation
    (glorot_uniform, zero biases); Keras's fit keeps the last, smaller batch of each epoch
    (drop_last False).
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
        encoder = nn.Sequential(
            nn.Flatten(),
            *dense_stack(
                [pixels, c["hidden_size"], c["codings_size"]], nn.SELU, nn.SELU, generator
            ),
        )
        decoder = nn.Sequential(
            *dense_stack(
                [c["codings_size"], c["hidden_size"], pixels], nn.SELU, nn.Sigmoid, generator
            ),
            nn.Unflatten(1, self.image_shape),
        )
        return encoder, decoder


class TiedAE(StackedAE):
    """tied-ae (Hands-On ML ch. 17): stacked-ae whose decoder layers reuse the encoder's weight
    matrices, transposed (``nn.DenseTranspose``), with biases of their own: about half the
    parameters.

    The same recipe as stacked-ae (SGD lr 1.5, 10 epochs, batch 32), so the two compare directly.
    """

    def build_networks(self, generator):
        c = self.config
        pixels = math.prod(self.image_shape)
        dense_1 = nn.Linear(pixels, c["hidden_size"], generator=generator)
        dense_2 = nn.Linear(c["hidden_size"], c["codings_size"], generator=generator)
        encoder = nn.Sequential(nn.Flatten(), dense_1, nn.SELU(), dense_2, nn.SELU())
        decoder = nn.Sequential(
            nn.DenseTranspose(dense_2),
            nn.SELU(),
            nn.DenseTranspose(dense_1),
            nn.Sigmoid(),
            nn.Unflatten(1, self.image_shape),
        )
        return encoder, decoder


class GreedyAE(StackedAE):
    """greedy-ae (Hands-On ML ch. 17, "training one autoencoder at a time"):

        phase 1  a shallow autoencoder 784-100-784 (SELU | sigmoid), BCE, SGD lr 1.5, on the images
        phase 2  a shallow autoencoder 100-30-100 (SELU | SELU), MSE, SGD lr 0.05, on phase 1's
                 codings
        stacked  Flatten, enc1, enc2 | dec2, dec1, reshape: the stacked-ae architecture

    ``stage_epochs`` [e1, e2] splits ``epochs`` between the phases (the rest goes to phase 2). Phase
    2 encodes each batch with the frozen phase-1 encoder on the fly, which gives the book's
    precomputed X_train_enc1 exactly. Validation reports the whole stack's BCE (comparable with
    stacked-ae) and the two phases' own losses.
    """

    recipe: ClassVar[dict] = {
        **StackedAE.recipe,
        "epochs": 10,
        "stage_epochs": [5, 5],
        "stage1_lr": 1.5,
        "stage2_lr": 0.05,
    }

    def build_networks(self, generator):
        c = self.config
        pixels = math.prod(self.image_shape)
        self.enc1 = nn.Sequential(
            nn.Flatten(), nn.Linear(pixels, c["hidden_size"], generator=generator), nn.SELU()
        )
        self.dec1 = nn.Sequential(
            nn.Linear(c["hidden_size"], pixels, generator=generator),
            nn.Sigmoid(),
            nn.Unflatten(1, self.image_shape),
        )
        self.enc2 = nn.Sequential(
            nn.Linear(c["hidden_size"], c["codings_size"], generator=generator), nn.SELU()
        )
        self.dec2 = nn.Sequential(
            nn.Linear(c["codings_size"], c["hidden_size"], generator=generator), nn.SELU()
        )
        return nn.Sequential(self.enc1, self.enc2), nn.Sequential(self.dec2, self.dec1)

    def build_optimizers(self):
        return {
            "stage1": build_optimizer(
                unique_parameters(self.enc1, self.dec1), self.config, "stage1_"
            ),
            "stage2": build_optimizer(
                unique_parameters(self.enc2, self.dec2), self.config, "stage2_"
            ),
        }

    def stage(self, ctx):
        """1 or 2: the phase of the step at ``ctx`` (1 during the first stage_epochs[0] epochs)."""
        return 1 if ctx.step < self.config["stage_epochs"][0] * ctx.steps_per_epoch else 2

    def stage_losses(self, x):
        """{'bce1': phase 1's loss on x, 'mse2': phase 2's loss on x's phase-1 codings (constant
        input)}."""
        h = self.enc1(x)
        bce1 = F.binary_cross_entropy(self.dec1(h), x)
        h = h.detach()
        return {"bce1": bce1, "mse2": F.mse_loss(self.dec2(self.enc2(h)), h)}

    def train_step(self, batch, ctx):
        x = self.to_input(batch[0])
        stage = self.stage(ctx)
        opt = self._optimizers[f"stage{stage}"]
        opt.zero_grad()
        if stage == 1:
            loss = F.binary_cross_entropy(self.dec1(self.enc1(x)), x)
            name = "bce1"
        else:
            with no_grad():
                h = self.enc1(x)
            loss = F.mse_loss(self.dec2(self.enc2(h)), h)
            name = "mse2"
        loss.backward()
        opt.step()
        return {name: loss.item()}

    def objective(self, x):
        loss, parts = super().objective(x)
        return loss, {**parts, **self.stage_losses(x)}

    # checkpoints written before the step context hold extra/step_count, the steps so far: the
    # trainer's step, which the step context now gives; load_extra_state ignores it


# ----- denoising and sparse autoencoders
class DenoisingAE(StackedAE):
    """denoising-ae (Hands-On ML ch. 17): stacked-ae with a corruption layer after Flatten, active
    in training only (validation and reconstructions see clean images):

        noise="gaussian"   GaussianNoise(noise_std=0.2)
        noise="dropout"    Dropout(dropout_rate=0.5) (kept pixels are scaled by 2, as Keras does)

    The noise draws come from the model's generator (checkpointed, so resume stays exact). The
    book's text gives no lr: SGD lr 1.0, 10 epochs, batch 32, as stacked-ae otherwise.
    """

    recipe: ClassVar[dict] = {
        **StackedAE.recipe,
        "lr": 1.0,
        "noise": "gaussian",
        "noise_std": 0.2,
        "dropout_rate": 0.5,
    }

    def build_networks(self, generator):
        c = self.config
        if c["noise"] == "gaussian":
            self.noise = GaussianNoise(c["noise_std"], generator=generator)
        elif c["noise"] == "dropout":
            self.noise = nn.Dropout(c["dropout_rate"], generator=generator)
        else:
            raise ValueError(f"noise {c['noise']!r}: expected gaussian or dropout")
        encoder, decoder = super().build_networks(generator)
        return nn.Sequential(encoder[0], self.noise, *list(encoder)[1:]), decoder

    def corrupt(self, images, generator):
        """The noisy inputs the encoder sees in training, drawn from ``generator`` (N x C x H x W
        floats)."""
        x = self.to_input(images)
        saved = self.noise.generator
        self.noise.generator = generator
        try:
            with training_mode(self.noise, True), no_grad():
                return self.noise(x).numpy()
        finally:
            self.noise.generator = saved

    def denoise(self, noisy):
        """Reconstructions of already-corrupted float images (the noise layer is off in eval
        mode)."""
        with training_mode(self.encoder, False), no_grad():
            return self.forward(self.floats(np.asarray(noisy))).numpy()

    def picture(self, images, path, n=10, seed=0):
        """Rows: clean inputs, their noisy versions, the reconstructions of the noisy versions."""
        clean = self.to_input(images[:n]).numpy()
        noisy = self.corrupt(images[:n], Generator(seed))
        strips = np.stack([clean, np.clip(noisy, 0, 1), self.denoise(noisy)])
        return viz.save_interpolation(strips, path)


class SparseAE(StackedAE):
    """Base of the sparse autoencoders: Flatten, Dense 100 SELU, Dense 300 sigmoid | Dense 100 SELU,
    Dense 784 sigmoid; the penalty on the 300 codings is the subclass's. Logs the mean coding
    activation."""

    recipe: ClassVar[dict] = {**StackedAE.recipe, "lr": 1.0, "codings_size": 300}

    def build_networks(self, generator):
        c = self.config
        pixels = math.prod(self.image_shape)
        encoder = nn.Sequential(
            nn.Flatten(),
            *dense_stack(
                [pixels, c["hidden_size"], c["codings_size"]], nn.SELU, nn.Sigmoid, generator
            ),
        )
        decoder = nn.Sequential(
            *dense_stack(
                [c["codings_size"], c["hidden_size"], pixels], nn.SELU, nn.Sigmoid, generator
            ),
            nn.Unflatten(1, self.image_shape),
        )
        return encoder, decoder

    def coding_stats(self, codings):
        return {"mean_activation": codings.mean().detach()}

    def picture(self, images, path, n=10):
        """Reconstructions, and beside them (``*-activations.png``) the histograms of the codings of
        ``images``."""
        self.activation_histogram(images, str(path)[: -len(".png")] + "-activations.png")
        return super().picture(images, path, n)

    def activation_histogram(self, images, path, size=(900, 360)):
        """The book's sparsity figure: histograms of all coding activations and of each unit's
        mean."""
        codes = self.encode(images)
        fig, dpi = viz._figure(size)
        for i, (values, title) in enumerate(
            [(codes.ravel(), "all activations"), (codes.mean(axis=0), "mean activation per unit")]
        ):
            ax = fig.add_subplot(1, 2, i + 1)
            ax.hist(values, bins=np.linspace(0, 1, 41), color="tab:blue")
            ax.axvline(values.mean(), color="tab:red", lw=1, label=f"mean {values.mean():.3f}")
            ax.set_xlabel("activation")
            ax.set_ylabel("count")
            ax.set_title(title, fontsize=9)
            ax.legend(fontsize=8)
        fig.suptitle(f"{self.name}: codings of {len(images)} images", fontsize=10)
        fig.tight_layout()
        return viz._save_figure(fig, path, dpi)


class SparseL1AE(SparseAE):
    """sparse-l1-ae (Hands-On ML ch. 17): 300 sigmoid codings with an L1 activity penalty, ``l1 *
    mean over the batch of sum_units |z|`` (Keras's ActivityRegularization(l1=1e-3): the sum over
    the batch divided by the batch size). SGD lr 1.0, 10 epochs, batch 32."""

    recipe: ClassVar[dict] = {**SparseAE.recipe, "l1": 1e-3}

    def penalties(self, codings):
        return {"l1": codings.abs().sum() * (self.config["l1"] / codings.shape[0])}


def bernoulli_kl(p, q, eps=1e-7):
    """sum over units of KL(p || q) + KL(1 - p || 1 - q) for a target rate p and mean activations q,
    each q clipped to [eps, 1 - eps] (Keras clips likewise)."""
    q = q.clip(eps, 1 - eps)
    return (p * (math.log(p) - q.log()) + (1 - p) * (math.log(1 - p) - (1 - q).log())).sum()


class SparseKLAE(SparseAE):
    """sparse-kl-ae (Hands-On ML ch. 17): 300 sigmoid codings; the penalty is ``weight * sum_units
    [KL(t || q_j) + KL(1 - t || 1 - q_j)]`` with q_j unit j's mean activation over the batch, t =
    0.1 and weight 0.05. (Keras divides any activity regulariser by the batch size once more, which
    weakens this batch-level penalty 32-fold; here the weight applies as written.) SGD lr 1.0, 10
    epochs, batch 32."""

    recipe: ClassVar[dict] = {**SparseAE.recipe, "sparsity_target": 0.1, "sparsity_weight": 0.05}

    def penalties(self, codings):
        kl = bernoulli_kl(self.config["sparsity_target"], codings.mean(axis=0))
        return {"kl": kl * self.config["sparsity_weight"]}
