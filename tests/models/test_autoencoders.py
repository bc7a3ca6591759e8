"""The autoencoders of Hands-On ML ch. 17 (stacked-ae has its own file): architectures, objectives
against NumPy/PyTorch formulas, one step lowers the loss on a tiny batch, checkpoints round-trip,
linear-ae = PCA."""

import math

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import data, nn, train
from scratchgan.data import to_float
from scratchgan.models import linear_ae, parts
from scratchgan.training.protocol import StepContext

SMALL = (1, 12, 12)
DENSE = ["tied-ae", "greedy-ae", "denoising-ae", "sparse-l1-ae", "sparse-kl-ae"]
ALL = ["linear-ae", *DENSE, "conv-ae", "recurrent-ae"]


def blobs(n, size=12, seed=0):
    """Light blobs on a dark background, uint8 n x size x size: easy to learn, so the loss must
    fall."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    c = rng.uniform(size / 4, 3 * size / 4, (n, 2, 1, 1))
    return (255 * np.exp(-((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) / (size / 2))).astype(
        np.uint8
    )


def build(name, seed=0, shape=None, **kw):
    if (
        name == "recurrent-ae" and shape is None
    ):  # small LSTMs for the generic tests (the book's sizes below)
        kw = {"hidden_size": 24, "codings_size": 8, **kw}
    config = train.make_config(name, seed=seed, **kw)
    if name != "linear-ae":
        config["image_shape"] = list(shape or SMALL)
    return train.build_model(config)


def batch_for(name, n=8, seed=0):
    if name == "linear-ae":
        return np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)
    return blobs(n, 12, seed)


def state(model):
    return {
        f"{m}/{k}": v.numpy().copy()
        for m, mod in model.modules().items()
        for k, v in mod.state_dict().items()
    }


def total(logs, name):
    """The quantity a step minimises (greedy-ae's first step trains phase 1 only)."""
    return (
        logs["bce1"] if name == "greedy-ae" else logs.get("loss", logs.get("bce", logs.get("mse")))
    )


# ----- every model: builds, one step lowers the loss on a tiny batch, checkpoints round-trip
@pytest.mark.parametrize("name", ALL)
def test_one_step_lowers_the_loss(name):
    model = build(name, **({"noise_std": 0.0} if name == "denoising-ae" else {}))
    batch = (batch_for(name),)
    model.train(False)  # the loss before and after, without noise
    before = total(model.evaluate(batch[0]), name)
    model.train(True)
    logs = model.train_step(batch, StepContext())
    assert np.isfinite(list(logs.values())).all()
    model.train(False)
    assert total(model.evaluate(batch[0]), name) < before


@pytest.mark.parametrize("name", ALL)
def test_checkpoint_round_trip(name, tmp_path):
    model = build(name)
    batch = (batch_for(name),)
    for _ in range(2):
        model.train_step(batch, StepContext())
    path = train.save_checkpoint(
        str(tmp_path / "c.npz"), model, {"step": 2}, generators=[("model", model.generator)]
    )
    other = build(name, seed=7)
    assert train.load_checkpoint(path, other, generators=[("model", other.generator)]) == {
        "step": 2
    }
    a, b = state(model), state(other)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    x = batch_for(name, 4, seed=1)
    model.train(False)
    other.train(False)
    assert np.array_equal(model.reconstruct(x), other.reconstruct(x))
    model.train(True)
    other.train(True)
    # optimiser state, noise generator and step counters came back too: the next step is the same
    assert model.train_step(batch, StepContext()) == other.train_step(batch, StepContext())
    assert all(np.array_equal(v, state(other)[k]) for k, v in state(model).items())


@pytest.mark.parametrize("name", ALL)
def test_picture(name, tmp_path):
    model = build(name)
    path = str(tmp_path / "epoch-100.png")
    model.picture(batch_for(name, 60 if name == "linear-ae" else 12), path)
    assert (tmp_path / "epoch-100.png").stat().st_size > 1000
    assert (tmp_path / "epoch-100-activations.png").exists() == name.startswith("sparse")


# ----- linear-ae: PCA
def test_principal_angles_against_scipy():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 2)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(
        linear_ae.principal_angles(a, b),
        np.sort(np.degrees(linalg.subspace_angles(a, b))),
        atol=1e-8,
    )
    assert linear_ae.principal_angles(a, a @ rng.normal(size=(2, 2))) == pytest.approx(
        [0, 0], abs=1e-5
    )


def test_linear_ae_finds_the_pca_plane():
    """Acceptance 1: the book's data, the recipe's SGD (lr 0.1, batch 32, 1,000 epochs)."""
    points, _ = data.load("synthetic-3d")
    model = build("linear-ae")
    assert [m.weight.shape for m in (model.encoder[0], model.decoder[0])] == [(2, 3), (3, 2)]
    loader = data.DataLoader((points,), 32, shuffle=True, drop_last=False, seed=0)
    for _ in range(model.config["epochs"]):
        for batch in loader:
            model.train_step(batch, StepContext())
    angles = model.angles_to_pca(points)
    assert angles.max() < 2.0, angles
    # the codings are the points' coordinates in that plane: reconstruction error = the third
    # variance
    residual = np.linalg.svd(points - points.mean(0), compute_uv=False)[2] ** 2 / len(points)
    assert model.evaluate(points)["mse"] == pytest.approx(residual / 3, rel=0.05)


# ----- tied-ae
def test_tied_ae_shares_the_encoder_weights():
    tied, stacked = build("tied-ae"), build("stacked-ae", shape=SMALL)
    dense_1, dense_2 = tied.encoder[1], tied.encoder[3]
    assert tied.decoder[0].weight is dense_2.weight and tied.decoder[2].weight is dense_1.weight
    n_weights = 144 * 100 + 100 * 30
    assert tied.num_parameters() == n_weights + 100 + 30 + 100 + 144
    assert stacked.num_parameters() - tied.num_parameters() == n_weights
    # the shared matrix gets both gradients: encoder use + transposed decoder use
    x = tied.to_input(blobs(4))
    tied.optimizer.zero_grad()
    tied.objective(x)[0].backward()
    both = dense_1.weight.grad.numpy().copy()
    tied.optimizer.zero_grad()
    h = tied.encoder(x).detach()
    tied.loss(x, tied.decoder(h))[0].backward()
    decoder_only = dense_1.weight.grad.numpy()
    assert not np.allclose(both, decoder_only)


def test_tied_ae_matches_pytorch():
    torch = pytest.importorskip("torch")
    model = build("tied-ae")
    images = blobs(8)
    w1, w2 = (torch.tensor(model.encoder[i].weight.numpy(), requires_grad=True) for i in (1, 3))
    b1, b2 = (torch.tensor(model.encoder[i].bias.numpy(), requires_grad=True) for i in (1, 3))
    c2, c1 = (torch.tensor(model.decoder[i].bias.numpy(), requires_grad=True) for i in (0, 2))
    x = torch.from_numpy(to_float(images)).flatten(1)
    selu, lin = torch.nn.functional.selu, torch.nn.functional.linear
    out = torch.sigmoid(lin(selu(lin(selu(lin(selu(lin(x, w1, b1)), w2, b2)), w2.T, c2)), w1.T, c1))
    loss = torch.nn.functional.binary_cross_entropy(out, x)
    loss.backward()
    logs = model.train_step((images,), StepContext())
    assert logs["bce"] == pytest.approx(loss.item(), rel=1e-5)
    lr = model.config["lr"]
    np.testing.assert_allclose(
        model.encoder[1].weight.numpy(), (w1 - lr * w1.grad).detach().numpy(), rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        model.decoder[2].bias.numpy(), (c1 - lr * c1.grad).detach().numpy(), rtol=1e-4, atol=1e-6
    )


# ----- greedy-ae
def test_greedy_ae_trains_one_autoencoder_at_a_time():
    model = build("greedy-ae", stage_epochs=[1, 1])
    # the phase comes from the step context: stage_epochs[0] epochs of phase 1, then phase 2
    phases = [model.stage(StepContext(step=s, steps_per_epoch=3)) for s in range(5)]
    assert phases == [1, 1, 1, 2, 2]
    stage1 = {id(p) for p in parts.unique_parameters(model.enc1, model.dec1)}
    before = {id(p): p.numpy().copy() for p in model.parameters()}
    assert set(model.train_step((blobs(16),), StepContext(step=0, steps_per_epoch=1))) == {"bce1"}
    moved = {
        i
        for i, p in ((id(p), p) for p in model.parameters())
        if not np.array_equal(before[i], p.numpy())
    }
    assert moved == stage1
    before = {id(p): p.numpy().copy() for p in model.parameters()}
    assert set(model.train_step((blobs(16),), StepContext(step=1, steps_per_epoch=1))) == {"mse2"}
    moved = {
        i
        for i, p in ((id(p), p) for p in model.parameters())
        if not np.array_equal(before[i], p.numpy())
    }
    assert moved == {id(p) for p in model.parameters()} - stage1
    # the stack is stacked-ae's architecture, and validation reports the whole stack and both phases
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [tuple(p.shape) for p in build("stacked-ae", shape=SMALL).parameters()]
    assert set(model.evaluate(blobs(8))) == {"bce", "bce1", "mse2"}
    assert model.extra_state() == {}  # no step counter of its own: the trainer's step decides


# ----- conv-ae and recurrent-ae
def test_conv_ae_architecture_follows_the_book():
    model = build("conv-ae", shape=(1, 28, 28))
    x = model.to_input(blobs(2, 28))
    codings = model.encoder(x)
    assert codings.shape == (2, 64, 3, 3) and model.decoder(codings).shape == (2, 1, 28, 28)
    # Keras's summary of the book's model: 160 + 4,640 + 18,496 | 18,464 + 4,624 + 145
    assert [sum(p.numel() for p in m.parameters()) for m in (model.encoder, model.decoder)] == [
        23296,
        23233,
    ]


def test_recurrent_ae_reads_rows():
    model = build("recurrent-ae", shape=(1, 28, 28))
    images = blobs(3, 28)
    x = model.to_input(images)
    rows = parts.Rows()(x).numpy()
    assert rows.shape == (3, 28, 28) and np.array_equal(rows, to_float(images)[:, 0])
    codings = model.encoder(x)
    assert (
        codings.shape == (3, 30) and (np.abs(codings.numpy()) < 1).all()
    )  # LSTM outputs: tanh range
    assert model.decoder(codings).shape == (3, 1, 28, 28)
    lstm = model.encoder[1].lstm
    assert lstm.bias_ih_l0.numpy()[100:200].tolist() == [1.0] * 100  # Keras's unit forget bias
    w = lstm.weight_hh_l0.numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(100), atol=1e-5)  # orthogonal recurrent kernel


def test_repeat_vector():
    z = sg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert np.array_equal(
        parts.RepeatVector(4)(z).numpy(), np.repeat(z.numpy()[:, None], 4, axis=1)
    )


# ----- denoising-ae
@pytest.mark.parametrize("noise", ["gaussian", "dropout"])
def test_denoising_noise_only_in_training(noise):
    model = build("denoising-ae", noise=noise)
    images = blobs(6)
    x = to_float(images)
    noisy = model.corrupt(images, sg.Generator(3))
    if noise == "gaussian":
        assert 0.15 < (noisy - x).std() < 0.25
    else:  # half the pixels dropped, the rest doubled
        lit = x > 0
        kept = lit & (noisy != 0)
        assert 0.35 < kept.sum() / lit.sum() < 0.65 and np.allclose(noisy[kept], 2 * x[kept])
    model.train(False)
    assert np.array_equal(model.reconstruct(images), model.reconstruct(images))
    clean = model.decoder(model.encoder[2:](model.to_input(images).flatten(1))).numpy()
    np.testing.assert_allclose(model.reconstruct(images), clean, rtol=1e-6)
    model.train(True)
    with sg.no_grad():
        assert not np.allclose(model.forward(model.to_input(images)).numpy(), clean)


def test_denoising_rejects_unknown_noise():
    with pytest.raises(ValueError, match="noise 'salt'"):
        build("denoising-ae", noise="salt")


# ----- sparse autoencoders
def test_sparse_penalties_against_numpy():
    images = blobs(8)
    l1 = build("sparse-l1-ae")
    z = l1.encoder(l1.to_input(images)).numpy().astype(np.float64)
    assert z.shape == (8, 300)
    parts = l1.evaluate(images)
    assert parts["l1"] == pytest.approx(1e-3 * np.abs(z).sum() / 8, rel=1e-5)
    assert parts["loss"] == pytest.approx(parts["bce"] + parts["l1"], rel=1e-6)
    assert parts["mean_activation"] == pytest.approx(z.mean(), rel=1e-5)
    kl = build("sparse-kl-ae")
    q = kl.encoder(kl.to_input(images)).numpy().astype(np.float64).mean(axis=0)
    expected = 0.05 * np.sum(0.1 * np.log(0.1 / q) + 0.9 * np.log(0.9 / (1 - q)))
    assert kl.evaluate(images)["kl"] == pytest.approx(expected, rel=1e-4)


def test_sparse_kl_pulls_the_mean_activation_to_the_target():
    model = build("sparse-kl-ae")
    batch = (blobs(32),)
    assert abs(model.evaluate(batch[0])["mean_activation"] - 0.1) > 0.2
    for i in range(15):
        model.train_step(batch, StepContext(step=i))
    assert model.evaluate(batch[0])["mean_activation"] == pytest.approx(0.1, abs=0.02)


def test_activation_histogram_and_codings_map(tmp_path):
    model = build("sparse-kl-ae")
    model.activation_histogram(blobs(20), str(tmp_path / "h.png"))
    assert (
        model.codings_map(blobs(30), np.arange(30) % 3, str(tmp_path / "m.png"), method="pca")
        == "pca"
    )
    assert (tmp_path / "h.png").exists() and (tmp_path / "m.png").exists()


def test_keras_init_covers_every_layer_kind():
    g = sg.Generator(0)
    layers = nn.ModuleList(
        [
            nn.Linear(30, 20, generator=g),
            nn.Conv2d(3, 8, 3, generator=g),
            nn.ConvTranspose2d(8, 4, 3, generator=g),
        ]
    )
    parts.keras_init_(layers, g)
    for layer in layers:
        w = layer.weight.numpy()
        rf = math.prod(w.shape[2:])
        bound = math.sqrt(6 / ((w.shape[0] + w.shape[1]) * rf))
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
        assert not layer.bias.numpy().any()


# ----- unsupervised pretraining
def test_pretraining_classifier_reuses_or_reinitialises_the_encoder():
    from scratchgan.models import pretraining

    assert len(pretraining.labelled_subset(55000, 0.01, 0)) == 550
    assert not np.array_equal(
        pretraining.labelled_subset(100, 0.1, 0), pretraining.labelled_subset(100, 0.1, 1)
    )
    stacked = build("stacked-ae", shape=SMALL)
    stacked.train_step((blobs(8),), StepContext())
    enc = stacked.encoder.state_dict()
    pre = pretraining.build_classifier(stacked.encoder, 30, 10, sg.Generator(0), pretrained=True)
    scratch = pretraining.build_classifier(
        stacked.encoder, 30, 10, sg.Generator(0), pretrained=False
    )
    assert all(np.array_equal(v.numpy(), pre[0].state_dict()[k].numpy()) for k, v in enc.items())
    assert not any(
        np.array_equal(v.numpy(), scratch[0].state_dict()[k].numpy())
        for k, v in enc.items()
        if k.endswith("weight")
    )
    assert (
        pre[0].state_dict()["1.weight"] is not enc["1.weight"]
    )  # a copy: training it leaves the autoencoder alone
    x = to_float(blobs(16)).astype(np.float32)
    y = np.arange(16) % 10
    for q in pre[0].parameters():
        q.requires_grad_(False)
    pretraining.fit(pre, list(pre[1].parameters()), x, y, epochs=3, lr=1e-2, batch_size=8, seed=0)
    assert all(
        np.array_equal(v.numpy(), pre[0].state_dict()[k].numpy()) for k, v in enc.items()
    )  # frozen
    assert 0 <= pretraining.accuracy(pre, x, y) <= 1
