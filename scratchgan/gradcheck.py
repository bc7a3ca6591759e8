"""Gradient checks: analytic gradients against central differences, in float64.

For a random projection v of the outputs, the analytic vector-Jacobian product J^T v from
backward is compared, element by element of every input, with the numeric one
(f(x + eps e_j) - f(x - eps e_j)) . v / (2 eps). ``gradgradcheck`` applies the same test to
the function (inputs, v) -> gradients, built with ``create_graph=True``.
"""

import numpy as np

from . import autograd
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with the numeric one."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _check_inputs(inputs, name):
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"{name}: inputs[{i}] has dtype {x.dtype}; gradient checks need float64 inputs")


def _projection(outputs, seed):
    rng = np.random.default_rng(seed)
    return [Tensor._make(y.xp.asarray(rng.standard_normal(y.shape))) for y in outputs]


def _objective(fn, inputs, vs):
    """sum_k <f_k(inputs), v_k> as a float (recording stays on: gradgradcheck's fn needs it)."""
    outputs = _as_tuple(fn(*inputs))
    return sum(float((y.data.astype(np.float64) * v.data).sum()) for y, v in zip(outputs, vs))


def gradient_errors(fn, inputs, eps=1e-6, seed=0):
    """For each differentiable input: (analytic J^T v, numeric J^T v) as float64 arrays."""
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(fn(*inputs))
    vs = _projection(outputs, seed)
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    differentiable = [(y, v) for y, v in zip(outputs, vs) if y.requires_grad]
    if differentiable:
        analytic = autograd.grad([y for y, _ in differentiable], wrt, [v for _, v in differentiable],
                                 retain_graph=True, allow_unused=True)
    else:
        analytic = [None] * len(wrt)
    results = []
    for x, a in zip(wrt, analytic):
        a = np.zeros(x.shape) if a is None else np.asarray(a.numpy(), dtype=np.float64)
        numeric = np.zeros(x.shape)
        for j in range(x.numel()):
            index = np.unravel_index(j, x.shape)
            original = x.data[index].item()
            x.data[index] = original + eps
            plus = _objective(fn, inputs, vs)
            x.data[index] = original - eps
            minus = _objective(fn, inputs, vs)
            x.data[index] = original
            numeric[index] = (plus - minus) / (2 * eps)
        results.append((a, numeric))
    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad], results


def _verify(name, fn, inputs, eps, atol, rtol, seed):
    _check_inputs(inputs, name)
    indices, results = gradient_errors(fn, inputs, eps, seed)
    for i, (analytic, numeric) in zip(indices, results):
        err = np.abs(analytic - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            j = np.unravel_index(np.argmax(np.where(bad, err, -1)), analytic.shape)
            raise GradcheckError(
                f"{name}: mismatch for input {i} (shape {analytic.shape}) at element {tuple(int(k) for k in j)}: "
                f"analytic {analytic[j]:.10g}, numeric {numeric[j]:.10g}, abs error {err[j]:.3g}, "
                f"rel error {err[j] / max(abs(numeric[j]), 1e-300):.3g} (atol {atol}, rtol {rtol}); "
                f"{int(bad.sum())} of {bad.size} elements differ; max abs error {err.max():.3g}"
            )
    return True


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check the first derivatives of ``fn`` at ``inputs`` (float64 Tensors).

    Returns True, or raises GradcheckError naming the input, the element index, the
    analytic and numeric values and the errors.
    """
    return _verify("gradcheck", fn, _as_tuple(inputs), eps, atol, rtol, seed)


def _gradient_function(fn, n_inputs, wrt_positions):
    """(inputs..., v...) -> d<fn(inputs), v>/d(inputs that require grad), with create_graph."""

    def grads(*args):
        inputs, vs = args[:n_inputs], args[n_inputs:]
        outputs = _as_tuple(fn(*inputs))
        pairs = [(y, v) for y, v in zip(outputs, vs) if y.requires_grad]
        wrt = [inputs[i] for i in wrt_positions]
        gs = autograd.grad([y for y, _ in pairs], wrt, [v for _, v in pairs], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor._make(x.xp.zeros(x.shape, x.dtype)) for g, x in zip(gs, wrt))

    return grads


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check the second derivatives of ``fn``: gradcheck of its gradient function.

    ``grad_outputs`` (one per output) default to random float64 tensors that require grad,
    so derivatives with respect to them are checked too.
    """
    inputs = _as_tuple(inputs)
    _check_inputs(inputs, "gradgradcheck")
    if grad_outputs is None:
        with autograd.no_grad():
            outputs = _as_tuple(fn(*inputs))
        grad_outputs = [v.requires_grad_() for v in _projection(outputs, seed + 1)]
    grad_outputs = _as_tuple(grad_outputs)
    wrt_positions = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    gfn = _gradient_function(fn, len(inputs), wrt_positions)
    return _verify("gradgradcheck", gfn, inputs + grad_outputs, eps, atol, rtol, seed + 2)
