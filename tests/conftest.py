"""Project-wide test settings: hypothesis profiles, the GPU skip, and a tiny Fashion-MNIST."""

import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# CI draws the same examples every run (derandomize) so a red run can be reproduced.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_collection_modifyitems(config, items):
    from scratchgan import cuda

    try:
        cuda.require_cuda()
        return
    except RuntimeError as exc:
        skip = pytest.mark.skip(reason=f"needs a CUDA GPU: {exc}")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _emulated_cuda_device(request):
    """Tests marked ``cuda_emulated`` run inside ``cuda.emulate_device()``: 'cuda' and 'cuda:1'
    are the CuPy stand-in's two emulated GPUs and kernels run through g++."""
    if request.node.get_closest_marker("cuda_emulated") is None:
        yield
        return
    from scratchgan import cuda

    if not cuda.emulation_available():
        pytest.skip("the emulated CUDA device compiles kernels/*.cu with g++, which is not on PATH")
    with cuda.emulate_device() as cupy:
        yield cupy


def _write_idx(path, array):
    """IDX bytes written independently of scratchgan.data (magic 0 0 8 ndim, big-endian sizes)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _write_fashion_mnist(root, n_train=72, n_test=24, size=12, labels="random", seed=0):
    """A Fashion-MNIST look-alike of random pixels as IDX files in root/fashion-mnist (point
    $SCRATCHGAN_DATA at ``root``); labels "random" or "cycle" (0..9 over and over)."""
    rng = np.random.default_rng(seed)
    folder = root / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, size, size)))
        classes = rng.integers(0, 10, n) if labels == "random" else np.arange(n) % 10
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte", classes)
    return root


@pytest.fixture(scope="session")
def write_fashion_mnist():
    """``write_fashion_mnist(root, n_train=72, n_test=24, size=12, labels="random")``: the tiny
    dataset the command-line tests train on (no test reads the real one unless marked slow)."""
    return _write_fashion_mnist
