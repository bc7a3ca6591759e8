"""Timing harness for the op benchmarks: scratchgan against PyTorch in one process.

A ``Case`` names an op and a shape and says how to call it in each framework on the same
float32 arrays. ``run_cases`` times every case forward and forward+backward, the two
frameworks alternating call by call (so a burst of load on the shared machine hits both),
and reports medians after warm-up. ``write_results`` merges the rows into a JSON file keyed by
(op, shape, direction) and rewrites the Markdown table from it.
"""

import dataclasses
import datetime
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

DIRECTIONS = ("forward", "forward+backward")


@dataclasses.dataclass
class Case:
    """One benchmark row pair (forward, forward+backward).

    ``inputs`` is a list of (name, shape, requires_grad) drawn as float32 standard normals
    (the same arrays for both frameworks); ``scratchgan`` and ``torch`` take the resulting
    tensors in that order and return one output tensor. For anything that does not fit this
    mould (buffers, integer arguments, ...) give ``build(framework, arrays)`` instead, returning
    ``(closure, leaves)``: the op as a function of no arguments and the tensors whose ``.grad``
    the backward fills (cleared before each call); it is called with framework "scratchgan" or
    "torch" and the float32 NumPy arrays of ``inputs``.
    """

    op: str
    shape: str
    inputs: list
    scratchgan: Callable | None = None
    torch: Callable | None = None
    build: Callable | None = None
    seed: int = 0

    def arrays(self):
        rng = np.random.default_rng(self.seed)
        return [rng.standard_normal(shape, dtype=np.float32) for _, shape, _ in self.inputs]

    def closure(self, framework, arrays):
        """(op as a function of no arguments, its leaf tensors) in ``framework``."""
        if self.build is not None:
            return self.build(framework, arrays)
        if framework == "scratchgan":
            import scratchgan as sg

            ts = [sg.tensor(a, requires_grad=g) for a, (_, _, g) in zip(arrays, self.inputs)]
            fn = self.scratchgan
        else:
            import torch

            ts = [torch.tensor(a, requires_grad=g) for a, (_, _, g) in zip(arrays, self.inputs)]
            fn = self.torch
        return (lambda: fn(*ts)), [t for t in ts if t.requires_grad]


def _with_backward(forward, leaves, framework):
    """forward + a backward pass from a fixed random gradient of the output.

    The gradient has the memory layout of the output (as ``empty_like`` gives it, in either
    framework), which is how gradients arrive from the layers above in a real network.
    """
    state = {}

    def step():
        for t in leaves:
            t.grad = None
        y = forward()
        if "gy" not in state:
            values = np.random.default_rng(1).standard_normal(y.shape, dtype=np.float32)
            if framework == "torch":
                import torch

                gy = torch.empty_like(y)
                gy.copy_(torch.from_numpy(values))
            else:
                import scratchgan as sg

                array = np.empty_like(y.array)
                array[...] = values
                gy = sg.Tensor._make(array)
            state["gy"] = gy
        y.backward(state["gy"])

    return step


def alternate(fns, repeat, warmup=3):
    """Seconds of each call of each of ``fns``, called in turn ``repeat`` times (the order flipped
    every round) after ``warmup`` rounds, so that a burst of load on the machine hits all of
    them."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for r in range(repeat):
        order = range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))
        for k in order:
            t0 = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t0)
    return times


def median_ms(fns, repeat, warmup=3):
    """Medians (ms) of each of ``fns``, called alternately ``repeat`` times after ``warmup``
    rounds."""
    return [1000 * statistics.median(t) for t in alternate(fns, repeat, warmup)]


def run_cases(cases, repeat=20, warmup=3, frameworks=("scratchgan", "torch"), log=print):
    """Time every case in both directions; returns one dict per (case, direction)."""
    rows = []
    for case in cases:
        arrays = case.arrays()
        built = [case.closure(fw, arrays) for fw in frameworks]
        steps = {
            "forward": [f for f, _ in built],
            "forward+backward": [
                _with_backward(f, leaves, fw) for (f, leaves), fw in zip(built, frameworks)
            ],
        }
        for direction in DIRECTIONS:
            ms = median_ms(steps[direction], repeat, warmup)
            row = {"op": case.op, "shape": case.shape, "direction": direction, "device": "cpu"}
            for fw, t in zip(frameworks, ms):
                row[f"{fw}_ms"] = round(t, 3)
            if "torch" in frameworks and "scratchgan" in frameworks:
                row["ratio"] = round(row["scratchgan_ms"] / row["torch_ms"], 3)
            rows.append(row)
            log(format_row(row))
    return rows


def format_row(row):
    sgms, tms = row.get("scratchgan_ms"), row.get("torch_ms")
    ratio = row.get("ratio")
    return (
        f"{row['op']:<18} {row['shape']:<40} {row['direction']:<17} "
        f"{_fmt(sgms):>9} {_fmt(tms):>9} {_fmt(ratio, 2):>6}"
    )


def _fmt(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def load_average():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def environment():
    import numpy

    env = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15": load_average(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
    }
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
    except ImportError:
        env["torch"] = None
    try:
        from threadpoolctl import threadpool_info

        env["numpy_blas"] = [
            f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)"
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        ]
    except ImportError:
        pass
    return env


def markdown_table(rows, env=None):
    lines = []
    if env:
        lines.append(
            f"CPU benchmark, {env.get('date')}, {env.get('cpu_count')} cores, load average "
            f"{env.get('load_average_1_5_15')} before and {env.get('load_average_after')} after, "
            f"numpy {env.get('numpy')} ({', '.join(env.get('numpy_blas') or ['BLAS unknown'])}), "
            f"torch {env.get('torch')} ({env.get('torch_threads')} threads). Medians of "
            "alternating runs after warm-up, float32; ratio = scratchgan / torch (lower is better)."
        )
        lines.append("")
    lines.append("| op | shape | direction | scratchgan ms | torch ms | ratio |")
    lines.append("|---|---|---|---:|---:|---:|")
    for r in rows:
        lines.append(
            f"| {r['op']} | {r['shape']} | {r['direction']} | {_fmt(r.get('scratchgan_ms'))} | "
            f"{_fmt(r.get('torch_ms'))} | {_fmt(r.get('ratio'))} |"
        )
    return "\n".join(lines) + "\n"


def write_results(rows, json_path, md_path, env=None):
    """Merge ``rows`` into ``json_path`` (replacing rows with the same op, shape, direction) and
    rewrite the table."""
    env = env or environment()
    old = []
    if os.path.exists(json_path):
        with open(json_path) as f:
            try:
                old = json.load(f).get("rows", [])
            except (json.JSONDecodeError, AttributeError):
                old = []

    def key(r):
        return (r["op"], r["shape"], r["direction"])

    new_keys = {key(r) for r in rows}
    merged = [r for r in old if key(r) not in new_keys] + [
        dict(r, load_average=env["load_average_1_5_15"]) for r in rows
    ]
    os.makedirs(os.path.dirname(json_path) or ".", exist_ok=True)
    with open(json_path, "w") as f:
        json.dump({"environment": env, "rows": merged}, f, indent=1)
    with open(md_path, "w") as f:
        f.write(markdown_table(merged, env))
    return merged


def write_json_and_markdown(result, out, stem, markdown):
    """``result`` as OUT/STEM.json and the ``markdown`` text as OUT/STEM.md; the two paths."""
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, f"{stem}.{ext}") for ext in ("json", "md")]
    with open(paths[0], "w") as f:
        json.dump(result, f, indent=1)
    with open(paths[1], "w") as f:
        f.write(markdown)
    return paths
