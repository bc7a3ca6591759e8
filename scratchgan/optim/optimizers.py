"""Optimisers with PyTorch's update formulas: SGD, RMSprop, Adam, AdamW; schedulers in ``lr_scheduler``.

An optimizer holds param groups (lists of Parameters with their own options, as in torch)
and per-parameter state (moment buffers, step counts). ``step()`` updates each parameter's
array in place from ``param.grad``, outside the graph; parameters without a gradient are
skipped. Each class's whole update rule is its ``_update(p, g, state, group)`` method,
written once against the array module (NumPy or CuPy), in the same operation order as
PyTorch's single-tensor implementation, so float64 runs agree with torch to ~1e-14.

``state_dict()`` is flat: str -> NumPy array or number (no pickle needed), e.g.
"param_groups.0.lr", "param_groups.0.params" (parameter indices), "state.3.exp_avg",
"state.3.step"; ``np.savez(path, **opt.state_dict())`` and
``opt.load_state_dict(np.load(path))`` continue a run exactly.
"""

import numbers

import numpy as np

from .. import cuda, profiler
from ..autograd import enable_grad
from ..backend import to_device
from ..tensor import Tensor


def _lerp_(a, b, w):
    """a <- a + w (b - a), in place, with torch's formula choice for accuracy at large w."""
    if abs(w) < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)


class Optimizer:
    """Base class: param groups, state, ``step``, ``zero_grad`` and the flat state dict.

    ``params`` is an iterable of Parameters, or of dicts {"params": [...], option: value}
    whose options override the defaults for that group.
    """

    _scalar_state = ("step",)

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(
                "params: expected an iterable of Parameters or of dicts, got a single Tensor; wrap it in a list"
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
                    f"params[{i}] (shape {p.shape}) appears in more than one parameter group, or twice"
                )
            seen.add(id(p))
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unknown option(s) {sorted(unknown)}; expected {sorted(self.defaults)}"
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
                        f"{type(self).__name__}: a parameter of shape {p.shape} has a grad of shape {g.shape}"
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
                f"{name}.load_state_dict: the state dict has {n_groups} param groups, this optimizer has {len(self.param_groups)}"
            )
        new_groups, start = [], 0
        for gi, group in enumerate(self.param_groups):
            indices = np.asarray(state_dict[f"param_groups.{gi}.params"]).reshape(-1)
            expected = np.arange(start, start + len(group["params"]))
            if indices.shape != expected.shape or (indices != expected).any():
                raise ValueError(
                    f"{name}.load_state_dict: param group {gi} holds {len(indices)} parameters in the state dict, "
                    f"{len(group['params'])} here (expected indices {start}..{start + len(group['params']) - 1})"
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
                        f"{name}.load_state_dict: unexpected key {key!r} (options are {sorted(self.defaults)})"
                    )
                continue
            if (
                parts[0] != "state"
                or len(parts) != 3
                or not parts[1].isdigit()
                or int(parts[1]) >= len(params)
            ):
                raise ValueError(
                    f"{name}.load_state_dict: unexpected key {key!r} (this optimizer has {len(params)} parameters)"
                )
            p = params[int(parts[1])]
            entry = new_state.setdefault(p, {})
            if parts[2] in self._scalar_state:
                entry[parts[2]] = np.asarray(value).item()
                continue
            array = np.asarray(value) if not hasattr(value, "__cuda_array_interface__") else value
            if tuple(array.shape) != tuple(p.shape):
                raise ValueError(
                    f"{name}.load_state_dict: {key!r} has shape {tuple(array.shape)}, its parameter has shape {tuple(p.shape)}"
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


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    g <- g + weight_decay * w
    b <- g at the first step, else momentum * b + (1 - dampening) * g
    g <- g + momentum * b (nesterov) or b
    w <- w - lr * g
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        maximize=False,
    ):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum={momentum}, dampening={dampening}"
            )
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    def _update(self, p, g, state, group):
        w = p.array
        momentum = group["momentum"]
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * w
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        w -= group["lr"] * g


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), optionally centered and with momentum.

    v <- alpha v + (1 - alpha) g^2;  centered: m <- alpha m + (1 - alpha) g, v~ = v - m^2
    d = sqrt(v~) + eps
    momentum: b <- momentum b + g / d, w <- w - lr b;  else w <- w - lr g / d
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        maximize=False,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
                maximize=maximize,
            ),
        )

    def _update(self, p, g, state, group):
        w, xp = p.array, p.xp
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(w)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(w)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(w)
        state["step"] += 1
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * w
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = state["grad_avg"]
            _lerp_(grad_avg, g, 1 - alpha)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / avg
            w -= group["lr"] * buf
        else:
            w -= group["lr"] * g / avg


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction as PyTorch computes it.

    g <- g + weight_decay * w
    m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g^2   (amsgrad: v^ = max(v^, v))
    w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        maximize=False,
    ):
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas!r}")
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
            ),
        )

    def _update(self, p, g, state, group):
        w, xp = p.array, p.xp
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(w)
            state["exp_avg_sq"] = xp.zeros_like(w)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(w)
        state["step"] += 1
        step = state["step"]
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * w
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if cuda.uses_kernels(w) and not group["amsgrad"] and w.flags.c_contiguous:
            cuda.adam_update(
                w, g, exp_avg, exp_avg_sq, group["lr"], beta1, beta2, group["eps"], step
            )
            return
        _lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        step_size = group["lr"] / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt
        denom += group["eps"]
        w -= step_size * exp_avg / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch computes it:

        w <- w (1 - lr weight_decay)
        m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g^2   (amsgrad: v^ = max(v^, v))
        w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The decay does not pass through the moments (unlike Adam's ``weight_decay``).
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        maximize=False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)

    def _update(self, p, g, state, group):
        if group["weight_decay"] != 0:
            p.array[...] *= 1 - group["lr"] * group["weight_decay"]
        super()._update(p, g, state, {**group, "weight_decay": 0})
