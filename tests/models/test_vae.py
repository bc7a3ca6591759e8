"""vae (Hands-On ML) and conv-vae (Chollet): architectures, each book's loss scaling against NumPy,
one step lowers the loss, deterministic validation, checkpoints, sampling and the pictures."""

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import train
from scratchgan.data import to_float
from scratchgan.models import vae
from scratchgan.training.protocol import StepContext

NAMES = ["vae", "conv-vae"]


def blobs(n, size, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    c = rng.uniform(size / 4, 3 * size / 4, (n, 2, 1, 1))
    return (255 * np.exp(-((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) / (size / 2))).astype(
        np.uint8
    )


def build(name, seed=0, **kw):
    config = train.make_config(name, seed=seed, **kw)
    config["image_shape"] = (
        [1, 12, 12] if name == "vae" else [1, 28, 28]
    )  # conv-vae's 7x7 needs 28x28
    return train.build_model(config)


def images_for(name, n=8, seed=0):
    return blobs(n, 12 if name == "vae" else 28, seed)


def test_vae_architecture_follows_the_book():
    model = build("vae")
    enc = {k: tuple(v.shape) for k, v in model.encoder.state_dict().items()}
    assert enc == {
        "body.1.weight": (150, 144),
        "body.1.bias": (150,),
        "body.3.weight": (100, 150),
        "body.3.bias": (100,),
        "mean.weight": (10, 100),
        "mean.bias": (10,),
        "log_var.weight": (10, 100),
        "log_var.bias": (10,),
    }
    assert [tuple(m.weight.shape) for m in model.decoder if hasattr(m, "weight")] == [
        (100, 10),
        (150, 100),
        (144, 150),
    ]
    assert (
        model.generative and model.config["optimizer"] == "rmsprop" and model.config["alpha"] == 0.9
    )


def test_conv_vae_parameter_counts_match_chollets_summary():
    model = build("conv-vae")
    counts = [sum(p.numel() for p in m.parameters()) for m in (model.encoder, model.decoder)]
    assert counts == [69076, 65089]
    mu, gamma = model.encoder(model.to_input(images_for("conv-vae", 2)))
    assert mu.shape == gamma.shape == (2, 2)
    assert model.decoder(mu).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("name", NAMES)
def test_loss_scaling_against_numpy(name):
    model = build(name)
    images = images_for(name)
    x = model.to_input(images)
    model.noise = sg.Generator(5)
    loss, parts = model.objective(x)
    mu, gamma = (t.numpy().astype(np.float64) for t in model.encoder(x))
    eps = sg.randn(*mu.shape, generator=sg.Generator(5)).numpy()
    z = mu + np.exp(gamma / 2) * eps
    with sg.no_grad():
        x_hat = model.decoder(sg.tensor(z.astype(np.float32))).numpy().astype(np.float64)
    t = to_float(images).astype(np.float64)
    bce = -(t * np.log(x_hat) + (1 - t) * np.log(1 - x_hat))  # per pixel
    kl = -0.5 * (1 + gamma - np.exp(gamma) - mu**2)  # per coding
    pixels = t[0].size
    if name == "vae":  # Keras's mean BCE + K.mean(latent_loss) / 784
        expected = bce.mean() + kl.sum(axis=1).mean() / pixels
    else:  # Chollet: mean over the batch of the pixel-summed BCE + reduce_mean of the per-coding KL
        expected = bce.reshape(len(t), -1).sum(axis=1).mean() + kl.mean()
    assert loss.item() == pytest.approx(expected, rel=1e-4)
    assert parts["kl"].item() == pytest.approx(kl.sum(axis=1).mean(), rel=1e-4)
    assert parts["nelbo"].item() == pytest.approx(
        bce.reshape(len(t), -1).sum(axis=1).mean() + kl.sum(axis=1).mean(), rel=1e-4
    )


@pytest.mark.parametrize("name", NAMES)
def test_one_step_lowers_the_loss_and_validation_is_deterministic(name):
    model = build(name)
    images = images_for(name)
    before = model.evaluate(images)
    state = model.generator.get_state()
    assert model.evaluate(images) == before and model.generator.get_state() == state
    logs = model.train_step((images,), StepContext())
    assert set(logs) == {"loss", "bce", "kl", "nelbo"} and np.isfinite(list(logs.values())).all()
    assert (
        model.generator.get_state() != state
    )  # training draws its noise from the model's generator
    assert model.evaluate(images)["loss"] < before["loss"]


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_round_trip(name, tmp_path):
    model = build(name)
    images = images_for(name, 4)
    model.train_step((images,), StepContext())
    gens = [("model", model.generator)]
    path = train.save_checkpoint(str(tmp_path / "c.npz"), model, {"step": 1}, generators=gens)
    other = build(name, seed=3)
    train.load_checkpoint(path, other, generators=[("model", other.generator)])
    assert np.array_equal(model.encode(images), other.encode(images))
    assert np.array_equal(model.sample(3, sg.Generator(1)), other.sample(3, sg.Generator(1)))
    assert model.train_step((images,), StepContext()) == other.train_step((images,), StepContext())


@pytest.mark.parametrize("name", NAMES)
def test_sampling_interpolation_and_pictures(name, tmp_path):
    model = build(name)
    shape = (1, 12, 12) if name == "vae" else (1, 28, 28)
    samples = model.sample(5, sg.Generator(0))
    assert samples.shape == (5, *shape) and ((samples > 0) & (samples < 1)).all()
    assert model.interpolate(None, 2, 4, sg.Generator(0)).shape == (2, 4, *shape)
    assert model.interpolate(images_for(name), 2, 4, sg.Generator(0)).shape == (2, 4, *shape)
    model.picture(images_for(name, 12), str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").exists() and (
        tmp_path / "p-extra.png"
    ).exists()  # + interpolation / latent grid
    with pytest.raises(train.Unsupported, match="inpaint"):
        model.inpaint(images_for(name), np.ones(shape[1:], bool))


def test_semantic_grid_keeps_the_originals_at_even_positions():
    model = build("vae")
    grid, original = model.semantic_grid(sg.Generator(2))
    codes = model.prior_codes(12, sg.Generator(2)).reshape(3, 4, -1)
    assert grid.shape == (35, 1, 12, 12) and original.sum() == 12
    assert original[::2, ::2].all()
    np.testing.assert_allclose(
        grid.reshape(5, 7, -1)[::2, ::2],
        model.decode(codes.reshape(12, -1)).reshape(3, 4, -1),
        rtol=1e-5,
        atol=1e-6,
    )
    # the in-between cells decode the mean of their neighbours' codes (bilinear, corners aligned)
    middle = model.decode(((codes[0, 0] + codes[0, 1] + codes[1, 0] + codes[1, 1]) / 4)[None])
    np.testing.assert_allclose(
        grid.reshape(5, 7, -1)[1, 1], middle.reshape(-1), rtol=1e-4, atol=1e-6
    )


def test_conv_vae_latent_grid(tmp_path):
    model = build("conv-vae")
    path = model.latent_grid(str(tmp_path / "grid.png"), n=4)
    assert (tmp_path / "grid.png").exists() and path.endswith("grid.png")
    with pytest.raises(train.Unsupported, match="2-D code space"):
        vae.ConvVAE.latent_grid(build("vae"), str(tmp_path / "x.png"))


def test_conv_vae_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    model = build("conv-vae")
    images = images_for("conv-vae", 4)
    enc = tnn.Sequential(
        tnn.Conv2d(1, 32, 3, 2, 1),
        tnn.ReLU(),
        tnn.Conv2d(32, 64, 3, 2, 1),
        tnn.ReLU(),
        tnn.Flatten(),
        tnn.Linear(3136, 16),
        tnn.ReLU(),
    )
    mean, log_var = tnn.Linear(16, 2), tnn.Linear(16, 2)
    dec = tnn.Sequential(
        tnn.Linear(2, 3136),
        tnn.ReLU(),
        tnn.Unflatten(1, (64, 7, 7)),
        tnn.ConvTranspose2d(64, 64, 3, 2, 1, output_padding=1),
        tnn.ReLU(),
        tnn.ConvTranspose2d(64, 32, 3, 2, 1, output_padding=1),
        tnn.ReLU(),
        tnn.Conv2d(32, 1, 3, padding=1),
        tnn.Sigmoid(),
    )
    ours = [*model.encoder.named_parameters(), *model.decoder.named_parameters()]
    theirs = [
        *enc.named_parameters(prefix="body"),
        *mean.named_parameters(prefix="mean"),
        *log_var.named_parameters(prefix="log_var"),
        *dec.named_parameters(),
    ]
    assert [n for n, _ in ours] == [n for n, _ in theirs]
    with torch.no_grad():
        for (_, a), (_, b) in zip(ours, theirs):
            b.copy_(torch.from_numpy(a.numpy()))
    x = torch.from_numpy(to_float(images))
    h = enc(x)
    mu, gamma = mean(h), log_var(h)
    eps = torch.from_numpy(sg.randn(4, 2, generator=sg.Generator(9)).numpy())
    out = dec(mu + torch.exp(gamma / 2) * eps)
    rec = (
        torch.nn.functional.binary_cross_entropy(out, x, reduction="none").sum(dim=(1, 2, 3)).mean()
    )
    kl = (-0.5 * (1 + gamma - mu**2 - gamma.exp())).mean()
    (rec + kl).backward()
    model.noise = sg.Generator(9)
    model.optimizer.zero_grad()
    loss, _ = model.objective(model.to_input(images))
    loss.backward()
    assert loss.item() == pytest.approx((rec + kl).item(), rel=1e-5)
    for (name, a), (_, b) in zip(ours, theirs):
        np.testing.assert_allclose(
            a.grad.numpy(), b.grad.numpy(), rtol=2e-3, atol=2e-5, err_msg=name
        )
