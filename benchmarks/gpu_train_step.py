"""Whole training steps on a CUDA GPU: scratchgan (CuPy, our kernels) against PyTorch + cuDNN.

The cases of train_step.py, each built on the device by both frameworks and timed alternating
step by step after warm-up, the device synchronised after every step (wall clock per step).
PyTorch runs with ``torch.backends.cudnn.benchmark = True``.

    python benchmarks/gpu_train_step.py [--out DIR] [--filter TEXT] [--repeat 20] [--warmup 3]

Writes gpu-train-step.json and gpu-train-step.md.
"""

import argparse
import datetime
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

from harness import alternate, write_json_and_markdown  # noqa: E402


def synchronized(step, sync):
    def run():
        step()
        sync()

    return run


def run_cases(cases, device, repeat, warmup, syncs, log=print):
    """[row] of median ms per framework and the ratio; ``syncs`` (scratchgan, torch) wait for
    the device."""
    import train_step

    rows = []
    for name, model_name, overrides, batch, size, kind in cases:
        sg_step = train_step.scratchgan_step(model_name, overrides, batch, size, kind, device)
        torch_step = train_step.torch_step(model_name, overrides, batch, size, kind, device)
        steps = [synchronized(s, sync) for s, sync in zip((sg_step, torch_step), syncs)]
        sg_ms, torch_ms = (1000 * statistics.median(t) for t in alternate(steps, repeat, warmup))
        rows.append(
            {
                "case": name,
                "scratchgan_ms": round(sg_ms, 3),
                "torch_ms": round(torch_ms, 3),
                "ratio": round(sg_ms / torch_ms, 3),
            }
        )
        log(
            f"{name:<22} scratchgan {sg_ms:9.3f} ms  torch {torch_ms:9.3f} ms  "
            f"ratio {sg_ms / torch_ms:5.2f}"
        )
    return rows


def markdown(result):
    env = result["environment"]
    lines = [
        f"# Training steps on {env['device']}",
        "",
        f"{env['date']}; CuPy {env['cupy']}, torch {env['torch']} (cuDNN "
        f"{env['cudnn']}, benchmark mode on). Medians of {env['repeat']} alternating steps "
        f"after {env['warmup']} warm-up steps, device synchronised after each; ratio = "
        "scratchgan / PyTorch (lower is better).",
        "",
        "| step | scratchgan ms | torch ms | ratio |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['case']} | {r['scratchgan_ms']:.3f} | {r['torch_ms']:.3f} | {r['ratio']:.2f} |"
        for r in result["rows"]
    ]
    return "\n".join(lines) + "\n"


def write(result, out):
    return write_json_and_markdown(result, out, "gpu-train-step", markdown(result))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--filter", default="")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    return p.parse_args(argv)


def main(argv=None, log=print):
    import cupy
    import torch

    import train_step

    args = parse_args(argv)
    torch.backends.cudnn.benchmark = True
    cases = [c for c in train_step.CASES if args.filter in c[0]]
    syncs = (cupy.cuda.Device().synchronize, torch.cuda.synchronize)
    rows = run_cases(cases, "cuda", args.repeat, args.warmup, syncs, log)
    env = {
        "device": torch.cuda.get_device_name(),
        "cupy": cupy.__version__,
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "repeat": args.repeat,
        "warmup": args.warmup,
    }
    paths = write({"environment": env, "rows": rows}, args.out)
    log(f"wrote {paths[0]} and {paths[1]}")
    return paths


if __name__ == "__main__":
    main()
