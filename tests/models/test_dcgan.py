"""dcgan (Hands-On ML ch. 17), dcgan64 (Radford et al.) and the aliases wgan, wgan-gp, lsgan: the
architecture tables, initialisation, resizing, one step per loss with gradients reaching every
parameter, a loss that falls, checkpoints, and training on a folder of images."""

import numpy as np
import pytest
from PIL import Image

import scratchgan as sg
from scratchgan import nn, train
from scratchgan.models import dcgan
from scratchgan.training.protocol import StepContext

LOSSES = ["mm", "ns", "wgan", "wgan-gp", "ls"]


def build(model, **kw):
    config = train.make_config(model, **kw)
    config.setdefault("image_shape", [1, 28, 28])
    return train.build_model(config)


def images(n, size=28, channels=None, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    c = rng.uniform(0.3 * size, 0.7 * size, (n, 2, 1, 1))
    blob = (255 * np.exp(-((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) / (0.02 * size**2))).astype(
        np.uint8
    )
    return blob if channels is None else np.repeat(blob[:, None], channels, axis=1)


def shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_dcgan_follows_the_books_table():
    m = build("dcgan")
    assert shapes(m.G) == {
        "0.weight": (6272, 100),
        "0.bias": (6272,),
        "2.weight": (128,),
        "2.bias": (128,),
        "2.running_mean": (128,),
        "2.running_var": (128,),
        "2.num_batches_tracked": (),
        "3.weight": (128, 64, 5, 5),
        "3.bias": (64,),
        "5.weight": (64,),
        "5.bias": (64,),
        "5.running_mean": (64,),
        "5.running_var": (64,),
        "5.num_batches_tracked": (),
        "6.weight": (64, 1, 5, 5),
        "6.bias": (1,),
    }
    assert shapes(m.D) == {
        "0.weight": (64, 1, 5, 5),
        "0.bias": (64,),
        "3.weight": (128, 64, 5, 5),
        "3.bias": (128,),
        "7.weight": (1, 6272),
        "7.bias": (1,),
    }
    kinds = [type(layer).__name__ for layer in m.G]
    assert kinds == [
        "Linear",
        "Unflatten",
        "BatchNorm2d",
        "ConvTranspose2d",
        "SELU",
        "BatchNorm2d",
        "ConvTranspose2d",
        "Tanh",
    ]
    assert [type(layer).__name__ for layer in m.D] == [
        "Conv2d",
        "LeakyReLU",
        "Dropout",
        "Conv2d",
        "LeakyReLU",
        "Dropout",
        "Flatten",
        "Linear",
    ]
    assert m.D[1].negative_slope == 0.2 and m.D[2].p == 0.4
    assert m.G[2].momentum == pytest.approx(0.01) and m.G[2].eps == pytest.approx(
        1e-3
    )  # Keras's batch norm
    z = m.noise(5)
    out = m.G(z).numpy()
    assert out.shape == (5, 1, 28, 28) and np.abs(out).max() <= 1
    assert m.D(m.to_input(images(5))).shape == (5, 1)
    x = m.to_input(np.array([[[0, 255]]], dtype=np.uint8))
    assert x.numpy().ravel().tolist() == [-1.0, 1.0]  # inputs scaled to [-1, 1]
    s = m.sample(4, sg.Generator(0))
    assert (
        s.shape == (4, 1, 28, 28) and s.min() >= 0 and s.max() <= 1
    )  # samples come back in [0, 1]


def test_dcgan_d_dropout_option():
    """d_dropout sets D's two dropout layers (the book's 0.4 by default, also for a config saved
    before the option existed); 0 removes them, leaving the same weights in the same order."""
    rates = lambda m: [x.p for x in m.D.modules() if isinstance(x, nn.Dropout)]  # noqa: E731
    assert rates(build("dcgan")) == [0.4, 0.4]
    assert rates(build("dcgan", loss="wgan-gp", d_dropout=0.25)) == [0.25, 0.25]
    old = train.make_config("dcgan")
    del old["d_dropout"]
    old["image_shape"] = [1, 28, 28]
    assert rates(train.build_model(old)) == [0.4, 0.4]
    bare = build("dcgan", d_dropout=0)
    assert rates(bare) == []
    weights = [tuple(v.shape) for v in build("dcgan").D.state_dict().values()]
    assert [tuple(v.shape) for v in bare.D.state_dict().values()] == weights


def test_dcgan_d_batch_norm_option():
    """d_batch_norm puts one BatchNorm2d between D's second conv and its activation (off: none, as
    the book); a clipped wgan step trains and clips the batch norm's weights too. It is refused with
    joint D batches and with wgan-gp's per-image penalty."""
    norms = lambda m: [x for x in m.D.modules() if isinstance(x, nn.BatchNorm2d)]  # noqa: E731
    assert norms(build("dcgan")) == []
    m = build("dcgan", loss="wgan", d_batches="separate", d_batch_norm=True)
    kinds = [type(layer).__name__ for layer in m.D]
    assert kinds[kinds.index("BatchNorm2d") - 1 : kinds.index("BatchNorm2d") + 2] == [
        "Conv2d",
        "BatchNorm2d",
        "LeakyReLU",
    ]
    (norm,) = norms(m)
    logs = m.train_step((images(8),), StepContext())
    assert np.isfinite(list(logs.values())).all()
    assert np.abs(norm.weight.numpy()).max() <= m.config["clip_value"]  # clipped like every weight
    with pytest.raises(ValueError, match="^d_batch_norm: needs d_batches 'separate', got 'joint'"):
        build("dcgan", loss="wgan", d_batches="joint", d_batch_norm=True)
    with pytest.raises(ValueError, match="^d_batch_norm: not with loss 'wgan-gp'"):
        build("dcgan", loss="wgan-gp", d_batches="separate", d_batch_norm=True)


def test_dcgan_glorot_initialisation():
    m = build("dcgan")
    w = m.D[3].weight.numpy()
    bound = np.sqrt(6 / (64 * 25 + 128 * 25))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert not m.D[3].bias.numpy().any() and not m.G[0].bias.numpy().any()


def test_dcgan64_follows_the_papers_table():
    m = build("dcgan64", width=64)
    g = shapes(m.G)
    convs = [
        g[k]
        for k in sorted(g, key=lambda k: int(k.split(".")[0]))
        if k.endswith("weight") and len(g[k]) == 4
    ]
    assert convs == [
        (100, 512, 4, 4),
        (512, 256, 4, 4),
        (256, 128, 4, 4),
        (128, 64, 4, 4),
        (64, 1, 4, 4),
    ]
    d = shapes(m.D)
    convs = [
        d[k]
        for k in sorted(d, key=lambda k: int(k.split(".")[0]))
        if k.endswith("weight") and len(d[k]) == 4
    ]
    assert convs == [
        (64, 1, 4, 4),
        (128, 64, 4, 4),
        (256, 128, 4, 4),
        (512, 256, 4, 4),
        (1, 512, 4, 4),
    ]
    assert [type(x).__name__ for x in m.D][:4] == [
        "Conv2d",
        "LeakyReLU",
        "Conv2d",
        "BatchNorm2d",
    ]  # no BN on input
    assert all(isinstance(x, nn.ReLU) for x in m.G if type(x).__name__.endswith("ReLU"))
    assert isinstance(m.G[-1], nn.Tanh)
    # N(0, 0.02) weights, N(1, 0.02) batch-norm scales
    w = m.G[4].weight.numpy()
    assert w.mean() == pytest.approx(0, abs=1e-3) and w.std() == pytest.approx(0.02, rel=0.02)
    assert m.D[3].weight.numpy().mean() == pytest.approx(1, abs=0.01)
    assert m.D[3].weight.numpy().std() == pytest.approx(0.02, rel=0.3)
    assert (
        m.config["lr"] == 2e-4
        and m.config["betas"] == [0.5, 0.999]
        and m.config["batch_size"] == 128
    )


def test_dcgan64_output_sizes_and_resizing():
    m = build("dcgan64", width=2)
    assert m.G(m.noise(3)).shape == (3, 1, 64, 64)
    x = m.to_input(images(3))  # 28 x 28 data set images are resized to 64 x 64
    assert x.shape == (3, 1, 64, 64) and m.D(x).shape == (3, 1)
    rgb = build("dcgan64", width=2, image_shape=[3, 64, 64])
    assert rgb.G(rgb.noise(2)).shape == (2, 3, 64, 64)
    with pytest.raises(ValueError, match="image_size must be 64"):
        build("dcgan64", image_size=32)


def test_bilinear_resize_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 3, 28, 20)).astype(np.float32)
    ours = dcgan.resize(x, 64)
    theirs = torch.nn.functional.interpolate(
        torch.tensor(x), size=(64, 64), mode="bilinear", align_corners=False
    )
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model", ["wgan", "wgan-gp", "lsgan"])
def test_aliases_are_dcgan_with_a_loss_preset(model):
    config = train.make_config(model)
    preset = {"wgan": "wgan", "wgan-gp": "wgan-gp", "lsgan": "ls"}[model]
    expected = train.make_config("dcgan", loss=preset)
    assert {k: v for k, v in config.items() if k != "model"} == {
        k: v for k, v in expected.items() if k != "model"
    }
    assert isinstance(train.build_model({**config, "image_shape": [1, 28, 28]}), dcgan.DCGAN)


# ----- acceptance 6: one step per model and loss, finite losses, gradients reach every parameter
def check_gradients(module, zero=()):
    """Every parameter gets a finite gradient, nonzero except in ``zero`` (structurally zero
    ones)."""
    for name, p in module.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        g = p.grad.numpy()
        assert np.isfinite(g).all(), name
        assert (np.abs(g).max() == 0) == (name in zero), f"{name}: gradient {g.ravel()[:4]}..."


@pytest.mark.parametrize("model", ["dcgan", "dcgan64"])
@pytest.mark.parametrize("loss", LOSSES)
def test_one_step_reaches_every_parameter(model, loss):
    kw = {"width": 2} if model == "dcgan64" else {}
    m = build(model, loss=loss, n_critic=1, batch_size=4, **kw)
    logs = m.train_step((images(4),), StepContext())
    assert {"d_loss", "g_loss"} <= set(logs) and np.isfinite(list(logs.values())).all()
    # A Wasserstein critic's loss, mean D(fake) - mean D(real), cancels the output bias exactly.
    wasserstein_bias = {"7.bias"} if model == "dcgan" and loss.startswith("wgan") else set()
    check_gradients(m.D, wasserstein_bias)
    check_gradients(m.G)


def test_discriminator_loss_falls_against_a_fixed_generator():
    m = build("dcgan", g_lr=0.0, batch_size=16)
    batch = (images(16),)
    losses = [m.train_step(batch, StepContext(step=i))["d_loss"] for i in range(12)]
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])


def test_generator_loss_falls_against_a_fixed_discriminator():
    m = build("dcgan64", width=4, d_lr=0.0, batch_size=8)
    batch = (images(8),)
    losses = [m.train_step(batch, StepContext(step=i))["g_loss"] for i in range(15)]
    assert np.mean(losses[-3:]) < 0.85 * np.mean(losses[:3])


def test_checkpoint_round_trip(tmp_path):
    m = build("dcgan", loss="wgan", batch_size=4)
    for i in range(3):
        m.train_step((images(4, seed=i),), StepContext(step=i))
    path = train.save_checkpoint(str(tmp_path / "c.npz"), m, {})
    other = build("dcgan", loss="wgan", batch_size=4, seed=9)
    train.load_checkpoint(path, other)
    for name in ("generator", "discriminator"):
        a, b = m.modules()[name].state_dict(), other.modules()[name].state_dict()
        assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    m.train(False)
    other.train(False)
    np.testing.assert_array_equal(m.sample(3, sg.Generator(1)), other.sample(3, sg.Generator(1)))


def test_dcgan64_trains_on_a_folder_of_images(tmp_path):
    """Acceptance 4: a folder of generated RGB images, the trainer, a sample grid per epoch."""
    folder = tmp_path / "shapes"
    folder.mkdir()
    for i, blob in enumerate(images(12, size=80, channels=3, seed=4)):
        Image.fromarray(blob.transpose(1, 2, 0)).save(folder / f"{i:02d}.png")
    config = train.make_config(
        "dcgan64", dataset=f"folder:{folder}", batch_size=4, valid_size=4, epochs=1, width=2
    )
    summary = train.Trainer(config, str(tmp_path / "run"), progress=False).fit()
    assert summary["steps"] == 2 and np.isfinite(summary["final"]["train_g_loss"])
    assert (tmp_path / "run" / "samples" / "epoch-001.png").exists()
    model, _ = train.load_run(str(tmp_path / "run"))
    assert model.image_shape == (3, 64, 64) and model.sample(2, sg.Generator(0)).shape == (
        2,
        3,
        64,
        64,
    )
