"""An exponential moving average of a network's weights (Karras et al. 2018, ProGAN's Gs; Yazici et
al. 2019), kept as plain arrays beside the network.

After the k-th update of the network (k = 0, 1, ...), each floating-point parameter's shadow becomes

    ema = d_k ema + (1 - d_k) theta,   d_k = min(decay, (1 + k) / (10 + k))

The warm-up d_k (TensorFlow's ExponentialMovingAverage with num_updates) starts at 0.1 and reaches
``decay`` after about 10 / (1 - decay) updates (9,000 at 0.999), so early pictures follow the
network instead of staying near its random initialisation. Buffers (batch-norm running statistics,
StyleGAN's w_avg) are copied, not averaged: they already are averages of the network's own outputs.
The shadow starts as a copy of the network.
"""

import numpy as np


class WeightEMA:
    """The shadow of ``module``'s parameters and buffers; ``update()`` after each of its optimiser
    steps, ``use(True)`` to swap the shadow into the module (``use(False)`` swaps back)."""

    def __init__(self, module, decay):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay={decay}: expected 0 (off) or a number in (0, 1)")
        self.module, self.decay = module, float(decay)
        self.updates = 0
        self.averaged = {name for name, _ in module.named_parameters()}
        self.shadow = {name: t.array.copy() for name, t in self._targets().items()}
        self.active = False  # the shadow's values are in the module (and the module's here)

    def _targets(self):
        return self.module.state_dict(keep_vars=True)

    def update(self):
        """One step of the average, from the module's current (trained) values."""
        if self.active:
            raise RuntimeError("WeightEMA.update with the average swapped in; use(False) first")
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for name, t in self._targets().items():
            shadow, value = self.shadow[name], t.array
            if name in self.averaged and shadow.dtype.kind == "f":
                shadow *= shadow.dtype.type(d)
                shadow += value * value.dtype.type(1.0 - d)
            else:
                shadow[...] = value
        self.updates += 1

    def use(self, on):
        """Put the average (on) or the trained values (off) into the module; no-op if already so."""
        if bool(on) == self.active:
            return
        for name, t in self._targets().items():
            kept = t.array.copy()
            t.array[...] = self.shadow[name]
            self.shadow[name] = kept
        self.active = bool(on)

    def state(self, prefix="ema/"):
        """The shadow (always the average, whichever values the module holds) and the update count,
        as a checkpoint's arrays."""
        was = self.active
        self.use(False)
        state = {prefix + name: a.copy() for name, a in self.shadow.items()}
        self.use(was)
        state[prefix + "updates"] = np.array(self.updates, dtype=np.int64)
        return state

    def load_state(self, state, prefix="ema/"):
        """Restore what ``state`` wrote; the module keeps its trained values."""
        self.use(False)
        for name, t in self._targets().items():
            self.shadow[name] = t.xp.asarray(state[prefix + name], dtype=t.array.dtype).copy()
        self.updates = int(state[prefix + "updates"])
