"""The GAN base: a generator G and a discriminator D trained against each other (Hands-On ML
ch. 17).

``GAN`` is the family's base. It owns the two-phase step of the book's ``train_gan`` loop:

    phase 1  D learns on [G(z); real] with targets [0]*B + [1]*B (G's output is a constant here)
    phase 2  G learns through a frozen D (D's parameters stop requiring grad) with targets 1

and the choice of objective, ``--loss``:

    mm       minimax (Goodfellow et al. 2014): D as above; G minimises mean log(1 - D(G(z)))
    ns       non-saturating: G minimises -mean log D(G(z)) = BCE(D(G(z)), 1) (the book's loop;
             default; D(x) = sigmoid(logit), and both cross-entropies are computed from the logit)
    wgan     Wasserstein critic (Arjovsky et al. 2017): D minimises mean D(fake) - mean D(real), its
             weights clipped to [-c, c] after each step; G minimises -mean D(G(z)); G steps every
             n_critic steps
    wgan-gp  as wgan, with the penalty gp_weight * mean (|grad_x D(x~)| - 1)^2 on random
             interpolates x~ of real and fake instead of clipping (Gulrajani et al. 2017); needs
             double backward
    ls       least squares (Mao et al. 2017): D minimises (mean (D(real) - 1)^2 + mean D(fake)^2)
             / 2; G minimises mean (D(G(z)) - 1)^2 / 2

Training tricks (GANs in Action 5.4, Chollet ch. 12), each a recipe key, all off by default:

    label_smoothing  s   one-sided smoothing (Salimans et al. 2016): D's real targets are 1 - s,
                         fake stay 0
    label_noise      a   noisy labels: real targets 1 - a U, fake targets 0 + a U, U ~ U(0, 1) per
                         sample (Chollet adds 0.05 U to labels where fake = 1, real = 0; with our
                         fake = 0, real = 1 the mirror image keeps every target inside [0, 1])
    n_critic         k   D steps per G step (the wgan presets use 5)
    n_critic_burst   N   N D steps instead of k before each of the first 25 G steps and every
                         500th (the WGAN paper's code: 100; it trains the critic near optimality
                         before G learns from it); 0: off
    image_pool       P   experience replay (Shrivastava et al. 2017; CycleGAN's pool): up to P
                         generated images are kept; once full, each new fake is, with probability
                         1/2, swapped for a stored one, which D sees instead
    instance_noise   sigma  Gaussian noise of std sigma on every D input, real and fake (Sonderby
                         et al. 2016), annealed linearly to 0 over ``instance_noise_steps`` D steps
    d_batches        "joint" (the book: one D pass over [fake; real]) or "separate" (D(real) and
                         D(fake) in two passes, so batch norm in D sees pure batches, as PyTorch's
                         DCGAN example)
    log_gradients    also log g_grad_norm (L2 norm of G's parameter gradient) and d_gz (mean
                         D(G(z))) at each G step (GANs in Action fig. 5.5)
    ema_decay        d   an exponential moving average of G's weights, updated after every G step
                         (parts/ema.py: warm-up min(d, (1 + k) / (10 + k)) at the k-th G step); in
                         evaluation mode (``train(False)``: the trainer's pictures and metrics,
                         ``scratchgan sample`` and ``eval``) G holds the average. 0: off

Label smoothing and noise change the targets of mm, ns and ls; wgan and wgan-gp have none.

D's last layer is linear: for mm and ns its output is the logit of the book's sigmoid probability
(``discriminate(x)`` = sigmoid(D(x))), for wgan, wgan-gp and ls a score. A family member says how to
build the two networks (``build_networks``). The objectives themselves are in ``parts.losses``.
"""

import math
from contextlib import contextmanager
from typing import ClassVar

import numpy as np

from .. import data as sgdata
from .. import functional as F
from .. import viz
from ..autograd import no_grad
from ..ops.shape import concat
from ..tensor import randn, tensor
from ..train import Model, build_optimizer
from .parts import (
    LOSSES,
    ImagePool,
    d_loss,
    frozen,
    g_loss,
    grad_norm,
    gradient_penalty,
    keras_init_,
)
from .parts.ema import WeightEMA
from .parts.training import is_generator_step

PICTURE_SAMPLES = 64  # the fixed latent batch drawn at build time: an 8 x 8 grid every epoch


class GAN(Model):
    """Base of the GANs; subclasses implement ``build_networks(generator) -> (G, D)``, where G maps
    codes (N, codings_size) to images N x C x H x W in ``data_range`` and D maps images to (N, 1).

    Conditional members (cgan) override the hooks ``generate(z, labels)``, ``critic(x, labels)``,
    ``random_labels(n, generator)`` and ``loader_arrays``; for the others labels are None
    throughout. ``sample`` and the command-line pictures always return images in [0, 1].
    """

    generative = True
    data_range = (
        0.0,
        1.0,
    )  # what G outputs and D sees: (0, 1) for sigmoid outputs, (-1, 1) for tanh
    picture_samples = PICTURE_SAMPLES
    options: ClassVar[
        dict
    ] = {  # the tricks of the module docstring, all off; `train --set KEY=VALUE` turns one on
        "label_smoothing": 0.0,
        "label_noise": 0.0,
        "n_critic": 1,
        "n_critic_burst": 0,
        "image_pool": 0,
        "instance_noise": 0.0,
        "instance_noise_steps": 0,
        "log_gradients": False,
        "ema_decay": 0.0,
    }
    # d_batches: "joint" when unset (dcgan and cgan set "separate")
    recipe_types: ClassVar[dict] = {"d_batches": str}
    loss_presets: ClassVar[dict] = {
        "mm": {"loss": "mm"},
        "ns": {"loss": "ns"},
        "wgan": {
            "loss": "wgan",
            "optimizer": "rmsprop",
            "lr": 5e-5,
            "alpha": 0.99,
            "eps": 1e-8,
            "n_critic": 5,
            "clip_value": 0.01,
        },
        "wgan-gp": {
            "loss": "wgan-gp",
            "optimizer": "adam",
            "lr": 1e-4,
            "betas": [0.5, 0.9],
            "eps": 1e-8,
            "n_critic": 5,
            "gp_weight": 10.0,
        },
        "ls": {"loss": "ls"},
    }

    def __init__(self, config, generator):
        super().__init__(config, generator)
        self.kind = config.get("loss", "ns")
        if self.kind not in LOSSES:
            raise ValueError(f"loss {self.kind!r}: expected one of {', '.join(LOSSES)}")
        if config.get("d_batches", "joint") not in ("joint", "separate"):
            raise ValueError(f"d_batches {config['d_batches']!r}: expected 'joint' or 'separate'")
        self.image_shape = tuple(config.get("image_shape", (1, 28, 28)))
        self.codings_size = config["codings_size"]
        self.G, self.D = self.build_networks(generator)
        self.init_weights(generator)
        self.place(self.G, self.D)
        self.opt_g = build_optimizer(list(self.G.parameters()), config, "g_")
        self.opt_d = build_optimizer(list(self.D.parameters()), config, "d_")
        decay = config.get("ema_decay", 0.0)
        self.ema = WeightEMA(self.G, decay) if decay else None
        self.fixed_z = self.noise(self.picture_samples)
        self.fixed_labels = self.picture_labels()
        self.pool = ImagePool(config["image_pool"]) if config.get("image_pool") else None

    def build_networks(self, generator):
        raise NotImplementedError

    def init_weights(self, generator):
        if self.config.get("init") == "glorot":
            keras_init_(self.G, generator)
            keras_init_(self.D, generator)

    @property
    def probability_output(self):
        return self.kind in ("mm", "ns")

    def noise(self, n, generator=None):
        generator = generator or self.generator
        return randn(n, self.codings_size, dtype=self.dtype, generator=generator).to(self.device)

    # ----- the hooks a conditional GAN overrides
    def generate(self, z, labels=None):
        return self.G(z)

    def critic(self, x, labels=None):
        return self.D(x)

    def random_labels(self, n, generator=None):
        return None

    def picture_labels(self):
        return None

    def real_inputs(self, batch):
        """(images as D sees them, labels or None) from a loader batch."""
        return self.to_input(batch[0]), None

    def to_input(self, images):
        """uint8 images -> Tensor N x C x H x W in ``data_range`` (the run's dtype, device)."""
        if self.data_range == (-1.0, 1.0):
            return self.floats(sgdata.to_tanh_range(images))
        if self.data_range != (0.0, 1.0):
            raise ValueError(
                f"{self.name}: data_range {self.data_range}: expected (0, 1) or (-1, 1)"
            )
        return self.floats(sgdata.to_float(images))

    def to_unit(self, images):
        """G's outputs (Tensor or array, in ``data_range``) -> NumPy float32 in [0, 1]."""
        x = images.numpy() if hasattr(images, "numpy") else np.asarray(images)
        lo, hi = self.data_range
        return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)

    def modules(self):
        return {"generator": self.G, "discriminator": self.D}

    def optimizers(self):
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def train(self, mode=True):
        """Training or evaluation mode; with ema_decay on, evaluation mode swaps G's averaged
        weights in (and training mode swaps the trained ones back)."""
        super().train(mode)
        if self.ema is not None:
            self.ema.use(not mode)

    @contextmanager
    def averaged(self):
        """Within the block G holds its averaged weights (when ema_decay is on), then its own."""
        was = self.ema is not None and self.ema.active
        if self.ema is not None:
            self.ema.use(True)
        try:
            yield
        finally:
            if self.ema is not None:
                self.ema.use(was)

    def update_ema(self):
        """After each G step: one step of the average of G's weights (when ema_decay is on)."""
        if self.ema is not None:
            self.ema.update()

    def extra_state(self):
        state = self.pool.state() if self.pool is not None else {}
        if self.ema is not None:
            state.update(self.ema.state())
        return state

    def load_extra_state(self, state):
        # checkpoints written before the step context also hold "d_steps", the D updates so far:
        # always the trainer's step, which the step context now gives; it is ignored
        if self.pool is not None:
            self.pool.load_state(state, self.fixed_z.xp)
        if self.ema is not None:
            self.ema.load_state(state)

    # ----- the tricks
    def label_targets(self, n, like):
        """(real_target, fake_target) with smoothing and noise, or (None, None) for plain 1 and
        0."""
        s, a = self.config.get("label_smoothing", 0.0), self.config.get("label_noise", 0.0)
        if not s and not a:
            return None, None
        real, fake = np.full((n, 1), 1.0 - s), np.zeros((n, 1))
        if a:
            real -= a * self.generator.uniform((n, 1), np.float64)
            fake += a * self.generator.uniform((n, 1), np.float64)
        return (
            tensor(real.astype(like.dtype), device=like.device),
            tensor(fake.astype(like.dtype), device=like.device),
        )

    def noise_level(self, step):
        """Instance noise std before D update ``step`` (0-based): annealed linearly to 0."""
        sigma = self.config.get("instance_noise", 0.0)
        if not sigma:
            return 0.0
        steps = self.config.get("instance_noise_steps", 0)
        return sigma * max(0.0, 1.0 - step / steps) if steps else sigma

    def blur(self, x, sigma):
        """x + sigma * N(0, 1): instance noise on a D input."""
        if not sigma:
            return x
        return x + randn(*x.shape, dtype=x.dtype, generator=self.generator).to(x.device) * sigma

    # ----- training
    def train_step(self, batch, ctx):
        """One D update, and a G update when ``ctx.step + 1`` D updates complete a G step's critic
        steps (every n_critic-th, or per n_critic_burst)."""
        real, labels = self.real_inputs(batch)
        n = real.shape[0]
        c = self.config
        sigma = self.noise_level(ctx.step)
        # phase 1: the discriminator, on fakes made for the real batch's labels (if any)
        with no_grad():
            fake = self.generate(self.noise(n), labels)
        fake_labels = labels
        if self.pool is not None:
            fake, fake_labels = self.pool.query(fake, labels, self.generator)
        self.opt_d.zero_grad()
        if c.get("d_batches", "joint") == "joint":
            both = None if labels is None else np.concatenate([fake_labels, labels])
            out = self.critic(self.blur(concat([fake, real], 0), sigma), both)
            fake_out, real_out = out[:n], out[n:]
        else:
            real_out = self.critic(self.blur(real, sigma), labels)
            fake_out = self.critic(self.blur(fake, sigma), fake_labels)
        real_target, fake_target = self.label_targets(n, real_out)
        loss_d = d_loss(self.kind, real_out, fake_out, real_target, fake_target)
        logs = {"d_loss": loss_d.item()}
        if self.kind == "wgan-gp":
            gp = gradient_penalty(lambda x: self.critic(x, labels), real, fake, self.generator)
            loss_d = loss_d + gp * c["gp_weight"]
            logs["gp"] = gp.item()
        loss_d.backward()
        self.opt_d.step()
        if self.kind == "wgan":
            bound = c["clip_value"]
            for p in self.D.parameters():
                p.xp.clip(p.array, -bound, bound, out=p.array)
        if self.probability_output:
            logs["d_real"] = F.sigmoid(real_out.detach()).mean().item()
            logs["d_fake"] = F.sigmoid(fake_out.detach()).mean().item()
        if not is_generator_step(ctx.step, c.get("n_critic", 1), c.get("n_critic_burst", 0)):
            return logs
        # phase 2: the generator, through a frozen discriminator, for random labels (if any)
        self.opt_g.zero_grad()
        with frozen(self.D):
            g_labels = self.random_labels(n)
            out = self.critic(self.blur(self.generate(self.noise(n), g_labels), sigma), g_labels)
            loss_g = g_loss(self.kind, out)
            loss_g.backward()
        if c.get("log_gradients"):
            logs["g_grad_norm"] = grad_norm(self.G.parameters())
            verdict = F.sigmoid(out.detach()) if self.probability_output else out.detach()
            logs["d_gz"] = verdict.mean().item()
        self.opt_g.step()
        self.update_ema()
        logs["g_loss"] = loss_g.item()
        return logs

    def discriminate(self, x, labels=None):
        """D's verdict on images x: the probability of "real" for mm and ns, the score otherwise."""
        out = self.critic(x, labels)
        return F.sigmoid(out) if self.probability_output else out

    def evaluate(self, images, labels=None):
        """D's mean verdict on (up to) 1000 validation images and on G(fixed latent batch)."""
        real_labels = (
            None if labels is None or self.fixed_labels is None else np.asarray(labels[:1000])
        )
        with no_grad():
            real = self.discriminate(self.to_input(images[:1000]), real_labels).numpy()
            fake = self.discriminate(
                self.generate(self.fixed_z, self.fixed_labels), self.fixed_labels
            ).numpy()
        out = {"d_real": float(real.mean()), "d_fake": float(fake.mean())}
        if self.probability_output:
            out["d_acc"] = float(
                ((real > 0.5).sum() + (fake < 0.5).sum()) / (real.size + fake.size)
            )
        return out

    def picture(self, images, path):
        with no_grad():
            out = self.to_unit(self.generate(self.fixed_z, self.fixed_labels))
        viz.save_image_grid(out, path, ncol=int(math.sqrt(len(out))))

    # ----- for the command line
    def sample(self, n, generator, labels=None):
        """n images in [0, 1] from codes drawn with ``generator`` (labels: for conditional GANs;
        default random labels drawn after the codes)."""
        z = self.noise(n, generator)
        if labels is None:
            labels = self.random_labels(n, generator)
        with no_grad():
            return self.to_unit(self.generate(z, labels))

    def decode(self, z, labels=None):
        """G(z) in [0, 1] for codes z (array or Tensor (N, codings_size)), in evaluation mode."""
        z = z if hasattr(z, "requires_grad") else self.floats(np.asarray(z))
        with no_grad():
            return self.to_unit(self.generate(z, labels))

    def interpolate(self, images, rows, steps, generator, path="slerp"):
        """G along paths between random pairs of codes: rows x steps x C x H x W in [0, 1].

        ``path``: "slerp" (great circle, White 2016: it keeps the codes at the norm the Gaussian
        prior puts its mass on) or "lerp" (straight line)."""
        from .latent import interpolate_codes

        a, b = self.noise(rows, generator).numpy(), self.noise(rows, generator).numpy()
        z = interpolate_codes(a, b, steps, path).reshape(rows * steps, -1)
        labels = self.random_labels(rows, generator)
        labels = None if labels is None else np.repeat(labels, steps)
        out = self.decode(z, labels)
        return out.reshape((rows, steps) + out.shape[1:])

    def inpaint(
        self,
        images,
        mask,
        generator,
        iterations=300,
        lr=0.01,
        perceptual_weight=0.003,
        blend="copy",
    ):
        """Semantic inpainting (Yeh et al. 2017), see ``inpaint.inpaint``: images in [0, 1] where
        the known pixels (``mask`` H x W, True = known) are the originals and the rest come from
        G."""
        from .inpaint import inpaint

        return inpaint(
            self,
            images,
            mask,
            generator,
            iterations=iterations,
            lr=lr,
            perceptual_weight=perceptual_weight,
            blend=blend,
        )
