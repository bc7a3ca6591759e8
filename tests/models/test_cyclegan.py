"""cyclegan: Keras "same" convolutions and reflection padding against independent references, the
book's U-Net and PatchGAN shapes, the ResNet option, the objective, one train step reaching every
parameter, checkpoints with the image pools, the data plumbing and the domain classifier."""

import os

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import data as sgdata
from scratchgan import train
from scratchgan.models import cyclegan
from scratchgan.models.parts import image_translation as i2i
from scratchgan.training.protocol import StepContext


def build(**kw):
    kw = {"gf": 4, "df": 4, **kw}
    config = train.make_config("cyclegan", **kw)
    config["image_shape"] = [1, 28, 28]
    return train.build_model(config)


def images(n, seed=0):
    return (np.random.default_rng(seed).random((n, 28, 28)) * 255).astype(np.uint8)


def with_domain_b(model, b):
    model.train_b, model.valid_b = b, b
    return model


def real_domains():
    try:
        return sgdata.load_unpaired("sneaker2boot", "test")
    except sgdata.DatasetNotFoundError as e:
        pytest.skip(f"Fashion-MNIST is not installed: {e}")


@pytest.mark.parametrize("stride", [1, 2])
def test_same_conv_matches_keras_padding(stride):
    torch = pytest.importorskip("torch")
    conv = i2i.SameConv(3, 5, stride, generator=sg.Generator(0))
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    # Keras "same": total padding max(k - s, 0) = 3 (s=1) or 2 (s=2), the odd pixel after
    pad = (1, 2, 1, 2) if stride == 1 else (1, 1, 1, 1)
    expected = torch.nn.functional.conv2d(
        torch.nn.functional.pad(torch.tensor(x), pad),
        torch.tensor(conv.conv.weight.numpy()),
        torch.tensor(conv.conv.bias.numpy()),
        stride=stride,
    )
    out = conv(sg.tensor(x)).numpy()
    assert out.shape == (2, 5, 8 // stride, 8 // stride)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-5)


def test_reflect_pad_matches_numpy():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    t = sg.tensor(x, requires_grad=True)
    y = i2i.reflect_pad(t, 3)
    np.testing.assert_array_equal(
        y.numpy(), np.pad(x, ((0, 0), (0, 0), (3, 3), (3, 3)), mode="reflect")
    )
    sg.gradcheck(lambda a: i2i.reflect_pad(a, 2), [sg.tensor(x[:1, :1], requires_grad=True)])
    with pytest.raises(ValueError, match="padding 6"):
        i2i.reflect_pad(t, 6)


def test_unet_and_patchgan_follow_the_book():
    model = build(gf=4, df=4)
    G, D = model.g_ab, model.d_b
    x = model.to_input(images(2))
    assert x.shape == (2, 1, 32, 32)
    d1 = G.d1(x)
    d2 = G.d2(d1)
    d3 = G.d3(d2)
    d4 = G.d4(d3)
    assert [t.shape[1:] for t in (d1, d2, d3, d4)] == [
        (4, 16, 16),
        (8, 8, 8),
        (16, 4, 4),
        (32, 2, 2),
    ]
    u1 = G.u1(d4, d3)
    u2 = G.u2(u1, d2)
    u3 = G.u3(u2, d1)
    assert [t.shape[1:] for t in (u1, u2, u3)] == [(32, 4, 4), (16, 8, 8), (8, 16, 16)]
    y = G(x).numpy()
    assert y.shape == (2, 1, 32, 32) and np.abs(y).max() <= 1
    assert D(x).shape == (2, 1, 4, 4)
    assert D.body[0].norm is None and all(layer.norm is not None for layer in list(D.body)[1:])
    assert i2i.PatchDiscriminator(1, 4, layers=4)(x).shape == (2, 1, 2, 2)  # the book's 4 layers


def test_resnet_generator_option():
    model = build(generator="resnet", gf=4, resnet_blocks=2)
    y = model.g_ab(model.to_input(images(2)))
    assert y.shape == (2, 1, 32, 32)
    assert sum(isinstance(m, i2i.ResidualBlock) for m in model.g_ab.modules()) == 2
    with pytest.raises(ValueError, match="'unet' or 'resnet'"):
        build(generator="vgg")


def test_the_recipe():
    config = train.make_config("cyclegan")
    assert config["lambda_cycle"] == 10 and config["image_pool"] == 50 and config["lr"] == 2e-4
    assert list(config["betas"]) == [0.5, 0.999] and config["dataset"] == "sneaker2boot:A"
    assert cyclegan.other_domain("mnist2fashion:A") == "mnist2fashion:B"
    with pytest.raises(ValueError, match="domain A of an unpaired pair"):
        cyclegan.other_domain("fashion-mnist")


def l1(a, b):
    return np.abs(a - b).mean()


def test_objective_terms_and_one_step_reaching_every_parameter():
    a, b = images(4, 1), images(1, 2)
    model = with_domain_b(build(), b)  # one B image: the B batch is known
    ra, rb = model.to_input(a).numpy(), model.to_input(np.repeat(b, 4, axis=0)).numpy()
    G, Fn = model.g_ab, model.g_ba
    with sg.no_grad():
        fb, fa = G(sg.tensor(ra)).numpy(), Fn(sg.tensor(rb)).numpy()
        cycle = l1(Fn(sg.tensor(fb)).numpy(), ra) + l1(G(sg.tensor(fa)).numpy(), rb)
        identity = l1(Fn(sg.tensor(ra)).numpy(), ra) + l1(G(sg.tensor(rb)).numpy(), rb)
        adv = ((model.d_b(sg.tensor(fb)).numpy() - 1) ** 2).mean() + (
            (model.d_a(sg.tensor(fa)).numpy() - 1) ** 2
        ).mean()
        d_a = (
            ((model.d_a(sg.tensor(ra)).numpy() - 1) ** 2).mean()
            + (model.d_a(sg.tensor(fa)).numpy() ** 2).mean()
        ) / 2
    logs = model.train_step((a,), StepContext())
    assert logs["cycle"] == pytest.approx(cycle, rel=1e-5) and logs["identity"] == pytest.approx(
        identity, rel=1e-5
    )
    assert logs["g_adv"] == pytest.approx(adv, rel=1e-5)
    assert logs["g_loss"] == pytest.approx(adv + 10 * cycle + 1.0 * identity, rel=1e-5)
    assert logs["d_a"] == pytest.approx(
        d_a, rel=1e-4
    )  # the pool is not full yet: D_A sees this step's fakes
    for name, net in model.modules().items():
        for pname, p in net.named_parameters():
            assert p.grad is not None and np.abs(p.grad.numpy()).sum() > 0, f"{name}.{pname}"


def test_checkpoint_round_trip_with_the_pools(tmp_path):
    b = images(8, 3)
    model = with_domain_b(build(batch_size=4), b)
    for seed in range(2):
        model.train_step((images(4, seed),), StepContext(step=seed))
    assert model.pool_a.count == 8
    path = str(tmp_path / "ck.npz")
    train.save_checkpoint(path, model, {})
    again = with_domain_b(build(batch_size=4), b)
    train.load_checkpoint(path, again)
    assert again.pool_b.count == 8 and np.array_equal(again.pool_b.images, model.pool_b.images)
    x = images(3, 9)
    np.testing.assert_array_equal(again.translate(x)[0], model.translate(x)[0])


def test_a_tiny_run_on_sneakers_and_boots(tmp_path):
    test_a, _ = real_domains()
    config = train.make_config("cyclegan", gf=4, df=4, batch_size=4, epochs=1, valid_size=8)
    data = (test_a[:16], None, test_a[16:24], None)
    summary = train.Trainer(config, str(tmp_path), data=data, progress=False).fit()
    assert summary["steps"] == 4
    row = summary["final"]
    assert 0 < row["valid_cycle_l1_a"] < 1 and 0 < row["valid_cycle_l1_b"] < 1
    assert os.path.getsize(tmp_path / "samples" / "epoch-001.png") > 0
    model, _ = train.load_run(str(tmp_path))
    fake_b, rec_a = model.translate(test_a[:3])
    assert fake_b.shape == rec_a.shape == (3, 1, 32, 32)


def test_the_domain_classifier_tells_sneakers_from_boots():
    test_a, test_b = real_domains()
    net = cyclegan.train_domain_classifier(test_a[:400], test_b[:400], epochs=2)
    ua, ub = (
        np.pad(x[400:, None] / np.float32(255), ((0, 0), (0, 0), (2, 2), (2, 2)))
        for x in (test_a, test_b)
    )
    assert (
        cyclegan.fraction_b(net, ub) > 0.85 and cyclegan.fraction_b(net, ua) < 0.15
    )  # 800 images: about 92%
