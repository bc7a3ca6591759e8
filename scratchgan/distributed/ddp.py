"""DistributedDataParallel: the same model on every rank, gradients averaged during backward.

At construction rank 0's parameters and buffers are broadcast, so every rank starts equal. The
parameters that require grad are cut, in reverse registration order (roughly the order backward
produces their gradients), into flat buckets of at most ``bucket_cap_mb`` megabytes; every rank
cuts the same buckets. A post-accumulate-grad hook copies each finished ``p.grad`` into its
bucket; once a bucket is full and every bucket before it was started, its nonblocking allreduce
starts, while backward goes on computing the earlier layers' gradients. At the end of backward a
callback starts the buckets still open, waits for all of them under the watchdog, and writes

    p.grad <- (1/N) sum over ranks r of p.grad_r

A parameter that got no gradient in this backward on a rank contributes zeros; each bucket also
sums one "used" flag per parameter, so every rank agrees whether a parameter gets a gradient
(None if no rank had one). Because averaged gradients are equal on all ranks, a second backward
before the optimiser step (gradient accumulation) still averages correctly.
"""

import contextlib
import time

import numpy as np

from .. import grad_hooks, profiler
from ..nn.module import Module
from ..tensor import Tensor
from .env import get_comm


class _Bucket:
    def __init__(self, index, params, xp, dtype):
        self.index, self.params = index, params
        self.sizes = [p.numel() for p in params]
        self.offsets = np.cumsum([0] + self.sizes).tolist()
        n = self.offsets[-1]
        self.flat = xp.zeros(n + len(params), dtype=dtype)  # gradients, then one flag each
        self.flags_at = n
        self.reset()

    def reset(self):
        self.marked = [False] * len(self.params)
        self.remaining = len(self.params)
        self.work = None

    def mark(self, i, grad_array):
        """Copy parameter i's finished gradient in; return True when the bucket is full."""
        if not self.marked[i]:
            self.remaining -= 1
            self.marked[i] = True
        self.flat[self.offsets[i] : self.offsets[i + 1]] = grad_array.reshape(-1)
        self.flat[self.flags_at + i] = 1
        return self.remaining == 0

    def fill_missing(self):
        """Flag 0 for the parameters that got no gradient in this backward, with their .grad as
        it stands (an earlier backward's average, equal on every rank) or zeros."""
        for i, (p, marked) in enumerate(zip(self.params, self.marked)):
            if not marked:
                piece = self.flat[self.offsets[i] : self.offsets[i + 1]]
                piece[...] = 0 if p.grad is None else p.grad._data.reshape(-1)
                self.flat[self.flags_at + i] = 0


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over ``comm`` (default: the job's).

    Calling the wrapper calls the module; the hooks live on the parameters, so calling the
    module directly (or through a model that holds it) is averaged the same way. Buffers are
    broadcast once, at construction, never in forward: a module run twice before one backward
    (D on real, then on fake) must not have a saved buffer changed under it. Keep buffers equal
    with SyncBatchNorm (same statistics on every rank) or call ``sync_buffers()``.

    ``stats``: per-bucket communication seconds and how many of them overlapped backward.
    """

    def __init__(self, module, comm=None, bucket_cap_mb=25.0, name=None):
        super().__init__()
        self.module = module
        comm = get_comm() if comm is None else comm
        self._comm = comm.dup()
        self._name = name or type(module).__name__
        self._broadcast_state()
        self._buckets = self._make_buckets(bucket_cap_mb * 2**20)
        self._where = {}
        for bucket in self._buckets:
            for i, p in enumerate(bucket.params):
                self._where[id(p)] = (bucket, i)
        self._handles = [
            p.register_post_accumulate_grad_hook(self._grad_ready)
            for b in self._buckets
            for p in b.params
        ]
        self._in_backward, self._next, self._sync = False, 0, True
        self.stats = {
            "backwards": 0,
            "comm_s": 0.0,
            "overlap_s": 0.0,
            "buckets": [
                {
                    "params": len(b.params),
                    "elements": b.offsets[-1],
                    "comm_s": 0.0,
                    "overlap_s": 0.0,
                }
                for b in self._buckets
            ],
        }

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @property
    def comm(self):
        return self._comm

    def bucket_layout(self):
        """[[parameter shapes] per bucket], in launch order (the same on every rank)."""
        return [[tuple(p.shape) for p in b.params] for b in self._buckets]

    # ----- construction
    def _unique_parameters(self):
        seen, params = set(), []
        for p in self.module.parameters():
            if id(p) not in seen and p.requires_grad:
                seen.add(id(p))
                params.append(p)
        return params

    def _broadcast_state(self):
        for name, t in list(self.module.named_parameters()) + list(self.module.named_buffers()):
            if t is not None and self._comm.size > 1:
                self._comm.broadcast(t._data, 0, name=f"initial {name} of {self._name}")

    def sync_buffers(self):
        """Rank 0's buffers (e.g. plain BatchNorm's running statistics) to every rank."""
        for name, t in self.module.named_buffers():
            if t is not None and self._comm.size > 1:
                self._comm.broadcast(t._data, 0, name=f"buffer {name} of {self._name}")

    def _make_buckets(self, cap_bytes):
        buckets, current = [], []
        for p in reversed(self._unique_parameters()):
            same_kind = current and (p.dtype, p.device) == (current[0].dtype, current[0].device)
            size = sum(q.numel() * q.dtype.itemsize for q in current)
            if current and (not same_kind or size + p.numel() * p.dtype.itemsize > cap_bytes):
                buckets.append(current)
                current = []
            current.append(p)
        if current:
            buckets.append(current)
        return [_Bucket(k, ps, ps[0].xp, ps[0].dtype) for k, ps in enumerate(buckets)]

    # ----- during backward
    @contextlib.contextmanager
    def no_sync(self):
        """Backwards inside accumulate local gradients only (average them with a later one)."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def _grad_ready(self, p):
        if not self._sync:
            return
        # a new backward: not yet in one, or the last one raised before its end callback ran
        if not self._in_backward or self._end_backward not in grad_hooks._final_callbacks:
            self._in_backward, self._next = True, 0
            for bucket in self._buckets:
                bucket.reset()
            grad_hooks.queue_callback(self._end_backward)
        bucket, i = self._where[id(p)]
        if bucket.mark(i, p.grad._data):
            self._start_ready_buckets()
        for b in self._buckets[: self._next]:  # let MPI progress the started ones
            b.work.test()

    def _start(self, bucket):
        bucket.work = self._comm.iallreduce(
            bucket.flat, "sum", name=f"bucket {bucket.index} of {self._name}"
        )

    def _start_ready_buckets(self):
        """Start buckets strictly in index order, so every rank issues the same sequence."""
        while self._next < len(self._buckets) and self._buckets[self._next].remaining == 0:
            self._start(self._buckets[self._next])
            self._next += 1

    def _end_backward(self):
        backward_end = time.perf_counter()
        self._in_backward = False
        for bucket in self._buckets[self._next :]:
            bucket.fill_missing()
            self._start(bucket)
        self._next = len(self._buckets)
        with profiler.region(f"wait for the buckets of {self._name}", "communication"):
            self._comm.wait_all([b.work for b in self._buckets])
        size = self._comm.size
        for bucket in self._buckets:
            self._unpack(bucket, size)
            self._account(bucket, backward_end)
        self.stats["backwards"] += 1

    def _unpack(self, bucket, size):
        flags = bucket.flat[bucket.flags_at :]
        for i, p in enumerate(bucket.params):
            if not float(flags[i]):
                continue  # no rank got a gradient for p in this backward: .grad stays
            piece = bucket.flat[bucket.offsets[i] : bucket.offsets[i + 1]].reshape(p.shape)
            p.grad = Tensor._make(piece / size if size > 1 else piece.copy())

    def _account(self, bucket, backward_end):
        work = bucket.work
        total = work.finished - work.started
        overlap = max(0.0, min(work.finished, backward_end) - work.started)
        if profiler.active() is not None:  # rows next to the ops: "(overlapped)" ran in backward
            for op, seconds in ((work.name, total), (work.name + " (overlapped)", overlap)):
                entry = profiler.active().stats[(op, "communication")]
                entry[0] += seconds
                entry[1] += 1
        row = self.stats["buckets"][bucket.index]
        row["comm_s"] += total
        row["overlap_s"] += overlap
        self.stats["comm_s"] += total
        self.stats["overlap_s"] += overlap


def attach(modules, comm=None, bucket_cap_mb=25.0):
    """DistributedDataParallel for each of {name: module}, each parameter in one of them only
    (a parameter shared by two modules, e.g. tied weights, is averaged once)."""
    seen, wrapped = set(), {}
    for name, module in modules.items():
        fresh = [p for p in module.parameters() if id(p) not in seen]
        if not fresh:
            continue
        seen.update(id(p) for p in fresh)
        wrapped[name] = DistributedDataParallel(_Only(module, fresh), comm, bucket_cap_mb, name)
    return wrapped


class _Only(Module):
    """A view of ``module`` that lists only ``params`` (and the module's buffers)."""

    def __init__(self, module, params):
        super().__init__()
        object.__setattr__(self, "_inner", module)
        object.__setattr__(self, "_params", params)

    def parameters(self, recurse=True):
        return iter(self._params)

    def named_parameters(self, prefix="", recurse=True):
        names = {id(p): n for n, p in self._inner.named_parameters()}
        return ((names.get(id(p), str(k)), p) for k, p in enumerate(self._params))

    def named_buffers(self, prefix="", recurse=True):
        return self._inner.named_buffers()

    def forward(self, *args, **kwargs):
        return self._inner(*args, **kwargs)
