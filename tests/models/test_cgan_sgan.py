"""cgan (GANs in Action ch. 8) and sgan (ch. 7): the architecture tables, the label paths, the two
heads of the semi-supervised discriminator, one step with gradients reaching every parameter, losses
that fall, the labelled subset and the supervised baseline."""

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import train
from scratchgan.models import sgan
from scratchgan.training.protocol import StepContext

SHAPE = [1, 28, 28]


def build(model, **kw):
    config = train.make_config(model, **kw)
    config.setdefault("image_shape", SHAPE)
    return train.build_model(config)


def digits(n, seed=0):
    """n 28 x 28 images of class k = a bright bar at row 2 + 2k, labels k (a task a few steps can
    learn)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        x[i, 2 + 2 * k : 4 + 2 * k, 4:24] = 255
    return x, labels.astype(np.int64)


def shapes(module):
    return {
        k: tuple(v.shape)
        for k, v in module.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }


def check_gradients(module, zero=()):
    for name, p in module.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        g = p.grad.numpy()
        assert np.isfinite(g).all(), name
        assert (np.abs(g).max() == 0) == (name in zero), f"{name}: gradient {g.ravel()[:4]}..."


# ----- cgan
def test_cgan_follows_the_books_table():
    m = build("cgan")
    g = shapes(m.G)
    assert g["label_embedding.weight"] == (10, 100)
    assert [g[k] for k in ("body.0.weight", "body.2.weight", "body.5.weight", "body.8.weight")] == [
        (12544, 100),
        (256, 128, 3, 3),
        (128, 64, 3, 3),
        (64, 1, 3, 3),
    ]
    d = shapes(m.D)
    assert d["label_embedding.weight"] == (10, 784)
    assert [d[k] for k in ("body.0.weight", "body.2.weight", "body.5.weight", "body.9.weight")] == [
        (64, 2, 3, 3),
        (64, 64, 3, 3),
        (128, 64, 3, 3),
        (1, 2048),
    ]  # 2 input channels: image + label plane
    assert m.D.body[1].negative_slope == 0.01
    assert m.G.label_embedding.weight.numpy().std() == pytest.approx(
        1, rel=0.2
    )  # N(0, 1), see cgan.py
    keras = build("cgan", embedding_init="keras")
    assert (
        np.abs(keras.G.label_embedding.weight.numpy()).max() <= 0.05
    )  # Keras's Embedding, U(-0.05, 0.05)
    x, y = digits(4)
    assert m.generate(m.noise(4), y).shape == (4, 1, 28, 28) and m.critic(
        m.to_input(x), y
    ).shape == (4, 1)


def test_cgan_label_paths():
    m = build("cgan")
    m.train(False)
    z = m.noise(2)
    a = m.generate(z, np.array([1, 1])).numpy()
    b = m.generate(z, np.array([1, 7])).numpy()
    np.testing.assert_array_equal(a[0], b[0])
    assert np.abs(a[1] - b[1]).max() > 0  # the label changes the image
    # D's label plane is the embedding row reshaped to 28 x 28, appended after the image channel
    seen = []
    first = m.D.body[0]
    forward = first.forward
    first.forward = lambda h: (seen.append(h.numpy()), forward(h))[1]
    x, _ = digits(2)
    m.critic(m.to_input(x), np.array([3, 8]))
    np.testing.assert_array_equal(seen[0][:, 0], m.to_input(x).numpy()[:, 0])
    np.testing.assert_array_equal(
        seen[0][1, 1], m.D.label_embedding.weight.numpy()[8].reshape(28, 28)
    )
    with pytest.raises(ValueError, match="labels"):
        m.generate(z)


@pytest.mark.parametrize("loss", ["ns", "mm", "wgan-gp", "ls"])
def test_cgan_one_step_reaches_every_parameter(loss):
    m = build("cgan", loss=loss, n_critic=1, batch_size=6)
    x, y = digits(6)
    logs = m.train_step(m.loader_arrays(x, y), StepContext())
    assert {"d_loss", "g_loss"} <= set(logs) and np.isfinite(list(logs.values())).all()
    check_gradients(m.D, {"body.9.bias"} if loss.startswith("wgan") else ())
    check_gradients(m.G)


def test_cgan_pictures_rows_are_classes_and_sampling_takes_labels(tmp_path):
    m = build("cgan")
    assert m.fixed_labels.tolist() == [k for k in range(10) for _ in range(10)]
    m.picture(None, str(tmp_path / "grid.png"))
    assert (tmp_path / "grid.png").exists()
    s = m.sample(5, sg.Generator(0), labels=np.array([0, 1, 2, 3, 4]))
    assert s.shape == (5, 1, 28, 28) and 0 <= s.min() and s.max() <= 1
    with pytest.raises(ValueError, match="class labels"):
        m.loader_arrays(digits(2)[0], None)


def test_cgan_discriminator_loss_falls():
    m = build("cgan", g_lr=0.0, batch_size=16)
    batch = m.loader_arrays(*digits(16))
    losses = [m.train_step(batch, StepContext(step=i))["d_loss"] for i in range(10)]
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])


# ----- sgan
def test_logsumexp_and_the_books_unsupervised_head():
    logits = np.array([[0.5, -1.0, 2.0], [300.0, 299.0, -5.0], [-400.0, -401.0, -402.0]])
    lse = sgan.logsumexp(sg.tensor(logits)).numpy()[:, 0]
    m = logits.max(1)
    np.testing.assert_allclose(lse, m + np.log(np.exp(logits - m[:, None]).sum(1)), rtol=1e-12)
    z = np.exp(logits[0]).sum()
    book = 1 - 1 / (z + 1)  # GANs in Action's predict(x)
    assert 1 / (1 + np.exp(-lse[0])) == pytest.approx(book, rel=1e-12)


def test_sgan_follows_the_books_table():
    m = build("sgan")
    d = shapes(m.D)
    assert [d[k] for k in ("0.weight", "2.weight", "5.weight", "10.weight")] == [
        (32, 1, 3, 3),
        (64, 32, 3, 3),
        (128, 64, 3, 3),
        (10, 2048),
    ]
    assert [type(x).__name__ for x in m.D][-3:] == ["Dropout", "Flatten", "Linear"] and m.D[
        8
    ].p == 0.5
    assert m.config["dataset"] == "mnist" and m.config["num_labeled"] == 100
    x, _ = digits(3)
    assert m.D(m.to_input(x)).shape == (3, 10) and m.critic(m.to_input(x)).shape == (3, 1)


def test_sgan_labelled_subset_is_fixed_by_the_seed():
    x, y = digits(300)
    a, b, c = build("sgan", seed=1), build("sgan", seed=1), build("sgan", seed=2)
    for m in (a, b, c):
        assert m.loader_arrays(x, y)[0] is x  # the loader batches every image, unlabelled
    assert len(a.labeled_x) == 100 and np.array_equal(a.labeled_index, b.labeled_index)
    assert not np.array_equal(a.labeled_index, c.labeled_index)
    assert (
        np.array_equal(a.labeled_y, y[a.labeled_index])
        and len(set(a.labeled_index.tolist())) == 100
    )
    d = build("sgan", seed=7, label_seed=2)  # label_seed, when given, chooses instead of the seed
    d.loader_arrays(x, y)
    assert np.array_equal(d.labeled_index, c.labeled_index)


def test_sgan_one_step_reaches_every_parameter():
    m = build("sgan", num_labeled=20, batch_size=6)
    x, y = digits(40)
    logs = m.train_step(m.loader_arrays(x, y), StepContext())
    assert set(logs) == {"d_sup_loss", "d_sup_acc", "d_unsup_loss", "g_loss"}
    assert np.isfinite(list(logs.values())).all()
    check_gradients(m.D)
    check_gradients(m.G)


def test_sgan_supervised_only_is_the_baseline():
    m = build("sgan", num_labeled=40, supervised_only=True, batch_size=16)
    x, y = digits(80)
    batch = m.loader_arrays(x, y)
    g_before = {k: v.numpy().copy() for k, v in m.G.state_dict().items()}
    losses = [m.train_step(batch, StepContext(step=i))["d_sup_loss"] for i in range(25)]
    assert all(
        np.array_equal(g_before[k], v.numpy()) for k, v in m.G.state_dict().items()
    )  # G untouched
    assert all(p.grad is None for p in m.G.parameters())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    test_x, test_y = digits(200, seed=5)
    assert m.evaluate(test_x, test_y)["accuracy"] > 0.5  # learned the bars from 40 labels
    assert m.D.training  # predict restores the mode


def test_sgan_checkpoint_keeps_the_labelled_subset(tmp_path):
    config = train.make_config("sgan", num_labeled=10, batch_size=4, valid_size=20, epochs=1)
    x, y = digits(60)
    t = train.Trainer(
        config, str(tmp_path / "run"), data=(x[:40], y[:40], x[40:], y[40:]), progress=False
    )
    t.fit(max_steps=2)
    state = np.load(tmp_path / "run" / "checkpoints" / "last.npz")
    assert np.array_equal(state["extra/labeled_index"], t.model.labeled_index)
    with pytest.raises(train.Unsupported, match="takes no --loss"):
        train.make_config("sgan", loss="wgan")
