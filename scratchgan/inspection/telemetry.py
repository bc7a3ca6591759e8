"""Training telemetry: per-layer statistics every K steps, and TensorBoard event files.

Every ``telemetry_every`` steps (a recipe key; 0: off) one line of RUN/telemetry.jsonl holds, for
each parameter p (named ``module.dotted.name``) after the step,

    grad_norm     |g|_2 of p.grad
    weight_norm   |w|_2
    update_ratio  |w_after - w_before|_2 / |w_before|_2   (the step's update relative to the weight;
                  null where w_before was all zeros)

for each module m (every named module, containers too) over the outputs of all its calls in the
step

    act_mean, act_std   mean and population standard deviation of the output's elements

and the GAN signals (GANs in Action fig. 5.5): D(x) and D(G(z)) as the step logged them (d_real,
d_fake; losses with a probability output), and the generator's gradient norm, the L2 norm of all
of its parameters' gradients together (``module_grad_norm`` has it for every module). Activations
come from node_tags.forward_observer, set only during a watched step; with telemetry off nothing
is observed or copied.

``tensorboard`` (a recipe key, ``train --tensorboard``) writes RUN/tensorboard/ through
tensorboardX: the step's losses every step; at each epoch's end the epoch's metrics, the sample
grid, and histograms of every weight and gradient.
"""

import json
import math
import os

import numpy as np

from .. import node_tags
from ..tensor import Tensor

TELEMETRY = "telemetry.jsonl"
GAN_SIGNALS = ("d_real", "d_fake", "d_gz", "g_grad_norm")


def _norm(a):
    """|a|_2 in float64, as a Python float."""
    a = a.astype("float64").ravel()
    return math.sqrt(float(a @ a))


def _host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


class Telemetry:
    """The watcher of one run; the trainer calls ``before_step``, ``after_step``, ``end_epoch``
    and ``close``. ``step``: the steps done so far (rows after it, from a run that went on past
    its last checkpoint, are dropped, as metrics.csv's are)."""

    def __init__(self, model, run_dir, every=0, tensorboard=False, step=0):
        self.every, self.run_dir = every, run_dir
        self.params, self.module_names, self.owners = {}, {}, {}
        seen = set()
        for top, module in model.modules().items():
            for sub, m in module.named_modules():
                self.module_names.setdefault(id(m), f"{top}.{sub}" if sub else top)
            for name, p in module.named_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    self.params[f"{top}.{name}"] = p
                    self.owners[f"{top}.{name}"] = top
        self.path = os.path.join(run_dir, TELEMETRY)
        if every:
            self._truncate(step)
        self.writer = None
        if tensorboard:
            from tensorboardX import SummaryWriter

            self.writer = SummaryWriter(os.path.join(run_dir, "tensorboard"), purge_step=step + 1)
        self._watching, self._before, self._acts = False, {}, {}

    @classmethod
    def for_run(cls, config, run_dir, model, step=0):
        """The run's watcher, or None when both telemetry and TensorBoard are off."""
        every, tensorboard = config.get("telemetry_every", 0), config.get("tensorboard", False)
        if not every and not tensorboard:
            return None
        return cls(model, run_dir, every, tensorboard, step)

    def _truncate(self, step):
        if not os.path.exists(self.path):
            return
        with open(self.path) as f:
            rows = [line for line in f if line.strip() and json.loads(line)["step"] <= step]
        with open(self.path, "w") as f:
            f.writelines(rows)

    # ----- a step
    def before_step(self, step):
        """``step``: the number the coming step will have (1 for the first)."""
        self._watching = bool(self.every) and step % self.every == 0
        if self._watching:
            self._before = {name: p.array.copy() for name, p in self.params.items()}
            self._acts = {}
            node_tags.forward_observer = self._observe

    def _observe(self, module, out):
        name = self.module_names.get(id(module))
        if name is None or not isinstance(out, Tensor):
            return
        a = out._data.astype("float64").ravel()
        sums = self._acts.setdefault(name, [0.0, 0.0, 0])
        sums[0] += float(a.sum())
        sums[1] += float(a @ a)
        sums[2] += a.size

    def after_step(self, step, losses):
        if self.writer is not None:
            for key, value in losses.items():
                self.writer.add_scalar(f"train/{key}", float(value), step)
        if not self._watching:
            return None
        node_tags.forward_observer = None
        self._watching = False
        row = self.statistics(step, losses)
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")  # in the model's layer order
        return row

    def statistics(self, step, losses):
        """The telemetry row of the step just taken (see the module docstring)."""
        row = {
            "step": step,
            "grad_norm": {},
            "weight_norm": {},
            "update_ratio": {},
            "act_mean": {},
            "act_std": {},
            "module_grad_norm": {},
        }
        squares = {}
        for name, p in self.params.items():
            before, after = self._before[name], p.array
            row["weight_norm"][name] = _norm(after)
            scale = _norm(before)  # a weight that was all zeros (a fresh bias) has no ratio
            row["update_ratio"][name] = _norm(after - before) / scale if scale else None
            if p.grad is not None:
                row["grad_norm"][name] = g = _norm(p.grad._data)
                squares[self.owners[name]] = squares.get(self.owners[name], 0.0) + g * g
        row["module_grad_norm"] = {m: math.sqrt(s) for m, s in squares.items()}
        for name, (total, total_sq, n) in self._acts.items():
            mean = total / n
            row["act_mean"][name] = mean
            row["act_std"][name] = math.sqrt(max(total_sq / n - mean * mean, 0.0))
        gan = {k: float(losses[k]) for k in GAN_SIGNALS if k in losses}
        if "generator" in row["module_grad_norm"]:
            gan["g_grad_norm"] = row["module_grad_norm"]["generator"]
        row["gan"] = gan
        row["losses"] = {k: float(v) for k, v in losses.items()}
        self._before = {}
        return row

    # ----- an epoch, the end
    def end_epoch(self, epoch, step, metrics, picture_path=None):
        if self.writer is None:
            return
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and key not in ("epoch", "step"):
                self.writer.add_scalar(f"epoch/{key}", float(value), step)
        if picture_path and os.path.exists(picture_path):
            from PIL import Image

            picture = np.asarray(Image.open(picture_path).convert("RGB"))
            self.writer.add_image("samples", picture, step, dataformats="HWC")
        for name, p in self.params.items():
            self.writer.add_histogram(f"weights/{name}", _host(p.array), step)
            if p.grad is not None:
                self.writer.add_histogram(f"gradients/{name}", _host(p.grad._data), step)
        self.writer.flush()

    def close(self):
        node_tags.forward_observer = None
        if self.writer is not None:
            self.writer.close()
