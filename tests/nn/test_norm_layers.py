"""Normalisation and GAN layers against torch.nn (or the formulas they stand for): running
statistics over several training steps, eval mode, state-dict names, and argument errors."""

import math

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.functional as F
import scratchgan.nn as nn

torch = pytest.importorskip("torch")
tF = torch.nn.functional

F64 = dict(rtol=1e-7, atol=1e-12)


def copy_into(module, tmodule):
    module.load_state_dict({k: v.detach().numpy() for k, v in tmodule.state_dict().items()})


def assert_buffers_equal(module, tmodule):
    tstate = tmodule.state_dict()
    assert list(module.state_dict()) == list(tstate)
    for k, v in module.state_dict().items():
        np.testing.assert_allclose(v.numpy(), tstate[k].numpy(), **F64, err_msg=k)


def train_steps(module, tmodule, shapes, seed=0):
    """A few training steps with random affine parameters: forward, backward, same updates."""
    rng = np.random.default_rng(seed)
    for step, shape in enumerate(shapes):
        x = rng.standard_normal(shape) * (1 + step) + step
        xs, xt = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = module(xs), tmodule(xt)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **F64)
        gy = rng.standard_normal(shape)
        y.backward(sg.tensor(gy))
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), **F64)
        for (name, p), tp in zip(module.named_parameters(), tmodule.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **F64, err_msg=name)
            p.data = p.data - 0.1 * p.grad.data  # the same SGD step in both
            with torch.no_grad():
                tp -= 0.1 * tp.grad
            p.grad, tp.grad = None, None
        assert_buffers_equal(module, tmodule)


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm2d_running_stats_follow_torch_and_eval_uses_them(momentum, affine):
    module = nn.BatchNorm2d(3, momentum=momentum, affine=affine, dtype=np.float64)
    tmodule = torch.nn.BatchNorm2d(3, momentum=momentum, affine=affine, dtype=torch.float64)
    if affine:
        with torch.no_grad():
            tmodule.weight.normal_()
            tmodule.bias.normal_()
        copy_into(module, tmodule)
    train_steps(module, tmodule, [(4, 3, 5, 5), (2, 3, 3, 4), (6, 3, 2, 2), (4, 3, 5, 5)])
    assert int(module.num_batches_tracked.item()) == 4
    module.eval()
    tmodule.eval()
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(
        module(sg.tensor(x)).numpy(), tmodule(torch.tensor(x)).detach().numpy(), **F64
    )
    assert_buffers_equal(module, tmodule)  # eval leaves the statistics alone


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 6)])
def test_batchnorm1d_follows_torch(shape):
    module = nn.BatchNorm1d(4, dtype=np.float64)
    tmodule = torch.nn.BatchNorm1d(4, dtype=torch.float64)
    train_steps(module, tmodule, [shape] * 3)
    module.eval()
    tmodule.eval()
    x = np.random.default_rng(8).standard_normal(shape)
    np.testing.assert_allclose(
        module(sg.tensor(x)).numpy(), tmodule(torch.tensor(x)).detach().numpy(), **F64
    )


def test_batchnorm_without_tracking_uses_batch_stats_in_eval():
    module = nn.BatchNorm2d(2, track_running_stats=False, dtype=np.float64).eval()
    tmodule = torch.nn.BatchNorm2d(2, track_running_stats=False, dtype=torch.float64).eval()
    assert list(module.state_dict()) == list(tmodule.state_dict())
    x = np.random.default_rng(7).standard_normal((3, 2, 3, 3))
    np.testing.assert_allclose(
        module(sg.tensor(x)).numpy(), tmodule(torch.tensor(x)).detach().numpy(), **F64
    )


def test_batchnorm2d_float32_defaults():
    module = nn.BatchNorm2d(5)
    assert module.weight.dtype == np.float32 and module.running_var.dtype == np.float32
    assert module.num_batches_tracked.dtype == np.int64 and module.num_batches_tracked.shape == ()
    np.testing.assert_array_equal(module.weight.numpy(), np.ones(5))
    np.testing.assert_array_equal(module.bias.numpy(), np.zeros(5))


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("track", [False, True])
def test_instancenorm2d_follows_torch(affine, track):
    module = nn.InstanceNorm2d(
        3, momentum=0.2, affine=affine, track_running_stats=track, dtype=np.float64
    )
    tmodule = torch.nn.InstanceNorm2d(
        3, momentum=0.2, affine=affine, track_running_stats=track, dtype=torch.float64
    )
    if affine:
        with torch.no_grad():
            tmodule.weight.normal_()
            tmodule.bias.normal_()
        copy_into(module, tmodule)
    train_steps(module, tmodule, [(2, 3, 4, 5), (3, 3, 2, 3), (2, 3, 4, 5)])
    module.eval()
    tmodule.eval()
    x = np.random.default_rng(6).standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(
        module(sg.tensor(x)).numpy(), tmodule(torch.tensor(x)).detach().numpy(), **F64
    )
    x3 = x[0]  # unbatched (C, H, W)
    np.testing.assert_allclose(
        module(sg.tensor(x3)).numpy(), tmodule(torch.tensor(x3)).detach().numpy(), **F64
    )


@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}])
def test_layernorm_follows_torch(kwargs):
    module = nn.LayerNorm((3, 4), dtype=np.float64, **kwargs)
    tmodule = torch.nn.LayerNorm((3, 4), dtype=torch.float64, **kwargs)
    if kwargs.get("elementwise_affine", True):
        with torch.no_grad():
            for p in tmodule.parameters():
                p.normal_()
        copy_into(module, tmodule)
    train_steps(module, tmodule, [(2, 5, 3, 4), (3, 3, 4)])


def test_norm_layer_errors():
    with pytest.raises(
        ValueError, match=r"BatchNorm2d: expected 4-D \(N, C, H, W\) input, got a 3-D input"
    ):
        nn.BatchNorm2d(3)(sg.randn(2, 3, 4))
    with pytest.raises(
        ValueError, match="BatchNorm2d: input has 4 channels .* expected num_features=3"
    ):
        nn.BatchNorm2d(3)(sg.randn(2, 4, 2, 2))
    with pytest.raises(
        ValueError, match=r"BatchNorm1d: expected 2-D \(N, C\) or 3-D \(N, C, L\) input, got a 4-D"
    ):
        nn.BatchNorm1d(3)(sg.randn(2, 3, 2, 2))
    with pytest.raises(
        ValueError, match="InstanceNorm2d: input has 2 channels .* expected num_features=3"
    ):
        nn.InstanceNorm2d(3, affine=True)(sg.randn(2, 2, 4, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3-D \(C, H, W\) or 4-D"):
        nn.InstanceNorm2d(3)(sg.randn(2, 3))
    with pytest.raises(ValueError, match="layer_norm: normalized_shape"):
        nn.LayerNorm(4)(sg.randn(2, 3))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        nn.BatchNorm2d(0)


# ----- GAN layers


def test_pixelnorm_and_minibatch_stddev_layers_call_the_ops():
    x = sg.randn(4, 3, 2, 2)
    np.testing.assert_array_equal(nn.PixelNorm()(x).numpy(), F.pixel_norm(x).numpy())
    np.testing.assert_array_equal(
        nn.MinibatchStdDev(2)(x).numpy(), F.minibatch_stddev(x, 2).numpy()
    )
    assert nn.MinibatchStdDev()(x).shape == (4, 4, 2, 2)
    with pytest.raises(ValueError, match="not divisible"):
        nn.MinibatchStdDev(3)(x)


def test_equalized_linear_scales_weights_at_run_time():
    layer = nn.EqualizedLinear(50, 7, generator=sg.Generator(0), dtype=np.float64)
    w = layer.weight.numpy()
    assert abs(w.std() - 1) < 0.1 and abs(w.mean()) < 0.1  # stored as N(0, 1)
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(7))
    x = np.random.default_rng(0).standard_normal((3, 50))
    c = math.sqrt(2) / math.sqrt(50)
    y = layer(sg.tensor(x, requires_grad=True))
    np.testing.assert_allclose(
        y.numpy(), tF.linear(torch.tensor(x), torch.tensor(w * c)).numpy(), **F64
    )
    y.sum().backward()
    # the stored weight's gradient carries the run-time constant
    np.testing.assert_allclose(
        layer.weight.grad.numpy(), c * np.broadcast_to(x.sum(0), (7, 50)), **F64
    )


def test_equalized_linear_lr_mul():
    layer = nn.EqualizedLinear(
        8, 4, gain=1.0, lr_mul=0.01, bias_init=1.0, generator=sg.Generator(1), dtype=np.float64
    )
    x = np.random.default_rng(1).standard_normal((2, 8))
    w_eff = layer.weight.numpy() * 0.01 / math.sqrt(8)
    np.testing.assert_allclose(layer(sg.tensor(x)).numpy(), x @ w_eff.T + 1.0, **F64)
    assert (
        abs(np.std(w_eff * math.sqrt(8)) - 1) < 0.5
    )  # the effective initial weight is still ~N(0, 1/fan_in)


def test_equalized_conv2d_matches_torch_conv_with_scaled_weight():
    layer = nn.EqualizedConv2d(
        3, 4, 3, stride=2, padding=1, generator=sg.Generator(2), dtype=np.float64
    )
    layer.bias.data = np.random.default_rng(3).standard_normal(4)
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 5))
    c = math.sqrt(2) / math.sqrt(3 * 3 * 3)
    expected = tF.conv2d(
        torch.tensor(x),
        torch.tensor(layer.weight.numpy() * c),
        torch.tensor(layer.bias.numpy()),
        stride=2,
        padding=1,
    )
    np.testing.assert_allclose(layer(sg.tensor(x)).numpy(), expected.numpy(), **F64)
    assert layer.weight.shape == (4, 3, 3, 3)


def test_adain_layer_starts_as_instance_norm_and_uses_the_style():
    layer = nn.AdaIN(3, 5, generator=sg.Generator(5), dtype=np.float64)
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 4))
    w = np.random.default_rng(6).standard_normal((2, 5))
    s = w @ (layer.style.weight.numpy() / math.sqrt(5)).T + layer.style.bias.numpy()
    expected = (
        tF.instance_norm(torch.tensor(x)).numpy() * s[:, :3, None, None] + s[:, 3:, None, None]
    )
    np.testing.assert_allclose(layer(sg.tensor(x), sg.tensor(w)).numpy(), expected, **F64)
    np.testing.assert_array_equal(layer.style.bias.numpy(), [1, 1, 1, 0, 0, 0])
    with pytest.raises(ValueError, match=r"AdaIN: w must be \(N, style_dim=5\)"):
        layer(sg.tensor(x), sg.tensor(np.zeros((2, 4))))


def test_noise_injection():
    layer = nn.NoiseInjection(3, dtype=np.float64)
    x = sg.tensor(np.random.default_rng(7).standard_normal((2, 3, 4, 4)))
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())  # the scale starts at zero
    layer.weight.data = np.array([0.5, -1.0, 2.0])
    a = layer(x, generator=sg.Generator(3)).numpy()
    b = layer(x, generator=sg.Generator(3)).numpy()
    np.testing.assert_array_equal(a, b)  # reproducible from the generator
    noise = (a - x.numpy())[:, :1] / 0.5
    np.testing.assert_allclose(
        a - x.numpy(), noise * np.array([0.5, -1.0, 2.0])[None, :, None, None], rtol=1e-12
    )
    n = sg.tensor(np.random.default_rng(8).standard_normal((2, 1, 4, 4)))
    y = layer(x, noise=n)
    y.sum().backward()
    np.testing.assert_allclose(
        layer.weight.grad.numpy(), np.full(3, n.numpy().sum() * 1.0), rtol=1e-12
    )
    with pytest.raises(ValueError, match=r"NoiseInjection: noise must have shape \(2, 1, 4, 4\)"):
        layer(x, noise=sg.tensor(np.zeros((2, 3, 4, 4))))
    with pytest.raises(ValueError, match=r"NoiseInjection: input must be \(N, 3, H, W\)"):
        layer(sg.tensor(np.zeros((2, 2, 4, 4))))
