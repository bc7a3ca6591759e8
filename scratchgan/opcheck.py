"""The gradient-check table: every differentiable op, checked to first and second order.

``scratchgan gradcheck [OP|all]`` runs this. Each case is an op on small float64 inputs
drawn from a fixed seed, small enough for full Jacobians; the table shows the largest absolute
and relative differences between analytic and central-difference Jacobian entries (second
order: the Jacobian of the gradient function (inputs, v) -> J^T v).
"""

import time

import numpy as np

from . import functional as F
from .autograd import no_grad
from .gradcheck import analytic_and_numeric_jacobians, gradient_function
from .tensor import Tensor


def _randn(rng, *shape, positive=False):
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return Tensor._make(a, requires_grad=True)


def _constant(rng, *shape):
    return Tensor._make(np.zeros(shape))


def _probabilities(rng, *shape):
    return Tensor._make(rng.uniform(0.05, 0.95, shape), requires_grad=True)


def _fixed_generator():
    # the same mask at every evaluation, so dropout is a fixed linear map that can be checked
    from .random import Generator

    return Generator(0)


def _cases():
    """name -> (fn, inputs factory). Inputs avoid kinks (|x| > 0) so differences are smooth."""

    def away_from_zero(rng, *shape):
        a = rng.standard_normal(shape)
        a += np.sign(a) * 0.1
        return Tensor._make(a, requires_grad=True)

    idx = np.array([0, 2, 2, 1])
    labels = np.array([1, 0, 3])
    c = {
        "add": (lambda a, b: a + b, lambda r: (_randn(r, 3, 4), _randn(r, 4))),
        "sub": (lambda a, b: a - b, lambda r: (_randn(r, 3, 1), _randn(r, 3, 4))),
        "mul": (lambda a, b: a * b, lambda r: (_randn(r, 3, 4), _randn(r, 3, 1))),
        "div": (lambda a, b: a / b, lambda r: (_randn(r, 3, 4), _randn(r, 4, positive=True))),
        "neg": (lambda a: -a, lambda r: (_randn(r, 3, 4),)),
        "pow": (lambda a, b: a**b, lambda r: (_randn(r, 3, 4, positive=True), _randn(r, 4))),
        "pow_const": (lambda a: a**3, lambda r: (_randn(r, 3, 4),)),
        "exp": (lambda a: a.exp(), lambda r: (_randn(r, 3, 4),)),
        "log": (lambda a: a.log(), lambda r: (_randn(r, 3, 4, positive=True),)),
        "sqrt": (lambda a: a.sqrt(), lambda r: (_randn(r, 3, 4, positive=True),)),
        "abs": (lambda a: a.abs(), lambda r: (away_from_zero(r, 3, 4),)),
        "clip": (lambda a: a.clip(-0.5, 0.5), lambda r: (_randn(r, 3, 4),)),
        "where": (
            lambda a, b: F.where(a.array > 0, a, b),
            lambda r: (away_from_zero(r, 3, 4), _randn(r, 3, 4)),
        ),
        "sum": (lambda a: a.sum(axis=1), lambda r: (_randn(r, 3, 4),)),
        "mean": (lambda a: a.mean(axis=(0, 2), keepdims=True), lambda r: (_randn(r, 2, 3, 4),)),
        "var": (lambda a: a.var(axis=0), lambda r: (_randn(r, 5, 3),)),
        "max": (lambda a: a.max(axis=1), lambda r: (_randn(r, 3, 5),)),
        "min": (lambda a: a.min(), lambda r: (_randn(r, 3, 5),)),
        "reshape": (lambda a: a.reshape(4, 3) * 1.0, lambda r: (_randn(r, 3, 4),)),
        "permute": (lambda a: a.permute(2, 0, 1), lambda r: (_randn(r, 2, 3, 4),)),
        "getitem": (lambda a: a[1:, ::2] * a[idx][:3, :2], lambda r: (_randn(r, 4, 4),)),
        "concat": (lambda a, b: F.concat([a, b], 1), lambda r: (_randn(r, 2, 3), _randn(r, 2, 2))),
        "stack": (lambda a, b: F.stack([a, b], 0), lambda r: (_randn(r, 2, 3), _randn(r, 2, 3))),
        "matmul": (lambda a, b: a @ b, lambda r: (_randn(r, 2, 3, 4), _randn(r, 4, 2))),
        "linear": (F.linear, lambda r: (_randn(r, 5, 4), _randn(r, 3, 4), _randn(r, 3))),
        "relu": (F.relu, lambda r: (away_from_zero(r, 3, 4),)),
        "leaky_relu": (lambda a: F.leaky_relu(a, 0.2), lambda r: (away_from_zero(r, 3, 4),)),
        "elu": (F.elu, lambda r: (away_from_zero(r, 3, 4),)),
        "selu": (F.selu, lambda r: (away_from_zero(r, 3, 4),)),
        "sigmoid": (F.sigmoid, lambda r: (_randn(r, 3, 4),)),
        "tanh": (F.tanh, lambda r: (_randn(r, 3, 4),)),
        "softplus": (F.softplus, lambda r: (_randn(r, 3, 4),)),
        "softmax": (lambda a: F.softmax(a, 1), lambda r: (_randn(r, 3, 4),)),
        "log_softmax": (lambda a: F.log_softmax(a, 1), lambda r: (_randn(r, 3, 4),)),
    }
    extra = [  # (name, fn, inputs) rows for the ops of the other families
        (
            "binary_cross_entropy",
            lambda p, t: F.binary_cross_entropy(p, t),
            lambda r: (_probabilities(r, 3, 4), _probabilities(r, 3, 4)),
        ),
        (
            "binary_cross_entropy_with_logits",
            lambda x, t: F.binary_cross_entropy_with_logits(x, t),
            lambda r: (_randn(r, 3, 4), _probabilities(r, 3, 4)),
        ),
        ("mse_loss", lambda a, b: F.mse_loss(a, b), lambda r: (_randn(r, 3, 4), _randn(r, 3, 4))),
        (
            "l1_loss",
            lambda a, b: F.l1_loss(a, b),
            lambda r: (away_from_zero(r, 3, 4), _constant(r, 3, 4)),
        ),
        ("cross_entropy", lambda a: F.cross_entropy(a, labels), lambda r: (_randn(r, 3, 4),)),
        (
            "nll_loss",
            lambda a: F.nll_loss(F.log_softmax(a, 1), labels),
            lambda r: (_randn(r, 3, 4),),
        ),
        (
            "gaussian_kl",
            lambda m, lv: F.gaussian_kl(m, lv),
            lambda r: (_randn(r, 3, 4), _randn(r, 3, 4)),
        ),
        ("embedding", lambda w: F.embedding(idx, w), lambda r: (_randn(r, 3, 4),)),
        (
            "dropout",
            lambda a: F.dropout(a, 0.5, generator=_fixed_generator()),
            lambda r: (_randn(r, 3, 4),),
        ),
        (
            "conv2d",
            lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
            lambda r: (_randn(r, 2, 2, 5, 5), _randn(r, 3, 2, 3, 3), _randn(r, 3)),
        ),
        (
            "conv2d_groups_dilation",
            lambda x, w: F.conv2d(x, w, groups=2, dilation=2, padding=1),
            lambda r: (_randn(r, 1, 4, 5, 5), _randn(r, 2, 2, 2, 2)),
        ),
        (
            "conv_transpose2d",
            lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
            lambda r: (_randn(r, 2, 3, 3, 3), _randn(r, 3, 2, 3, 3), _randn(r, 2)),
        ),
        ("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda r: (_randn(r, 1, 2, 4, 4),)),
        ("avg_pool2d", lambda x: F.avg_pool2d(x, 2, padding=1), lambda r: (_randn(r, 1, 2, 4, 4),)),
        (
            "interpolate",
            lambda x: F.interpolate(x, scale_factor=2),
            lambda r: (_randn(r, 1, 2, 2, 3),),
        ),
        (
            "batch_norm",
            lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
            lambda r: (_randn(r, 4, 3, 2, 2), _randn(r, 3), _randn(r, 3)),
        ),
        (
            "instance_norm",
            lambda x, w, b: F.instance_norm(x, w, b),
            lambda r: (_randn(r, 2, 3, 3, 3), _randn(r, 3), _randn(r, 3)),
        ),
        (
            "layer_norm",
            lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
            lambda r: (_randn(r, 2, 3, 4), _randn(r, 3, 4), _randn(r, 3, 4)),
        ),
        ("pixel_norm", lambda x: F.pixel_norm(x), lambda r: (_randn(r, 2, 3, 2, 2),)),
        (
            "minibatch_stddev",
            lambda x: F.minibatch_stddev(x, group_size=2),
            lambda r: (_randn(r, 4, 2, 2, 2),),
        ),
        (
            "adain",
            lambda x, s, b: F.adain(x, s, b),
            lambda r: (_randn(r, 2, 3, 3, 3), _randn(r, 2, 3), _randn(r, 2, 3)),
        ),
    ]
    c.update({name: (fn, make) for name, fn, make in extra})
    return c


def _max_errors(pairs):
    abs_err = rel_err = 0.0
    for pair in pairs:
        err = np.abs(pair.analytic - pair.numeric)
        if err.size:
            abs_err = max(abs_err, float(err.max()))
            rel_err = max(rel_err, float((err / np.maximum(np.abs(pair.numeric), 1e-3)).max()))
    return abs_err, rel_err


def check(name, atol=1e-5, rtol=1e-3, seed=0):
    """One row of the table: max abs/rel errors of the first and second derivatives."""
    fn, make = _cases()[name]
    inputs = make(np.random.default_rng(seed))
    first = analytic_and_numeric_jacobians(fn, inputs, seed=seed)
    # second order: the Jacobian of the gradient function (inputs, v) -> J^T v
    with no_grad():
        outputs = fn(*inputs)
    v = Tensor._make(
        np.random.default_rng(seed + 1).standard_normal(outputs.shape), requires_grad=True
    )
    gfn = gradient_function(fn, len(inputs), [i for i, x in enumerate(inputs) if x.requires_grad])
    second = analytic_and_numeric_jacobians(gfn, list(inputs) + [v], seed=seed + 2)

    def ok(pairs):
        return all(
            np.all(np.abs(p.analytic - p.numeric) <= atol + rtol * np.abs(p.numeric)) for p in pairs
        )

    return {
        "op": name,
        "first": _max_errors(first),
        "second": _max_errors(second),
        "passed": ok(first) and ok(second),
    }


def names():
    return list(_cases())


def run_table(which="all", out=print):
    """Print one row per op; returns True when every row passed."""
    selected = names() if which == "all" else [which]
    unknown = [n for n in selected if n not in _cases()]
    if unknown:
        raise ValueError(f"gradcheck: unknown op {unknown[0]!r}; known ops: {', '.join(names())}")
    columns = " ".join(
        f"{c:>12s}" for c in ("1st abs err", "1st rel err", "2nd abs err", "2nd rel err")
    )
    out(f"{'op':34s} {columns}  result")
    all_ok, start = True, time.perf_counter()
    for name in selected:
        try:
            row = check(name)
        except Exception as exc:  # an op that fails to run is a failed row, with its reason
            out(f"{name:34s} {'error: ' + type(exc).__name__ + ': ' + str(exc)[:80]}")
            all_ok = False
            continue
        (a1, r1), (a2, r2) = row["first"], row["second"]
        result = "ok" if row["passed"] else "FAIL"
        out(f"{name:34s} {a1:12.2e} {r1:12.2e} {a2:12.2e} {r2:12.2e}  {result}")
        all_ok &= row["passed"]
    verdict = "all passed" if all_ok else "FAILURES"
    out(f"{len(selected)} ops in {time.perf_counter() - start:.1f} s: {verdict}")
    return all_ok
