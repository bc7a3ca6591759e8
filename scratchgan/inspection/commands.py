"""``scratchgan graph MODEL`` (the graph of one training step of a registry model) and
``scratchgan report RUN``; ``add_commands`` registers both with the command line."""

import contextlib
import sys

import numpy as np


@contextlib.contextmanager
def kept_backward_roots():
    """Inside, every ``Tensor.backward`` keeps its graph (retain_graph=True) and its tensor is
    listed, so the graph of a whole training step can be drawn after the step, with gradients."""
    from ..tensor import Tensor

    roots, original = [], Tensor.backward

    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        roots.append(self)
        return original(self, gradient, retain_graph=True, create_graph=create_graph)

    Tensor.backward = backward
    try:
        yield roots
    finally:
        Tensor.backward = original


def step_images(config, n, seed=0):
    """(images, labels) for one step: the first ``n`` of the run's data set if it is here, else
    random uint8 28 x 28 images (the graph does not depend on the pixels)."""
    from ..data import DatasetNotFoundError, load

    try:
        images, labels = load(config["dataset"], "train")
        return images[:n], None if labels is None else labels[:n]
    except DatasetNotFoundError:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10


def graph_of_training_step(model_name, path, batch_size=None, device=None, overrides=None):
    """Build ``model_name``, run one training step and draw every graph it backpropagated through
    (with the step's gradients) into ``path``; returns (path, timings)."""
    from ..data import to_float
    from ..training import recipes, runs
    from ..training.protocol import StepContext
    from .graph_page import render

    config = recipes.make_config(
        model_name, batch_size=batch_size, device=device, **(overrides or {})
    )
    images, labels = step_images(config, config["batch_size"])
    if "image_shape" not in config and images.ndim in (3, 4):  # as the trainer sets it
        config["image_shape"] = list(to_float(images[:1]).shape[1:])
    model = runs.build_model(config)
    batch = model.loader_arrays(images, labels)
    model.train(True)
    with kept_backward_roots() as roots:
        model.train_step(batch, StepContext())
    return render(
        roots, params=model.modules(), path=path, title=f"{model_name}: one training step"
    )


def _cmd_graph(args):
    path, timings = graph_of_training_step(
        args.model, args.out or f"{args.model}-graph.html", args.batch_size, args.device
    )
    print(
        f"wrote {path} ({timings['total_s']:.2f} s: layout {timings['layout_s']:.2f} s)",
        file=sys.stderr,
    )
    return 0


def _cmd_report(args):
    from .report import write_report

    print(write_report(args.run))
    return 0


def add_commands(sub):
    """Register ``graph`` and ``report`` on the command line's subparsers."""
    g = sub.add_parser(
        "graph",
        help="draw the autograd graph of one training step of MODEL as an interactive HTML page",
    )
    g.add_argument("model", help="a model name (see `scratchgan list`)")
    g.add_argument("--out", help="HTML path (default MODEL-graph.html)")
    g.add_argument(
        "--batch-size",
        dest="batch_size",
        type=int,
        default=4,
        help="images in the drawn training step (default 4)",
    )
    g.add_argument("--device", help="cpu, cuda or cuda:N (default: $SCRATCHGAN_DEVICE, else cpu)")
    g.set_defaults(func=_cmd_graph)
    r = sub.add_parser(
        "report",
        help="write RUN/report.html: config, samples, curves, telemetry, "
        "profile and checkpoints of a run, on one self-contained page",
    )
    r.add_argument("run", help="a run directory (from `scratchgan train`)")
    r.set_defaults(func=_cmd_report)
