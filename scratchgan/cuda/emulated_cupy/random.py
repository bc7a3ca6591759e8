"""``cupy.random`` of the stand-in: ``Generator``, ``XORWOW`` and ``default_rng``, with CuPy's
signatures and, like CuPy's, no ``permutation`` and no public state.

The streams are NumPy's PCG64 under the seed, not XORWOW, so their numbers differ from a real
GPU's; what the stand-in checks is the API and the device each draw lands on.
"""

import numpy as np

from . import _core


class XORWOW:
    """``XORWOW(seed=None, *, size=-1)``: a bit generator whose state lives on the current GPU."""

    def __init__(self, seed=None, *, size=-1):
        self._numpy = np.random.Generator(np.random.PCG64(seed))
        self._device_id = _core.current_device_id()


class Generator:
    """``Generator(bit_generator)``: draws land on the current device, which must be the bit
    generator's (its state is there)."""

    def __init__(self, bit_generator):
        self.bit_generator = bit_generator

    def _draw(self, method, *args, **kwargs):
        device = _core.current_device_id()
        if device != self.bit_generator._device_id:
            raise _core._peer_error(self.bit_generator._device_id, device)
        return _core.wrap(np.asarray(getattr(self.bit_generator._numpy, method)(*args, **kwargs)))

    def random(self, size=None, dtype=np.float64, out=None):
        return _fill(out, self._draw("random", size, dtype=dtype))

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return _fill(out, self._draw("standard_normal", size, dtype=dtype))

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return self._draw("integers", low, high, size, dtype=dtype, endpoint=endpoint)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        return self._draw("uniform", low, high, size).astype(dtype, copy=False)


def _fill(out, draw):
    if out is None:
        return draw
    out[...] = draw
    return out


def default_rng(seed=None):
    """A Generator over XORWOW(seed) on the current device."""
    return Generator(XORWOW(seed))


__all__ = ["XORWOW", "Generator", "default_rng"]
