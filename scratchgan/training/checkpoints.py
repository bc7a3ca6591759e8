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
"""

import json
import os

import numpy as np

from ..tensor import Tensor

CHECKPOINT = "last.npz"


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
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
    return path


def _group(npz, prefix):
    return {k[len(prefix) :]: npz[k] for k in npz.files if k.startswith(prefix)}


def load_checkpoint(path, model, loader=None, generators=()):
    """Restore what save_checkpoint wrote into ``model`` (and ``loader``, ``generators``); returns
    the trainer state."""
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
