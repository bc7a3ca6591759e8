"""progan: shapes through every growth stage, the exact fade-in blend in G, D and the real images,
the schedule, equalized layers, gradients reaching exactly the active parameters, checkpoints, and a
tiny run through the whole schedule with the trainer."""

import os

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn, train
from scratchgan.models import progan
from scratchgan.models.parts import progressive
from scratchgan.training.protocol import StepContext

WIDTHS = [8, 8, 6, 4]  # tiny widths: 4x4, 8x8, 16x16, 32x32


def build(**kw):
    config = train.make_config("progan", channels=WIDTHS, codings_size=8, **kw)
    config["image_shape"] = [1, 28, 28]
    return train.build_model(config)


def images(n, seed=0):
    return (np.random.default_rng(seed).random((n, 28, 28)) * 255).astype(np.uint8)


def nearest_up(a):
    return a.repeat(2, axis=2).repeat(2, axis=3)


def box_down(a):
    n, c, h, w = a.shape
    return a.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def test_registered_with_the_papers_recipe():
    config = train.make_config("progan")
    assert config["loss"] == "wgan-gp" and config["gp_weight"] == 10 and config["drift"] == 0.001
    assert (
        config["optimizer"] == "adam"
        and config["lr"] == 1e-3
        and list(config["betas"]) == [0.0, 0.99]
    )
    assert len(config["channels"]) == 4 and config["resolution"] == 32
    with pytest.raises(train.Unsupported, match="no --loss"):
        train.make_config("progan", loss="ns")


@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_shapes_through_every_stage(alpha):
    model = build()
    z = sg.randn(4, 8, generator=sg.Generator(1))
    for stage in range(4):
        side = 4 * 2**stage
        x = model.G(z, stage, alpha)
        assert x.shape == (4, 1, side, side)
        assert model.D(x, stage, alpha).shape == (4, 1)
    with pytest.raises(ValueError, match="stage 2 takes 16x16"):
        model.D(sg.zeros(4, 1, 32, 32), 2)


def test_generator_fade_in_is_exactly_the_blend_of_old_and_new():
    """During fade-in G(z) = (1 - alpha) * upsample(old toRGB) + alpha * new toRGB, to float64
    rounding.

    The old path alone is G at stage - 1 with alpha 1 (the blocks below are shared), the new one G
    at stage with alpha 1; the upsampling is NumPy's repeat."""
    model = build()
    model.G.to(sg.float64)
    z = sg.tensor(np.random.default_rng(2).standard_normal((4, 8)))
    for stage in (1, 2, 3):
        old = model.G(z, stage - 1, 1.0).numpy()
        new = model.G(z, stage, 1.0).numpy()
        assert not np.allclose(nearest_up(old), new)  # the two paths differ, so the test can fail
        for alpha in (0.0, 0.25, 0.7):
            blended = model.G(z, stage, alpha).numpy()
            np.testing.assert_allclose(
                blended, (1 - alpha) * nearest_up(old) + alpha * new, rtol=1e-12, atol=1e-14
            )


def test_discriminator_fade_in_ends():
    """alpha = 0: D sees only the average-pooled image through the old fromRGB; alpha = 1: the old
    fromRGB is unused."""
    model = build()
    model.D.to(sg.float64)
    x = sg.tensor(np.random.default_rng(3).standard_normal((4, 1, 16, 16)))
    pooled = sg.tensor(box_down(x.numpy()))
    np.testing.assert_allclose(
        model.D(x, 2, 0.0).numpy(), model.D(pooled, 1, 1.0).numpy(), rtol=1e-12
    )
    before = model.D(x, 2, 1.0).numpy()
    model.D.from_rgb[1].conv.conv.weight.data = model.D.from_rgb[1].conv.conv.weight.data * 3
    np.testing.assert_array_equal(model.D(x, 2, 1.0).numpy(), before)
    assert not np.allclose(model.D(x, 2, 0.5).numpy(), before)


def test_real_images_are_pooled_and_faded_like_the_generator():
    model = build()
    raw = images(4)
    canvas = np.pad(raw, ((0, 0), (2, 2), (2, 2)))[:, None].astype(np.float64) / 255 * 2 - 1
    at16 = box_down(canvas)
    at8 = box_down(at16)
    model.stage, model.alpha = 2, 0.4
    np.testing.assert_allclose(
        model.to_input(raw).numpy(), 0.6 * nearest_up(at8) + 0.4 * at16, atol=2e-6
    )
    model.stage, model.alpha = 3, 1.0
    np.testing.assert_allclose(model.to_input(raw).numpy(), canvas, atol=1e-6)


def test_schedule():
    def s(i):
        return progan.schedule(i, 4, 100, 50)

    assert s(0) == (0, 1.0) and s(99) == (0, 1.0)
    assert s(100) == (1, 0.0) and s(125) == (1, 0.5) and s(150) == (1, 1.0) and s(249) == (1, 1.0)
    assert s(250) == (2, 0.0) and s(400) == (3, 0.0) and s(430) == (3, 0.6)
    assert s(progan.schedule_images(4, 100, 50)) == (3, 1.0) and s(10**9) == (3, 1.0)


def test_every_layer_is_equalized_and_every_generator_conv_is_pixel_normalised():
    model = build()
    for net in (model.G, model.D):
        plain = [m for m in net.modules() if type(m) in (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)]
        assert not plain
    convs = [m for m in model.G.modules() if isinstance(m, nn.EqualizedConv2d)]
    in_gconv = {id(m.conv) for m in model.G.modules() if isinstance(m, progressive.GConv)}
    to_rgb = {id(m) for m in model.G.to_rgb}
    assert all(id(c) in in_gconv or id(c) in to_rgb for c in convs)
    assert len(in_gconv) == 1 + 2 * 3  # Conv 3x3 at 4x4, two per later stage
    # pixel norm: each feature vector of a G block's output has unit mean square over channels
    h = model.G.first(sg.randn(3, 8, generator=sg.Generator(0))).numpy()
    np.testing.assert_allclose((h**2).mean(axis=1), 1.0, rtol=1e-4)


def active(model, stage, alpha):
    """Names of the parameters that take part at (stage, alpha)."""
    g = {"first"} | {f"blocks.{s - 1}" for s in range(1, stage + 1)} | {f"to_rgb.{stage}"}
    d = {"last"} | {f"blocks.{s - 1}" for s in range(1, stage + 1)} | {f"from_rgb.{stage}"}
    if stage and alpha < 1:
        g.add(f"to_rgb.{stage - 1}")
        d.add(f"from_rgb.{stage - 1}")
    return g, d


@pytest.mark.parametrize("stage, alpha", [(0, 1.0), (1, 0.5), (2, 1.0), (3, 0.5)])
def test_one_train_step_reaches_exactly_the_active_parameters(stage, alpha):
    model = build(batch_size=8)
    model.stage = model.optimizer_stage = stage
    model.alpha = alpha
    model.set_phase = lambda images: None  # hold the stage
    before = {k: v.numpy().copy() for k, v in model.G.state_dict().items()}
    logs = model.train_step((images(8),), StepContext())
    assert all(np.isfinite(v) for v in logs.values()) and {"d_loss", "g_loss", "gp"} <= set(logs)
    for net, names in zip((model.G, model.D), active(model, stage, alpha)):
        for name, p in net.named_parameters():
            used = name.split(".")[0] in names or ".".join(name.split(".")[:2]) in names
            if used:
                assert p.grad is not None and np.abs(p.grad.numpy()).sum() > 0, name
            else:
                assert p.grad is None, name
    changed = {
        k for k, v in model.G.state_dict().items() if not np.array_equal(v.numpy(), before[k])
    }
    assert changed and all(
        k.split(".")[0] in active(model, stage, alpha)[0]
        or ".".join(k.split(".")[:2]) in active(model, stage, alpha)[0]
        for k in changed
    )


def test_growth_snapshots_resets_and_checkpoints(tmp_path):
    model = build(batch_size=4, stable_images=8, fade_images=8)
    x = images(4)
    for i in range(4):  # 8 images at 4x4, then the fade to 8x8: alpha 0, then 0.5
        model.train_step((x,), StepContext(step=i))
    assert (model.stage, model.alpha) == (1, 0.5) and set(model.snapshots) == {4}
    assert model.snapshots[4].shape == (64, 1, 4, 4)
    assert model.opt_g.state_dict() and model.optimizer_stage == 1
    path = str(tmp_path / "ck.npz")
    train.save_checkpoint(path, model, {})
    again = build(batch_size=4, stable_images=8, fade_images=8)
    train.load_checkpoint(path, again)
    assert (again.stage, again.alpha, again.images_seen, again.history) == (
        1,
        0.5,
        16,
        model.history,
    )
    np.testing.assert_array_equal(again.snapshots[4], model.snapshots[4])
    np.testing.assert_array_equal(
        again.sample(4, sg.Generator(3)), model.sample(4, sg.Generator(3))
    )
    assert model.sample(4, sg.Generator(3)).shape == (4, 1, 28, 28)  # the data's shape


def test_a_tiny_run_grows_to_32_and_draws_its_figures(tmp_path):
    config = train.make_config(
        "progan",
        channels=WIDTHS,
        codings_size=8,
        batch_size=4,
        stable_images=8,
        fade_images=8,
        train_images=0,
        epochs=1,
        valid_size=0,
    )
    data = (images(56), None, images(8, 1), None)  # schedule: 8 + 3 * 16 = 56 images
    summary = train.Trainer(config, str(tmp_path), data=data, progress=False).fit()
    assert summary["steps"] == 14
    model, _ = train.load_run(str(tmp_path))
    assert (model.stage, model.alpha) == (3, 1.0) and sorted(model.snapshots) == [4, 8, 16]
    alphas = [a for _, s, a in model.history if s == 2]
    assert alphas[:2] == [0.0, 0.5] and alphas[-1] == 1.0
    for name in ("epoch-001.png", "resolutions.png", "alpha.png"):
        assert os.path.getsize(tmp_path / "samples" / name) > 0


def test_resume_mid_growth_continues_bit_for_bit(tmp_path):
    config = train.make_config(
        "progan",
        channels=WIDTHS,
        codings_size=8,
        batch_size=4,
        stable_images=8,
        fade_images=8,
        train_images=0,
        epochs=1,
        valid_size=0,
    )
    data = (
        images(32),
        None,
        images(8, 1),
        None,
    )  # 8 steps: 4x4, the 8x8 fade and stable, into the 16x16 fade
    whole = train.Trainer(config, str(tmp_path / "whole"), data=data, progress=False)
    whole.fit()
    part = train.Trainer(config, str(tmp_path / "part"), data=data, progress=False)
    part.fit(max_steps=3)  # stops during the 8x8 fade, after the optimiser reset
    resumed = train.Trainer(config, str(tmp_path / "part"), resume=True, data=data, progress=False)
    assert (resumed.model.stage, resumed.model.images_seen) == (1, 12)
    resumed.fit()
    for name in ("generator", "discriminator"):
        a, b = whole.model.modules()[name].state_dict(), resumed.model.modules()[name].state_dict()
        assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a), name
    assert resumed.model.history == whole.model.history
