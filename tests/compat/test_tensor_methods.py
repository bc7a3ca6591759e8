"""Tensor methods and Python protocols against PyTorch (float64; values and gradients)."""

import math

import numpy as np
import pytest
from compat_helpers import close, pair, torch
from hypothesis import given
from hypothesis import strategies as st

import scratchgan as sg


def _grads_match(fn, array, rtol=1e-7, **kwargs):
    """fn(x) on both libraries: same values, and the same gradient of sum(fn(x) * w)."""
    x, tx = pair(array)
    y, ty = fn(x, **kwargs), fn(tx, **kwargs)
    close(y, ty, rtol)
    w = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    (y * sg.tensor(w, dtype="float64")).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    close(x.grad, tx.grad, rtol)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "amin"])
@pytest.mark.parametrize("dim, keepdim", [(1, False), (1, True), ((0, 2), True), (-1, False)])
def test_reductions_take_dim_and_keepdim(rng, name, dim, keepdim):
    _grads_match(
        lambda t: getattr(t, name)(dim=dim, keepdim=keepdim), rng.standard_normal((3, 4, 5))
    )


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_reductions_take_positional_dim_and_keepdim(rng, name):
    _grads_match(lambda t: getattr(t, name)(1, True), rng.standard_normal((3, 4)))


def test_var_unbiased_false_is_population_variance(rng):
    _grads_match(lambda t: t.var(dim=0, unbiased=False), rng.standard_normal((5, 3)))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_give_values_and_indices(rng, name):
    x, tx = pair(rng.standard_normal((4, 6)))
    values, indices = getattr(x, name)(dim=1, keepdim=True)
    tvalues, tindices = getattr(tx, name)(dim=1, keepdim=True)
    close(values, tvalues)
    assert (indices.numpy() == tindices.numpy()).all() and indices.dtype == np.int64
    values.sum().backward()
    tvalues.sum().backward()
    close(x.grad, tx.grad)


def test_max_of_two_tensors_is_elementwise(rng):
    (a, ta), (b, tb) = pair(rng.standard_normal(5)), pair(rng.standard_normal(5))
    close(a.max(b), ta.max(tb))
    close(sg.max(a, b), torch.max(ta, tb))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1, "keepdim": True}])
def test_argmax_argmin(rng, name, kwargs):
    x, tx = pair(rng.standard_normal((4, 6)))
    assert (getattr(x, name)(**kwargs).numpy() == getattr(tx, name)(**kwargs).numpy()).all()


@pytest.mark.parametrize("p", [2, 1, 3, math.inf, "fro"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), (1, True)])
def test_norm(rng, p, dim, keepdim):
    _grads_match(lambda t: t.norm(p, dim=dim, keepdim=keepdim), rng.standard_normal((3, 5)))


def test_two_norm_of_zero_row_has_zero_gradient_like_torch(rng):
    array = rng.standard_normal((3, 4))
    array[1] = 0
    _grads_match(lambda t: t.norm(2, dim=1), array)


@given(
    shape=st.lists(st.integers(1, 3), min_size=0, max_size=3),
    extra=st.integers(0, 2),
    seed=st.integers(0, 99),
)
def test_repeat_tiles_like_torch(shape, extra, seed):
    rng = np.random.default_rng(seed)
    sizes = tuple(rng.integers(1, 4, size=max(len(shape) + extra, 1)).tolist())
    _grads_match(lambda t: t.repeat(*sizes), rng.standard_normal(shape))


def test_expand_and_expand_as(rng):
    _grads_match(lambda t: t.expand(2, -1, 4), rng.standard_normal((3, 1)))
    other = sg.zeros(5, 3, 4)
    x, tx = pair(rng.standard_normal((3, 1)))
    close(x.expand_as(other), tx.expand_as(torch.zeros(5, 3, 4)))


@pytest.mark.parametrize("n, chunks", [(7, 3), (6, 3), (5, 2), (2, 4)])
def test_chunk(rng, n, chunks):
    x, tx = pair(rng.standard_normal((2, n)))
    ours, theirs = x.chunk(chunks, dim=1), tx.chunk(chunks, dim=1)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        close(a, b)


@pytest.mark.parametrize("split", [2, 3, [1, 4, 2], (7,)])
def test_split_gradients(rng, split):
    x, tx = pair(rng.standard_normal((7, 2)))
    parts, tparts = x.split(split), tx.split(split)
    assert len(parts) == len(tparts)
    sum((p * (i + 1)).sum() for i, p in enumerate(parts)).backward()
    sum((p * (i + 1)).sum() for i, p in enumerate(tparts)).backward()
    close(x.grad, tx.grad)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: t.clone() * 3,
        lambda t: t.contiguous(),
        lambda t: t.view(4, 3),
        lambda t: t.view_as(t.reshape(2, 6)),
        lambda t: t.t(),
        lambda t: t.pow(3),
        lambda t: t.pow(2).sqrt(),
        lambda t: t.softmax(dim=1),
        lambda t: t.log_softmax(1),
        lambda t: t.clamp(-0.5, 0.5),
        lambda t: t.clamp(min=-0.2),
        lambda t: t.clamp_min(0.1),
        lambda t: t.clamp_max(0.1),
        lambda t: abs(t),
        lambda t: t.squeeze(dim=0) if t.shape[0] == 1 else t.unsqueeze(dim=1),
        lambda t: t.square().rsqrt(),
    ],
    ids=lambda f: str(f.__code__.co_firstlineno),
)
def test_shape_and_math_methods(rng, fn):
    _grads_match(fn, rng.standard_normal((3, 4)))


def test_mm_and_bmm(rng):
    (a, ta), (b, tb) = pair(rng.standard_normal((3, 4))), pair(rng.standard_normal((4, 2)))
    close(a.mm(b), ta.mm(tb))
    (a, ta), (b, tb) = pair(rng.standard_normal((5, 3, 4))), pair(rng.standard_normal((5, 4, 2)))
    y, ty = a.bmm(b), ta.bmm(tb)
    close(y, ty)
    y.sum().backward()
    ty.sum().backward()
    close(a.grad, ta.grad)
    close(b.grad, tb.grad)
    with pytest.raises(ValueError, match="mm: expects two 2-D"):
        a.mm(b)


def test_clone_copies_the_array():
    x = sg.tensor([1.0, 2.0])
    y = x.clone()
    y.array[0] = 5
    assert x.numpy()[0] == 1


def test_dtype_conversions_and_facts(rng):
    x, tx = pair(rng.standard_normal((2, 3)) * 3, requires_grad=False)
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64
    assert (x.long().numpy() == tx.long().numpy()).all() and x.long().dtype == np.int64
    assert x.type_as(sg.zeros(1)).dtype == np.float32
    assert x.is_cuda is False and x.dim() == 2 and x.size() == (2, 3) and x.size(-1) == 3
    assert x.is_floating_point() and not x.long().is_floating_point()


def test_register_hook_sees_and_replaces_the_gradient(rng):
    x, tx = pair(rng.standard_normal(4))
    seen = {}
    y, ty = x * 2, tx * 2
    handle = y.register_hook(lambda g: seen.setdefault("ours", g.numpy().copy()) is None or g * 3)
    ty.register_hook(lambda g: seen.setdefault("torch", g.numpy().copy()) is None or g * 3)
    y.register_hook(lambda g: g + 1)
    ty.register_hook(lambda g: g + 1)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    close(seen["ours"], seen["torch"])
    close(x.grad, tx.grad)
    handle.remove()


def test_a_removed_hook_is_not_called():
    x = sg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = x * 2
    handle = y.register_hook(lambda g: g * 100)
    y.register_hook(lambda g: g + 1)
    handle.remove()
    y.sum().backward()
    close(x.grad, np.full(2, 4.0))


def test_register_hook_works_with_sg_grad(rng):
    x, tx = pair(rng.standard_normal(3))
    y, ty = x.exp(), tx.exp()
    y.register_hook(lambda g: g * 10)
    ty.register_hook(lambda g: g * 10)
    (gx,) = sg.grad((y * y).sum(), x)
    (tgx,) = torch.autograd.grad((ty * ty).sum(), tx)
    close(gx, tgx)


@pytest.mark.parametrize("use_grad", [False, True])
def test_leaf_hooks_see_the_whole_gradient_before_it_is_stored(rng, use_grad):
    x, tx = pair(rng.standard_normal(3))
    seen, tseen = [], []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 3)
    handle = x.register_hook(lambda g: g * 1000)
    tx.register_hook(lambda g: tseen.append(g.detach().numpy().copy()))
    tx.register_hook(lambda g: g * 3)
    handle.remove()
    loss, tloss = (x * x).sum() + x.exp().sum(), (tx * tx).sum() + tx.exp().sum()
    if use_grad:
        (gx,), (tgx,) = sg.grad(loss, x), torch.autograd.grad(tloss, tx)
        close(gx, tgx)
    else:
        loss.backward()
        tloss.backward()
        close(x.grad, tx.grad)
    np.testing.assert_allclose(seen[0], tseen[0], rtol=1e-12)


def test_python_protocols():
    x = sg.tensor([[1.5, -2.5], [0.5, 3.0]], dtype="float64")
    t = torch.tensor([[1.5, -2.5], [0.5, 3.0]], dtype=torch.float64)
    close(abs(x), abs(t))
    close(round(x), torch.round(t))
    assert len(x) == 2 and [r.tolist() for r in x] == [r.tolist() for r in t]
    one = sg.tensor([2.75], dtype="float64")
    assert float(one) == 2.75 and int(one) == 2 and bool(one) is True
    assert f"{one.sum():.2f}" == f"{torch.tensor(2.75).sum():.2f}" == "2.75"
    assert f"{x}" == str(x)
    with pytest.raises(TypeError):
        iter(sg.tensor(1.0))


@pytest.mark.parametrize("name", ["squeeze_", "masked_fill", "gather"])
def test_unsupported_methods_name_torch_and_the_equivalent(name):
    with pytest.raises(
        AttributeError, match=rf"Tensor\.{name} \(PyTorch\) is not supported by scratchgan: .*use"
    ):
        getattr(sg.zeros(2), name)


def test_unknown_attribute_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'frobnicate'"):
        _ = sg.zeros(2).frobnicate
    assert not hasattr(sg.zeros(2), "__cuda_array_interface__")
