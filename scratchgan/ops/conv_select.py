"""Which CPU algorithm a transposed convolution runs: measured once per shape, like cudnn.benchmark.

Two algorithms compute ConvTranspose2d (and so every conv gradient that is one: Conv2d's input
gradient, Conv2dGradW's gradients, at any order), with the same math and different float
rounding:

- ``"gemm_col2im"`` (the default): one GEMM forming every tap of every small pixel, then the
  taps added into the big image (``conv_gemm._matmul_col2im``).
- ``"phase"``: sy*sx stride-1 correlations, one GEMM each, written straight into their phase of
  the big image (``conv_phase``).

``algorithms.benchmark = False`` (the default) always runs "gemm_col2im", so results stay
bit-identical to earlier versions. With ``algorithms.benchmark = True``, the first call at each
(shape, geometry, dtype, layout) times every supported algorithm ``algorithms.trials`` times on
the real inputs and caches the fastest; ``algorithms.force = "phase"`` runs one everywhere it
is supported (for tests). ``algorithms.chosen`` holds the cache; an active ``sg.profile()``
lists the choices made (``Profile.choices``).
"""

import time

from .. import profiler
from .conv_phase import supports as phase_supports

ALGORITHMS = ("gemm_col2im", "phase")


class ConvAlgorithms:
    """The switch and the per-shape cache (one module-level instance, ``algorithms``)."""

    def __init__(self):
        self.benchmark = False
        self.force = None
        self.trials = 3
        self.chosen = {}

    def candidates(self, geom):
        return [a for a in ALGORITHMS if a != "phase" or phase_supports(geom)]

    def pick(self, key, geom, run):
        """The algorithm for ``key``: forced, default, cached, or timed now with ``run(name)``."""
        timings = None
        if self.force is not None:
            if self.force not in ALGORITHMS:
                raise ValueError(f"unknown conv algorithm {self.force!r}; one of {ALGORITHMS}")
            name = self.force if self.force in self.candidates(geom) else "gemm_col2im"
        elif not self.benchmark:
            return "gemm_col2im"
        else:
            name = self.chosen.get(key)
            if name is None:
                timings = {a: _best_of(run, a, self.trials) for a in self.candidates(geom)}
                name = self.chosen[key] = min(timings, key=timings.get)
        prof = profiler.active()
        if prof is not None:
            prof.note_choice("ConvTranspose2d", key, name, timings)
        return name


def _best_of(run, name, trials):
    best = float("inf")
    for _ in range(trials):
        start = time.perf_counter()
        run(name)
        best = min(best, time.perf_counter() - start)
    return best


def shape_key(x, W, geom, out_size):
    """What the choice depends on: shapes, geometry, dtype, and whether x is channels-last."""
    channels_last = x.ndim == 4 and x.shape[1] > 1 and x.strides[1] == x.itemsize
    return (
        tuple(x.shape),
        tuple(W.shape),
        tuple(geom),
        tuple(out_size),
        str(x.dtype),
        channels_last,
    )


algorithms = ConvAlgorithms()
