"""Layers against torch.nn with copied weights; initialisers against PyTorch's formulas."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgan as sg
import scratchgan.functional as F
import scratchgan.nn as nn

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2**32 - 1)
F64 = dict(rtol=1e-7, atol=1e-12)
F32 = dict(rtol=2e-5, atol=2e-5)


def t64(a, requires_grad=True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


def s64(a, requires_grad=True):
    return sg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def load_torch_weights(module, tmodule):
    module.load_state_dict({k: v.detach().numpy() for k, v in tmodule.state_dict().items()})


def compare_module(module, tmodule, x, tol=F64):
    """Forward, input gradient and every parameter gradient, for a random upstream gradient."""
    y = module(s64(x))
    ty = tmodule(t64(x))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **tol)
    gy = np.random.default_rng(1).standard_normal(ty.shape)
    xs = s64(x)
    (module(xs) * sg.tensor(gy)).sum().backward()
    tx = t64(x)
    tmodule(tx).backward(torch.from_numpy(gy))
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), **tol)
    for (name, p), (_, tp) in zip(module.named_parameters(), tmodule.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=name, **tol)


@SETTINGS
@given(
    n_in=st.integers(1, 6),
    n_out=st.integers(1, 6),
    lead=st.lists(st.integers(1, 3), max_size=2),
    bias=st.booleans(),
    seed=seeds,
)
def test_linear_matches_torch(n_in, n_out, lead, bias, seed):
    tm = torch.nn.Linear(n_in, n_out, bias=bias).double()
    m = nn.Linear(n_in, n_out, bias=bias, dtype="float64")
    load_torch_weights(m, tm)
    x = np.random.default_rng(seed).standard_normal(tuple(lead) + (n_in,))
    compare_module(m, tm, x)


def test_linear_float32_and_gradcheck():
    tm = torch.nn.Linear(4, 3)
    m = nn.Linear(4, 3)
    load_torch_weights(m, tm)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        m(sg.tensor(x)).numpy(), tm(torch.from_numpy(x)).detach().numpy(), **F32
    )
    m.double()
    assert sg.gradcheck(lambda x, w, b: F.linear(x, w, b), [s64(x), m.weight, m.bias])


@SETTINGS
@given(
    num=st.integers(1, 6),
    dim=st.integers(1, 4),
    shape=st.lists(st.integers(1, 3), max_size=2),
    seed=seeds,
    pad=st.booleans(),
)
def test_embedding_matches_torch(num, dim, shape, seed, pad):
    rng = np.random.default_rng(seed)
    padding_idx = int(rng.integers(num)) if pad else None
    tm = torch.nn.Embedding(num, dim, padding_idx=padding_idx).double()
    m = nn.Embedding(num, dim, padding_idx=padding_idx, dtype="float64")
    if pad:
        assert not m.weight.numpy()[padding_idx].any()
    load_torch_weights(m, tm)
    with torch.no_grad():
        tm.weight.normal_()  # a nonzero padding row, so that its gradient blocking is tested
    load_torch_weights(m, tm)
    ids = rng.integers(0, num, size=tuple(shape))
    y, ty = m(ids), tm(torch.from_numpy(ids))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **F64)
    gy = rng.standard_normal(ty.shape)
    y.backward(sg.tensor(gy))
    ty.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), **F64)


ACTIVATIONS = [
    ("ReLU", (), ()),
    ("LeakyReLU", (0.2,), (0.2,)),
    ("ELU", (0.7,), (0.7,)),
    ("SELU", (), ()),
    ("Sigmoid", (), ()),
    ("Tanh", (), ()),
    ("Softplus", (), ()),
    ("Softplus", (2.0, 1.0), (2.0, 1.0)),
    ("Softmax", (1,), (1,)),
    ("LogSoftmax", (-1,), (-1,)),
]


@pytest.mark.parametrize("name,args,targs", ACTIVATIONS, ids=[f"{a[0]}{a[1]}" for a in ACTIVATIONS])
@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=3), seed=seeds)
def test_activation_modules_match_torch(name, args, targs, shape, seed):
    x = np.random.default_rng(seed).standard_normal(tuple(shape)) * 3
    x = np.where(np.abs(x) < 0.05, 0.1, x)  # away from the kinks
    compare_module(getattr(nn, name)(*args), getattr(torch.nn, name)(*targs), x)


def test_softplus_threshold_region_matches_torch():
    x = np.array([[-30.0, -1.0, 0.5, 9.9, 10.1, 25.0]])
    compare_module(
        nn.Softplus(beta=2.0, threshold=20.0), torch.nn.Softplus(beta=2.0, threshold=20.0), x
    )


@SETTINGS
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data())
def test_flatten_matches_torch(shape, data):
    n = len(shape)
    start = data.draw(st.integers(-n, n - 1))
    end = data.draw(st.integers(start % n, n - 1))
    x = np.random.default_rng(0).standard_normal(tuple(shape))
    compare_module(nn.Flatten(start, end), torch.nn.Flatten(start, end), x)


@pytest.mark.parametrize(
    "dim,sizes,shape", [(1, (2, 3), (4, 6)), (-1, (2, -1), (2, 3, 4)), (0, (1, 2, 2), (4, 3))]
)
def test_unflatten_matches_torch(dim, sizes, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    compare_module(nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes), x)


def test_shape_layer_errors():
    with pytest.raises(
        ValueError, match=r"does not multiply to the size 6 of dim 1 of the input \(4, 6\)"
    ):
        nn.Unflatten(1, (4, 2))(sg.zeros(4, 6))
    with pytest.raises(ValueError, match="at most one -1"):
        nn.Unflatten(1, (-1, -1))
    with pytest.raises(
        ValueError, match="start_dim=3 is out of range for an input with 2 dimensions"
    ):
        nn.Flatten(3)(sg.zeros(2, 2))


def test_dropout_train_vs_eval():
    x = np.random.default_rng(0).standard_normal((200, 50)) + 5
    d = nn.Dropout(0.3, generator=sg.Generator(7))
    y = d(s64(x)).numpy()
    dropped = y == 0
    assert 0.25 < dropped.mean() < 0.35
    np.testing.assert_allclose(y[~dropped], x[~dropped] / 0.7, rtol=1e-15)
    # the same generator seed gives the same mask
    y2 = nn.Dropout(0.3, generator=sg.Generator(7))(s64(x)).numpy()
    np.testing.assert_array_equal(y, y2)
    d.eval()
    xs = s64(x)
    np.testing.assert_array_equal(d(xs).numpy(), x)
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


def test_dense_transpose_shares_the_weight_with_torch_reference():
    rng = np.random.default_rng(0)
    enc = nn.Linear(5, 3, dtype="float64")
    dec = nn.DenseTranspose(enc)
    assert dec.bias.shape == (5,) and not dec.bias.numpy().any() and dec.weight is enc.weight
    model = nn.Sequential(enc, nn.SELU(), dec)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.bias"]
    dec.bias.data[...] = rng.standard_normal(5)

    W, b, c = (t64(a) for a in (enc.weight.numpy(), enc.bias.numpy(), dec.bias.numpy()))
    x = rng.standard_normal((4, 5))
    ty = torch.nn.functional.linear(
        torch.nn.functional.selu(torch.nn.functional.linear(t64(x, False), W, b)), W.t(), c
    )
    y = model(s64(x, False))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **F64)
    gy = rng.standard_normal((4, 5))
    y.backward(sg.tensor(gy))
    ty.backward(torch.from_numpy(gy))
    for p, tp in ((enc.weight, W), (enc.bias, b), (dec.bias, c)):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **F64)
    # the weight's gradient has both the encoder's and the decoder's share
    enc.weight.grad = None
    dec(s64(rng.standard_normal((4, 3)), False)).sum().backward()
    assert np.abs(enc.weight.grad.numpy()).sum() > 0
    assert sg.gradcheck(lambda w, x: dec(x), [enc.weight, s64(rng.standard_normal((2, 3)))])
    with pytest.raises(TypeError, match="linear must be an nn.Linear, got ReLU"):
        nn.DenseTranspose(nn.ReLU())


# ----- initialisation


def test_linear_default_init_bounds_and_generator():
    m = nn.Linear(50, 40, generator=sg.Generator(3))
    bound = 1 / math.sqrt(50)
    for p in (m.weight, m.bias):
        a = p.numpy()
        assert a.dtype == np.float32 and np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound
    assert abs(m.weight.numpy().std() - bound / math.sqrt(3)) < 0.05 * bound
    again = nn.Linear(50, 40, generator=sg.Generator(3))
    np.testing.assert_array_equal(m.weight.numpy(), again.weight.numpy())
    assert not np.array_equal(
        m.weight.numpy(), nn.Linear(50, 40, generator=sg.Generator(4)).weight.numpy()
    )


def test_embedding_default_init_is_standard_normal():
    w = nn.Embedding(400, 50, generator=sg.Generator(0)).weight.numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3, 3), (6, 1, 1)])
def test_fans_and_gains_match_torch(shape):
    assert nn.init._calculate_fan_in_and_fan_out(
        sg.zeros(*shape)
    ) == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    for name, param in [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
    ]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-15
        )
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="fewer than 2 dimensions, got shape \\(3,\\)"):
        nn.init.xavier_uniform_(sg.zeros(3))


@pytest.mark.parametrize(
    "fn,kwargs,bound",
    [
        (nn.init.uniform_, dict(a=-0.3, b=0.7), None),
        (nn.init.kaiming_uniform_, dict(), math.sqrt(2) * math.sqrt(3 / 120)),
        (
            nn.init.kaiming_uniform_,
            dict(a=0.2, mode="fan_out", nonlinearity="leaky_relu"),
            math.sqrt(2 / 1.04) * math.sqrt(3 / 240),
        ),
        (nn.init.xavier_uniform_, dict(gain=2.0), 2.0 * math.sqrt(6 / (120 + 240))),
    ],
)
def test_uniform_initialisers_respect_their_bounds(fn, kwargs, bound):
    t = sg.zeros(80, 40, 3, dtype="float64")  # fan_in 120, fan_out 240
    assert fn(t, generator=sg.Generator(0), **kwargs) is t
    a = t.numpy()
    lo, hi = (kwargs["a"], kwargs["b"]) if bound is None else (-bound, bound)
    assert a.min() >= lo and a.max() <= hi
    assert a.min() < lo + 0.01 * (hi - lo) and a.max() > hi - 0.01 * (hi - lo)
    assert abs(a.std() - (hi - lo) / math.sqrt(12)) < 0.02 * (hi - lo)


@pytest.mark.parametrize(
    "fn,kwargs,std",
    [
        (nn.init.normal_, dict(mean=0.5, std=0.02), 0.02),
        (nn.init.kaiming_normal_, dict(nonlinearity="relu"), math.sqrt(2 / 120)),
        (nn.init.xavier_normal_, dict(), math.sqrt(2 / 360)),
    ],
)
def test_normal_initialisers_statistics(fn, kwargs, std):
    t = sg.zeros(80, 40, 3, dtype="float64")
    fn(t, generator=sg.Generator(1), **kwargs)
    a = t.numpy()
    assert abs(a.mean() - kwargs.get("mean", 0)) < 0.02 * std
    assert abs(a.std() - std) < 0.02 * std


def test_constant_initialisers_and_in_place():
    p = nn.Linear(3, 2).weight
    array = p.array
    nn.init.zeros_(p)
    assert p.array is array and not array.any()
    nn.init.ones_(p)
    assert (array == 1).all()
    nn.init.constant_(p, 0.25)
    assert (array == 0.25).all() and p.grad is None and p.is_leaf
