"""Per-op framework overhead of whole training steps: counts, and an empty-op baseline.

For each case of train_step.py (default: the small steps, gan b128 and vae b128) this counts,
per step, what the engine does around the array work: forward ops (``Function.apply``),
backward nodes, optimiser parameter updates, Tensors made, and Python-level function calls and
C calls (``sys.setprofile``; these counts do not depend on the machine's load). It then times an
empty op (a Function whose forward and fused backward return a preallocated 1-element array) in
three ways, recorded forward, forward under no_grad, and one backward node through the engine, and
estimates the step's framework overhead as

    overhead ~= ops x (recorded forward) + backward nodes x (backward node)

against the median step's CPU time (1 BLAS thread by default; all times are this thread's CPU time,
which moves less with load than wall time; the counts do not move at all).

    python benchmarks/op_overhead.py [--filter gan] [--threads 1] [--repeat 20] [--out DIR]

Writes op-overhead[-FILTER].json and .md to --out (default: prints only).
"""

import argparse
import collections
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

import numpy as np

DEFAULT_CASES = ("gan b128", "vae b128")
# CPU time of this thread: on a shared machine it leaves out the time spent waiting for a core
# (the wall time includes it), so these figures move much less with load than train_step.py's
_clock = time.thread_time


def count_calls(step, steps):
    """Per-step counts of Python calls, C calls, ops, backward nodes, parameter updates and
    Tensors made, over ``steps`` steps."""
    from scratchgan import engine, function
    from scratchgan.tensor import Tensor

    watched = {
        function.Function._apply.__code__: "ops",
        engine._node_backward_here.__code__: "backward nodes",
        Tensor._make.__func__.__code__: "tensors made",
    }
    update_names = {"_update", "_update_group"}
    counts = collections.Counter()

    def hook(frame, event, arg):
        if event == "call":
            counts["python calls"] += 1
            code = frame.f_code
            name = watched.get(code)
            if name is not None:
                counts[name] += 1
            elif code.co_name in update_names and "optim" in code.co_filename:
                counts["optimizer updates"] += 1
        elif event == "c_call":
            counts["C calls"] += 1

    sys.setprofile(hook)
    try:
        for _ in range(steps):
            step()
    finally:
        sys.setprofile(None)
    return {k: v / steps for k, v in sorted(counts.items())}


class _Empty:
    """Makes the empty op: forward and fused backward return preallocated arrays."""

    @staticmethod
    def make():
        from scratchgan.function import Function

        class Empty(Function):
            saves_inputs = ()
            out = np.zeros(1, np.float32)

            def forward(self, x):
                return Empty.out.copy()

            def backward_fused(self, gy, needs_input_grad):
                return (gy,)

        return Empty


def time_empty_op(n=2000):
    """Microseconds per empty op: recorded forward, forward under no_grad, and per backward
    node of a chain of ``n`` empty ops (engine overhead); the minimum of 5 runs."""
    import scratchgan as sg

    Empty = _Empty.make()
    x = sg.tensor(np.zeros(1, np.float32), requires_grad=True)

    def forward_chain():
        y = x
        for _ in range(n):
            y = Empty().apply(y)
        return y

    def no_grad_chain():
        with sg.no_grad():
            forward_chain()

    def best(fn):
        times = []
        for _ in range(5):
            t0 = _clock()
            fn()
            times.append(_clock() - t0)
        return min(times)

    recorded = best(forward_chain)
    unrecorded = best(no_grad_chain)
    backward = []
    for _ in range(5):
        y = forward_chain()
        t0 = _clock()
        y.backward(sg.tensor(np.ones(1, np.float32)))
        backward.append(_clock() - t0)
        x.grad = None
    scale = 1e6 / n
    return {
        "recorded_forward_us": round(recorded * scale, 2),
        "no_grad_forward_us": round(unrecorded * scale, 2),
        "backward_node_us": round(min(backward) * scale, 2),
        "numpy_copy_1_us": round(
            best(lambda: [Empty.out.copy() for _ in range(n)]) * scale, 3
        ),  # the forward's own array work, included in the figures above
    }


def median_step_ms(step, repeat):
    times = []
    for _ in range(repeat):
        t0 = _clock()
        step()
        times.append(_clock() - t0)
    return 1000 * statistics.median(times)


def run(case_names, repeat, count_steps=5):
    import train_step

    empty = time_empty_op()
    print(
        "empty op: recorded forward {recorded_forward_us} us, no_grad forward "
        "{no_grad_forward_us} us, backward node {backward_node_us} us".format(**empty),
        flush=True,
    )
    rows = []
    for case in train_step.CASES:
        if case[0] not in case_names:
            continue
        step = train_step.scratchgan_step(*case[1:])
        for _ in range(3):
            step()
        ms = median_step_ms(step, repeat)
        counts = count_calls(step, count_steps)
        overhead_ms = (
            counts.get("ops", 0) * empty["recorded_forward_us"]
            + counts.get("backward nodes", 0) * empty["backward_node_us"]
        ) / 1000
        row = {
            "case": case[0],
            "step_ms": round(ms, 2),
            "counts_per_step": {k: round(v, 1) for k, v in counts.items()},
            "estimated_overhead_ms": round(overhead_ms, 2),
            "estimated_overhead_share": round(overhead_ms / ms, 3),
        }
        rows.append(row)
        c = row["counts_per_step"]
        print(
            f"{case[0]:<20} step {ms:7.2f} ms | ops {c.get('ops', 0):6.0f}  backward nodes "
            f"{c.get('backward nodes', 0):6.0f}  optimizer updates "
            f"{c.get('optimizer updates', 0):4.0f}  tensors {c.get('tensors made', 0):6.0f}  "
            f"Python calls {c.get('python calls', 0):7.0f}  C calls {c.get('C calls', 0):7.0f} | "
            f"est. overhead {overhead_ms:5.2f} ms ({100 * overhead_ms / ms:.0f}%)",
            flush=True,
        )
    return empty, rows


def write(empty, rows, env, path):
    with open(path + ".json", "w") as f:
        json.dump({"environment": env, "empty_op": empty, "rows": rows}, f, indent=1)
    keys = ["ops", "backward nodes", "optimizer updates", "tensors made", "python calls", "C calls"]
    lines = [
        f"Per-step framework overhead, {env['date']}, {env['threads']} BLAS thread(s), load "
        f"average {env['load_average_1_5_15']}. Counts are per step and load-independent; times "
        "are not.",
        "",
        f"Empty op: recorded forward {empty['recorded_forward_us']} us, no_grad forward "
        f"{empty['no_grad_forward_us']} us, backward node {empty['backward_node_us']} us.",
        "",
        "| case | step ms | " + " | ".join(keys) + " | est. overhead ms | share |",
        "|---|---:|" + "---:|" * len(keys) + "---:|---:|",
    ]
    for r in rows:
        c = r["counts_per_step"]
        lines.append(
            f"| {r['case']} | {r['step_ms']:.2f} | "
            + " | ".join(f"{c.get(k, 0):.0f}" for k in keys)
            + f" | {r['estimated_overhead_ms']:.2f} | {100 * r['estimated_overhead_share']:.0f}% |"
        )
    with open(path + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--cases",
        default=",".join(DEFAULT_CASES),
        help="comma-separated train_step.py case names (default: %(default)s)",
    )
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (0: the default)")
    p.add_argument("--repeat", type=int, default=20, help="timed steps per case")
    p.add_argument("--out", default="", help="directory for op-overhead.json/.md (default: none)")
    args = p.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    from harness import environment

    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    empty, rows = run(names, args.repeat)
    if args.out:
        env = environment()
        env["threads"] = args.threads or "default"
        os.makedirs(args.out, exist_ok=True)
        write(empty, rows, env, os.path.join(args.out, "op-overhead"))
        print(f"wrote {os.path.join(args.out, 'op-overhead')}.json/.md")


if __name__ == "__main__":
    main()
