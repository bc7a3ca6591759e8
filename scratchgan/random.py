"""Seedable random generators, one default per device.

Every random draw in scratchgan (initialisers, dropout, noise, shuffling) takes a
``generator=`` argument; without one it uses the device's default generator, which
``manual_seed`` reseeds.

Every generator is NumPy's PCG64 on the host, whatever its device: a draw is made on the CPU and
copied to the generator's device (docs/DEVICES.md, "Randomness"). So the state of every
generator is plain data that ``get_state`` / ``set_state`` checkpoint (CuPy keeps its XORWOW
state private), a run resumes bit for bit on any device, and a CUDA generator draws the very
numbers a CPU one of the same seed draws. The price is a host-to-device copy per draw.

A CPU generator may also serve a tensor on another device (``resolve``): its draws are copied
there and its state advances as for a CPU draw, which is how a model trained with the trainer's
checkpointed CPU generator runs on 'cuda'.
"""

import numpy as np

from . import profiler
from .backend import CPU, parse_device, to_device

_defaults = {}
_last_seed = {"seed": None}  # what manual_seed set: a device's default generator made later gets it


class Generator:
    """``Generator(seed=None, device='cpu')``: a random stream whose draws land on ``device``."""

    def __init__(self, seed=None, device="cpu"):
        self.device = parse_device(device)
        self.manual_seed(seed)

    def manual_seed(self, seed):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed: expected a non-negative int or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        self._rng = np.random.Generator(np.random.PCG64(self.seed))
        return self

    def on(self, device):
        """This stream with its draws copied to ``device``: the state is shared, not copied."""
        device = parse_device(device)
        if device == self.device:
            return self
        placed = object.__new__(Generator)
        placed.device, placed.seed, placed._rng = device, self.seed, self._rng
        return placed

    def _place(self, array):
        return array if self.device.type == "cpu" else to_device(array, self.device)

    def normal(self, shape, dtype):
        with profiler.region("normal draws", "random"):
            return self._place(self._rng.standard_normal(shape, dtype=dtype))

    def uniform(self, shape, dtype, low=0.0, high=1.0):
        """U[low, high): u * (high - low) + low for u ~ U[0, 1) of ``dtype``."""
        with profiler.region("uniform draws", "random"):
            u = self._rng.random(shape, dtype=dtype)
            if low != 0.0 or high != 1.0:
                u = u * u.dtype.type(high - low) + u.dtype.type(low)
            return self._place(u)

    def skip_uniform(self, count, dtype):
        """Move the stream past ``count`` draws of ``uniform(..., dtype)`` without making them,
        ending exactly where drawing them would (data-parallel ranks skip the other ranks' rows).

        PCG64 gives 64-bit outputs: a float64 takes one (``advance``, the buffered 32-bit half
        kept); a float32 takes a 32-bit half, the buffered one first, so ``count`` of them are
        the buffer, then ``count // 2`` outputs, then one half more if an odd number is left.
        (Only the stale value of a spent buffer, which no draw reads, may differ.)
        """
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"skip_uniform: dtype must be float32 or float64, got {dtype}")
        if count <= 0:
            return
        bits = self._rng.bit_generator
        state = bits.state
        if dtype == np.float64:
            bits.advance(count)  # advance drops the buffered half: put it back
            kept = {key: state[key] for key in ("has_uint32", "uinteger")}
            bits.state = {**bits.state, **kept}
            return
        if state["has_uint32"]:
            count -= 1
            bits.state = {**state, "has_uint32": 0}
        if count // 2:
            bits.advance(count // 2)
        if count % 2:
            self._rng.random(1, dtype=np.float32)

    def integers(self, low, high, shape):
        return self._place(self._rng.integers(low, high, size=shape))

    def permutation(self, n):
        return self._place(self._rng.permutation(n))

    def get_state(self):
        """The generator state as plain data (for checkpoints), on every device."""
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state


def default_generator(device=CPU):
    device = parse_device(device)
    if device not in _defaults:
        _defaults[device] = Generator(_last_seed["seed"], device)
    return _defaults[device]


def manual_seed(seed):
    """Reseed the default generator of every device, also those first used later (like
    ``torch.manual_seed``)."""
    default_generator(CPU).manual_seed(seed)
    _last_seed["seed"] = seed
    for device, gen in _defaults.items():
        if device != CPU:
            gen.manual_seed(seed)


def resolve(generator, device):
    """The generator to use for a draw on ``device``: a CPU generator serves every device (its
    draws are copied there); a CUDA generator only its own."""
    device = parse_device(device, check=False)
    if generator is None:
        return default_generator(device)
    if generator.device == device or generator.device == CPU:
        return generator.on(device)
    raise ValueError(f"generator: it draws on {generator.device}, but the tensor is on {device}")
