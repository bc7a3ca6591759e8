"""Latent paths (slerp, lerp), latent arithmetic, GAN inpainting (Yeh et al.) and its baselines,
each against formulas written out here or naive loops."""

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import train
from scratchgan.models import inpaint, latent


def build(model="dcgan", **kw):
    config = train.make_config(model, batch_size=4, **kw)
    config.setdefault("image_shape", [1, 28, 28])
    m = train.build_model(config)
    m.train(False)
    return m


def blobs(n, seed=0, size=28):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    c = rng.uniform(8, 20, (n, 2, 1, 1))
    return (255 * np.exp(-((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) / 20.0)).astype(np.uint8)


# ----- paths
def test_slerp_against_its_formula():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    t = np.array([0.0, 0.3, 1.0])[:, None, None]
    got = latent.slerp(a[None], b[None], t)
    for i in range(5):
        w = np.arccos(a[i] @ b[i] / np.linalg.norm(a[i]) / np.linalg.norm(b[i]))
        for j, tj in enumerate((0.0, 0.3, 1.0)):
            expected = np.sin((1 - tj) * w) / np.sin(w) * a[i] + np.sin(tj * w) / np.sin(w) * b[i]
            np.testing.assert_allclose(got[j, i], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[0], a, atol=1e-12)
    np.testing.assert_allclose(got[2], b, atol=1e-12)


def test_slerp_keeps_the_norm_and_falls_back_to_a_line():
    a = np.array([[3.0, 0.0]])
    b = np.array([[0.0, 3.0]])
    path = latent.interpolate_codes(a, b, 9, "slerp")[0]
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0, rtol=1e-6)  # on the circle
    line = latent.interpolate_codes(a, b, 9, "lerp")[0]
    np.testing.assert_allclose(line[4], [1.5, 1.5], rtol=1e-6)  # through the chord's midpoint
    assert np.linalg.norm(line[4]) < 3.0 - 0.5
    parallel = latent.slerp(np.array([1.0, 1.0]), np.array([2.0, 2.0]), np.array([0.5]))
    np.testing.assert_allclose(parallel, [1.5, 1.5])  # sin(w) = 0: the straight line
    with pytest.raises(ValueError, match="path 'circle'"):
        latent.interpolate_codes(a, b, 3, "circle")
    with pytest.raises(ValueError, match="steps"):
        latent.interpolate_codes(a, b, 1)


@pytest.mark.parametrize("path", ["slerp", "lerp"])
def test_gan_interpolate_ends_at_the_sampled_codes(path):
    m = build()
    strips = m.interpolate(None, rows=2, steps=5, generator=sg.Generator(3), path=path)
    assert strips.shape == (2, 5, 1, 28, 28) and 0 <= strips.min() and strips.max() <= 1
    g = sg.Generator(3)
    a, b = m.noise(2, g).numpy(), m.noise(2, g).numpy()
    np.testing.assert_allclose(strips[:, 0], m.decode(a), atol=1e-6)
    np.testing.assert_allclose(strips[:, -1], m.decode(b), atol=1e-6)


def test_cgan_interpolates_within_one_class():
    m = build("cgan")
    strips = m.interpolate(None, rows=2, steps=3, generator=sg.Generator(0))
    assert strips.shape == (2, 3, 1, 28, 28)


# ----- arithmetic
class BrightnessClassifier:
    """A stand-in for the metrics classifier: class = how bright the image is, in 3 bins, sure of
    itself."""

    def __call__(self, images):
        m = np.asarray(images).reshape(len(images), -1).mean(1)
        k = np.digitize(m, np.quantile(m, [1 / 3, 2 / 3]))
        return np.eye(3)[k]


def test_class_codes_and_concepts():
    m = build()
    codes, rate = latent.class_codes(m, BrightnessClassifier(), sg.Generator(0), n=60, chunk=25)
    assert rate == 1.0 and sorted(codes) == [0, 1, 2] and sum(len(c) for c in codes.values()) == 60
    brightness = {k: m.decode(c).mean() for k, c in codes.items()}
    assert brightness[0] < brightness[1] < brightness[2]
    exemplars, mean = latent.concept(codes[1], 3, sg.Generator(1))
    assert exemplars.shape == (3, 100) and np.allclose(mean, exemplars.mean(0))
    assert all(any(np.array_equal(e, c) for c in codes[1]) for e in exemplars)
    with pytest.raises(ValueError, match="needs 500 exemplar"):
        latent.concept(codes[1], 500, sg.Generator(1))


def test_arithmetic_decodes_a_minus_b_plus_c():
    m = build()
    out = latent.arithmetic(
        m, BrightnessClassifier(), 2, 0, 1, sg.Generator(2), k=3, n=60, results=4
    )
    assert out["a"].shape == out["b"].shape == out["c"].shape == (3, 1, 28, 28)
    assert out["means"].shape == (3, 1, 28, 28) and out["result"].shape == (4, 1, 28, 28)
    assert out["result_probs"].shape == (4, 3)
    with pytest.raises(ValueError, match="class 7"):
        latent.arithmetic(m, BrightnessClassifier(), 7, 0, 1, sg.Generator(2), n=30)


def test_arithmetic_result_is_g_of_the_combined_means():
    """With no jitter the first result is G(mean_a - mean_b + mean_c) for the exemplars it
    reports."""
    m = build()
    g = sg.Generator(5)
    out = latent.arithmetic(m, BrightnessClassifier(), 2, 0, 1, g, k=2, n=60, results=1, spread=0.0)
    g = sg.Generator(5)
    codes, _ = latent.class_codes(m, BrightnessClassifier(), g, n=60)
    means = [latent.concept(codes[k], 2, g)[1] for k in (2, 0, 1)]
    np.testing.assert_allclose(
        out["result"][0],
        m.decode((means[0] - means[1] + means[2])[None].astype(np.float32))[0],
        atol=1e-6,
    )


# ----- inpainting pieces
def test_masks():
    c = inpaint.center_mask(6, 8, 2)
    assert (~c).sum() == 4 and not c[2:4, 3:5].any()
    b = inpaint.bottom_half_mask(4, 3)
    assert b[:2].all() and not b[2:].any()


def test_importance_weights_against_a_loop():
    mask = inpaint.center_mask(9, 9, 3)
    w = inpaint.importance_weights(mask, window=3)
    expected = np.zeros((9, 9))
    for i in range(9):
        for j in range(9):
            if mask[i, j]:
                window = [(y, x) for y in range(i - 1, i + 2) for x in range(j - 1, j + 2)]
                expected[i, j] = (
                    sum(1 for y, x in window if 0 <= y < 9 and 0 <= x < 9 and not mask[y, x]) / 9
                )
    np.testing.assert_allclose(w, expected)
    assert w[0, 0] == 0 and w[2, 2] == pytest.approx(1 / 9) and w[4, 4] == 0


def test_poisson_blend():
    rng = np.random.default_rng(0)
    mask = inpaint.center_mask(12, 12, 6)
    known = rng.random((2, 1, 12, 12))
    out = inpaint.poisson_blend(known, known, mask, iterations=50)
    np.testing.assert_allclose(
        out, known, atol=1e-12
    )  # the source agrees with the known pixels: nothing to change
    shifted = (
        known + 0.3
    )  # the same texture, brighter: the blend keeps the texture and matches the border
    out = inpaint.poisson_blend(known, shifted, mask, iterations=2000)
    np.testing.assert_array_equal(out[..., mask], known[..., mask])
    np.testing.assert_allclose(out, known, atol=1e-4)
    lap = inpaint._laplacian(out)
    np.testing.assert_allclose(lap[..., ~mask], inpaint._laplacian(shifted)[..., ~mask], atol=1e-4)


def test_baselines_against_loops():
    rng = np.random.default_rng(1)
    train_images = rng.integers(0, 256, (50, 8, 8), dtype=np.uint8)
    test = rng.integers(0, 256, (4, 8, 8), dtype=np.uint8)
    mask = inpaint.bottom_half_mask(8, 8)
    mean = inpaint.mean_fill(train_images, test, mask)
    assert mean.shape == (4, 1, 8, 8)
    np.testing.assert_allclose(
        mean[:, 0, 4:], np.broadcast_to(train_images[:, 4:].mean(0) / 255, (4, 4, 8)), rtol=1e-5
    )
    np.testing.assert_allclose(mean[:, 0, :4], test[:, :4] / 255, rtol=1e-6)
    nn_fill = inpaint.nearest_neighbour_fill(train_images, test, mask, chunk=7)
    for i in range(4):
        d = [((train_images[j, :4] / 255 - test[i, :4] / 255) ** 2).sum() for j in range(50)]
        j = int(np.argmin(d))
        np.testing.assert_allclose(nn_fill[i, 0, 4:], train_images[j, 4:] / 255, rtol=1e-6)
    err = inpaint.masked_error(mean, test, mask)
    diff = mean[:, 0, 4:] - test[:, 4:] / 255
    assert err["l1"] == pytest.approx(np.abs(diff).mean(), rel=1e-6)
    assert err["mse"] == pytest.approx((diff**2).mean(), rel=1e-6)
    assert inpaint.masked_error(test[:, None] / 255.0, test, mask)["l1"] < 1e-7
    with pytest.raises(ValueError, match="filled images have shape"):
        inpaint.masked_error(test / 255.0, test, mask)


# ----- the search itself
def test_inpaint_keeps_known_pixels_and_fits_them():
    m = build()
    x = blobs(3)
    mask = inpaint.center_mask(28, 28, 12)
    filled, codes = inpaint.inpaint(
        m, x, mask, sg.Generator(0), iterations=15, lr=0.05, restarts=2, return_codes=True
    )
    known = sg.data.to_float(x)
    assert filled.shape == (3, 1, 28, 28) and codes.shape == (3, 1, 100)
    codes = codes[:, 0]
    np.testing.assert_array_equal(filled[..., mask], known[..., mask])
    np.testing.assert_allclose(filled[..., ~mask], m.decode(codes)[..., ~mask], atol=1e-6)
    start = inpaint.inpaint(
        m, x, mask, sg.Generator(0), iterations=0, restarts=1, return_codes=True
    )[1][:, 0]

    def context(z):
        return (np.abs(m.decode(z) - known) * mask).sum()

    assert context(codes) < context(start)  # the search fits the known pixels better than its start
    blended = inpaint.inpaint(
        m, x, mask, sg.Generator(0), iterations=2, blend="poisson", weighting="importance"
    )
    np.testing.assert_array_equal(blended[..., mask], known[..., mask])
    with pytest.raises(ValueError, match="blend"):
        inpaint.inpaint(m, x, mask, sg.Generator(0), blend="median")


def test_restarts_keep_the_best_start():
    """With no search steps, the code kept for each image is the best of its restarts on the known
    pixels."""
    m = build()
    x = blobs(2)
    mask = inpaint.bottom_half_mask(28, 28)
    _, best = inpaint.inpaint(
        m, x, mask, sg.Generator(4), iterations=0, restarts=4, return_codes=True
    )
    starts = (
        m.noise(8, sg.Generator(4)).numpy().reshape(2, 4, -1)
    )  # the same draws: image i gets rows 4i..4i+3
    known = sg.data.to_float(x)
    for i in range(2):
        errors = [(np.abs(m.decode(z[None]) - known[i]) * mask).sum() for z in starts[i]]
        np.testing.assert_array_equal(best[i, 0], starts[i][int(np.argmin(errors))])


def test_average_fills_from_the_mean_of_the_best_restarts():
    m = build()
    x = blobs(2)
    mask = inpaint.center_mask(28, 28, 10)
    filled = inpaint.inpaint(m, x, mask, sg.Generator(6), iterations=0, restarts=3, average=2)
    starts = m.noise(6, sg.Generator(6)).numpy().reshape(2, 3, -1)
    known = sg.data.to_float(x)
    for i in range(2):
        errors = [(np.abs(m.decode(z[None]) - known[i]) * mask).sum() for z in starts[i]]
        two_best = starts[i][np.argsort(errors)[:2]]
        np.testing.assert_allclose(
            filled[i][..., ~mask], m.decode(two_best).mean(0)[..., ~mask], atol=1e-6
        )
    with pytest.raises(ValueError, match="average=4"):
        inpaint.inpaint(m, x, mask, sg.Generator(6), restarts=3, average=4)


def test_model_inpaint_command_path():
    m = build("dcgan")
    x = blobs(2)
    mask = inpaint.bottom_half_mask(28, 28)
    out = m.inpaint(x, mask, sg.Generator(0), iterations=3)
    assert out.shape == (2, 1, 28, 28) and 0 <= out.min() and out.max() <= 1
    np.testing.assert_array_equal(out[..., :14, :], sg.data.to_float(x)[..., :14, :])
    with pytest.raises(train.Unsupported, match="cgan does not inpaint"):
        build("cgan").inpaint(x, mask, sg.Generator(0))
