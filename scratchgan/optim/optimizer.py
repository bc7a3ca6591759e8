"""The optimizer base class: param groups, ``step()``, a flat ``state_dict``, as ``torch.optim``.

An optimizer holds param groups (lists of Parameters with their own options, as in torch)
and per-parameter state (moment buffers, step counts). ``step()`` updates each parameter's
array in place from ``param.grad``, outside the graph; parameters without a gradient are
skipped. A subclass's whole update rule is its ``_update(p, g, state, group)`` method.

``state_dict()`` is flat: str -> NumPy array or number (no pickle needed), e.g.
"param_groups.0.lr", "param_groups.0.params" (parameter indices), "state.3.exp_avg",
"state.3.step"; ``np.savez(path, **opt.state_dict())`` and
``opt.load_state_dict(np.load(path))`` continue a run exactly.
"""

import numbers

import numpy as np

from .. import profiler
from ..autograd import enable_grad
from ..backend import to_device
from ..tensor import Tensor


class Optimizer:
    """Base class: param groups, state, ``step``, ``zero_grad`` and the flat state dict.

    ``params`` is an iterable of Parameters, or of dicts {"params": [...], option: value}
    whose options override the defaults for that group.
    """

    _scalar_state = ("step",)

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(
                "params: expected an iterable of Parameters or of dicts, got a single Tensor; wrap "
                "it in a list"
            )
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("params: the optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        if not isinstance(group, dict):
            raise TypeError(f"param group: expected a dict, got {type(group).__name__}")
        group = dict(group)
        params = group.get("params")
        params = [params] if isinstance(params, Tensor) else list(params or ())
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"params[{i}]: the optimizer can only optimize Tensors, got {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(f"params[{i}] (shape {p.shape}): can't optimize a non-leaf Tensor")
            if id(p) in seen:
                raise ValueError(
                    f"params[{i}] (shape {p.shape}) appears in more than one parameter group, or "
                    "twice"
                )
            seen.add(id(p))
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unknown option(s) {sorted(unknown)}; expected "
                f"{sorted(self.defaults)}"
            )
        self._check_options(group)
        self.param_groups.append(group)

    def _check_options(self, group):
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay", "momentum", "alpha", "dampening"):
            if key in group and not (isinstance(group[key], numbers.Real) and group[key] >= 0):
                raise ValueError(f"{name}: {key} must be a non-negative number, got {group[key]!r}")

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to None, or to zeros with ``set_to_none=False``)."""
        with profiler.region("zero_grad", "optimizer"):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad = None if set_to_none else Tensor._make(p.xp.zeros_like(p.array))

    def step(self, closure=None):
        """One update of every parameter that has a gradient. ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.array
                if g.shape != p.shape:
                    raise ValueError(
                        f"{type(self).__name__}: a parameter of shape {p.shape} has a grad of "
                        f"shape {g.shape}"
                    )
                if profiler._active is None:
                    self._update(p, g, self.state.setdefault(p, {}), group)
                else:
                    with profiler._active.region(type(self).__name__, "optimizer"):
                        self._update(p, g, self.state.setdefault(p, {}), group)
                # p changed in place (as torch's p.add_ under no_grad): a graph that saved p
                # raises at backward instead of using the new values
                p._counter().value += 1
        return loss

    def _update(self, p, g, state, group):
        raise NotImplementedError

    # ----- checkpoints
    def _indexed_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """Flat dict: "param_groups.G.OPTION" -> number/tuple, "param_groups.G.params" -> int array,
        "state.I.NAME" -> NumPy array copy (or int for step counts); I indexes the parameters
        across groups in order."""
        out = {}
        start = 0
        for gi, group in enumerate(self.param_groups):
            for key, value in group.items():
                if key != "params":
                    out[f"param_groups.{gi}.{key}"] = value
            n = len(group["params"])
            out[f"param_groups.{gi}.params"] = np.arange(start, start + n, dtype=np.int64)
            start += n
        for i, p in enumerate(self._indexed_params()):
            for name, value in self.state.get(p, {}).items():
                if name in self._scalar_state:
                    out[f"state.{i}.{name}"] = value
                else:
                    out[f"state.{i}.{name}"] = np.array(
                        value.get() if hasattr(value, "get") else value, copy=True
                    )
        return out

    def load_state_dict(self, state_dict):
        """Restore options and state saved by ``state_dict`` (a dict, or the NpzFile of np.load).

        The parameters must be the same in number, grouping and shapes; state arrays are
        copied to each parameter's device and dtype.
        """
        name = type(self).__name__
        state_dict = {k: state_dict[k] for k in state_dict}  # an NpzFile loads each array once
        params = self._indexed_params()
        n_groups = sum(
            1 for k in state_dict if k.startswith("param_groups.") and k.endswith(".params")
        )
        if n_groups != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {n_groups} param groups, this "
                f"optimizer has {len(self.param_groups)}"
            )
        new_groups, start = [], 0
        for gi, group in enumerate(self.param_groups):
            indices = np.asarray(state_dict[f"param_groups.{gi}.params"]).reshape(-1)
            expected = np.arange(start, start + len(group["params"]))
            if indices.shape != expected.shape or (indices != expected).any():
                raise ValueError(
                    f"{name}.load_state_dict: param group {gi} holds {len(indices)} parameters in "
                    f"the state dict, {len(group['params'])} here (expected indices "
                    f"{start}..{start + len(group['params']) - 1})"
                )
            start += len(group["params"])
            new = dict(group)
            saved_initial_lr = (
                f"param_groups.{gi}.initial_lr" in state_dict
            )  # set by an lr scheduler
            for key in list(group) + (
                ["initial_lr"] if saved_initial_lr and "initial_lr" not in group else []
            ):
                full = f"param_groups.{gi}.{key}"
                if key != "params" and full in state_dict:
                    value = np.asarray(state_dict[full])
                    new[key] = value.item() if value.ndim == 0 else tuple(value.tolist())
            new_groups.append(new)
        new_state = {}
        for key, value in state_dict.items():
            parts = key.split(".")
            if parts[0] == "param_groups":
                if (
                    len(parts) != 3
                    or not parts[1].isdigit()
                    or int(parts[1]) >= len(self.param_groups)
                    or (parts[2] not in ("params", "initial_lr") and parts[2] not in self.defaults)
                ):
                    raise ValueError(
                        f"{name}.load_state_dict: unexpected key {key!r} (options are "
                        f"{sorted(self.defaults)})"
                    )
                continue
            if (
                parts[0] != "state"
                or len(parts) != 3
                or not parts[1].isdigit()
                or int(parts[1]) >= len(params)
            ):
                raise ValueError(
                    f"{name}.load_state_dict: unexpected key {key!r} (this optimizer has "
                    f"{len(params)} parameters)"
                )
            p = params[int(parts[1])]
            entry = new_state.setdefault(p, {})
            if parts[2] in self._scalar_state:
                entry[parts[2]] = np.asarray(value).item()
                continue
            array = np.asarray(value) if not hasattr(value, "__cuda_array_interface__") else value
            if tuple(array.shape) != tuple(p.shape):
                raise ValueError(
                    f"{name}.load_state_dict: {key!r} has shape {tuple(array.shape)}, its "
                    f"parameter has shape {tuple(p.shape)}"
                )
            entry[parts[2]] = to_device(array, p.device).astype(p.dtype, copy=True)
        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for gi, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {gi}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"
