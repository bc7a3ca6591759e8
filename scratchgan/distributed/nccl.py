"""The NCCL communicator: GPU collectives through CuPy's NCCL bindings, set up over MPI.

ChainerMN's way: rank 0 makes a NCCL unique id, MPI broadcasts it, and every rank joins the
NCCL communicator with it (``NcclCommunicator(size, uid, rank)``). Collectives run on a
dedicated CUDA stream that first waits for the compute stream; a ``Work`` is a CUDA event
recorded after the collective, so the watchdog and the gradient buckets are the same as on MPI.

``nccl`` and ``cuda`` can be stand-ins (tests/distributed/test_nccl.py runs this class on the
CPU against a fake NCCL whose buffers are host pointers); by default they are
``cupy.cuda.nccl`` and ``cupy.cuda``.
"""

import numpy as np

from .comm import Communicator
from .watchdog import Work

_DTYPES = {
    "float32": "NCCL_FLOAT32",
    "float64": "NCCL_FLOAT64",
    "float16": "NCCL_FLOAT16",
    "int32": "NCCL_INT32",
    "int64": "NCCL_INT64",
    "uint8": "NCCL_UINT8",
}


class NCCLCommunicator(Communicator):
    """NCCL collectives on CuPy arrays; ``mpi`` (a Communicator with ``broadcast_object``, or an
    mpi4py communicator) carries the unique id."""

    backend = "nccl"

    def __init__(self, mpi, timeout=None, nccl=None, cuda=None):
        if nccl is None or cuda is None:
            import cupy

            nccl, cuda = cupy.cuda.nccl, cupy.cuda
        self.nccl, self.cuda, self.mpi = nccl, cuda, mpi
        rank, size = _rank_size(mpi)
        super().__init__(rank, size, timeout)
        uid = nccl.get_unique_id() if rank == 0 else None
        uid = _broadcast_object(mpi, uid)
        self.nccl_comm = nccl.NcclCommunicator(size, uid, rank)
        self.stream = cuda.Stream(non_blocking=True)

    def _datatype(self, array):
        name = _DTYPES.get(np.dtype(array.dtype).name)
        if name is None:
            raise TypeError(f"NCCL: no collective for dtype {array.dtype}")
        return getattr(self.nccl, name)

    def _launch(self, name, call, result=None):
        """Run ``call(stream_ptr)`` on the communication stream after the work already queued
        on the current stream, and return a Work that completes with it."""
        ready = self.cuda.Event()
        ready.record(self.cuda.get_current_stream())
        self.stream.wait_event(ready)
        call(self.stream.ptr)
        finished = self.cuda.Event()
        finished.record(self.stream)
        return Work(self.rank, name, lambda: finished.done, result=result)

    def _start_allreduce_sum(self, array, name):
        ptr, count, dtype = _pointer(array), array.size, self._datatype(array)
        return self._launch(
            name, lambda s: self.nccl_comm.allReduce(ptr, ptr, count, dtype, self.nccl.NCCL_SUM, s)
        )

    def _start_broadcast(self, array, root, name):
        ptr, count, dtype = _pointer(array), array.size, self._datatype(array)
        return self._launch(name, lambda s: self.nccl_comm.bcast(ptr, count, dtype, root, s))

    def _start_allgather(self, array, name):
        xp = _array_module(array)
        out = xp.empty((self.size,) + array.shape, dtype=array.dtype)
        send, recv, count = _pointer(array), _pointer(out), array.size
        dtype = self._datatype(array)
        return self._launch(
            name, lambda s: self.nccl_comm.allGather(send, recv, count, dtype, s), result=out
        )

    def _start_barrier(self, name):
        if not hasattr(self, "_one"):  # a one-element allreduce is NCCL's barrier
            self._one = _device_zeros(self.cuda, 1)
        return self._start_allreduce_sum(self._one, name)

    def dup(self):
        return NCCLCommunicator(self.mpi, self.timeout, self.nccl, self.cuda)


def _pointer(array):
    data = getattr(array, "data", None)
    if hasattr(data, "ptr"):  # a CuPy array
        return data.ptr
    return array.ctypes.data  # host memory (the stand-in NCCL of the tests)


def _device_zeros(cuda, n):
    zeros = getattr(cuda, "zeros", None)  # the stand-in's host allocation
    if zeros is not None:
        return zeros(n, dtype=np.float32)
    import cupy

    return cupy.zeros(n, dtype=np.float32)


def _array_module(array):
    return np if isinstance(array, np.ndarray) else __import__("cupy")


def _rank_size(mpi):
    if isinstance(mpi, Communicator):
        return mpi.rank, mpi.size
    return mpi.Get_rank(), mpi.Get_size()


def _broadcast_object(mpi, obj):
    if isinstance(mpi, Communicator):
        return mpi.broadcast_object(obj)
    return mpi.bcast(obj, root=0)
