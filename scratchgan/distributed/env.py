"""This process's place in a data-parallel job: rank, world size, and the communicator.

A job is started by ``scratchgan train ... --nproc N`` (which re-runs the command under
``mpiexec -n N`` with ``SCRATCHGAN_DISTRIBUTED=1``), by the user's own ``mpiexec -n N`` (any
host file: many machines), or by ``srun``. ``init()`` reads which from the environment: MPI's
launchers and Slurm set the world size (``PMI_SIZE``, ``OMPI_COMM_WORLD_SIZE``, ``PMIX_SIZE``,
``SLURM_NTASKS``), and the ranks then find each other through MPI. Without any of them the job
is one process and the communicator is ``SingleProcessCommunicator``.
"""

import os
import sys

from .comm import MPICommunicator, SingleProcessCommunicator
from .watchdog import watch_ranks

MARKER = "SCRATCHGAN_DISTRIBUTED"  # set by --nproc's relaunch: "this process is a rank"
_SIZE_VARIABLES = (
    "PMI_SIZE",
    "OMPI_COMM_WORLD_SIZE",
    "PMIX_SIZE",
    "MPI_LOCALNRANKS",
    "SLURM_NTASKS",
)

_comm = None


def launched_world_size(environ=None):
    """The world size a launcher announced in the environment (1 when none did)."""
    environ = os.environ if environ is None else environ
    for name in _SIZE_VARIABLES:
        value = environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return int(value)
    return int(environ.get(MARKER, "0") or 0) or 1


_LOCAL_RANK_VARIABLES = (
    "MPI_LOCALRANKID",
    "OMPI_COMM_WORLD_LOCAL_RANK",
    "PMIX_LOCAL_RANK",
    "SLURM_LOCALID",
)


def local_rank(environ=None):
    """This rank's index among the ranks of its machine (0 when no launcher says): the GPU a
    NCCL rank uses."""
    environ = os.environ if environ is None else environ
    for name in _LOCAL_RANK_VARIABLES:
        value = environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


def in_launched_world(environ=None):
    """True inside ``mpiexec -n N``/``srun -n N`` (N > 1) or a ``--nproc`` relaunch."""
    environ = os.environ if environ is None else environ
    return bool(environ.get(MARKER)) or launched_world_size(environ) > 1


def init(backend="mpi", timeout=None):
    """Join the job and return its communicator (the same one on later calls).

    ``backend``: "mpi" (CPU arrays) or "nccl" (CuPy arrays; NCCL set up over MPI). Outside a
    launched world this is a one-process communicator whatever the backend."""
    global _comm
    if _comm is not None:
        return _comm
    if not in_launched_world():
        _comm = SingleProcessCommunicator(timeout)
        return _comm
    try:
        import mpi4py  # noqa: F401
    except ImportError as e:
        raise RuntimeError(
            "distributed training needs mpi4py and an MPI runtime: pip install -e '.[mpi]'"
        ) from e
    mpi = MPICommunicator(timeout=timeout)
    watch_ranks(mpi)
    _abort_on_uncaught_exceptions(mpi)
    if backend == "nccl":
        import cupy

        from .nccl import NCCLCommunicator

        cupy.cuda.Device(local_rank() % cupy.cuda.runtime.getDeviceCount()).use()  # 1 GPU a rank

        _comm = NCCLCommunicator(mpi, timeout)
    elif backend == "mpi":
        _comm = mpi
    else:
        raise ValueError(f"init: backend must be 'mpi' or 'nccl', got {backend!r}")
    return _comm


def _abort_on_uncaught_exceptions(comm):
    """An exception no code caught ends the whole job after its traceback (``python -m mpi4py``
    does the same): otherwise its rank would wait in MPI_Finalize and the others in their next
    collective until the watchdog's deadline."""
    if sys.excepthook is not sys.__excepthook__:
        return  # the program has its own

    def report_then_abort(kind, value, traceback):
        sys.__excepthook__(kind, value, traceback)
        sys.stderr.flush()
        comm.abort(1)

    sys.excepthook = report_then_abort


def is_initialized():
    return _comm is not None


def get_comm():
    """The job's communicator (``init()`` first; a one-process one if it was never called)."""
    return _comm if _comm is not None else SingleProcessCommunicator()


def get_rank():
    return 0 if _comm is None else _comm.rank


def get_world_size():
    return 1 if _comm is None else _comm.size


def is_main_process():
    return get_rank() == 0
