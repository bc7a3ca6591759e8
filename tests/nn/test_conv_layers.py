"""Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, Upsample: PyTorch's parameters, init, outputs."""

import math

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn

torch = pytest.importorskip("torch")

CONFIGS = [
    {"in_channels": 3, "out_channels": 8, "kernel_size": 3},
    {
        "in_channels": 4,
        "out_channels": 6,
        "kernel_size": (3, 2),
        "stride": 2,
        "padding": (1, 0),
        "groups": 2,
    },
    {
        "in_channels": 2,
        "out_channels": 4,
        "kernel_size": 4,
        "stride": 2,
        "padding": 1,
        "dilation": 2,
        "bias": False,
    },
]


def _copy_from_torch(ours, theirs):
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        p.data = tp.detach().numpy().copy()


def _compare(ours, theirs, x, **kw):
    xs, xt = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xs, **kw), theirs(xt, **kw)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    y.backward(sg.tensor(gy))
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(
            p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name
        )


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("config", CONFIGS)
def test_parameters_and_outputs_match_torch(config, transposed):
    ours = (nn.ConvTranspose2d if transposed else nn.Conv2d)(**config)
    theirs = (torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d)(**config)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    assert all(p.dtype == np.float32 and p.requires_grad for p in ours.parameters())
    for attr in (
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "in_channels",
        "out_channels",
    ):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    _copy_from_torch(ours, theirs)
    x = (
        np.random.default_rng(0)
        .standard_normal((2, config["in_channels"], 9, 8))
        .astype(np.float32)
    )
    _compare(ours, theirs, x)


@pytest.mark.parametrize("transposed", [False, True])
def test_init_is_uniform_with_pytorch_bounds(transposed):
    layer = (nn.ConvTranspose2d if transposed else nn.Conv2d)(64, 32, 5, generator=sg.Generator(0))
    fan_in = (32 if transposed else 64) * 25
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # U(-a, a) has std a / sqrt(3)
    assert abs(w.mean()) < 0.02 * bound
    again = nn.Conv2d(64, 32, 5, generator=sg.Generator(0)) if not transposed else None
    if again is not None:
        np.testing.assert_array_equal(again.weight.numpy(), w)


def test_conv_transpose2d_output_size_picks_output_padding():
    ours, theirs = (
        nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1),
    )
    _copy_from_torch(ours, theirs)
    x = np.random.default_rng(2).standard_normal((1, 4, 5, 6)).astype(np.float32)
    for size in ((9, 11), (10, 12), (1, 4, 10, 11)):
        _compare(ours, theirs, x, output_size=size)
    with pytest.raises(ValueError, match=r"output size \(12, 12\).*between 9 and 10"):
        ours(sg.tensor(x), output_size=(12, 12))


@pytest.mark.parametrize(
    "ours,theirs",
    [
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1)),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (
            nn.AvgPool2d(3, 2, 1, count_include_pad=False),
            torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False),
        ),
        (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
        (nn.Upsample((1, 3)), torch.nn.Upsample(scale_factor=(1, 3))),
    ],
    ids=["max2", "max3s2p1", "avg2", "avg3s2p1-nopad", "up2", "up1x3"],
)
def test_pooling_and_upsampling_layers_match_torch(ours, theirs):
    assert list(ours.parameters()) == []
    _compare(
        ours, theirs, np.random.default_rng(3).standard_normal((2, 3, 8, 7)).astype(np.float32)
    )


@pytest.mark.parametrize(
    "make,match",
    [
        (
            lambda: nn.Conv2d(3, 4, 3, groups=2),
            r"in_channels \(3\) and out_channels \(4\) must both be divisible by groups \(2\)",
        ),
        (lambda: nn.ConvTranspose2d(4, 3, 3, groups=2), r"divisible by groups"),
        (
            lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect"),
            r"padding_mode 'reflect' is not supported",
        ),
        (lambda: nn.Conv2d(3, 4, 0), r"kernel_size must be at least 1"),
        (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), r"mode 'bilinear' is not supported"),
        (lambda: nn.Upsample(scale_factor=1.5), r"scale_factor must be a positive integer"),
    ],
)
def test_bad_constructor_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_layers_move_with_module_to_float64():
    layer = nn.Conv2d(2, 3, 3).to(dtype=np.float64)
    y = layer(sg.tensor(np.ones((1, 2, 4, 4))))
    assert y.dtype == np.float64 and y.shape == (1, 3, 2, 2)
