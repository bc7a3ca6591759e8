"""Project-wide test settings: hypothesis profiles and the GPU skip."""

import os

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
