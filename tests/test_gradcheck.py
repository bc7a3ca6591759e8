"""The gradient checker itself: it passes correct ops and catches wrong ones."""

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import opcheck
from scratchgan.autograd import Function
from scratchgan.tensor import Tensor


class CubeWrongGrad(Function):
    """y = x^3 with a backward that is off by a factor 3/2 at one element."""

    def forward(self, x):
        return x**3

    def backward(self, gy, needs_input_grad):
        (x,) = self.inputs
        scale = np.ones(x.shape)
        scale.reshape(-1)[-1] = 1.5
        return (gy * 3 * x * x * Tensor._make(scale),)


class CubeFrozenSecond(Function):
    """y = x^3 whose backward treats x as a constant: right first, wrong second derivative."""

    def forward(self, x):
        return x**3

    def backward(self, gy, needs_input_grad):
        x = self.inputs[0].detach()
        return (gy * 3 * x * x,)


def x64(*shape, seed=0):
    return sg.tensor(np.random.default_rng(seed).standard_normal(shape) + 2.0, requires_grad=True)


def test_gradcheck_accepts_a_correct_op():
    assert sg.gradcheck(lambda x: x**3, (x64(2, 3),))
    assert sg.gradgradcheck(lambda x: x**3, (x64(2, 3),))


def test_gradcheck_names_input_element_and_values():
    x = x64(2, 3)
    with pytest.raises(sg.GradcheckError, match=r"input 0 \(shape \(2, 3\)\) at element \(1, 2\): analytic .* numeric .* abs error"):
        sg.gradcheck(lambda x: CubeWrongGrad().apply(x), (x,))


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = x64(3)
    assert sg.gradcheck(lambda x: CubeFrozenSecond().apply(x), (x,))
    with pytest.raises(sg.GradcheckError, match="gradgradcheck: mismatch for input 0"):
        sg.gradgradcheck(lambda x: CubeFrozenSecond().apply(x), (x,))


def test_gradcheck_checks_every_input_and_reports_the_right_one():
    a, b = x64(2, 2, seed=1), x64(2, 2, seed=2)
    with pytest.raises(sg.GradcheckError, match="input 1"):
        sg.gradcheck(lambda a, b: a * CubeWrongGrad().apply(b), (a, b))


def test_gradcheck_refuses_float32():
    x = sg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        sg.gradcheck(lambda x: x * 2, (x,))


def test_gradcheck_leaves_inputs_unchanged():
    x = x64(2, 3)
    before = x.numpy().copy()
    sg.gradcheck(lambda x: x.exp(), (x,))
    np.testing.assert_array_equal(x.numpy(), before)


def test_the_gradcheck_table_passes_for_every_op(capsys):
    assert opcheck.run_table("all")
    out = capsys.readouterr().out
    assert "all passed" in out
    assert len([line for line in out.splitlines() if line.endswith(" ok")]) == len(opcheck.names())


def test_the_gradcheck_table_rejects_an_unknown_op():
    with pytest.raises(ValueError, match="unknown op 'nope'"):
        opcheck.run_table("nope")
