"""One data-parallel rank through the NCCL communicator on a GPU (issue 17, acceptance 4).

``NCCLCommunicator`` on CuPy's NCCL, in a world of one rank (the unique id travels through the
one-process communicator, as it would through MPI), checked in two ways:

1. each collective on device arrays, under the watchdog: allreduce sum and mean, broadcast,
   allgather, barrier (a world of one: every result is the input);
2. a small GAN (G: Linear, BatchNorm1d, ReLU, Linear, Tanh; D: Conv2d, BatchNorm2d, LeakyReLU,
   Linear) trained ``--steps`` steps in float64 with ``DistributedDataParallel`` over NCCL
   (several buckets: D(real) and D(fake) then one backward, then G through D) against the same
   training without DDP: every parameter and buffer equal bit for bit (a mean over one rank is
   the gradient itself), and NCCL's allReduce was called for every bucket.

    python benchmarks/gpu_nccl.py [--out DIR] [--steps 5]

Writes gpu-nccl.json and gpu-nccl.md; exits 1 when a check fails. The CPU test
(tests/benchmarks/test_gpu_nccl.py) runs ``run`` on host arrays with the stand-in NCCL of
tests/distributed/fake_nccl.py.
"""

import argparse
import datetime
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

import scratchgan as sg  # noqa: E402
import scratchgan.nn as nn  # noqa: E402
import scratchgan.nn.functional as F  # noqa: E402
from harness import write_json_and_markdown  # noqa: E402
from scratchgan.distributed import DistributedDataParallel, SingleProcessCommunicator  # noqa: E402
from scratchgan.distributed.nccl import NCCLCommunicator  # noqa: E402

BATCH = 8


class CountingNccl:
    """``nccl`` (a module) with its NcclCommunicator's collectives counted by name."""

    def __init__(self, nccl):
        self._nccl, self.calls = nccl, {}

    def __getattr__(self, name):
        return getattr(self._nccl, name)

    def NcclCommunicator(self, *args):  # noqa: N802 -- NCCL's own name
        inner, calls = self._nccl.NcclCommunicator(*args), self.calls

        class Counted:
            def __getattr__(self, name):
                method = getattr(inner, name)

                def call(*a):
                    calls[name] = calls.get(name, 0) + 1
                    return method(*a)

                return call

        return Counted()


def check_collectives(comm, device):
    """{collective: True/False}: each one on a device array returns its input (one rank)."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    results = {}
    for name, run in (
        ("allreduce sum", lambda a: comm.allreduce(a, "sum")),
        ("allreduce mean", lambda a: comm.allreduce(a, "mean")),
        ("broadcast", lambda a: comm.broadcast(a, 0)),
        ("allgather", lambda a: comm.allgather(a)[0]),
    ):
        a = sg.tensor(x, device=device).array.copy()
        results[name] = bool(np.array_equal(sg.tensor(run(a)).numpy(), x))
    comm.barrier()
    results["barrier"] = True
    return results


def make_gan(device):
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
    return G.to(device, "float64"), D.to(device, "float64")


def train_gan(device, steps, comm=None):
    """The GAN's state after ``steps`` steps; with ``comm``, G and D are wrapped in DDP (tiny
    buckets, so there are several). Returns (state, number of D's buckets)."""
    G, D = make_gan(device)
    buckets = 0
    if comm is not None:
        DistributedDataParallel(G, comm, bucket_cap_mb=0.0002, name="G")
        buckets = len(DistributedDataParallel(D, comm, 0.0002, name="D").bucket_layout())
    opt_g = sg.optim.Adam(G.parameters(), lr=1e-2, betas=(0.5, 0.9))
    opt_d = sg.optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.9))
    rng = np.random.default_rng(1)
    for _ in range(steps):
        real = sg.tensor(rng.standard_normal((BATCH, 1, 8, 8)), dtype="float64", device=device)
        z = sg.tensor(rng.standard_normal((BATCH, 6)), dtype="float64", device=device)
        opt_d.zero_grad()
        real_out, fake_out = D(real), D(G(z).detach())
        loss_d = F.binary_cross_entropy_with_logits(
            real_out, sg.ones_like(real_out)
        ) + F.binary_cross_entropy_with_logits(fake_out, sg.zeros_like(fake_out))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = D(G(z))
        F.binary_cross_entropy_with_logits(out, sg.ones_like(out)).backward()
        opt_g.step()
    state = {f"G.{k}": v.numpy() for k, v in G.state_dict().items()}
    state.update({f"D.{k}": v.numpy() for k, v in D.state_dict().items()})
    return state, buckets


def run(device, nccl, cuda, steps=5):
    """The checks of the module docstring on ``device`` with NCCL module ``nccl`` and CUDA
    module ``cuda`` (CuPy's, or the stand-ins); returns the result dict (``ok``: all passed)."""
    counting = CountingNccl(nccl)
    comm = NCCLCommunicator(SingleProcessCommunicator(), nccl=counting, cuda=cuda)
    collectives = check_collectives(comm, device)
    before = counting.calls.get("allReduce", 0)
    with_ddp, buckets = train_gan(device, steps, comm)
    allreduces = counting.calls.get("allReduce", 0) - before
    plain, _ = train_gan(device, steps)
    differ = sorted(k for k in plain if not np.array_equal(plain[k], with_ddp[k]))
    result = {
        "backend": comm.backend,
        "world_size": comm.size,
        "device": str(device),
        "collectives": collectives,
        "steps": steps,
        "buckets_of_D": buckets,
        "nccl_calls": dict(counting.calls),
        "gradient_allreduces": allreduces,
        "arrays_compared": len(plain),
        "arrays_that_differ": differ,
    }
    # every step: D's buckets once, then G's buckets and D's again in G's backward (D unfrozen)
    result["ok"] = bool(
        all(collectives.values()) and not differ and buckets > 1 and allreduces >= 2 * steps
    )
    return result


def markdown(result):
    ok = "passed" if result["ok"] else "FAILED"
    lines = [
        f"# One rank through the NCCL communicator ({result['device']}): {ok}",
        "",
        f"{result.get('date', '')}; {result.get('gpu', '')}; NCCL {result.get('nccl', '')}",
        "",
        "| check | result |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in result["collectives"].items()]
    lines += [
        f"| DDP GAN, {result['steps']} steps, {result['buckets_of_D']} buckets in D: "
        f"arrays equal to training without DDP | "
        f"{result['arrays_compared'] - len(result['arrays_that_differ'])} of "
        f"{result['arrays_compared']} |",
        f"| NCCL allReduce calls in training | {result['gradient_allreduces']} |",
    ]
    return "\n".join(lines) + "\n"


def write(result, out):
    return write_json_and_markdown(result, out, "gpu-nccl", markdown(result))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--steps", type=int, default=5)
    args = p.parse_args(argv)
    if args.steps < 1:
        p.error(f"--steps {args.steps}: expected at least 1")
    return args


def main(argv=None, log=print):
    import cupy

    args = parse_args(argv)
    result = run("cuda", cupy.cuda.nccl, cupy.cuda, args.steps)
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    result["gpu"] = props["name"].decode()
    result["nccl"] = str(cupy.cuda.nccl.get_version())
    result["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    paths = write(result, args.out)
    log(markdown(result))
    log(f"wrote {paths[0]} and {paths[1]}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
