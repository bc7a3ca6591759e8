"""Top-level torch.* functions and factories, sg.autograd, inference_mode, README's code blocks."""

import re
from pathlib import Path

import numpy as np
import pytest
from compat_helpers import close, pair, torch

import scratchgan as sg


@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("mean", (), {}),
        ("mean", (1,), {"keepdim": True}),
        ("sum", (), {"dim": 0}),
        ("exp", (), {}),
        ("tanh", (), {}),
        ("sigmoid", (), {}),
        ("abs", (), {}),
        ("pow", (3,), {}),
        ("clamp", (), {"min": -0.3}),
        ("softmax", (), {"dim": 1}),
        ("log_softmax", (1,), {}),
        ("flatten", (), {}),
        ("reshape", ((4, 3),), {}),
        ("transpose", (0, 1), {}),
        ("permute", ((1, 0),), {}),
        ("unsqueeze", (1,), {}),
        ("norm", (), {}),
        ("t", (), {}),
        ("std", (), {"dim": 1}),
        ("var", (0,), {}),
        ("square", (), {}),
        ("relu", (), {}),
    ],
)
def test_functions_mirror_methods(rng, name, args, kwargs):
    x, tx = pair(rng.standard_normal((3, 4)))
    y, ty = getattr(sg, name)(x, *args, **kwargs), getattr(torch, name)(tx, *args, **kwargs)
    close(y, ty)
    w = rng.standard_normal(tuple(ty.shape))
    (y * sg.tensor(w, dtype="float64")).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    close(x.grad, tx.grad)


def test_log_sqrt_mm_bmm_cat_stack(rng):
    x, tx = pair(rng.uniform(0.5, 2, (3, 3)))
    close(sg.log(x), torch.log(tx))
    close(sg.sqrt(x), torch.sqrt(tx))
    close(sg.mm(x, x), torch.mm(tx, tx))
    close(sg.bmm(x.unsqueeze(0), x.unsqueeze(0)), torch.bmm(tx.unsqueeze(0), tx.unsqueeze(0)))
    close(sg.cat([x, x], dim=1), torch.cat([tx, tx], dim=1))
    close(sg.stack([x, x], dim=2), torch.stack([tx, tx], dim=2))
    close(sg.argmax(x, dim=1), torch.argmax(tx, dim=1))
    values, indices = sg.max(x, dim=0)
    tvalues, tindices = torch.max(tx, dim=0)
    close(values, tvalues)
    close(indices, tindices)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((5,), {}),
        ((2, 9, 3), {}),
        ((0.0, 1.0, 0.1), {}),
        ((1, 4), {"dtype": "float64"}),
        ((-1.5, 2.2, 0.3), {"dtype": "float64"}),
        ((10, 0, -3), {}),
    ],
)
def test_arange(args, kwargs):
    dtype = {"float64": torch.float64}.get(kwargs.get("dtype"))
    ours, theirs = sg.arange(*args, **kwargs), torch.arange(*args, dtype=dtype)
    assert ours.dtype == theirs.numpy().dtype
    # torch's kernel adds step to a SIMD-lane base, so float values can differ in the last bit
    close(ours, theirs, rtol=1e-15, atol=1e-15 if ours.dtype.kind == "f" else 0)


@pytest.mark.parametrize(
    "start, end, steps", [(0, 1, 5), (-3.3, 7.1, 11), (2, -2, 8), (0, 1, 1), (1.5, 1.5, 3)]
)
def test_linspace_matches_torch_and_hits_both_ends(start, end, steps):
    ours = sg.linspace(start, end, steps, dtype="float64")
    close(
        ours, torch.linspace(start, end, steps, dtype=torch.float64), rtol=1e-14, atol=1e-14
    )  # SIMD
    assert ours.numpy()[0] == start and (steps == 1 or ours.numpy()[-1] == end)
    assert sg.linspace(start, end, steps).dtype == np.float32


def test_factories(rng):
    x = sg.tensor(rng.standard_normal((2, 3)), dtype="float64")
    close(sg.eye(3), torch.eye(3))
    close(sg.eye(2, 4, dtype="float64"), torch.eye(2, 4, dtype=torch.float64))
    assert sg.full_like(x, 7.0).tolist() == torch.full_like(torch.tensor(x.numpy()), 7.0).tolist()
    for name in ("zeros_like", "ones_like", "empty_like"):
        assert getattr(sg, name)(x).shape == (2, 3) and getattr(sg, name)(x).dtype == np.float64
    assert sg.zeros_like(x, dtype="float32").dtype == np.float32
    assert sg.ones_like(x, requires_grad=True).requires_grad
    assert sg.empty(2, 3).shape == (2, 3) and sg.empty(2, 3).dtype == np.float32
    assert sg.randn_like(x).shape == (2, 3) and sg.rand_like(x).dtype == np.float64


def test_from_numpy_and_as_tensor_share_memory():
    array = np.arange(4.0)
    shared = sg.from_numpy(array)
    array[0] = 9
    assert shared.dtype == np.float64 and shared.numpy()[0] == 9
    assert sg.as_tensor(array).numpy() is array or sg.as_tensor(array).numpy()[0] == 9
    array[1] = 8
    assert sg.as_tensor(array).numpy()[1] == 8
    assert sg.as_tensor(array, dtype="float32").dtype == np.float32
    assert sg.as_tensor([1, 2]).dtype == np.int64
    assert (
        sg.as_tensor(2.0, sg.zeros(1, dtype="float64")).dtype == np.float64
    )  # the older (value, like) form
    with pytest.raises(TypeError, match="numpy.ndarray"):
        sg.from_numpy([1, 2])


def test_inference_mode_records_no_graph():
    x = sg.ones(2, requires_grad=True)
    with sg.inference_mode():
        assert not (x * 2).requires_grad
    with sg.inference_mode(False):
        assert (x * 2).requires_grad

    @sg.inference_mode()
    def f():
        return x * 2

    assert not f().requires_grad


def test_autograd_namespace(rng):
    x, tx = pair(rng.standard_normal(3))
    y, ty = (x * x).sum(), (tx * tx).sum()
    z, tz = x.exp(), tx.exp()
    sg.autograd.backward([y, z], [None, sg.tensor(np.ones(3), dtype="float64")])
    torch.autograd.backward([ty, tz], [None, torch.ones(3, dtype=torch.float64)])
    close(x.grad, tx.grad)
    (g,) = sg.autograd.grad((x**3).sum(), x)
    (tg,) = torch.autograd.grad((tx**3).sum(), tx)
    close(g, tg)


def test_dtype_names():
    assert sg.float is sg.float32 and sg.double is sg.float64 and sg.long is sg.int64
    assert sg.zeros(2, dtype=sg.double).dtype == np.float64


@pytest.mark.parametrize("name", ["einsum", "jit", "distributions", "set_default_dtype"])
def test_unsupported_functions_name_torch_and_the_equivalent(name):
    with pytest.raises(
        AttributeError, match=rf"torch\.{name} \(PyTorch\) is not supported by scratchgan: "
    ):
        getattr(sg, name)


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'frobnicate'"):
        _ = sg.frobnicate


README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("index", range(len(re.findall(r"```python\n", README.read_text()))))
def test_readme_python_blocks_run(index):
    block = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)[index]
    exec(compile(block, f"README.md python block {index}", "exec"), {})


def test_legacy_constructors_variable_and_type():
    x, tx = sg.FloatTensor(2, 3), torch.FloatTensor(2, 3)
    assert x.shape == tuple(tx.shape) and x.dtype == tx.numpy().dtype
    assert isinstance(x, sg.FloatTensor) and not isinstance(x, sg.DoubleTensor)
    assert isinstance(tx, torch.FloatTensor) and not isinstance(tx, torch.DoubleTensor)
    data = np.array([[0.5, 1.5]])
    close(sg.DoubleTensor(data), torch.DoubleTensor(data), rtol=0)
    assert sg.LongTensor([1, 2]).tolist() == torch.LongTensor([1, 2]).tolist()
    assert x.type() == tx.type() == "torch.FloatTensor"
    assert x.type(sg.DoubleTensor).dtype == tx.type(torch.DoubleTensor).numpy().dtype
    y = sg.ones(2, requires_grad=True) * 3
    v, tv = (
        sg.autograd.Variable(y, requires_grad=True),
        torch.autograd.Variable(torch.ones(2) * 3, requires_grad=True),
    )
    assert v.is_leaf and v.requires_grad and tv.is_leaf and tv.requires_grad
    assert v.tolist() == tv.tolist()
