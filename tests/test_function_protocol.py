"""The Function protocol: autograd, not the op, picks the path, and nodes keep only what they need.

- Every node with a closed-form array backward (``backward_fused``, ``backward_fused_kernel``)
  gives the same gradients as its differentiable ``backward``, for every mask of wanted input
  gradients, on the NumPy path and on the emulated kernels.
- No op module asks about grad mode or kernel availability itself.
- A node whose backward reads only its output does not keep its input's array alive.
"""

import gc
import importlib
import itertools
import pkgutil
import weakref
from pathlib import Path

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.ops
from scratchgan import cuda
from scratchgan.autograd import Function
from scratchgan.ops.activation import ELU, SELU_ALPHA, SELU_SCALE, Sigmoid
from scratchgan.ops.arithmetic import Add, Mul, Sub
from scratchgan.ops.gan import MinibatchStdDev, PixelNorm
from scratchgan.ops.matmul import Linear
from scratchgan.ops.normalization import ChannelAffine, ChannelNorm, Norm
from scratchgan.ops.reduction import Sum

OPS_DIR = Path(scratchgan.ops.__file__).parent
TOL = {"rtol": 1e-9, "atol": 1e-12}


def _all_function_classes():
    for info in pkgutil.iter_modules([str(OPS_DIR)]):
        importlib.import_module(f"scratchgan.ops.{info.name}")
    found, stack = set(), [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found and sub.__module__.startswith("scratchgan."):
                found.add(sub)
                stack.append(sub)
    return found


def _has_fused(cls):
    return cls.backward_fused is not None or cls.backward_fused_kernel is not None


def _arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) + 0.5 for s in shapes]


# One or more (node factory, input shapes) per class with a fused backward; float64 throughout.
SAMPLES = {
    Norm: [
        (lambda: Norm(False, 1e-5), [(2, 3, 5), (2, 3, 1), (2, 3, 1)]),  # adain: weight per (a, b)
        (lambda: Norm(False, 1e-5), [(4, 1, 6), (1, 1, 6), (1, 1, 6)]),  # layer norm: weight varies
        (lambda: Norm(True, 1e-5), [(3, 2, 4)]),  # no affine map
    ],
    ChannelNorm: [
        (lambda: ChannelNorm(True, 1e-5), [(3, 2, 5), (1, 2, 1), (1, 2, 1)]),  # batch norm
        (lambda: ChannelNorm(False, 1e-5), [(3, 2, 5), (1, 2, 1), (1, 2, 1)]),  # instance norm
        (lambda: ChannelNorm(True, 1e-5), [(4, 3, 2)]),
    ],
    ChannelAffine: [(lambda: ChannelAffine(), [(3, 2, 5), (1, 2, 1), (1, 2, 1)])],
    PixelNorm: [(lambda: PixelNorm(1e-8), [(2, 3, 2, 3)])],
    MinibatchStdDev: [(lambda: MinibatchStdDev(2, 1e-8), [(4, 3, 2, 3)])],
    Linear: [
        (lambda: Linear(), [(5, 3), (4, 3), (4,)]),
        (lambda: Linear(), [(2, 5, 3), (4, 3)]),  # batched input, no bias
    ],
    ELU: [(lambda: ELU(0.7), [(3, 4)]), (lambda: ELU(SELU_ALPHA, SELU_SCALE), [(3, 4)])],
    Sigmoid: [(lambda: Sigmoid(), [(3, 4)])],
    Add: [(lambda: Add(), [(3, 4), (4,)]), (lambda: Add(), [(2, 3), (2, 3)])],
    Sub: [(lambda: Sub(), [(3, 4), (3, 1)])],
    Mul: [(lambda: Mul(), [(2, 3, 4), (3, 1)]), (lambda: Mul(), [(1,), (2, 3)])],
    Sum: [
        (lambda: Sum((1,), False), [(3, 4, 2)]),
        (lambda: Sum((0, 2), True), [(3, 4, 2)]),
        (lambda: Sum((0, 1), False), [(3, 4)]),
    ],
}


def test_every_node_with_a_fused_backward_has_a_sample():
    fused = {cls for cls in _all_function_classes() if _has_fused(cls)}
    assert fused == set(SAMPLES), "add the new node to SAMPLES so its fused backward is checked"


def _paths(cls):
    """(name, context) of each path on which autograd would call one of cls's fused backwards."""
    paths = []
    if cls.backward_fused is not None and cls.composite is None:
        paths.append(("numpy", None))
    if cls.forward_kernel is not None:
        if not cuda.emulation_available():
            pytest.skip("g++ is not on PATH: kernel emulation compiles kernels/*.cu with it")
        paths.append(("emulated", lambda: cuda.emulate(block=32, reduce_block=16, max_grid=3)))
    return paths


def _case_list():
    for cls, samples in SAMPLES.items():
        for k, (make, shapes) in enumerate(samples):
            yield pytest.param(cls, make, shapes, id=f"{cls.__name__}-{k}")


def _fused_and_graph_grads(make, shapes, mask):
    arrays = _arrays(*shapes)
    xs = [sg.tensor(a, requires_grad=True) for a in arrays]
    node = make()
    y = node.apply(*xs)
    assert y.grad_fn is node, "the sample must build a node on this path"
    gy = np.random.default_rng(1).standard_normal(y.shape)
    fused = node.backward_fused_kernel if node.on_kernels else None
    fused = fused if fused is not None else node.backward_fused
    fused_grads = fused(gy.copy(), mask)
    graph_grads = node.backward(sg.tensor(gy), mask)
    return node, fused_grads, graph_grads


@pytest.mark.parametrize("cls, make, shapes", list(_case_list()))
def test_fused_backward_matches_the_differentiable_one_for_every_mask(cls, make, shapes):
    for path, context in _paths(cls):
        for mask in itertools.product((False, True), repeat=len(shapes)):
            if not any(mask):
                continue
            if context is None:
                node, fused, graph = _fused_and_graph_grads(make, shapes, mask)
            else:
                with context():
                    node, fused, graph = _fused_and_graph_grads(make, shapes, mask)
            assert node.on_kernels == (path == "emulated")
            assert len(fused) == len(shapes) and len(graph) == len(shapes)
            for i, wanted in enumerate(mask):
                if not wanted:
                    continue
                where = f"{cls.__name__} on {path}, mask {mask}: input {i}"
                assert fused[i] is not None and graph[i] is not None, where
                np.testing.assert_allclose(
                    np.asarray(fused[i]), graph[i].numpy(), **TOL, err_msg=where
                )


def test_autograd_uses_the_fused_backward_without_a_graph_and_the_differentiable_one_with():
    calls = []

    class Square(Function):
        def forward(self, x):
            return x * x

        def backward(self, gy, needs_input_grad):
            calls.append("graph")
            return (gy * 2 * self.inputs[0],)

        def backward_fused(self, gy, needs_input_grad):
            calls.append("fused")
            return (gy * 2 * self.inputs[0].array,)

    x = sg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    sg.grad(Square().apply(x).sum(), x)
    assert calls == ["fused"]
    (g,) = sg.grad(Square().apply(x).sum(), x, create_graph=True)
    assert calls == ["fused", "graph"]
    np.testing.assert_array_equal(g.numpy(), [2.0, -4.0])


def test_backward_gets_the_mask_of_wanted_gradients_and_the_node_keeps_its_own():
    seen = []

    class Product(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy, needs_input_grad):
            seen.append(needs_input_grad)
            a, b = self.inputs
            need = needs_input_grad
            return (gy * b if need[0] else None, gy * a if need[1] else None)

    a = sg.tensor(np.array([2.0]), requires_grad=True)
    b = sg.tensor(np.array([3.0]), requires_grad=True)
    node = Product()
    y = node.apply(a, b)
    (ga,) = sg.grad(y, a, retain_graph=True)
    assert seen == [(True, False)]
    assert node.needs_input_grad == (True, True)
    np.testing.assert_array_equal(ga.numpy(), [3.0])


@pytest.mark.parametrize("path", sorted(p.name for p in OPS_DIR.glob("*.py")))
def test_no_op_module_asks_grad_mode_or_kernel_availability(path):
    source = (OPS_DIR / path).read_text()
    for word in ("is_grad_enabled", "_grad_enabled", "uses_kernels"):
        assert word not in source, f"ops/{path} mentions {word}: let autograd choose (see Function)"


def test_a_node_that_keeps_only_its_output_frees_its_input_array():
    x = sg.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    h = x * 3.0  # a non-leaf: only the graph could keep its array alive
    y = h.tanh()
    assert type(y.grad_fn).saves_output and type(y.grad_fn).saves_inputs == ()
    array = weakref.ref(h.array)
    del h
    gc.collect()
    assert array() is None, "Tanh's node kept its input's array"
    y.sum().backward()
    want = 3 * (1 - np.tanh(3 * np.linspace(-1, 1, 6)) ** 2)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12)


def test_a_node_that_keeps_its_inputs_still_holds_them():
    x = sg.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    h = x * 3.0
    y = (h * h).sum()
    array = weakref.ref(h.array)
    del h
    gc.collect()
    assert array() is not None, "Mul's backward reads both inputs, so its node must keep them"
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 18 * np.linspace(-1, 1, 6), rtol=1e-12)


def test_a_dropped_output_is_made_again_for_a_double_backward():
    # softmax = exp(log_softmax): Exp keeps no input, so LogSoftmax's output Tensor is dropped
    x = sg.tensor(np.array([[0.1, -0.4, 0.7]]), requires_grad=True)
    w = sg.tensor(np.array([[1.0, 2.0, -1.0]]))
    (g,) = sg.grad((sg.functional.softmax(x, 1) * w).sum(), x, create_graph=True)
    (gg,) = sg.grad((g * g).sum(), x)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x.numpy(), requires_grad=True)
    loss = (torch.softmax(tx, 1) * torch.tensor(w.numpy())).sum()
    (tg,) = torch.autograd.grad(loss, tx, create_graph=True)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-10, atol=1e-14)
