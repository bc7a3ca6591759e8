"""Model-level equivalence with PyTorch (issue 18): scratchgan's dcgan, wgan-gp, lsgan and dcgan64
train exactly as the PyTorch reference of scripts/equivalence/reference.py.

The same initial weights go into both, the same batches, and every random draw scratchgan makes
(z, dropout masks, the penalty's mixing weights) is recorded and replayed into torch in order; after
3 generator steps (3 n_critic trainer steps) every parameter and batch-norm statistic must agree.
Both sides run in float64 so that agreement means the same computation, not float32 luck.
"""

import os
import sys

import numpy as np
import pytest

from scratchgan import train
from scratchgan.training.protocol import StepContext

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "equivalence"))
import reference  # noqa: E402

G_STEPS = 3
SMALL = {"dcgan64": {"width": 8}}  # a narrow dcgan64 keeps the test fast; the recipe key is read


def build(model, batch_size=8, **kw):
    config = train.make_config(model, batch_size=batch_size, **{**SMALL.get(model, {}), **kw})
    config["image_shape"] = [1, 28, 28]
    return config, train.build_model(config)


def blobs(n, size=28, seed=0):
    """n uint8 images of one Gaussian blob each, at random centres."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    c = rng.uniform(0.3 * size, 0.7 * size, (n, 2, 1, 1))
    blob = np.exp(-((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) / (0.02 * size**2))
    return (255 * blob).astype(np.uint8)


def record_float64_draws(generator):
    """From now on ``generator`` draws in float64 and logs each draw as (kind, array)."""
    draws = []
    for kind in ("normal", "uniform"):
        method = getattr(generator, kind)

        def draw(shape, dtype, *args, _method=method, _kind=kind, **kwargs):
            array = _method(shape, np.float64, *args, **kwargs)
            draws.append((_kind, array.copy()))
            return array

        setattr(generator, kind, draw)
    return draws


def as_float64(model):
    """scratchgan's model with float64 parameters, inputs and draws; returns the draw log."""
    model.G.double()
    model.D.double()
    to_input = model.to_input
    model.to_input = lambda images: to_input(images).double()
    return record_float64_draws(model.generator)


def state(module):
    return {k: np.array(v.numpy()) for k, v in module.state_dict().items()}


def train_both(model_name, **torch_overrides):
    """(scratchgan model, torch reference, their per-step losses) after G_STEPS generator steps."""
    config, model = build(model_name)
    draws = as_float64(model)
    ref = reference.TorchGAN({**config, **torch_overrides}, reference.Replay(draws), torch.float64)
    ref.load_state(state(model.G), state(model.D))
    n = config["batch_size"]
    data = blobs(n * G_STEPS * config["n_critic"])
    sg_logs, torch_logs = [], []
    for step in range(G_STEPS * config["n_critic"]):
        batch = (data[step * n : (step + 1) * n],)
        sg_logs.append(model.train_step(batch, StepContext(step, 0, step, 1000)))
        torch_logs.append(ref.train_step(ref.to_input(batch[0])))
    assert not ref.source.draws, f"torch used {len(ref.source.draws)} fewer draws than scratchgan"
    return model, ref, sg_logs, torch_logs


def max_rel_error(model, ref):
    worst = 0.0
    for ours, theirs in ((model.G, ref.G), (model.D, ref.D)):
        expected = {k: v.numpy() for k, v in theirs.state_dict().items()}
        for key, got in state(ours).items():
            diff = np.abs(got - expected[key]) / (np.abs(expected[key]) + 1e-12)
            worst = max(worst, float(diff.max()) if diff.size else 0.0)
    return worst


@pytest.mark.parametrize("model_name", reference.MODELS)
def test_three_training_steps_agree_with_pytorch(model_name):
    model, ref, sg_logs, torch_logs = train_both(model_name)
    assert sum("g_loss" in logs for logs in sg_logs) == G_STEPS
    for step, (ours, theirs) in enumerate(zip(sg_logs, torch_logs)):
        for key in theirs:  # d_loss every step, g_loss at G steps
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-9, err_msg=f"step {step}")
    for name, ours, theirs in (("G", model.G, ref.G), ("D", model.D, ref.D)):
        expected = {k: v.numpy() for k, v in theirs.state_dict().items()}
        got = state(ours)
        assert set(got) == set(expected)
        for key in got:
            np.testing.assert_allclose(
                got[key], expected[key], rtol=1e-7, atol=1e-12, err_msg=f"{name} {key}"
            )
    # the parameters did move: the agreement is about training, not about the loaded weights
    config, start = build(model_name)
    moved = [k for k, v in state(start.G).items() if not np.allclose(v, state(model.G)[k])]
    assert len(moved) >= 4


def test_a_one_percent_change_in_the_recipe_is_caught():
    """The check has teeth: torch with RMSprop's alpha 0.9 -> 0.909 no longer agrees."""
    model, ref, _, _ = train_both("lsgan", alpha=0.909)
    assert max_rel_error(model, ref) > 1e-4


@pytest.mark.parametrize("model_name", ["dcgan", "dcgan64"])
def test_initialisation_schemes_match_in_distribution(model_name):
    """Drawn by each framework from its own seed, each tensor has the same scheme: zero biases,
    unit (glorot) or N(1, 0.02) (dcgan) batch-norm scales, weights of the same spread."""
    config, model = build(model_name)
    ref = reference.TorchGAN(config, reference.TorchSource(0))
    for ours, theirs in ((model.G, ref.G), (model.D, ref.D)):
        expected = {k: v.numpy() for k, v in theirs.state_dict().items()}
        for key, got in state(ours).items():
            want = expected[key]
            assert got.shape == want.shape, key
            if key.endswith(("bias", "running_mean", "running_var", "num_batches_tracked")):
                np.testing.assert_array_equal(got, want, err_msg=key)
            elif got.size >= 1000:
                assert abs(got.std() / want.std() - 1) < 0.05, key
                assert abs(got.mean() - want.mean()) < 0.05 * want.std() + 1e-3, key
            else:
                assert abs(got.mean() - want.mean()) < 0.02, key


@pytest.mark.parametrize("model_name", ["dcgan", "wgan-gp"])
def test_the_trainer_trains_as_the_plain_step_loop_the_reference_runs(tmp_path, model_name):
    """run.py trains scratchgan through its Trainer, and the reference through a plain loop over
    the same DataLoader (the run's seed, the trainer's loader seed). Over 2 epochs, with the
    Trainer's validation, pictures and checkpoints between them, the Trainer's parameters equal
    those of that plain loop over train_step bit for bit: the Trainer adds no draw and no update
    of its own, so the model-level comparison compares the two trainings and nothing else."""
    from scratchgan import data as sgdata
    from scratchgan.training.recipes import derive_seeds

    loss = {"wgan-gp": {"loss": "wgan-gp"}}.get(model_name, {})
    config = train.make_config("dcgan", batch_size=8, epochs=2, valid_size=8, **loss)
    config["image_shape"] = [1, 28, 28]
    images = blobs(48 + 8)
    labels = np.zeros(len(images), dtype=np.int64)
    data = (images[:48], labels[:48], images[48:], labels[48:])
    trainer = train.Trainer(config, str(tmp_path / "run"), data=data, progress=False)
    trainer.fit()

    model = train.build_model(config)
    loader = sgdata.DataLoader(
        (data[0],),
        config["batch_size"],
        shuffle=True,
        drop_last=config["drop_last"],
        seed=derive_seeds(config["seed"])["loader"],
    )
    step = 0
    model.train()
    for epoch in range(config["epochs"]):
        for i, batch in enumerate(loader):
            model.train_step(batch, StepContext(step, epoch, i, len(loader)))
            step += 1
    assert step == trainer.step == 2 * 6
    for name in ("G", "D"):
        ours, theirs = state(getattr(trainer.model, name)), state(getattr(model, name))
        assert ours.keys() == theirs.keys()
        for key in ours:
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=f"{name} {key}")
