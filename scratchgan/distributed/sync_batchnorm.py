"""SyncBatchNorm: batch normalisation with the statistics of the whole global batch.

Each rank sums its shard, one allreduce adds the sums of every rank, and every rank normalises
with the same per-channel statistics, those of the global batch of n = sum_r n_r values:

    mean = (sum_r S_r) / n,   var = (sum_r Q_r) / n - mean^2,   S_r = sum x,  Q_r = sum x^2

The allreduce is a differentiable op (``AllReduce``): its backward is an allreduce of the
gradient (d/dx_r of sum_s L_s through y = sum_r x_r is sum_s dL_s/dy), built from the same
op, so a recorded backward (``create_graph``, WGAN-GP's penalty) differentiates again, through
another allreduce. Every rank runs the same graph, so every rank issues the same collectives.
"""

import numpy as np

from ..autograd import Function
from ..nn.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm
from ..ops.shape import concat
from ..tensor import Tensor
from .env import get_comm


class AllReduce(Function):
    """y = sum over ranks of x (the same y on every rank); backward: the same op on gy."""

    saves_inputs = ()

    def __init__(self, comm, name="allreduce"):
        self.comm, self.name = comm, name

    def forward(self, x):
        y = x.copy()
        self.comm.allreduce(y, "sum", name=self.name)
        return y

    def backward(self, gy, needs_input_grad):
        return (all_reduce(gy, self.comm, self.name + " (backward)"),)


def all_reduce(x, comm=None, name="allreduce"):
    """Differentiable sum of ``x`` over every rank of ``comm`` (default: the job's)."""
    comm = get_comm() if comm is None else comm
    if comm.size == 1:
        return x
    return AllReduce(comm, name).apply(x)


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, *) inputs whose training statistics are those of the batch of
    every rank together (running statistics: the global unbiased variance, as PyTorch); in eval
    mode, or in one process, it is plain BatchNorm. ``comm`` defaults to the job's."""

    _layout = ((2, 3, 4, 5), "(N, C) or (N, C, *spatial)")

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
        comm=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.comm = comm

    def forward(self, input):
        comm = get_comm() if self.comm is None else self.comm
        if not self.training or comm.size == 1:
            return super().forward(input)
        self._check_input(input, *self._layout)
        N, C = input.shape[:2]
        x = input.reshape(N, C, -1)
        count = np.array([x.shape[0] * x.shape[2]], dtype=input.dtype)
        local = concat(
            [x.sum(axis=(0, 2)), (x * x).sum(axis=(0, 2)), Tensor._make(input.xp.asarray(count))]
        )
        total = all_reduce(local, comm, f"SyncBatchNorm({C}) statistics")
        n = float(total.array[2 * C])
        if n <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel, got {n:g}")
        mean = total[:C] / n
        var = total[C : 2 * C] / n - mean * mean
        self._update_running_stats(mean, var, n)
        # y = (x - mean) / sqrt(var + eps) * weight + bias as x * scale + shift: the per-channel
        # vectors carry the algebra, so the large x meets two elementwise ops, not four
        scale = (var + self.eps).rsqrt()
        if self.weight is not None:
            scale = scale * self.weight
        shift = -mean * scale
        if self.bias is not None:
            shift = shift + self.bias
        y = x * scale.reshape(1, C, 1) + shift.reshape(1, C, 1)
        return y.reshape(*input.shape)

    def _update_running_stats(self, mean, var, n):
        if not self.track_running_stats:
            return
        self.num_batches_tracked._data += 1
        factor = self.momentum
        if factor is None:  # cumulative moving average, as in PyTorch
            factor = 1.0 / int(self.num_batches_tracked.item())
        rm, rv = self.running_mean._data, self.running_var._data
        rm[...] = (1 - factor) * rm + factor * mean.array
        rv[...] = (1 - factor) * rv + factor * var.array * (n / (n - 1))

    @classmethod
    def convert_sync_batchnorm(cls, module, comm=None):
        """``module`` with every BatchNorm1d/2d replaced by a SyncBatchNorm holding the same
        parameters and buffers (the module itself if it is one)."""
        if isinstance(module, (BatchNorm1d, BatchNorm2d)) and not isinstance(module, cls):
            sync = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                comm=comm,
            )
            for name in ("weight", "bias"):
                if getattr(module, name) is not None:
                    setattr(sync, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                if getattr(module, name) is not None:
                    setattr(sync, name, getattr(module, name))
            sync.train(module.training)
            return sync
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child, comm)
            if converted is not child:
                setattr(module, name, converted)
        return module
