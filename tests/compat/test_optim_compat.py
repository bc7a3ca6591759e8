"""AdamW and the lr schedulers against torch.optim over 50 steps (float64, 1e-12)."""

import io

import numpy as np
import pytest
from compat_helpers import torch

import scratchgan as sg
from scratchgan import nn, optim
from scratchgan.optim.lr_scheduler import StepLR


def _params(rng):
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    ours = [nn.Parameter(sg.tensor(a, dtype="float64")) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    return ours, theirs


def _run(rng, make_ours, make_theirs, steps=50):
    ours, theirs = _params(rng)
    opt, topt = make_ours(ours), make_theirs(theirs)
    for _step in range(steps):
        grads = [rng.standard_normal(p.shape) for p in ours]
        for p, tp, g in zip(ours, theirs, grads):
            p.grad, tp.grad = sg.tensor(g, dtype="float64"), torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"weight_decay": 0.1, "lr": 0.01},
        {"amsgrad": True, "weight_decay": 0.05},
        {"maximize": True},
        {"betas": (0.5, 0.9), "eps": 1e-6, "lr": 0.1},
    ],
)
def test_adamw_matches_torch_over_50_steps(rng, kwargs):
    _run(rng, lambda ps: optim.AdamW(ps, **kwargs), lambda ps: torch.optim.AdamW(ps, **kwargs))


def test_adamw_default_weight_decay_is_torchs():
    assert (
        optim.AdamW([nn.Parameter(sg.zeros(1))]).defaults["weight_decay"]
        == torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))]).defaults["weight_decay"]
        == 0.01
    )


SCHEDULERS = {
    "StepLR": ({"step_size": 7, "gamma": 0.3},),
    "MultiStepLR": ({"milestones": [3, 10, 10, 25], "gamma": 0.5},),
    "ExponentialLR": ({"gamma": 0.93},),
    "LambdaLR": ({"lr_lambda": lambda epoch: 1 / (1 + 0.1 * epoch)},),
    "CosineAnnealingLR": ({"T_max": 12, "eta_min": 0.001}, {"T_max": 50}, {"T_max": 7}),
}
CASES = [(name, kwargs) for name, options in SCHEDULERS.items() for kwargs in options]


def _pair_with_scheduler(name, kwargs, lr=0.1):
    p, tp = (
        nn.Parameter(sg.zeros(2, dtype="float64")),
        torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)),
    )
    opt, topt = optim.SGD([p], lr=lr), torch.optim.SGD([tp], lr=lr)
    sched = getattr(optim.lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    return opt, topt, sched, tsched


@pytest.mark.parametrize("name, kwargs", CASES)
def test_scheduler_matches_torch_over_50_steps(name, kwargs):
    opt, topt, sched, tsched = _pair_with_scheduler(name, kwargs)
    for _ in range(50):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12, atol=0)
        assert opt.param_groups[0]["lr"] == sched.get_last_lr()[0]


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("name, kwargs", CASES)
def test_scheduler_state_dict_round_trip_continues_exactly(name, kwargs):
    opt, _, sched, tsched = _pair_with_scheduler(name, kwargs)
    for _ in range(20):
        sched.step()
        tsched.step()
    buffer = io.BytesIO()
    sg.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buffer)
    buffer.seek(0)
    saved = sg.load(buffer)
    opt2, _, sched2, _ = _pair_with_scheduler(name, kwargs, lr=0.7)
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    for _ in range(30):
        sched2.step()
        tsched.step()
        np.testing.assert_allclose(sched2.get_last_lr(), tsched.get_last_lr(), rtol=1e-12, atol=0)


def test_lr_scheduler_is_importable_by_its_torch_path():
    assert StepLR is optim.lr_scheduler.StepLR
    with pytest.raises(TypeError, match="is not an Optimizer"):
        StepLR(object(), 3)


def test_optimizer_state_dict_keeps_initial_lr_for_resuming():
    p = nn.Parameter(sg.zeros(2))
    opt = optim.Adam([p], lr=0.1)
    StepLR(opt, 2)
    state = opt.state_dict()
    assert state["param_groups.0.initial_lr"] == 0.1
    fresh = optim.Adam([nn.Parameter(sg.zeros(2))], lr=0.5)
    fresh.load_state_dict(state)
    StepLR(fresh, 2, last_epoch=3)
    assert fresh.param_groups[0]["initial_lr"] == 0.1
