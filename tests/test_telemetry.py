"""Training telemetry: per-layer statistics against a direct computation (PyTorch gradients,
NumPy activations), the GAN signals of a run, and nothing at all when it is off (the default)."""

import json
import math

import numpy as np
import pytest
import torch

import scratchgan as sg
from scratchgan import nn, node_tags, train
from scratchgan.inspection.telemetry import Telemetry
from scratchgan.models.parts import grad_norm


def blobs(n, size=12, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    centres = rng.uniform(3, size - 3, (n, 2, 1, 1))
    images = 255 * np.exp(-((yy - centres[:, 0]) ** 2 + (xx - centres[:, 1]) ** 2) / 6.0)
    return images.astype(np.uint8), rng.integers(0, 10, n)


def tiny_data(n_train=32, n_valid=8):
    images, labels = blobs(n_train + n_valid)
    return images[:n_train], labels[:n_train], images[n_train:], labels[n_train:]


class OneNetwork:
    def __init__(self, net):
        self.net = net

    def modules(self):
        return {"net": self.net}


def test_statistics_equal_a_direct_computation(tmp_path):
    gen = sg.Generator(0)
    net = nn.Sequential(nn.Linear(3, 5, generator=gen), nn.Tanh(), nn.Linear(5, 2, generator=gen))
    x = np.random.default_rng(1).standard_normal((7, 3)).astype(np.float32)
    lr = 0.1
    w = {name: p.array.copy() for name, p in net.named_parameters()}
    watcher = Telemetry(OneNetwork(net), str(tmp_path), every=1)
    watcher.before_step(1)
    loss = (net(sg.tensor(x)) ** 2).mean()
    loss.backward()
    for p in net.parameters():
        p.array[...] -= lr * p.grad.array
    row = watcher.after_step(1, {"loss": loss.item()})
    assert node_tags.forward_observer is None

    # the reference: PyTorch for the gradients, NumPy for the activations
    tw = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in w.items()}
    tx = torch.tensor(x.astype(np.float64))
    h = tx @ tw["0.weight"].T + tw["0.bias"]
    t = torch.tanh(h)
    o = t @ tw["2.weight"].T + tw["2.bias"]
    (o**2).mean().backward()
    for name in w:
        g = tw[name].grad.numpy()
        assert row["grad_norm"][f"net.{name}"] == pytest.approx(np.linalg.norm(g), rel=1e-5)
        after = w[name] - lr * g.astype(np.float32)
        assert row["weight_norm"][f"net.{name}"] == pytest.approx(np.linalg.norm(after), rel=1e-5)
        ratio = np.linalg.norm(lr * g) / np.linalg.norm(w[name].astype(np.float64))
        assert row["update_ratio"][f"net.{name}"] == pytest.approx(ratio, rel=1e-3)
    acts = {"net.0": h, "net.1": t, "net.2": o, "net": o}
    for name, a in acts.items():
        a = a.detach().numpy()
        assert row["act_mean"][name] == pytest.approx(a.mean(), rel=1e-5, abs=1e-7)
        assert row["act_std"][name] == pytest.approx(a.std(), rel=1e-5)
    total = math.sqrt(sum(np.linalg.norm(tw[k].grad.numpy()) ** 2 for k in w))
    assert row["module_grad_norm"]["net"] == pytest.approx(total, rel=1e-5)
    lines = (tmp_path / "telemetry.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["step"] == 1


def test_a_module_called_twice_is_summarised_over_both_calls(tmp_path):
    net = nn.Tanh()
    watcher = Telemetry(OneNetwork(net), str(tmp_path), every=1)
    a, b = np.array([0.1, 0.5, -2.0], np.float32), np.array([3.0, -0.3], np.float32)
    watcher.before_step(1)
    net(sg.tensor(a)), net(sg.tensor(b))
    row = watcher.after_step(1, {})
    both = np.tanh(np.concatenate([a, b]).astype(np.float64))
    assert row["act_mean"]["net"] == pytest.approx(both.mean(), rel=1e-6)
    assert row["act_std"]["net"] == pytest.approx(both.std(), rel=1e-6)


def test_a_gan_run_logs_the_gan_signals_every_k_steps(tmp_path):
    cfg = train.make_config("dcgan", epochs=1, batch_size=8, valid_size=8, telemetry_every=2)
    trainer = train.Trainer(cfg, str(tmp_path / "run"), data=tiny_data(), progress=False)
    trainer.fit(max_steps=4)
    rows = [json.loads(line) for line in (tmp_path / "run" / "telemetry.jsonl").open()]
    assert [r["step"] for r in rows] == [2, 4]
    last = rows[-1]
    assert set(last["gan"]) >= {"d_real", "d_fake", "g_grad_norm"}
    # the generator's gradients of step 4 are still in place after the run: compute directly
    assert last["gan"]["g_grad_norm"] == pytest.approx(grad_norm(trainer.model.G.parameters()))
    for name, p in trainer.model.D.named_parameters():
        direct = np.linalg.norm(p.array.astype(np.float64))
        assert last["weight_norm"][f"discriminator.{name}"] == pytest.approx(direct, rel=1e-6)
    assert "generator.0" in last["act_mean"] and "discriminator" in last["act_std"]
    assert (tmp_path / "run" / "report.html").exists()


def test_off_by_default_nothing_is_written_or_observed(tmp_path):
    cfg = train.make_config("dcgan", epochs=1, batch_size=8, valid_size=8)
    assert cfg["telemetry_every"] == 0 and cfg["tensorboard"] is False
    trainer = train.Trainer(cfg, str(tmp_path / "run"), data=tiny_data(), progress=False)
    assert trainer.telemetry is None
    trainer.fit(max_steps=2)
    assert not (tmp_path / "run" / "telemetry.jsonl").exists()
    assert not (tmp_path / "run" / "tensorboard").exists()
    assert node_tags.forward_observer is None


def test_resume_drops_rows_after_the_checkpoint(tmp_path):
    cfg = train.make_config("dcgan", epochs=1, batch_size=8, valid_size=8, telemetry_every=1)
    run = tmp_path / "run"
    train.Trainer(cfg, str(run), data=tiny_data(), progress=False).fit(max_steps=2)
    with (run / "telemetry.jsonl").open("a") as f:  # a row written after the last checkpoint
        f.write(json.dumps({"step": 3}) + "\n")
    trainer = train.Trainer(cfg, str(run), resume=True, data=tiny_data(), progress=False)
    assert trainer.step == 2
    assert [json.loads(line)["step"] for line in (run / "telemetry.jsonl").open()] == [1, 2]


def test_a_weight_that_was_zero_has_no_update_ratio(tmp_path):
    gen = sg.Generator(0)
    net = nn.Linear(2, 2, generator=gen)
    net.bias.array[...] = 0.0
    watcher = Telemetry(OneNetwork(net), str(tmp_path), every=1)
    watcher.before_step(1)
    net(sg.tensor(np.ones((1, 2), np.float32))).sum().backward()
    net.bias.array[...] -= 0.5 * net.bias.grad.array
    row = watcher.after_step(1, {})
    assert row["update_ratio"]["net.bias"] is None
    assert row["update_ratio"]["net.weight"] == 0.0
