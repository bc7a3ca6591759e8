"""stylegan: the paper's generator layer by layer, truncation (psi = 0 gives the mean image), style
mixing, noise inputs, R1, one train step reaching every parameter, checkpoints and the figures."""

import os

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn, train
from scratchgan.models import parts, stylegan
from scratchgan.training.protocol import StepContext

WIDTHS = [8, 8, 6, 4]


def build(**kw):
    kw = {"channels": WIDTHS, "codings_size": 8, "w_dim": 8, **kw}
    config = train.make_config("stylegan", **kw)
    config["image_shape"] = [1, 28, 28]
    return train.build_model(config)


def images(n, seed=0):
    return (np.random.default_rng(seed).random((n, 28, 28)) * 255).astype(np.uint8)


def fixed_noise(model, n, seed=7):
    g = np.random.default_rng(seed)
    return [
        sg.tensor(g.standard_normal(s).astype(np.float32))
        for s in model.G.synthesis.noise_shapes(n)
    ]


def z(n, seed):
    return sg.tensor(np.random.default_rng(seed).standard_normal((n, 8)).astype(np.float32))


def test_registered_with_the_papers_recipe():
    config = train.make_config("stylegan")
    assert (
        config["mapping_depth"] == 8
        and config["mapping_lr_mul"] == 0.01
        and config["r1_gamma"] == 10
    )
    assert (
        config["mixing_prob"] == 0.9
        and config["w_avg_beta"] == 0.995
        and list(config["betas"]) == [0.0, 0.99]
    )
    with pytest.raises(train.Unsupported, match="no --loss"):
        train.make_config("stylegan", loss="wgan")


def test_generator_follows_the_papers_table():
    model = build()
    G = model.G
    linears = [m for m in G.mapping.modules() if isinstance(m, nn.EqualizedLinear)]
    assert len(linears) == 8 and all(m.lr_mul == 0.01 for m in linears)
    assert len(build(mapping_depth=3).G.mapping.net) == 6  # depth is configurable
    layers = list(G.synthesis.layers)
    assert len(layers) == 8 == G.num_layers
    assert layers[0].conv is None and all(layer.conv is not None for layer in layers[1:])
    assert [layer.upsample for layer in layers] == [
        False,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
    ]
    assert G.synthesis.const.shape == (1, 8, 4, 4) and np.all(G.synthesis.const.numpy() == 1)
    for layer in layers:
        assert isinstance(layer.noise, nn.NoiseInjection) and not layer.noise.weight.numpy().any()
        assert isinstance(layer.adain, nn.AdaIN) and layer.adain.style.in_features == 8
    assert [s[-1] for s in G.synthesis.noise_shapes(2)] == [4, 4, 8, 8, 16, 16, 32, 32]
    w = G.mapping(z(3, 0))
    assert w.shape == (3, 8)
    out = G(z(3, 0), generator=sg.Generator(0))
    assert out.shape == (3, 1, 32, 32) and model.D(out).shape == (3, 1)
    assert model.sample(3, sg.Generator(1)).shape == (3, 1, 28, 28)


def test_truncation_psi_zero_gives_the_mean_image():
    model = build()
    G = model.G
    G.w_avg.data = (
        np.random.default_rng(3).standard_normal(8).astype(np.float32)
    )  # any mean will do
    noise = fixed_noise(model, 4)
    for (
        layer
    ) in G.synthesis.layers:  # make the noise matter, so only w_avg can explain equal images
        layer.noise.weight.data = np.full(layer.noise.weight.shape, 0.3, np.float32)
    a = G(z(4, 1), psi=0.0, noise=noise).numpy()
    b = G(z(4, 2), psi=0.0, noise=noise).numpy()
    mean_ws = [sg.tensor(np.tile(G.w_avg.numpy(), (4, 1)))] * G.num_layers
    mean_image = G.synthesis(mean_ws, noise).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, mean_image, rtol=1e-6, atol=1e-6)
    assert not np.allclose(G(z(4, 1), noise=noise).numpy(), G(z(4, 2), noise=noise).numpy())


def test_truncation_formula_and_cutoff():
    model = build()
    G = model.G
    G.w_avg.data = np.arange(8, dtype=np.float32)
    w = G.mapping(z(2, 0))
    ws = G.truncate([w] * G.num_layers, 0.7, cutoff=3)
    expected = G.w_avg.numpy() + 0.7 * (w.numpy() - G.w_avg.numpy())
    for i, wi in enumerate(ws):
        np.testing.assert_allclose(wi.numpy(), expected if i < 3 else w.numpy(), rtol=1e-6)


def test_style_mixing_takes_layers_from_the_crossover_on_from_the_second_latent():
    model = build()
    G = model.G
    noise = fixed_noise(model, 2)
    w1, w2 = G.mapping(z(2, 1)), G.mapping(z(2, 2))
    for k in (1, 4, 7):
        mixed = G(z(2, 1), z_mix=z(2, 2), crossover=k, noise=noise).numpy()
        expected = G.synthesis([w1] * k + [w2] * (G.num_layers - k), noise).numpy()
        np.testing.assert_allclose(mixed, expected, rtol=1e-6)
    assert np.array_equal(
        G(z(2, 1), z_mix=z(2, 2), crossover=8, noise=noise).numpy(), G(z(2, 1), noise=noise).numpy()
    )


def test_noise_inputs_change_only_what_their_weights_allow():
    model = build()
    G = model.G
    zz = z(2, 0)
    same = [G(zz, noise=fixed_noise(model, 2, s)).numpy() for s in (1, 2)]
    np.testing.assert_array_equal(same[0], same[1])  # noise weights start at zero
    G.synthesis.layers[6].noise.weight.data = np.ones(4, np.float32)
    a, b = (G(zz, noise=fixed_noise(model, 2, s)).numpy() for s in (1, 2))
    assert not np.allclose(a, b)


def test_r1_penalty_against_closed_forms():
    x = sg.tensor(np.random.default_rng(0).standard_normal((3, 1, 4, 4)), requires_grad=True)
    a = np.random.default_rng(1).standard_normal(16)
    linear = (x.flatten(1) * sg.tensor(a)).sum(axis=1, keepdims=True)  # grad_x = a for every sample
    assert parts.r1_penalty(linear, x).item() == pytest.approx((a**2).sum(), rel=1e-12)
    quadratic = (x * x).flatten(1).sum(axis=1, keepdims=True)  # grad_x = 2 x
    expected = (4 * x.numpy() ** 2).reshape(3, -1).sum(axis=1).mean()
    r1 = parts.r1_penalty(quadratic, x)
    assert r1.item() == pytest.approx(expected, rel=1e-12)
    r1.backward()  # d/dx mean_n 4 |x_n|^2 = 8 x / N, through the double backward
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy() / 3, rtol=1e-12)


def test_one_train_step_reaches_every_parameter():
    model = build(batch_size=4)
    before = model.G.w_avg.numpy().copy()
    logs = model.train_step((images(4),), StepContext())
    assert all(np.isfinite(v) for v in logs.values()) and {"d_loss", "g_loss", "r1"} <= set(logs)
    for net in (model.G, model.D):
        for name, p in net.named_parameters():
            assert p.grad is not None and np.abs(p.grad.numpy()).sum() > 0, name
    assert not np.array_equal(model.G.w_avg.numpy(), before)


def test_checkpoint_round_trip_keeps_w_avg(tmp_path):
    model = build(batch_size=4)
    model.train_step((images(4),), StepContext())
    path = str(tmp_path / "ck.npz")
    train.save_checkpoint(path, model, {})
    again = build(batch_size=4)
    train.load_checkpoint(path, again)
    np.testing.assert_array_equal(again.G.w_avg.numpy(), model.G.w_avg.numpy())
    np.testing.assert_array_equal(
        again.sample(2, sg.Generator(5), psi=0.5), model.sample(2, sg.Generator(5), psi=0.5)
    )


def test_figures(tmp_path):
    model = build()
    grid = model.style_mixing(
        2, 3, 0, sg.Generator(0)
    )  # crossover 0: every layer from A (the top row)
    assert grid.shape == (3, 4, 1, 32, 32)
    np.testing.assert_allclose(grid[1, 1:], grid[0, 1:], atol=1e-5)
    np.testing.assert_allclose(grid[2, 1:], grid[0, 1:], atol=1e-5)
    grid = model.style_mixing(
        2, 3, 8, sg.Generator(0)
    )  # crossover 8: every layer from B (the left column)
    np.testing.assert_allclose(grid[1, 1:], np.repeat(grid[1:2, 0], 3, axis=0), atol=1e-5)
    assert not np.allclose(grid[1, 1:], grid[0, 1:], atol=1e-3)
    paths = stylegan.save_figures(model, str(tmp_path))
    assert len(paths) == 4 and all(os.path.getsize(p) > 0 for p in paths)
