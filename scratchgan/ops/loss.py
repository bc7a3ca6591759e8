"""Losses: binary cross-entropy (on probabilities and on logits), MSE, L1, cross-entropy,
negative log-likelihood and the Gaussian KL divergence of a VAE.

Each loss computes one value per element (or per sample) and then reduces it with
``reduction``: 'mean' (the average), 'sum', or 'none' (the unreduced values). Inputs and
targets of the elementwise losses must have the same shape: nothing is broadcast silently.
"""

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .activation import log_softmax, sigmoid
from .shape import getitem

REDUCTIONS = ("mean", "sum", "none")
LOG_CLAMP = -100.0  # PyTorch clamps the logs of binary_cross_entropy to >= -100
BCE_EPS = 1e-12  # and the denominator x (1 - x) of its gradient to >= 1e-12


class BinaryCrossEntropy(Function):
    """l = -(t max(log x, -100) + (1 - t) max(log(1 - x), -100));
    gx = gy (x - t) / max(x (1 - x), 1e-12),  gt = gy (max(log(1 - x), -100) - max(log x, -100))."""

    def forward(self, x, t):
        log_x, log_1mx = _clamped_logs(self.xp, x)
        return -(t * log_x + (1 - t) * log_1mx)

    def backward(self, gy, needs_input_grad):
        x, t = self.inputs
        gx = gt = None
        if needs_input_grad[0]:
            gx = gy * (x - t) / (x * (1 - x)).clip(min=BCE_EPS)
        if needs_input_grad[1]:
            # clipping at e^-100 before the log clamps it at -100 and keeps it differentiable in x
            tiny = float(np.exp(LOG_CLAMP))
            gt = gy * ((1 - x).clip(min=tiny).log() - x.clip(min=tiny).log())
        return gx, gt


def _clamped_logs(xp, x):
    with np.errstate(divide="ignore"):  # log 0 = -inf is clamped to -100 below
        log_x = xp.maximum(xp.log(x), LOG_CLAMP)
        log_1mx = xp.maximum(xp.log1p(-x), LOG_CLAMP)
    return log_x, log_1mx


class BCEWithLogits(Function):
    """l = max(x, 0) - x t + log(1 + e^-|x|), stable for any x;
    gx = gy (sigmoid(x) - t),  gt = -gy x."""

    def forward(self, x, t):
        xp = self.xp
        return xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy, needs_input_grad):
        x, t = self.inputs
        gx = gy * (sigmoid(x) - t) if needs_input_grad[0] else None
        gt = -gy * x if needs_input_grad[1] else None
        return gx, gt


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(name, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check_pair(name, input, target, input_name="input", target_name="target"):
    """Validate (input, target) of an elementwise loss; returns target as a Tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: {input_name} must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: {input_name} must be floating point, got dtype {input.dtype}")
    if not isinstance(target, Tensor):
        if not hasattr(target, "dtype") or not hasattr(target, "shape"):
            raise TypeError(
                f"{name}: {target_name} must be a Tensor or an array, got {type(target).__name__}"
            )
        target = Tensor._make(input.xp.asarray(target))
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: {input_name} has shape {input.shape} but {target_name} has shape "
            f"{target.shape}; "
            "they must match exactly (nothing is broadcast)"
        )
    if target.dtype != input.dtype:
        raise TypeError(
            f"{name}: {target_name} has dtype {target.dtype} but {input_name} has {input.dtype}; "
            f"expected {input.dtype} (convert with .to(dtype))"
        )
    return target


def binary_cross_entropy(input, target, reduction="mean"):
    """Binary cross-entropy between probabilities and targets, as
    torch.nn.functional.binary_cross_entropy.

    l = -(t log x + (1 - t) log(1 - x)), each log clamped to >= -100 as in PyTorch, so
    x = 0 or 1 gives a finite loss. Prefer ``binary_cross_entropy_with_logits`` on logits: it
    is exact where sigmoid saturates.

    Args:
        input: any shape, e.g. (N, 1), probabilities in [0, 1]. target: the same shape and
        dtype, values in [0, 1]. reduction: 'mean', 'sum' or 'none'.
    Returns:
        A scalar for 'mean' and 'sum', else a tensor of input's shape.

    Example: binary_cross_entropy(x, t) for x = [0.5], t = [1.] is log 2 = 0.693....
    """
    _check_reduction("binary_cross_entropy", reduction)
    target = _check_pair("binary_cross_entropy", input, target)
    a = input.array
    if input.device == "cpu" and input.numel() and (np.min(a) < 0 or np.max(a) > 1):
        raise ValueError(
            f"binary_cross_entropy: input must hold probabilities in [0, 1], got values in "
            f"[{np.min(a):.4g}, {np.max(a):.4g}] (for logits use binary_cross_entropy_with_logits)"
        )
    return _reduce(BinaryCrossEntropy().apply(input, target), reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross-entropy on logits, as torch.nn.functional.binary_cross_entropy_with_logits.

    l = max(x, 0) - x t + log(1 + e^-|x|): the same as binary_cross_entropy(sigmoid(x), t), but
    finite and exact even at logits of +-100. gx = gy (sigmoid(x) - t).

    Args:
        input: any shape, e.g. a discriminator's (N, 1) logits. target: the same shape and
        dtype, values in [0, 1]. reduction: 'mean', 'sum' or 'none'.
    Returns:
        A scalar for 'mean' and 'sum', else a tensor of input's shape.

    Example: binary_cross_entropy_with_logits(x, t) for x = [0.], t = [1.] is log 2 = 0.693....
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _check_pair("binary_cross_entropy_with_logits", input, target)
    return _reduce(BCEWithLogits().apply(input, target), reduction)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error, as torch.nn.functional.mse_loss: l = (x - t)^2, then reduced.

    Args:
        input: any shape, e.g. a reconstruction (N, C, H, W). target: the same shape and dtype.
        reduction: 'mean', 'sum' or 'none'.
    Returns:
        A scalar for 'mean' and 'sum', else a tensor of input's shape.

    Example: mse_loss(x, t) for x = [1., 3.], t = [0., 0.] is 5.
    """
    _check_reduction("mse_loss", reduction)
    target = _check_pair("mse_loss", input, target)
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error, as torch.nn.functional.l1_loss: l = |x - t|, then reduced; the
    gradient is sign(x - t) (0 where they are equal).

    Args:
        input: any shape, e.g. an image (N, C, H, W). target: the same shape and dtype.
        reduction: 'mean', 'sum' or 'none'.
    Returns:
        A scalar for 'mean' and 'sum', else a tensor of input's shape.

    Example: l1_loss(x, t) for x = [1., -3.], t = [0., 0.] is 2.
    """
    _check_reduction("l1_loss", reduction)
    target = _check_pair("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def _class_indices(name, input, target):
    """Validate integer class indices for an input (N, C, d1, ...) or (C,); returns an array."""
    if isinstance(target, Tensor):
        target = target.array
    elif not hasattr(target, "dtype"):
        target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    expected = input.shape[:1] + input.shape[2:] if input.ndim >= 2 else ()
    if target.shape != expected:
        raise ValueError(
            f"{name}: input has shape {input.shape}, so target must have shape {expected} "
            f"(input's shape without the class axis 1), got {target.shape}"
        )
    return input.xp.asarray(target)


def nll_loss(input, target, reduction="mean", ignore_index=-100):
    """Negative log-likelihood, as torch.nn.functional.nll_loss: l_i = -input[i, target_i].

    Entries whose target equals ``ignore_index`` contribute nothing, and 'mean' averages over
    the others (as in PyTorch).

    Args:
        input: (N, C) or (N, C, d1, ...) log-probabilities, or (C,) for one sample.
        target: (N,) or (N, d1, ...) (or ()) integer class indices in [0, C), as a Tensor, an
        array or a list. reduction: 'mean', 'sum' or 'none'. ignore_index: a target to skip.
    Returns:
        A scalar for 'mean' and 'sum', else a tensor of target's shape.

    Example: nll_loss(log_softmax(x (8, 10), 1), labels (8,)) is a scalar.
    """
    _check_reduction("nll_loss", reduction)
    if not isinstance(input, Tensor) or input.ndim == 0:
        raise ValueError(
            "nll_loss: input must be a Tensor (N, C, ...) or (C,), "
            f"got {getattr(input, 'shape', input)}"
        )
    t = _class_indices("nll_loss", input, target)
    xp, C = input.xp, input.shape[1 if input.ndim >= 2 else 0]
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= C))
    if bool(bad.any()):
        raise IndexError(
            f"nll_loss: target holds {int(t[bad].reshape(-1)[0])}, outside the {C} classes [0, {C})"
        )
    t = xp.where(keep, t, 0)
    # an open grid over t's axes (what np.indices(sparse=True) gives; CuPy's indices has no sparse=)
    grid = [xp.arange(n).reshape((n,) + (1,) * (t.ndim - 1 - i)) for i, n in enumerate(t.shape)]
    picked = getitem(input, (*grid[:1], t, *grid[1:]))
    if bool(keep.all()):
        return _reduce(-picked, reduction)
    mask = Tensor._make(keep.astype(input.dtype))
    loss = -picked * mask
    if reduction == "mean":
        return loss.sum() / Tensor._make(xp.asarray(mask.array.sum()))
    return _reduce(loss, reduction)


def cross_entropy(input, target, reduction="mean", ignore_index=-100):
    """Cross-entropy of logits against class indices, as torch.nn.functional.cross_entropy:
    l_i = logsumexp(x_i) - x_i[target_i] = nll_loss(log_softmax(input, 1), target), stable for
    any logits (the log-softmax subtracts the maximum).

    Args:
        input: (N, C) or (N, C, d1, ...) unnormalised logits, or (C,). target, reduction,
        ignore_index: as in ``nll_loss``.
    Returns:
        A scalar for 'mean' and 'sum', else a tensor of target's shape.

    Example: cross_entropy(x, t) for x = [[0., 0.]], t = [1] is log 2 = 0.693....
    """
    _check_reduction("cross_entropy", reduction)
    if not isinstance(input, Tensor) or input.ndim == 0:
        raise ValueError(
            "cross_entropy: input must be a Tensor (N, C, ...) or (C,), "
            f"got {getattr(input, 'shape', input)}"
        )
    _class_indices("cross_entropy", input, target)
    log_p = log_softmax(input, 1 if input.ndim >= 2 else 0)
    return nll_loss(log_p, target, reduction, ignore_index)


def gaussian_kl(mu, logvar, reduction="mean"):
    """KL(N(mu, e^logvar) || N(0, 1)) of a diagonal Gaussian (a VAE's latent loss), summed over
    the last axis:

        kl = -0.5 * sum_last_axis(1 + logvar - mu^2 - e^logvar)

    Args:
        mu: (..., latent_dim), e.g. (N, 20). logvar: the same shape and dtype.
        reduction: over the per-sample values (shape mu.shape[:-1]): 'mean' averages them,
        'sum' adds them up, 'none' returns them.
    Returns:
        A scalar for 'mean' and 'sum', else a tensor of shape mu.shape[:-1].

    Example: gaussian_kl(mu, logvar) for mu = logvar = zeros(8, 20) is 0.
    """
    _check_reduction("gaussian_kl", reduction)
    logvar = _check_pair("gaussian_kl", mu, logvar, "mu", "logvar")
    if mu.ndim == 0:
        raise ValueError(
            "gaussian_kl: mu must have at least one axis (the latent axis), got shape ()"
        )
    kl = (1 + logvar - mu * mu - logvar.exp()).sum(axis=-1) * -0.5
    return _reduce(kl, reduction)
