"""Gradient checks: analytic derivatives against central differences, in float64.

For outputs y_k = f_k(x_0, x_1, ...) the Jacobian block J[k][j] has entry
J[k][j][a, b] = d y_k[a] / d x_j[b] (elements counted in C order). Two ways to compare:

- ``mode="full"``: the whole Jacobian, as ``torch.autograd.gradcheck`` does by default. Row a
  of the analytic block is one backward with the basis grad-output e_a (J^T e_a); column b of
  the numeric block is (f(x + eps e_b) - f(x - eps e_b)) / (2 eps). A failure names the output
  and its element, the input and its element, and both Jacobian entries.
- ``mode="projected"``: one random grad-output v per output and a single backward, J^T v,
  against the numeric (f(x + eps e_b) - f(x - eps e_b)) . v / (2 eps). For large problems; a
  failure names the input element, and its values are projections, not Jacobian entries.
- ``mode="auto"`` (the default): full when the inputs that require grad and the outputs each
  have at most ``full_jacobian_limit`` elements in total, projected above. Both modes cost the
  same 2 x (input elements) evaluations of f; full adds one backward per output element.

Then PyTorch's two extra checks, on the graph of the first evaluation: a zero grad-output must
give exactly zero gradients (catches a backward that adds a term not multiplied by the
grad-output), and two backward passes with the same grad-output must agree to ``nondet_tol``
(catches a backward that is non-reentrant or nondeterministic). ``gradgradcheck`` runs all of
this on the gradient function (inputs, grad_outputs) -> input gradients, built with
``create_graph=True``.
"""

from typing import NamedTuple, Optional

import numpy as np

from . import autograd
from .tensor import Tensor

FULL_JACOBIAN_LIMIT = 1024
MODES = ("auto", "full", "projected")


class GradcheckError(AssertionError):
    """Raised when an analytic derivative disagrees with the numeric one, or backward misbehaves."""


class JacobianPair(NamedTuple):
    """Analytic and numeric derivatives of one output with respect to one input.

    Full mode: both are (output elements, input elements) Jacobian blocks of output ``output``.
    Projected mode: ``output`` is None and both are (1, input elements): the row v^T J of all
    outputs projected on the random grad-outputs v.
    """

    output: Optional[int]
    input: int
    analytic: np.ndarray
    numeric: np.ndarray


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _check_inputs(inputs, name):
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            raise TypeError(
                f"{name}: inputs[{i}] has dtype {x.dtype}; gradient checks need float64 inputs"
            )


def _differentiable_positions(inputs):
    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _random_grad_outputs(outputs, seed):
    rng = np.random.default_rng(seed)
    return [Tensor._make(y.xp.asarray(rng.standard_normal(y.shape))) for y in outputs]


def _flat_float64(t):
    """A flat float64 copy (an output may share memory with an input that is perturbed later)."""
    return np.array(t.numpy(), dtype=np.float64).reshape(-1)


def _vector_jacobian_products(outputs, wrt, grad_outputs):
    """J^T v for each input in ``wrt``, flat float64 (zeros where unused); keeps the graph."""
    pairs = [(y, v) for y, v in zip(outputs, grad_outputs) if y.requires_grad]
    if not pairs:
        return [np.zeros(x.numel()) for x in wrt]
    grads = autograd.grad(
        [y for y, _ in pairs], wrt, [v for _, v in pairs], retain_graph=True, allow_unused=True
    )
    return [np.zeros(x.numel()) if g is None else _flat_float64(g) for g, x in zip(grads, wrt)]


def _basis_grad_output(y, a):
    basis = np.zeros(y.numel())
    basis[a] = 1.0
    return Tensor._make(y.xp.asarray(basis.reshape(y.shape), dtype=y.dtype))


def _analytic_jacobian(outputs, wrt):
    """blocks[k][j]: d outputs[k] / d wrt[j], one backward per element of each output."""
    blocks = [[np.zeros((y.numel(), x.numel())) for x in wrt] for y in outputs]
    for k, y in enumerate(outputs):
        if not y.requires_grad:
            continue
        for a in range(y.numel()):
            rows = _vector_jacobian_products([y], wrt, [_basis_grad_output(y, a)])
            for j, row in enumerate(rows):
                blocks[k][j][a] = row
    return blocks


def _central_differences(fn, inputs, position, eps):
    """Yield (b, [(f_k(x + eps e_b) - f_k(x - eps e_b)) / (2 eps), flat, for each output k])."""
    x = inputs[position]
    for b in range(x.numel()):
        index = np.unravel_index(b, x.shape)
        original = x.array[index].item()
        try:
            x.array[index] = original + eps
            plus = [_flat_float64(y) for y in _as_tuple(fn(*inputs))]
            x.array[index] = original - eps
            minus = [_flat_float64(y) for y in _as_tuple(fn(*inputs))]
        finally:
            x.array[index] = original
        yield b, [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _resolve_mode(mode, wrt, outputs, full_jacobian_limit):
    if mode not in MODES:
        raise ValueError(f"gradcheck: mode must be one of {MODES}, got {mode!r}")
    if mode != "auto":
        return mode
    size = max(sum(x.numel() for x in wrt), sum(y.numel() for y in outputs))
    return "full" if size <= full_jacobian_limit else "projected"


def _jacobian_pairs(fn, inputs, outputs, positions, eps, mode, seed):
    wrt = [inputs[i] for i in positions]
    pairs = []
    if mode == "full":
        analytic = _analytic_jacobian(outputs, wrt)
        for j, position in enumerate(positions):
            numeric = [np.zeros((y.numel(), wrt[j].numel())) for y in outputs]
            for b, columns in _central_differences(fn, inputs, position, eps):
                for k, column in enumerate(columns):
                    numeric[k][:, b] = column
            pairs += [
                JacobianPair(k, position, analytic[k][j], numeric[k]) for k in range(len(outputs))
            ]
        return pairs
    vs = _random_grad_outputs(outputs, seed)
    analytic = _vector_jacobian_products(outputs, wrt, vs)
    flat_vs = [_flat_float64(v) for v in vs]
    for j, position in enumerate(positions):
        numeric = np.zeros(wrt[j].numel())
        for b, columns in _central_differences(fn, inputs, position, eps):
            numeric[b] = sum(float(v @ column) for v, column in zip(flat_vs, columns))
        pairs.append(JacobianPair(None, position, analytic[j][None, :], numeric[None, :]))
    return pairs


def analytic_and_numeric_jacobians(
    fn, inputs, eps=1e-6, mode="auto", full_jacobian_limit=FULL_JACOBIAN_LIMIT, seed=0
):
    """The derivatives of ``fn`` at ``inputs`` both ways, as a list of ``JacobianPair``.

    One pair per (output, input that requires grad) in full mode, one per input in projected
    mode (see the module docstring for the modes); compares nothing.
    """
    inputs = _as_tuple(inputs)
    positions = _differentiable_positions(inputs)
    outputs = _as_tuple(fn(*inputs))
    mode = _resolve_mode(mode, [inputs[i] for i in positions], outputs, full_jacobian_limit)
    return _jacobian_pairs(fn, inputs, outputs, positions, eps, mode, seed)


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def _compare(name, pair, outputs, inputs, atol, rtol, labels):
    analytic, numeric = pair.analytic, pair.numeric
    err = np.abs(analytic - numeric)
    bad = err > atol + rtol * np.abs(numeric)
    if not bad.any():
        return
    a, b = np.unravel_index(np.argmax(np.where(bad, err, -1)), err.shape)
    j, in_index = pair.input, _index(b, inputs[pair.input].shape)
    values = (
        f"analytic {analytic[a, b]:.10g}, numeric {numeric[a, b]:.10g}, abs error {err[a, b]:.3g}, "
        f"rel error {err[a, b] / max(abs(numeric[a, b]), 1e-300):.3g} (atol {atol}, rtol {rtol}); "
        f"{int(bad.sum())} of {bad.size} entries differ; max abs error {err.max():.3g}"
    )
    if pair.output is None:
        raise GradcheckError(
            f"{name}: mismatch of the projection v^T J (projected mode: the values are not "
            f"Jacobian entries; mode='full' names the output element) with respect to "
            f"{labels[1](j)} element {in_index}: {values}"
        )
    k, out_index = pair.output, _index(a, outputs[pair.output].shape)
    raise GradcheckError(
        f"{name}: Jacobian mismatch for {labels[0](k)} with respect to {labels[1](j)}: "
        f"output {k} element {out_index} with respect to input {j} element {in_index}: {values}"
    )


def _check_zero_grad_output(name, outputs, wrt, positions, labels):
    zeros = [Tensor._make(y.xp.zeros(y.shape, y.dtype)) for y in outputs]
    for position, x, g in zip(positions, wrt, _vector_jacobian_products(outputs, wrt, zeros)):
        if g.any():
            b = int(np.flatnonzero(g)[0])
            raise GradcheckError(
                f"{name}: backward is not multiplied by the grad-output: a zero grad-output gives "
                f"the nonzero gradient {g[b]:.10g} for {labels[1](position)} element "
                f"{_index(b, x.shape)} ({np.count_nonzero(g)} of {g.size} elements nonzero)"
            )


def _check_reentrant(name, outputs, wrt, positions, nondet_tol, seed, labels):
    vs = _random_grad_outputs(outputs, seed + 7919)
    first = _vector_jacobian_products(outputs, wrt, vs)
    second = _vector_jacobian_products(outputs, wrt, vs)
    for position, x, g1, g2 in zip(positions, wrt, first, second):
        diff = np.abs(g1 - g2)
        if (diff > nondet_tol).any():
            b = int(np.argmax(diff))
            raise GradcheckError(
                f"{name}: backward is not reentrant: two backward passes through the same graph "
                f"with the same grad-output give different gradients for {labels[1](position)} "
                f"element {_index(b, x.shape)}: first {g1[b]:.17g}, second {g2[b]:.17g} "
                f"(difference {diff[b]:.3g}, nondet_tol {nondet_tol}); the analytic Jacobian "
                "may still match, but backward is nondeterministic or keeps state between calls"
            )


def _default_labels():
    return (lambda k: f"output {k}", lambda j: f"input {j}")


def _verify(name, fn, inputs, eps, atol, rtol, nondet_tol, mode, full_jacobian_limit, seed, labels):
    _check_inputs(inputs, name)
    positions = _differentiable_positions(inputs)
    wrt = [inputs[i] for i in positions]
    outputs = _as_tuple(fn(*inputs))
    mode = _resolve_mode(mode, wrt, outputs, full_jacobian_limit)
    for pair in _jacobian_pairs(fn, inputs, outputs, positions, eps, mode, seed):
        _compare(name, pair, outputs, inputs, atol, rtol, labels)
    if wrt and any(y.requires_grad for y in outputs):
        _check_reentrant(name, outputs, wrt, positions, nondet_tol, seed, labels)
        _check_zero_grad_output(name, outputs, wrt, positions, labels)
    return True


def gradcheck(
    fn,
    inputs,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    *,
    nondet_tol=0.0,
    mode="auto",
    full_jacobian_limit=FULL_JACOBIAN_LIMIT,
    seed=0,
):
    """Check the first derivatives of ``fn`` at ``inputs`` (float64 Tensors).

    An entry passes when |analytic - numeric| <= atol + rtol |numeric|. ``mode`` is "auto"
    (full Jacobian when inputs and outputs each have at most ``full_jacobian_limit`` elements,
    else projected), "full" or "projected"; ``seed`` draws the projections. Returns True, or
    raises GradcheckError naming the output and input with their element indices and the
    analytic and numeric values and errors ("Jacobian mismatch for output 0 with respect to
    input 1: ..."), or a backward that is nonzero for a zero grad-output or not reentrant.
    """
    return _verify(
        "gradcheck",
        fn,
        _as_tuple(inputs),
        eps,
        atol,
        rtol,
        nondet_tol,
        mode,
        full_jacobian_limit,
        seed,
        _default_labels(),
    )


def gradient_function(fn, n_inputs, wrt_positions):
    """(inputs..., v...) -> d<fn(inputs), v>/d(inputs at wrt_positions), with create_graph."""

    def grads(*args):
        inputs, vs = args[:n_inputs], args[n_inputs:]
        outputs = _as_tuple(fn(*inputs))
        pairs = [(y, v) for y, v in zip(outputs, vs) if y.requires_grad]
        wrt = [inputs[i] for i in wrt_positions]
        gs = autograd.grad(
            [y for y, _ in pairs], wrt, [v for _, v in pairs], create_graph=True, allow_unused=True
        )
        return tuple(
            g if g is not None else Tensor._make(x.xp.zeros(x.shape, x.dtype))
            for g, x in zip(gs, wrt)
        )

    return grads


def gradgradcheck(
    fn,
    inputs,
    grad_outputs=None,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    *,
    nondet_tol=0.0,
    mode="auto",
    full_jacobian_limit=FULL_JACOBIAN_LIMIT,
    seed=0,
):
    """Check the second derivatives of ``fn``: gradcheck of its gradient function.

    The function checked is (inputs, grad_outputs) -> gradients of the inputs that require
    grad; its output k is the gradient of the k-th such input, and its inputs after ``inputs``
    are the grad-outputs. ``grad_outputs`` (one per output of ``fn``) default to random
    float64 tensors that require grad, so derivatives with respect to them are checked too.
    Other arguments as in ``gradcheck``.
    """
    inputs = _as_tuple(inputs)
    _check_inputs(inputs, "gradgradcheck")
    if grad_outputs is None:
        with autograd.no_grad():
            outputs = _as_tuple(fn(*inputs))
        grad_outputs = [v.requires_grad_() for v in _random_grad_outputs(outputs, seed + 1)]
    grad_outputs = _as_tuple(grad_outputs)
    positions = _differentiable_positions(inputs)
    n = len(inputs)
    labels = (
        lambda k: f"output {k} (the gradient of input {positions[k]})",
        lambda j: f"input {j}" if j < n else f"input {j} (grad_output {j - n})",
    )
    return _verify(
        "gradgradcheck",
        gradient_function(fn, n, positions),
        inputs + grad_outputs,
        eps,
        atol,
        rtol,
        nondet_tol,
        mode,
        full_jacobian_limit,
        seed + 2,
        labels,
    )
