"""Optimisers with PyTorch's update formulas: SGD, RMSprop, Adam, AdamW (schedulers: lr_scheduler).

Each class's whole update rule is its ``_update(p, g, state, group)`` method (the loop over
param groups, the state and its ``state_dict`` live in the base class, optimizer.py), written
once against the array module (NumPy or CuPy), in the same operation order as PyTorch's
single-tensor implementation, so float64 runs agree with torch to ~1e-14.
"""

from .. import cuda, threads
from .optimizer import Optimizer


def _lerp_(a, b, w):
    """a <- a + w (b - a), in place, with torch's formula choice for accuracy at large w."""
    if abs(w) < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)


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
                "SGD: nesterov momentum requires momentum > 0 and dampening = 0, got "
                f"momentum={momentum}, dampening={dampening}"
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
        names = (
            ["square_avg"] + ["grad_avg"] * group["centered"] + ["momentum_buffer"] * (momentum > 0)
        )

        def update(w, g, *buffers):  # on a range of elements (threads.over_elements)
            b = dict(zip(names, buffers))
            square_avg = b["square_avg"]
            square_avg *= alpha
            square_avg += (1 - alpha) * g * g
            if group["centered"]:
                grad_avg = b["grad_avg"]
                _lerp_(grad_avg, g, 1 - alpha)
                avg = xp.sqrt(square_avg - grad_avg * grad_avg)
            else:
                avg = xp.sqrt(square_avg)
            avg += group["eps"]
            if momentum > 0:
                buf = b["momentum_buffer"]
                buf *= momentum
                buf += g / avg
                w -= group["lr"] * buf
            else:
                w -= group["lr"] * g / avg

        threads.over_elements(update, w, g, *(state[name] for name in names))


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
        step_size = group["lr"] / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5

        def update(w, g, exp_avg, exp_avg_sq, *max_exp_avg_sq):  # on a range of elements
            _lerp_(exp_avg, g, 1 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += (1 - beta2) * g * g
            if max_exp_avg_sq:
                xp.maximum(max_exp_avg_sq[0], exp_avg_sq, out=max_exp_avg_sq[0])
                exp_avg_sq = max_exp_avg_sq[0]
            denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt
            denom += group["eps"]
            w -= step_size * exp_avg / denom

        amsgrad = [state["max_exp_avg_sq"]] if group["amsgrad"] else []
        threads.over_elements(update, w, g, exp_avg, exp_avg_sq, *amsgrad)


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
