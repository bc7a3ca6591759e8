"""Float32 rounding of the normalisation sums (issue 18): channels-last rows are summed in blocks
with float64 partials, so the batch statistics round about as little as torch's."""

import numpy as np
import pytest

from scratchgan.ops import norm_stats

torch = pytest.importorskip("torch")

EPS32 = float(np.finfo(np.float32).eps)


def channels_last(shape, seed):
    """A float32 (N, C, H, W) view of NHWC memory (what the convolutions hand out), values
    ~ N(3, 2^2) like a post-activation feature map with a non-zero mean."""
    n, c, h, w = shape
    x = np.random.default_rng(seed).standard_normal((n, h, w, c)) * 2 + 3
    return x.astype(np.float32).transpose(0, 3, 1, 2)


def rel_err(got, ref):
    return float(np.abs(np.asarray(got, np.float64) - ref).max() / np.abs(ref).max())


@pytest.mark.parametrize("shape", [(64, 128, 16, 16), (128, 64, 14, 14), (64, 64, 32, 32)])
def test_batch_stats_round_like_torch(shape):
    """mean and var of BatchNorm2d's batch statistics against float64, within 4x torch's error.

    torch is given the same values in its default (contiguous NCHW) layout, which its models use;
    on channels_last memory torch's CPU kernel adds rows one after another as our old code did.
    """
    x = channels_last(shape, seed=sum(shape))
    n, c, h, w = shape
    m = n * h * w
    x64 = x.astype(np.float64)
    mean64, var64 = x64.mean(axis=(0, 2, 3)), x64.var(axis=(0, 2, 3))

    bn = torch.nn.BatchNorm2d(c, momentum=1.0)  # momentum 1: the running stats are the batch's
    with torch.no_grad():
        bn(torch.from_numpy(np.ascontiguousarray(x)))
    torch_mean = bn.running_mean.double().numpy()
    torch_var = bn.running_var.double().numpy() * (m - 1) / m  # unbiased -> biased

    a = x.reshape(n, c, h * w)
    assert a.transpose(0, 2, 1).flags.c_contiguous  # the channels-last path
    stats = norm_stats._Stats(a, True, 1e-5)
    assert stats.mean.dtype == stats.var.dtype == np.float32
    for ours, theirs, ref in ((stats.mean, torch_mean, mean64), (stats.var, torch_var, var64)):
        limit = 4 * max(rel_err(theirs, ref), EPS32 / 2)
        assert rel_err(ours.ravel(), ref) <= limit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_group_sums_round_like_a_pairwise_sum(dtype):
    """Every reduction of norm_stats on a channels-last and a contiguous (A, B, L) input of 16384
    rows per group, against long double sums: rounding ~ a few eps of the dtype, not rows x eps."""
    x = channels_last((64, 32, 16, 16), seed=1).astype(dtype)
    g = channels_last((64, 32, 16, 16), seed=2).astype(dtype)
    tol = 8 * float(np.finfo(dtype).eps)
    for a, b in ((x, g), (np.ascontiguousarray(x), np.ascontiguousarray(g))):
        a, b = a.reshape(64, 32, 256), b.reshape(64, 32, 256)
        al, bl = a.astype(np.longdouble), b.astype(np.longdouble)
        cases = [
            (norm_stats._stat_sum(a, True), al.sum(axis=(0, 2), keepdims=True)),
            (norm_stats._stat_sum(a, False), al.sum(axis=2, keepdims=True)),
            (norm_stats._stat_dot(a, b, True), (al * bl).sum(axis=(0, 2), keepdims=True)),
            (norm_stats._stat_dot(a, b, False), (al * bl).sum(axis=2, keepdims=True)),
            (norm_stats._column_sum(a), al.sum(axis=(0, 1), keepdims=True)),
            (norm_stats._column_dot(a, b), (al * bl).sum(axis=(0, 1), keepdims=True)),
        ]
        for i, (got, ref) in enumerate(cases):
            assert got.dtype == dtype and got.shape == ref.shape, i
            err = float(np.abs(got - ref).max() / np.abs(ref).max())
            assert err <= tol, (i, err)


@pytest.mark.cuda_emulated
def test_group_sums_run_on_cupy(_emulated_cuda_device):
    """The blocked sums on CuPy arrays (the stand-in): same dtype, shape and values as NumPy's."""
    cp = _emulated_cuda_device
    x = channels_last((4, 8, 10, 10), seed=3).reshape(4, 8, 100)
    d = cp.asarray(np.ascontiguousarray(x.transpose(0, 2, 1))).transpose(0, 2, 1)
    for fn in (norm_stats._stat_sum, lambda a, batch: norm_stats._stat_dot(a, a, batch)):
        for batch in (True, False):
            got = fn(d, batch)
            assert isinstance(got, cp.ndarray) and got.dtype == np.float32
            np.testing.assert_allclose(cp.asnumpy(got), fn(x, batch), rtol=1e-6)
    for fn in (norm_stats._column_sum, lambda a: norm_stats._column_dot(a, a)):
        np.testing.assert_allclose(cp.asnumpy(fn(d)), fn(x), rtol=1e-6)
