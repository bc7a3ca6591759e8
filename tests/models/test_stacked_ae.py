"""stacked-ae: the book's architecture and initialisation, one step against PyTorch, training,
checkpoints."""

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import train
from scratchgan.data import to_float
from scratchgan.training.protocol import StepContext

SHAPE = (1, 12, 12)


def build(seed=0, **kw):
    config = train.make_config("stacked-ae", seed=seed, **kw)
    config["image_shape"] = list(SHAPE)
    return train.build_model(config)


def blobs(n, seed=0):
    """Light blobs on a dark background, uint8 n x 12 x 12: easy to learn, so the loss must fall."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:12, :12]
    c = rng.uniform(3, 9, (n, 2, 1, 1))
    return (255 * np.exp(-((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) / 6.0)).astype(np.uint8)


def test_architecture_follows_the_book():
    model = build()
    enc = {k: v.shape for k, v in model.encoder.state_dict().items()}
    dec = {k: v.shape for k, v in model.decoder.state_dict().items()}
    assert enc == {"1.weight": (100, 144), "1.bias": (100,), "3.weight": (30, 100), "3.bias": (30,)}
    assert dec == {
        "0.weight": (100, 30),
        "0.bias": (100,),
        "2.weight": (144, 100),
        "2.bias": (144,),
    }
    x = model.to_input(blobs(5))
    codes = model.encoder(x)
    out = model.decoder(codes)
    assert codes.shape == (5, 30) and out.shape == (5, *SHAPE) and out.dtype == np.float32
    assert ((out.numpy() > 0) & (out.numpy() < 1)).all()


def test_keras_initialisation():
    config = train.make_config("stacked-ae")  # 28 x 28: enough weights for the statistics
    model = train.build_model(config)
    for name, p in [*model.encoder.state_dict().items(), *model.decoder.state_dict().items()]:
        a = p.numpy()
        if name.endswith("bias"):
            assert (a == 0).all(), name
        else:
            bound = np.sqrt(6.0 / sum(a.shape))
            assert np.abs(a).max() <= bound and a.std() == pytest.approx(
                bound / np.sqrt(3), rel=0.05
            ), name


def test_one_step_matches_pytorch():
    torch = pytest.importorskip("torch")
    model = build()
    images = blobs(8)
    net = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(144, 100),
        torch.nn.SELU(),
        torch.nn.Linear(100, 30),
        torch.nn.SELU(),
        torch.nn.Linear(30, 100),
        torch.nn.SELU(),
        torch.nn.Linear(100, 144),
        torch.nn.Sigmoid(),
    )
    ours = [model.encoder[1], model.encoder[3], model.decoder[0], model.decoder[2]]
    theirs = [m for m in net if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for a, b in zip(ours, theirs):
            b.weight.copy_(torch.from_numpy(a.weight.numpy()))
            b.bias.copy_(torch.from_numpy(a.bias.numpy()))
    x = torch.from_numpy(to_float(images))
    loss = torch.nn.functional.binary_cross_entropy(net(x), x.flatten(1))
    loss.backward()
    with torch.no_grad():
        for p in net.parameters():
            p -= 1.5 * p.grad
    logs = model.train_step((images,), StepContext())
    assert logs["bce"] == pytest.approx(loss.item(), rel=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(
            a.weight.numpy(), b.weight.detach().numpy(), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(a.bias.numpy(), b.bias.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_loss_falls_on_a_tiny_batch():
    model = build(lr=0.5)
    batch = (blobs(16),)
    losses = [model.train_step(batch, StepContext(step=i))["bce"] for i in range(20)]
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.8 * losses[0]


def test_evaluate_is_the_mean_pixel_bce():
    model = build()
    images = blobs(30)
    x = to_float(images).astype(np.float64)
    r = model.reconstruct(images).astype(np.float64)
    expected = -(x * np.log(r) + (1 - x) * np.log(1 - r)).mean()
    assert model.evaluate(images)["bce"] == pytest.approx(expected, rel=1e-5)


def test_checkpoint_round_trip(tmp_path):
    model = build()
    for i in range(3):
        model.train_step((blobs(8),), StepContext(step=i))
    path = train.save_checkpoint(str(tmp_path / "c.npz"), model, {"step": 3})
    other = build(seed=7)
    assert train.load_checkpoint(path, other) == {"step": 3}
    for name in ("encoder", "decoder"):
        a, b = model.modules()[name].state_dict(), other.modules()[name].state_dict()
        for key in a:
            assert np.array_equal(a[key].numpy(), b[key].numpy())
    x = blobs(4, seed=1)
    assert np.array_equal(model.reconstruct(x), other.reconstruct(x))


def test_interpolate_and_inpaint():
    model = build()
    images = blobs(10)
    strips = model.interpolate(images, rows=2, steps=5, generator=sg.Generator(0))
    assert strips.shape == (2, 5, *SHAPE)
    mask = np.zeros(SHAPE[1:], dtype=bool)
    mask[:6] = True
    filled = model.inpaint(images[:3], mask)
    known = to_float(images[:3])
    assert np.array_equal(filled[..., :6, :], known[..., :6, :])
    assert not np.array_equal(filled[..., 6:, :], known[..., 6:, :])
    with pytest.raises(train.Unsupported, match="cannot sample"):
        model.sample(4, sg.Generator(0))
