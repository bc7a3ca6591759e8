"""SWD: the pyramid against scipy's filters, the sliced distance against 1-D Wasserstein, and
sanity."""

import numpy as np
import pytest

from scratchgan.metrics import swd
from scratchgan.metrics.swd import (
    BINOMIAL,
    extract_patches,
    laplacian_pyramid,
    pyr_up,
    sliced_wasserstein,
)


def test_pyramid_levels_match_scipy_and_reconstruct_the_image():
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(0)
    x = rng.random((3, 1, 28, 28))
    kernel = np.outer(BINOMIAL, BINOMIAL)
    g1 = np.stack([ndimage.convolve(img[0], kernel, mode="mirror")[::2, ::2] for img in x])[:, None]
    g2 = np.stack([ndimage.convolve(img[0], kernel, mode="mirror")[::2, ::2] for img in g1])[
        :, None
    ]
    levels = laplacian_pyramid(x)
    assert [lv.shape[-1] for lv in levels] == [28, 14, 7]
    np.testing.assert_allclose(levels[2], g2, atol=1e-12)
    up = np.zeros((3, 1, 14, 14))
    up[:, :, ::2, ::2] = 4 * g2
    expected_band = (
        g1 - np.stack([ndimage.convolve(u[0], kernel, mode="mirror") for u in up])[:, None]
    )
    np.testing.assert_allclose(levels[1], expected_band, atol=1e-12)
    # collapsing the pyramid gives the image back
    rebuilt = levels[2]
    for band in levels[1::-1]:
        rebuilt = band + pyr_up(rebuilt, band.shape[-2:])
    np.testing.assert_allclose(rebuilt, x, atol=1e-12)


def test_sliced_wasserstein_equals_mean_of_1d_wasserstein_distances():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((300, 5)), rng.standard_normal((300, 5)) * 1.5 + 0.2
    value = sliced_wasserstein(A, B, n_directions=40, chunk=16, rng=np.random.default_rng(7))
    dirs_rng, expected = np.random.default_rng(7), []
    for k in (16, 16, 8):
        dirs = dirs_rng.standard_normal((5, k))
        dirs /= np.linalg.norm(dirs, axis=0)
        expected += [stats.wasserstein_distance(A @ d, B @ d) for d in dirs.T]
    assert value == pytest.approx(np.mean(expected), rel=1e-10)


def test_patches_are_the_image_windows():
    rng = np.random.default_rng(2)
    level = rng.random((4, 2, 10, 9))
    patches = extract_patches(level, 3, 7, np.random.default_rng(5))
    rng5 = np.random.default_rng(5)
    ys, xs = rng5.integers(0, 4, (4, 3)), rng5.integers(0, 3, (4, 3))
    for n in range(4):
        for p in range(3):
            np.testing.assert_array_equal(
                patches[n * 3 + p], level[n, :, ys[n, p] : ys[n, p] + 7, xs[n, p] : xs[n, p] + 7]
            )


def test_identical_sets_are_at_zero_and_noise_is_far(make_blobs):
    x, _ = make_blobs(200, seed=3)
    same = swd(x, x.copy(), n_directions=64)
    assert same.levels == (0.0, 0.0, 0.0) and same.mean == 0.0 and same.resolutions == (28, 14, 7)
    other, _ = make_blobs(200, seed=4)
    noise = np.random.default_rng(0).random((200, 28, 28))
    near, far = swd(x, other, n_directions=64), swd(x, noise, n_directions=64)
    assert 0 < near.mean < far.mean
    assert all(n < f for n, f in zip(near.levels, far.levels))
    # uint8 and [0, 1] floats are the same images
    assert near.mean == pytest.approx(
        swd(x / 255.0, other[:, None] / 255.0, n_directions=64).mean, rel=1e-6
    )


def test_swd_errors():
    with pytest.raises(ValueError, match="compares images"):
        swd(np.zeros((5, 16)), np.zeros((5, 16)))
    with pytest.raises(ValueError, match="same size"):
        swd(np.zeros((5, 28, 28)), np.zeros((5, 20, 20)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        swd(np.full((5, 28, 28), 2.0), np.zeros((5, 28, 28)))
