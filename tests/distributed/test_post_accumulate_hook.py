"""Tensor.register_post_accumulate_grad_hook and autograd.queue_callback against PyTorch."""

import numpy as np
import torch

import scratchgan as sg
from scratchgan import autograd


def _two_layer(lib, w1, w2, x):
    """D(real) and D(fake) with shared weights, one loss: each weight gets two contributions."""

    def d(inp):
        h = (inp @ w1).tanh()
        return (h @ w2).sum()

    return d(x) + d(x * 2)


def _record(lib, tensors, names):
    seen = []
    for name, t in zip(names, tensors):
        t.register_post_accumulate_grad_hook(
            lambda p, name=name: seen.append(
                (name, np.array(p.grad.detach().numpy() if lib is torch else p.grad.array))
            )
        )
    return seen


def test_hook_fires_once_per_backward_with_the_complete_gradient_like_torch():
    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x = rng.standard_normal((5, 3))
    runs = {}
    for lib, make in (
        (torch, lambda a: torch.tensor(a, requires_grad=True)),
        (sg, lambda a: sg.tensor(a, requires_grad=True)),
    ):
        p1, p2 = make(w1), make(w2)
        seen = _record(lib, (p1, p2), ("w1", "w2"))
        for _ in range(2):  # the second backward accumulates: the hook sees the sum
            _two_layer(lib, p1, p2, make(x).detach()).backward()
        runs[lib.__name__] = seen
    assert [n for n, _ in runs["scratchgan"]] == [n for n, _ in runs["torch"]]
    assert [n for n, _ in runs["scratchgan"]] == ["w2", "w1", "w2", "w1"]
    for (_, got), (_, want) in zip(runs["scratchgan"], runs["torch"]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_hook_not_run_by_grad_and_removed_by_its_handle():
    w = sg.tensor(np.ones(3), requires_grad=True)
    calls = []
    handle = w.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    sg.grad((w * w).sum(), w)
    assert calls == []  # grad() returns gradients, it accumulates nothing
    (w * w).sum().backward()
    handle.remove()
    (w * w).sum().backward()
    assert calls == [1]


def test_queued_callback_runs_after_every_grad_is_written():
    a, b = sg.tensor(np.ones(2), requires_grad=True), sg.tensor(np.ones(2), requires_grad=True)
    seen = []

    def hook(p):
        autograd.queue_callback(lambda: seen.append((a.grad is not None, b.grad is not None)))

    a.register_post_accumulate_grad_hook(hook)
    ((a * 3).sum() + (b * a).sum()).backward()
    assert seen == [(True, True)]
    (b * 2).sum().backward()  # a is not in this graph: no hook, no callback
    assert seen == [(True, True)]
