"""FID: zero on identical sets, the closed form for known Gaussians, scipy's sqrtm, symmetry, rank
deficiency."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchgan.metrics import fid, frechet_distance
from scratchgan.metrics.fid import psd_sqrt


def random_spd(rng, d, rank=None):
    A = rng.standard_normal((d, rank or d))
    return A @ A.T / d + (0 if rank else 0.1 * np.eye(d))


def features_with_stats(rng, mu, S, n):
    """n samples whose sample mean is exactly mu and sample covariance (ddof 1) exactly S."""
    Z = rng.standard_normal((n, len(mu)))
    Z -= Z.mean(axis=0)
    L_z = np.linalg.cholesky(Z.T @ Z / (n - 1))
    Z = np.linalg.solve(L_z, Z.T).T  # now Z^T Z / (n - 1) = I
    return mu + Z @ np.linalg.cholesky(S).T


def test_zero_for_identical_features():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 32)) * rng.uniform(0.1, 3, 32) + 5
    assert fid(x, x) == pytest.approx(0.0, abs=1e-9 * np.trace(np.cov(x, rowvar=False)))


@settings(max_examples=20, deadline=None)
@given(d=st.integers(1, 12), seed=st.integers(0, 2**16), rotate=st.booleans())
def test_closed_form_for_commuting_covariances(d, seed, rotate):
    # S1 = Q diag(a) Q^T, S2 = Q diag(b) Q^T commute: FID = |mu1 - mu2|^2 + sum (sqrt a - sqrt b)^2
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    a, b = rng.uniform(0.01, 4, d), rng.uniform(0.01, 4, d)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0] if rotate else np.eye(d)
    S1, S2 = (Q * a) @ Q.T, (Q * b) @ Q.T
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, S1, mu2, S2) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_fid_of_synthetic_features_equals_closed_form():
    # features whose sample statistics are exactly those of two known Gaussians
    rng = np.random.default_rng(1)
    d = 6
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d) + 1
    a, b = rng.uniform(0.2, 3, d), rng.uniform(0.2, 3, d)
    x = features_with_stats(rng, mu1, np.diag(a), 400)
    y = features_with_stats(rng, mu2, np.diag(b), 300)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert fid(x, y) == pytest.approx(expected, rel=1e-6)


@settings(max_examples=15, deadline=None)
@given(d=st.integers(2, 16), seed=st.integers(0, 2**16))
def test_non_commuting_case_matches_scipy_sqrtm(d, seed):
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    S1, S2 = random_spd(rng, d), random_spd(rng, d)
    expected = (
        ((mu1 - mu2) ** 2).sum()
        + np.trace(S1)
        + np.trace(S2)
        - 2 * np.trace(linalg.sqrtm(S1 @ S2)).real
    )
    assert frechet_distance(mu1, S1, mu2, S2) == pytest.approx(expected, rel=1e-6, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(d=st.integers(2, 16), seed=st.integers(0, 2**16))
def test_symmetric(d, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    S1, S2 = random_spd(rng, d), random_spd(rng, d, rank=max(1, d // 2))
    assert frechet_distance(mu1, S1, mu2, S2) == pytest.approx(
        frechet_distance(mu2, S2, mu1, S1), rel=1e-9, abs=1e-12
    )
    x, y = rng.standard_normal((50, d)), rng.standard_normal((70, d)) * 2
    assert fid(x, y) == pytest.approx(fid(y, x), rel=1e-9)


def test_rank_deficient_covariances_fewer_samples_than_dimensions():
    rng = np.random.default_rng(2)
    d = 64
    x = np.maximum(
        rng.standard_normal((20, d)), 0
    )  # 20 samples: rank <= 19; ReLU-like, with dead features
    x[:, :10] = 0
    y = np.maximum(rng.standard_normal((15, d)) + 0.3, 0)
    value = fid(x, y)
    assert np.isfinite(value) and value >= 0
    # an independent route: tr sqrt(S1 S2) = sum of sqrt of the (real, non-negative) eigenvalues of
    # S1 S2
    S1, S2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    ev = np.clip(np.linalg.eigvals(S1 @ S2).real, 0, None)
    expected = (
        ((x.mean(0) - y.mean(0)) ** 2).sum() + np.trace(S1) + np.trace(S2) - 2 * np.sqrt(ev).sum()
    )
    assert value == pytest.approx(expected, rel=1e-6)
    # stable: identical rank-deficient sets give ~0, and a 1e-10 perturbation moves FID by ~nothing
    assert fid(x, x) == pytest.approx(0.0, abs=1e-8 * np.trace(S1))
    assert fid(x + 1e-10 * rng.standard_normal(x.shape), y) == pytest.approx(value, rel=1e-6)


def test_psd_sqrt_squares_back_and_ignores_rounding_negatives():
    rng = np.random.default_rng(3)
    S = random_spd(rng, 8, rank=3)
    R = psd_sqrt(S)
    np.testing.assert_allclose(R @ R, S, atol=1e-12)
    assert np.isfinite(psd_sqrt(S - 1e-14 * np.eye(8))).all()


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="feature dimensions"):
        fid(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="no classifier"):
        fid(np.zeros((5, 28, 28), np.uint8), np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="NaN"):
        fid(np.full((5, 3), np.nan), np.zeros((5, 3)))
