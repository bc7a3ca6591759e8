"""The generator's weight average (ema_decay, models/parts/ema.py): the formula with its warm-up,
the swap into G in evaluation mode, and exact resume with the shadow in the checkpoint."""

import numpy as np
import pytest

from scratchgan import nn, train
from scratchgan.models.parts.ema import WeightEMA
from scratchgan.random import Generator


def tiny_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n + 8, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n + 8)
    return images[:n], labels[:n], images[n:], labels[n:]


SMALL = {
    "dcgan": {"batch_size": 8},
    "progan": dict(
        channels=[8, 8, 6, 4],
        codings_size=8,
        batch_size=4,
        stable_images=8,
        fade_images=8,
        train_images=0,
    ),
    "stylegan": dict(channels=[8, 8, 6, 4], codings_size=8, w_dim=8, batch_size=4, train_images=0),
}


def trainer(run, model="dcgan", resume=False, resume_from=None, **kw):
    kw = {"epochs": 1, "valid_size": 8, "ema_decay": 0.9, **SMALL[model], **kw}
    config = train.make_config(model, **kw)
    return train.Trainer(
        config, str(run), resume=resume, resume_from=resume_from, data=tiny_data(), progress=False
    )


def arrays(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def test_the_average_follows_the_formula_with_its_warm_up():
    layer = nn.Linear(3, 2, generator=Generator(0))
    bn = nn.BatchNorm1d(2)
    net = nn.Sequential(layer, bn)
    ema = WeightEMA(net, 0.5)
    expected = layer.weight.numpy().astype(np.float64)
    for k in range(4):
        layer.weight.data = layer.weight.numpy() + np.float32(k + 1)
        bn.running_mean.array[...] = k  # a buffer: copied, not averaged
        ema.update()
        d = min(0.5, (1 + k) / (10 + k))  # 0.1, 2/11, 3/12, 4/13: below 0.5 throughout
        expected = d * expected + (1 - d) * layer.weight.numpy()
    shadow = ema.state()
    assert np.allclose(shadow["ema/0.weight"], expected, rtol=1e-6)
    assert np.array_equal(shadow["ema/1.running_mean"], [3.0, 3.0])
    assert int(shadow["ema/updates"]) == 4


def test_the_warm_up_reaches_the_decay():
    net = nn.Linear(1, 1, generator=Generator(0))
    ema = WeightEMA(net, 0.9)
    ema.updates = 1000  # d = min(0.9, 1001 / 1010) = 0.9
    before = ema.state()["ema/weight"].copy()
    net.weight.data = net.weight.numpy() + np.float32(1.0)
    ema.update()
    assert np.allclose(ema.state()["ema/weight"], 0.9 * before + 0.1 * net.weight.numpy())


def test_use_swaps_the_average_in_and_back_exactly():
    net = nn.Linear(3, 2, generator=Generator(0))
    ema = WeightEMA(net, 0.9)
    net.weight.data = net.weight.numpy() * np.float32(3.0)
    trained = net.weight.numpy().copy()
    ema.update()
    average = ema.state()["ema/weight"]
    ema.use(True)
    ema.use(True)  # twice: still the average
    assert np.array_equal(net.weight.numpy(), average)
    ema.use(False)
    assert np.array_equal(net.weight.numpy(), trained)
    with pytest.raises(ValueError, match="ema_decay=1.5"):
        WeightEMA(net, 1.5)


def test_evaluation_mode_puts_the_average_in_g_and_samples_use_it(tmp_path):
    t = trainer(tmp_path)
    t.fit(max_steps=3)  # ends with a picture: train(False), then train(True)
    model = t.model
    trained = arrays(model.G)
    average = {k[len("ema/") :]: v for k, v in model.ema.state().items() if k != "ema/updates"}
    assert any(not np.array_equal(trained[k], average[k]) for k in trained)
    model.train(False)
    assert all(np.array_equal(v, average[k]) for k, v in arrays(model.G).items())
    with_ema = model.sample(4, Generator(1))
    model.train(True)
    assert all(np.array_equal(v, trained[k]) for k, v in arrays(model.G).items())
    assert not np.array_equal(model.sample(4, Generator(1)), with_ema)
    loaded, config = train.load_run(str(tmp_path))  # `scratchgan sample` and `eval` load so
    assert config["ema_decay"] == 0.9
    assert np.array_equal(loaded.sample(4, Generator(1)), with_ema)


def test_without_ema_the_checkpoint_holds_no_shadow(tmp_path):
    t = trainer(tmp_path, ema_decay=0.0)
    t.fit(max_steps=1)
    assert t.model.ema is None
    with np.load(tmp_path / "checkpoints" / "last.npz") as npz:
        assert not [k for k in npz.files if "ema" in k]


@pytest.mark.parametrize("model", ["dcgan", "progan", "stylegan"])
def test_resume_continues_the_average_bit_for_bit(tmp_path, model):
    """As tests/test_checkpoints.py: resuming from the step-2 checkpoint replays steps 3-4."""
    t = trainer(tmp_path / "a", model, checkpoint_every=2)
    t.fit(max_steps=4)
    expected = {**arrays(t.model.G), **t.model.ema.state()}
    again = trainer(
        tmp_path / "a",
        model,
        resume_from=str(tmp_path / "a" / "checkpoints" / "previous.npz"),
        checkpoint_every=2,
    )
    assert again.step == 2
    again.fit(max_steps=4)
    got = {**arrays(again.model.G), **again.model.ema.state()}
    assert got.keys() == expected.keys()
    assert all(np.array_equal(got[k], v) for k, v in expected.items())
