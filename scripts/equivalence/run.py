"""Train one of dcgan, wgan-gp, lsgan, dcgan64 with scratchgan or with its PyTorch reference, then
score samples with scratchgan's own classifier features (issue 18, acceptance 1).

    python scripts/equivalence/run.py MODEL --seed S --steps N --framework {scratchgan,torch}
        --out DIR [--samples 10000] [--threads 1] [--dataset fashion-mnist] [--set KEY=VALUE]

Both frameworks read the recipe from scratchgan's make_config(MODEL) (seed S), see the same batches
in the same order (scratchgan's DataLoader with the seed the trainer derives from S) and train for
N trainer steps (D updates; G updates every n_critic of them). scratchgan trains through its own
Trainer (DIR/run is a normal run directory); torch draws its initial weights, noise and dropout
masks with its own RNG seeded with S. Then DIR/samples.npy holds the samples (uint8 N x 1 x 28 x 28,
G in evaluation mode; dcgan64's 64 x 64 samples resized back to 28 x 28 bilinearly, as the
classifier needs), and DIR/result.json their FID, KID, precision/recall, class coverage, IS, SWD
against the test split, with the training time and the machine. A DIR that already holds
result.json is skipped (all.sh reruns safely; --force starts it again from step 0). An unfinished
one continues from its last checkpoint, taken every --checkpoint-every steps (scratchgan: the
Trainer's own, DIR/run/checkpoints; torch: DIR/torch-checkpoint.pt with both networks, both
optimisers, its RNG state and the step), bit for bit as if never stopped.
"""

import argparse
import json
import math
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = ("dcgan", "wgan-gp", "lsgan", "dcgan64")
FRAMEWORKS = ("scratchgan", "torch")
SAMPLE_CHUNK = 500
TORCH_CHECKPOINT = "torch-checkpoint.pt"
EVAL_SIZE = 28  # the feature classifier's input side (Fashion-MNIST)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", choices=MODELS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, required=True, help="trainer steps (D updates)")
    p.add_argument("--framework", choices=FRAMEWORKS, required=True)
    p.add_argument("--out", required=True, help="result directory")
    p.add_argument("--samples", type=int, default=10000, help="samples to score (default 10000)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (default 1)")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a recipe override for both frameworks, as `scratchgan train --set` (e.g. width=32)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=250,
        metavar="N",
        help="checkpoint every N steps, so an interrupted run continues (default 250)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="start again from step 0, even if DIR/result.json exists",
    )
    args = p.parse_args(argv)
    for name in ("seed", "steps", "samples", "threads", "checkpoint_every"):
        value, least = getattr(args, name), 0 if name == "seed" else 1
        if value < least:
            p.error(f"--{name.replace('_', '-')} {value}: expected an integer >= {least}")
    return args


def config_for(args, train_x=None):
    from scratchgan import data as sgdata
    from scratchgan.training.recipes import make_config, with_settings

    overrides = with_settings(args.model, {"seed": args.seed, "dataset": args.dataset}, args.set)
    config = make_config(args.model, **overrides)
    if train_x is not None:
        config["image_shape"] = list(sgdata.to_float(train_x[:1]).shape[1:])
    return config


def to_eval_images(x):
    """[0, 1] float samples N x C x S x S -> uint8 N x C x 28 x 28 (bilinear resize if S != 28)."""
    import numpy as np

    from scratchgan.data.transforms import resize

    if x.shape[-1] != EVAL_SIZE:
        x = resize(x, EVAL_SIZE)
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)


def train_scratchgan(args):
    """(samples in [0, 1], train_time_s, steps, step resumed from) of scratchgan's Trainer run in
    DIR/run."""
    import numpy as np

    from scratchgan.random import Generator
    from scratchgan.training.checkpoints import CHECKPOINT
    from scratchgan.training.recipes import derive_seeds, load_data
    from scratchgan.training.trainer import Trainer

    config = config_for(args)
    config["checkpoint_every"] = args.checkpoint_every
    data = load_data(config)
    steps_per_epoch = len(data[0]) // config["batch_size"]
    config["epochs"] = max(1, math.ceil(args.steps / steps_per_epoch))
    run_dir = os.path.join(args.out, "run")
    resume = os.path.isfile(os.path.join(run_dir, "checkpoints", CHECKPOINT))
    if resume:
        print(f"continuing {run_dir} from its last checkpoint", file=sys.stderr)
    trainer = Trainer(config, run_dir, resume=resume, data=data, progress=True)
    resumed_from = trainer.step
    summary = trainer.fit(max_steps=args.steps)
    model = trainer.model
    model.train(False)
    generator = Generator(derive_seeds(args.seed)["extra"])
    chunks = [
        model.sample(min(SAMPLE_CHUNK, args.samples - i), generator)
        for i in range(0, args.samples, SAMPLE_CHUNK)
    ]
    return np.concatenate(chunks), summary["train_time_s"], trainer.step, resumed_from


def train_torch(args):
    """(samples in [0, 1], train_time_s, steps, step resumed from) of the PyTorch reference, same
    recipe and batches."""
    import numpy as np
    import torch

    sys.path.insert(0, HERE)
    from reference import TorchGAN, TorchSource
    from scratchgan.training.recipes import load_data

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)  # construction draws (all overwritten by init_)
    config = config_for(args)
    train_x = load_data(config)[0]
    config = config_for(args, train_x)
    ref = TorchGAN(config, TorchSource(args.seed))
    loader = loader_for(config, train_x)
    checkpoint = os.path.join(args.out, TORCH_CHECKPOINT)
    step, train_time = load_torch_state(checkpoint, ref) if os.path.isfile(checkpoint) else (0, 0.0)
    resumed_from, batches = step, endless(loader)
    for _ in range(step):  # the loader's order up to the checkpoint (no training)
        next(batches)
    sums, last = {}, time.perf_counter()
    every = max(1, args.steps // 20)
    ref.train()
    while step < args.steps:
        (images,) = next(batches)
        t0 = time.perf_counter()
        logs = ref.train_step(ref.to_input(images))
        train_time += time.perf_counter() - t0
        step += 1
        for key, value in logs.items():
            sums.setdefault(key, []).append(value)
        if step % every == 0 or step == args.steps:
            means = " ".join(f"{k} {np.mean(v):.4f}" for k, v in sums.items())
            speed = every * config["batch_size"] / max(time.perf_counter() - last, 1e-9)
            print(f"step {step}/{args.steps} {means} {speed:.0f} img/s", file=sys.stderr)
            sums, last = {}, time.perf_counter()
        if step % args.checkpoint_every == 0 and step < args.steps:
            save_torch_state(checkpoint, ref, step, train_time)
    sizes = [min(SAMPLE_CHUNK, args.samples - i) for i in range(0, args.samples, SAMPLE_CHUNK)]
    chunks = [ref.sample(n) for n in sizes]
    return np.concatenate(chunks), round(train_time, 3), step, resumed_from


def loader_for(config, train_x):
    """The batches scratchgan's Trainer sees: its DataLoader with the seed it derives."""
    from scratchgan import data as sgdata
    from scratchgan.training.recipes import derive_seeds

    return sgdata.DataLoader(
        (train_x,),
        config["batch_size"],
        shuffle=True,
        drop_last=config["drop_last"],
        seed=derive_seeds(config["seed"])["loader"],
    )


def endless(loader):
    """The loader's batches epoch after epoch, as the training loop draws them."""
    while True:
        yield from loader


def save_torch_state(path, ref, step, train_time):
    """Everything the reference's next step depends on, written atomically."""
    import torch

    state = {
        "step": step,
        "train_time": train_time,
        "ref_step": ref.step,
        "networks": {"G": ref.G.state_dict(), "D": ref.D.state_dict()},
        "optimizers": {"G": ref.opt_g.state_dict(), "D": ref.opt_d.state_dict()},
        "source_rng": ref.source.generator.get_state(),
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


def load_torch_state(path, ref):
    """Restore what save_torch_state wrote into ``ref``; returns (step, train_time)."""
    import torch

    state = torch.load(path, weights_only=False)
    ref.G.load_state_dict(state["networks"]["G"])
    ref.D.load_state_dict(state["networks"]["D"])
    ref.opt_g.load_state_dict(state["optimizers"]["G"])
    ref.opt_d.load_state_dict(state["optimizers"]["D"])
    ref.source.generator.set_state(state["source_rng"])  # every draw: init, z, dropout
    ref.step = state["ref_step"]
    print(f"continuing from {path} at step {state['step']}", file=sys.stderr)
    return state["step"], state["train_time"]


def machine(threads):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from machine import facts, label

    f = facts(threads)
    return {"label": label(f), **{k: f[k] for k in ("cpu_model", "isa", "date", "torch")}}


def score(samples, dataset):
    """compute_all of the samples against the test split, scratchgan's classifier features."""
    from scratchgan import data as sgdata
    from scratchgan.metrics import compute_all, dataset_embedding, load_classifier

    classifier = load_classifier(dataset)
    real, _ = sgdata.load(dataset, "test")
    feats, probs, _ = dataset_embedding(dataset, "test", classifier)
    return compute_all(real, samples, classifier, (feats, probs), seed=0)


def main(argv=None):
    args = parse_args(argv)
    result_path = os.path.join(args.out, "result.json")
    if os.path.isfile(result_path) and not args.force:
        print(f"{result_path} exists: skipped (pass --force to run again)", file=sys.stderr)
        return 0
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy and torch load their BLAS
    from threadpoolctl import threadpool_limits

    if args.force:  # from step 0: drop what an earlier run left
        shutil.rmtree(os.path.join(args.out, "run"), ignore_errors=True)
        for name in (TORCH_CHECKPOINT, "result.json"):
            if os.path.isfile(os.path.join(args.out, name)):
                os.remove(os.path.join(args.out, name))
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    with threadpool_limits(args.threads):
        train = train_scratchgan if args.framework == "scratchgan" else train_torch
        raw, train_time, steps, resumed_from = train(args)
        wall = time.perf_counter() - t0
        import numpy as np

        samples = to_eval_images(raw)
        np.save(os.path.join(args.out, "samples.npy"), samples)
        t1 = time.perf_counter()
        metrics = score(samples, args.dataset)
    result = {
        "model": args.model,
        "framework": args.framework,
        "seed": args.seed,
        "steps": steps,
        "samples": len(samples),
        "sample_shape": list(raw.shape[1:]),
        "dataset": args.dataset,
        "settings": args.set,
        "threads": args.threads,
        "train_time_s": train_time,
        "train_wall_time_s": round(wall, 1),  # this process's: from resumed_from_step on
        "resumed_from_step": resumed_from,
        "eval_time_s": round(time.perf_counter() - t1, 1),
        "machine": machine(args.threads),
        "command": " ".join(["python", "scripts/equivalence/run.py", *sys.argv[1:]]),
        **metrics,
    }
    with open(result_path + ".tmp", "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(result_path + ".tmp", result_path)
    print(
        f"{args.model} {args.framework} seed {args.seed}: {steps} steps, FID {result['fid']:.1f}, "
        f"train {train_time:.0f} s; wrote {result_path}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
