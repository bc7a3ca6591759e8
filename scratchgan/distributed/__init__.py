"""Data-parallel training: every rank holds the whole model and a shard of each batch.

See docs/DISTRIBUTED.md. The parts: ``env`` (rank, world size, ``init``), ``comm`` (the
communicator interface, MPI and one-process), ``nccl`` (NCCL over CuPy), ``ddp``
(``DistributedDataParallel``: gradient buckets averaged during backward), ``sync_batchnorm``
(``SyncBatchNorm``: statistics of the global batch, double backward kept), ``watchdog``
(collectives with a deadline), ``launch`` (``--nproc``, sharding, the trainer hooks).
"""

from .comm import Communicator, MPICommunicator, SingleProcessCommunicator
from .ddp import DistributedDataParallel
from .env import (
    get_comm,
    get_rank,
    get_world_size,
    in_launched_world,
    init,
    is_initialized,
    is_main_process,
)
from .sync_batchnorm import SyncBatchNorm, all_reduce
from .watchdog import CollectiveTimeout, RankDied

__all__ = [
    "Communicator",
    "MPICommunicator",
    "SingleProcessCommunicator",
    "DistributedDataParallel",
    "SyncBatchNorm",
    "all_reduce",
    "CollectiveTimeout",
    "RankDied",
    "init",
    "is_initialized",
    "get_comm",
    "get_rank",
    "get_world_size",
    "in_launched_world",
    "is_main_process",
]
