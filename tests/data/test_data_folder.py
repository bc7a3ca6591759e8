"""folder:PATH: flat folders, class subfolders, train/test subfolders,
resizing, grayscale vs RGB."""

import numpy as np
import pytest
from PIL import Image

from scratchgan.data import DatasetNotFoundError, load, load_folder


def _save(path, array, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)
    return array


def _gray(seed, h=8, w=6):
    return np.random.default_rng(seed).integers(0, 256, size=(h, w), dtype=np.uint8)


def _rgb(seed, h=8, w=6):
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_flat_grayscale_folder(tmp_path):
    expected = [_save(tmp_path / f"img{i}.png", _gray(i), "L") for i in range(3)]
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"junk")
    images, labels = load(f"folder:{tmp_path}")
    assert labels is None
    assert images.dtype == np.uint8 and images.shape == (3, 8, 6)
    np.testing.assert_array_equal(images, np.stack(expected))  # PNG is lossless, sorted by name


def test_class_subfolders(tmp_path):
    _save(tmp_path / "zebra" / "a.png", _gray(0), "L")
    _save(tmp_path / "apple" / "b.png", _gray(1), "L")
    _save(tmp_path / "apple" / "a.PNG", _gray(2), "L")
    (tmp_path / "empty").mkdir()
    images, labels = load(f"folder:{tmp_path}")
    assert labels.dtype == np.int64 and labels.tolist() == [
        0,
        0,
        1,
    ]  # apple=0, zebra=1; empty is no class
    np.testing.assert_array_equal(images, np.stack([_gray(2), _gray(1), _gray(0)]))


def test_mixed_modes_become_rgb_and_jpeg_loads(tmp_path):
    gray = _save(tmp_path / "a.png", _gray(0), "L")
    rgb = _save(tmp_path / "b.png", _rgb(1), "RGB")
    _save(tmp_path / "c.jpg", np.full((8, 6, 3), (200, 40, 90), np.uint8), "RGB")
    images, labels = load_folder(tmp_path)
    assert images.shape == (3, 3, 8, 6) and labels is None
    np.testing.assert_array_equal(images[0], np.stack([gray] * 3))
    np.testing.assert_array_equal(images[1], rgb.transpose(2, 0, 1))
    assert (
        np.abs(images[2].astype(int) - np.array([200, 40, 90])[:, None, None]).max() <= 3
    )  # JPEG is lossy


def test_rgba_drops_alpha(tmp_path):
    rgba = np.dstack([_rgb(3), np.zeros((8, 6), np.uint8)])
    _save(tmp_path / "a.png", rgba, "RGBA")
    images, _ = load(f"folder:{tmp_path}")
    np.testing.assert_array_equal(images[0], rgba[..., :3].transpose(2, 0, 1))


def test_resize_to_given_size(tmp_path):
    _save(tmp_path / "a.png", np.full((10, 20), 77, np.uint8), "L")
    _save(tmp_path / "b.png", np.full((4, 4), 200, np.uint8), "L")
    square, _ = load(f"folder:{tmp_path}", size=5)
    assert square.shape == (2, 5, 5)
    rect, _ = load(f"folder:{tmp_path}", size=(3, 7))
    assert rect.shape == (2, 3, 7)
    assert (rect[0] == 77).all() and (
        rect[1] == 200
    ).all()  # resizing a constant image keeps it constant


def test_default_size_common_or_64(tmp_path):
    _save(tmp_path / "same" / "a.png", _gray(0, 12, 9), "L")
    _save(tmp_path / "same" / "b.png", _gray(1, 12, 9), "L")
    assert load_folder(tmp_path / "same")[0].shape == (2, 12, 9)
    _save(tmp_path / "differ" / "a.png", _gray(0, 12, 9), "L")
    _save(tmp_path / "differ" / "b.png", _rgb(1, 5, 5), "RGB")
    assert load_folder(tmp_path / "differ")[0].shape == (2, 3, 64, 64)


def test_resize_matches_pillow(tmp_path):
    source = _rgb(4, 16, 16)
    _save(tmp_path / "a.png", source, "RGB")
    images, _ = load(f"folder:{tmp_path}", size=(8, 4))
    reference = np.asarray(Image.fromarray(source).resize((4, 8), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(images[0], reference.transpose(2, 0, 1))


def test_train_test_subfolders(tmp_path):
    _save(tmp_path / "train" / "cat" / "a.png", _gray(0), "L")
    _save(tmp_path / "train" / "dog" / "a.png", _gray(1), "L")
    _save(tmp_path / "test" / "dog" / "a.png", _gray(2), "L")
    x, y = load(f"folder:{tmp_path}", "train")
    assert x.shape == (2, 8, 6) and y.tolist() == [0, 1]
    x, y = load(f"folder:{tmp_path}", "test")
    np.testing.assert_array_equal(x, _gray(2)[None])
    assert y.tolist() == [0]  # class indices are per split folder


def test_test_split_needs_subfolder(tmp_path):
    _save(tmp_path / "a.png", _gray(0), "L")
    with pytest.raises(ValueError, match="split='test'"):
        load(f"folder:{tmp_path}", "test")
    _save(tmp_path / "tt" / "train" / "a.png", _gray(0), "L")
    with pytest.raises(DatasetNotFoundError, match="test"):
        load(f"folder:{tmp_path / 'tt'}", "test")


def test_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="missing"):
        load(f"folder:{tmp_path / 'missing'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        load(f"folder:{tmp_path / 'empty'}")
    _save(tmp_path / "mixed" / "a.png", _gray(0), "L")
    _save(tmp_path / "mixed" / "cls" / "b.png", _gray(1), "L")
    with pytest.raises(ValueError, match="both images and class subfolders"):
        load(f"folder:{tmp_path / 'mixed'}")
    _save(tmp_path / "ok" / "a.png", _gray(0), "L")
    for bad in (0, -3, (4,), (4, 0), 2.5, True):
        with pytest.raises(ValueError, match="size="):
            load(f"folder:{tmp_path / 'ok'}", size=bad)
