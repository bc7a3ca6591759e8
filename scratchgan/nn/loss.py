"""Loss modules with PyTorch's names and arguments, plus Identity, kl_div and smooth_l1_loss.

Each module holds ``reduction`` ('mean' | 'sum' | 'none') and calls a function of
scratchgan.functional; ``kl_div`` and ``smooth_l1_loss`` are compositions written here.
"""

from .. import functional as F
from ..ops.elementwise import where
from ..ops.loss import _check_pair, _check_reduction, _reduce
from .module import Module


def kl_div(input, target, reduction="mean", log_target=False):
    """Pointwise KL term of PyTorch's kl_div, ``input`` being log-probabilities:

        l = t (log t - x)          (0 where t = 0)
        l = e^t (t - x)            with log_target=True (t holds log-probabilities)

    reduction 'batchmean' is sum(l) / batch size, the true KL divergence per sample.
    """
    name = "kl_div"
    _check_reduction(name, "mean" if reduction == "batchmean" else reduction)
    target = _check_pair(name, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target.array > 0
        # log t only where t > 0 (log 1 = 0 elsewhere), so the gradient stays finite at t = 0
        log_target = where(positive, target, 1.0).log()
        loss = where(positive, target * (log_target - input), 0.0)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Huber-like loss: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - t);
    beta = 0 is the L1 loss."""
    _check_reduction("smooth_l1_loss", reduction)
    target = _check_pair("smooth_l1_loss", input, target)
    d = input - target
    if beta == 0:
        return _reduce(d.abs(), reduction)
    small = d.abs().array < beta
    loss = where(small, d * d * (0.5 / beta), d.abs() - 0.5 * beta)
    return _reduce(loss, reduction)


class _Loss(Module):
    def __init__(self, reduction="mean", size_average=None, reduce=None):
        super().__init__()
        if size_average is not None or reduce is not None:
            raise TypeError(
                f"{type(self).__name__}: size_average and reduce are deprecated in PyTorch and "
                "not supported; use reduction='mean' | 'sum' | 'none'"
            )
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


def _weighted(loss_fn, input, target, weight, reduction):
    if weight is None:
        return loss_fn(input, target, reduction=reduction)
    return _reduce(loss_fn(input, target, reduction="none") * weight, reduction)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities; ``weight`` rescales each element's loss."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction, size_average, reduce)
        self.weight = weight

    def forward(self, input, target):
        return _weighted(F.binary_cross_entropy, input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (stable for any logit); ``weight`` rescales each element."""

    def __init__(
        self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
    ):
        super().__init__(reduction, size_average, reduce)
        if pos_weight is not None:
            raise NotImplementedError(
                "BCEWithLogitsLoss(pos_weight=...) is not supported; weight the positive terms "
                "yourself with F.binary_cross_entropy_with_logits(reduction='none')"
            )
        self.weight = weight

    def forward(self, input, target):
        return _weighted(
            F.binary_cross_entropy_with_logits, input, target, self.weight, self.reduction
        )


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(reduction, size_average, reduce)
        self.beta = beta

    def forward(self, input, target):
        return smooth_l1_loss(input, target, self.reduction, self.beta)


class KLDivLoss(_Loss):
    """KL divergence, ``input`` being log-probabilities; 'batchmean' gives the KL per sample."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(reduction, size_average, reduce)
        self.log_target = log_target

    def forward(self, input, target):
        return kl_div(input, target, self.reduction, self.log_target)


class _ClassLoss(_Loss):
    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
    ):
        super().__init__(reduction, size_average, reduce)
        if weight is not None:
            raise NotImplementedError(
                f"{type(self).__name__}(weight=...) (class weights) is not supported; use "
                "reduction='none' and weight the per-sample losses yourself"
            )
        self.ignore_index = ignore_index


class NLLLoss(_ClassLoss):
    """Negative log-likelihood of log-probabilities (N, C, ...) against class indices (N, ...)."""

    def forward(self, input, target):
        return F.nll_loss(input, target, reduction=self.reduction, ignore_index=self.ignore_index)


class CrossEntropyLoss(_ClassLoss):
    """Cross-entropy of logits (N, C, ...) against class indices (N, ...)."""

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index=-100,
        reduce=None,
        reduction="mean",
        label_smoothing=0.0,
    ):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        if label_smoothing:
            raise NotImplementedError(
                "CrossEntropyLoss(label_smoothing=...) is not supported; mix the loss with "
                "-log_softmax(x, 1).mean(1) yourself"
            )

    def forward(self, input, target):
        return F.cross_entropy(
            input, target, reduction=self.reduction, ignore_index=self.ignore_index
        )


class Identity(Module):
    """y = x (arguments are accepted and ignored, as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input
