"""Precision/recall on k-NN manifolds against a brute-force reference; mode coverage on crafted
predictions."""

import importlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchgan.metrics import mode_coverage, precision_recall

pr_module = importlib.import_module(
    "scratchgan.metrics.precision_recall"
)  # the package name is the function


def brute_force_pr(real, fake, k):
    """Kynkaanniemi et al.: radius = distance to the k-th nearest other sample; in = within some
    radius."""

    def manifold(centres, points):
        d_cc = np.sqrt(((centres[:, None] - centres[None]) ** 2).sum(-1))
        radii = np.sort(d_cc, axis=1)[:, k]  # column 0 is the sample itself
        d_pc = np.sqrt(((points[:, None] - centres[None]) ** 2).sum(-1))
        return (d_pc <= radii[None] * (1 + 1e-12)).any(axis=1).mean()

    return manifold(real, fake), manifold(fake, real)


@settings(max_examples=20, deadline=None)
@given(
    m=st.integers(5, 40),
    n=st.integers(5, 40),
    d=st.integers(1, 6),
    shift=st.floats(0, 3),
    k=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_matches_brute_force(m, n, d, shift, k, seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.standard_normal((m, d)), rng.standard_normal((n, d)) * 0.7 + shift
    precision, recall = precision_recall(real, fake, k=k)
    ref_p, ref_r = brute_force_pr(real, fake, k)
    assert precision == pytest.approx(ref_p) and recall == pytest.approx(ref_r)


def test_blocks_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((50, 4)), rng.standard_normal((37, 4)) + 0.5
    whole = precision_recall(real, fake)
    monkeypatch.setattr(pr_module, "BLOCK", 7)
    assert precision_recall(real, fake) == whole


def test_identical_sets_give_one_and_far_disjoint_sets_give_zero():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 16))
    assert precision_recall(x, x) == (1.0, 1.0)
    assert precision_recall(x, x + 100.0) == (0.0, 0.0)


def test_mode_collapse_keeps_precision_and_loses_recall():
    rng = np.random.default_rng(2)
    real = np.concatenate([rng.standard_normal((200, 8)) + 6 * np.eye(8)[c] for c in range(4)])
    collapsed = rng.standard_normal((200, 8)) * 0.5 + 6 * np.eye(8)[0]
    precision, recall = precision_recall(real, collapsed)
    assert precision > 0.9 and recall < 0.35


def test_pr_errors():
    with pytest.raises(ValueError, match="neighbour number k=3"):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)), k=3)
    with pytest.raises(ValueError, match="k must be"):
        precision_recall(np.zeros((10, 2)), np.zeros((10, 2)), k=0)


def test_coverage_on_crafted_predictions():
    half_half = np.array([0] * 50 + [1] * 50)
    cov = mode_coverage(half_half, num_classes=10)
    assert cov.covered == 2 and cov.num_classes == 10
    assert cov.histogram == (0.5, 0.5) + (0.0,) * 8
    assert cov.kl == pytest.approx(math.log(5))  # sum 0.5 log(10 * 0.5) twice
    uniform = mode_coverage(np.arange(1000) % 10, num_classes=10)
    assert uniform.covered == 10 and uniform.kl == pytest.approx(0.0, abs=1e-12)
    one = mode_coverage(np.full(30, 7), num_classes=10)
    assert one.covered == 1 and one.kl == pytest.approx(math.log(10))


def test_coverage_threshold_and_probabilities():
    # 995 samples of class 0 and 5 of class 1: class 1 gets 0.5% < 1% (a tenth of a uniform share)
    preds = np.array([0] * 995 + [1] * 5)
    assert mode_coverage(preds, num_classes=10).covered == 1
    assert mode_coverage(preds, num_classes=10, min_fraction=0.001).covered == 2
    assert mode_coverage(preds, num_classes=10, min_fraction=0).covered == 2
    probs = np.full((4, 3), 0.1)
    probs[np.arange(4), [0, 2, 2, 2]] = 0.8
    cov = mode_coverage(probs)
    assert cov.histogram == (0.25, 0.0, 0.75) and cov.covered == 2 and cov.num_classes == 3


def test_coverage_errors():
    with pytest.raises(ValueError, match="num_classes"):
        mode_coverage(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        mode_coverage(np.array([0, 5]), num_classes=3)
    with pytest.raises(ValueError, match="no classifier"):
        mode_coverage(np.zeros((4, 28, 28), np.uint8))
