"""read_idx: gzip and raw round trips over every IDX type, and clear errors on bad files."""

import gzip

import numpy as np
import pytest

from scratchgan.data import read_idx


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip(tmp_path, write_idx, dtype, compress):
    array = (np.arange(2 * 3 * 4) * 7 - 20).astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / "data.idx", array, compress)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)


def test_gzip_detected_by_magic_not_name(tmp_path, write_idx):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    gz_named_raw = write_idx(tmp_path / "labels.gz", labels, compress=False)
    raw_named_gz = write_idx(tmp_path / "labels-idx1-ubyte", labels, compress=True)
    np.testing.assert_array_equal(read_idx(gz_named_raw), labels)
    np.testing.assert_array_equal(read_idx(raw_named_gz), labels)


def test_one_dimensional_and_writable(tmp_path, write_idx):
    out = read_idx(write_idx(tmp_path / "l", np.arange(10, dtype=np.uint8)))
    assert out.shape == (10,)
    out[0] = 9  # a copy the caller owns, not a read-only buffer view
    assert out[0] == 9


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_file_names_file_and_sizes(tmp_path, write_idx, compress):
    path = write_idx(tmp_path / "images-idx3-ubyte", np.zeros((4, 5, 6), np.uint8))
    data = path.read_bytes()[:-7]  # header 16 bytes + 120 payload = 136, keep 129
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ValueError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message and "expected 136" in message and "got 129" in message


def test_extra_bytes_rejected(tmp_path, write_idx):
    path = write_idx(tmp_path / "x", np.zeros(3, np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match="expected 11 bytes.*got 12"):
        read_idx(path)


def test_bad_magic_and_type_code(tmp_path):
    not_idx = tmp_path / "not_idx"
    not_idx.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(not_idx)
    bad_code = tmp_path / "bad_code"
    bad_code.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(ValueError, match="unknown IDX type code 0x07"):
        read_idx(bad_code)


def test_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(bytes([0, 0, 0x08, 3, 0, 0, 0, 2]))
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(path)
