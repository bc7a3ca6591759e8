"""In-place ops against PyTorch (issue 15, acceptance 3): the values and the gradients through
each op, PyTorch's version error when a tensor saved for backward is changed, and ``.data``."""

import numpy as np
import pytest
from compat_helpers import close, pair, torch

import scratchgan as sg

# name -> (call on ours, call on torch); each runs on a non-leaf y = x * w
OPS = {
    "add_": (lambda y, o: y.add_(o, alpha=2.0), lambda y, o: y.add_(o, alpha=2.0)),
    "sub_": (lambda y, o: y.sub_(o), lambda y, o: y.sub_(o)),
    "mul_": (lambda y, o: y.mul_(o), lambda y, o: y.mul_(o)),
    "div_": (lambda y, o: y.div_(o), lambda y, o: y.div_(o)),
    "mul_scalar": (lambda y, o: y.mul_(3.0), lambda y, o: y.mul_(3.0)),
    "iadd": (lambda y, o: y.__iadd__(o), lambda y, o: y.__iadd__(o)),
    "isub": (lambda y, o: y.__isub__(o), lambda y, o: y.__isub__(o)),
    "imul": (lambda y, o: y.__imul__(o), lambda y, o: y.__imul__(o)),
    "itruediv": (lambda y, o: y.__itruediv__(o), lambda y, o: y.__itruediv__(o)),
    "clamp_": (lambda y, o: y.clamp_(-0.5, 0.7), lambda y, o: y.clamp_(-0.5, 0.7)),
    "pow_": (lambda y, o: y.pow_(2), lambda y, o: y.pow_(2)),
    "neg_": (lambda y, o: y.neg_(), lambda y, o: y.neg_()),
    "exp_": (lambda y, o: y.exp_(), lambda y, o: y.exp_()),
    "tanh_": (lambda y, o: y.tanh_(), lambda y, o: y.tanh_()),
    "sigmoid_": (lambda y, o: y.sigmoid_(), lambda y, o: y.sigmoid_()),
    "relu_": (lambda y, o: y.relu_(), lambda y, o: y.relu_()),
    "copy_": (lambda y, o: y.copy_(o), lambda y, o: y.copy_(o)),
    "setitem": (
        lambda y, o: y.__setitem__((slice(0, 2), 1), o[0, :2] * 2),
        lambda y, o: y.__setitem__((slice(0, 2), 1), o[0, :2] * 2),
    ),
    "setitem_scalar": (lambda y, o: y.__setitem__(0, 5.0), lambda y, o: y.__setitem__(0, 5.0)),
    "leaky_relu": (
        lambda y, o: sg.nn.functional.leaky_relu(y, 0.2, inplace=True),
        lambda y, o: torch.nn.functional.leaky_relu(y, 0.2, inplace=True),
    ),
    "relu_module": (lambda y, o: sg.nn.ReLU(True)(y), lambda y, o: torch.nn.ReLU(True)(y)),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_values_and_gradients_through_an_inplace_op_match_torch(rng, name):
    ours_op, theirs_op = OPS[name]
    x, tx = pair(rng.standard_normal((3, 4)))
    w, tw = pair(rng.uniform(0.5, 1.5, (3, 4)))
    o, to = pair(rng.uniform(0.5, 1.5, (3, 4)))
    y, ty = x * w, tx * tw
    out, tout = ours_op(y, o), theirs_op(ty, to)
    if not name.startswith("setitem"):
        assert out is y and tout is ty  # the op returns the tensor it changed
    close(y, ty)
    assert y._version == ty._version > 0
    weights = rng.standard_normal((3, 4))
    (y * sg.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    for ours, theirs in ((x, tx), (w, tw), (o, to)):
        if theirs.grad is None:
            assert ours.grad is None or not ours.grad.numpy().any()
        else:
            close(ours.grad, theirs.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.exp(),
        lambda x: x.sigmoid(),
        lambda x: x.tanh(),
        lambda x: x.sqrt(),
    ],
)
def test_changing_a_saved_output_raises_torchs_error_at_backward(make):
    x, tx = pair(np.array([0.5, 1.0, 2.0]))
    y, ty = make(x), make(tx)
    y.mul_(2)
    ty.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as theirs:
        ty.sum().backward()
    with pytest.raises(
        RuntimeError, match="modified by an inplace operation.*is at version 1; expected version 0"
    ) as ours:
        y.sum().backward()
    assert "is at version 1; expected version 0" in str(theirs.value)
    assert "is at version 1; expected version 0" in str(ours.value)


def test_changing_a_saved_input_raises_at_backward():
    x, tx = pair(np.array([0.5, 1.0, 2.0]))
    w, tw = pair(np.array([1.0, 2.0, 3.0]))
    for a, b in ((x, w), (tx, tw)):
        h = a * 2
        y = h * b  # saves h
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_changing_a_saved_tensor_through_detach_or_data_raises():
    for change in (lambda h: h.detach().zero_(), lambda h: h.data.zero_()):
        x = sg.tensor([0.5, 1.0], requires_grad=True)
        h = x * 2
        y = h * h
        change(h)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_changing_a_tensor_after_backward_is_fine():
    x, tx = pair(np.array([0.5, 1.0, 2.0]))
    for a in (x, tx):
        y = a.exp()
        y.sum().backward()
        y.mul_(2)
    close(x.grad, tx.grad)


def test_inplace_on_a_leaf_that_requires_grad_raises_like_torch():
    x, tx = pair(np.ones(3))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tx.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 2.0
    with sg.no_grad():
        x.add_(1)
        x[0] = 5.0
    with torch.no_grad():
        tx.add_(1)
        tx[0] = 5.0
    close(x, tx)
    assert x.grad_fn is None and x.requires_grad


def test_inplace_through_a_view_of_a_leaf_raises_like_torch():
    x, tx = pair(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        tx[0].mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)


def test_a_tensor_changed_through_a_view_is_not_used_with_a_stale_graph():
    x = sg.tensor(np.ones((2, 3)), requires_grad=True)
    h = x * 2
    v = h.reshape(6)
    v.mul_(3)  # allowed; h's graph no longer describes h's values
    with pytest.raises(RuntimeError, match="changed in place through a view"):
        h * 1


def test_data_is_a_graph_free_tensor_sharing_the_array_and_version():
    p = sg.nn.Parameter(sg.tensor(np.arange(4.0), dtype="float64"))
    tp = torch.nn.Parameter(torch.arange(4.0, dtype=torch.float64))
    for param in (p, tp):
        d = param.data
        assert not d.requires_grad and d.grad_fn is None
        assert np.shares_memory(np.asarray(d), np.asarray(param.detach()))
        param.data.clamp_(0.5, 2.5)
        param.data[0] = -1.0
        param.data += 1
        param.data.mul_(2)
    close(p, tp)
    assert np.asarray(p.data) is p.array
    assert isinstance(p.data, sg.Tensor) and not isinstance(p.data, sg.nn.Parameter)


def test_data_assignment_follows_torch_and_refuses_other_arrays():
    p = sg.nn.Parameter(sg.zeros(2, 2))
    p.data = sg.ones(3)  # the shape may change, as in torch
    assert p.shape == (3,) and p.requires_grad
    p.data = np.full(3, 2.0, np.float32)
    close(p, np.full(3, 2.0))
    with pytest.raises(TypeError, match="expected a Tensor or a numpy or cupy ndarray"):
        p.data = [1.0]
    with pytest.raises(TypeError, match="floating-point"):
        p.data = np.zeros(3, np.int64)


def test_fill_zero_normal_uniform_with_generator():
    t = sg.zeros(4, dtype="float64")
    assert t.fill_(2.5) is t and t.tolist() == [2.5] * 4
    assert t.zero_().tolist() == [0.0] * 4
    a = sg.zeros(1000, dtype="float64").normal_(1.0, 0.5, generator=sg.Generator(3))
    b = sg.nn.init.normal_(sg.zeros(1000, dtype="float64"), 1.0, 0.5, generator=sg.Generator(3))
    close(a, b, rtol=0)
    u = sg.zeros(1000, dtype="float64").uniform_(-2, 3, generator=sg.Generator(4))
    assert -2 <= u.numpy().min() and u.numpy().max() < 3 and abs(u.numpy().mean() - 0.5) < 0.2


def test_fill_on_a_label_between_backward_passes_like_the_dcgan_example():
    label, tlabel = pair(np.ones(4), requires_grad=False)
    out, tout = pair(np.full(4, 0.3))
    for lab, o, lib in ((label, out, sg), (tlabel, tout, torch)):
        lib.nn.BCELoss()(o, lab).backward()
        lab.fill_(0)
        lib.nn.BCELoss()(o, lab).backward()
    close(out.grad, tout.grad)


@pytest.mark.parametrize("module", ["Dropout", "Dropout2d"])
def test_inplace_dropout_keeps_the_mask_gradient(module):
    x = sg.tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)), requires_grad=True)
    layer = getattr(sg.nn, module)(0.5, inplace=True, generator=sg.Generator(1))
    h = x * 1
    y = layer(h)
    assert y is h
    close(y, getattr(sg.nn, module)(0.5, generator=sg.Generator(1))(x * 1))
    y.sum().backward()
    twin = getattr(sg.nn, module)(0.5, generator=sg.Generator(1))
    close(x.grad, twin(sg.ones(4, 3, 2, 2, dtype="float64")))


def test_dropout2d_drops_whole_channels():
    y = sg.nn.Dropout2d(0.5, generator=sg.Generator(0))(sg.ones(8, 6, 3, 3)).numpy()
    per_map = y.reshape(8, 6, 9)
    assert np.all(per_map == per_map[..., :1]) and set(np.unique(y)) <= {0.0, 2.0}


def test_grad_accepts_only_inputs_like_torch():
    x, tx = pair(np.array([1.0, 2.0]))
    (g,) = sg.autograd.grad((x * x).sum(), x, only_inputs=True)
    (tg,) = torch.autograd.grad((tx * tx).sum(), tx, only_inputs=True)
    close(g, tg)


def test_structurally_zero_gradient_reaches_a_leaf_as_zeros_like_torch():
    x, tx = pair(np.array([-1.0, 2.0]))
    b, tb = pair(np.array([0.5, -3.0]))
    for a, c, lib in ((x, b, sg), (tx, tb, torch)):
        h = lib.nn.functional.leaky_relu(a * c + c, 0.2)
        (g,) = lib.autograd.grad(h.sum(), a, create_graph=True)
        (g * g).sum().backward()
    close(x.grad, tx.grad)
    close(b.grad, tb.grad)


def test_backward_through_a_graph_made_before_an_optimiser_step_raises_like_torch():
    for lib in (sg, torch):
        layer = lib.nn.Linear(3, 2).double()
        opt = lib.optim.SGD(layer.parameters(), lr=0.1)
        x = lib.ones(4, 3, dtype=lib.float64, requires_grad=True)  # so both save the weight
        first, second = layer(x).sum(), (layer(x) ** 2).sum()
        first.backward()
        opt.step()  # changes the weight that `second`'s graph saved
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            second.backward()


def test_augmented_assignment_through_data_on_an_int_buffer_like_batchnorm():
    for lib in (sg, torch):
        bn = lib.nn.BatchNorm1d(3).double()
        counter = bn.num_batches_tracked
        bn.num_batches_tracked.data += 1
        bn(lib.ones(4, 3, dtype=lib.float64))
        assert bn.num_batches_tracked is counter and int(counter.item()) == 2
        assert counter.dtype == (np.int64 if lib is sg else torch.int64)
