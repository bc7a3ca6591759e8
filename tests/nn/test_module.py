"""nn.Module and nn.Parameter: registration, names, state dicts, modes, devices, printing.

The reference for names, order and repr is torch.nn with the same architecture.
"""

from collections import OrderedDict

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.nn as nn

torch = pytest.importorskip("torch")


def build(lib, dtype=None):
    """The same architecture in scratchgan (lib=nn) or torch (lib=torch.nn)."""
    kw = {} if lib is torch.nn else dict(dtype=dtype)

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.encoder = lib.Sequential(
                lib.Linear(4, 3, **kw), lib.ReLU(), lib.Linear(3, 2, **kw)
            )
            self.scale = lib.Parameter(
                torch.ones(2) if lib is torch.nn else np.ones(2, dtype=dtype or np.float32)
            )
            self.register_buffer(
                "count", torch.zeros(1) if lib is torch.nn else sg.zeros(1, dtype=dtype)
            )
            self.register_buffer(
                "scratch", torch.zeros(1) if lib is torch.nn else sg.zeros(1), persistent=False
            )
            self.blocks = lib.ModuleList(
                [lib.Linear(2, 2, **kw), lib.LSTM(2, 3, num_layers=2, batch_first=True, **kw)]
            )
            self.emb = lib.Embedding(5, 2, **kw)
            self.head = lib.Sequential(
                OrderedDict(out=lib.Linear(3, 1, bias=False, **kw), act=lib.Tanh())
            )

        def forward(self, x, ids):
            z = self.encoder(x) * self.scale + self.emb(ids)
            z = self.blocks[0](z)
            out, _ = self.blocks[1](z.unsqueeze(1))
            return self.head(out[:, 0])

    return Net()


def copy_from_torch(model, tmodel):
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})


def test_names_and_order_match_torch():
    m, t = build(nn), build(torch.nn)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [p.shape for p in m.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert list(m.state_dict()) == list(t.state_dict())
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [type(c).__name__ for c in m.children()] == [type(c).__name__ for c in t.children()]
    assert [type(c).__name__ for c in m.modules()] == [type(c).__name__ for c in t.modules()]
    assert "scratch" not in m.state_dict() and len(list(m.buffers())) == 2


def test_forward_with_torch_weights_matches_torch():
    m, t = build(nn, np.float64), build(torch.nn).double()
    copy_from_torch(m, t)
    rng = np.random.default_rng(0)
    x, ids = rng.standard_normal((3, 4)), np.array([0, 4, 2])
    y = m(sg.tensor(x), ids)
    ty = t(torch.from_numpy(x), torch.from_numpy(ids))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)


def test_state_dict_round_trip():
    a, b = build(nn), build(nn)
    sd = a.state_dict()
    assert all(not v.requires_grad for v in sd.values())
    assert isinstance(sd, OrderedDict)
    b.load_state_dict(sd)
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=name)
    # loading copies values into the existing Parameters (identity kept, memory not shared)
    w = b.encoder[0].weight
    b.load_state_dict({k: v.numpy() * 2 for k, v in a.state_dict().items()})
    assert b.encoder[0].weight is w
    np.testing.assert_array_equal(w.numpy(), a.encoder[0].weight.numpy() * 2)


def test_state_dict_shares_values_like_torch_and_keep_vars():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    m.weight.data[...] = 7
    np.testing.assert_array_equal(sd["weight"].numpy(), np.full((2, 2), 7.0))
    assert m.state_dict(keep_vars=True)["weight"] is m.weight


def test_load_state_dict_errors():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    good = {k: v.numpy() for k, v in m.state_dict().items()}
    missing = {k: v for k, v in good.items() if k != "1.bias"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.bias"'):
        m.load_state_dict(missing)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "2.weight"'):
        m.load_state_dict({**good, "2.weight": np.ones(1)})
    bad = {**good, "0.weight": np.ones((3, 3))}
    with pytest.raises(
        RuntimeError,
        match=r"size mismatch for 0.weight: copying a param with shape \(3, 3\) "
        r"from checkpoint, the shape in current model is \(2, 3\)",
    ):
        m.load_state_dict(bad, strict=False)
    with pytest.raises(TypeError, match="'0.bias' should be a Tensor or an array, got str"):
        m.load_state_dict({**good, "0.bias": "x"})
    result = m.load_state_dict({**missing, "extra": np.ones(1)}, strict=False)
    assert result.missing_keys == ["1.bias"] and result.unexpected_keys == ["extra"]


def test_train_eval_propagate():
    m = build(nn)
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    m.blocks.train(False)
    assert m.training and not m.blocks[1].training and m.encoder.training


def test_zero_grad_and_requires_grad():
    m = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    m(sg.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    assert not m(sg.randn(4, 3)).requires_grad


def test_to_dtype_keeps_parameter_identity():
    m = build(nn)
    params = list(m.parameters())
    m(sg.randn(2, 4), np.array([1, 2])).sum().backward()
    assert m.double() is m
    assert all(p is q for p, q in zip(params, m.parameters()))
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in m.parameters())
    assert all(b.dtype == np.float64 for b in m.buffers())
    assert m.to("cpu", dtype="float32") is m and m.scale.dtype == np.float32
    with pytest.raises(TypeError, match="only accepts floating-point dtypes, got int64"):
        m.to("int64")


def test_apply_visits_children_first_like_torch():
    seen, tseen = [], []
    build(nn).apply(lambda mod: seen.append(type(mod).__name__))
    build(torch.nn).apply(lambda mod: tseen.append(type(mod).__name__))
    assert seen == tseen


def test_repr_matches_torch():
    def model(lib):
        return lib.Sequential(
            lib.Linear(4, 3),
            lib.LeakyReLU(0.2),
            lib.Dropout(0.3),
            lib.ReLU(inplace=True),
            lib.Sequential(
                lib.ELU(), lib.SELU(), lib.Sigmoid(), lib.Softplus(), lib.Softmax(dim=1)
            ),
            lib.Unflatten(1, (1, 3)),
            lib.Flatten(),
            lib.Embedding(5, 2),
            lib.LogSoftmax(dim=-1),
            lib.LSTM(2, 3, num_layers=2, batch_first=True),
            lib.ModuleList([lib.Tanh(), lib.Linear(1, 2, bias=False)]),
        )

    assert repr(model(nn)) == repr(model(torch.nn))
    assert repr(nn.Parameter(np.zeros(2))).startswith("Parameter containing:\ntensor(")


def test_shared_modules_are_listed_once_but_saved_under_each_name():
    def tied(lib):
        enc = lib.Linear(3, 2)
        return lib.Sequential(enc, lib.Sequential(enc))

    m, t = tied(nn), tied(torch.nn)
    assert (
        [n for n, _ in m.named_parameters()]
        == [n for n, _ in t.named_parameters()]
        == ["0.weight", "0.bias"]
    )
    assert list(m.state_dict()) == list(t.state_dict())
    assert len(list(m.modules())) == len(list(t.modules()))


def test_attribute_rules():
    m = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = sg.zeros(3, 2)
    m.bias = None
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    assert m(sg.ones(1, 2)).shape == (1, 3)
    m.extra = nn.Parameter(np.ones(1, dtype=np.float32))
    assert [n for n, _ in m.named_parameters()] == ["weight", "extra"]
    del m.extra
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nothing'"):
        _ = m.nothing
    with pytest.raises(KeyError, match="can't be empty or contain '.'"):
        m.register_buffer("a.b", sg.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer 'b'"):
        m.register_buffer("b", [1, 2])

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_buffer_assignment_and_get_submodule():
    m = build(nn)
    m.count = sg.ones(1)
    np.testing.assert_array_equal(m.state_dict()["count"].numpy(), [1.0])
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'count'"):
        m.count = 3
    assert m.get_submodule("blocks.1") is m.blocks[1]
    with pytest.raises(AttributeError, match="has no submodule 'nope'"):
        m.get_submodule("encoder.nope")


def test_parameter_wraps_without_copy():
    a = np.ones(3)
    p = nn.Parameter(a)
    assert p.requires_grad and p.is_leaf and isinstance(p, sg.Tensor)
    a[0] = 5
    assert p.array[0] == 5
    assert not nn.Parameter(sg.zeros(2), requires_grad=False).requires_grad
    with pytest.raises(
        TypeError, match="only floating-point data can require grad, got dtype int64"
    ):
        nn.Parameter(np.arange(3))


def test_deepcopy_gives_an_independent_module():
    import copy

    m = build(nn)
    c = copy.deepcopy(m)
    assert isinstance(c.encoder[0].weight, nn.Parameter)
    c.encoder[0].weight.data[...] = 0
    assert np.abs(m.encoder[0].weight.numpy()).sum() > 0


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and isinstance(seq[1:], nn.Sequential)
    assert [n for n, _ in seq[1:].named_parameters()] == ["2.weight", "2.bias"]
    seq.append(nn.Tanh())
    del seq[1]
    assert [n for n, _ in seq.named_modules()][1:] == ["0", "1", "2"]
    with pytest.raises(IndexError, match="index 5 is out of range for 3 modules"):
        seq[5]
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.extend([nn.ReLU()]).insert(0, nn.Tanh())
    assert [type(x).__name__ for x in ml] == ["Tanh", "Linear", "ReLU"]
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias"]


@pytest.mark.gpu
def test_to_cuda_moves_parameters_and_buffers_in_place():
    m = build(nn, np.float64)
    params = list(m.parameters())
    sd = {k: v.numpy() for k, v in m.state_dict().items()}
    x, ids = np.random.default_rng(0).standard_normal((3, 4)), np.array([0, 4, 2])
    expected = m(sg.tensor(x), ids).numpy()
    assert m.to("cuda") is m
    assert all(p is q and p.device == "cuda:0" for p, q in zip(params, m.parameters()))
    assert all(b.device == "cuda:0" for b in m.buffers())
    m.load_state_dict(sd)  # host arrays into device parameters
    y = m(sg.tensor(x, device="cuda"), sg.tensor(ids, device="cuda"))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
