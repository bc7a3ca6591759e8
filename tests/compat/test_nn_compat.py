"""Loss modules, Identity/Softmax modules and nn.utils against torch.nn (float64)."""

import numpy as np
import pytest
from compat_helpers import close, pair, torch

import scratchgan as sg
from scratchgan import nn
from scratchgan.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    remove_spectral_norm,
    spectral_norm,
    vector_to_parameters,
)

REDUCTIONS = ["mean", "sum", "none"]


def _loss_case(rng, name):
    x = rng.standard_normal((4, 3))
    if name == "BCELoss":
        return 1 / (1 + np.exp(-x)), rng.uniform(size=(4, 3))
    if name in ("CrossEntropyLoss", "NLLLoss"):
        logits = x if name == "CrossEntropyLoss" else x - np.log(np.exp(x).sum(1, keepdims=True))
        return logits, np.array([0, 2, 1, 2])
    if name == "KLDivLoss":
        p = rng.uniform(size=(4, 3))
        p[0, 1] = 0.0  # a zero target contributes 0, with a finite gradient
        return np.log(rng.dirichlet(np.ones(3), size=4)), p
    return x, rng.standard_normal((4, 3))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("BCELoss", {}),
        ("BCEWithLogitsLoss", {}),
        ("MSELoss", {}),
        ("L1Loss", {}),
        ("CrossEntropyLoss", {}),
        ("NLLLoss", {}),
        ("KLDivLoss", {}),
        ("KLDivLoss", {"log_target": True}),
        ("SmoothL1Loss", {}),
        ("SmoothL1Loss", {"beta": 0.5}),
        ("SmoothL1Loss", {"beta": 0.0}),
    ],
)
def test_loss_modules_match_torch(rng, name, kwargs, reduction):
    input_array, target_array = _loss_case(rng, name)
    if kwargs.get("log_target"):
        target_array = np.log(rng.dirichlet(np.ones(3), size=4))
    x, tx = pair(input_array)
    t, tt = pair(target_array, requires_grad=name not in ("CrossEntropyLoss", "NLLLoss"))
    loss = getattr(nn, name)(reduction=reduction, **kwargs)(x, t)
    tloss = getattr(torch.nn, name)(reduction=reduction, **kwargs)(tx, tt)
    close(loss, tloss)
    w = rng.standard_normal(tuple(tloss.shape))
    (loss * sg.tensor(w, dtype="float64")).sum().backward()
    (tloss * torch.tensor(w)).sum().backward()
    close(x.grad, tx.grad)
    if t.requires_grad:
        finite = np.isfinite(
            tt.grad.numpy()
        )  # torch: d(t log t)/dt at t = 0 is nan; scratchgan gives 0
        close(t.grad.numpy()[finite], tt.grad.numpy()[finite])
        assert finite.all() or name == "KLDivLoss"


def test_kl_div_batchmean(rng):
    x, tx = pair(np.log(rng.dirichlet(np.ones(5), size=3)))
    target = rng.dirichlet(np.ones(5), size=3)
    close(
        nn.KLDivLoss(reduction="batchmean")(x, sg.tensor(target, dtype="float64")),
        torch.nn.KLDivLoss(reduction="batchmean")(tx, torch.tensor(target)),
    )


def test_bce_weight(rng):
    p, w = 1 / (1 + np.exp(-rng.standard_normal(5))), rng.uniform(size=5)
    x, tx = pair(p)
    close(
        nn.BCELoss(weight=sg.tensor(w, dtype="float64"))(x, sg.tensor(np.ones(5), dtype="float64")),
        torch.nn.BCELoss(weight=torch.tensor(w))(tx, torch.ones(5, dtype=torch.float64)),
    )


def test_unsupported_loss_options_say_what_to_do():
    with pytest.raises(NotImplementedError, match="pos_weight"):
        nn.BCEWithLogitsLoss(pos_weight=sg.ones(1))
    with pytest.raises(TypeError, match="use reduction="):
        nn.MSELoss(size_average=False)


def test_identity_softmax_modules(rng):
    x, tx = pair(rng.standard_normal((2, 3)))
    assert nn.Identity(54, unused="x")(x) is x
    close(nn.Softmax(dim=1)(x), torch.nn.Softmax(dim=1)(tx))
    close(nn.LogSoftmax(dim=0)(x), torch.nn.LogSoftmax(dim=0)(tx))


def test_unsupported_nn_names_point_to_equivalents():
    with pytest.raises(AttributeError, match=r"torch\.nn\.GRU \(PyTorch\) is not supported.*LSTM"):
        _ = nn.GRU
    with pytest.raises(AttributeError, match="no attribute 'Frobnicator'"):
        _ = nn.Frobnicator


def _params_with_grads(rng):
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((2,))]
    ours = [nn.Parameter(sg.tensor(a, dtype="float64")) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    for p, tp in zip(ours, theirs):
        g = rng.standard_normal(p.shape) * 3
        p.grad, tp.grad = sg.tensor(g, dtype="float64"), torch.tensor(g)
    ours[2].grad = theirs[2].grad = None  # parameters without a gradient are skipped
    return ours, theirs


@pytest.mark.parametrize(
    "max_norm, norm_type", [(1.0, 2), (100.0, 2), (0.5, 1), (0.5, float("inf")), (2.0, 3)]
)
def test_clip_grad_norm(rng, max_norm, norm_type):
    ours, theirs = _params_with_grads(rng)
    close(
        clip_grad_norm_(ours, max_norm, norm_type),
        torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type),
        rtol=1e-12,
    )
    for p, tp in zip(ours, theirs):
        assert (p.grad is None) == (tp.grad is None)
        if p.grad is not None:
            close(p.grad, tp.grad, rtol=1e-12)


def test_clip_grad_value(rng):
    ours, theirs = _params_with_grads(rng)
    clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, tp in zip(ours[:2], theirs[:2]):
        close(p.grad, tp.grad)


def test_parameters_to_vector_and_back(rng):
    ours, theirs = _params_with_grads(rng)
    vec, tvec = parameters_to_vector(ours), torch.nn.utils.parameters_to_vector(theirs)
    close(vec, tvec)
    new = rng.standard_normal(vec.shape)
    vector_to_parameters(sg.tensor(new, dtype="float64"), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for p, tp in zip(ours, theirs):
        close(p, tp)


def _linear_pair(rng):
    m, tm = nn.Linear(5, 4).double(), torch.nn.Linear(5, 4).double()
    return m, tm


def _conv_pair(rng):
    return nn.Conv2d(2, 3, 3).double(), torch.nn.Conv2d(2, 3, 3).double()


def _deconv_pair(rng):
    return nn.ConvTranspose2d(2, 3, 3).double(), torch.nn.ConvTranspose2d(2, 3, 3).double()


@pytest.mark.parametrize(
    "make, input_shape",
    [(_linear_pair, (6, 5)), (_conv_pair, (2, 2, 5, 5)), (_deconv_pair, (2, 2, 4, 4))],
)
@pytest.mark.parametrize("n_power_iterations", [1, 2])
def test_spectral_norm_matches_torch(rng, make, input_shape, n_power_iterations):
    m, tm = make(rng)
    for name, p in m.named_parameters():
        getattr(tm, name).data = torch.tensor(rng.standard_normal(p.shape))
        p.array[...] = getattr(tm, name).detach().numpy()
    spectral_norm(m, n_power_iterations=n_power_iterations)
    torch.nn.utils.spectral_norm(tm, n_power_iterations=n_power_iterations)
    assert list(m.state_dict()) == [k for k in tm.state_dict()]
    with torch.no_grad():
        tm.weight_u.copy_(torch.tensor(m.weight_u.numpy()))
        tm.weight_v.copy_(torch.tensor(m.weight_v.numpy()))
    x = rng.standard_normal(input_shape)
    for step in range(3):  # two training forwards (one power iteration each), then eval
        m.train(step < 2)
        tm.train(step < 2)
        y, ty = m(sg.tensor(x, dtype="float64")), tm(torch.tensor(x))
        close(y, ty, rtol=1e-9)
        close(m.weight_u, tm.weight_u, rtol=1e-9)
        close(m.weight_v, tm.weight_v, rtol=1e-9)
        m.zero_grad()
        tm.zero_grad()
        (y * y).sum().backward()
        (ty * ty).sum().backward()
        close(m.weight_orig.grad, tm.weight_orig.grad, rtol=1e-9)
    remove_spectral_norm(m)
    torch.nn.utils.remove_spectral_norm(tm)
    close(m.weight, tm.weight, rtol=1e-9)
    close(m(sg.tensor(x, dtype="float64")), tm(torch.tensor(x)), rtol=1e-9)
    assert "weight" in dict(m.named_parameters())
