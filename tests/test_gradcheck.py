"""The gradient checker itself: it passes correct ops and catches wrong ones, and its messages
name the output and input elements and the Jacobian entries (checked against torch's Jacobian)."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgan as sg
import scratchgan.functional as F
from scratchgan import opcheck
from scratchgan.autograd import Function
from scratchgan.gradcheck import analytic_and_numeric_jacobians
from scratchgan.tensor import Tensor

MODES = ["full", "projected"]
FULL_MESSAGE = re.compile(
    r"Jacobian mismatch for output (\d+)(?: \([^)]*\))? "
    r"with respect to input (\d+)(?: \([^)]*\))?: "
    r"output \d+ element \(([\d, ]*)\) with respect to input \d+ element \(([\d, ]*)\): "
    r"analytic (\S+), numeric (\S+), abs error (\S+), rel error (\S+)"
)


def _elements(text):
    return tuple(int(i) for i in text.split(",") if i.strip())


class OuterWrongGradB(Function):
    """y[i, q] = a[i] b[q], whose gradient for b is 1.5 times too large at element q0."""

    def __init__(self, q0):
        self.q0 = q0

    def forward(self, a, b):
        self.a, self.b = a, b
        return a[:, None] * b[None, :]

    def backward(self, gy, needs_input_grad):
        scale = np.ones(self.b.shape)
        scale[self.q0] = 1.5
        return gy @ Tensor._make(self.b), (gy.T @ Tensor._make(self.a)) * Tensor._make(scale)


class CubeWrongGrad(Function):
    """y = x^3 with a backward that is off by a factor 3/2 at the last element."""

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, gy, needs_input_grad):
        scale = np.ones(self.x.shape)
        scale.reshape(-1)[-1] = 1.5
        return (gy * Tensor._make(3 * self.x**2 * scale),)


class CubeFrozenSecond(Function):
    """y = x^3 whose backward treats x as a constant: right first, wrong second derivative."""

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, gy, needs_input_grad):
        return (gy * Tensor._make(3 * self.x**2),)


class CubePlusConstant(Function):
    """y = x^3 whose backward adds c to every gradient: gx = gy 3x^2 + c."""

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, gy, needs_input_grad):
        return (gy * Tensor._make(3 * self.x**2) + 0.25,)


class SumCubesZeroPath(Function):
    """y = sum(x^3), a scalar, with a planted error on the zero grad-output path only:
    gx = gy 3x^2 + c [gy == 0]. Every Jacobian row (gy = 1) and projection (gy != 0) is right."""

    def forward(self, x):
        self.x = x
        return (x**3).sum()

    def backward(self, gy, needs_input_grad):
        planted = 0.25 if gy.item() == 0 else 0.0
        return (gy * Tensor._make(3 * self.x**2) + planted,)


class SumCubesIgnoresGradOutput(Function):
    """y = sum(x^3) whose backward returns 3x^2, forgetting gy: right whenever gy = 1."""

    def forward(self, x):
        self.x = x
        return (x**3).sum()

    def backward(self, gy, needs_input_grad):
        return (Tensor._make(3 * self.x**2),)


class CubeCountingBackward(Function):
    """y = x^3 whose backward drifts by 1e-10 relative per call (state kept between calls)."""

    calls = 0

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, gy, needs_input_grad):
        CubeCountingBackward.calls += 1
        return (gy * Tensor._make(3 * self.x**2 * (1 + 1e-10 * CubeCountingBackward.calls)),)


class CubeNoisyBackward(Function):
    """y = x^3 whose backward adds a tiny random draw times gy (nondeterministic)."""

    rng = np.random.default_rng(0)

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, gy, needs_input_grad):
        noise = 1e-9 * CubeNoisyBackward.rng.standard_normal(self.x.shape)
        return (gy * Tensor._make(3 * self.x**2 + noise),)


def x64(*shape, seed=0):
    return sg.tensor(np.random.default_rng(seed).standard_normal(shape) + 2.0, requires_grad=True)


def _assert_jacobians_agree(fn, inputs, mode):
    """The planted error is invisible to the Jacobian comparison: only the extra checks see it."""
    for pair in analytic_and_numeric_jacobians(fn, inputs, mode=mode):
        np.testing.assert_allclose(pair.analytic, pair.numeric, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_accepts_correct_ops(mode):
    a, b = x64(2, 3, seed=1), x64(3, seed=2)
    assert sg.gradcheck(lambda x: x**3, (x64(2, 3),), mode=mode)
    assert sg.gradgradcheck(lambda x: x**3, (x64(2, 3),), mode=mode)
    assert sg.gradcheck(lambda a, b: (a * b, (a.exp() / b).sum()), (a, b), mode=mode)
    assert sg.gradgradcheck(lambda a, b: (a * b, (a.exp() / b).sum()), (a, b), mode=mode)
    x, w = x64(1, 2, 4, 4, seed=3), x64(3, 2, 3, 3, seed=4)
    assert sg.gradcheck(lambda x, w: F.conv2d(x, w, padding=1), (x, w), mode=mode)
    assert sg.gradgradcheck(lambda x: F.softmax(x, 1), (x64(2, 3),), mode=mode)


@settings(max_examples=8, deadline=None)
@given(m=st.integers(1, 4), n=st.integers(1, 4), data=st.data())
def test_the_message_names_both_elements_and_the_jacobian_entries_of_torch(m, n, data):
    torch = pytest.importorskip("torch")
    q0 = data.draw(st.integers(0, n - 1), label="q0")
    rng = np.random.default_rng(m * 10 + n)
    a_np, b_np = rng.standard_normal(m) + 3.0, rng.standard_normal(n)
    a, b = sg.tensor(a_np, requires_grad=True), sg.tensor(b_np, requires_grad=True)
    with pytest.raises(sg.GradcheckError) as failure:
        sg.gradcheck(lambda a, b: (a * 2.0, OuterWrongGradB(q0).apply(a, b)), (a, b), mode="full")
    match = FULL_MESSAGE.search(str(failure.value))
    assert match, str(failure.value)
    k, j = int(match[1]), int(match[2])
    out_index, in_index = _elements(match[3]), _elements(match[4])
    analytic, numeric, abs_error = float(match[5]), float(match[6]), float(match[7])
    assert (k, j) == (1, 1)  # the outer product's gradient for b is the wrong one
    # independent reference: torch's Jacobian of the true function; the worst entry is the
    # planted element q0 in the row of the largest |a_i|, d y[i, q0] / d b[q0] = a_i
    jacobian = torch.autograd.functional.jacobian(
        lambda ta, tb: torch.outer(ta, tb), (torch.tensor(a_np), torch.tensor(b_np))
    )[1].numpy()
    assert out_index == (int(np.argmax(np.abs(a_np))), q0) and in_index == (q0,)
    np.testing.assert_allclose(numeric, jacobian[out_index + in_index], rtol=1e-8)
    np.testing.assert_allclose(analytic, 1.5 * jacobian[out_index + in_index], rtol=1e-9)
    np.testing.assert_allclose(abs_error, abs(analytic - numeric), rtol=1e-2)
    assert f"{m} of {m * n * n} entries differ" in str(failure.value)  # block (m n, n)


def test_the_jacobians_equal_torchs():
    torch = pytest.importorskip("torch")
    a_np, b_np = np.random.default_rng(0).standard_normal((2, 3)), np.linspace(0.5, 2.0, 3)
    a, b = sg.tensor(a_np, requires_grad=True), sg.tensor(b_np, requires_grad=True)
    pairs = analytic_and_numeric_jacobians(lambda a, b: (a * b, (a.exp() / b).sum(0)), (a, b))
    ta, tb = torch.tensor(a_np), torch.tensor(b_np)
    reference = torch.autograd.functional.jacobian(
        lambda a, b: (a * b, (a.exp() / b).sum(0)), (ta, tb)
    )
    assert [(p.output, p.input) for p in pairs] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    for p in pairs:
        expected = reference[p.output][p.input].numpy().reshape(p.analytic.shape)
        np.testing.assert_allclose(p.analytic, expected, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(p.numeric, expected, rtol=1e-7, atol=1e-9)


def test_the_message_names_the_second_order_output_and_grad_output():
    x = x64(3)
    assert sg.gradcheck(lambda x: CubeFrozenSecond().apply(x), (x,), mode="full")
    with pytest.raises(sg.GradcheckError) as failure:
        sg.gradgradcheck(lambda x: CubeFrozenSecond().apply(x), (x,), mode="full")
    message = str(failure.value)
    assert message.startswith(
        "gradgradcheck: Jacobian mismatch for output 0 (the gradient of "
        "input 0) with respect to input 0: "
    )
    match = FULL_MESSAGE.search(message)
    # d gx[i] / d x[i] = 6 x[i] gy[i]; the frozen backward gives 0
    i = _elements(match[3])
    assert _elements(match[4]) == i and float(match[5]) == 0.0
    gy = np.random.default_rng(1).standard_normal(3)  # gradgradcheck's default grad-output
    np.testing.assert_allclose(float(match[6]), 6 * x.numpy()[i] * gy[i], rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_a_wrong_first_derivative_is_caught(mode):
    x = x64(2, 3)
    expected = (
        "Jacobian mismatch for output 0 with respect to input 0"
        if mode == "full"
        else r"projection v\^T J .* with respect to input 0 element \(1, 2\)"
    )
    with pytest.raises(sg.GradcheckError, match=expected):
        sg.gradcheck(lambda x: CubeWrongGrad().apply(x), (x,), mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_wrong_second_derivative_is_caught(mode):
    x = x64(3)
    assert sg.gradcheck(lambda x: CubeFrozenSecond().apply(x), (x,), mode=mode)
    with pytest.raises(sg.GradcheckError, match="gradgradcheck: .*with respect to input 0"):
        sg.gradgradcheck(lambda x: CubeFrozenSecond().apply(x), (x,), mode=mode)


def test_every_input_is_checked_and_the_right_one_reported():
    a, b = x64(2, 2, seed=1), x64(2, 2, seed=2)
    expected = (
        r"output 0 with respect to input 1: output 0 element \(1, 1\) "
        r"with respect to input 1 element \(1, 1\): analytic"
    )
    with pytest.raises(sg.GradcheckError, match=expected):
        sg.gradcheck(lambda a, b: a * CubeWrongGrad().apply(b), (a, b))


def test_a_backward_that_adds_a_constant_is_caught():
    with pytest.raises(sg.GradcheckError, match="Jacobian mismatch for output 0"):
        sg.gradcheck(lambda x: CubePlusConstant().apply(x), (x64(2, 3),))


ZERO_GRAD_OUTPUT = (
    r"not multiplied by the grad-output: a zero grad-output gives the nonzero "
    r"gradient 0.25 for input 0 element \(0, 0\)"
)


@pytest.mark.parametrize("mode", MODES)
def test_a_planted_error_on_the_zero_grad_output_path_is_caught(mode):
    x = x64(2, 3)
    _assert_jacobians_agree(lambda x: SumCubesZeroPath().apply(x), (x,), mode)
    with pytest.raises(sg.GradcheckError, match=ZERO_GRAD_OUTPUT):
        sg.gradcheck(lambda x: SumCubesZeroPath().apply(x), (x,), mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_backward_that_ignores_the_grad_output_is_caught(mode):
    """For a scalar output every Jacobian row has gy = 1, so only the zero check sees this in
    full mode; a random projection sees it directly."""
    x = x64(2, 3)
    expected = (
        "zero grad-output gives the nonzero gradient"
        if mode == "full"
        else "mismatch of the projection"
    )
    if mode == "full":
        _assert_jacobians_agree(lambda x: SumCubesIgnoresGradOutput().apply(x), (x,), mode)
    with pytest.raises(sg.GradcheckError, match=expected):
        sg.gradcheck(lambda x: SumCubesIgnoresGradOutput().apply(x), (x,), mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("planted", [CubeCountingBackward, CubeNoisyBackward])
def test_a_non_reentrant_backward_is_caught(planted, mode):
    x = x64(2, 3)
    _assert_jacobians_agree(lambda x: planted().apply(x), (x,), mode)
    expected = "backward is not reentrant: .* for input 0 element"
    with pytest.raises(sg.GradcheckError, match=expected):
        sg.gradcheck(lambda x: planted().apply(x), (x,), mode=mode)
    assert sg.gradcheck(lambda x: planted().apply(x), (x,), mode=mode, nondet_tol=1e-6)


def test_auto_mode_is_full_up_to_the_limit_and_projected_above():
    x = x64(4, 4)
    with pytest.raises(sg.GradcheckError, match="Jacobian mismatch"):
        sg.gradcheck(lambda x: CubeWrongGrad().apply(x), (x,), full_jacobian_limit=16)
    with pytest.raises(sg.GradcheckError, match="projected mode"):
        sg.gradcheck(lambda x: CubeWrongGrad().apply(x), (x,), full_jacobian_limit=15)
    with pytest.raises(ValueError, match="mode must be one of"):
        sg.gradcheck(lambda x: x, (x,), mode="exact")


def test_gradcheck_refuses_float32():
    x = sg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        sg.gradcheck(lambda x: x * 2, (x,))


def test_gradcheck_leaves_inputs_unchanged_even_when_fn_raises():
    x = x64(2, 3)
    before = x.numpy().copy()
    sg.gradcheck(lambda x: x.exp(), (x,))
    np.testing.assert_array_equal(x.numpy(), before)
    calls = []

    def fails_on_the_third_call(x):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("planted")
        return x.exp()

    with pytest.raises(RuntimeError, match="planted"):
        sg.gradcheck(fails_on_the_third_call, (x,))
    np.testing.assert_array_equal(x.numpy(), before)


def test_the_gradcheck_table_passes_for_every_op(capsys):
    assert opcheck.run_table("all")
    out = capsys.readouterr().out
    assert "all passed" in out
    assert len([line for line in out.splitlines() if line.endswith(" ok")]) == len(opcheck.names())


def test_the_gradcheck_table_fails_a_wrong_op(monkeypatch):
    cases = opcheck._cases()
    cases["cube"] = (lambda x: CubeWrongGrad().apply(x), lambda r: (x64(2, 2),))
    monkeypatch.setattr(opcheck, "_cases", lambda: cases)
    assert not opcheck.check("cube")["passed"]


def test_the_gradcheck_table_rejects_an_unknown_op():
    with pytest.raises(ValueError, match="unknown op 'nope'"):
        opcheck.run_table("nope")
