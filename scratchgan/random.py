"""Seedable random generators, one default per device.

Every random draw in scratchgan (initialisers, dropout, noise, shuffling) takes a
``generator=`` argument; without one it uses the device's default generator, which
``manual_seed`` reseeds. A CPU generator is NumPy's PCG64, so runs reproduce bit for bit.
"""

import numpy as np

from . import profiler
from .backend import CPU, parse_device

_defaults = {}


class Generator:
    """``Generator(seed=None, device='cpu')``: a random stream for one device."""

    def __init__(self, seed=None, device="cpu"):
        self.device = parse_device(device)
        self.manual_seed(seed)

    def manual_seed(self, seed):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed: expected a non-negative int or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        if self.device.type == "cpu":
            self._rng = np.random.Generator(np.random.PCG64(self.seed))
        else:
            import cupy

            with cupy.cuda.Device(self.device.index):
                self._rng = cupy.random.Generator(cupy.random.XORWOW(self.seed))
        return self

    def normal(self, shape, dtype):
        with profiler.region("normal draws", "random"):
            return self._rng.standard_normal(shape, dtype=dtype)

    def uniform(self, shape, dtype, low=0.0, high=1.0):
        with profiler.region("uniform draws", "random"):
            u = self._rng.random(shape, dtype=dtype)
            if low != 0.0 or high != 1.0:
                u = u * u.dtype.type(high - low) + u.dtype.type(low)
            return u

    def integers(self, low, high, shape):
        return self._rng.integers(low, high, size=shape)

    def permutation(self, n):
        return self._rng.permutation(n)

    def get_state(self):
        """The generator state as plain data (for checkpoints; CPU only)."""
        if self.device.type != "cpu":
            raise NotImplementedError("get_state: only CPU generators can be checkpointed")
        return self._rng.bit_generator.state

    def set_state(self, state):
        if self.device.type != "cpu":
            raise NotImplementedError("set_state: only CPU generators can be checkpointed")
        self._rng.bit_generator.state = state


def default_generator(device=CPU):
    device = parse_device(device)
    if device not in _defaults:
        _defaults[device] = Generator(None, device)
    return _defaults[device]


def manual_seed(seed):
    """Reseed the default generator of every device (like ``torch.manual_seed``)."""
    default_generator(CPU).manual_seed(seed)
    for device, gen in _defaults.items():
        if device != CPU:
            gen.manual_seed(seed)


def resolve(generator, device):
    """The generator to use for a draw on ``device``."""
    if generator is None:
        return default_generator(device)
    if generator.device != device:
        raise ValueError(f"generator: it draws on {generator.device}, but the tensor is on {device}")
    return generator
