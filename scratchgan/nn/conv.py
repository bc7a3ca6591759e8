"""Convolution, pooling, upsampling: Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, Upsample.

Constructor signatures, attribute names, parameter shapes and initialisation follow PyTorch:
W ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and b ~ U(-1/sqrt(fan_in),
1/sqrt(fan_in)), where fan_in = weight.shape[1] * kh * kw (for ConvTranspose2d that is
out_channels/groups * kh * kw, as in PyTorch).
"""

import math

from .. import functional as F
from ..geometry import pair
from ..ops.upsample import _scale
from . import init
from .linear import empty_parameter
from .module import Module


class _ConvNd(Module):
    def __init__(
        self,
        name,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        groups,
        bias,
        padding_mode,
        weight_shape,
        device,
        dtype,
        generator,
        output_padding=0,
    ):
        super().__init__()
        for arg, n in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("groups", groups),
        ):
            if not isinstance(n, int) or isinstance(n, bool) or n < (1 if arg == "groups" else 0):
                raise ValueError(
                    f"{name}: {arg} must be a {'positive' if arg == 'groups' else 'non-negative'} "
                    f"int, got {n!r}"
                )
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both "
                f"be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: padding_mode {padding_mode!r} is not supported; only 'zeros' is"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name, 1)
        self.stride = pair(stride, "stride", name, 1)
        self.padding = pair(padding, "padding", name, 0)
        self.dilation = pair(dilation, "dilation", name, 1)
        self.output_padding = pair(output_padding, "output_padding", name, 0)
        self.padding_mode = padding_mode
        self.weight = empty_parameter(weight_shape + self.kernel_size, device, dtype)
        if bias:
            self.bias = empty_parameter((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def extra_repr(self):
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution: weight (out_channels, in_channels/groups, kh, kw), bias (out_channels,)."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
        generator=None,
    ):
        super().__init__(
            "Conv2d",
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            (out_channels, in_channels // max(groups, 1)),
            device,
            dtype,
            generator,
        )

    def forward(self, input):
        return F.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution: weight (in_channels, out_channels/groups, kh, kw), bias
    (out_channels,).

    ``forward(input, output_size=None)``: as in PyTorch, ``output_size`` (the last two entries are
    used) picks the output_padding that gives that size.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
        generator=None,
    ):
        super().__init__(
            "ConvTranspose2d",
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            (in_channels, out_channels // max(groups, 1)),
            device,
            dtype,
            generator,
            output_padding,
        )

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-2:]
        if len(size) != 2 or input.ndim != 4:
            raise ValueError(
                "ConvTranspose2d: output_size must end with (H, W) for a 4-D input, got "
                f"{output_size!r}"
            )
        pads = []
        for d, want in enumerate(size):
            smallest = (
                (input.shape[2 + d] - 1) * self.stride[d]
                - 2 * self.padding[d]
                + self.dilation[d] * (self.kernel_size[d] - 1)
                + 1
            )
            largest = smallest + max(self.stride[d], self.dilation[d]) - 1
            if not smallest <= want <= largest:
                raise ValueError(
                    f"ConvTranspose2d: requested output size {tuple(size)}, but dimension {d} can "
                    f"only be between {smallest} and {largest} for an input of size "
                    f"{tuple(input.shape[2:])}"
                )
            pads.append(want - smallest)
        return tuple(pads)

    def forward(self, input, output_size=None):
        return F.conv_transpose2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


class MaxPool2d(Module):
    """Max over kh x kw windows (functional.max_pool2d); no ceil_mode, no return_indices."""

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        super().__init__()
        if return_indices:
            raise ValueError("MaxPool2d: return_indices=True is not supported")
        self.kernel_size, self.stride, self.padding, self.dilation = (
            kernel_size,
            kernel_size if stride is None else stride,
            padding,
            dilation,
        )
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return F.max_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}"
        )


class AvgPool2d(Module):
    """Mean over kh x kw windows (see functional.avg_pool2d); ceil_mode: only False."""

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__()
        self.kernel_size, self.stride, self.padding = (
            kernel_size,
            kernel_size if stride is None else stride,
            padding,
        )
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Upsample(Module):
    """Nearest-neighbour upsampling by an integer ``scale_factor`` (see functional.interpolate)."""

    def __init__(self, scale_factor, mode="nearest"):
        super().__init__()
        if mode != "nearest":
            raise ValueError(
                f"Upsample: mode {mode!r} is not supported; only mode='nearest' is implemented"
            )
        _scale(scale_factor)
        self.scale_factor, self.mode = scale_factor, mode

    def forward(self, input):
        return F.interpolate(input, scale_factor=self.scale_factor, mode=self.mode)

    def extra_repr(self):
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"


__all__ = ["AvgPool2d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "Upsample"]
