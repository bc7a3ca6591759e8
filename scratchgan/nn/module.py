"""Module: the container models are built from, with torch.nn semantics (Parameter: parameter.py).

Assigning a Parameter, a Module or (via ``register_buffer``) a Tensor to an attribute
registers it under that name, in construction order; nested names are dotted
("encoder.0.weight"), so ``state_dict`` keys match PyTorch's for the same model.
"""

from collections import OrderedDict, namedtuple

import numpy as np

from .. import node_tags, profiler
from ..backend import Device, parse_device, parse_dtype, to_device
from ..tensor import Tensor
from .parameter import Parameter


class LoadStateDictError(RuntimeError, ValueError):
    """``load_state_dict`` got missing, unexpected or ill-shaped entries (a RuntimeError)."""


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _as_array(value, key):
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
        return value
    if isinstance(value, (int, float, np.number)):
        return np.asarray(value)
    raise TypeError(
        f"load_state_dict: {key!r} should be a Tensor or an array, got {type(value).__name__}"
    )


class Module:
    """Base class of every layer and model (torch.nn.Module semantics).

    Subclasses call ``super().__init__()`` first, assign their Parameters, sub-Modules and
    buffers as attributes, and implement ``forward``; calling the module runs ``forward``.
    """

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward method")

    def __call__(self, *args, **kwargs):
        node_tags.module_stack.append(self)  # the nodes recorded inside know their module
        try:
            if profiler._active is None:
                out = self.forward(*args, **kwargs)
            else:  # the module's own time: the Python between its ops
                with profiler._active.region(type(self).__name__, "module"):
                    out = self.forward(*args, **kwargs)
        finally:
            node_tags.module_stack.pop()
        if node_tags.forward_observer is not None:
            node_tags.forward_observer(self, out)
        return out

    # ----- registration
    def _check_ready(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")

    def register_parameter(self, name, param):
        self._check_ready("parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(nn.Parameter or None required)"
            )
        self._check_name(name, "_parameters")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A non-trainable tensor in ``state_dict`` (unless persistent=False), moved by ``to``."""
        self._check_ready("buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            if isinstance(tensor, np.ndarray) or hasattr(tensor, "__cuda_array_interface__"):
                tensor = Tensor._make(tensor)
            else:
                raise TypeError(
                    f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or "
                    "None required)"
                )
        self._check_name(name, "_buffers")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        self._check_ready("sub-modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module: {name!r} is a {type(module).__name__}, expected a Module or None"
            )
        self._check_name(name, "_modules")
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"module attribute name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"attribute name can't be empty or contain '.', got {name!r}")
        if name in self.__dict__ and name not in getattr(self, kind):
            raise KeyError(f"attribute '{name}' already exists")
        for other in ("_parameters", "_buffers", "_modules"):
            if other != kind:
                self.__dict__[other].pop(name, None)
                if other == "_buffers":
                    self._non_persistent_buffers.discard(name)

    def __setattr__(self, name, value):
        d = self.__dict__
        params, buffers, modules = d.get("_parameters"), d.get("_buffers"), d.get("_modules")
        if isinstance(value, Parameter):
            self._check_ready("parameters")
            d.pop(name, None)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' (nn.Parameter "
                    "or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._check_ready("sub-modules")
            d.pop(name, None)
            self.add_module(name, value)
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or "
                    "None expected)"
                )
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None "
                    "expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when ordinary lookup fails: look in the registries.
        d = self.__dict__
        for kind in ("_parameters", "_buffers", "_modules"):
            registry = d.get(kind)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for kind in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(kind, ()):
                del self.__dict__[kind][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        extra = list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(super().__dir__()) | set(extra))

    # ----- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every descendant, depth first; shared modules once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(
                memo, f"{prefix}.{name}" if prefix else name, remove_duplicate
            )

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, kind, prefix, recurse, remove_duplicate):
        seen = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in getattr(module, kind).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) in registration order; a shared Parameter appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        module = self
        for part in target.split(".") if target else ():
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(
                    f"{type(module).__name__} has no submodule {part!r} (looking up {target!r})"
                )
            module = module._modules[part]
        return module

    # ----- state
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Ordered dict of dotted name -> Tensor: parameters and persistent buffers, by module.

        As in torch, the tensors are detached but share their arrays with the module (an
        optimizer step changes them); copy them (e.g. ``.numpy().copy()``) for a snapshot.
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _state_targets(self):
        """Dotted name -> the Tensor ``load_state_dict`` writes into (same keys as state_dict)."""
        return self.state_dict(keep_vars=True)

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (Tensors or NumPy/CuPy arrays) into this module's parameters and buffers.

        Values are cast to each target's dtype and device. Shape mismatches always raise; with
        ``strict`` missing and unexpected keys raise too. Returns (missing_keys, unexpected_keys).
        """
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        errors = []
        arrays = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            array = _as_array(state_dict[key], key)
            if tuple(array.shape) != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.shape)}."
                )
            arrays[key] = array
        if strict:
            if unexpected:
                errors.insert(
                    0,
                    "Unexpected key(s) in state_dict: "
                    + ", ".join(f'"{k}"' for k in unexpected)
                    + ".",
                )
            if missing:
                errors.insert(
                    0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + "."
                )
        if errors:
            raise LoadStateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for key, array in arrays.items():
            target = targets[key]
            target.array[...] = to_device(array, target.device).astype(target.dtype, copy=False)
            target._counter().value += 1  # changed in place, as torch.no_grad(): p.copy_(v)
        return IncompatibleKeys(missing, unexpected)

    # ----- modes, devices, gradients
    def train(self, mode=True):
        """Set training mode (affects Dropout, BatchNorm) on this module and all descendants."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode should be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def to(self, *args, device=None, dtype=None):
        """Move (``to('cuda')``) and/or cast (``to(sg.float64)``) parameters and buffers in place.

        Parameters keep their identity (their array is replaced), so optimizers built
        before the move still hold them. Casting applies to floating-point tensors only.
        """
        for arg in args:
            if isinstance(arg, Device) or (
                isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda")
            ):
                device = arg
            else:
                dtype = arg
        device = parse_device(device) if device is not None else None
        dtype = parse_dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"to: nn.Module.to only accepts floating-point dtypes, got {dtype}")

        def convert(t):
            array = t.array
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype, copy=False)
            if device is not None:
                array = to_device(array, device)
            return array

        seen = set()
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for t in registry.values():
                    if t is None or id(t) in seen:
                        continue
                    seen.add(id(t))
                    t._data = convert(t)  # .data = would refuse a device change
                    if t.grad is not None:
                        t.grad = Tensor._make(convert(t.grad))
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=0):
        return self.to(f"cuda:{index}")

    def zero_grad(self, set_to_none=True):
        """Clear ``.grad`` of every parameter (to None, or to zeros with ``set_to_none=False``)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            p.grad = None if set_to_none else Tensor._make(p.xp.zeros_like(p.array))

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn):
        """Call ``fn(module)`` on every child (recursively) and then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----- printing
    def extra_repr(self):
        """One line of constructor arguments for ``repr``; layers override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            child = _indent(repr(module), 2)
            lines.append(f"({name}): {child}")
        text = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                text += lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _indent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])
