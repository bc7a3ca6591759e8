"""The checkpoint format: one flat .npz of arrays, with JSON blobs for what is not an array.

Keys of checkpoints/last.npz (no pickle anywhere: ``np.load(path, allow_pickle=False)`` reads it):

    model/<module>/<name>   every entry of each module's state_dict
    optim/<opt>/<key>       the array entries of each optimizer's state_dict
    loader/<key>            the array entries of the DataLoader's state (its permutation)
    extra/<key>             the model's extra_state()
    json/optim              {opt: scalar entries of its state_dict}
    json/loader             scalar entries of the DataLoader's state
    json/rng                {name: generator state}
    json/trainer            the trainer's counters, running sums and metrics history

Each save writes a temporary file, renames it into place, then records its sha256 in
checkpoints/manifest.json (also written atomically). Saving last.npz first renames a last.npz that
matches the manifest to previous.npz (a good one is always kept); one that does not match is moved
aside to last.npz.corrupt, never deleted. ``load_checkpoint`` checks the manifest and raises
CheckpointError naming the file, and the previous good checkpoint when there is one.
"""

import hashlib
import json
import os
import zipfile
import zlib

import numpy as np

from ..tensor import Tensor

CHECKPOINT = "last.npz"
PREVIOUS = "previous.npz"
MANIFEST = "manifest.json"
UNREADABLE = "not a readable .npz checkpoint (truncated or overwritten?)"


class CheckpointError(Exception):
    """A checkpoint that cannot be used: missing, truncated, corrupt or from another model.
    ``path``: the file; ``previous``: a good earlier checkpoint of the same run, or None."""

    def __init__(self, message, path, previous=None):
        super().__init__(message)
        self.path, self.previous = path, previous


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder):
    """{file name: sha256} of the checkpoints in ``folder`` ({} without a readable manifest)."""
    try:
        with open(os.path.join(folder, MANIFEST)) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _write_manifest(folder, manifest):
    path = os.path.join(folder, MANIFEST)
    with open(path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)


def verified(path):
    """True when ``path`` exists and matches its entry in the manifest beside it."""
    folder, name = os.path.split(os.path.abspath(path))
    expected = read_manifest(folder).get(name)
    return expected is not None and os.path.isfile(path) and sha256_of(path) == expected


def _host(array):
    """A host (NumPy) copy of a CuPy array; NumPy arrays and scalars as arrays."""
    if hasattr(array, "get") and not isinstance(array, np.ndarray):
        return array.get()
    return np.asarray(array)


def _json_array(obj):
    return np.array(json.dumps(obj))


def _read_json(array):
    return json.loads(str(array[()]))


def _split_state(state):
    """An optimizer/loader state dict -> (arrays, JSON-able scalars)."""
    arrays, scalars = {}, {}
    for key, value in state.items():
        if isinstance(value, Tensor):
            value = value.numpy()
        if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
            arrays[key] = _host(value)
        elif isinstance(value, np.generic):
            scalars[key] = value.item()
        else:
            scalars[key] = value
    return arrays, scalars


def save_checkpoint(path, model, trainer_state, loader=None, generators=()):
    """Write one .npz: model/<module>/<name>, optim/<name>/<key>, loader/<key>, extra/<key>, and
    JSON blobs (optimizer scalars, RNG states, trainer counters). Written to a temporary file, then
    renamed."""
    arrays = {}
    for mname, module in model.modules().items():
        for key, value in module.state_dict().items():
            arrays[f"model/{mname}/{key}"] = _host(value.array)
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
    folder, name = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    manifest = read_manifest(folder)
    if name == CHECKPOINT and os.path.exists(path):
        if verified(path):
            os.replace(path, os.path.join(folder, PREVIOUS))
            manifest[PREVIOUS] = manifest.pop(name)
        else:
            os.replace(path, path + ".corrupt")
            manifest.pop(name, None)
    digest = sha256_of(tmp)
    os.replace(tmp, path)
    manifest[name] = digest
    _write_manifest(folder, manifest)
    return path


def _group(npz, prefix):
    return {k[len(prefix) :]: npz[k] for k in npz.files if k.startswith(prefix)}


class MissingCheckpoint(CheckpointError, FileNotFoundError):
    """The checkpoint file is not there."""


def previous_good(path):
    """previous.npz beside ``path`` when it matches the manifest (and is not ``path``), or None."""
    other = os.path.join(os.path.dirname(path), PREVIOUS)
    same = os.path.abspath(other) == os.path.abspath(path)
    return other if not same and verified(other) else None


def check_checkpoint(path):
    """Raise CheckpointError unless ``path`` exists and matches the manifest beside it (a checkpoint
    that the manifest does not list, e.g. from before manifests, passes)."""
    if not os.path.isfile(path):
        raise MissingCheckpoint(f"checkpoint {path} does not exist", path, previous_good(path))
    folder, name = os.path.split(os.path.abspath(path))
    expected = read_manifest(folder).get(name)
    if expected is not None and sha256_of(path) != expected:
        raise CheckpointError(
            f"checkpoint {path} is corrupt: its sha256 differs from the one in "
            f"{os.path.join(os.path.dirname(path), MANIFEST)}",
            path,
            previous_good(path),
        )


def load_checkpoint(path, model, loader=None, generators=()):
    """Restore what save_checkpoint wrote into ``model`` (and ``loader``, ``generators``); returns
    the trainer state. CheckpointError (one line naming the file) when it is missing, corrupt,
    truncated or does not fit the model."""
    check_checkpoint(path)
    unreadable = (OSError, EOFError, zipfile.BadZipFile, zlib.error)
    try:
        npz = np.load(path, allow_pickle=False)
    except (*unreadable, ValueError) as e:  # not an .npz at all (numpy's pickle advice is wrong)
        raise CheckpointError(
            f"checkpoint {path} cannot be loaded: {UNREADABLE}", path, previous_good(path)
        ) from e
    try:
        with npz:
            return _load(npz, model, loader, generators)
    except (*unreadable, ValueError, KeyError, TypeError) as e:
        reason = UNREADABLE if isinstance(e, unreadable) else " ".join(str(e).split())
        raise CheckpointError(
            f"checkpoint {path} cannot be loaded: {reason or type(e).__name__}",
            path,
            previous_good(path),
        ) from e


def _load(npz, model, loader, generators):
    """Restore the arrays of an open .npz into the model, loader and generators."""
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
