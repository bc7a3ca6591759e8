"""Issue 15, acceptance 5: which parameters get a ``.grad`` after a gradient-penalty-only backward.

A bias that reaches the penalty only through LeakyReLU's piecewise-constant slope has a
structurally zero derivative: PyTorch gives it ``.grad`` = zeros, and so does scratchgan. The
values of every gradient must agree, zeros included.
"""

import numpy as np
from compat_helpers import torch

import scratchgan as sg


def _critic(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(4, 4, 3, 2, 1),
        nn.InstanceNorm2d(4, affine=True),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(16, 1),
    ).double()


def _penalty_grads(lib, critic, x):
    x = lib.tensor(x, dtype=lib.float64, requires_grad=True)
    out = critic(x)
    (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
    penalty = ((g.reshape(g.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    return {name: p.grad for name, p in critic.named_parameters()}


def _grads(rng):
    theirs = _critic(torch)
    ours = _critic(sg)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((3, 1, 8, 8))
    return _penalty_grads(sg, ours, x), _penalty_grads(torch, theirs, x)


def test_gradient_penalty_grads_agree_with_torch(rng):
    ours, theirs = _grads(rng)
    for name, g in ours.items():
        if g is not None:
            np.testing.assert_allclose(
                g.numpy(), theirs[name].numpy(), rtol=1e-7, atol=1e-12, err_msg=name
            )


def test_gradient_penalty_gives_every_parameter_a_grad_like_torch(rng):
    ours, theirs = _grads(rng)
    assert {n for n, g in ours.items() if g is not None} == {
        n for n, g in theirs.items() if g is not None
    }
    assert not theirs["3.bias"].any() and not ours["3.bias"].numpy().any()  # zeros, not None
