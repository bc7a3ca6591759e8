"""The shared model parts: freezing and mode restoring (also on error), seeded subsets, the one
classifier-fitting loop (against a PyTorch loop), the [-1, 1] scaling and the canvas helpers."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import scratchgan as sg
from scratchgan import nn, optim
from scratchgan.data import to_float, to_tanh_range
from scratchgan.models import parts
from scratchgan.training.protocol import StepContext


def small_net():
    return nn.Sequential(
        nn.Linear(3, 4, generator=sg.Generator(0)),
        nn.Dropout(0.5),
        nn.Linear(4, 2, generator=sg.Generator(1)),
    )


def test_frozen_turns_grad_off_and_restores_each_flag():
    net = small_net()
    net[2].bias.requires_grad = False  # a flag that was already off must stay off
    before = [p.requires_grad for p in net.parameters()]
    with parts.frozen(net):
        assert not any(p.requires_grad for p in net.parameters())
        out = net(sg.tensor(np.ones((2, 3), np.float32))).sum()
        assert not out.requires_grad
    assert [p.requires_grad for p in net.parameters()] == before == [True, True, True, False]


def test_frozen_restores_on_error_and_takes_several_modules():
    a, b = small_net(), small_net()
    with pytest.raises(RuntimeError, match="boom"), parts.frozen(a, b):
        assert not any(p.requires_grad for p in [*a.parameters(), *b.parameters()])
        raise RuntimeError("boom")
    assert all(p.requires_grad for p in [*a.parameters(), *b.parameters()])


def test_training_mode_restores_every_submodule_even_on_error():
    net = small_net().train()
    net[1].eval()  # a submodule in its own mode
    with pytest.raises(ValueError), parts.training_mode(net, False):
        assert not any(m.training for m in net.modules())
        raise ValueError
    assert [m.training for m in net.modules()] == [True, True, False, True]
    with parts.training_mode(net, True):
        assert all(m.training for m in net.modules())
    assert net[1].training is False


@given(n=st.integers(1, 200), data=st.data())
def test_seeded_subset_is_numpys_permutation_prefix(n, data):
    k, seed = data.draw(st.integers(0, n)), data.draw(st.integers(0, 2**32 - 1))
    expected = np.random.default_rng(seed).permutation(n)[:k]
    assert np.array_equal(parts.seeded_subset(n, k, seed, ordered=False), expected)
    assert np.array_equal(parts.seeded_subset(n, k, seed), np.sort(expected))


def test_fit_classifier_matches_a_pytorch_loop():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 5)).astype(np.float32), rng.integers(0, 3, 24)
    order = [rng.permutation(24) for _ in range(2)]
    net = nn.Linear(5, 3, generator=sg.Generator(0))
    ref = torch.nn.Linear(5, 3)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(net.weight.numpy()))
        ref.bias.copy_(torch.from_numpy(net.bias.numpy()))
    steps = []

    def batches(epoch):
        for i in range(0, 24, 8):
            idx = order[epoch][i : i + 8]
            yield sg.tensor(x[idx]), y[idx].astype(np.int64)

    parts.fit_classifier(
        net,
        optim.SGD(list(net.parameters()), lr=0.5),
        batches,
        epochs=2,
        on_step=lambda step, logits, yb, loss: steps.append((step, loss.item())),
    )
    opt = torch.optim.SGD(ref.parameters(), lr=0.5)
    ref_losses = []
    for epoch in range(2):
        for i in range(0, 24, 8):
            idx = order[epoch][i : i + 8]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(
                ref(torch.from_numpy(x[idx])), torch.from_numpy(y[idx])
            )
            loss.backward()
            opt.step()
            ref_losses.append(loss.item())
    assert [s for s, _ in steps] == [1, 2, 3, 1, 2, 3]
    np.testing.assert_allclose([v for _, v in steps], ref_losses, rtol=1e-5)
    np.testing.assert_allclose(
        net.weight.numpy(), ref.weight.detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_one_tanh_scaling_for_uint8_and_float_images():
    images = np.array([[[0, 51], [255, 128]]], np.uint8)
    expected = images.astype(np.float64)[:, None] / 255 * 2 - 1
    np.testing.assert_allclose(to_tanh_range(images), expected, atol=1e-6)
    padded = parts.pad_to(to_float(images), 4)  # a float canvas keeps its shape, zeros go to -1
    out = to_tanh_range(padded)
    assert out.shape == (1, 1, 4, 4) and out.dtype == np.float32
    assert out[0, 0, 0, 0] == -1 and np.allclose(out[..., 1:3, 1:3], expected, atol=1e-6)


def test_crop_to_undoes_pad_to():
    x = np.arange(2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3)
    padded = parts.pad_to(x, 8)
    assert padded.shape == (2, 1, 8, 8) and padded.sum() == x.sum()
    assert np.array_equal(parts.crop_to(padded, 5, 3), x[:, None])
    with pytest.raises(ValueError, match="do not fit"):
        parts.pad_to(x, 4)


# ----- d_minibatch_stddev (dcgan's and gan's option)
def _build(model, **kw):
    config = sg.train.make_config(model, **kw)
    config["image_shape"] = [1, 28, 28]
    return sg.train.build_model(config)


@pytest.mark.parametrize("model", ["gan", "dcgan"])
def test_minibatch_stddev_lets_d_see_how_alike_a_batch_is(model):
    """On: D's last layer takes one more input, and D's verdict on an image depends on the batch
    around it (off: it does not); a step trains. With joint D batches it is refused."""
    rng = np.random.default_rng(0)
    x = sg.tensor(rng.uniform(0, 1, (8, 1, 28, 28)).astype(np.float32))
    same = sg.tensor(np.repeat(x.numpy()[:1], 8, axis=0))
    for on in (False, True):
        m = _build(model, d_batches="separate", d_minibatch_stddev=on)
        m.train(False)
        last = [layer for layer in m.D if isinstance(layer, nn.Linear)][-1]
        off_inputs = 128 * 7 * 7 if model == "dcgan" else 100
        assert last.in_features == off_inputs + (49 if on and model == "dcgan" else on)
        varied, alike = m.D(x).numpy()[0], m.D(same).numpy()[0]
        assert (not np.allclose(varied, alike, rtol=0, atol=1e-6)) == on
    m.train(True)
    logs = m.train_step((rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),), StepContext())
    assert np.isfinite(list(logs.values())).all()
    with pytest.raises(
        ValueError, match="^d_minibatch_stddev: needs d_batches 'separate', got 'jo"
    ):
        _build(model, d_batches="joint", d_minibatch_stddev=True)
