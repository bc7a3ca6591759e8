"""PyTorch references of scratchgan's dcgan (ns), wgan-gp, lsgan and dcgan64 (issue 18: model-level
equivalence). Dev-only: torch is imported here and in tests, never in scratchgan/.

Written from scratchgan/models/dcgan.py's architecture tables, layer for layer, with the same
Sequential indices, so both sides' state dicts have the same keys and weights load either way.
Every hyper-parameter (loss, optimiser and its settings, n_critic, gp_weight, batch norm momentum
and eps, codings size, width) is read from scratchgan's ``make_config(model)``: nothing here can
drift from the recipe. The training step mirrors ``scratchgan.models.gan_base.GAN.train_step``:

    D step   fake = G(z) without grad; D on [fake; real] in one pass ("joint", dcgan) or D(real),
             D(fake) in two ("separate", dcgan64); d_loss (+ gp_weight * gradient penalty for
             wgan-gp); Adam/RMSprop step
    G step   when (step + 1) % n_critic == 0: D frozen, g_loss(D(G(z'))), G's optimiser step

Every random draw (initialisation, z, dropout masks, the penalty's mixing weights e) comes from a
Source, in the order scratchgan draws them: ``TorchSource`` draws with torch's RNG from its own seed
(the reference runs), ``Replay`` hands out draws recorded from scratchgan (the step-by-step test).
"""

import numpy as np
import torch
import torch.nn.functional as TF
from torch import nn

from scratchgan import data as sgdata
from scratchgan.data.transforms import resize
from scratchgan.training.recipes import FALLBACK_DEFAULTS

MODELS = ("dcgan", "wgan-gp", "lsgan", "dcgan64")  # registry names; loss presets from make_config
LOSSES = ("mm", "ns", "wgan-gp", "ls")
# the GAN tricks the reference leaves out: each must be off (its default) in the recipe
TRICKS_OFF = {
    "label_smoothing": 0.0,
    "label_noise": 0.0,
    "image_pool": 0,
    "instance_noise": 0.0,
    "log_gradients": False,
}


class TorchSource:
    """Draws with torch's own RNG, from ``seed``."""

    def __init__(self, seed):
        self.generator = torch.Generator().manual_seed(int(seed))

    def normal(self, shape, dtype):
        return torch.randn(tuple(shape), generator=self.generator, dtype=dtype)

    def uniform(self, shape, dtype):
        return torch.rand(tuple(shape), generator=self.generator, dtype=dtype)


class Replay:
    """Hands out recorded draws ``[(kind, array), ...]`` in order, taking them off the list (which
    the recorder may still be filling); a draw of another kind or shape than the next recorded one
    means the two steps draw differently, and fails at once."""

    def __init__(self, draws):
        self.draws = draws

    def _next(self, kind, shape, dtype):
        if not self.draws:
            raise AssertionError(f"replay: a {kind} draw of shape {tuple(shape)} beyond the record")
        got, array = self.draws.pop(0)
        if got != kind or tuple(array.shape) != tuple(shape):
            raise AssertionError(
                f"replay: torch asks for a {kind} draw of shape {tuple(shape)}, scratchgan drew "
                f"{got} of shape {tuple(array.shape)}"
            )
        return torch.from_numpy(np.array(array)).to(dtype)

    def normal(self, shape, dtype):
        return self._next("normal", shape, dtype)

    def uniform(self, shape, dtype):
        return self._next("uniform", shape, dtype)


class Dropout(nn.Module):
    """Inverted dropout, x * [u >= p] / (1 - p) with u ~ U[0, 1) from the Source (scratchgan's
    ops/dropout.py; torch's own nn.Dropout computes the same function from its bernoulli draws)."""

    def __init__(self, p, source):
        super().__init__()
        self.p, self.source = p, source

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        u = self.source.uniform(x.shape, x.dtype)
        return x * ((u >= self.p).to(x.dtype) * (1 / (1 - self.p)))


def keras_batch_norm(channels):
    """Keras BatchNormalization: momentum 0.99 (torch's 0.01), eps 1e-3."""
    return nn.BatchNorm2d(channels, momentum=0.01, eps=1e-3)


def dcgan_networks(config, source):
    """dcgan's G and D (Hands-On ML ch. 17), as dcgan.DCGAN.build_networks. Without a
    ``source`` the dropout is torch's own nn.Dropout (benchmarks/train_step.py times torch as
    its users run it)."""
    C, H, W = config["image_shape"]
    h, w, nz = H // 4, W // 4, config["codings_size"]
    G = nn.Sequential(
        nn.Linear(nz, 128 * h * w),
        nn.Unflatten(1, (128, h, w)),
        keras_batch_norm(128),
        nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1),
        nn.SELU(),
        keras_batch_norm(64),
        nn.ConvTranspose2d(64, C, 5, stride=2, padding=2, output_padding=1),
        nn.Tanh(),
    )
    D = nn.Sequential(
        nn.Conv2d(C, 64, 5, stride=2, padding=2),
        nn.LeakyReLU(0.2),
        Dropout(0.4, source) if source is not None else nn.Dropout(0.4),
        nn.Conv2d(64, 128, 5, stride=2, padding=2),
        nn.LeakyReLU(0.2),
        Dropout(0.4, source) if source is not None else nn.Dropout(0.4),
        nn.Flatten(),
        nn.Linear(128 * h * w, 1),
    )
    return G, D


def dcgan64_networks(config, source):
    """dcgan64's G and D (Radford et al.), as dcgan.DCGAN64.build_networks."""
    C, w, nz = config["image_shape"][0], config["width"], config["codings_size"]

    def up(cin, cout, stride, padding):
        return [
            nn.ConvTranspose2d(cin, cout, 4, stride, padding, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
        ]

    def down(cin, cout, norm=True):
        return [
            nn.Conv2d(cin, cout, 4, 2, 1, bias=False),
            *([nn.BatchNorm2d(cout)] if norm else []),
            nn.LeakyReLU(0.2),
        ]

    G = nn.Sequential(
        nn.Unflatten(1, (nz, 1, 1)),
        *up(nz, 8 * w, 1, 0),
        *up(8 * w, 4 * w, 2, 1),
        *up(4 * w, 2 * w, 2, 1),
        *up(2 * w, w, 2, 1),
        nn.ConvTranspose2d(w, C, 4, 2, 1, bias=False),
        nn.Tanh(),
    )
    D = nn.Sequential(
        *down(C, w, norm=False),
        *down(w, 2 * w),
        *down(2 * w, 4 * w),
        *down(4 * w, 8 * w),
        nn.Conv2d(8 * w, 1, 4, 1, 0, bias=False),
        nn.Flatten(),
    )
    return G, D


def init_(module, scheme, generator):
    """``glorot``: Keras's glorot_uniform kernels, zero biases (keras_init_); ``dcgan``: weights
    ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0 (dcgan_init_)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            if scheme == "glorot":
                nn.init.xavier_uniform_(m.weight, generator=generator)
            else:
                nn.init.normal_(m.weight, 0.0, 0.02, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and scheme == "dcgan":
            nn.init.normal_(m.weight, 1.0, 0.02, generator=generator)
            nn.init.zeros_(m.bias)


def optimizer(params, config, prefix):
    """torch's RMSprop or Adam with scratchgan's build_optimizer settings (prefixed keys win)."""

    def get(key):
        return config.get(prefix + key, config.get(key, FALLBACK_DEFAULTS.get(key)))

    kind, lr = get("optimizer"), float(get("lr"))
    if kind == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=lr, alpha=get("alpha"), eps=get("eps"), momentum=get("momentum")
        )
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(get("betas")), eps=get("eps"))
    raise ValueError(f"optimizer {kind!r}: the reference has rmsprop and adam")


def d_loss(kind, real_out, fake_out):
    """parts/losses.d_loss with targets 1 (real) and 0 (fake)."""
    if kind in ("mm", "ns"):
        out = torch.cat([fake_out, real_out])
        target = torch.cat([torch.zeros_like(fake_out), torch.ones_like(real_out)])
        return TF.binary_cross_entropy_with_logits(out, target)
    if kind == "wgan-gp":
        return fake_out.mean() - real_out.mean()
    return ((real_out - 1) ** 2).mean() * 0.5 + (fake_out**2).mean() * 0.5  # ls


def g_loss(kind, fake_out):
    if kind == "mm":
        return -TF.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out))
    if kind == "ns":
        return TF.binary_cross_entropy_with_logits(fake_out, torch.ones_like(fake_out))
    if kind == "wgan-gp":
        return -fake_out.mean()
    return ((fake_out - 1) ** 2).mean() * 0.5  # ls


def gradient_penalty(D, real, fake, source):
    """mean (|grad_x D(x~)|_2 - 1)^2 at x~ = e real + (1 - e) fake, e ~ U(0, 1) per sample."""
    e = source.uniform((real.shape[0],) + (1,) * (real.ndim - 1), real.dtype)
    x = (e * real + (1 - e) * fake).detach().requires_grad_(True)
    (gx,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    norm = ((gx * gx).flatten(1).sum(dim=1) + 1e-12).sqrt()
    return ((norm - 1) ** 2).mean()


class TorchGAN:
    """The torch reference of one of MODELS: ``train_step(real)`` as scratchgan's, ``sample(n)``.

    ``config``: scratchgan's make_config(model) with image_shape set (what the trainer adds).
    ``source``: TorchSource or Replay. ``dtype``: torch.float32 (the runs) or float64 (tests).
    """

    def __init__(self, config, source, dtype=torch.float32):
        self.config, self.source, self.dtype = config, source, dtype
        self.kind = config["loss"]
        if self.kind not in LOSSES:
            raise ValueError(f"loss {config['loss']!r}: the reference has {', '.join(LOSSES)}")
        for key, off in TRICKS_OFF.items():
            if config.get(key, off) != off:
                raise ValueError(f"{key}={config[key]!r}: the reference has only {off!r} (off)")
        if config["model"] == "dcgan64":
            config = {**config, "image_shape": [config["image_shape"][0], 64, 64]}
            self.G, self.D = dcgan64_networks(config, source)
        else:
            self.G, self.D = dcgan_networks(config, source)
        self.image_shape = tuple(config["image_shape"])
        init = getattr(source, "generator", None)
        if init is not None:
            init_(self.G, config["init"], init)
            init_(self.D, config["init"], init)
        self.G.to(dtype)
        self.D.to(dtype)
        self.opt_g = optimizer(self.G.parameters(), config, "g_")
        self.opt_d = optimizer(self.D.parameters(), config, "d_")
        self.step = 0

    def load_state(self, generator_state, discriminator_state):
        """Copy scratchgan state dicts (name -> array) into G and D, every key on both sides."""
        for net, state in ((self.G, generator_state), (self.D, discriminator_state)):
            ours = net.state_dict()
            if set(ours) != set(state):
                raise KeyError(f"state keys differ: {sorted(set(ours) ^ set(state))}")
            net.load_state_dict(
                {k: torch.as_tensor(np.array(v)).to(ours[k].dtype) for k, v in state.items()}
            )

    def to_input(self, images):
        """uint8 loader images -> D's input in [-1, 1], as the scratchgan model's to_input."""
        x = sgdata.to_float(images)
        if self.image_shape[-1] != x.shape[-1]:
            x = resize(x, self.image_shape[-1])
        return torch.from_numpy(sgdata.to_tanh_range(x)).to(self.dtype)

    def noise(self, n):
        return self.source.normal((n, self.config["codings_size"]), self.dtype)

    def train_step(self, real):
        """One D update, and a G update when step + 1 is a multiple of n_critic; returns losses."""
        c, n = self.config, real.shape[0]
        with torch.no_grad():
            fake = self.G(self.noise(n))
        self.opt_d.zero_grad()
        if c.get("d_batches", "joint") == "joint":
            out = self.D(torch.cat([fake, real]))
            fake_out, real_out = out[:n], out[n:]
        else:
            real_out, fake_out = self.D(real), self.D(fake)
        loss_d = d_loss(self.kind, real_out, fake_out)
        logs = {"d_loss": loss_d.item()}
        if self.kind == "wgan-gp":
            loss_d = loss_d + gradient_penalty(self.D, real, fake, self.source) * c["gp_weight"]
        loss_d.backward()
        self.opt_d.step()
        self.step += 1
        if self.step % c.get("n_critic", 1):
            return logs
        self.opt_g.zero_grad()
        self.D.requires_grad_(False)
        try:
            loss_g = g_loss(self.kind, self.D(self.G(self.noise(n))))
            loss_g.backward()
        finally:
            self.D.requires_grad_(True)
        self.opt_g.step()
        logs["g_loss"] = loss_g.item()
        return logs

    def train(self, on=True):
        self.G.train(on)
        self.D.train(on)

    @torch.no_grad()
    def sample(self, n):
        """n images in [0, 1] (numpy float32 N x C x H x W), G in evaluation mode."""
        self.G.eval()
        x = self.G(self.noise(n)).float().numpy()
        return np.clip((x + 1) / 2, 0.0, 1.0)
