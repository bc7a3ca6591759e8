"""batch_norm, instance_norm, layer_norm against PyTorch: forward, gradients (first and second
order), gradchecks, running statistics, both memory layouts, and argument errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional

SETTINGS = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2**32 - 1)
AFFINE = ["none", "weight", "bias", "both"]
F64 = dict(rtol=1e-7, atol=1e-12)


@st.composite
def nc_shapes(draw, min_spatial=0, max_spatial=2):
    """(N, C, *spatial) with 0..2 spatial axes, small enough for finite differences."""
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    spatial = draw(st.lists(st.integers(1, 4), min_size=min_spatial, max_size=max_spatial))
    return (n, c, *spatial)


def affine_arrays(rng, kind, shape):
    """Arrays and a picker: pick(ts) -> (weight, bias) or None in their place, for ``kind``."""
    arrays = [
        rng.standard_normal(shape)
        for _ in range({"none": 0, "weight": 1, "bias": 1, "both": 2}[kind])
    ]

    def pick(ts, torch_dtype=None):
        ts = list(ts)
        w = ts.pop(0) if kind in ("weight", "both") else None
        b = ts.pop(0) if kind in ("bias", "both") else None
        if torch_dtype is not None and w is None and b is not None:
            w = torch.ones(
                shape, dtype=torch_dtype
            )  # torch's double backward fails for a bias without a weight
        return w, b

    return arrays, pick


def fast_path_matches_torch(fn, torch_fn, arrays):
    """Plain backward (no create_graph: the fused closed form) against torch in float64."""
    xs = [sg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = fn(*xs), torch_fn(*ts)
    gy = np.random.default_rng(7).standard_normal(y.shape)
    y.backward(sg.tensor(gy))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **F64)
    for i, (x, t) in enumerate(zip(xs, ts)):
        np.testing.assert_allclose(
            x.grad.numpy(), t.grad.numpy(), **F64, err_msg=f"gradient of input {i}"
        )


# ----- batch_norm


@SETTINGS
@given(
    shape=nc_shapes(), affine=st.sampled_from(AFFINE), eps=st.sampled_from([1e-5, 1e-3]), seed=seeds
)
def test_batch_norm_training_matches_torch(opcheck, shape, affine, eps, seed):
    if shape[0] * int(np.prod(shape[2:])) < 2:
        shape = (2,) + shape[1:]
    rng = np.random.default_rng(seed)
    params, pick = affine_arrays(rng, affine, shape[1])
    arrays = [rng.standard_normal(shape)] + params

    def fn(x, *p):
        return F.batch_norm(x, None, None, *pick(p), training=True, eps=eps)

    def tfn(x, *p):
        return tF.batch_norm(x, None, None, *pick(p, x.dtype), training=True, eps=eps)

    opcheck(fn, tfn, arrays, float32=False)  # float32: test_float32_matches_torch
    fast_path_matches_torch(fn, tfn, arrays)


@SETTINGS
@given(shape=nc_shapes(), affine=st.sampled_from(AFFINE), seed=seeds)
def test_batch_norm_eval_uses_running_stats(opcheck, shape, affine, seed):
    rng = np.random.default_rng(seed)
    C = shape[1]
    rm, rv = rng.standard_normal(C), rng.uniform(0.5, 2.0, C)
    params, pick = affine_arrays(rng, affine, C)

    def fn(x, *p):
        return F.batch_norm(
            x, sg.tensor(rm, dtype=x.dtype), sg.tensor(rv, dtype=x.dtype), *pick(p), training=False
        )

    def tfn(x, *p):
        return tF.batch_norm(
            x,
            torch.tensor(rm, dtype=x.dtype),
            torch.tensor(rv, dtype=x.dtype),
            *pick(p, x.dtype),
            training=False,
        )

    arrays = [rng.standard_normal(shape)] + params
    opcheck(fn, tfn, arrays)
    fast_path_matches_torch(fn, tfn, arrays)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (4, 3, 5, 6)])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_running_stats_follow_torch_over_several_steps(shape, momentum):
    rng = np.random.default_rng(0)
    C = shape[1]
    rm, rv = sg.tensor(np.zeros(C)), sg.tensor(np.ones(C))
    trm, trv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    rm_array = rm.array
    for step in range(4):
        x = rng.standard_normal(shape) * (step + 1) + step
        F.batch_norm(sg.tensor(x), rm, rv, training=True, momentum=momentum)
        tF.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=momentum)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), **F64)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), **F64)
    assert rm.array is rm_array, "the running mean must be updated in place"
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(
        F.batch_norm(sg.tensor(x), rm, rv).numpy(),
        tF.batch_norm(torch.tensor(x), trm, trv).numpy(),
        **F64,
    )


def test_batch_norm_float32_running_stats_stay_float32():
    rm, rv = sg.zeros(3), sg.ones(3)
    F.batch_norm(sg.randn(4, 3, 2, 2), rm, rv, training=True)
    assert rm.dtype == np.float32 and rv.dtype == np.float32


def test_batch_norm_without_running_stats_uses_batch_stats_even_in_eval():
    x = np.random.default_rng(1).standard_normal((4, 2, 3))
    np.testing.assert_allclose(
        F.batch_norm(sg.tensor(x), None, None, training=False).numpy(),
        tF.batch_norm(torch.tensor(x), None, None, training=True).numpy(),
        **F64,
    )


def test_batch_norm_third_derivative():
    """The double-backward node is itself differentiable (gradgradcheck of a gradient)."""
    rng = np.random.default_rng(2)
    v = sg.tensor(rng.standard_normal((3, 2, 2)))
    x = sg.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    w = sg.tensor(rng.standard_normal(2), requires_grad=True)

    def grad_x(x, w):
        with sg.enable_grad():
            y = F.batch_norm(x, None, None, w, None, training=True)
            return sg.grad((y * v).sum(), x, create_graph=True)[0]

    assert sg.gradgradcheck(grad_x, (x, w))


# ----- instance_norm


@SETTINGS
@given(shape=nc_shapes(min_spatial=1), affine=st.sampled_from(AFFINE), seed=seeds)
def test_instance_norm_matches_torch(opcheck, shape, affine, seed):
    if int(np.prod(shape[2:])) < 2:
        shape = shape[:2] + (2,) + shape[3:]
    rng = np.random.default_rng(seed)
    params, pick = affine_arrays(rng, affine, shape[1])
    arrays = [rng.standard_normal(shape)] + params

    def fn(x, *p):
        w, b = pick(p)
        return F.instance_norm(x, w, b)

    def tfn(x, *p):
        w, b = pick(p, x.dtype)
        return tF.instance_norm(x, weight=w, bias=b)

    opcheck(fn, tfn, arrays, float32=False)  # float32: test_float32_matches_torch
    fast_path_matches_torch(fn, tfn, arrays)


def test_instance_norm_running_stats_follow_torch():
    rng = np.random.default_rng(3)
    C = 3
    rm, rv = sg.tensor(np.zeros(C)), sg.tensor(np.ones(C))
    trm, trv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    for step in range(3):
        x = rng.standard_normal((4, C, 3, 5)) + step
        y = F.instance_norm(sg.tensor(x), running_mean=rm, running_var=rv, momentum=0.3)
        ty = tF.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), **F64)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), **F64)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), **F64)
    x = rng.standard_normal((2, C, 3, 5))
    w, b = rng.standard_normal(C), rng.standard_normal(C)
    y = F.instance_norm(
        sg.tensor(x),
        sg.tensor(w),
        sg.tensor(b),
        running_mean=rm,
        running_var=rv,
        use_input_stats=False,
    )
    ty = tF.instance_norm(
        torch.tensor(x), trm, trv, torch.tensor(w), torch.tensor(b), use_input_stats=False
    )
    np.testing.assert_allclose(y.numpy(), ty.numpy(), **F64)


# ----- layer_norm


@SETTINGS
@given(shape=nc_shapes(), k=st.integers(1, 4), affine=st.sampled_from(AFFINE), seed=seeds)
def test_layer_norm_matches_torch(opcheck, shape, k, affine, seed):
    k = min(k, len(shape))
    normalized = shape[len(shape) - k :]
    if int(np.prod(normalized)) < 2:
        shape, normalized = shape + (2,), normalized + (2,)
    rng = np.random.default_rng(seed)
    params, pick = affine_arrays(rng, affine, normalized)
    arrays = [rng.standard_normal(shape)] + params

    def fn(x, *p):
        return F.layer_norm(x, normalized, *pick(p))

    def tfn(x, *p):
        return tF.layer_norm(x, normalized, *pick(p, x.dtype))

    opcheck(fn, tfn, arrays, float32=False)  # float32: test_float32_matches_torch
    fast_path_matches_torch(fn, tfn, arrays)


def test_layer_norm_int_normalized_shape():
    x = np.random.default_rng(4).standard_normal((3, 5))
    np.testing.assert_allclose(
        F.layer_norm(sg.tensor(x), 5).numpy(), tF.layer_norm(torch.tensor(x), (5,)).numpy(), **F64
    )


# ----- float32
# Hypothesis draws groups of two nearly equal values, where 1/sqrt(var + eps) ~ 100 amplifies the
# float32 rounding of x - mean by four orders of magnitude (PyTorch's own float32 result is then
# 2.5e-5 away from the float64 one). float32 is therefore checked on realistic group sizes here.


@pytest.mark.parametrize("op", ["batch_norm", "instance_norm", "layer_norm"])
@pytest.mark.parametrize("shape", [(8, 4, 6, 6), (16, 3, 5)])
def test_float32_matches_torch(opcheck, op, shape):
    rng = np.random.default_rng(6)
    C = shape[1]
    pshape = shape[1:] if op == "layer_norm" else (C,)
    arrays = [
        rng.standard_normal(shape) * 3 + 1,
        rng.standard_normal(pshape),
        rng.standard_normal(pshape),
    ]
    fns = {
        "batch_norm": (
            lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
            lambda x, w, b: tF.batch_norm(x, None, None, w, b, training=True),
        ),
        "instance_norm": (
            lambda x, w, b: F.instance_norm(x, w, b),
            lambda x, w, b: tF.instance_norm(x, weight=w, bias=b),
        ),
        "layer_norm": (
            lambda x, w, b: F.layer_norm(x, pshape, w, b),
            lambda x, w, b: tF.layer_norm(x, pshape, w, b),
        ),
    }
    fn, tfn = fns[op]
    f32 = dict(rtol=2e-5, atol=2e-5)
    opcheck.torch_compare(fn, tfn, arrays, [0, 1, 2], np.float32, double=False, tol=f32)
    # the recorded (create_graph) path in float32
    xs = [sg.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    gy = rng.standard_normal(shape).astype(np.float32)
    grads = sg.grad(fn(*xs), xs, sg.tensor(gy), create_graph=True)
    tgrads = torch.autograd.grad(tfn(*ts), ts, torch.tensor(gy))
    for g, tg in zip(grads, tgrads):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g.numpy(), tg.numpy(), **f32)


# ----- layouts: convolutions hand out channels-last arrays


def channels_last(a):
    return np.ascontiguousarray(np.moveaxis(a, 1, -1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("op", ["batch_norm", "instance_norm", "layer_norm"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_channels_last_inputs_and_gradients(op, create_graph):
    rng = np.random.default_rng(5)
    x, gy = rng.standard_normal((3, 4, 5, 2)), rng.standard_normal((3, 4, 5, 2))
    shape = (4,) if op != "layer_norm" else (4, 5, 2)
    w, b = rng.standard_normal(shape), rng.standard_normal(shape)
    fns = {
        "batch_norm": (
            lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
            lambda x, w, b: tF.batch_norm(x, None, None, w, b, training=True),
        ),
        "instance_norm": (
            lambda x, w, b: F.instance_norm(x, w, b),
            lambda x, w, b: tF.instance_norm(x, weight=w, bias=b),
        ),
        "layer_norm": (
            lambda x, w, b: F.layer_norm(x, shape, w, b),
            lambda x, w, b: tF.layer_norm(x, shape, w, b),
        ),
    }
    fn, tfn = fns[op]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ty = tfn(*ts)
    tgrads = torch.autograd.grad(ty, ts, torch.tensor(gy))
    for xa in (x, channels_last(x)):
        for gya in (gy, channels_last(gy)):
            xs = [
                sg.Tensor._make(xa, requires_grad=True),
                sg.tensor(w, requires_grad=True),
                sg.tensor(b, requires_grad=True),
            ]
            y = fn(*xs)
            np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **F64)
            grads = sg.grad(y, xs, sg.Tensor._make(gya), create_graph=create_graph)
            for g, tg in zip(grads, tgrads):
                np.testing.assert_allclose(g.numpy(), tg.numpy(), **F64)
            np.testing.assert_array_equal(xs[0].numpy(), x)


# ----- errors


def test_batch_norm_errors():
    x = sg.randn(4, 3, 2, 2)
    with pytest.raises(ValueError, match=r"batch_norm: input must be \(N, C\)"):
        F.batch_norm(sg.randn(3), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: weight has shape \(4,\), expected \(3,\)"):
        F.batch_norm(x, None, None, sg.ones(4), training=True)
    with pytest.raises(
        ValueError, match=r"batch_norm: running_mean has shape \(2,\), expected \(3,\)"
    ):
        F.batch_norm(x, sg.zeros(2), sg.ones(2), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(sg.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="running_mean and running_var must be given together"):
        F.batch_norm(x, sg.zeros(3), None, training=True)
    with pytest.raises(TypeError, match="batch_norm: weight has dtype float64, input has float32"):
        F.batch_norm(x, None, None, sg.tensor(np.ones(3)), training=True)


def test_instance_and_layer_norm_errors():
    with pytest.raises(
        ValueError, match=r"instance_norm: input must be \(N, C, \*spatial\), got shape \(2, 3\)"
    ):
        F.instance_norm(sg.randn(2, 3))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(sg.randn(2, 3, 1, 1))
    with pytest.raises(ValueError, match=r"instance_norm: bias has shape \(2,\), expected \(3,\)"):
        F.instance_norm(sg.randn(2, 3, 4), bias=sg.zeros(2))
    with pytest.raises(ValueError, match="use_input_stats=False needs running_mean"):
        F.instance_norm(sg.randn(2, 3, 4), use_input_stats=False)
    with pytest.raises(
        ValueError, match=r"layer_norm: normalized_shape \(4,\) must match the trailing dimensions"
    ):
        F.layer_norm(sg.randn(2, 3), 4)
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(3,\), expected \(2, 3\)"):
        F.layer_norm(sg.randn(4, 2, 3), (2, 3), sg.ones(3))
