"""GANs: a generator G and a discriminator D trained against each other (Hands-On ML ch. 17).

``GAN`` is the family's base. It owns the two-phase step of the book's ``train_gan`` loop:

    phase 1  D learns on [G(z); real] with targets [0]*B + [1]*B (G's output is a constant here)
    phase 2  G learns through a frozen D (D's parameters stop requiring grad) with targets 1

and the choice of objective, ``--loss``:

    mm       minimax (Goodfellow et al. 2014): D as above; G minimises mean log(1 - D(G(z)))
    ns       non-saturating: G minimises -mean log D(G(z)) = BCE(D(G(z)), 1)   (the book's loop; default)
             (here D(x) = sigmoid(logit), and both cross-entropies are computed from the logit)
    wgan     Wasserstein critic (Arjovsky et al. 2017): D minimises mean D(fake) - mean D(real), its
             weights clipped to [-c, c] after each step; G minimises -mean D(G(z)); G steps every n_critic steps
    wgan-gp  as wgan, with the penalty gp_weight * mean (|grad_x D(x~)| - 1)^2 on random interpolates x~ of
             real and fake instead of clipping (Gulrajani et al. 2017); needs double backward
    ls       least squares (Mao et al. 2017): D minimises (mean (D(real) - 1)^2 + mean D(fake)^2) / 2;
             G minimises mean (D(G(z)) - 1)^2 / 2

D's last layer is linear: for mm and ns its output is the logit of the book's sigmoid probability
(``discriminate(x)`` = sigmoid(D(x))), for wgan, wgan-gp and ls a score. A family member says how to
build the two networks (``build_networks``).

    MLPGAN   gan: G Dense 100 SELU, Dense 150 SELU, Dense 784 sigmoid, reshape (codings 30);
                  D Flatten, Dense 150 SELU, Dense 100 SELU, Dense 1 (sigmoid applied by the losses)
"""

import math
from typing import ClassVar

import numpy as np

from .. import functional as F
from .. import nn, optim, viz
from ..autograd import grad, no_grad
from ..ops.shape import concat
from ..tensor import ones, rand, randn, tensor, zeros
from ..train import Model, build_optimizer
from .autoencoders import dense_stack, keras_init_

LOSSES = ("mm", "ns", "wgan", "wgan-gp", "ls")
PICTURE_SAMPLES = 64  # the fixed latent batch drawn at build time: an 8 x 8 grid every epoch


# ----- the objectives: D's loss from its outputs on real and fake images, G's loss from D(G(z)).
# For mm and ns the outputs are logits: D's probability is sigmoid(logit), and the cross-entropies are
# computed from the logit, as Keras itself does for a Dense(1, activation="sigmoid") output (stable when
# D is sure of itself). For wgan, wgan-gp and ls they are unbounded scores.
def d_loss(kind, real_out, fake_out):
    if kind in ("mm", "ns"):
        # the book's phase 1: one BCE over [fake; real] with targets [0]*B + [1]*B
        out = concat([fake_out, real_out], 0)
        target = concat([zeros(*fake_out.shape, dtype=out.dtype, device=out.device),
                         ones(*real_out.shape, dtype=out.dtype, device=out.device)], 0)
        return F.binary_cross_entropy_with_logits(out, target)
    if kind in ("wgan", "wgan-gp"):
        return fake_out.mean() - real_out.mean()
    if kind == "ls":
        return ((real_out - 1) ** 2).mean() * 0.5 + (fake_out**2).mean() * 0.5
    raise ValueError(f"loss {kind!r}: expected one of {', '.join(LOSSES)}")


def g_loss(kind, fake_out):
    if kind == "mm":  # mean log(1 - sigmoid(l)) = -BCE(l, 0)
        return -F.binary_cross_entropy_with_logits(fake_out, zeros(*fake_out.shape, dtype=fake_out.dtype,
                                                                     device=fake_out.device))
    if kind == "ns":  # -mean log sigmoid(l) = BCE(l, 1)
        return F.binary_cross_entropy_with_logits(fake_out, ones(*fake_out.shape, dtype=fake_out.dtype,
                                                                 device=fake_out.device))
    if kind in ("wgan", "wgan-gp"):
        return -fake_out.mean()
    if kind == "ls":
        return ((fake_out - 1) ** 2).mean() * 0.5
    raise ValueError(f"loss {kind!r}: expected one of {', '.join(LOSSES)}")


def gradient_penalty(D, real, fake, generator):
    """mean over the batch of (|grad_x D(x~)|_2 - 1)^2 at x~ = e real + (1 - e) fake, e ~ U(0, 1) per sample."""
    e = rand(real.shape[0], *([1] * (real.ndim - 1)), dtype=real.dtype, generator=generator).to(real.device)
    x = (e * real + (1 - e) * fake).detach()
    x.requires_grad = True
    (gx,) = grad(D(x).sum(), x, create_graph=True)
    norm = ((gx * gx).flatten(1).sum(axis=1) + 1e-12).sqrt()
    return ((norm - 1) ** 2).mean()


def set_requires_grad(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


class GAN(Model):
    """Base of the GANs; subclasses implement ``build_networks(generator) -> (G, D)``, where G maps
    codes (N, codings_size) to images N x C x H x W in the data's range and D maps images to (N, 1)."""

    generative = True
    loss_presets: ClassVar[dict] = {
        "mm": {"loss": "mm"},
        "ns": {"loss": "ns"},
        "wgan": {"loss": "wgan", "optimizer": "rmsprop", "lr": 5e-5, "alpha": 0.99, "eps": 1e-8,
                 "n_critic": 5, "clip_value": 0.01},
        "wgan-gp": {"loss": "wgan-gp", "optimizer": "adam", "lr": 1e-4, "betas": [0.5, 0.9], "eps": 1e-8,
                    "n_critic": 5, "gp_weight": 10.0},
        "ls": {"loss": "ls"},
    }

    def __init__(self, config, generator):
        super().__init__(config, generator)
        self.kind = config.get("loss", "ns")
        if self.kind not in LOSSES:
            raise ValueError(f"loss {self.kind!r}: expected one of {', '.join(LOSSES)}")
        self.image_shape = tuple(config.get("image_shape", (1, 28, 28)))
        self.codings_size = config["codings_size"]
        self.G, self.D = self.build_networks(generator)
        if config.get("init") == "glorot":
            keras_init_(self.G, generator)
            keras_init_(self.D, generator)
        self.G.to(self.device)
        self.D.to(self.device)
        self.opt_g = build_optimizer(list(self.G.parameters()), config, "g_")
        self.opt_d = build_optimizer(list(self.D.parameters()), config, "d_")
        self.fixed_z = self.noise(PICTURE_SAMPLES)
        self.d_steps = 0  # D updates so far (G steps once every n_critic of them)

    def build_networks(self, generator):
        raise NotImplementedError

    @property
    def probability_output(self):
        return self.kind in ("mm", "ns")

    def noise(self, n, generator=None):
        return randn(n, self.codings_size, generator=generator or self.generator).to(self.device)

    def modules(self):
        return {"generator": self.G, "discriminator": self.D}

    def optimizers(self):
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def extra_state(self):
        return {"d_steps": np.int64(self.d_steps)}

    def load_extra_state(self, state):
        if "d_steps" in state:
            self.d_steps = int(state["d_steps"])

    # ----- training
    def train_step(self, batch):
        real = self.to_input(batch[0])
        n = real.shape[0]
        c = self.config
        # phase 1: the discriminator
        with no_grad():
            fake = self.G(self.noise(n))
        self.opt_d.zero_grad()
        out = self.D(concat([fake, real], 0))
        fake_out, real_out = out[:n], out[n:]
        loss_d = d_loss(self.kind, real_out, fake_out)
        logs = {"d_loss": loss_d.item()}
        if self.kind == "wgan-gp":
            gp = gradient_penalty(self.D, real, fake, self.generator)
            loss_d = loss_d + gp * c["gp_weight"]
            logs["gp"] = gp.item()
        loss_d.backward()
        self.opt_d.step()
        if self.kind == "wgan":
            bound = c["clip_value"]
            for p in self.D.parameters():
                p.xp.clip(p.data, -bound, bound, out=p.data)
        if self.probability_output:
            logs["d_real"] = F.sigmoid(real_out.detach()).mean().item()
            logs["d_fake"] = F.sigmoid(fake_out.detach()).mean().item()
        self.d_steps += 1
        if self.d_steps % c.get("n_critic", 1):
            return logs
        # phase 2: the generator, through a frozen discriminator
        self.opt_g.zero_grad()
        set_requires_grad(self.D, False)
        try:
            loss_g = g_loss(self.kind, self.D(self.G(self.noise(n))))
            loss_g.backward()
        finally:
            set_requires_grad(self.D, True)
        self.opt_g.step()
        logs["g_loss"] = loss_g.item()
        return logs

    def discriminate(self, x):
        """D's verdict on images x: the probability of "real" for mm and ns, the score otherwise."""
        out = self.D(x)
        return F.sigmoid(out) if self.probability_output else out

    def evaluate(self, images, labels=None):
        """D's mean verdict on (up to) 1000 validation images and on G(fixed latent batch)."""
        with no_grad():
            real = self.discriminate(self.to_input(images[:1000])).numpy()
            fake = self.discriminate(self.G(self.fixed_z)).numpy()
        out = {"d_real": float(real.mean()), "d_fake": float(fake.mean())}
        if self.probability_output:
            out["d_acc"] = float(((real > 0.5).sum() + (fake < 0.5).sum()) / (real.size + fake.size))
        return out

    def picture(self, images, path):
        with no_grad():
            viz.save_image_grid(self.G(self.fixed_z).numpy(), path, ncol=8)

    # ----- for the command line
    def sample(self, n, generator):
        with no_grad():
            return self.G(self.noise(n, generator)).numpy()

    def interpolate(self, images, rows, steps, generator):
        """G along straight lines between random pairs of codes: rows x steps x C x H x W."""
        a = self.noise(rows, generator).numpy()[:, None]
        b = self.noise(rows, generator).numpy()[:, None]
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
        z = ((1 - t) * a + t * b).reshape(rows * steps, -1)
        with no_grad():
            out = self.G(tensor(z, device=self.device)).numpy()
        return out.reshape((rows, steps) + out.shape[1:])

    def inpaint(self, images, mask, generator, iterations=300, lr=0.01, perceptual_weight=0.003):
        """Semantic inpainting (Yeh et al. 2017): search codes z whose G(z) matches the known pixels
        (L1 over ``mask``, H x W, True = known) and that D finds real; fill the unknown pixels from G(z)."""
        x = self.to_input(images)
        known = tensor(np.broadcast_to(np.asarray(mask, dtype=np.float32), x.shape[-2:]).copy(), device=self.device)
        z = self.noise(len(images), generator).detach()
        z.requires_grad = True
        search = optim.Adam([z], lr=lr)
        set_requires_grad(self.G, False)
        set_requires_grad(self.D, False)
        try:
            for _ in range(iterations):
                search.zero_grad()
                out = self.G(z)
                context = ((out - x).abs() * known).flatten(1).sum(axis=1).mean()
                loss = context + g_loss("ns" if self.probability_output else "wgan", self.D(out)) * perceptual_weight
                loss.backward()
                search.step()
        finally:
            set_requires_grad(self.G, True)
            set_requires_grad(self.D, True)
        with no_grad():
            filled = self.G(z).numpy()
        k = known.numpy().astype(bool)
        return np.where(k, x.numpy(), filled)


class MLPGAN(GAN):
    """gan (Hands-On ML ch. 17): the book's dense generator and discriminator on Fashion-MNIST in [0, 1].

    Recipe: BCE, keras "rmsprop" for both networks (lr 1e-3, rho 0.9, eps 1e-7), batch 32, codings 30,
    Keras initialisation (glorot_uniform, zero biases). Keras 2's RMSprop without momentum divides by
    sqrt(v) + eps, as PyTorch's does (TF's fused kernel, used with momentum, puts eps inside the sqrt);
    with eps = 1e-7 either placement changes nothing visible. The book trains 50 epochs; our default is
    fewer (see ``recipe``), chosen so that `scratchgan train gan` takes minutes on 2 CPU cores.
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
        D = nn.Sequential(nn.Flatten(), *dense_stack([pixels, 150, 100, 1], nn.SELU, None, generator))
        return G, D
