"""The trainer: one loop for every model, with run directories, exact resume, pictures, progress.

A model family is a subclass of ``Model`` (protocol.py) registered in ``scratchgan.models``. The
trainer owns everything else:

    runs/<model>-<time>/
        config.json            the full recipe of the run (model defaults + command-line overrides)
        metrics.csv            one row per epoch: step, train losses (epoch means), valid metrics,
                               timing (and a last partial row when --max-steps stops mid-epoch)
        train_log.csv          train loss means over intervals of steps (loss.png's curves)
        samples/epoch-001.png  a picture per epoch (reconstructions for AEs, fixed-latent samples
                               for GANs)
        loss.png               train_log.csv and metrics.csv's validation metrics against steps
        checkpoints/last.npz   modules, optimisers, RNG states, data-loader position, counters
                               (no pickle; checkpoints.py), previous.npz (the one before) and
                               manifest.json (their sha256)
        summary.json           final metrics, wall time, images/s

Every random draw of a run comes from CPU generators seeded from ``config["seed"]`` (model
initialisation and noise: one ``sg.Generator``; shuffling: the DataLoader's own), and all of their
states go into the checkpoint, so ``resume`` continues bit for bit on the CPU, from any step.
"""

import csv
import json
import os
import signal
import threading
import time

import numpy as np

from .. import data as sgdata
from .. import machine, threads, viz
from ..backend import device_context
from ..inspection.report import finish_run
from ..inspection.telemetry import Telemetry
from ..metrics.evaluate import interval_metrics
from ..random import Generator
from .checkpoints import CHECKPOINT, load_checkpoint, save_checkpoint
from .progress import progress_display
from .protocol import StepContext
from .recipes import derive_seeds, load_data
from .runs import build_model

LOG_POINTS_PER_EPOCH = 20  # train_log.csv rows per epoch (at most)
# what a checkpoint keeps of the trainer besides wall_time
STATE_KEYS = (
    "step",
    "epoch",
    "epoch_step",
    "sums",
    "counts",
    "epoch_images",
    "epoch_time",
    "train_time",
    "images_seen",
    "history",
    "resumes",
)


class Trainer:
    """Train ``config["model"]`` into ``run_dir``; ``resume=True`` continues from
    checkpoints/last.npz, or from the checkpoint ``resume_from`` names.

    ``data`` may give (train_images, train_labels, valid_images, valid_labels) directly (tests do);
    otherwise they come from ``load_data(config)``. ``progress``: True (stderr bar), False, or a
    ProgressBar.
    """

    def __init__(self, config, run_dir, resume=False, data=None, progress=True, resume_from=None):
        self.config, self.run_dir = dict(config), run_dir
        data = data if data is not None else load_data(config)
        self.train_x, self.train_y, self.valid_x, self.valid_y = data
        images = self.train_x.dtype == np.uint8 and self.train_x.ndim in (3, 4)
        if "image_shape" not in self.config and images:
            self.config["image_shape"] = list(sgdata.to_float(self.train_x[:1]).shape[1:])
        seeds = derive_seeds(config["seed"])
        self.generator = Generator(seeds["model"])
        self.model = build_model(self.config, self.generator)
        arrays = self.model.loader_arrays(self.train_x, self.train_y)
        if config["drop_last"] and len(arrays[0]) < config["batch_size"]:
            raise ValueError(
                f"batch_size={config['batch_size']}: larger than the {len(arrays[0])} "
                "training images (whole batches only); pass a smaller --batch-size"
            )
        self.loader = sgdata.DataLoader(
            arrays,
            config["batch_size"],
            shuffle=True,
            drop_last=config["drop_last"],
            seed=seeds["loader"],
        )
        self.bar = progress_display(progress)
        self.step = 0  # optimisation steps so far
        self.epoch = 0  # completed epochs
        self.epoch_step = 0  # steps into the current epoch
        self.sums, self.counts = {}, {}  # running loss sums of the current epoch
        self.epoch_images, self.epoch_time = 0, 0.0
        self.train_time, self.images_seen = 0.0, 0  # the whole run, across resumes (steps only)
        self.wall_time, self._fit_start = 0.0, None  # steps, validation, pictures, checkpoints
        self.history = []  # metrics.csv rows
        self.resumes = 0
        self._interrupted = False
        self.log_every = max(1, len(self.loader) // LOG_POINTS_PER_EPOCH)  # steps per train_log row
        if resume or resume_from:
            self._restore(resume_from)
        else:
            os.makedirs(self.run_dir, exist_ok=True)
            if os.path.exists(self.path("train_log.csv")):  # of an earlier run that never saved
                os.remove(self.path("train_log.csv"))
            self._write_json("config.json", self.config)
        self.telemetry = Telemetry.for_run(self.config, self.run_dir, self.model, self.step)

    # ----- paths and files
    def path(self, *parts):
        return os.path.join(self.run_dir, *parts)

    def _write_json(self, name, obj):
        with open(self.path(name), "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")

    def _write_metrics(self, rows=None):
        rows = self.history if rows is None else rows
        if rows:
            _write_csv(self.path("metrics.csv"), rows)

    def _log_interval(self):
        """Append the train loss means of the steps since the last train_log.csv row."""
        row = {"step": self.step, "epoch": round(self.step / len(self.loader), 4)}
        row.update({k: self._interval[0][k] / self._interval[1][k] for k in self._interval[0]})
        self._interval = ({}, {})
        path = self.path("train_log.csv")
        fields = []
        if os.path.exists(path):
            with open(path, newline="") as f:
                fields = next(csv.reader(f), [])
        if not fields or not set(row) <= set(fields):  # a new column: rewrite with the union
            _write_csv(path, self._train_log() + [row])
            return
        with open(path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=fields).writerow(row)

    def _train_log(self):
        if not os.path.exists(self.path("train_log.csv")):
            return []
        with open(self.path("train_log.csv"), newline="") as f:
            return list(csv.DictReader(f))

    def _plot_losses(self, rows=None):
        """loss.png: train loss means per logged interval and validation metrics, against steps."""
        rows = self.history if rows is None else rows
        curves = {}
        for row in self._train_log():
            for key, value in row.items():
                if key not in ("step", "epoch") and value not in (None, ""):
                    xs, ys = curves.setdefault(f"train {key}", ([], []))
                    xs.append(int(row["step"]))
                    ys.append(float(value))
        for key in rows[-1] if rows else ():
            if key.startswith("valid_"):
                points = [(row["step"], row[key]) for row in rows if row.get(key) not in (None, "")]
                if points:
                    curves[key.replace("_", " ", 1)] = tuple(zip(*points))
        if curves:
            viz.save_loss_curves(
                curves,
                self.path("loss.png"),
                xlabel="step",
                ylabel=f"train mean per {self.log_every} steps / validation",
                title=f"{self.config['model']} on {self.config['dataset']}",
            )

    # ----- checkpoints
    def state(self):
        return {**{k: getattr(self, k) for k in STATE_KEYS}, "wall_time": self._wall()}

    def _wall(self):
        running = time.perf_counter() - self._fit_start if self._fit_start is not None else 0.0
        return self.wall_time + running

    def save(self, name=CHECKPOINT):
        self._saved_step = self.step
        return save_checkpoint(
            self.path("checkpoints", name),
            self.model,
            self.state(),
            self.loader,
            [("model", self.generator)],
        )

    def _restore(self, path=None):
        path = path or self.path("checkpoints", CHECKPOINT)
        state = load_checkpoint(path, self.model, self.loader, [("model", self.generator)])
        for key, value in state.items():
            setattr(self, key, value)
        self.resumes += 1
        self._write_metrics()  # drop rows written after the checkpoint
        log = [row for row in self._train_log() if int(row["step"]) <= self.step]
        if log:
            _write_csv(self.path("train_log.csv"), log)
        self._write_json("config.json", self.config)

    # ----- the loop
    def fit(self, max_steps=None):
        """Train until config["epochs"] epochs are done (or ``max_steps`` steps in all, for tests
        and benchmarks), then checkpoint and write summary.json; returns the summary dict.

        Ctrl-C finishes the current step, saves checkpoints/last.npz and raises KeyboardInterrupt.
        A stop by ``max_steps`` mid-epoch also writes a picture (samples/step-NNNNNN.png), and
        metrics.csv, loss.png and summary.json end with a partial-epoch row.
        """
        with device_context(self.config["device"]):  # a cuda:N run allocates and runs on N
            return self._fit(max_steps)

    def _fit(self, max_steps):
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps={max_steps}: expected at least 1")
        epochs, steps_per_epoch = self.config["epochs"], len(self.loader)
        every = self.config["checkpoint_every"]
        self._fit_start = time.perf_counter()
        self._interval, partial, self._saved_step = ({}, {}), None, None
        previous = self._install_sigint()
        try:
            while self.epoch < epochs and (max_steps is None or self.step < max_steps):
                self.model.train()
                for batch in self.loader:
                    if self.telemetry is not None:
                        self.telemetry.before_step(self.step + 1)
                    self._schedule_lr(epochs * steps_per_epoch)
                    t0 = time.perf_counter()
                    ctx = StepContext(self.step, self.epoch, self.epoch_step, steps_per_epoch)
                    losses = self.model.train_step(batch, ctx)
                    dt = time.perf_counter() - t0
                    if self.telemetry is not None:
                        self.telemetry.after_step(self.step + 1, losses)
                    self._account(losses, len(batch[0]), dt)
                    done = self.epoch_step == steps_per_epoch
                    self._show_progress(epochs, steps_per_epoch, done, max_steps)
                    if done:
                        self._end_epoch()
                    elif every and self.step % every == 0:
                        self.save()
                    if self._interrupted:
                        if self._saved_step != self.step:
                            self.save()
                        self.bar.message(
                            f"interrupted at step {self.step}: saved "
                            f"{self.path('checkpoints', CHECKPOINT)}"
                        )
                        raise KeyboardInterrupt
                    if max_steps is not None and self.step >= max_steps:
                        if not done:
                            if self._saved_step != self.step:
                                self.save()
                            partial = self._stop_mid_epoch(steps_per_epoch)
                        break
        finally:
            self._restore_sigint(previous)
            self.bar.close()
            self.wall_time, self._fit_start = self._wall(), None
        summary = self._summary(partial)
        finish_run(self.run_dir, self.telemetry)  # closes the telemetry, writes report.html
        return summary

    def _schedule_lr(self, total_steps):
        """With lr_decay_start s < 1, step k's lr is lr0 * min(1, (T - k) / (T - floor(s T))) for
        a run of T steps: constant, then linear to 0 (lr0: each param group's initial lr). A
        function of the step alone, so a resumed run continues the schedule exactly."""
        start = self.config.get("lr_decay_start", 1.0)
        if start >= 1:
            return
        span = max(1, total_steps - int(start * total_steps))
        factor = min(1.0, (total_steps - self.step) / span)
        for optimizer in self.model.optimizers().values():
            for group in optimizer.param_groups:
                group["lr"] = group.setdefault("initial_lr", group["lr"]) * factor

    def _account(self, losses, n_images, dt):
        self.step += 1
        self.epoch_step += 1
        self.epoch_images += n_images
        self.images_seen += n_images
        self.epoch_time += dt
        self.train_time += dt
        sums, counts = self._interval
        for key, value in losses.items():
            self.sums[key] = self.sums.get(key, 0.0) + float(value)
            self.counts[key] = self.counts.get(key, 0) + 1
            sums[key] = sums.get(key, 0.0) + float(value)
            counts[key] = counts.get(key, 0) + 1
        if self.step % self.log_every == 0 or self.epoch_step == len(self.loader):
            self._log_interval()

    def _show_progress(self, epochs, steps_per_epoch, done, max_steps=None):
        speed = self.epoch_images / max(self.epoch_time, 1e-9)
        left = (epochs - self.epoch) * steps_per_epoch - self.epoch_step
        if max_steps is not None:  # the ETA of the run as it will stop, not of its epochs
            left = min(left, max_steps - self.step)
        eta = left * self.epoch_time / max(self.epoch_step, 1)
        means = {k: self.sums[k] / self.counts[k] for k in self.sums}
        self.bar.update(
            self.epoch + 1, epochs, self.epoch_step, steps_per_epoch, means, speed, eta, done
        )

    def _evaluate_row(self, epoch, picture, metrics=False):
        """A metrics.csv row of the steps since the epoch began (validation metrics, timing), and
        the picture of the validation images at ``picture`` (a path in samples/)."""
        self.model.train(False)
        self.model.after_steps(self.train_x)
        has_valid = self.valid_x is not None and len(self.valid_x)
        valid = self.model.evaluate(self.valid_x, self.valid_y) if has_valid else {}
        row = {"epoch": epoch, "step": self.step}
        row.update({f"train_{k}": self.sums[k] / self.counts[k] for k in self.sums})
        row.update({f"valid_{k}": float(v) for k, v in valid.items()})
        if metrics:
            n = self.config.get("metrics_n", 1000)
            m = interval_metrics(self.model, self.config["dataset"], n=n)
            row.update({f"metric_{k}": float(v) for k, v in m.items()})
        row["epoch_time_s"] = round(self.epoch_time, 3)
        row["images_per_s"] = round(self.epoch_images / max(self.epoch_time, 1e-9), 1)
        images = self.valid_x if has_valid else self.train_x
        self.model.picture(images, self.path("samples", picture))
        if self.telemetry is not None:
            self.telemetry.end_epoch(self.epoch, self.step, row, self.path("samples", picture))
        self.model.train(True)
        return row

    def _stop_mid_epoch(self, steps_per_epoch):
        """The pictures, metrics.csv and loss.png of a run stopped by max_steps mid-epoch; the
        partial row (epoch: completed epochs as a fraction) stays out of the checkpointed history,
        so a resume continues the epoch as if no stop had happened."""
        if self._interval[1]:
            self._log_interval()
        epoch = round(self.epoch + self.epoch_step / steps_per_epoch, 3)
        rng = self.generator.get_state()  # a later fit() continues as if this had not run
        row = self._evaluate_row(epoch, f"step-{self.step:06d}.png")
        self.generator.set_state(rng)
        self._write_metrics(self.history + [row])
        self._plot_losses(self.history + [row])
        self.bar.message(
            f"stopped at step {self.step} (--max-steps), epoch {self.epoch + 1} "
            f"step {self.epoch_step}/{steps_per_epoch}: wrote "
            f"{self.path('samples', f'step-{self.step:06d}.png')}"
        )
        return row

    def _end_epoch(self):
        self.epoch += 1
        t0 = time.perf_counter()
        every = self.config.get("metrics_every", 0)
        metrics = every and self.model.generative and self.epoch % every == 0
        row = self._evaluate_row(self.epoch, f"epoch-{self.epoch:03d}.png", metrics)
        self.history.append(row)
        self._write_metrics()
        self._plot_losses()
        text = " ".join(
            f"{k} {v:.4f}" for k, v in row.items() if k.startswith(("train_", "valid_"))
        )
        self.bar.message(
            f"epoch {self.epoch}/{self.config['epochs']} {text} | "
            f"{row['images_per_s']:.0f} img/s | "
            f"{self.epoch_time:.1f} s train + {time.perf_counter() - t0:.1f} s eval"
        )
        self.sums, self.counts, self.epoch_step = {}, {}, 0
        self.epoch_images, self.epoch_time = 0, 0.0
        self.save()
        if self.config["keep_checkpoints"]:
            self.save(f"epoch-{self.epoch:03d}.npz")

    def _summary(self, partial=None):
        modules = self.model.modules()
        summary = {
            "model": self.config["model"],
            "dataset": self.config["dataset"],
            "device": self.config["device"],
            "epochs": self.epoch,
            "steps": self.step,
            "train_images": len(self.train_x),
            "train_time_s": round(self.train_time, 3),  # the optimisation steps alone
            "wall_time_s": round(self.wall_time, 3),  # with validation, pictures and checkpoints
            "images_per_s": round(self.images_seen / max(self.train_time, 1e-9), 1),
            "parameters": {
                name: int(sum(p.numel() for p in m.parameters())) for name, m in modules.items()
            },
            # each parameter once: a tied autoencoder's decoder reuses its encoder's weights
            "total_parameters": int(
                sum(
                    p.numel()
                    for p in {id(p): p for m in modules.values() for p in m.parameters()}.values()
                )
            ),
            "resumes": self.resumes,
            "machine": self._machine(),
            "final": partial or (self.history[-1] if self.history else {}),
        }
        self._write_json("summary.json", summary)
        return summary

    def _machine(self):
        """The CPU, its BLAS and thread count this session trained on (with ``device``)."""
        facts = machine.describe(threads.get_num_threads())
        keep = {key: facts[key] for key in ("cpu_model", "isa", "cores", "blas_label", "threads")}
        return {**keep, "label": machine.label(facts)}

    # ----- Ctrl-C: finish the step, checkpoint, stop
    def _install_sigint(self):
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            if self._interrupted:  # a second Ctrl-C stops at once
                raise KeyboardInterrupt
            self._interrupted = True

        return signal.signal(signal.SIGINT, handler)

    def _restore_sigint(self, previous):
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _write_csv(path, rows):
    """rows (dicts) as a CSV with the union of their keys, in first-seen order."""
    fields = list(rows[0])
    for row in rows[1:]:
        fields += [k for k in row if k not in fields]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
