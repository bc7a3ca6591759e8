"""KID (unbiased MMD^2, cubic kernel) and the Inception-style score, against naive references."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchgan.metrics import inception_score, kid
from scratchgan.metrics.kid import mmd2_unbiased


def naive_mmd2(X, Y):
    """The unbiased estimator written out with loops over pairs."""
    d = X.shape[1]

    def k(a, b):
        return (sum(ai * bi for ai, bi in zip(a, b)) / d + 1) ** 3

    m, n = len(X), len(Y)
    xx = sum(k(X[i], X[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(Y[i], Y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(X[i], Y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


@settings(max_examples=15, deadline=None)
@given(m=st.integers(2, 7), n=st.integers(2, 7), d=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_mmd2_matches_the_naive_estimator(m, n, d, seed):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((m, d)), rng.standard_normal((n, d)) + 0.5
    assert mmd2_unbiased(X, Y) == pytest.approx(naive_mmd2(X, Y), rel=1e-10, abs=1e-12)


def test_kid_is_unbiased_near_zero_for_one_distribution_and_can_be_negative():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((1000, 8)), rng.standard_normal((1000, 8))
    result = kid(x, y, n_subsets=30, subset_size=100, seed=1)
    assert abs(result.mean) < 3 * result.std / math.sqrt(30) + 1e-4
    values = [kid(x, y, n_subsets=1, subset_size=100, seed=s).mean for s in range(20)]
    assert min(values) < 0 < max(values)


def test_kid_grows_with_the_shift_and_reports_std_over_subsets():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((600, 8))
    small, large = (
        kid(x, rng.standard_normal((600, 8)) + 0.3, subset_size=100, n_subsets=20),
        kid(x, rng.standard_normal((600, 8)) + 1.0, subset_size=100, n_subsets=20),
    )
    assert 0 < small.mean < large.mean
    assert small.std > 0
    # deterministic given the seed
    assert kid(x, x + 1, seed=3, n_subsets=5, subset_size=50) == kid(
        x, x + 1, seed=3, n_subsets=5, subset_size=50
    )


def test_kid_errors():
    with pytest.raises(ValueError, match="at least 2"):
        kid(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="feature dimensions"):
        kid(np.zeros((5, 3)), np.zeros((5, 4)))


def naive_is(p):
    marginal = p.mean(axis=0)
    kl = [sum(pi * math.log(pi / qi) for pi, qi in zip(row, marginal) if pi > 0) for row in p]
    return math.exp(sum(kl) / len(kl))


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(10, 60),
    c=st.integers(2, 12),
    alpha=st.floats(0.05, 5),
    splits=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_inception_score_bounds_and_naive_reference(n, c, alpha, splits, seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(c, alpha), n)
    result = inception_score(p, splits=splits, shuffle=False)
    parts = [naive_is(part) for part in np.array_split(p, splits)]
    assert result.mean == pytest.approx(np.mean(parts), rel=1e-9)
    assert result.std == pytest.approx(np.std(parts), rel=1e-7, abs=1e-12)
    assert 1 - 1e-12 <= result.mean <= c + 1e-12


def test_inception_score_extremes():
    confident_balanced = np.eye(10)[np.arange(1000) % 10]
    assert inception_score(confident_balanced, splits=1).mean == pytest.approx(10.0)
    assert inception_score(confident_balanced, shuffle=False).mean == pytest.approx(
        10.0
    )  # each split balanced
    assert inception_score(confident_balanced, shuffle=False).std == pytest.approx(0.0, abs=1e-12)
    collapsed = np.tile(np.eye(10)[3], (1000, 1))
    assert inception_score(collapsed).mean == pytest.approx(1.0)
    uncertain = np.full((1000, 10), 0.1)
    assert inception_score(uncertain).mean == pytest.approx(1.0)


def test_inception_score_does_not_depend_on_the_order_of_the_samples():
    # sorted by class, consecutive splits would each see one class (IS 1); the seeded shuffle sees
    # them all
    sorted_by_class = np.eye(10)[np.repeat(np.arange(10), 100)]
    assert inception_score(sorted_by_class, shuffle=False).mean == pytest.approx(1.0)
    score = inception_score(sorted_by_class)
    assert 9 < score.mean <= 10
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(10, 0.3), 500)
    assert inception_score(p, splits=1).mean == pytest.approx(naive_is(p), rel=1e-12)


def test_inception_score_errors():
    with pytest.raises(ValueError, match="summing to 1"):
        inception_score(np.ones((20, 10)))
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.full((5, 2), 0.5), splits=10)
