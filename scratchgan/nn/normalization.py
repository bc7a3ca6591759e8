"""Normalisation layers: BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm (torch.nn semantics).

Parameters and buffers carry PyTorch's names (weight, bias, running_mean, running_var,
num_batches_tracked) and initial values, so state dicts are interchangeable.
"""

import warnings

import numpy as np

from ..ops.normalization import batch_norm, instance_norm, layer_norm
from ..tensor import Tensor, ones, zeros
from .module import Module, Parameter


class _NormBase(Module):
    """Shared construction: affine weight (ones) and bias (zeros), running statistics buffers."""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device, dtype):
        super().__init__()
        if not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(
                f"{type(self).__name__}: num_features must be a positive int, got {num_features!r}"
            )
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(zeros(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", zeros((), dtype=np.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def _check_input(self, input, ndims, layout):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in ndims:
            raise ValueError(
                f"{name}: expected {layout} input, got a {input.ndim}-D input of shape "
                f"{input.shape}"
            )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        self._check_input(input, *self._layout)
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: input has {input.shape[1]} channels (shape "
                f"{input.shape}), expected num_features={self.num_features}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1  # in place, as in torch
            if self.momentum is None:  # cumulative moving average, as in PyTorch
                factor = 1.0 / int(self.num_batches_tracked.item())
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over N (and L), per channel."""

    _layout = ((2, 3), "2-D (N, C) or 3-D (N, C, L)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs over N, H, W, per channel.

    Training mode normalises with the batch statistics and updates running_mean and
    running_var (unbiased) with ``momentum``; eval mode uses the running statistics.
    """

    _layout = ((4,), "4-D (N, C, H, W)")


class InstanceNorm2d(_NormBase):
    """Instance normalisation of (N, C, H, W) (or unbatched (C, H, W)) inputs, per sample, channel.

    PyTorch's defaults: ``affine=False``, ``track_running_stats=False``. With tracking, the
    running statistics are updated in training and used in eval mode.
    """

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=False,
        track_running_stats=False,
        device=None,
        dtype=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        self._check_input(input, (3, 4), "3-D (C, H, W) or 4-D (N, C, H, W)")
        unbatched = input.ndim == 3
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.num_features:
            message = (
                f"InstanceNorm2d: input has {x.shape[1]} channels (shape {input.shape}), "
                f"expected num_features={self.num_features}"
            )
            if self.affine or self.track_running_stats:
                raise ValueError(message)
            warnings.warn(message + "; normalising anyway since affine=False", stacklevel=2)
        y = instance_norm(
            x,
            self.weight,
            self.bias,
            self.eps,
            running_mean=self.running_mean,
            running_var=self.running_var,
            use_input_stats=self.training or not self.track_running_stats,
            momentum=0.0 if self.momentum is None else self.momentum,
        )
        return y.squeeze(0) if unbatched else y


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` axes, elementwise affine map."""

    def __init__(
        self,
        normalized_shape,
        eps=1e-5,
        elementwise_affine=True,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        shape = (
            (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        )
        if not shape or any(not isinstance(n, int) or n <= 0 for n in shape):
            raise ValueError(
                f"LayerNorm: normalized_shape must be positive ints, got {normalized_shape!r}"
            )
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(zeros(shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


__all__ = ["BatchNorm1d", "BatchNorm2d", "InstanceNorm2d", "LayerNorm"]
