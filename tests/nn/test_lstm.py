"""nn.LSTM against torch.nn.LSTM with copied weights: outputs, final states and every gradient."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgan as sg
import scratchgan.nn as nn

torch = pytest.importorskip("torch")

F64 = dict(rtol=1e-7, atol=1e-12)
F32 = dict(rtol=2e-5, atol=2e-5)


def pair(input_size, hidden, layers, batch_first=True, bias=True, dtype="float64"):
    m = nn.LSTM(
        input_size,
        hidden,
        num_layers=layers,
        bias=bias,
        batch_first=batch_first,
        dtype=dtype,
        generator=sg.Generator(0),
    )
    tm = torch.nn.LSTM(input_size, hidden, num_layers=layers, bias=bias, batch_first=batch_first)
    tm = tm.double() if dtype == "float64" else tm
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [p.shape for p in m.parameters()] == [tuple(p.shape) for p in tm.parameters()]
    with torch.no_grad():
        for p, tp in zip(m.parameters(), tm.parameters()):
            tp.copy_(torch.from_numpy(p.numpy().copy()))
    return m, tm


def run_both(m, tm, x, state, rng, tol=F64):
    """Forward and backward of <output, a> + <h_n, b> + <c_n, c> in both libraries; compare all."""
    dtype = x.dtype
    xs = sg.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    hs = ts = None
    if state is not None:
        hs = tuple(sg.tensor(s, requires_grad=True) for s in state)
        ts = tuple(torch.tensor(s, requires_grad=True) for s in state)
    out, (h, c) = m(xs, hs)
    tout, (th, tc) = tm(tx, ts)
    for a, b, name in ((out, tout, "output"), (h, th, "h_n"), (c, tc, "c_n")):
        assert a.shape == tuple(b.shape), name
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), err_msg=name, **tol)
    ws = [rng.standard_normal(t.shape).astype(dtype) for t in (tout, th, tc)]
    (sum((a * sg.tensor(w)).sum() for a, w in zip((out, h, c), ws))).backward()
    sum((b * torch.from_numpy(w)).sum() for b, w in zip((tout, th, tc), ws)).backward()
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), err_msg="input grad", **tol)
    if state is not None:
        for a, b, name in zip(hs, ts, ("h0", "c0")):
            np.testing.assert_allclose(
                a.grad.numpy(), b.grad.numpy(), err_msg=f"{name} grad", **tol
            )
    for (name, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=f"{name} grad", **tol)


@settings(max_examples=12, deadline=None)
@given(
    layers=st.integers(1, 2),
    batch_first=st.booleans(),
    bias=st.booleans(),
    with_state=st.booleans(),
    n=st.integers(1, 3),
    length=st.integers(1, 4),
    input_size=st.integers(1, 3),
    hidden=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_torch_float64(
    layers, batch_first, bias, with_state, n, length, input_size, hidden, seed
):
    rng = np.random.default_rng(seed)
    m, tm = pair(input_size, hidden, layers, batch_first, bias)
    x = rng.standard_normal((n, length, input_size) if batch_first else (length, n, input_size))
    state = [rng.standard_normal((layers, n, hidden)) for _ in range(2)] if with_state else None
    run_both(m, tm, x, state, rng)


@pytest.mark.parametrize("layers", [1, 2])
def test_matches_torch_with_h0_c0(layers):
    rng = np.random.default_rng(layers)
    m, tm = pair(3, 4, layers)
    x = rng.standard_normal((2, 5, 3))
    state = [rng.standard_normal((layers, 2, 4)) for _ in range(2)]
    run_both(m, tm, x, state, rng)


def test_unbatched_input_matches_torch():
    rng = np.random.default_rng(0)
    m, tm = pair(2, 3, 2)
    run_both(
        m, tm, rng.standard_normal((4, 2)), [rng.standard_normal((2, 3)) for _ in range(2)], rng
    )


def test_float32_matches_torch():
    rng = np.random.default_rng(0)
    m, tm = pair(3, 5, 2, dtype="float32")
    assert all(p.dtype == np.float32 for p in m.parameters())
    run_both(m, tm, rng.standard_normal((4, 6, 3)).astype(np.float32), None, rng, tol=F32)


def test_gradcheck_small_lstm():
    rng = np.random.default_rng(0)
    m = nn.LSTM(2, 2, num_layers=2, dtype="float64", generator=sg.Generator(1))
    x = sg.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    h0 = sg.tensor(rng.standard_normal((2, 2, 2)), requires_grad=True)
    c0 = sg.tensor(rng.standard_normal((2, 2, 2)), requires_grad=True)
    params = list(m.parameters())

    def fn(x, h0, c0, *ps):
        out, (h, c) = m(x, (h0, c0))
        return out, h, c

    assert sg.gradcheck(fn, [x, h0, c0] + params)
    one = nn.LSTM(1, 2, dtype="float64", generator=sg.Generator(2))
    assert sg.gradgradcheck(
        lambda x: one(x)[0], [sg.tensor(rng.standard_normal((1, 2, 1)), requires_grad=True)]
    )


def test_init_is_uniform_within_one_over_sqrt_hidden():
    m = nn.LSTM(20, 25, num_layers=2, generator=sg.Generator(0))
    bound = 1 / math.sqrt(25)
    values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound


def test_dropout_between_layers_only_in_training():
    rng = np.random.default_rng(0)
    m = nn.LSTM(2, 3, num_layers=2, dropout=0.5, generator=sg.Generator(0), dtype="float64")
    plain = nn.LSTM(2, 3, num_layers=2, dtype="float64")
    plain.load_state_dict(m.state_dict())
    x = sg.tensor(rng.standard_normal((2, 4, 2)))
    assert not np.allclose(m(x)[0].numpy(), plain(x)[0].numpy())
    m.eval()
    np.testing.assert_array_equal(m(x)[0].numpy(), plain(x)[0].numpy())


def test_bad_input():
    m = nn.LSTM(3, 4)
    with pytest.raises(
        ValueError, match=r"input has 2 features \(shape \(1, 5, 2\)\), expected input_size=3"
    ):
        m(sg.zeros(1, 5, 2))
    with pytest.raises(ValueError, match=r"h0 has shape \(1, 2, 4\), expected \(1, 1, 4\)"):
        m(sg.zeros(1, 5, 3), (sg.zeros(1, 2, 4), sg.zeros(1, 1, 4)))
    with pytest.raises(TypeError, match="input has dtype float64, the weights have float32"):
        m(sg.zeros(1, 5, 3, dtype="float64"))
    with pytest.raises(ValueError, match="hidden_size must be a positive int, got 0"):
        nn.LSTM(3, 0)
