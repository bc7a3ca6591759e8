"""Optimisers against PyTorch: the same MLP (5-7-3, tanh) from the same weights, 20 steps, float64.

Acceptance: every configuration ends with parameters equal to torch's to atol 1e-10. The
reference is torch.optim with foreach=False (its single-tensor implementation).
"""

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.nn as nn
import scratchgan.optim as optim

torch = pytest.importorskip("torch")

STEPS = 20
ATOL = 1e-10

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.02)),
    ("SGD", dict(lr=0.02, momentum=0.5, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.4, centered=True, momentum=0.5, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, weight_decay=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.5, 0.9), eps=1e-6)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
]


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((16, 5)), rng.standard_normal((16, 3))


def sg_model():
    return nn.Sequential(
        nn.Linear(5, 7, dtype="float64", generator=sg.Generator(1)),
        nn.Tanh(),
        nn.Linear(7, 3, dtype="float64", generator=sg.Generator(2)),
    )


def torch_copy(model):
    tm = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(model.named_parameters(), tm.named_parameters()):
            assert name == tname
            tp.copy_(torch.from_numpy(p.numpy().copy()))
    return tm


def sg_steps(model, opt, x, y, n):
    for _ in range(n):
        opt.zero_grad()
        loss = ((model(sg.tensor(x)) - sg.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()


def torch_steps(model, opt, x, y, n):
    for _ in range(n):
        opt.zero_grad()
        loss = ((model(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean()
        loss.backward()
        opt.step()


def assert_same_params(model, tmodel, atol=ATOL):
    for (name, p), (_, tp) in zip(model.named_parameters(), tmodel.named_parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=0, atol=atol, err_msg=name)


@pytest.mark.parametrize("name,options", CONFIGS, ids=[f"{n}-{o}" for n, o in CONFIGS])
def test_twenty_steps_match_torch(name, options):
    x, y = make_data()
    model = sg_model()
    tmodel = torch_copy(model)
    sg_steps(model, getattr(optim, name)(model.parameters(), **options), x, y, STEPS)
    torch_steps(
        tmodel,
        getattr(torch.optim, name)(tmodel.parameters(), foreach=False, **options),
        x,
        y,
        STEPS,
    )
    assert_same_params(model, tmodel)
    # the run really moved the weights (a no-op optimizer would not pass a start-vs-end check)
    assert not np.allclose(
        model[0].weight.numpy(), torch_copy(sg_model())[0].weight.detach().numpy()
    )


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam"])
def test_param_groups_match_torch(name):
    x, y = make_data(1)
    model = sg_model()
    tmodel = torch_copy(model)
    extra = dict(momentum=0.9) if name != "Adam" else dict(betas=(0.8, 0.99))

    def groups(m):
        return [
            {"params": m[0].parameters(), "lr": 0.03},
            {"params": m[2].parameters(), "weight_decay": 0.1},
        ]

    sg_steps(model, getattr(optim, name)(groups(model), lr=0.01, **extra), x, y, STEPS)
    torch_steps(
        tmodel,
        getattr(torch.optim, name)(groups(tmodel), lr=0.01, foreach=False, **extra),
        x,
        y,
        STEPS,
    )
    assert_same_params(model, tmodel)


@pytest.mark.parametrize(
    "name,options", [c for c in CONFIGS if c[1].get("momentum") or c[0] == "Adam"][:6]
)
def test_state_dict_round_trip_through_npz_continues_identically(tmp_path, name, options):
    x, y = make_data(2)
    a = sg_model()
    opt_a = getattr(optim, name)(a.parameters(), **options)
    sg_steps(a, opt_a, x, y, 10)
    np.savez(tmp_path / "opt.npz", **opt_a.state_dict())
    np.savez(tmp_path / "model.npz", **{k: v.numpy() for k, v in a.state_dict().items()})

    b = nn.Sequential(nn.Linear(5, 7, dtype="float64"), nn.Tanh(), nn.Linear(7, 3, dtype="float64"))
    b.load_state_dict(dict(np.load(tmp_path / "model.npz")))
    opt_b = getattr(optim, name)(b.parameters(), lr=123.0)  # options come back from the state dict
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as saved:
        opt_b.load_state_dict(saved)
    assert opt_b.param_groups[0]["lr"] == opt_a.param_groups[0]["lr"]

    sg_steps(a, opt_a, x, y, 10)
    sg_steps(b, opt_b, x, y, 10)
    for (n, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=n)


def test_state_dict_is_flat_plain_data_and_a_snapshot():
    x, y = make_data()
    model = sg_model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    sg_steps(model, opt, x, y, 3)
    sd = opt.state_dict()
    assert sd["state.0.step"] == 3 and sd["param_groups.0.betas"] == (0.9, 0.999)
    np.testing.assert_array_equal(sd["param_groups.0.params"], np.arange(4))
    assert all(isinstance(v, (np.ndarray, int, float, bool, tuple)) for v in sd.values())
    before = sd["state.0.exp_avg"].copy()
    sg_steps(model, opt, x, y, 1)
    np.testing.assert_array_equal(sd["state.0.exp_avg"], before)


def test_parameters_without_grad_are_skipped():
    w = nn.Parameter(np.ones(3))
    unused = nn.Parameter(np.ones(2))
    opt = optim.Adam([w, unused], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_array_equal(unused.numpy(), np.ones(2))
    assert unused not in opt.state and not np.allclose(w.numpy(), 1.0)


def test_zero_grad_sets_none():
    w = nn.Parameter(np.ones(3))
    opt = optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    opt.zero_grad()
    assert w.grad is None
    (w * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(3))


def test_float32_parameters_stay_float32():
    w = nn.Parameter(np.ones(3, dtype=np.float32))
    for opt in (
        optim.SGD([w], lr=0.1, momentum=0.9),
        optim.RMSprop([w], centered=True),
        optim.Adam([w]),
    ):
        (w * w).sum().backward()
        opt.step()
        opt.zero_grad()
        assert w.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[w].values() if hasattr(v, "dtype"))


def test_closure_returns_loss():
    w = nn.Parameter(np.array([2.0]))
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    np.testing.assert_array_equal(w.numpy(), [1.0])  # 2 - 0.25 * 4


def test_bad_arguments():
    w = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="lr must be a non-negative number, got -1"):
        optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="nesterov momentum requires momentum > 0"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(
        ValueError, match=r"betas must be two numbers in \[0, 1\), got \(0.9, 1.0\)"
    ):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['betas'\]"):
        optim.SGD([{"params": [w], "betas": (0.9, 0.99)}], lr=0.1)


def test_load_state_dict_errors():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = optim.Adam([a, b])
    (a.sum() + b.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(
        ValueError, match="param group 0 holds 2 parameters in the state dict, 1 here"
    ):
        optim.Adam([a]).load_state_dict(sd)
    with pytest.raises(
        ValueError, match=r"'state.1.exp_avg' has shape \(3,\), its parameter has shape \(4,\)"
    ):
        optim.Adam([a, nn.Parameter(np.ones(4))]).load_state_dict(sd)
    with pytest.raises(ValueError, match="unexpected key 'param_groups.0.betas'"):
        optim.SGD([a, b], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="1 param groups, this optimizer has 2"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)


@pytest.mark.gpu
@pytest.mark.parametrize("name,options", CONFIGS[::3], ids=[f"{n}-{o}" for n, o in CONFIGS[::3]])
def test_cuda_steps_match_cpu(name, options):
    x, y = make_data()
    cpu, gpu = sg_model(), sg_model().to("cuda")
    sg_steps(cpu, getattr(optim, name)(cpu.parameters(), **options), x, y, 5)

    def steps(model, opt):
        for _ in range(5):
            opt.zero_grad()
            (
                (model(sg.tensor(x, device="cuda")) - sg.tensor(y, device="cuda")) ** 2
            ).mean().backward()
            opt.step()

    opt = getattr(optim, name)(gpu.parameters(), **options)
    steps(gpu, opt)
    assert_same_params(cpu, gpu.to("cpu"), atol=1e-12)
    assert all(
        isinstance(v, (np.ndarray, int, float, bool, tuple)) for v in opt.state_dict().values()
    )
