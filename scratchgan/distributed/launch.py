"""Starting ranks and the trainer's distributed hooks.

``scratchgan train MODEL --nproc N`` outside a launched world re-runs the same command line
as ``mpiexec -n N python -m scratchgan.cli ...`` with ``SCRATCHGAN_DISTRIBUTED=N`` (every rank
1 BLAS thread). Inside ``mpiexec -n N`` or ``srun`` the command joins the world it is in.

``DistributedTrainer`` is the Trainer with these changes, and only these:

* ``--batch-size`` stays the GLOBAL batch: every rank draws the same shuffled global batch
  (the loader's seed is the run's) and trains on its contiguous shard of it (``np.array_split``:
  shards differ by at most one row when N does not divide the batch). So N ranks see the
  one-process run's batches, and with SyncBatchNorm the same statistics.
* BatchNorm layers become SyncBatchNorm; every module is wrapped by DistributedDataParallel
  (rank 0's parameters broadcast; gradients averaged during backward).
* every rank keeps the run's noise stream, and a per-sample draw (leading dimension = this
  rank's shard size: latent codes, labels, penalty mixing weights) is drawn for the whole global
  batch and sliced, so rank r uses exactly the rows the one-process run gives its samples
  (N times the random numbers, a small cost next to the networks). Checkpoints keep every
  rank's generator state (``model-rank<r>`` in json/rng), so resume continues every stream.
* the losses each step reports are averaged over the ranks (the global batch's losses);
  only rank 0 writes the run directory: config, metrics, pictures, checkpoints, summary. A rank
  r > 0 runs the same trainer "into" a private temporary directory, removed at exit.
* an exception on any rank aborts the whole job (no rank is left waiting in a collective).
"""

import atexit
import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

import numpy as np

from ..training.checkpoints import CHECKPOINT, load_checkpoint, save_checkpoint
from ..training.trainer import Trainer
from .ddp import attach
from .env import MARKER, in_launched_world, init
from .sync_batchnorm import SyncBatchNorm
from .watchdog import RankDied, rank_map, watch_ranks


def should_relaunch(nproc):
    return bool(nproc) and nproc > 1 and not in_launched_world()


def mpiexec():
    """The mpiexec next to this Python (the mpi extra installs MPICH's there), else PATH's."""
    import shutil

    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = local if os.path.exists(local) else shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("--nproc needs mpiexec: pip install -e '.[mpi]' (MPICH from PyPI)")
    return found


def relaunch(nproc, argv):
    """Run ``scratchgan argv`` on ``nproc`` ranks of this machine; returns its exit status."""
    env = {
        **os.environ,
        MARKER: str(nproc),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return subprocess.call(ranks_command(nproc, ["-m", "scratchgan.cli", *argv]), env=env)


def ranks_command(nproc, python_args):
    """mpiexec starting ``nproc`` ranks of ``python python_args``, each under its supervisor
    (supervise.py), which names a rank that dies of a signal. With MPICH's mpiexec (Hydra),
    ``-disable-auto-cleanup``: the others are then told (SIGUSR1) and name it too
    (watchdog.py), where Hydra would otherwise kill them at once."""
    found = mpiexec()
    version = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
    flags = ["-disable-auto-cleanup"] if "HYDRA" in version else []
    supervisor = [sys.executable, "-m", "scratchgan.distributed.supervise"]
    return [found, *flags, "-n", str(nproc), *supervisor, sys.executable, *python_args]


def trainer_class(nproc=None):
    """Trainer in one process; DistributedTrainer inside a launched world (checks --nproc)."""
    if not in_launched_world():
        return Trainer
    comm = init()
    if nproc and nproc != comm.size:
        raise RuntimeError(f"--nproc {nproc}, but this job has {comm.size} ranks")
    return DistributedTrainer


MAX_BLOCKS = 4  # a draw for up to 4 stacked per-sample parts (D on concat([fake, real]): 2)


def _concat_rows(parts):
    xp = np if isinstance(parts[0], np.ndarray) else __import__("cupy")
    return xp.concatenate(parts)


class GlobalBatchDraws:
    """Makes ``generator``'s per-sample draws those of the global batch of B rows: while
    ``batch_size`` (B) is set, a draw whose leading dimension is k times this rank's shard size
    n (k <= MAX_BLOCKS: k parts of the batch stacked, e.g. D on concat([fake, real])) is drawn
    with leading dimension k B, and the rank keeps its rows of each of the k blocks. Other
    draws are unchanged (every rank draws the same numbers, as the streams are equal)."""

    def __init__(self, generator, rank, size):
        self.rank, self.size, self.batch_size = rank, size, None
        self.generator = generator
        for method in ("normal", "uniform", "integers"):
            setattr(generator, method, self._wrap(getattr(generator, method), method))

    def _rows(self):
        sizes = [len(part) for part in np.array_split(np.arange(self.batch_size), self.size)]
        start = sum(sizes[: self.rank])
        return start, start + sizes[self.rank]

    def _wrap(self, draw, method):
        def per_sample(*args, **kwargs):
            shape_at = 2 if method == "integers" else 0  # integers(low, high, shape)
            shape = args[shape_at] if len(args) > shape_at else kwargs.get("shape")
            if self.batch_size is None or not isinstance(shape, tuple) or not shape:
                return draw(*args, **kwargs)
            start, stop = self._rows()
            blocks, rest = divmod(shape[0], stop - start)
            if rest or not 1 <= blocks <= MAX_BLOCKS:
                return draw(*args, **kwargs)
            args, B = list(args), self.batch_size
            dtype = (
                np.dtype(args[1] if len(args) > 1 else kwargs["dtype"])
                if method == "uniform"
                else None
            )
            if dtype in (np.float32, np.float64):  # skip the other ranks' rows, draw only ours
                return self._own_uniform_rows(draw, args, kwargs, blocks, shape, dtype)
            args[shape_at] = (blocks * B,) + tuple(shape[1:])
            whole = draw(*args, **kwargs)
            if blocks == 1:
                return whole[start:stop]
            return _concat_rows([whole[j * B + start : j * B + stop] for j in range(blocks)])

        return per_sample

    def _own_uniform_rows(self, draw, args, kwargs, blocks, shape, dtype):
        """This rank's rows of each of ``blocks`` global uniform blocks, the rows before and
        after them skipped (``Generator.skip_uniform``): the same numbers and the same stream
        position as drawing the whole blocks, at 1/N of the cost (dropout masks are large)."""
        (start, stop), B = self._rows(), self.batch_size
        row = int(np.prod(shape[1:], dtype=np.int64))
        own = (stop - start,) + tuple(shape[1:])
        if args:
            args[0] = own
        else:
            kwargs["shape"] = own
        parts = []
        for _ in range(blocks):
            self.generator.skip_uniform(start * row, dtype)
            parts.append(draw(*args, **kwargs))
            self.generator.skip_uniform((B - stop) * row, dtype)
        return parts[0] if blocks == 1 else _concat_rows(parts)


def shard(batch, rank, size):
    """Rank r's contiguous rows of every array of the global batch."""
    return tuple(np.array_split(a, size)[rank] for a in batch)


class DistributedTrainer(Trainer):
    """The Trainer on one rank of a data-parallel job (see this module's docstring)."""

    def __init__(
        self, config, run_dir, resume=False, data=None, progress=True, comm=None, **options
    ):
        self.comm = init() if comm is None else comm
        self.rank, self.world_size = self.comm.rank, self.comm.size
        if str(config.get("device", "cpu")).startswith("cuda") and self.comm.backend == "mpi":
            raise RuntimeError(
                "--nproc with --device cuda: the trainer's collectives are MPI's "
                "on host arrays; GPU ranks need the NCCL backend (see "
                "docs/DISTRIBUTED.md), which the trainer does not select yet"
            )
        self.main = self.rank == 0
        if not self.main:  # one voice: rank 0's (failures still reach the real stderr)
            sys.stdout = sys.stderr = open(os.devnull, "w")
        with _ending_the_job(self.comm, RankDied):  # a partner can die while we set up
            self._set_up(config, run_dir, resume, data, progress, options)

    def _set_up(self, config, run_dir, resume, data, progress, options):
        where = rank_map() or watch_ranks(self.comm)
        if self.main:  # MPI reports a dead rank by its pid: this line maps pids to ranks
            print(
                "ranks: " + ", ".join(f"{r} = pid {p}@{h}" for r, (p, h) in enumerate(where)),
                file=sys.stderr,
                flush=True,
            )
        if not self.main:
            run_dir = self._scratch_run_dir(run_dir, resume)
        super().__init__(config, run_dir, resume, data, progress and self.main, **options)
        self.draws = GlobalBatchDraws(self.generator, self.rank, self.world_size)
        for module in self.model.modules().values():
            SyncBatchNorm.convert_sync_batchnorm(module, self.comm)
        self.ddp = attach(
            self.model.modules(), self.comm, float(self.config.get("bucket_cap_mb", 25.0))
        )
        self._wrap_model()

    def _wrap_model(self):
        model, inner_step, inner_picture = self.model, self.model.train_step, self.model.picture

        def train_step(batch, *rest):
            if rest and dataclasses.is_dataclass(rest[0]) and hasattr(rest[0], "world_size"):
                rest = (
                    dataclasses.replace(rest[0], rank=self.rank, world_size=self.world_size),
                ) + rest[1:]
            self.draws.batch_size = len(batch[0])
            try:
                logs = inner_step(shard(batch, self.rank, self.world_size), *rest)
            finally:
                self.draws.batch_size = None
            return self._mean_logs(logs)

        def picture(images, path):
            if self.main:
                inner_picture(images, path)

        model.train_step, model.picture = train_step, picture

    def _mean_logs(self, logs):
        keys = sorted(logs)
        values = np.array([float(logs[k]) for k in keys], dtype=np.float64)
        self.comm.allreduce(values, "mean", name="step losses")
        return dict(zip(keys, values.tolist()))

    # ----- rank 0 alone writes the run directory
    def _scratch_run_dir(self, run_dir, resume):
        """A rank r > 0 trains "into" a private temporary directory (removed at exit), so no
        file the trainer writes, now or later, can race rank 0's; on resume it starts from a
        copy of rank 0's checkpoint."""
        scratch = tempfile.mkdtemp(prefix=f"scratchgan-rank{self.rank}-")
        atexit.register(shutil.rmtree, scratch, True)
        if resume:
            os.makedirs(os.path.join(scratch, "checkpoints"))
            shutil.copy(
                os.path.join(run_dir, "checkpoints", CHECKPOINT),
                os.path.join(scratch, "checkpoints", CHECKPOINT),
            )
        return scratch

    def save(self, name=None):
        """Collective: every rank's noise stream goes into rank 0's checkpoint."""
        states = self.comm.allgather_object(self.generator.get_state())
        self._saved_step = self.step
        if not self.main:
            return None
        streams = [("model", self.generator)] + [
            (f"model-rank{r}", _FixedState(s)) for r, s in enumerate(states) if r
        ]
        return save_checkpoint(
            self.path("checkpoints", name or CHECKPOINT),
            self.model,
            self.state(),
            self.loader,
            streams,
        )

    def _restore(self, *args, **kwargs):
        super()._restore(*args, **kwargs)
        if self.rank:
            path = (args[0] if args else kwargs.get("path")) or self.path("checkpoints", CHECKPOINT)
            load_checkpoint(path, self.model, None, [(f"model-rank{self.rank}", self.generator)])

    def _summary(self, *args, **kwargs):
        summary = super()._summary(*args, **kwargs)
        comm_s = sum(d.stats["comm_s"] for d in self.ddp.values())
        overlap_s = sum(d.stats["overlap_s"] for d in self.ddp.values())
        summary["distributed"] = {
            "world_size": self.world_size,
            "backend": self.comm.backend,
            "gradient_allreduce_s": round(comm_s, 3),
            "overlapped_with_backward_s": round(overlap_s, 3),
            "communication_share": round(comm_s / max(self.train_time, 1e-9), 4),
            "buckets": {name: d.stats["buckets"] for name, d in self.ddp.items()},
        }
        self._write_json("summary.json", summary)
        return summary

    def fit(self, max_steps=None):
        with _ending_the_job(self.comm, Exception):  # a rank that stops takes the others along
            return super().fit(max_steps)


@contextlib.contextmanager
def _ending_the_job(comm, failures):
    """An exception of type ``failures`` raised inside ends this rank and the job, never
    reaching MPI_Finalize (which waits for every rank, a dead one too).

    ``RankDied`` says which rank died in one line, then exits: every survivor had MPI's
    notice and stops the same way. (Not MPI_Abort: its teardown can outrun the forwarding of
    the line just printed, and the job would end without saying who died.) Any other failure
    prints its traceback and aborts the job, as no other rank knows of it.
    """
    try:
        yield
    except KeyboardInterrupt:
        raise
    except failures as e:
        if isinstance(e, RankDied):
            print(f"error: {e}", file=sys.__stderr__, flush=True)
            os._exit(1)
        print(
            f"rank {comm.rank} of {comm.size} failed:\n{traceback.format_exc()}",
            file=sys.__stderr__,
            flush=True,
        )
        comm.abort(1)


class _FixedState:
    """A generator stand-in whose get_state gives another rank's gathered state."""

    def __init__(self, state):
        self._state = state

    def get_state(self):
        return self._state
