"""scratchgan.viz: every picture is written as a PNG of the expected pixel size and layout."""

import numpy as np
import pytest
from PIL import Image

from scratchgan import viz


def png(path):
    """(height, width) and the RGB pixels (0-255) of a PNG, read with Pillow."""
    image = Image.open(path).convert("RGB")
    return image.size[::-1], np.asarray(image)


def grid_size(n_rows, n_cols, h, w, scale, pad=viz.PAD):
    return ((n_rows * (h + pad) + pad) * scale, (n_cols * (w + pad) + pad) * scale)


@pytest.mark.parametrize("shape", [(10, 5, 7), (10, 1, 5, 7)])
def test_image_grid_size_and_layout(tmp_path, shape):
    images = np.zeros(shape, dtype=np.float32)
    images[3] = 1.0  # image 3 sits in row 0, column 3 of a 4-wide grid
    size, pixels = png(viz.save_image_grid(images, tmp_path / "g.png", ncol=4, scale=3))
    assert size == grid_size(3, 4, 5, 7, 3)
    top, left = viz.PAD * 3, (viz.PAD + 3 * (7 + viz.PAD)) * 3
    assert (pixels[top : top + 15, left : left + 21] == 255).all()  # the white image
    assert (pixels[top : top + 15, top : top + 21] == 0).all()  # image 0, black
    assert (pixels[:top] == 255).all()  # the separator is white


def test_image_grid_default_is_square_and_colour_works(tmp_path):
    size, _ = png(
        viz.save_image_grid(
            np.random.default_rng(0).random((64, 3, 4, 4)), tmp_path / "c.png", scale=1
        )
    )
    assert size == grid_size(8, 8, 4, 4, 1)


def test_value_range_maps_tanh_outputs(tmp_path):
    images = np.full((1, 1, 2, 2), -1.0)
    _, pixels = png(viz.save_image_grid(images, tmp_path / "t.png", scale=1, value_range=(-1, 1)))
    assert (pixels[viz.PAD : viz.PAD + 2, viz.PAD : viz.PAD + 2] == 0).all()


def test_reconstructions_put_inputs_over_outputs(tmp_path):
    inputs, outputs = np.ones((5, 6, 6)), np.zeros((5, 6, 6))
    size, pixels = png(viz.save_reconstructions(inputs, outputs, tmp_path / "r.png", scale=2))
    assert size == grid_size(2, 5, 6, 6, 2)
    p = viz.PAD * 2
    assert (pixels[p : p + 12, p : p + 12] == 255).all()  # row 0: the inputs
    q = (2 * viz.PAD + 6) * 2
    assert (pixels[q : q + 12, p : p + 12] == 0).all()  # row 1: the outputs


def test_reconstructions_check_shapes(tmp_path):
    with pytest.raises(ValueError, match="outputs"):
        viz.save_reconstructions(np.ones((5, 6, 6)), np.ones((4, 6, 6)), tmp_path / "r.png")


def test_interpolation_strips(tmp_path):
    strips = np.random.default_rng(1).random((3, 9, 1, 8, 8))
    size, _ = png(viz.save_interpolation(strips, tmp_path / "i.png", scale=1))
    assert size == grid_size(3, 9, 8, 8, 1)
    with pytest.raises(ValueError, match="strips"):
        viz.save_interpolation(np.ones((3, 8, 8)), tmp_path / "bad.png")


def test_latent_grid_codes_and_picture(tmp_path):
    codes = viz.latent_grid_codes(n=5, limit=2.0)
    assert codes.shape == (25, 2) and codes.dtype == np.float32
    np.testing.assert_array_equal(codes[0], [-2, 2])  # top left: smallest z1, largest z2
    np.testing.assert_array_equal(codes[-1], [2, -2])
    seen = []

    def decode(z):
        seen.append(z)
        return np.broadcast_to((z[:, 0] > 0)[:, None, None], (len(z), 4, 4)).astype(float)

    size, _ = png(viz.save_latent_grid(decode, tmp_path / "l.png", n=5, scale=1))
    assert size == grid_size(5, 5, 4, 4, 1)
    np.testing.assert_array_equal(seen[0], codes)


def test_loss_curves_exact_size(tmp_path):
    curves = {
        "train bce": ([1, 2, 3], [0.4, 0.3, 0.28]),
        "valid bce": ([1, 2, 3], [0.35, 0.31, 0.29]),
    }
    size, _ = png(viz.save_loss_curves(curves, tmp_path / "loss.png", size=(500, 300), title="t"))
    assert size == (300, 500)


def test_latent_scatter(tmp_path):
    rng = np.random.default_rng(0)
    size, _ = png(
        viz.save_latent_scatter(
            rng.normal(size=(50, 2)),
            rng.integers(0, 10, 50),
            tmp_path / "s.png",
            class_names=[str(i) for i in range(10)],
            size=(400, 400),
        )
    )
    assert size == (400, 400)
    with pytest.raises(ValueError, match="codes"):
        viz.save_latent_scatter(np.ones((5, 3)), np.zeros(5), tmp_path / "bad.png")


def test_bad_image_shapes():
    with pytest.raises(ValueError, match="channels"):
        viz.mosaic(np.ones((2, 2, 4, 4)))
    with pytest.raises(ValueError, match="images"):
        viz.mosaic(np.ones((2, 2, 2, 4, 4)))
