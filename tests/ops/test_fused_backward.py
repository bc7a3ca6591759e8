"""Closed-form array backwards (``backward_fused``, used when no graph is recorded) give the same
bits as the differentiable ``backward`` they stand in for (used with ``create_graph=True``), so
that training results do not depend on which of the two ran."""

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.functional as F
from scratchgan.ops.activation import ELU, Sigmoid
from scratchgan.ops.arithmetic import Add, Mul, Sub
from scratchgan.ops.matmul import Linear
from scratchgan.ops.reduction import Sum


def _grads(fn, arrays, gy, create_graph):
    xs = [sg.tensor(a, requires_grad=True) for a in arrays]
    grads = sg.grad(fn(*xs), xs, sg.tensor(gy), create_graph=create_graph)
    return [g.numpy() for g in grads]


CASES = {
    "linear 2-D": (lambda x, w, b: F.linear(x, w, b), [(16, 7), (5, 7), (5,)]),
    "linear 3-D, no bias": (lambda x, w: F.linear(x, w), [(3, 4, 7), (5, 7)]),
    "elu": (lambda x: F.elu(x, 0.7), [(6, 9)]),
    "selu": (F.selu, [(6, 9)]),
    "sigmoid": (F.sigmoid, [(6, 9)]),
    "add, broadcast": (lambda a, b: a + b, [(4, 5), (5,)]),
    "sub, broadcast": (lambda a, b: a - b, [(4, 5), (4, 1)]),
    "mul, broadcast": (lambda a, b: a * b, [(2, 4, 5), (4, 1)]),
    "sum over an axis": (lambda x: x.sum(1), [(3, 4, 5)]),
    "mean": (lambda x: x.mean(), [(3, 4)]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_backward_is_bit_identical_to_the_recorded_one(name, dtype):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [(3 * rng.standard_normal(s)).astype(dtype) for s in shapes]
    with sg.no_grad():
        out_shape = fn(*[sg.tensor(a) for a in arrays]).shape
    gy = rng.standard_normal(out_shape).astype(dtype)
    fused = _grads(fn, arrays, gy, create_graph=False)
    recorded = _grads(fn, arrays, gy, create_graph=True)
    for i, (a, b) in enumerate(zip(fused, recorded)):
        assert a.dtype == b.dtype == dtype
        assert np.array_equal(a, b), f"{name}: input {i} differs by {np.abs(a - b).max()}"


def test_these_ops_have_a_fused_backward():
    # what the test above compares: without one, both runs would take the recorded path
    for op in (Linear, ELU, Sigmoid, Add, Sub, Mul, Sum):
        assert op.backward_fused is not None, op


def test_sigmoid_matches_its_two_exponential_formula_bit_for_bit():
    # the forward computes e^-|x| once; the formula it replaced, e^min(x, 0) / (1 + e^-|x|),
    # is the reference (training results must not move)
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint32).view(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, 1e-45, -1e-45, 88.7, -88.7, 104.0], np.float32)
    for x in (bits, special, (rng.standard_normal(100_000) * 30).astype(np.float32)):
        x = x[~np.isnan(x)]
        with np.errstate(over="ignore", invalid="ignore"):
            expected = np.exp(np.minimum(x, 0)) / (np.exp(-np.abs(x)) + 1)
            got = F.sigmoid(sg.tensor(x)).numpy()
        assert np.array_equal(got, expected)
