"""DistributedDataParallel, SyncBatchNorm and the watchdog in one process (no MPI needed)."""

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.nn as nn
from scratchgan import profiler
from scratchgan.distributed import (
    CollectiveTimeout,
    DistributedDataParallel,
    SingleProcessCommunicator,
    SyncBatchNorm,
)
from scratchgan.distributed.comm import Communicator
from scratchgan.distributed.env import in_launched_world, launched_world_size, local_rank
from scratchgan.distributed.watchdog import Work


def _net():
    sg.manual_seed(3)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))


class _WithUnused(nn.Module):
    """``net`` plus a registered layer that forward never uses: its .grad must stay None."""

    def __init__(self, net):
        super().__init__()
        self.net, self.unused = net, nn.Linear(2, 2)

    def forward(self, x):
        return self.net(x)


def test_one_process_gradients_are_bit_identical_and_unused_stay_none():
    plain, wrapped = _net(), _WithUnused(_net())
    ddp = DistributedDataParallel(wrapped, SingleProcessCommunicator(), bucket_cap_mb=0.0002)
    x = sg.tensor(np.random.default_rng(0).standard_normal((5, 4)), dtype="float32")
    plain(x).square().sum().backward()
    ddp(x).square().sum().backward()
    extra = wrapped.unused
    for (name, p), q in zip(plain.named_parameters(), wrapped.net.parameters()):
        np.testing.assert_array_equal(q.grad.array, p.grad.array, err_msg=name)
    assert extra.weight.grad is None and extra.bias.grad is None
    assert ddp.stats["backwards"] == 1


def test_buckets_in_reverse_parameter_order_under_the_cap():
    net = _net()
    ddp = DistributedDataParallel(net, SingleProcessCommunicator(), bucket_cap_mb=0.0002)
    layout = ddp.bucket_layout()  # 0.0002 MB = 209 bytes = 52 float32
    flat = [s for bucket in layout for s in bucket]
    assert flat == [tuple(p.shape) for p in reversed(list(net.parameters()))]
    for bucket in layout:
        assert len(bucket) == 1 or sum(int(np.prod(s)) for s in bucket) * 4 <= 209
    assert layout == [[(2,), (2, 8), (8,)], [(8, 8)], [(8,), (8, 4)]]


def test_sync_batchnorm_in_one_process_is_batchnorm_and_converts_in_place():
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
    reference = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
    reference.load_state_dict(net.state_dict())
    weight = net[1].weight
    SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(net[1], SyncBatchNorm) and net[1].weight is weight
    x = sg.tensor(np.random.default_rng(1).standard_normal((4, 2, 5, 5)), dtype="float32")
    np.testing.assert_array_equal(net(x).array, reference(x).array)
    np.testing.assert_array_equal(net[1].running_var.array, reference[1].running_var.array)


class _Stalled(Communicator):
    """A world of 2 in which the other rank never joins."""

    def __init__(self):
        super().__init__(1, 2, timeout=0.2)

    def _start_allreduce_sum(self, array, name):
        return Work(self.rank, name, lambda: False)

    def _start_broadcast(self, array, root, name):
        return Work.done(self.rank, name)

    def dup(self):
        return self


def test_watchdog_turns_a_stalled_bucket_into_an_error_naming_rank_and_bucket():
    layer = nn.Linear(3, 2)
    ddp = DistributedDataParallel(layer, _Stalled(), name="D")
    with pytest.raises(
        CollectiveTimeout,
        match=r"rank 1: collective 'bucket 0 of D' did not "
        r"complete within 0.2 s",
    ):
        ddp(sg.ones(2, 3)).sum().backward()


class _Recording(Communicator):
    """A world of 2 whose collectives complete at once; records which gradients exist when
    each bucket starts."""

    def __init__(self, params):
        super().__init__(0, 2, timeout=5)
        self.params, self.started = params, []

    def _start_allreduce_sum(self, array, name):
        self.started.append((name, [p.grad is not None for p in self.params]))
        return Work.done(self.rank, name)

    def _start_broadcast(self, array, root, name):
        return Work.done(self.rank, name)

    def dup(self):
        return self


def test_a_full_bucket_starts_during_backward_before_earlier_layers_have_gradients():
    net = _net()
    params = list(net.parameters())
    comm = _Recording(params)
    DistributedDataParallel(net, comm, bucket_cap_mb=0.0002, name="net")
    net(sg.ones(5, 4)).sum().backward()
    names = [name for name, _ in comm.started]
    assert names == ["bucket 0 of net", "bucket 1 of net", "bucket 2 of net"]
    first_has = comm.started[0][1]
    assert first_has[-1] and first_has[-2]  # the last layer's gradients are in bucket 0
    assert not first_has[0] and not first_has[1]  # the first layer's are not computed yet


def test_a_backward_that_raised_midway_does_not_break_the_next_one():
    net = _net()
    ddp = DistributedDataParallel(net, SingleProcessCommunicator(), bucket_cap_mb=0.0002)
    hidden = net[0](sg.ones(5, 4))
    hidden.register_hook(lambda g: 1 / 0)  # raises after the later layers' buckets filled
    with pytest.raises(ZeroDivisionError):
        net[4](net[3](net[2](net[1](hidden)))).sum().backward()
    assert ddp.stats["backwards"] == 0
    net.zero_grad()
    net(sg.ones(5, 4)).sum().backward()
    assert ddp.stats["backwards"] == 1
    assert all(p.grad is not None for p in net.parameters())


def test_profiler_rows_per_bucket_with_the_overlapped_part():
    net = _net()
    comm = _Recording(list(net.parameters()))
    DistributedDataParallel(net, comm, bucket_cap_mb=0.0002, name="net")
    with profiler.profile() as prof:
        net(sg.ones(5, 4)).sum().backward()
    for k in range(3):
        seconds, calls = prof.stats[(f"bucket {k} of net", "communication")]
        overlapped, _ = prof.stats[(f"bucket {k} of net (overlapped)", "communication")]
        assert calls == 1 and 0 <= overlapped <= seconds
    assert ("wait for the buckets of net", "communication") in prof.stats


@pytest.mark.parametrize(
    "environ, size, launched, local",
    [
        ({}, 1, False, 0),
        ({"PMI_SIZE": "4", "MPI_LOCALRANKID": "2"}, 4, True, 2),  # MPICH's mpiexec
        ({"OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_LOCAL_RANK": "1"}, 2, True, 1),  # Open MPI
        ({"SLURM_NTASKS": "8", "SLURM_LOCALID": "3"}, 8, True, 3),  # srun
        ({"PMI_SIZE": "1"}, 1, False, 0),  # mpiexec -n 1: one process
        ({"SCRATCHGAN_DISTRIBUTED": "2"}, 2, True, 0),  # --nproc's relaunch
    ],
)
def test_the_launcher_is_read_from_the_environment(environ, size, launched, local):
    assert launched_world_size(environ) == size
    assert in_launched_world(environ) is launched
    assert local_rank(environ) == local


@pytest.mark.parametrize("batch, ranks", [(8, 2), (7, 2), (9, 4)])
def test_each_rank_draws_its_rows_of_the_global_draws_and_ends_where_one_process_does(batch, ranks):
    """GlobalBatchDraws: a rank's per-sample draws are its rows of the one-process draw (uniform
    draws skip the other rows, Generator.skip_uniform; others are drawn whole and sliced), for
    1 and 2 stacked blocks, float32 and float64, odd row sizes; and after every draw each rank's
    stream stands where the one-process stream does, so later draws (and checkpoints) agree."""
    from scratchgan.distributed.launch import GlobalBatchDraws
    from scratchgan.random import Generator

    calls = [
        ("uniform", (batch, 3, 5), np.float32),
        ("normal", (batch, 4), np.float32),
        ("uniform", (2 * batch, 7), np.float32),  # two blocks, e.g. D on [fake; real]
        ("uniform", (batch, 1, 1, 1), np.float64),
        ("uniform", (2 * batch, 3), np.float64),
        ("uniform", (5,), np.float32),  # not per sample: the same on every rank
        ("uniform", (batch, 5), np.float32),
    ]
    edges = np.cumsum([0] + [len(p) for p in np.array_split(np.arange(batch), ranks)])
    for rank in range(ranks):
        one, gen = Generator(3), Generator(3)
        draws = GlobalBatchDraws(gen, rank, ranks)
        n = edges[rank + 1] - edges[rank]
        draws.batch_size = batch
        for method, shape, dtype in calls:
            want = getattr(one, method)(shape, dtype)
            per_sample = shape[0] % batch == 0
            local = (shape[0] // batch * n if per_sample else shape[0],) + shape[1:]
            got = getattr(gen, method)(local, dtype)
            if per_sample:
                blocks = np.split(want, shape[0] // batch)
                want = np.concatenate([b[edges[rank] : edges[rank + 1]] for b in blocks])
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want, err_msg=f"rank {rank} {shape}")
            assert _live(gen.get_state()) == _live(one.get_state()), f"rank {rank} after {shape}"
        np.testing.assert_array_equal(gen.uniform((5,), np.float32), one.uniform((5,), np.float32))


def _live(state):
    """A PCG64 state without the value of a spent 32-bit buffer (no draw reads it again)."""
    return {**state, "uinteger": state["uinteger"] if state["has_uint32"] else None}
