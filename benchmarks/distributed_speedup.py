"""Data-parallel speed-up on this machine (issue 17, acceptance 2): images/s of the real trainer.

For dcgan28 at global batch 128 and dcgan64 at global batch 64, three configurations:

    a  1 process  x 1 BLAS thread
    b  1 process  x 2 BLAS threads
    c  mpiexec -n 2, 1 BLAS thread per rank (what ``scratchgan train --nproc 2`` starts)

Each run is a fresh process (or job) that builds the trainer the command line builds
(``launch.trainer_class()``: Trainer, or DistributedTrainer inside the job) on generated 28 x 28
images and trains ``--warmup`` + ``--steps`` steps; the trainer's own per-step clock (the
seconds of ``train_step``, what summary.json's images/s divides by) is read on rank 0 for the
steps after the warm-up. A round runs a, b, c once each, in turn, so a burst of load hits all
three; the figure of a configuration is the median over ``--rounds`` rounds of
global batch x steps / their seconds. The communication share is the DistributedDataParallel
gradient allreduce seconds over the step seconds of the same steps (summary.json's
``distributed.communication_share``, without the warm-up); the part of it overlapped with
backward is given too.

The targets: c >= 1.8 x a on both models, and c > b. A loaded machine shows in the load
averages written before and after; only a quiet machine's figures mean anything.

    python benchmarks/distributed_speedup.py [--steps 10] [--warmup 2] [--rounds 3]
                                             [--cases dcgan28 dcgan64] [--out DIR]
                                             [--batch-size B]  (quick checks only)

Writes distributed-speedup.json and distributed-speedup.md (default: benchmarks/results/) with
the CPU, ISA, BLAS build and thread counts (benchmarks/machine.py).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [p for p in (HERE, ROOT) if p not in sys.path]

import machine  # noqa: E402
from harness import write_json_and_markdown  # noqa: E402

RESULTS = os.path.join(HERE, "results")
CASES = {"dcgan28": ("dcgan", 128), "dcgan64": ("dcgan64", 64)}  # name: (model, global batch)
CONFIGS = (  # name, ranks, BLAS threads per rank
    ("1 rank x 1 thread", 1, 1),
    ("1 rank x 2 threads", 1, 2),
    ("2 ranks x 1 thread", 2, 1),
)
TARGET = 1.8


# ----- one run: the worker, in its own process (or on every rank of a job)
def generated_images(n, seed=0):
    """n uint8 28 x 28 blobs (the checkpoint fingerprint's kind): real-looking work, no files."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:28, :28]
    centres = rng.uniform(6, 22, size=(n, 2))
    images = np.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / 30.0)
    images += 0.1 * rng.random((n, 28, 28))
    return (np.clip(images, 0, 1) * 255).astype(np.uint8), np.arange(n) % 10


def worker(model, batch, steps, warmup, out):
    """Train ``warmup + steps`` steps with the trainer the command line would use here; rank 0
    writes {step_s, comm_s, overlap_s, threads, world_size} of the steps after the warm-up."""
    from threadpoolctl import threadpool_info

    from scratchgan.distributed.launch import trainer_class
    from scratchgan.training import recipes

    total = warmup + steps
    images, labels = generated_images(batch * total)
    config = recipes.make_config(model, batch_size=batch, epochs=1, valid_size=0)
    cls = trainer_class()
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = cls(config, run_dir, data=(images, labels, None, None), progress=False)
        times, comm_at_warmup = [], {}
        account = trainer._account

        def timed(losses, n_images, dt):  # the trainer's own clock of each train_step
            times.append(dt)
            if len(times) == warmup:
                comm_at_warmup.update(_comm_seconds(trainer))
            return account(losses, n_images, dt)

        trainer._account = timed
        trainer.fit(max_steps=total)
        end = _comm_seconds(trainer)
        start = comm_at_warmup or dict.fromkeys(end, 0.0)
        result = {
            "step_s": times[warmup:],
            "comm_s": end["comm_s"] - start["comm_s"],
            "overlap_s": end["overlap_s"] - start["overlap_s"],
            "world_size": getattr(trainer, "world_size", 1),
            "blas_threads": [
                i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
            ],
        }
    if getattr(trainer, "rank", 0) == 0:
        with open(out, "w") as f:
            json.dump(result, f)


def _comm_seconds(trainer):
    ddp = getattr(trainer, "ddp", {})
    return {key: sum(d.stats[key] for d in ddp.values()) for key in ("comm_s", "overlap_s")}


# ----- the rounds
def run_config(case, ranks, threads, steps, warmup, workdir, python=sys.executable):
    """One fresh run of ``case`` on ``ranks`` x ``threads``; the worker's result dict."""
    from scratchgan.distributed.env import MARKER
    from scratchgan.distributed.launch import mpiexec

    model, batch = case
    out = os.path.join(workdir, f"run-{time.perf_counter_ns()}.json")
    env = {k: v for k, v in os.environ.items() if k not in (MARKER, "PMI_SIZE", "PMI_RANK")}
    env.update({v: str(threads) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    env["MKL_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (ROOT, env.get("PYTHONPATH"))))
    command = [python, os.path.abspath(__file__), "--worker", model, str(batch), str(steps)]
    command += [str(warmup), out]
    if ranks > 1:
        env[MARKER] = str(ranks)  # as `scratchgan train --nproc N` sets it for its ranks
        command = [mpiexec(), "-n", str(ranks), *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"{model} b{batch} on {ranks} rank(s) x {threads} thread(s) failed "
            f"(exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
        )
    with open(out) as f:
        return json.load(f)


def measure(cases, steps, warmup, rounds, batch_size=None, log=print, run=run_config):
    """{case: figures} over ``rounds`` rounds of the three configurations (``batch_size``: the
    global batch of every case instead of its own)."""
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in cases:
            model, batch = CASES[name]
            batch = batch_size or batch
            runs = {config: [] for config, _, _ in CONFIGS}
            for r in range(rounds):
                for config, ranks, threads in CONFIGS:
                    result = run((model, batch), ranks, threads, steps, warmup, workdir)
                    runs[config].append(result)
                    log(
                        f"{name} b{batch} round {r + 1}/{rounds} {config}: "
                        f"{batch * len(result['step_s']) / sum(result['step_s']):.1f} images/s"
                    )
            results[name] = summarize(batch, runs)
    return results


def summarize(batch, runs):
    """Median images/s per configuration, the speed-ups and the communication share."""
    out = {"global_batch": batch, "configs": {}}
    for config, ranks, threads in CONFIGS:
        rows = runs[config]
        per_round = [batch * len(r["step_s"]) / sum(r["step_s"]) for r in rows]
        shares = [r["comm_s"] / sum(r["step_s"]) for r in rows]
        overlaps = [r["overlap_s"] / sum(r["step_s"]) for r in rows]
        out["configs"][config] = {
            "ranks": ranks,
            "blas_threads_per_rank": threads,
            "blas_threads_seen": rows[0]["blas_threads"],
            "images_per_s": round(statistics.median(per_round), 2),
            "images_per_s_rounds": [round(v, 2) for v in per_round],
            "median_step_s": round(statistics.median(s for r in rows for s in r["step_s"]), 4),
            "communication_share": round(statistics.median(shares), 4) if ranks > 1 else None,
            "overlapped_share": round(statistics.median(overlaps), 4) if ranks > 1 else None,
        }
    speed = {c: v["images_per_s"] for c, v in out["configs"].items()}
    a, b, c = (speed[name] for name, _, _ in CONFIGS)
    out["speedup_2_ranks_over_1_thread"] = round(c / a, 3)
    out["speedup_2_ranks_over_1_thread_paired"] = paired_speedup(out["configs"])
    out["speedup_2_threads_over_1_thread"] = round(b / a, 3)
    out["targets_met"] = {
        f"2 ranks >= {TARGET} x 1 rank": c >= TARGET * a,
        "2 ranks > 2 threads": c > b,
    }
    return out


def paired_speedup(configs):
    """The median over rounds of each round's 2-ranks / 1-rank images/s: the configurations of
    a round run back to back, so a slow spell of the machine cancels in the ratio."""
    (one, *_), (two, *_) = CONFIGS[0], CONFIGS[2]
    rounds = zip(configs[one]["images_per_s_rounds"], configs[two]["images_per_s_rounds"])
    return round(statistics.median(c / a for a, c in rounds), 3)


# ----- output
def markdown(result):
    f = result["machine"]
    lines = [
        "# Data-parallel speed-up (issue 17, acceptance 2)",
        "",
        f"{f['date']}; {f['cpu_model']} ({f['isa']}, {f['cores']} cores), {f['blas_label']}; "
        f"{result['mpi']}. Each figure: median over {result['rounds']} rounds of the images/s "
        f"of {result['steps']} trainer steps after {result['warmup']} warm-up steps, the three "
        "configurations alternating within each round.",
        "",
        f"Load average (1, 5, 15 min) before: {result['load_before']}, after: "
        f"{result['load_after']}.",
        "",
        "| model | global batch | configuration | BLAS threads per rank | images/s | "
        "rounds | communication share (overlapped) |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    for name, case in result["cases"].items():
        for config, row in case["configs"].items():
            share = (
                f"{row['communication_share']:.1%} ({row['overlapped_share']:.1%})"
                if row["communication_share"] is not None
                else "-"
            )
            lines.append(
                f"| {name} | {case['global_batch']} | {config} | {row['blas_threads_per_rank']} | "
                f"{row['images_per_s']:.1f} | "
                f"{', '.join(f'{v:.1f}' for v in row['images_per_s_rounds'])} | {share} |"
            )
    lines += [
        "",
        "| model | 2 ranks / 1 thread | paired: median of the rounds' ratios | "
        "2 threads / 1 thread | targets |",
        "|---|---:|---:|---:|---|",
    ]
    for name, case in result["cases"].items():
        met = ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in case["targets_met"].items())
        lines.append(
            f"| {name} | {case['speedup_2_ranks_over_1_thread']:.2f} | "
            f"{case['speedup_2_ranks_over_1_thread_paired']:.2f} | "
            f"{case['speedup_2_threads_over_1_thread']:.2f} | {met} |"
        )
    return "\n".join(lines) + "\n"


def mpi_label():
    try:
        import mpi4py
        from mpi4py import MPI

        return f"mpi4py {mpi4py.__version__}, {MPI.Get_library_version().splitlines()[0].strip()}"
    except ImportError:
        return "mpi4py not installed"


def write(result, out):
    return write_json_and_markdown(result, out, "distributed-speedup", markdown(result))


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=positive, default=10, help="timed steps per run (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    p.add_argument("--rounds", type=positive, default=3, help="rounds of a, b, c (default 3)")
    p.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    p.add_argument(
        "--batch-size",
        type=positive,
        help="global batch of every case instead of 128 and 64 (for quick checks only)",
    )
    p.add_argument("--out", default=RESULTS, help="directory for the results")
    args = p.parse_args(argv)
    if args.warmup < 0:
        p.error(f"--warmup {args.warmup}: expected 0 or more")
    return args


def main(argv=None, log=print):
    args = parse_args(argv)
    load_before = [round(v, 2) for v in os.getloadavg()]
    cases = measure(args.cases, args.steps, args.warmup, args.rounds, args.batch_size, log)
    result = {
        "machine": machine.facts({c: t for c, _, t in CONFIGS}),
        "mpi": mpi_label(),
        "steps": args.steps,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "load_before": load_before,
        "load_after": [round(v, 2) for v in os.getloadavg()],
        "cases": cases,
    }
    paths = write(result, args.out)
    log(markdown(result))
    log(f"wrote {paths[0]} and {paths[1]}")
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        model, batch, steps, warmup, out = sys.argv[2:7]
        worker(model, int(batch), int(steps), int(warmup), out)
    else:
        main()
