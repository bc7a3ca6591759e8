"""Backends for the kernel tests: 'emu' (the .cu compiled by g++, NumPy arrays) and 'gpu' (CuPy)."""

import numpy as np
import pytest

from scratchgan import cuda


class Emulated:
    name = "emu"

    def asarray(self, a):
        return np.array(a)  # a copy, so a kernel that writes its input cannot fool the reference

    def asnumpy(self, a):
        return np.asarray(a)


class Gpu:
    name = "gpu"

    def asarray(self, a):
        import cupy

        return cupy.asarray(a)

    def asnumpy(self, a):
        return a.get()


@pytest.fixture(params=["emu", pytest.param("gpu", marks=pytest.mark.gpu)])
def backend(request):
    """Run the test body against emulated kernels (always) and real ones (with a GPU)."""
    if request.param == "emu":
        if not cuda.emulation_available():
            pytest.skip("g++ is not on PATH: kernel emulation compiles kernels/*.cu with it")
        # One host thread per GPU thread: small blocks keep emulation fast, and a small grid makes
        # every grid-stride and block-stride loop wrap around at least once on the test shapes.
        with cuda.emulate(block=32, reduce_block=16, max_grid=3):
            yield Emulated()
    else:
        if not cuda.is_available():
            pytest.skip("needs CuPy and a CUDA GPU")
        yield Gpu()
