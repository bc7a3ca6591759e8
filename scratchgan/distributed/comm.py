"""Communicators: the collectives data-parallel training needs, on MPI, NCCL or one process.

Every collective works in place on a flat array and is started without blocking: it returns a
``Work`` whose ``wait()`` finishes it under the watchdog (``watchdog.py``), so a rank that never
joins turns into a ``CollectiveTimeout`` naming the waiting rank and the collective, not a hang.
The blocking forms (``allreduce``, ``broadcast``, ...) are start-then-wait.

    allreduce(x, "sum"):  x <- sum over ranks r of x_r
    allreduce(x, "mean"): x <- (1/N) sum over ranks r of x_r
    broadcast(x, root):   x <- x_root
    allgather(x):         an array (N, *x.shape) with row r = x_r
"""

import os
import pickle

import numpy as np

from .watchdog import CollectiveTimeout, Work, wait_all

DEFAULT_TIMEOUT_S = 300.0


def default_timeout():
    """Seconds a collective may take before the watchdog raises ($SCRATCHGAN_COLLECTIVE_TIMEOUT)."""
    return float(os.environ.get("SCRATCHGAN_COLLECTIVE_TIMEOUT", DEFAULT_TIMEOUT_S))


class Communicator:
    """The interface: ``rank``, ``size``, the nonblocking ``i*`` collectives and their blocking
    forms. A subclass implements ``_start_allreduce_sum``, ``_start_broadcast``,
    ``_start_allgather``, ``_start_barrier`` (each returns a ``Work``) and ``dup``."""

    backend = "none"

    def __init__(self, rank, size, timeout=None):
        self.rank, self.size = rank, size
        self.timeout = default_timeout() if timeout is None else float(timeout)

    # ----- nonblocking
    def iallreduce(self, array, op="sum", name="allreduce"):
        if op not in ("sum", "mean"):
            raise ValueError(f"allreduce: op must be 'sum' or 'mean', got {op!r}")
        work = self._start_allreduce_sum(array, name)
        if op == "mean" and self.size > 1:
            work.then(lambda: array.__itruediv__(self.size))
        return work

    def ibroadcast(self, array, root=0, name="broadcast"):
        return self._start_broadcast(array, root, name)

    def iallgather(self, array, name="allgather"):
        return self._start_allgather(array, name)

    # ----- blocking
    def allreduce(self, array, op="sum", name="allreduce"):
        self.iallreduce(array, op, name).wait(self.timeout)
        return array

    def broadcast(self, array, root=0, name="broadcast"):
        self.ibroadcast(array, root, name).wait(self.timeout)
        return array

    def allgather(self, array, name="allgather"):
        work = self.iallgather(array, name)
        work.wait(self.timeout)
        return work.result

    def barrier(self, name="barrier"):
        self._start_barrier(name).wait(self.timeout)

    def broadcast_object(self, obj, root=0, name="broadcast_object"):
        """A picklable object from ``root`` to every rank."""
        return obj

    def allgather_object(self, obj, name="allgather_object"):
        """[obj of rank 0, obj of rank 1, ...] on every rank (small and picklable)."""
        return [obj]

    def wait_all(self, works):
        wait_all(works, self.timeout)

    def abort(self, code=1):
        os._exit(code)

    def dup(self):
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} rank {self.rank} of {self.size}>"


class SingleProcessCommunicator(Communicator):
    """World size 1: every collective leaves its array as it is (a mean over one rank is x)."""

    backend = "single"

    def __init__(self, timeout=None):
        super().__init__(0, 1, timeout)

    def _start_allreduce_sum(self, array, name):
        return Work.done(self.rank, name)

    def _start_broadcast(self, array, root, name):
        if root != 0:
            raise ValueError(f"broadcast: root {root} is not a rank of a one-process world")
        return Work.done(self.rank, name)

    def _start_allgather(self, array, name):
        return Work.done(self.rank, name, result=array.reshape((1,) + array.shape).copy())

    def _start_barrier(self, name):
        return Work.done(self.rank, name)

    def dup(self):
        return SingleProcessCommunicator(self.timeout)


class MPICommunicator(Communicator):
    """Collectives of an mpi4py communicator, with the buffer (upper-case) calls on NumPy arrays:
    Iallreduce(IN_PLACE), Ibcast, Iallgather, Ibarrier."""

    backend = "mpi"

    def __init__(self, mpi_comm=None, timeout=None):
        from mpi4py import MPI

        self.MPI = MPI
        self.mpi_comm = MPI.COMM_WORLD if mpi_comm is None else mpi_comm
        super().__init__(self.mpi_comm.Get_rank(), self.mpi_comm.Get_size(), timeout)

    def _work(self, request, name, result=None):
        return Work(self.rank, name, request.Test, result=result)

    def _start_allreduce_sum(self, array, name):
        _check_contiguous(array, name)
        return self._work(self.mpi_comm.Iallreduce(self.MPI.IN_PLACE, array, op=self.MPI.SUM), name)

    def _start_broadcast(self, array, root, name):
        _check_contiguous(array, name)
        return self._work(self.mpi_comm.Ibcast(array, root=root), name)

    def _start_allgather(self, array, name):
        _check_contiguous(array, name)
        out = np.empty((self.size,) + array.shape, dtype=array.dtype)
        return self._work(self.mpi_comm.Iallgather(array, out), name, result=out)

    def _start_barrier(self, name):
        return self._work(self.mpi_comm.Ibarrier(), name)

    # The object collectives pickle to bytes and go through the watched collectives above:
    # mpi4py's own (bcast, allgather) block inside MPI, where neither the watchdog nor the
    # failure notice (watchdog.py) can reach a rank whose partner died.
    def broadcast_object(self, obj, root=0, name="broadcast_object"):
        payload = np.frombuffer(pickle.dumps(obj), dtype=np.uint8) if self.rank == root else None
        size = np.array([0 if payload is None else payload.size], dtype=np.int64)
        self.broadcast(size, root, f"{name} (size)")
        data = payload.copy() if payload is not None else np.empty(int(size[0]), np.uint8)
        self.broadcast(data, root, name)
        return obj if self.rank == root else pickle.loads(data.tobytes())

    def allgather_object(self, obj, name="allgather_object"):
        payload = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
        sizes = self.allgather(np.array([payload.size], dtype=np.int64), f"{name} (sizes)")[:, 0]
        padded = np.zeros(int(sizes.max()), dtype=np.uint8)
        padded[: payload.size] = payload
        rows = self.allgather(padded, name)
        return [pickle.loads(rows[r, : sizes[r]].tobytes()) for r in range(self.size)]

    def abort(self, code=1):
        self.mpi_comm.Abort(code)
        os._exit(code)  # MPICH's Abort returns under -disable-auto-cleanup once a rank has died

    def dup(self):
        # Idup, watched: a blocking Dup would wait inside MPI for good if a partner died
        mpi_comm, request = self.mpi_comm.Idup()
        self._work(request, "dup").wait(self.timeout)
        return MPICommunicator(mpi_comm, self.timeout)


def _check_contiguous(array, name):
    if not array.flags.c_contiguous:
        raise ValueError(
            f"{name}: collectives work on C-contiguous arrays (got strides {array.strides})"
        )


__all__ = [
    "Communicator",
    "SingleProcessCommunicator",
    "MPICommunicator",
    "CollectiveTimeout",
    "default_timeout",
]
