"""Training programs run both by pytest (one process, the whole global batch) and under
``mpiexec -n N`` (``python programs.py NAME OUT.npz``: each rank its shard), so the tests can
compare the parameters. Everything random is drawn from NumPy with a fixed seed for the global
batch, then sliced, so the ranks see exactly the one-process data."""

import sys
import time

import numpy as np

import scratchgan as sg
import scratchgan.nn as nn
import scratchgan.nn.functional as F
from scratchgan.distributed import DistributedDataParallel, SyncBatchNorm, get_comm, init

GLOBAL_BATCH = 8


def shard(array, comm):
    """Rank r's rows of a global batch (equal shards: the batch divides by the world size)."""
    n = len(array) // comm.size
    return array[comm.rank * n : (comm.rank + 1) * n]


def make_gan(dtype):
    """A small G and D with (sync) batch norm; no bias before a norm: its true gradient is 0, so
    Adam would turn round-off into steps and no two summation orders could agree."""
    sg.manual_seed(0)
    G = nn.Sequential(
        nn.Linear(6, 32, bias=False),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.Linear(32, 64),
        nn.Tanh(),
        nn.Unflatten(1, (1, 8, 8)),
    )
    D = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(64, 1),
    )
    for m in (G, D):
        m.to(dtype)
        SyncBatchNorm.convert_sync_batchnorm(m)
    return G, D


def train_gan(comm, kind="ns", steps=4, dtype="float64", bucket_cap_mb=0.0002):
    """``steps`` of D on (real, fake) with one backward, then G through D (D not frozen, so D's
    parameters get gradients too); ``kind`` "ns" (BCE) or "wgan-gp" (double backward)."""
    G, D = make_gan(dtype)
    DistributedDataParallel(G, comm, bucket_cap_mb=bucket_cap_mb, name="G")  # hooks on G
    ddp_d = DistributedDataParallel(D, comm, bucket_cap_mb=bucket_cap_mb, name="D")
    opt_g = sg.optim.Adam(G.parameters(), lr=1e-2, betas=(0.5, 0.9))
    opt_d = sg.optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.9))
    rng = np.random.default_rng(1)
    for _ in range(steps):
        real = sg.tensor(shard(rng.standard_normal((GLOBAL_BATCH, 1, 8, 8)), comm), dtype=dtype)
        z = sg.tensor(shard(rng.standard_normal((GLOBAL_BATCH, 6)), comm), dtype=dtype)
        e = sg.tensor(shard(rng.uniform(size=(GLOBAL_BATCH, 1, 1, 1)), comm), dtype=dtype)
        opt_d.zero_grad()
        fake = G(z).detach()
        real_out, fake_out = D(real), D(fake)
        if kind == "ns":
            loss_d = F.binary_cross_entropy_with_logits(
                real_out, sg.ones_like(real_out)
            ) + F.binary_cross_entropy_with_logits(fake_out, sg.zeros_like(fake_out))
        else:
            x = (e * real + (1 - e) * fake).detach()
            x.requires_grad = True
            (gx,) = sg.grad(D(x).sum(), x, create_graph=True)
            norm = ((gx * gx).flatten(1).sum(axis=1) + 1e-12).sqrt()
            loss_d = fake_out.mean() - real_out.mean() + 10 * ((norm - 1) ** 2).mean()
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = D(G(z))
        loss_g = (
            F.binary_cross_entropy_with_logits(out, sg.ones_like(out))
            if kind == "ns"
            else -out.mean()
        )
        loss_g.backward()
        opt_g.step()
    params = {f"G.{k}": v.array for k, v in G.state_dict().items()}
    params.update({f"D.{k}": v.array for k, v in D.state_dict().items()})
    params["buckets_d"] = np.array(len(ddp_d.bucket_layout()))
    return params


def skip_a_collective(comm):
    """Rank 1 skips its gradient allreduce: rank 0's watchdog must raise, naming itself and the
    bucket."""
    layer = nn.Linear(3, 2)
    DistributedDataParallel(layer, comm, name="layer")  # the hooks live on the parameters
    loss = layer(sg.ones(4, 3)).sum()
    if comm.rank == 1:
        # Out of every collective until rank 0's abort ends it: in the closing barrier its own
        # watchdog could fire first, and its abort kill rank 0 before rank 0 wrote its message.
        time.sleep(10 * comm.timeout)
        return {}
    loss.backward()
    return {}


def unused_on_one_rank(comm):
    """Rank 0 uses ``extra``, rank 1 does not: both must end with extra.grad = g_0 / 2, and a
    parameter no rank used keeps grad None."""
    net = three_layers()
    DistributedDataParallel(net, comm, bucket_cap_mb=0.0002, name="net")
    y = net.body(sg.ones(4, 3, dtype="float64") * (comm.rank + 1))
    loss = net.extra(y).sum() if comm.rank == 0 else y.sum()
    loss.backward()
    return {
        "extra": net.extra.weight.grad.array,
        "body": net.body.weight.grad.array,
        "never_is_none": np.array(net.never.weight.grad is None),
    }


def three_layers():
    sg.manual_seed(4)
    net = nn.Module()
    net.body, net.extra, net.never = nn.Linear(3, 2), nn.Linear(2, 1), nn.Linear(2, 2)
    return net.to("float64")


def kill_a_rank(comm):
    """Rank 1 dies (SIGKILL) in the middle of training; the others must not wait forever."""
    import os
    import signal

    print(f"rank {comm.rank} pid {os.getpid()}", flush=True)
    layer = nn.Linear(3, 2)
    DistributedDataParallel(layer, comm, name="layer")
    for step in range(1000):
        if comm.rank == 1 and step == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        layer.zero_grad()
        layer(sg.ones(4, 3)).sum().backward()
    return {}


def train_model(comm, model="dcgan", loss="ns", steps=1, run_dir=None, dtype="float32"):
    """``steps`` of the real trainer on a model of the zoo (batch 8 of 28x28 images, recipe key
    ``dtype``); N ranks through DistributedTrainer, one process through Trainer; returns every
    module's state."""
    import tempfile

    from scratchgan.distributed.launch import DistributedTrainer
    from scratchgan.training import recipes
    from scratchgan.training.trainer import Trainer

    rng = np.random.default_rng(2)
    data = (
        rng.integers(0, 256, (64, 28, 28)).astype(np.uint8),
        rng.integers(0, 10, 64),
        None,
        None,
    )
    config = recipes.make_config(
        model, batch_size=8, epochs=5, loss=loss, valid_size=0, dtype=dtype
    )
    run_dir = run_dir or tempfile.mkdtemp()
    if comm.size > 1:
        trainer = DistributedTrainer(config, run_dir, data=data, progress=False, comm=comm)
    else:
        trainer = Trainer(config, run_dir, data=data, progress=False)
    trainer.fit(max_steps=steps)
    result = {
        f"{name}.{k}": v.array
        for name, m in trainer.model.modules().items()
        for k, v in m.state_dict().items()
    }
    result.update({f"loss.{k}": np.array(v) for k, v in trainer.sums.items()})
    return result


def sync_batchnorm_global(comm):
    """SyncBatchNorm on this rank's shard of a global batch: y, dL/dx (recorded), then the
    gradients of H = |dL/dx|^2 + L (double backward), with L = sum(y * w). Parameter gradients
    are summed over the ranks, as DDP would (times N)."""
    rng = np.random.default_rng(5)
    x_all, w_all = rng.standard_normal((8, 3, 4, 4)), rng.standard_normal((8, 3, 4, 4))
    bn = SyncBatchNorm(3, dtype="float64", comm=comm)
    bn.weight.array[...] = rng.uniform(0.5, 1.5, 3)
    bn.bias.array[...] = rng.standard_normal(3)
    x = sg.tensor(shard(x_all, comm), requires_grad=True)
    y = bn(x)
    loss = (y * sg.tensor(shard(w_all, comm))).sum()
    (gx,) = sg.grad(loss, x, create_graph=True)
    ((gx * gx).sum() + loss).backward()
    result = {
        "y": y.array,
        "gx": gx.array,
        "x_grad": x.grad.array,
        "weight_grad": comm.allreduce(bn.weight.grad.array.copy()),
        "bias_grad": comm.allreduce(bn.bias.grad.array.copy()),
        "running_mean": bn.running_mean.array,
        "running_var": bn.running_var.array,
    }
    return result


def train_gan_nccl(comm):
    """train_gan over NCCLCommunicator with the stand-in NCCL (fake_nccl.py) on host memory."""
    import fake_nccl

    from scratchgan.distributed.nccl import NCCLCommunicator

    nccl = NCCLCommunicator(comm, nccl=fake_nccl, cuda=fake_nccl.FakeCuda)
    result = train_gan(nccl)
    result["nccl_allreduces"] = np.array(sum(c[0] == "allReduce" for c in fake_nccl.calls))
    return result


if __name__ == "__main__":
    name, out = sys.argv[1], sys.argv[2]
    comm = init(timeout=float(sys.argv[3]) if len(sys.argv) > 3 else None)
    try:
        result = {
            "train_gan": train_gan,
            "train_wgan_gp": lambda c: train_gan(c, "wgan-gp"),
            "train_gan_float32": lambda c: train_gan(c, dtype="float32"),
            "skip_a_collective": skip_a_collective,
            "sync_batchnorm_global": sync_batchnorm_global,
            "kill_a_rank": kill_a_rank,
            "unused_on_one_rank": unused_on_one_rank,
            "train_dcgan": lambda c: train_model(c, "dcgan", "ns", steps=1),
            "train_dcgan_wgan_gp": lambda c: train_model(c, "dcgan", "wgan-gp", steps=1),
            "train_dcgan_float64": lambda c: train_model(c, "dcgan", "ns", 20, dtype="float64"),
            "train_dcgan_wgan_gp_float64": lambda c: train_model(
                c, "dcgan", "wgan-gp", 20, dtype="float64"
            ),
            "train_gan_nccl": train_gan_nccl,
        }[name](comm)
    except Exception as e:  # noqa: BLE001 -- the test reads the message
        with open(f"{out}.rank{comm.rank}.error", "w") as f:
            f.write(f"{type(e).__name__}: {e}")
        comm.abort(3)
    np.savez(f"{out}.rank{comm.rank}.npz", **result)
    get_comm().barrier()
