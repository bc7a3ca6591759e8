"""Training loops in the style of the PyTorch examples and PyTorch-GAN, written once against a
``lib`` namespace (torch, nn, F, optim) and run on both libraries: the same losses and parameters
after two steps in float64. Our own code: it uses the APIs those scripts use (Variable aside)."""

import types

import numpy as np
import pytest
from compat_helpers import torch

import scratchgan as sg

LIBS = {
    "torch": lambda: types.SimpleNamespace(
        torch=torch, nn=torch.nn, F=torch.nn.functional, optim=torch.optim
    ),
    "sg": lambda: types.SimpleNamespace(torch=sg, nn=sg.nn, F=sg.nn.functional, optim=sg.optim),
}
LATENT, IMG = 8, (1, 8, 8)


def mlp_generator(lib, n_classes=0):
    nn = lib.nn

    def block(n_in, n_out, normalize=True):
        layers = [nn.Linear(n_in, n_out)]
        if normalize:
            layers.append(nn.BatchNorm1d(n_out, 0.8))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        return layers

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            if n_classes:
                self.label_emb = nn.Embedding(n_classes, n_classes)
            self.model = nn.Sequential(
                *block(LATENT + n_classes, 16, normalize=False),
                *block(16, 32),
                nn.Linear(32, int(np.prod(IMG))),
                nn.Tanh(),
            )

        def forward(self, z, labels=None):
            if n_classes:
                z = lib.torch.cat((self.label_emb(labels), z), -1)
            img = self.model(z)
            return img.view(img.size(0), *IMG)

    return Generator()


def mlp_discriminator(lib, sigmoid=True):
    nn = lib.nn

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            layers = [
                nn.Linear(int(np.prod(IMG)), 16),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(16, 1),
            ]
            self.model = nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else []))

        def forward(self, img):
            return self.model(img.view(img.shape[0], -1))

    return Discriminator()


def conv_discriminator(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(4, 8, 4, 2, 1, bias=False),
        nn.BatchNorm2d(8),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(8, 1, 2, 1, 0, bias=False),
        nn.Sigmoid(),
    )


def conv_generator(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.ConvTranspose2d(LATENT, 8, 2, 1, 0, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(True),
        nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(True),
        nn.ConvTranspose2d(4, 1, 4, 2, 1, bias=False),
        nn.Tanh(),
    )


def gan_step(lib, G, D, opt_G, opt_D, data, loss="bce", conv=False, labels=None):
    """One PyTorch-GAN style step; returns (d_loss, g_loss) as floats."""
    T = lib.torch
    real = T.tensor(data["real"], dtype=T.float64)
    z = T.tensor(data["z"].reshape(-1, LATENT, 1, 1) if conv else data["z"], dtype=T.float64)
    n = real.size(0)
    valid, fake = T.ones(n, 1, dtype=T.float64), T.zeros(n, 1, dtype=T.float64)
    criterion = lib.nn.BCELoss() if loss == "bce" else lib.nn.MSELoss()
    extra = () if labels is None else (T.tensor(labels),)

    def d_out(x):
        out = D(x, *extra) if labels is not None else D(x)
        return out.view(-1, 1)

    opt_G.zero_grad()
    gen_imgs = G(z, *extra)
    g_loss = criterion(d_out(gen_imgs), valid)
    g_loss.backward()
    opt_G.step()
    opt_D.zero_grad()
    d_loss = (criterion(d_out(real), valid) + criterion(d_out(gen_imgs.detach()), fake)) / 2
    d_loss.backward()
    opt_D.step()
    return d_loss.item(), g_loss.item()


def wgan_gp_step(lib, G, D, opt_G, opt_D, data, lambda_gp=10):
    T = lib.torch
    real, z = T.tensor(data["real"], dtype=T.float64), T.tensor(data["z"], dtype=T.float64)
    alpha = T.tensor(data["alpha"], dtype=T.float64)
    opt_D.zero_grad()
    fake_imgs = G(z)
    interpolates = (alpha * real + ((1 - alpha) * fake_imgs.detach())).requires_grad_(True)
    d_interpolates = D(interpolates)
    gradients = T.autograd.grad(
        outputs=d_interpolates,
        inputs=interpolates,
        grad_outputs=T.ones(real.shape[0], 1, dtype=T.float64),
        create_graph=True,
        retain_graph=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
    d_loss = -T.mean(D(real)) + T.mean(D(fake_imgs.detach())) + lambda_gp * gradient_penalty
    d_loss.backward()
    opt_D.step()
    opt_G.zero_grad()
    g_loss = -T.mean(D(G(z)))
    g_loss.backward()
    opt_G.step()
    return d_loss.item(), g_loss.item()


def vae_step(lib, model, opt, data):
    T, F = lib.torch, lib.F
    x = T.tensor((data["real"] + 1) / 2, dtype=T.float64).view(-1, 64)
    opt.zero_grad()
    h = F.relu(model["fc1"](x))
    mu, logvar = model["fc21"](h), model["fc22"](h)
    std = T.exp(0.5 * logvar)
    z = mu + T.tensor(data["eps"], dtype=T.float64) * std
    recon = T.sigmoid(model["fc4"](F.relu(model["fc3"](z))))
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kld = -0.5 * T.sum(1 + logvar - mu.pow(2) - logvar.exp())
    loss = bce + kld
    loss.backward()
    opt.step()
    return loss.item(), 0.0


def _copy_weights(ours, theirs):
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


def _data(rng, n=6, labels=False):
    return [
        {
            "real": np.tanh(rng.standard_normal((n, *IMG))),
            "z": rng.standard_normal((n, LATENT)),
            "alpha": rng.uniform(size=(n, 1, 1, 1)),
            "eps": rng.standard_normal((n, 4)),
        }
        for _ in range(2)
    ]


def _vae(lib):
    nn = lib.nn
    return nn.ModuleList(
        [nn.Linear(64, 12), nn.Linear(12, 4), nn.Linear(12, 4), nn.Linear(4, 12), nn.Linear(12, 64)]
    )


class _VAEView:
    def __init__(self, modules):
        self.modules = modules

    def __getitem__(self, name):
        return self.modules[["fc1", "fc21", "fc22", "fc3", "fc4"].index(name)]


CASES = {
    "gan": lambda lib: (mlp_generator(lib), mlp_discriminator(lib), {}),
    "lsgan": lambda lib: (
        mlp_generator(lib),
        mlp_discriminator(lib, sigmoid=False),
        {"loss": "mse"},
    ),
    "dcgan": lambda lib: (conv_generator(lib), conv_discriminator(lib), {"conv": True}),
    "wgan_gp": lambda lib: (mlp_generator(lib), mlp_discriminator(lib, sigmoid=False), None),
}


def _build(lib, case):
    if case == "vae":
        return (_vae(lib).double(),), {}
    if case == "cgan":
        return (mlp_generator(lib, n_classes=3).double(), mlp_discriminator(lib).double()), {}
    G, D, options = CASES[case](lib)
    return (G.double(), D.double()), options


def _train(lib, case, nets, options, data, labels):
    opts = [lib.optim.Adam(m.parameters(), lr=0.01, betas=(0.5, 0.999)) for m in nets]
    losses = []
    for batch in data:
        if case == "vae":
            losses.append(vae_step(lib, _VAEView(nets[0]), opts[0], batch))
        elif case == "wgan_gp":
            losses.append(wgan_gp_step(lib, *nets, *opts, batch))
        elif case == "cgan":
            losses.append(
                gan_step(lib, nets[0], lambda x, y: nets[1](x), *opts, batch, labels=labels)
            )
        else:
            losses.append(gan_step(lib, *nets, *opts, batch, **options))
    return losses


@pytest.mark.parametrize("case", sorted(CASES) + ["vae", "cgan"])
def test_two_training_steps_match_torch(rng, case):
    data, labels = _data(rng), rng.integers(0, 3, size=6)
    libs = {name: make() for name, make in LIBS.items()}
    (theirs, options), (ours, _) = _build(libs["torch"], case), _build(libs["sg"], case)
    for a, b in zip(ours, theirs):
        _copy_weights(a, b)
    expected_losses = _train(libs["torch"], case, theirs, options, data, labels)
    losses = _train(libs["sg"], case, ours, options, data, labels)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-7)
    for a, b in zip(ours, theirs):
        expected = {k: v.detach().numpy() for k, v in b.state_dict().items()}
        got = {k: v.numpy() for k, v in a.state_dict().items()}
        assert set(got) == set(expected)
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-7, atol=1e-12, err_msg=key)
