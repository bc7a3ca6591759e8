"""``sg.profile()``: where a training step spends its time, per op type and direction.

Inside ``with sg.profile() as prof:`` every op's forward (``Function.apply``), every node's
backward (inclusive of the ops its backward calls), the autograd engine's own work (walking
the graph, summing gradients that meet), every optimiser step and ``zero_grad``, random draws,
uint8-to-float conversion of data, and each module call (direction "module": the Python a
module runs between its ops, whose own rows are apart) are timed. Times are exclusive: an op
called inside another's backward counts once, under the backward. What remains untimed, the
model's own code between module calls, is shown as a row of its own.
``prof.table()`` prints op, direction, calls, total ms and share of the profiled wall time,
then the algorithm each shape ran where an op chose between several (``choices``: e.g. the
transposed convolution under ``ops.conv_select.algorithms.benchmark``).
"""

import collections
import contextlib
import time

_active = None


def active():
    return _active


def region(op, direction):
    """Time the block as (op, direction) in the active profile; nothing when none is active."""
    return contextlib.nullcontext() if _active is None else _active.region(op, direction)


class Profile:
    def __init__(self, synchronize=None):
        self.stats = collections.defaultdict(
            lambda: [0.0, 0]
        )  # (op, direction) -> [seconds, calls]
        self._children = []  # per open region: time spent in regions nested inside it
        self._synchronize = synchronize or (lambda: None)
        self.wall = 0.0
        self.choices = {}  # (op, shape key) -> [algorithm, calls, {algorithm: seconds} or None]

    def note_choice(self, op, key, algorithm, timings=None):
        """Record that ``op`` at ``key`` ran ``algorithm`` (``timings``: the trial that chose)."""
        entry = self.choices.setdefault((op, key), [algorithm, 0, None])
        entry[0], entry[1] = algorithm, entry[1] + 1
        if timings is not None:
            entry[2] = dict(timings)

    @contextlib.contextmanager
    def region(self, op, direction):
        if direction == "forward" and self._children and self._inside_backward:
            yield  # an op running inside a backward is part of that backward
            return
        self._synchronize()
        start = time.perf_counter()
        self._children.append(0.0)
        previous, self._inside_backward = (
            self._inside_backward,
            self._inside_backward or direction == "backward",
        )
        try:
            yield
        finally:
            self._inside_backward = previous
            self._synchronize()
            elapsed = time.perf_counter() - start
            nested = self._children.pop()
            entry = self.stats[(op, direction)]
            entry[0] += elapsed - nested
            entry[1] += 1
            if self._children:
                self._children[-1] += elapsed

    _inside_backward = False

    def rows(self):
        """[(op, direction, calls, seconds, share of wall time)], slowest first."""
        wall = self.wall or sum(s for s, _ in self.stats.values()) or 1.0
        rows = [(op, d, calls, s, s / wall) for (op, d), (s, calls) in self.stats.items()]
        return sorted(rows, key=lambda r: -r[3])

    def table(self):
        lines = [f"{'op':28s} {'direction':10s} {'calls':>7s} {'total ms':>10s} {'share':>7s}"]
        total = 0.0
        for op, d, calls, s, share in self.rows():
            total += s
            lines.append(f"{op:28s} {d:10s} {calls:7d} {1000 * s:10.2f} {100 * share:6.1f}%")
        if self.wall:
            lines.append(
                f"{'(untimed: Python, data, glue)':28s} {'':10s} {'':>7s} "
                f"{1000 * (self.wall - total):10.2f} {100 * (self.wall - total) / self.wall:6.1f}%"
            )
            lines.append(
                f"{'wall time':28s} {'':10s} {'':>7s} {1000 * self.wall:10.2f} {100.0:6.1f}%"
            )
        for (op, key), (algorithm, calls, timings) in self.choices.items():
            trial = (
                ""
                if not timings
                else " (trial ms: "
                + ", ".join(f"{a} {1000 * t:.2f}" for a, t in timings.items())
                + ")"
            )
            lines.append(f"algorithm {op} {key[0]} -> {key[3]}: {algorithm} x{calls}{trial}")
        return "\n".join(lines)


@contextlib.contextmanager
def profile(synchronize=None):
    """Profile the ops run inside the block; yields the Profile (see ``Profile.table``).

    On a GPU pass ``synchronize=cupy.cuda.Device().synchronize`` so kernel time lands on
    the op that launched it.
    """
    global _active
    if _active is not None:
        raise RuntimeError("profile: profiles cannot be nested")
    prof = Profile(synchronize)
    _active = prof
    start = time.perf_counter()
    try:
        yield prof
    finally:
        prof.wall = time.perf_counter() - start
        _active = None
