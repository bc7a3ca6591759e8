"""The watchdog: a started collective is waited for with a deadline, never forever.

A collective that one rank skips (or a rank that died) would block the others for good; here the
waiting rank polls the request and, after ``timeout`` seconds, raises ``CollectiveTimeout`` with
its rank and the collective's name (e.g. "bucket 3 of D"), which the launcher turns into an
abort of the whole job.

A rank that dies is named at once, without waiting for the deadline: MPICH's ``mpiexec
-disable-auto-cleanup`` (the ``--nproc`` launcher passes it) tells every surviving rank of a
failed process with SIGUSR1 instead of killing them; ``watch_ranks`` turns that signal into
``RankDied`` naming the ranks of this host whose processes are gone, from the rank-to-pid map
gathered at start. (Without the flag MPICH kills the survivors itself and its report can name
one it killed, not the one that died first.) The signal handler only records the notice; the
rank's next wait raises it, so ``RankDied`` comes out of a collective, where the trainer expects
failures, and never out of arbitrary code between two of them.
"""

import os
import signal
import socket
import threading
import time

# The longest sleep between polls: a collective that completes during it is seen up to this late,
# and a step waits on about ten (SyncBatchNorm's statistics, the buckets, the losses), so it is
# kept short; 5000 wake-ups a second still cost a waiting rank only a few percent of a core.
MAX_PAUSE_S = 2e-4


class CollectiveTimeout(RuntimeError):
    """A collective did not complete in time: some rank did not join it (skipped it, or died)."""


# The notice can come while the failed process is still exiting (its sockets close before it
# becomes a zombie), so the survivor looks this long for the process that is gone.
NOTICE_GRACE_S = 2.0


class RankDied(RuntimeError):
    """Another rank's process is gone (MPI's failure notice); the job cannot go on without it."""


_ranks = None  # [(pid, host)] of every rank, once watch_ranks has gathered it
_noticed_by = None  # this rank, once MPI's failure notice has come
_died = None  # the RankDied the first wait after the notice raised, raised again by any later


def watch_ranks(comm):
    """Gather every rank's (pid, host) and install the SIGUSR1 failure notice (unless the
    program has its own SIGUSR1 handler, or this is not the main thread); returns the map."""
    global _ranks
    _ranks = comm.allgather_object((os.getpid(), socket.gethostname()))
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGUSR1, lambda signum, frame: _record_notice(comm.rank))
    return _ranks


def rank_map():
    """[(pid, host)] of every rank, or None before ``watch_ranks``."""
    return _ranks


def _alive(pid):
    """False once the process has exited (gone, or a zombie not yet reaped by its parent)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: the process exists until it is reaped
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _record_notice(rank):
    global _noticed_by
    _noticed_by = rank


def _raise_if_a_rank_died():
    global _died
    if _noticed_by is None:
        return
    if _died is None:
        _died = _rank_died(_noticed_by)
    raise _died


def _rank_died(rank):
    """The RankDied for MPI's notice, naming the ranks of this host whose processes are gone."""
    here = socket.gethostname()
    peers = [(r, pid) for r, (pid, host) in enumerate(_ranks) if host == here and r != rank]
    dead, deadline = [], time.perf_counter() + NOTICE_GRACE_S
    while peers and not dead and time.perf_counter() < deadline:
        dead = [f"rank {r} (pid {pid} on {here})" for r, pid in peers if not _alive(pid)]
        time.sleep(0.001)
    elsewhere = [r for r, (_, host) in enumerate(_ranks) if host != here]
    if dead:
        who = " and ".join(dead)
    elif elsewhere:
        who = f"a rank on another host (one of ranks {elsewhere})"
    else:  # MPI's notice without a process gone here: say so rather than guess
        who = "a rank (MPI's failure notice; every process on this host still runs)"
    return RankDied(f"{who} died; rank {rank} stops too: the job cannot go on without it")


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
    _raise_if_a_rank_died()
    pending = [w for w in works if not w.test()]
    while pending:
        _raise_if_a_rank_died()
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
