"""The cases of gpu_kernels.py: one per kernel wrapper of scratchgan.cuda, and the GEMM-based ops.

A ``KernelCase`` draws float64 host inputs, computes the reference on the NumPy path
(scratchgan's CPU ops in float64 with emulation off, or a NumPy formula), runs the wrapper on
device arrays and says its compulsory traffic in bytes. ``GemmCase`` adds the FLOPs and the same
GEMM alone through ``xp.matmul`` (cuBLAS on a GPU).
"""

import contextlib
import dataclasses
from collections.abc import Callable

import numpy as np

SHAPES = {"full": (64, 128, 16, 16), "small": (4, 5, 4, 6)}
GROUP = 4  # minibatch_stddev group size (divides N)
EPS = 1e-5


@dataclasses.dataclass
class KernelCase:
    name: str
    shape: str
    inputs: Callable  # () -> [float64 arrays]
    reference: Callable  # (*host arrays) -> array or tuple, float64
    run: Callable  # (*device float32 arrays) -> array or tuple
    traffic: Callable  # (*device arrays) -> bytes read + written


@dataclasses.dataclass
class GemmCase(KernelCase):
    flops: int = 0
    gemm: Callable = None  # (xp) -> the same GEMM alone, as a function of no arguments


@contextlib.contextmanager
def numpy_path():
    """scratchgan's CPU ops, not the emulated kernels, while computing a reference."""
    from scratchgan.cuda.launcher import settings

    saved, settings.emulating = settings.emulating, False
    try:
        yield
    finally:
        settings.emulating = saved


def _draw(*shapes, seed=0, positive=()):
    rng = np.random.default_rng(seed)
    out = [rng.standard_normal(s) for s in shapes]
    for i in positive:
        out[i] = np.abs(out[i]) + 0.5
    return out


def _grad(fn, wrt, gy, *rest):
    """Gradients of <fn(*wrt, *rest), gy> with respect to ``wrt`` on the NumPy path."""
    import scratchgan as sg

    with numpy_path():
        ts = [sg.tensor(a, requires_grad=True) for a in wrt]
        y = fn(*ts, *[sg.tensor(a) for a in rest])
        grads = sg.grad(y, ts, sg.tensor(gy))
    return tuple(g.numpy() for g in grads)


def _ops(fn, *arrays):
    import scratchgan as sg

    with numpy_path():
        return fn(*[sg.tensor(a) for a in arrays]).numpy()


def _size(*arrays):
    return sum(a.nbytes for a in arrays)


def _stats(x, axes):
    mean = x.mean(axes)
    var = x.var(axes)
    return mean, var, 1 / np.sqrt(var + EPS)


def _im2col_ref(x, k, s, p):
    n, c, h, w = x.shape
    xp_ = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    col = np.empty((n, c, k, k, ho, wo))
    for u in range(k):
        for v in range(k):
            col[:, :, u, v] = xp_[:, :, u : u + s * ho : s, v : v + s * wo : s]
    return col.reshape(n, c * k * k, ho * wo)


def _col2im_ref(col, shape, k, s, p):
    n, c, h, w = shape
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((n, c, h + 2 * p, w + 2 * p))
    taps = col.reshape(n, c, k, k, ho, wo)
    for u in range(k):
        for v in range(k):
            out[:, :, u : u + s * ho : s, v : v + s * wo : s] += taps[:, :, u, v]
    return out[:, :, p : p + h, p : p + w]


def kernel_cases(size="full"):
    import scratchgan.functional as F
    from scratchgan import cuda

    n, c, h, w = shape = SHAPES[size]
    label = "x".join(map(str, shape))
    ch = (1, c, 1, 1)
    k, s, p = 4, 2, 1
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    col_shape = (n, c * k * k, ho * wo)

    def bn_inputs():
        x, gy, gamma = _draw(shape, shape, (c,), seed=1)
        mean, _, invstd = _stats(x, (0, 2, 3))
        return [x, gy, mean, invstd, gamma]

    def in_inputs():
        x, gy, gamma = _draw(shape, shape, (c,), seed=2)
        mean, _, invstd = _stats(x, (2, 3))
        return [x, gy, mean, invstd, gamma]

    def adam_ref(p_, g, m, v):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        return p_ - 1e-3 / (1 - 0.9) * m / (np.sqrt(v) / np.sqrt(1 - 0.999) + 1e-8), m, v

    return [
        KernelCase(
            "leaky_relu_forward",
            label,
            lambda: _draw(shape),
            lambda x: _ops(lambda t: F.leaky_relu(t, 0.01), x),
            lambda x: cuda.leaky_relu_forward(x, 0.01),
            lambda x: 2 * x.nbytes,
        ),
        KernelCase(
            "leaky_relu_backward",
            label,
            lambda: _draw(shape, shape),
            lambda x, gy: _grad(lambda t: F.leaky_relu(t, 0.01), [x], gy)[0],
            lambda x, gy: cuda.leaky_relu_backward(x, gy, 0.01),
            lambda x, gy: 3 * x.nbytes,
        ),
        KernelCase(
            "im2col",
            f"{label} k{k} s{s} p{p}",
            lambda: _draw(shape),
            lambda x: _im2col_ref(x, k, s, p),
            lambda x: cuda.im2col(x, k, k, s, p),
            lambda x: x.nbytes * (1 + k * k // (s * s)),
        ),
        KernelCase(
            "col2im",
            f"{label} k{k} s{s} p{p}",
            lambda: _draw(col_shape),
            lambda col: _col2im_ref(col, shape, k, s, p),
            lambda col: cuda.col2im(col, shape, k, k, s, p),
            lambda col: col.nbytes + col.nbytes * s * s // (k * k),
        ),
        KernelCase(
            "batch_norm_stats",
            label,
            lambda: _draw(shape),
            lambda x: _stats(x, (0, 2, 3)),
            lambda x: cuda.batch_norm_stats(x, EPS),
            lambda x: x.nbytes,
        ),
        KernelCase(
            "batch_norm_forward",
            label,
            lambda: [a for i, a in enumerate(bn_inputs()) if i != 1],
            lambda x, mean, invstd, gamma: (x - mean.reshape(ch)) * (invstd * gamma).reshape(ch),
            lambda x, mean, invstd, gamma: cuda.batch_norm_forward(x, mean, invstd, gamma),
            lambda x, *_: 2 * x.nbytes,
        ),
        KernelCase(
            "batch_norm_backward",
            label,
            bn_inputs,
            lambda x, gy, mean, invstd, gamma: (
                _grad(
                    lambda t, g: F.batch_norm(t, None, None, g, None, True, eps=EPS), [x, gamma], gy
                )
                + (gy.sum((0, 2, 3)),)
            ),
            cuda.batch_norm_backward,
            lambda x, *_: 3 * x.nbytes,
        ),
        KernelCase(
            "instance_norm_forward",
            label,
            lambda: _draw(shape, (c,), (c,), seed=3),
            lambda x, g, b: (
                _ops(lambda *ts: F.instance_norm(*ts, EPS), x, g, b),
                *_stats(x, (2, 3))[::2],
            ),
            lambda x, g, b: cuda.instance_norm_forward(x, g, b, EPS),
            lambda x, *_: 2 * x.nbytes,
        ),
        KernelCase(
            "instance_norm_backward",
            label,
            in_inputs,
            lambda x, gy, mean, invstd, gamma: (
                _grad(lambda t, g: F.instance_norm(t, g, None, EPS), [x, gamma], gy)
                + (gy.sum((0, 2, 3)),)
            ),
            cuda.instance_norm_backward,
            lambda x, *_: 3 * x.nbytes,
        ),
        KernelCase(
            "pixel_norm_forward",
            label,
            lambda: _draw(shape),
            lambda x: _ops(F.pixel_norm, x),
            cuda.pixel_norm_forward,
            lambda x: 2 * x.nbytes,
        ),
        KernelCase(
            "pixel_norm_backward",
            label,
            lambda: _draw(shape, shape),
            lambda x, gy: _grad(F.pixel_norm, [x], gy)[0],
            cuda.pixel_norm_backward,
            lambda x, gy: 3 * x.nbytes,
        ),
        KernelCase(
            "minibatch_stddev_forward",
            label,
            lambda: _draw(shape),
            lambda x: _ops(lambda t: F.minibatch_stddev(t, GROUP), x),
            lambda x: cuda.minibatch_stddev_forward(x, GROUP),
            lambda x: x.nbytes * (2 + 1 / c),
        ),
        KernelCase(
            "minibatch_stddev_backward",
            label,
            lambda: _draw(shape, (n, c + 1, h, w)),
            lambda x, gy: _grad(lambda t: F.minibatch_stddev(t, GROUP), [x], gy)[0],
            lambda x, gy: cuda.minibatch_stddev_backward(x, gy, GROUP),
            lambda x, gy: x.nbytes * 2 + gy.nbytes,
        ),
        KernelCase(
            "adam_update",
            label,
            lambda: _draw(shape, shape, shape, shape, positive=(3,)),
            adam_ref,
            lambda p_, g, m, v: (
                cuda.adam_update(p_, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 1),
                p_,
                m,
                v,
            )[1:],
            lambda p_, *_: 7 * p_.nbytes,
        ),
    ]


def gemm_cases(size="full"):
    import scratchgan as sg
    import scratchgan.functional as F

    n, c, h, w = SHAPES[size]
    cout, k, s, p = 2 * c, 4, 2, 1
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    flops = 2 * n * ho * wo * c * k * k * cout

    def conv(x, W):
        return F.conv2d(sg.Tensor._make(x), sg.Tensor._make(W), stride=s, padding=p).array

    def conv_t(y, W):
        return F.conv_transpose2d(sg.Tensor._make(y), sg.Tensor._make(W), stride=s, padding=p).array

    def ref(fn):
        def on_numpy_path(*arrays):
            with numpy_path():
                return fn(*arrays)

        return on_numpy_path

    def gemm_alone(m_, k_, cols):
        def make(xp):
            a = xp.ones((m_, k_), np.float32)
            b = xp.ones((n, k_, cols), np.float32)
            return lambda: xp.matmul(a, b)

        return make

    label = f"{n}x{c}x{h}x{w} -> {cout}x{ho}x{wo} k{k} s{s} p{p}"
    return [
        GemmCase(
            "conv2d (im2col + GEMM)",
            label,
            lambda: _draw((n, c, h, w), (cout, c, k, k)),
            ref(conv),
            conv,
            lambda *a: _size(*a),
            flops=flops,
            gemm=gemm_alone(cout, c * k * k, ho * wo),
        ),
        GemmCase(
            "conv_transpose2d (GEMM + col2im)",
            label.replace("->", "<-"),
            lambda: _draw((n, cout, ho, wo), (cout, c, k, k), seed=5),
            ref(conv_t),
            conv_t,
            lambda *a: _size(*a),
            flops=flops,
            gemm=gemm_alone(c * k * k, cout, ho * wo),
        ),
    ]
