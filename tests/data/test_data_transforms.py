"""to_float / to_tanh_range."""

import numpy as np
import pytest

from scratchgan.data import to_float, to_tanh_range


def test_to_float_grayscale_gets_channel_axis():
    images = np.array([[[0, 51], [255, 102]]], dtype=np.uint8)
    out = to_float(images)
    assert out.dtype == np.float32 and out.shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(out[0, 0], np.array([[0, 0.2], [1, 0.4]], np.float32))


def test_to_float_colour_keeps_shape():
    images = np.full((2, 3, 4, 5), 255, np.uint8)
    assert to_float(images).shape == (2, 3, 4, 5) and (to_float(images) == 1).all()


def test_to_tanh_range():
    out = to_tanh_range(np.array([[[0, 255]]], np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([[[[-1, 1]]]], np.float32))


@pytest.mark.parametrize("bad", [np.zeros((2, 3), np.uint8), np.zeros((1, 2, 2), np.float32)])
def test_rejects_non_images(bad):
    with pytest.raises(ValueError, match="uint8"):
        to_float(bad)
