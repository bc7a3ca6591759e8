"""What training telemetry costs: a registry model's steps with telemetry off and on, alternated.

A cycle is K steps (K = ``--every``): off, K plain steps; on, the same K steps watched by the
trainer's Telemetry with telemetry_every=K (one step in K records per-layer statistics and
activations; the rest only pass the step number). Cycles alternate off/on ``--rounds`` times
after one warm-up each, so a burst of load on the shared machine hits both; the overhead is the
ratio of the medians, minus 1; the time inside the telemetry's own code (its hooks and the
activation observer), as a share of the watched cycles, is measured too. The target (issue 19):
at most 3%.

    python benchmarks/telemetry_overhead.py [--model dcgan] [--batch-size 32] [--every 10]

Results go to benchmarks/results/telemetry-overhead.{json,md} with the machine and load average.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import machine  # noqa: E402
from scratchgan.inspection.telemetry import Telemetry  # noqa: E402
from scratchgan.training import recipes, runs  # noqa: E402
from scratchgan.training.protocol import StepContext  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results")


class TimedTelemetry(Telemetry):
    """Telemetry that also adds up the seconds spent in its own code (less noisy than the
    difference of two step times on a loaded machine)."""

    seconds = 0.0

    def _timed(self, method, *args):
        t0 = time.perf_counter()
        try:
            return method(*args)
        finally:
            self.seconds += time.perf_counter() - t0

    def before_step(self, step):
        return self._timed(super().before_step, step)

    def after_step(self, step, losses):
        return self._timed(super().after_step, step, losses)

    def _observe(self, module, out):
        return self._timed(super()._observe, module, out)


def cycle(model, batches, watcher, start):
    """K steps (one per batch), watched by ``watcher`` (None: off); returns the seconds."""
    t0 = time.perf_counter()
    for k, batch in enumerate(batches):
        if watcher is not None:
            watcher.before_step(start + k + 1)
        losses = model.train_step(batch, StepContext(step=start + k))
        if watcher is not None:
            watcher.after_step(start + k + 1, losses)
    return time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="dcgan")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")  # as `scratchgan train` runs
    config = recipes.make_config(args.model, batch_size=args.batch_size)
    config.setdefault("image_shape", [1, 28, 28])
    model = runs.build_model(config)
    model.train(True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.every * args.batch_size, 28, 28), dtype=np.uint8)
    batches = [
        model.loader_arrays(images[k :: args.every], np.zeros(args.batch_size, int))
        for k in range(args.every)
    ]
    with tempfile.TemporaryDirectory() as run_dir:
        watcher = TimedTelemetry(model, run_dir, every=args.every)
        times, step = {"off": [], "on": []}, 0
        for r in range(args.rounds + 1):
            order = ("off", "on") if r % 2 == 0 else ("on", "off")
            for mode in order:
                seconds = cycle(model, batches, watcher if mode == "on" else None, step)
                step += args.every
                if not r:  # round 0 warms up
                    watcher.seconds = 0.0
                    continue
                times[mode].append(seconds)
        watcher.close()
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    result = {
        "model": args.model,
        "batch_size": args.batch_size,
        "telemetry_every": args.every,
        "rounds": args.rounds,
        "step_ms_off": 1000 * off / args.every,
        "step_ms_on": 1000 * on / args.every,
        "overhead": on / off - 1,
        "telemetry_share": watcher.seconds / sum(times["on"]),
        "cycles_s": times,
        "machine": machine.facts(threads=1),
    }
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "telemetry-overhead.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    facts = result["machine"]
    text = (
        f"# Telemetry overhead\n\n{args.model}, batch {args.batch_size}, telemetry_every "
        f"{args.every}, median of {args.rounds} alternated cycles of {args.every} steps.\n\n"
        f"| telemetry | ms per step |\n|---|---|\n| off | {result['step_ms_off']:.1f} |\n"
        f"| on | {result['step_ms_on']:.1f} |\n\noverhead: {100 * result['overhead']:+.1f}% "
        f"(target: at most 3%), from the step times; the telemetry's own code took "
        f"{100 * result['telemetry_share']:.2f}% of the watched cycles' time.\n\n"
        f"Machine: {machine.label(facts)}; load average {facts['load_average_1_5_15']} "
        f"(1, 5, 15 min), {facts['date']}.\n"
    )
    with open(os.path.join(RESULTS, "telemetry-overhead.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
