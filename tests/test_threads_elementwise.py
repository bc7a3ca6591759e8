"""The elementwise phases on the pool (threads.over_rows / elementwise / over_elements): the split
covers every row once, and LeakyReLU, the norms and the Adam / RMSprop updates give bit-identical
results on one thread and on two, equal to the formulas they replaced. Arrays are above
threads.MIN_BYTES (not patched), so the threaded path is the one measured."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scratchgan as sg
import scratchgan.functional as F
from scratchgan import threads
from scratchgan.ops.norm_stats import _stat_dot, _stat_sum

N, C, H, W = 16, 32, 16, 32  # 1 MiB of float32 per (N, C, H, W) array: at threads.MIN_BYTES


@pytest.fixture
def splits(monkeypatch):
    """The (n, parts) of every split the pool made; the thread count restored afterwards."""
    seen, split = [], threads.split

    def spy(n, parts):
        seen.append((n, parts))
        return split(n, parts)

    monkeypatch.setattr(threads, "split", spy)
    yield seen
    threads.set_num_threads(None)


def _channels_last(rng):
    """A float32 (N, C, H, W) array laid out (N, H, W, C), as convolutions hand them out."""
    return rng.standard_normal((N, H, W, C)).astype(np.float32).transpose(0, 3, 1, 2)


def _t(a, requires_grad=False):
    """A tensor on ``a`` itself (sg.tensor would copy a channels-last array to C order)."""
    return sg.Tensor._make(a, requires_grad)


def _on(n, compute):
    threads.set_num_threads(n)
    return compute()


def _assert_same(one, two):
    assert len(one) == len(two)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b, strict=True)
        assert a.strides == b.strides


@given(n=st.integers(1, 41), parts=st.integers(1, 5))
def test_over_rows_covers_every_row_once_for_odd_sizes(n, parts):
    threads.set_num_threads(parts)
    old, threads.MIN_BYTES = threads.MIN_BYTES, 0
    try:
        rows, counts = np.arange(n * 3).reshape(n, 3), np.zeros((n, 1), int)
        seen = []

        def visit(block, count, whole):
            seen.append(block[:, 0] // 3)
            count += 1
            assert whole.shape == (1, 3)  # a broadcast operand is passed whole

        threads.over_rows(visit, rows, counts, np.ones((1, 3)))
        flat = np.zeros(2 * n + 1)
        threads.over_elements(lambda a: a.__iadd__(1), flat)
    finally:
        threads.MIN_BYTES = old
        threads.set_num_threads(None)
    assert counts.ravel().tolist() == [1] * n
    assert sorted(np.concatenate(seen).tolist()) == list(range(n))
    assert len(seen) == min(n, parts)
    assert flat.tolist() == [1] * (2 * n + 1)


def test_elementwise_stays_on_the_calling_thread_below_min_bytes(splits):
    threads.set_num_threads(2)
    x = np.ones((4, threads.MIN_BYTES // 32), np.float32)  # half of MIN_BYTES
    y = threads.elementwise(lambda a, out=None: np.add(a, 1, out=out), x)
    assert splits == [] and (y == 2).all()
    threads.elementwise(lambda a, out=None: np.add(a, 1, out=out), np.ones((4, 2 * x.shape[1])))
    assert splits == [(4, 2)]


def test_over_elements_leaves_non_contiguous_arrays_whole(splits):
    threads.set_num_threads(2)
    a = np.zeros((512, 1024), np.float32).T
    calls = []
    threads.over_elements(lambda x: calls.append(x.shape), a)
    assert calls == [(1024, 512)] and splits == []


def test_leaky_relu_forward_and_backward(splits):
    """gy channels-last, x in C order: gx takes the layout NumPy's gy * scale has (C order)."""
    rng = np.random.default_rng(0)
    x, gy = rng.standard_normal((N, C, H, W)).astype(np.float32), _channels_last(rng)

    def compute():
        xs = _t(x, True)
        y = F.leaky_relu(xs, 0.2)
        (gx,) = sg.grad(y, [xs], _t(gy))
        return y.numpy(), gx.numpy()

    one, two = _on(1, compute), _on(2, compute)
    assert (N, 2) in splits
    _assert_same(one, two)
    slope = np.float32(0.2)
    old_y = np.maximum(x, slope * x)
    scale = (x > 0).astype(np.float32) * np.float32(1 - 0.2) + slope
    old_gx = gy * scale  # not gy * (...): NumPy would reuse the temporary, and its layout
    _assert_same(two, [old_y, old_gx])


def test_batch_norm_forward_and_input_gradient_equal_the_old_formula(splits):
    rng = np.random.default_rng(1)
    x, gy = _channels_last(rng), _channels_last(rng)
    w, b = (rng.standard_normal(C).astype(np.float32) for _ in range(2))

    def compute():
        xs, ws, bs = (_t(a, True) for a in (x, w, b))
        y = F.batch_norm(xs, None, None, ws, bs, training=True)
        return [y.numpy()] + [g.numpy() for g in sg.grad(y, [xs, ws, bs], _t(gy))]

    one, two = _on(1, compute), _on(2, compute)
    assert (N, 2) in splits
    _assert_same(one, two)
    # the replaced code, on the (N, C, L) view with the unchanged reductions
    x3, gy3 = x.reshape(N, C, -1), gy.reshape(N, C, -1)
    w3, b3 = w.reshape(1, C, 1), b.reshape(1, C, 1)
    m = N * H * W
    xc = x3 - _stat_sum(x3, True) * (1.0 / m)
    rstd = 1 / np.sqrt(_stat_dot(xc, xc, True) * (1.0 / m) + 1e-5)
    y = xc * (rstd * w3)
    y += b3
    s1, s2 = _stat_sum(gy3, True), _stat_dot(gy3, xc, True) * rstd
    gx = xc * (-rstd * s2 * (1.0 / m))
    gx += gy3
    gx -= s1 * (1.0 / m)
    gx *= rstd * w3
    _assert_same(two[:2], [y.reshape(x.shape), gx.reshape(x.shape)])


@pytest.mark.parametrize("norm", ["instance", "instance_affine", "layer_affine", "batch_eval"])
def test_other_norms_first_and_second_order(splits, norm):
    """Instance norm (per-sample statistics, sliced with the rows), layer norm (weights that
    vary within a group: normalize_in_place and _normalize_grad), evaluation batch norm
    (ChannelAffine); create_graph=True runs Normalize, NormalizeGrad and the xhat property."""
    rng = np.random.default_rng(2)
    x, gy = _channels_last(rng), rng.standard_normal((N, C, H, W)).astype(np.float32)
    shape = (C, H, W) if norm == "layer_affine" else (C,)
    w, b = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    stats = np.zeros(C, np.float32), np.ones(C, np.float32)

    def forward(xs, ws, bs):
        if norm == "instance":
            return F.instance_norm(xs)
        if norm == "instance_affine":
            return F.instance_norm(xs, ws, bs)
        if norm == "layer_affine":
            return F.layer_norm(xs, shape, ws, bs)
        return F.batch_norm(xs, *(sg.tensor(s) for s in stats), ws, bs, training=False)

    def compute():
        xs, ws, bs = (_t(a, True) for a in (x, w, b))
        y = forward(xs, ws, bs)
        first = sg.grad(y, [xs, ws, bs], _t(gy), allow_unused=True)
        y = forward(xs, ws, bs)
        (gx,) = sg.grad(y, [xs], _t(gy), create_graph=True)
        second = sg.grad((gx * gx).sum(), [xs, ws], allow_unused=True)
        return [y.numpy()] + [g.numpy() for g in first + second if g is not None]

    one, two = _on(1, compute), _on(2, compute)
    assert (N, 2) in splits
    _assert_same(one, two)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: sg.optim.Adam(ps, lr=1e-3, betas=(0.5, 0.999)),
        lambda ps: sg.optim.Adam(ps, lr=1e-3, amsgrad=True, weight_decay=0.1),
        lambda ps: sg.optim.RMSprop(ps, lr=1e-3, centered=True, momentum=0.9),
        lambda ps: sg.optim.RMSprop(ps, lr=1e-3),
    ],
)
def test_optimiser_updates(splits, make):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((511, 1023)).astype(np.float32)  # 2 MiB, an odd number of elements
    grads = [rng.standard_normal(w0.shape).astype(np.float32) for _ in range(3)]

    def compute():
        p = sg.tensor(w0.copy(), requires_grad=True)
        opt = make([p])
        for g in grads:
            p.grad = sg.tensor(g)
            opt.step()
        return [p.numpy()] + [v for v in opt.state_dict().values() if isinstance(v, np.ndarray)]

    one, two = _on(1, compute), _on(2, compute)
    assert (w0.size, 2) in splits
    _assert_same(one, two)


def test_adam_equals_the_old_formula(splits):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((512, 1024)).astype(np.float32)
    grads = [rng.standard_normal(w.shape).astype(np.float32) for _ in range(3)]
    threads.set_num_threads(2)
    p = sg.tensor(w.copy(), requires_grad=True)
    opt = sg.optim.Adam([p], lr=2e-4, betas=(0.5, 0.999))
    m, v = np.zeros_like(w), np.zeros_like(w)
    for step, g in enumerate(grads, 1):
        p.grad = sg.tensor(g)
        opt.step()
        m = g - (g - m) * (1 - 0.5)  # torch's lerp at weight 0.5
        v *= 0.999
        v += (1 - 0.999) * g * g
        denom = np.sqrt(v) / (1 - 0.999**step) ** 0.5
        denom += 1e-8
        w -= 2e-4 / (1 - 0.5**step) * m / denom
    assert splits
    np.testing.assert_array_equal(p.numpy(), w, strict=True)
