"""``sg.save`` / ``sg.load``: state dicts and nested containers of tensors in one npz, never pickle.

The file is an ordinary ``.npz`` archive (any path name; ``np.load`` reads it too):

- every Tensor or array is one entry, named by its path in the object, e.g. ``model/fc.weight``;
- the entry ``__structure__`` is JSON describing the containers (dicts with their key types, lists,
  tuples), the plain scalars (int, float, bool, str, None) and which arrays are Tensors.

Arrays of Python objects are refused on save, and a file that holds pickled data (what
``torch.save`` writes, or ``np.save`` of an object array) is refused on load: unpickling can run
arbitrary code, and a scratchgan file never needs it.
"""

import json
import os
import zipfile

import numpy as np

from .backend import parse_device, to_device
from .tensor import Tensor

STRUCTURE_KEY = "__structure__"
FORMAT = "scratchgan-npz-1"


def _encode(obj, path, arrays):
    name = "/".join(path) or "value"
    if isinstance(obj, (Tensor, np.ndarray)) or hasattr(obj, "__cuda_array_interface__"):
        array = (
            obj.numpy()
            if isinstance(obj, Tensor)
            else np.asarray(getattr(obj, "get", lambda: obj)())
        )
        if array.dtype.kind not in "biufc":
            raise TypeError(
                f"sg.save: {name!r} is an array of dtype {array.dtype}; scratchgan files hold "
                "numeric arrays only (npz without pickle), so arrays of Python objects are "
                "refused"
            )
        key = name if name not in arrays and name != STRUCTURE_KEY else f"{name}#{len(arrays)}"
        arrays[key] = array
        if isinstance(obj, Tensor):
            return {"type": "tensor", "key": key, "requires_grad": bool(obj.requires_grad)}
        return {"type": "ndarray", "key": key}
    if isinstance(obj, np.generic):
        return _encode(np.asarray(obj), path, arrays) | {"type": "numpy_scalar"}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"type": "scalar", "value": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not (key is None or isinstance(key, (bool, int, float, str))):
                raise TypeError(
                    f"sg.save: {name!r} has a key of type {type(key).__name__}; keys must be str, "
                    "int, float, bool or None"
                )
            items.append([key, _encode(value, path + [str(key)], arrays)])
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {
            "type": kind,
            "items": [_encode(v, path + [str(i)], arrays) for i, v in enumerate(obj)],
        }
    raise TypeError(
        f"sg.save: {name!r} is a {type(obj).__name__}; scratchgan saves tensors, arrays, dicts, "
        "lists, tuples and plain scalars (int, float, bool, str, None) without pickle; save its "
        "state_dict() instead"
    )


def save(obj, f):
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of tensors, arrays and scalars)
    to ``f`` (a path, used as given, or a binary file object) as an npz archive."""
    arrays = {}
    structure = _encode(obj, [], arrays)
    arrays[STRUCTURE_KEY] = np.array(json.dumps({"format": FORMAT, "root": structure}))
    if hasattr(f, "write"):
        np.savez(f, **arrays)
    else:
        with open(f, "wb") as handle:
            np.savez(handle, **arrays)


def _decode(node, arrays, device):
    kind = node["type"]
    if kind == "scalar":
        return node["value"]
    if kind == "dict":
        return {key: _decode(value, arrays, device) for key, value in node["items"]}
    if kind in ("list", "tuple"):
        values = [_decode(value, arrays, device) for value in node["items"]]
        return values if kind == "list" else tuple(values)
    array = arrays[node["key"]]
    if kind == "numpy_scalar":
        return array[()]
    if kind == "ndarray":
        return array
    return Tensor._make(to_device(array, device), node["requires_grad"] and array.dtype.kind == "f")


def _file_name(f):
    return getattr(f, "name", "<file object>") if hasattr(f, "read") else os.fspath(f)


def _refuse_pickle(f):
    name = _file_name(f)
    return ValueError(
        f"sg.load: {name} holds pickled data (e.g. written by torch.save, or np.save of an object "
        "array); scratchgan files are npz archives without pickle (written by sg.save), and "
        "pickles are refused because loading one can run arbitrary code"
    )


def load(f, map_location=None, weights_only=True):
    """Read what ``save`` wrote; tensors go to ``map_location`` (a device; default 'cpu').

    A plain ``.npz`` from ``np.savez`` loads as a dict of Tensors and a ``.npy`` as one Tensor.
    ``weights_only`` is accepted for torch compatibility: scratchgan never unpickles.
    """
    device = parse_device(map_location if map_location is not None else "cpu")
    if not hasattr(f, "read") and zipfile.is_zipfile(f):
        with zipfile.ZipFile(f) as archive:
            if any(n.endswith(".pkl") for n in archive.namelist()):
                raise _refuse_pickle(f)
    try:
        loaded = np.load(f, allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error):
            raise _refuse_pickle(f) from None
        raise
    if isinstance(loaded, np.ndarray):
        return Tensor._make(to_device(loaded, device))
    with loaded:
        try:
            arrays = {key: loaded[key] for key in loaded.files}
        except ValueError as error:
            if "pickle" in str(error):
                raise _refuse_pickle(f) from None
            raise
    if STRUCTURE_KEY not in arrays:
        return {key: Tensor._make(to_device(value, device)) for key, value in arrays.items()}
    header = json.loads(str(arrays.pop(STRUCTURE_KEY)))
    if header.get("format") != FORMAT:
        raise ValueError(
            f"sg.load: {_file_name(f)} has format {header.get('format')!r}, expected {FORMAT!r}"
        )
    return _decode(header["root"], arrays, device)
