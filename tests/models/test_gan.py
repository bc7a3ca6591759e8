"""gan: the book's networks, the two-phase step, the --loss objectives (against formulas and
PyTorch), training."""

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn, train
from scratchgan.models import parts
from scratchgan.training.protocol import StepContext

SHAPE = (1, 12, 12)


def build(seed=0, **kw):
    config = train.make_config("gan", seed=seed, **kw)
    config["image_shape"] = list(SHAPE)
    return train.build_model(config)


def blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:12, :12]
    c = rng.uniform(3, 9, (n, 2, 1, 1))
    return (255 * np.exp(-((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) / 6.0)).astype(np.uint8)


def params(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("loss", ["ns", "mm", "wgan", "wgan-gp", "ls"])
def test_architecture_follows_the_book(loss):
    model = build(loss=loss)
    assert {k: v.shape for k, v in model.G.state_dict().items()} == {
        "0.weight": (100, 30),
        "0.bias": (100,),
        "2.weight": (150, 100),
        "2.bias": (150,),
        "4.weight": (144, 150),
        "4.bias": (144,),
    }
    assert {k: v.shape for k, v in model.D.state_dict().items()} == {
        "1.weight": (150, 144),
        "1.bias": (150,),
        "3.weight": (100, 150),
        "3.bias": (100,),
        "5.weight": (1, 100),
        "5.bias": (1,),
    }
    assert isinstance(model.D[-1], nn.Linear) and isinstance(model.G[-2], nn.Sigmoid)
    images = model.sample(6, sg.Generator(1))
    assert images.shape == (6, *SHAPE) and ((images > 0) & (images < 1)).all()
    x = model.to_input(blobs(6))
    assert model.D(x).shape == (6, 1)
    verdict, score = model.discriminate(x).numpy(), model.D(x).numpy()
    if loss in ("mm", "ns"):  # the book's Dense(1, sigmoid)
        np.testing.assert_allclose(verdict, 1 / (1 + np.exp(-score)), rtol=1e-6)
    else:
        assert np.array_equal(verdict, score)


def test_hidden_sizes_widen_both_networks_mirrored():
    """--set hidden_sizes: G's hidden layers; D's are the same, reversed."""
    model = build(hidden_sizes=[16, 32, 64])
    assert [layer.weight.shape for layer in model.G if isinstance(layer, nn.Linear)] == [
        (16, 30),
        (32, 16),
        (64, 32),
        (144, 64),
    ]
    assert [layer.weight.shape for layer in model.D if isinstance(layer, nn.Linear)] == [
        (64, 144),
        (32, 64),
        (16, 32),
        (1, 16),
    ]


def test_leaky_relu_and_batch_norm_in_g():
    """hidden_activation=leaky_relu (slope 0.2) in both networks; g_batch_norm: batch norm after
    each of G's hidden Linear layers, none in D."""
    model = build(hidden_activation="leaky_relu", g_batch_norm=True)
    kinds = [type(layer).__name__ for layer in model.G]
    assert kinds == ["Linear", "BatchNorm1d", "LeakyReLU", "Linear", "BatchNorm1d", "LeakyReLU",
                     "Linear", "Sigmoid", "Unflatten"]  # fmt: skip
    assert [type(layer).__name__ for layer in model.D].count("LeakyReLU") == 2
    assert not any(isinstance(layer, nn.BatchNorm1d) for layer in model.D)
    assert all(layer.negative_slope == 0.2 for layer in model.D if isinstance(layer, nn.LeakyReLU))
    model.train_step((blobs(8),), StepContext(0, 0, 0, 1))
    with pytest.raises(ValueError, match="hidden_activation 'relu': expected one of selu, leaky"):
        build(hidden_activation="relu")


# ----- the objectives against their formulas, in NumPy.
# D's outputs: logits for mm/ns, scores otherwise.
S_REAL, S_FAKE = np.array([[2.2], [0.4], [-0.8]]), np.array([[-1.4], [0.0], [0.9]])
P_REAL, P_FAKE = 1 / (1 + np.exp(-S_REAL)), 1 / (1 + np.exp(-S_FAKE))


def t(a):
    return sg.tensor(a, dtype="float64")


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("ns", -(np.log(P_REAL).sum() + np.log(1 - P_FAKE).sum()) / 6),
        ("mm", -(np.log(P_REAL).sum() + np.log(1 - P_FAKE).sum()) / 6),
        ("wgan", S_FAKE.mean() - S_REAL.mean()),
        ("wgan-gp", S_FAKE.mean() - S_REAL.mean()),
        ("ls", 0.5 * ((S_REAL - 1) ** 2).mean() + 0.5 * (S_FAKE**2).mean()),
    ],
)
def test_d_loss(kind, expected):
    assert parts.d_loss(kind, t(S_REAL), t(S_FAKE)).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("ns", -np.log(P_FAKE).mean()),
        ("mm", np.log(1 - P_FAKE).mean()),
        ("wgan", -S_FAKE.mean()),
        ("ls", 0.5 * ((S_FAKE - 1) ** 2).mean()),
    ],
)
def test_g_loss(kind, expected):
    assert parts.g_loss(kind, t(S_FAKE)).item() == pytest.approx(expected, rel=1e-12)


def test_cross_entropies_stay_finite_when_d_is_sure():
    sure = t(np.array([[-60.0], [60.0]]))
    assert np.isfinite(parts.g_loss("ns", sure).item()) and np.isfinite(
        parts.g_loss("mm", sure).item()
    )
    assert parts.g_loss("ns", sure).item() == pytest.approx(30.0, rel=1e-12)  # (60 + 0) / 2


def test_unknown_loss():
    with pytest.raises(ValueError, match="--loss 'hinge'"):
        train.make_config("gan", loss="hinge")
    with pytest.raises(ValueError, match="loss 'hinge'"):
        parts.g_loss("hinge", t(S_FAKE))


def test_gradient_penalty_matches_pytorch():
    torch = pytest.importorskip("torch")
    model = build(loss="wgan-gp")
    model.D.to(sg.float64)
    rng = np.random.default_rng(0)
    real, fake = rng.random((4, *SHAPE)), rng.random((4, *SHAPE))
    gp = parts.gradient_penalty(model.D, t(real), t(fake), sg.Generator(5))
    gp.backward()
    e = sg.rand(4, 1, 1, 1, dtype="float64", generator=sg.Generator(5)).numpy()  # the same draw
    layers = [m for m in model.D if isinstance(m, nn.Linear)]
    weights = [
        (
            torch.tensor(m.weight.numpy(), requires_grad=True),
            torch.tensor(m.bias.numpy(), requires_grad=True),
        )
        for m in layers
    ]
    x = torch.tensor(e * real + (1 - e) * fake, requires_grad=True)
    h = x.flatten(1)
    for i, (w, b) in enumerate(weights):
        h = torch.nn.functional.linear(h, w, b)
        h = torch.nn.functional.selu(h) if i < 2 else h
    (gx,) = torch.autograd.grad(h.sum(), x, create_graph=True)
    expected = ((gx.flatten(1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
    expected.backward()
    assert gp.item() == pytest.approx(expected.item(), rel=1e-10)
    for m, (w, b) in zip(layers, weights):  # second derivatives, through the double backward
        for ours, theirs in ((m.weight.grad, w.grad), (m.bias.grad, b.grad)):
            if theirs is None:  # the last bias does not change grad_x D, so it gets no gradient
                assert ours is None or not ours.numpy().any()
            else:
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-8, atol=1e-12)


# ----- the two-phase step
@pytest.mark.parametrize("loss", ["mm", "ns", "wgan", "wgan-gp", "ls"])
def test_one_step_runs(loss):
    model = build(loss=loss, n_critic=1)
    logs = model.train_step((blobs(8),), StepContext())
    expected = {"d_loss", "g_loss"} | ({"d_real", "d_fake"} if loss in ("mm", "ns") else set())
    assert expected | ({"gp"} if loss == "wgan-gp" else set()) == set(logs)
    assert np.isfinite(list(logs.values())).all()


def test_phase_two_leaves_the_discriminator_alone():
    model = build()
    after_d_step = {}
    step = model.opt_d.step

    def recording_step():
        step()
        after_d_step.update(params(model.D))

    model.opt_d.step = recording_step
    g_before = params(model.G)
    model.train_step((blobs(8),), StepContext())
    d_now = params(model.D)
    assert all(np.array_equal(d_now[k], after_d_step[k]) for k in d_now)  # phase 2 did not move D
    assert any(
        not np.array_equal(g_before[k], v) for k, v in params(model.G).items()
    )  # but moved G
    assert all(p.requires_grad for p in model.D.parameters())


def test_wgan_clips_the_critic_and_steps_g_every_n_critic():
    model = build(loss="wgan", n_critic=3)
    g0 = params(model.G)
    for i in range(1, 7):
        logs = model.train_step((blobs(8, seed=i),), StepContext(step=i - 1))
        assert max(np.abs(p.numpy()).max() for p in model.D.parameters()) <= 0.01
        assert ("g_loss" in logs) == (i % 3 == 0)
        moved = any(not np.array_equal(g0[k], v) for k, v in params(model.G).items())
        assert moved == (i >= 3)


def test_discriminator_loss_falls_against_a_fixed_generator():
    model = build(g_lr=0.0)
    batch = (blobs(16),)
    losses = [model.train_step(batch, StepContext(step=i))["d_loss"] for i in range(20)]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


def test_generator_loss_falls_against_a_fixed_discriminator():
    model = build(d_lr=0.0, g_lr=1e-3)  # the book's rate: 20 steps at the recipe's 5e-4 are few
    batch = (blobs(16),)
    losses = [model.train_step(batch, StepContext(step=i))["g_loss"] for i in range(20)]
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


def test_checkpoint_round_trip(tmp_path):
    model = build(loss="wgan", n_critic=5)
    for i in range(7):
        model.train_step((blobs(8, seed=i),), StepContext(step=i))
    path = train.save_checkpoint(str(tmp_path / "c.npz"), model, {})
    other = build(seed=3, loss="wgan", n_critic=5)
    train.load_checkpoint(path, other)
    for name in ("generator", "discriminator"):
        a, b = params(model.modules()[name]), params(other.modules()[name])
        assert all(np.array_equal(a[k], b[k]) for k in a)
    a, b = model.opt_d.state_dict(), other.opt_d.state_dict()
    assert all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)


def test_interpolate_and_inpaint():
    model = build()
    strips = model.interpolate(None, rows=3, steps=4, generator=sg.Generator(0))
    assert strips.shape == (3, 4, *SHAPE)
    images = blobs(2)
    mask = np.zeros(SHAPE[1:], dtype=bool)
    mask[:6] = True
    filled = model.inpaint(images, mask, sg.Generator(0), iterations=5)
    known = sg.data.to_float(images)
    assert np.array_equal(filled[..., :6, :], known[..., :6, :])
    assert all(p.requires_grad for p in model.G.parameters())
