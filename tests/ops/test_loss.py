"""The losses, every reduction, against PyTorch (gaussian_kl against torch.distributions)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

SETTINGS = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)
reductions = st.sampled_from(["mean", "sum", "none"])


def rng_of(seed):
    return np.random.default_rng(seed)


# ----- elementwise losses


@SETTINGS
@given(shape=shapes, seed=seeds, reduction=reductions, hard=st.booleans())
def test_binary_cross_entropy(opcheck, shape, seed, reduction, hard):
    rng = rng_of(seed)
    p = rng.uniform(0.05, 0.95, shape)
    t = rng.integers(0, 2, shape).astype(np.float64) if hard else rng.uniform(0, 1, shape)
    opcheck(
        lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction),
        lambda p, t: TF.binary_cross_entropy(p, t, reduction=reduction),
        [p, t],
    )


def test_binary_cross_entropy_clamps_the_log_at_minus_100_like_torch(opcheck):
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-60, 1 - 1e-16, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.25])
    # the input gradient uses PyTorch's clamp of x(1 - x) at 1e-12; targets are held fixed
    # (at x = 0 or 1 PyTorch's target gradient is infinite, ours is that of the clamped loss)
    for reduction in ("none", "sum"):
        opcheck(
            lambda p, t, r=reduction: F.binary_cross_entropy(p, t, reduction=r),
            lambda p, t, r=reduction: TF.binary_cross_entropy(p, t, reduction=r),
            [p, t],
            wrt=[0],
            gradcheck=False,
            double=False,
            float32=False,
        )
    y = F.binary_cross_entropy(sg.tensor(p), sg.tensor(t), reduction="none")
    assert np.all(np.isfinite(y.numpy())) and y.numpy().max() == 100.0


def test_binary_cross_entropy_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got values in \[-0.5, 2\]"):
        F.binary_cross_entropy(sg.tensor(np.array([-0.5, 2.0])), sg.tensor(np.array([0.0, 1.0])))


@SETTINGS
@given(shape=shapes, seed=seeds, reduction=reductions)
def test_binary_cross_entropy_with_logits(opcheck, shape, seed, reduction):
    rng = rng_of(seed)
    x, t = rng.standard_normal(shape) * 3, rng.uniform(0, 1, shape)
    opcheck(
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        [x, t],
    )


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_binary_cross_entropy_with_logits_is_exact_at_large_logits(opcheck, reduction):
    x = np.array([-1000.0, -100.0, -100.0, -40.0, 40.0, 100.0, 100.0, 1000.0])
    t = np.array([1.0, 1.0, 0.0, 0.3, 1.0, 0.0, 1.0, 0.0])
    opcheck(
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        [x, t],
        gradcheck=False,
    )
    for dtype in (np.float32, np.float64):
        xt = sg.tensor(x.astype(dtype), requires_grad=True)
        y = F.binary_cross_entropy_with_logits(xt, sg.tensor(t.astype(dtype)), reduction="none")
        (g,) = sg.grad(y.sum(), [xt])
        assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(g.numpy()))
        assert y.numpy()[1] == pytest.approx(100.0) and y.numpy()[2] == pytest.approx(
            0.0, abs=1e-30
        )


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@SETTINGS
@given(shape=shapes, seed=seeds, reduction=reductions)
def test_regression_losses(opcheck, name, shape, seed, reduction):
    rng = rng_of(seed)
    x = rng.standard_normal(shape)
    t = x + rng.choice([-1.0, 1.0], shape) * rng.uniform(
        0.05, 1.0, shape
    )  # |x - t| >= 0.05: l1 is smooth
    fn, tfn = getattr(F, name), getattr(TF, name)
    opcheck(
        lambda x, t: fn(x, t, reduction=reduction),
        lambda x, t: tfn(x, t, reduction=reduction),
        [x, t],
    )
    opcheck(lambda x, t: fn(x, t), lambda x, t: tfn(x, t), [x, t], gradcheck=False, float32=False)


def test_l1_loss_gradient_where_equal_is_zero_like_torch(opcheck):
    x, t = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])
    opcheck(F.l1_loss, TF.l1_loss, [x, t], gradcheck=False)


def test_target_as_array(opcheck):
    t = np.array([[0.5, -1.0]])
    opcheck(
        lambda x: F.mse_loss(x, t),
        lambda x: TF.mse_loss(x, torch.tensor(t)),
        [np.array([[1.0, 2.0]])],
        float32=False,
    )


# ----- class-index losses


@st.composite
def classification(draw):
    """(input shape (N, C, d...) or (C,), target shape)."""
    if draw(st.integers(0, 5)) == 0:
        c = draw(st.integers(1, 5))
        return (c,), ()
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    extra = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    return (n, c) + extra, (n,) + extra


def class_targets(rng, in_shape, t_shape, ignore=False):
    c = in_shape[1] if len(in_shape) >= 2 else in_shape[0]
    t = rng.integers(0, c, t_shape)
    if ignore:
        t = np.where(rng.random(t_shape) < 0.3, -100, t)
        t.reshape(-1)[:1] = 0  # at least one kept entry, so 'mean' is defined
    return t


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@SETTINGS
@given(arg=classification(), seed=seeds, reduction=reductions, ignore=st.booleans())
def test_class_index_losses(opcheck, name, arg, seed, reduction, ignore):
    in_shape, t_shape = arg
    rng = rng_of(seed)
    t = class_targets(rng, in_shape, t_shape, ignore)
    fn, tfn = getattr(F, name), getattr(TF, name)
    x = rng.standard_normal(in_shape) * 2
    opcheck(
        lambda x: fn(x, t, reduction=reduction),
        lambda x: tfn(x, torch.tensor(t), reduction=reduction),
        [x],
    )
    opcheck(
        lambda x: fn(x, sg.tensor(t)),
        lambda x: tfn(x, torch.tensor(t)),
        [x],
        gradcheck=False,
        float32=False,
    )


def test_nll_of_log_softmax_is_cross_entropy():
    x = sg.randn(5, 3, dtype="float64", generator=sg.Generator(0))
    t = np.array([0, 2, 1, 1, 0])
    a = F.nll_loss(F.log_softmax(x, 1), t).item()
    b = F.cross_entropy(x, t).item()
    ref = -np.mean(
        np.log(np.exp(x.numpy()) / np.exp(x.numpy()).sum(1, keepdims=True))[np.arange(5), t]
    )
    assert a == pytest.approx(ref, rel=1e-12) and b == pytest.approx(ref, rel=1e-12)


def test_cross_entropy_is_stable_at_huge_logits(opcheck):
    x = np.array([[1000.0, -1000.0, 0.0], [-800.0, 800.0, 799.0]])
    opcheck(
        lambda x: F.cross_entropy(x, np.array([1, 2])),
        lambda x: TF.cross_entropy(x, torch.tensor([1, 2])),
        [x],
        gradcheck=False,
    )


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_index_errors(name):
    fn = getattr(F, name)
    x = sg.zeros(3, 4)
    with pytest.raises(TypeError, match="integer class indices, got dtype float"):
        fn(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target must have shape \(3,\).*got \(2,\)"):
        fn(x, np.array([0, 1]))
    with pytest.raises(IndexError, match=r"target holds 4, outside the 4 classes"):
        fn(x, np.array([0, 4, 1]))
    with pytest.raises(IndexError, match=r"target holds -1"):
        fn(x, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(x, np.array([0, 1, 1]), reduction="avg")


# ----- gaussian_kl


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds, reduction=reductions)
def test_gaussian_kl(opcheck, shape, seed, reduction):
    rng = rng_of(seed)
    mu, logvar = rng.standard_normal(shape), rng.standard_normal(shape)

    def reference(mu, logvar):
        q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
        p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        kl = torch.distributions.kl_divergence(q, p).sum(-1)
        return {"mean": kl.mean(), "sum": kl.sum(), "none": kl}[reduction]

    opcheck(
        lambda mu, logvar: F.gaussian_kl(mu, logvar, reduction=reduction),
        reference,
        [mu, logvar],
        f64={"rtol": 1e-7, "atol": 1e-10},
    )


def test_gaussian_kl_default_is_mean_over_the_batch_of_per_sample_sums():
    mu = np.array([[0.0, 1.0], [2.0, 0.0]])
    logvar = np.array([[0.0, 0.0], [0.0, np.log(2.0)]])
    # by hand: 0.5 * sum(mu^2 + var - 1 - logvar) per row: 0.5, 2 + 0.5 (1 - log 2)
    expected = (0.5 + 2.0 + 0.5 * (1 - np.log(2.0))) / 2
    assert F.gaussian_kl(sg.tensor(mu), sg.tensor(logvar)).item() == pytest.approx(
        expected, rel=1e-12
    )


# ----- argument checks shared by the elementwise losses

ELEMENTWISE = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "mse_loss",
    "l1_loss",
    "gaussian_kl",
]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_shapes_must_match_exactly(name):
    with pytest.raises(ValueError, match=r"shape \(4, 1\) but .* shape \(4,\)"):
        getattr(F, name)(sg.full((4, 1), 0.5), sg.full((4,), 0.5))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_target_dtype_must_match(name):
    with pytest.raises(TypeError, match=r"dtype float64 but .* float32"):
        getattr(F, name)(sg.full((2, 3), 0.5), sg.full((2, 3), 0.5, dtype="float64"))
    with pytest.raises(TypeError, match=r"dtype int64"):
        getattr(F, name)(sg.full((2, 3), 0.5), np.zeros((2, 3), dtype=np.int64))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_reduction_must_be_known(name):
    with pytest.raises(
        ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"
    ):
        getattr(F, name)(sg.full((2,), 0.5), sg.full((2,), 0.5), reduction="avg")


def test_input_must_be_a_tensor():
    with pytest.raises(TypeError, match="input must be a Tensor, got ndarray"):
        F.mse_loss(np.zeros(2), sg.zeros(2))
