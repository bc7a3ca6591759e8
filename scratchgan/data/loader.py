"""DataLoader: seeded, resumable mini-batches over in-memory numpy arrays."""

import math
import numbers

import numpy as np

_MASK64 = (1 << 64) - 1


def _pack_state(state):
    """PCG64 state dict -> uint64 array [state_hi, state_lo, inc_hi, inc_lo, has_uint32, uinteger]
    (npz-safe)."""
    s, inc = state["state"]["state"], state["state"]["inc"]
    words = [s >> 64, s & _MASK64, inc >> 64, inc & _MASK64, state["has_uint32"], state["uinteger"]]
    return np.array(words, dtype=np.uint64)


def _unpack_state(words):
    w = [int(x) for x in np.asarray(words, dtype=np.uint64)]
    return {
        "bit_generator": "PCG64",
        "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
        "has_uint32": w[4],
        "uinteger": w[5],
    }


class DataLoader:
    """Iterate over mini-batches of one or several arrays that share their first dimension.

    Each pass (`for batch in loader`) runs to the end of the current epoch; the next pass starts
    the next epoch with a fresh permutation drawn from numpy.random.Generator(PCG64(seed)), so a
    given seed gives the same batches every run. `state_dict()` captures the generator, the epoch
    and the position inside it; `load_state_dict()` on a loader over the same data continues bit
    for bit, even mid-epoch. Use one iteration at a time.

    Args:
        arrays: an ndarray, or a tuple/list of ndarrays with equal first dimension.
        batch_size: positive int.
        shuffle: draw a new permutation each epoch; otherwise data order.
        drop_last: drop the final batch when it is smaller than batch_size.
        seed: int or None (fresh OS entropy).
    Yields:
        one array per batch if `arrays` is an array, else a tuple of arrays (copies, not views).

    Example:
        >>> loader = DataLoader((images, labels), batch_size=32, seed=0)
        >>> for x, y in loader: ...
    """

    def __init__(self, arrays, batch_size, shuffle=True, drop_last=True, seed=None):
        self._single = not isinstance(arrays, (tuple, list))
        self.arrays = tuple(np.asarray(a) for a in ([arrays] if self._single else arrays))
        if not self.arrays or any(a.ndim == 0 for a in self.arrays):
            raise ValueError(
                "arrays: expected an array or a non-empty tuple of arrays with at least one "
                "dimension"
            )
        shapes = [a.shape for a in self.arrays]
        if len({s[0] for s in shapes}) != 1:
            raise ValueError(f"arrays: first dimensions differ, shapes {shapes}")
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, numbers.Integral)
            or batch_size <= 0
        ):
            raise ValueError(f"batch_size={batch_size!r}: expected a positive int")
        self.num_samples = shapes[0][0]
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        if len(self) == 0:
            raise ValueError(
                f"batch_size={batch_size} with drop_last={drop_last} gives no batch from "
                f"{self.num_samples} samples"
            )
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self.epoch = 0  # epoch being iterated (or just finished)
        self._position = 0  # batches already yielded in this epoch
        self._order = None  # this epoch's sample order, drawn lazily
        self._epoch_start = self._rng.bit_generator.state  # generator state before drawing _order

    def __len__(self):
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def __iter__(self):
        if self._position >= len(self):
            self.epoch += 1
            self._position, self._order = 0, None
        if self._order is None:
            self._draw_order()
        while self._position < len(self):
            start = self._position * self.batch_size
            index = self._order[start : start + self.batch_size]
            self._position += 1
            batch = tuple(a[index] for a in self.arrays)
            yield batch[0] if self._single else batch

    def _draw_order(self):
        self._epoch_start = self._rng.bit_generator.state
        n = self.num_samples
        self._order = self._rng.permutation(n) if self.shuffle else np.arange(n)

    def state_dict(self):
        """Resumable state as npz-safe numpy values: epoch, position, PCG64 state words, and
        sizes."""
        state = self._rng.bit_generator.state if self._order is None else self._epoch_start
        return {
            "epoch": np.int64(self.epoch),
            "position": np.int64(self._position),
            "rng_state": _pack_state(state),
            "num_samples": np.int64(self.num_samples),
            "batch_size": np.int64(self.batch_size),
        }

    def load_state_dict(self, state):
        """Continue from `state` (from state_dict() of a loader over data of the same size)."""
        for key in ("num_samples", "batch_size"):
            if int(state[key]) != getattr(self, key):
                raise ValueError(
                    f"state {key}={int(state[key])} does not match this loader's "
                    f"{getattr(self, key)}"
                )
        self._rng.bit_generator.state = _unpack_state(state["rng_state"])
        self.epoch = int(state["epoch"])
        self._position = int(state["position"])
        self._order = None
        if (
            self._position > 0
        ):  # this epoch's order was drawn from the restored state: redraw it now
            self._draw_order()
