"""The watchdog: a started collective is waited for with a deadline, never forever.

A collective that one rank skips (or a rank that died) would block the others for good; here the
waiting rank polls the request and, after ``timeout`` seconds, raises ``CollectiveTimeout`` with
its rank and the collective's name (e.g. "bucket 3 of D"), which the launcher turns into an
abort of the whole job.
"""

import time

# The longest sleep between polls: a collective that completes during it is seen up to this late,
# and a step waits on about ten (SyncBatchNorm's statistics, the buckets, the losses), so it is
# kept short; 5000 wake-ups a second still cost a waiting rank only a few percent of a core.
MAX_PAUSE_S = 2e-4


class CollectiveTimeout(RuntimeError):
    """A collective did not complete in time: some rank did not join it (skipped it, or died)."""


class Work:
    """A started collective: ``test()`` polls it; ``wait(timeout)`` finishes it or raises
    ``CollectiveTimeout``. ``then(fn)`` runs ``fn()`` once, on completion (e.g. divide by N)."""

    def __init__(self, rank, name, test, result=None):
        self.rank, self.name, self._test, self.result = rank, name, test, result
        self.started = time.perf_counter()
        self.finished = None  # perf_counter time when completion was first seen
        self._then = []

    @classmethod
    def done(cls, rank, name, result=None):
        return cls(rank, name, lambda: True, result)

    def then(self, fn):
        if self.finished is not None:
            fn()
        else:
            self._then.append(fn)
        return self

    def test(self):
        if self.finished is None and self._test():
            self.finished = time.perf_counter()
            for fn in self._then:
                fn()
            self._then = []
        return self.finished is not None

    def wait(self, timeout):
        wait_all([self], timeout)


def wait_all(works, timeout):
    """Poll until every Work is done: a short spin, then sleeps growing to MAX_PAUSE_S (two ranks
    share few cores, so a waiting rank must not burn the one its partner needs)."""
    deadline = time.perf_counter() + timeout
    pause, polls = 0.0, 0
    pending = [w for w in works if not w.test()]
    while pending:
        if time.perf_counter() > deadline:
            w = pending[0]
            raise CollectiveTimeout(
                f"rank {w.rank}: collective '{w.name}' did not complete within {timeout:g} s; "
                "another rank skipped it, is stuck, or died (set $SCRATCHGAN_COLLECTIVE_TIMEOUT "
                "to wait longer)"
            )
        polls += 1
        if polls > 200:
            pause = min(MAX_PAUSE_S, pause * 2 or 1e-5)
            time.sleep(pause)
        pending = [w for w in pending if not w.test()]
