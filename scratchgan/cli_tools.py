"""The developer commands of ``scratchgan``: gradcheck (the op table) and bench (the benchmark
scripts, or ``--profile MODEL``: sg.profile() over a few training steps)."""

import os
import sys

from .cli_support import CommandError, CommandFailure, _limit_blas_threads


def cmd_gradcheck(args):
    from . import opcheck

    if args.op != "all" and args.op not in opcheck.names():
        raise CommandError(f"op {args.op!r}: no such op; known: {', '.join(opcheck.names())}")
    return 0 if opcheck.run_table(args.op) else 1


def cmd_bench(args):
    if args.profile:
        from . import models

        models.get(args.profile)  # an unknown or unbuilt name: one line, before any data loads
        return profile_model(args.profile, args.steps, args.batch_size)
    import pathlib
    import runpy

    root = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
    script = root / {"ops": "ops.py", "mlp": "mlp.py", "train": "train_step.py"}[args.what]
    if not script.exists():
        raise CommandFailure(
            f"bench {args.what}: {script} is not here (benchmarks/ ships with "
            "the source checkout only)"
        )
    rest = list(args.rest)
    if args.what != "mlp" and "--out" not in rest:  # not into the tracked benchmarks/results
        out = args.out or os.path.join("runs", "bench")
        os.makedirs(out, exist_ok=True)
        rest += ["--out", out]
        print(f"bench {args.what}: results go to {out}/ (choose with --out DIR)", file=sys.stderr)
    sys.argv = [str(script)] + rest
    runpy.run_path(str(script), run_name="__main__")
    return 0


def profile_model(model, steps, batch_size):
    """Time ``steps`` training steps of MODEL on its data set with sg.profile(); print the table."""
    import numpy as np

    from . import profile
    from .training.protocol import StepContext
    from .training.recipes import load_data, make_config
    from .training.runs import build_model

    _limit_blas_threads()  # as `train` does
    config = make_config(model, batch_size=batch_size)
    images, labels, _, _ = load_data(config)
    m = build_model(config)
    arrays = m.loader_arrays(images, labels)
    rng = np.random.default_rng(0)

    def batch():
        index = rng.choice(len(arrays[0]), config["batch_size"], replace=False)
        return tuple(a[index] for a in arrays)

    for step in range(2):  # warm-up: first calls allocate and build caches
        m.train_step(batch(), StepContext(step))
    with profile() as prof:
        for step in range(2, 2 + steps):
            m.train_step(batch(), StepContext(step))
    print(
        f"{model}: {steps} training steps, batch {config['batch_size']}, "
        f"{1000 * prof.wall / steps:.1f} ms per step, "
        f"{steps * config['batch_size'] / prof.wall:.0f} images/s"
    )
    print(prof.table())
    return 0
