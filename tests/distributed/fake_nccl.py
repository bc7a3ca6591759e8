"""A stand-in for ``cupy.cuda.nccl`` and ``cupy.cuda`` on host memory: buffers are the raw
pointers NCCLCommunicator passes, and each collective is done by MPI on views of those bytes,
so NCCLCommunicator (unique id over MPI, pointers, counts, dtypes, streams and events) and the
DDP buckets on top of it run on the CPU. Real NCCL needs a GPU; see docs/DISTRIBUTED.md."""

import ctypes

import numpy as np

NCCL_INT32, NCCL_INT64, NCCL_UINT8, NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64 = range(6)
NCCL_SUM = 0
_DTYPES = {
    NCCL_INT32: np.int32,
    NCCL_INT64: np.int64,
    NCCL_UINT8: np.uint8,
    NCCL_FLOAT16: np.float16,
    NCCL_FLOAT32: np.float32,
    NCCL_FLOAT64: np.float64,
}
calls = []  # (name, count, dtype) of every collective, for the tests


def _view(ptr, count, datatype):
    dtype = np.dtype(_DTYPES[datatype])
    raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(ptr)
    return np.frombuffer(raw, dtype=dtype)


def get_unique_id():
    return tuple(int(b) for b in np.random.default_rng().integers(0, 256, 128))


class NcclCommunicator:
    def __init__(self, ndev, commId, rank):
        from mpi4py import MPI

        self.MPI, self.mpi = MPI, MPI.COMM_WORLD.Dup()
        ids = self.mpi.allgather(commId)
        if any(i != commId for i in ids) or self.mpi.Get_size() != ndev:
            raise RuntimeError("fake NCCL: ranks joined with different unique ids or sizes")
        self.rank = rank

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        calls.append(("allReduce", count, datatype))
        recv = _view(recvbuf, count, datatype)
        send = self.MPI.IN_PLACE if sendbuf == recvbuf else _view(sendbuf, count, datatype)
        self.mpi.Allreduce(send, recv, op=self.MPI.SUM)

    def bcast(self, buff, count, datatype, root, stream):
        calls.append(("bcast", count, datatype))
        self.mpi.Bcast(_view(buff, count, datatype), root=root)

    def allGather(self, sendbuf, recvbuf, count, datatype, stream):
        calls.append(("allGather", count, datatype))
        size = self.mpi.Get_size()
        self.mpi.Allgather(_view(sendbuf, count, datatype), _view(recvbuf, count * size, datatype))


class FakeCuda:
    """cupy.cuda's Stream, Event and get_current_stream, with host ``zeros``."""

    zeros = staticmethod(np.zeros)

    class Stream:
        def __init__(self, non_blocking=False):
            self.ptr, self.waited = 1, 0

        def wait_event(self, event):
            assert event.recorded, "the communication stream waited for an unrecorded event"
            self.waited += 1

    class Event:
        def __init__(self):
            self.recorded = False

        def record(self, stream=None):
            self.recorded = True

        @property
        def done(self):
            return self.recorded

    _current = None

    @classmethod
    def get_current_stream(cls):
        if cls._current is None:
            cls._current = cls.Stream()
        return cls._current
