"""The GAN objectives and tricks: WGAN-GP's penalty (and its gradient) against PyTorch through the
dcgan and dcgan64 critics, the generator gradients behind GANs in Action fig. 5.5, label smoothing
and noise, the image pool, instance noise, joint versus separate D passes."""

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn, train
from scratchgan.models import parts
from scratchgan.training.protocol import StepContext

torch = pytest.importorskip("torch")
tF = torch.nn.functional


def build(model, **kw):
    config = train.make_config(model, **kw)
    config.setdefault("image_shape", [1, 28, 28])
    return train.build_model(config)


def fashion_like(n, size=28, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8)


def f64(a):
    return sg.tensor(np.asarray(a, dtype=np.float64))


# ----- WGAN-GP: the penalty and its parameter gradient (double backward) against PyTorch
def torch_params(module):
    return {k: torch.tensor(v.numpy(), requires_grad=True) for k, v in module.named_parameters()}


def dcgan_critic_torch(x, w):
    h = tF.leaky_relu(tF.conv2d(x, w["0.weight"], w["0.bias"], stride=2, padding=2), 0.2)
    h = tF.leaky_relu(tF.conv2d(h, w["3.weight"], w["3.bias"], stride=2, padding=2), 0.2)
    return tF.linear(h.flatten(1), w["7.weight"], w["7.bias"])


def dcgan64_critic_torch(x, w):
    h = tF.leaky_relu(tF.conv2d(x, w["0.weight"], stride=2, padding=1), 0.2)
    for conv, norm in (("2", "3"), ("5", "6"), ("8", "9")):
        h = tF.conv2d(h, w[f"{conv}.weight"], stride=2, padding=1)
        h = tF.batch_norm(
            h, None, None, w[f"{norm}.weight"], w[f"{norm}.bias"], training=True, eps=1e-5
        )
        h = tF.leaky_relu(h, 0.2)
    return tF.conv2d(h, w["11.weight"]).flatten(1)


@pytest.mark.parametrize(
    "model, reference, kw, size",
    [
        ("dcgan", dcgan_critic_torch, {}, 28),
        ("dcgan64", dcgan64_critic_torch, {"width": 2}, 64),
    ],
)
def test_wgan_gp_penalty_and_its_gradient_match_pytorch(model, reference, kw, size):
    m = build(model, loss="wgan-gp", **kw)
    m.D.to(sg.float64)
    m.D.train(model == "dcgan64")  # dcgan: dropout off; dcgan64: batch norm on batch statistics
    rng = np.random.default_rng(1)
    real, fake = rng.uniform(-1, 1, (3, 1, size, size)), rng.uniform(-1, 1, (3, 1, size, size))
    gp = parts.gradient_penalty(m.D, f64(real), f64(fake), sg.Generator(7))
    gp.backward()
    e = sg.rand(3, 1, 1, 1, dtype="float64", generator=sg.Generator(7)).numpy()  # the same draw
    w = torch_params(m.D)
    x = torch.tensor(e * real + (1 - e) * fake, requires_grad=True)
    (gx,) = torch.autograd.grad(reference(x, w).sum(), x, create_graph=True)
    expected = ((gx.flatten(1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
    expected.backward()
    assert gp.item() == pytest.approx(expected.item(), rel=1e-10)
    ours = dict(m.D.named_parameters())
    nonzero = 0
    for name, theirs in w.items():
        # A parameter the input gradient does not depend on (biases that only move LeakyReLU's
        # piecewise-constant slope, the last bias) may get None on either side: it means zeros.
        g = np.zeros(theirs.shape) if ours[name].grad is None else ours[name].grad.numpy()
        t = np.zeros(theirs.shape) if theirs.grad is None else theirs.grad.numpy()
        np.testing.assert_allclose(g, t, rtol=1e-7, atol=1e-12, err_msg=name)
        nonzero += bool(np.abs(t).max() > 1e-8)
    assert nonzero >= 3  # every weight matrix at least


def test_wgan_gp_step_penalises_the_critic():
    m = build("dcgan", loss="wgan-gp", n_critic=1, batch_size=4)
    logs = m.train_step((fashion_like(4),), StepContext())
    assert logs["gp"] > 0 and np.isfinite(list(logs.values())).all()


# ----- GANs in Action fig. 5.5: what G's loss does to its gradient as D(G(z)) -> 0
@pytest.mark.parametrize(
    "kind, slope",
    [
        ("mm", lambda s: -s),  # d/dl log(1 - sigmoid(l)) = -sigmoid(l): vanishes when D is sure
        ("ns", lambda s: -(1 - s)),  # d/dl -log sigmoid(l) = -(1 - sigmoid(l)): about -1 there
    ],
)
def test_generator_loss_gradient_against_d_of_g(kind, slope):
    logits = np.array([[-9.0], [-3.0], [0.0], [2.0]])
    d_out = f64(logits)
    d_out.requires_grad = True
    parts.g_loss(kind, d_out).backward()
    s = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(d_out.grad.numpy(), slope(s) / len(logits), rtol=1e-10)


def test_log_gradients_reports_g_gradient_norm_and_d_of_g():
    m = build("dcgan", loss="mm", log_gradients=True, batch_size=4)
    logs = m.train_step((fashion_like(4),), StepContext())
    norm = np.sqrt(
        sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in m.G.parameters())
    )
    assert logs["g_grad_norm"] == pytest.approx(norm, rel=1e-6) and 0 < logs["d_gz"] < 1
    plain = build("dcgan", batch_size=4)
    assert "g_grad_norm" not in plain.train_step((fashion_like(4),), StepContext())


# ----- label smoothing and label noise
def test_one_sided_label_smoothing_sets_real_targets():
    real, fake = np.array([[1.5], [-0.3]]), np.array([[0.2], [-2.0]])
    p_r, p_f = 1 / (1 + np.exp(-real)), 1 / (1 + np.exp(-fake))
    expected = -(0.9 * np.log(p_r) + 0.1 * np.log(1 - p_r)).sum() - np.log(1 - p_f).sum()
    got = parts.d_loss("ns", f64(real), f64(fake), real_target=f64([[0.9], [0.9]]))
    assert got.item() == pytest.approx(expected / 4, rel=1e-12)
    ls = parts.d_loss("ls", f64(real), f64(fake), f64([[0.9], [0.9]]), f64([[0.1], [0.0]]))
    assert ls.item() == pytest.approx(
        0.5 * ((real - 0.9) ** 2).mean() + 0.5 * ((fake - [[0.1], [0.0]]) ** 2).mean()
    )


def test_label_targets_with_smoothing_and_noise():
    m = build("dcgan", label_smoothing=0.1, label_noise=0.05, batch_size=4)
    real, fake = m.label_targets(1000, sg.zeros(1))
    r, f = real.numpy(), fake.numpy()
    assert r.dtype == np.float32 and r.shape == (1000, 1)
    assert (r <= 0.9).all() and (r >= 0.85).all() and r.std() > 0.01  # 1 - 0.1 - 0.05 U
    assert (f >= 0).all() and (f <= 0.05).all() and f.std() > 0.01
    assert build("dcgan").label_targets(4, sg.zeros(1)) == (None, None)
    logs = m.train_step((fashion_like(4),), StepContext())
    assert np.isfinite(list(logs.values())).all()


# ----- instance noise
def test_instance_noise_anneals_linearly():
    m = build("dcgan", instance_noise=0.2, instance_noise_steps=10, batch_size=4)
    levels = []
    for i in range(12):
        levels.append(m.noise_level(i))
    np.testing.assert_allclose(levels, [0.2 * max(0, 1 - i / 10) for i in range(12)], atol=1e-12)
    x = sg.zeros(2000)
    assert m.blur(x, 0.0) is x
    assert np.std(m.blur(x, 0.5).numpy()) == pytest.approx(0.5, rel=0.1)


def test_instance_noise_reaches_d_inputs():
    """With noise, D's loss on the same batch and weights differs from the noiseless one."""
    batch = (fashion_like(4),)
    plain = build("dcgan", batch_size=4, seed=3)
    noisy = build("dcgan", batch_size=4, seed=3, instance_noise=0.5)
    plain.D.train(False)
    noisy.D.train(False)
    d_plain = plain.train_step(batch, StepContext())["d_loss"]
    assert d_plain != pytest.approx(noisy.train_step(batch, StepContext())["d_loss"], rel=1e-4)


# ----- experience replay
def test_image_pool_fills_then_swaps_half():
    """Each image's value is its identity and its label: nothing is lost or duplicated, labels
    travel with their images, and once the pool is full about half of the new images are swapped."""
    pool, g = parts.ImagePool(6), sg.Generator(0)

    def query(values):
        out, labels = pool.query(
            sg.tensor(np.array(values, dtype=np.float32)[:, None]), np.array(values), g
        )
        assert np.array_equal(out.numpy()[:, 0], labels)
        return labels

    assert query([0, 1, 2, 3]).tolist() == [0, 1, 2, 3]  # room: they pass through
    out = query([4, 5, 6, 7])
    assert out[:2].tolist() == [4, 5] and pool.count == 6  # 4, 5 fill the pool and pass through
    swapped, total = 0, 0
    for step in range(1, 200):
        new = list(range(10 * step, 10 * step + 4))
        before = pool.labels.copy()
        out = query(new)
        assert sorted(before.tolist() + new) == sorted(pool.labels.tolist() + out.tolist())
        swapped += int(np.sum(out != np.array(new)))
        total += 4
    assert 0.4 < swapped / total < 0.6


def test_image_pool_in_training_and_checkpoint(tmp_path):
    m = build("dcgan", image_pool=8, batch_size=4)
    for i in range(3):
        m.train_step((fashion_like(4, seed=i),), StepContext(step=i))
    assert m.pool.count == 8
    path = train.save_checkpoint(str(tmp_path / "c.npz"), m, {})
    other = build("dcgan", image_pool=8, batch_size=4, seed=5)
    train.load_checkpoint(path, other)
    assert other.pool.count == 8 and np.array_equal(other.pool.images, m.pool.images)
    with pytest.raises(ValueError, match="image_pool"):
        build("dcgan", image_pool=2, batch_size=4).train_step((fashion_like(4),), StepContext())


# ----- joint versus separate D passes
def test_separate_passes_give_the_joint_loss_without_batch_norm():
    """For a D without batch norm (the MLP GAN) one pass over [fake; real] and two passes agree."""
    batch = (fashion_like(8, size=12),)
    logs = []
    for mode in ("joint", "separate"):
        config = train.make_config("gan", d_batches=mode, seed=2)
        config["image_shape"] = [1, 12, 12]
        logs.append(train.build_model(config).train_step(batch, StepContext()))
    for key in logs[0]:
        assert logs[0][key] == pytest.approx(logs[1][key], rel=1e-5)
    with pytest.raises(ValueError, match="d_batches"):
        build("dcgan", d_batches="mixed")


def test_batch_norm_sees_pure_batches_when_separate():
    m = build("dcgan64", width=2, batch_size=4)
    seen = []
    bn = m.D[3]
    forward = bn.forward
    bn.forward = lambda x: (seen.append(x.shape[0]), forward(x))[1]
    m.train_step((fashion_like(4),), StepContext())
    assert isinstance(bn, nn.BatchNorm2d) and seen[:2] == [4, 4]
