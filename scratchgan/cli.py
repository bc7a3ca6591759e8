"""The ``scratchgan`` command: list, train, sample, interpolate, inpaint, eval, gradcheck, bench."""

import argparse
import json
import os
import sys

from .cli_support import (
    CommandError,
    CommandFailure,
    Parser,
    _limit_blas_threads,
    count,
    number,
    positive_int,
    run_reporting_errors,
)
from .cli_tools import cmd_bench, cmd_gradcheck

TRAIN_OPTIONS = (
    "dataset",
    "epochs",
    "batch_size",
    "lr",
    "loss",
    "recipe",
    "device",
    "seed",
    "valid_size",
    "checkpoint_every",
    "metrics_every",
    "tensorboard",
)


def _cmd_list(args):
    from . import models

    width = max(len(n) for n in models.names())
    for name in models.names():
        if not models.is_built(name):
            print(f"{name:<{width}}  (not built yet)  {models.describe(name)}")
            continue
        cls = models.get(name)
        r = cls.recipe
        losses = f", --loss {'|'.join(cls.loss_presets)}" if cls.loss_presets else ""
        print(f"{name:<{width}}  {models.describe(name)}")
        print(
            f"{'':<{width}}  defaults: {r.get('epochs')} epochs, batch {r.get('batch_size')}, "
            f"{r.get('optimizer')} lr {r.get('lr')}{losses}"
        )
        if cls.recipes:
            names = ", ".join(name for name in cls.recipes if "/" not in name)
            print(f"{'':<{width}}  presets (--recipe NAME): {names}")
        if cls.options:
            options = ", ".join(f"{k}={r.get(k, v)}" for k, v in cls.options.items())
            print(f"{'':<{width}}  options (--set KEY=VALUE): {options}")
    return 0


def _cmd_train(args):
    from .distributed import launch  # --nproc / mpiexec / srun (docs/DISTRIBUTED.md)
    from .training import recipes, runs
    from .training.checkpoints import CHECKPOINT

    if launch.should_relaunch(args.nproc):
        return launch.relaunch(args.nproc, args.argv)
    Trainer = launch.trainer_class(args.nproc)
    options = {k: getattr(args, k) for k in TRAIN_OPTIONS}
    overrides = recipes.with_settings(args.model, options, args.set or ())
    if args.keep_checkpoints:
        overrides["keep_checkpoints"] = True
    progress = not args.quiet
    if args.resume_from and not os.path.isfile(args.resume_from):
        raise CommandFailure(f"--resume-from {args.resume_from}: no such checkpoint file")
    if args.resume or args.resume_from:
        run_dir = args.out or _run_of_checkpoint(args.resume_from) or runs.find_run(args.model)
        config = runs.resume_config(run_dir, args.model, overrides)
        trainer = Trainer(
            config, run_dir, resume=True, progress=progress, resume_from=args.resume_from
        )
        print(
            f"resuming {run_dir} from {args.resume_from or 'its last checkpoint'}: "
            f"{_position(trainer, config)}",
            file=sys.stderr,
        )
    else:
        config = recipes.make_config(args.model, **overrides)
        run_dir = args.out or runs.default_run_dir(args.model)
        if os.path.exists(os.path.join(run_dir, "checkpoints", CHECKPOINT)):
            raise CommandError(
                f"{run_dir} already holds a run; pass --resume to continue it or "
                "choose another --out"
            )
        trainer = Trainer(config, run_dir, progress=progress)
        print(f"training {args.model} on {config['dataset']} into {run_dir}", file=sys.stderr)
    try:
        summary = trainer.fit(max_steps=args.max_steps)
    except KeyboardInterrupt:
        print(
            f"stopped; continue with: scratchgan train {args.model} --resume --out {run_dir}",
            file=sys.stderr,
        )
        return 130
    final = summary["final"]
    epochs = final.get("epoch", summary["epochs"]) if final else summary["epochs"]
    losses = ", ".join(
        f"{k} {v:.4f}" for k, v in final.items() if k.startswith(("train_", "valid_"))
    )
    print(
        f"{run_dir}: {epochs} epochs, {summary['steps']} steps, "
        f"{summary['train_time_s']:.1f} s training ({summary['wall_time_s']:.1f} s in all), "
        f"{summary['images_per_s']:.0f} img/s" + (f"; {losses}" if losses else "")
    )
    return 0


def _run_of_checkpoint(path):
    """The run directory of RUN/checkpoints/NAME.npz, or None."""
    if not path:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    return os.path.dirname(folder) if os.path.basename(folder) == "checkpoints" else None


def _position(trainer, config):
    """Where a resumed run stands, numbered as the progress bar numbers it."""
    per_epoch = len(trainer.loader)
    if trainer.epoch >= config["epochs"]:
        return (
            f"step {trainer.step}, all {config['epochs']} epochs done (raise --epochs to train on)"
        )
    return (
        f"step {trainer.step}, epoch {trainer.epoch + 1}/{config['epochs']} at step "
        f"{trainer.epoch_step}/{per_epoch}"
    )


def _load(args):
    from .training.checkpoints import CHECKPOINT
    from .training.recipes import checked_device
    from .training.runs import load_run

    if not os.path.isdir(args.run):
        raise CommandFailure(f"RUN {args.run}: not a run directory (no such folder)")
    device = checked_device(args.device) if args.device else None
    checkpoint = args.checkpoint or os.path.join(args.run, "checkpoints", CHECKPOINT)
    return load_run(args.run, checkpoint=checkpoint, device=device)


def _generator(args):
    from .random import Generator
    from .training.recipes import derive_seeds

    return Generator(args.seed if args.seed is not None else derive_seeds(0)["extra"])


def _labelled(config, split):
    """(images, labels) of the test split or of the run's validation split (labels may be None)."""
    from .training.recipes import load_data

    return (load_data(config, split) if split == "test" else load_data(config)[2:])[:2]


def _cmd_sample(args):
    model, config = _load(args)
    out = args.out or os.path.join(args.run, f"sample-{args.n}.png")
    what = model.save_sample(args.n, _generator(args), out, lambda: _labelled(config, "valid")[0])
    print(f"{out}  ({what})" if what else out)
    return 0


def _cmd_interpolate(args):
    from . import viz

    model, config = _load(args)
    images = None if model.generative else _labelled(config, "test")[0]
    strips = model.interpolate(images, args.rows, args.steps, _generator(args))
    out = args.out or os.path.join(args.run, "interpolation.png")
    viz.save_interpolation(strips, out)
    print(out)
    return 0


def _cmd_inpaint(args):
    import numpy as np

    from . import viz
    from .data import to_float

    model, config = _load(args)
    images = _labelled(config, "test")[0][: args.n]
    original = to_float(images)
    mask = np.ones(original.shape[-2:], dtype=bool)
    mask[mask.shape[0] // 2 :] = False  # the bottom half is unknown
    filled = model.inpaint(images, mask, _generator(args))
    strips = np.stack([original, original * mask, filled])
    out = args.out or os.path.join(args.run, "inpainting.png")
    viz.save_interpolation(strips, out)
    print(f"{out}  (rows: original, bottom half removed, filled in)")
    return 0


def _cmd_eval(args):
    from .metrics.evaluate import evaluate_run, metrics_path, print_table

    model, config = _load(args)
    images, labels = _labelled(config, args.split)  # a conditional D needs the labels
    metrics = {k: float(v) for k, v in model.evaluate(images, labels).items()}
    if not metrics:
        raise CommandError(f"{config['model']} has no evaluation metrics yet")
    result = {"split": args.split, "images": len(images), **metrics}
    path = metrics_path(args.run, args.checkpoint, stem=f"eval-{args.split}")
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    for key, value in metrics.items():
        print(f"{args.split}_{key} {value:.6f}")
    print(f"wrote {path}  (the model's own metrics)")
    if args.n:
        # FID, KID, IS, SWD, precision/recall, coverage of this checkpoint, on --device if given
        device = config["device"] if args.device else None
        print_table(evaluate_run(args.run, n=args.n, device=device, checkpoint=args.checkpoint))
        print(f"wrote {metrics_path(args.run, args.checkpoint)}  (the table above)")
    return 0


def build_parser():
    from .inspection import commands as inspection_commands
    from .training.recipes import loss_names

    p = Parser(prog="scratchgan", description=__doc__)
    p.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an error (also accepted after the subcommand)",
    )
    sub = p.add_subparsers(dest="command", required=True)

    ls = sub.add_parser("list", help="every model name, built or not, with its default recipe")
    ls.set_defaults(func=_cmd_list)

    t = sub.add_parser(
        "train", help="train a model into a run directory (pictures, metrics, checkpoints)"
    )
    t.add_argument("model", help="a model name (see `scratchgan list`)")
    t.add_argument("--dataset", help="data set name (default: the model's, usually fashion-mnist)")
    t.add_argument(
        "--epochs",
        type=positive_int,
        help="passes over the training images (default: the model's recipe)",
    )
    t.add_argument(
        "--batch-size",
        dest="batch_size",
        type=positive_int,
        help="images per training step (default: the model's recipe)",
    )
    t.add_argument("--lr", type=number, help="learning rate (of every optimiser of the model)")
    t.add_argument("--loss", choices=loss_names(), help="GAN objective (GANs only)")
    t.add_argument(
        "--recipe",
        metavar="NAME",
        help="a named preset of the model over its recipe, e.g. full (see `scratchgan list`)",
    )
    t.add_argument("--device", help="cpu, cuda or cuda:N (default: $SCRATCHGAN_DEVICE, else cpu)")
    t.add_argument(
        "--seed",
        type=count,
        help="seed of every random draw of the run (default 0): same seed, same run",
    )
    t.add_argument("--out", help="run directory (default runs/<model>-<time>)")
    t.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out (default: the newest for MODEL)",
    )
    t.add_argument(
        "--resume-from",
        dest="resume_from",
        metavar="PATH",
        help="continue from this checkpoint (e.g. RUN/checkpoints/previous.npz when "
        "last.npz is corrupt); implies --resume; nothing is overwritten",
    )
    t.add_argument(
        "--valid-size",
        dest="valid_size",
        type=count,
        help="validation images held out of the training split (default 5000)",
    )
    t.add_argument(
        "--checkpoint-every",
        dest="checkpoint_every",
        type=count,
        help="also checkpoint every N steps",
    )
    t.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override any recipe key (see `scratchgan list`), e.g. --set noise=dropout",
    )
    t.add_argument(
        "--metrics-every",
        dest="metrics_every",
        type=count,
        help="GANs/VAEs: log FID, KID, IS and class coverage to metrics.csv every N epochs",
    )
    t.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="keep checkpoints/epoch-XXX.npz besides last.npz",
    )
    t.add_argument(
        "--max-steps",
        dest="max_steps",
        type=positive_int,
        help="stop after N steps in all, with a checkpoint, a picture, metrics.csv and loss.png",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--tensorboard",
        action="store_true",
        default=None,
        help="also write TensorBoard event files to RUN/tensorboard (tensorboardX)",
    )
    t.add_argument(
        "--nproc",
        type=int,
        default=None,
        help="data-parallel ranks on this machine (through mpiexec; the batch size stays the "
        "global batch); inside mpiexec -n N or srun: the job's ranks",
    )
    t.set_defaults(func=_cmd_train)

    def run_command(name, help, func):
        c = sub.add_parser(name, help=help)
        c.add_argument("run", help="a run directory (from `scratchgan train`)")
        c.add_argument("--device", help="device to run on (default: the run's)")
        c.add_argument(
            "--seed",
            type=count,
            help="seed of the random draws (default: a fixed one, so reruns agree)",
        )
        c.add_argument(
            "--checkpoint",
            metavar="PATH",
            help="the checkpoint to load (default RUN/checkpoints/last.npz)",
        )
        c.set_defaults(func=func)
        return c

    c = run_command(
        "sample",
        "a grid of samples from a generative model (cyclegan: "
        "translations of validation images A->B and B->A)",
        _cmd_sample,
    )
    c.add_argument(
        "--n",
        type=positive_int,
        default=64,
        help="images in the grid (default 64; cyclegan: images per domain)",
    )
    c.add_argument("--out", help="PNG path (default RUN/sample-N.png)")
    c = run_command(
        "interpolate", "rows of images along straight lines in code space", _cmd_interpolate
    )
    c.add_argument(
        "--rows", type=positive_int, default=4, help="interpolations, one per row (default 4)"
    )
    c.add_argument(
        "--steps",
        type=positive_int,
        default=9,
        help="images per row, both ends included (default 9)",
    )
    c.add_argument("--out", help="PNG path (default RUN/interpolation.png)")
    c = run_command("inpaint", "fill in the bottom half of test images", _cmd_inpaint)
    c.add_argument("--n", type=positive_int, default=8, help="test images to fill in (default 8)")
    c.add_argument("--out", help="PNG path (default RUN/inpainting.png)")
    c = run_command("eval", "the model's metrics on the test (or validation) split", _cmd_eval)
    c.add_argument(
        "--split",
        choices=["test", "valid"],
        default="test",
        help="the images the model's own metrics score (default test)",
    )
    c.add_argument(
        "--n", type=count, default=10000, help="GAN-metric samples, scored against test (0: skip)"
    )

    g = sub.add_parser(
        "gradcheck",
        help="check every op's first and second derivatives against central differences",
    )
    g.add_argument("op", nargs="?", default="all", help="an op name, or 'all' (default)")
    g.set_defaults(func=cmd_gradcheck)

    b = sub.add_parser("bench", help="time ops or training steps against PyTorch in one run")
    b.add_argument(
        "what",
        choices=["ops", "mlp", "train"],
        nargs="?",
        default="ops",
        help="ops (default), mlp or train (whole training steps)",
    )
    b.add_argument(
        "--profile",
        metavar="MODEL",
        help="instead: profile MODEL's training step per op and direction",
    )
    b.add_argument(
        "--steps", type=positive_int, default=10, help="steps to profile (with --profile)"
    )
    b.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="batch size (with --profile; default: the recipe's)",
    )
    b.add_argument(
        "--out",
        help="directory for the reports (default runs/bench; the tracked "
        "benchmarks/results only when named here)",
    )
    b.add_argument(
        "rest", nargs=argparse.REMAINDER, help="arguments passed on to the benchmark script"
    )
    b.set_defaults(func=cmd_bench)
    inspection_commands.add_commands(sub)  # graph MODEL, report RUN
    return p


def main(argv=None):
    """Run the command line ``argv`` (default sys.argv[1:]); returns the exit status: 0, 1 (a
    failure: missing or corrupt files, a device that is not there) or 2 (a usage error). Errors
    are one line on stderr; ``--debug`` adds the traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for --nproc's relaunch
    if args.command in ("train", "sample", "interpolate", "inpaint", "eval"):
        _limit_blas_threads()
    return run_reporting_errors(args.command, args.func, args, debug)


if __name__ == "__main__":
    sys.exit(main())
