"""Reader for the IDX format of MNIST and Fashion-MNIST, gzip-compressed or raw."""

import gzip

import numpy as np

# IDX type code -> big-endian numpy dtype
# (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path):
    """Read an IDX file into a numpy array in native byte order.

    Gzip compression is detected from the file's first two bytes, not its name. The header is
    two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
    0x0E float64), the number of dimensions, then each dimension as a big-endian uint32.

    Args:
        path: file name (str or os.PathLike).
    Returns:
        ndarray of shape given by the header, e.g. uint8 (60000, 28, 28) for train images.
    Raises:
        ValueError: bad magic, unknown type code, or a payload whose size does not match the
            header (the message names the file, the expected and the actual size).

    Example:
        >>> labels = read_idx("train-labels-idx1-ubyte.gz")  # uint8, shape (60000,)
    """
    path = str(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == GZIP_MAGIC:
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{path}: not an IDX file (the first two bytes must be zero, got {raw[:2]!r})"
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X} (known: {known})")
    dtype = IDX_DTYPES[code]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header: expected {header} bytes, got {len(raw)}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{path}: IDX size mismatch for shape {dims} of {dtype.name}: "
            f"expected {expected} bytes (decompressed), got {len(raw)}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))
