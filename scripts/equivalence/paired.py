"""Paired float32 runs: scratchgan and its PyTorch reference side by side from the same initial
weights, with the same z and dropout draws (scratchgan's, replayed into torch) and the same batches.

    python scripts/equivalence/paired.py MODEL --seed S --steps N [--set KEY=VALUE] [--out F.json]
        [--samples 10000 [--score-steps N1,N2,...]]

run.py's reference runs draw their own initial weights and noise from torch's RNG, so seed S of
one framework and seed S of the other are two unrelated runs. Here only float32 rounding separates
the two trajectories: the script prints both d_loss values at every --every-th step and how far
apart the two G's and the two D's weights are, and writes them as JSON. It answers whether an
event seen in one framework's run (dcgan64's early D collapse) follows from the seed, the same in
both, or from the engine. With --samples N each side then draws N samples (scratchgan from its
own sampling seed, torch from torch's RNG seeded with S, G in evaluation mode), scored as run.py
scores them, and scratchgan's engine then draws from torch's final G (scored alike: if it
matches torch's own score, a gap between the two runs lies in the weights they reached, not in
the forward pass or the sampling); --score-steps scores both G's as they were at earlier steps
too. One process trains both, without checkpoints: a run cannot be resumed.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def parse_args(argv=None):
    import run

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", choices=run.MODELS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, required=True, help="trainer steps (D updates)")
    p.add_argument("--every", type=int, default=10, help="compare the parameters every N steps")
    p.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (default 1)")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--samples", type=int, default=0, help="then score N samples of each, as run.py (default 0)"
    )
    p.add_argument(
        "--score-steps",
        type=lambda text: [int(step) for step in text.split(",")],
        default=[],
        metavar="N1,N2,...",
        help="with --samples, also score both G's as they were at these steps",
    )
    p.add_argument("--out", help="write the per-step record (and the scores) here as JSON")
    return p.parse_args(argv)


def record_draws(generator):
    """From now on every normal/uniform draw of ``generator`` is also logged as (kind, copy)."""
    draws = []
    for kind in ("normal", "uniform"):
        method = getattr(generator, kind)

        def draw(*args, _method=method, _kind=kind, **kwargs):
            array = _method(*args, **kwargs)
            draws.append((_kind, np.array(array)))
            return array

        setattr(generator, kind, draw)
    return draws


def arrays(module):
    """name -> float64 NumPy copy of every parameter and buffer (either framework's module)."""
    return {k: np.array(v.numpy(), dtype=np.float64) for k, v in module.state_dict().items()}


def distance(model, ref):
    """{"G": d, "D": d}: ||ours - theirs|| / ||theirs|| over all of a network's parameters and
    buffers together (per tensor, a bias that starts at zero and gets float-noise gradients
    would make Adam's first steps look like 100% apart)."""
    out = {}
    for name, ours, theirs in (("G", model.G, ref.G), ("D", model.D, ref.D)):
        want, got = arrays(theirs), arrays(ours)
        diff = sum(float(np.sum((got[k] - want[k]) ** 2)) for k in want)
        norm = sum(float(np.sum(want[k] ** 2)) for k in want)
        out[name] = (diff / norm) ** 0.5
    return out


def main(argv=None):
    args = parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):
        return paired_run(args)


def paired_run(args):
    import run
    import torch

    from reference import Replay, TorchGAN
    from scratchgan import train
    from scratchgan.training.protocol import StepContext
    from scratchgan.training.recipes import load_data

    torch.set_num_threads(args.threads)
    config = run.config_for(args)
    train_x = load_data(config)[0]
    config = run.config_for(args, train_x)
    model = train.build_model(config)
    ref = TorchGAN(config, Replay(record_draws(model.generator)))
    ref.load_state(arrays(model.G), arrays(model.D))
    loader = run.loader_for(config, train_x)
    batches = run.endless(loader)
    model.train(True)
    ref.train()
    rows, snapshots, start = [], {}, time.perf_counter()
    for step in range(args.steps):
        (images,) = next(batches)
        epoch, epoch_step = divmod(step, len(loader))
        ours = model.train_step((images,), StepContext(step, epoch, epoch_step, len(loader)))
        theirs = ref.train_step(ref.to_input(images))
        row = {"step": step + 1, "scratchgan": ours, "torch": theirs}
        if (step + 1) % args.every == 0 or step + 1 == args.steps:
            row["distance"] = apart = distance(model, ref)
            print(
                f"step {step + 1}: d_loss scratchgan {ours['d_loss']:.4f} torch "
                f"{theirs['d_loss']:.4f}; weights apart G {apart['G']:.1e} D {apart['D']:.1e} "
                f"({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
        rows.append(row)
        if step + 1 in args.score_steps:
            snapshots[step + 1] = {"scratchgan": arrays(model.G), "torch": arrays(ref.G)}
    if ref.source.draws:
        raise SystemExit(f"torch used {len(ref.source.draws)} fewer draws than scratchgan")
    result = {"model": args.model, "seed": args.seed, "config": config, "rows": rows}
    if args.samples:
        result["scores"] = scores(args, model, ref)
        for framework, metrics in result["scores"].items():
            print(f"{framework}: FID {metrics['fid']:.1f}", flush=True)
        # Scratchgan's engine drawing from torch's final G: the torch FID again if the two
        # engines' forwards agree, so that a gap between the two runs lies in the weights.
        final_torch = arrays(ref.G)
        load_generators(model, ref, {"scratchgan": final_torch, "torch": final_torch})
        crossed = scores(args, model, ref, frameworks=("scratchgan",))["scratchgan"]
        result["torch_weights_in_scratchgan"] = crossed
        print(f"scratchgan drawing from torch's G: FID {crossed['fid']:.1f}", flush=True)
        result["scores_at"] = {}
        for at, state in sorted(snapshots.items()):
            load_generators(model, ref, state)
            result["scores_at"][at] = scores(args, model, ref)
            print(
                f"step {at}: "
                + ", ".join(
                    f"{name} FID {m['fid']:.1f}" for name, m in result["scores_at"][at].items()
                ),
                flush=True,
            )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f)
    return 0


def load_generators(model, ref, state):
    """Put {"scratchgan": arrays, "torch": arrays} (name -> array, as ``arrays``) into both G's."""
    import torch

    model.G.load_state_dict({k: np.asarray(v) for k, v in state["scratchgan"].items()})
    theirs = ref.G.state_dict()
    ref.G.load_state_dict(
        {k: torch.as_tensor(v).to(theirs[k].dtype) for k, v in state["torch"].items()}
    )


def scores(args, model, ref, frameworks=("scratchgan", "torch")):
    """{framework: run.score of args.samples samples of its G in evaluation mode}."""
    import run

    from reference import TorchSource
    from scratchgan.random import Generator
    from scratchgan.training.recipes import derive_seeds

    model.train(False)
    ref.source = TorchSource(args.seed)  # the replayed draws are used up
    sizes = [
        min(run.SAMPLE_CHUNK, args.samples - i) for i in range(0, args.samples, run.SAMPLE_CHUNK)
    ]
    generator = Generator(derive_seeds(args.seed)["extra"])
    draw = {
        "scratchgan": lambda n: model.sample(n, generator),
        "torch": ref.sample,
    }
    return {
        name: run.score(
            run.to_eval_images(np.concatenate([draw[name](n) for n in sizes])), args.dataset
        )
        for name in frameworks
    }


if __name__ == "__main__":
    sys.exit(main())
