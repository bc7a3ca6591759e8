"""GAN layers: PixelNorm, MinibatchStdDev, EqualizedLinear, EqualizedConv2d (ProGAN), AdaIN,
NoiseInjection (StyleGAN).

Equalized learning rate (Karras et al., 2018): weights are stored as N(0, 1) draws and
multiplied at run time by the He constant c = gain / sqrt(fan_in), so every weight gets
the same dynamic range and an adaptive optimiser updates all layers at the same speed.
"""

import math

from ..ops.conv import conv2d
from ..ops.gan import adain, minibatch_stddev, pixel_norm
from ..ops.matmul import linear
from ..tensor import Tensor, randn, zeros
from . import init
from .module import Module, Parameter

SQRT2 = math.sqrt(2)  # He et al.'s gain for ReLU-like activations, ProGAN's default


class PixelNorm(Module):
    """x / sqrt(mean over channels of x^2 + eps) at every position (ProGAN's generator)."""

    def __init__(self, eps=1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, input):
        return pixel_norm(input, self.eps)

    def extra_repr(self):
        return f"eps={self.eps}"


class MinibatchStdDev(Module):
    """Appends one channel: the mean std over groups of ``group_size`` samples (ProGAN's critic)."""

    def __init__(self, group_size=4, eps=1e-8):
        super().__init__()
        if not isinstance(group_size, int) or group_size < 1:
            raise ValueError(
                f"MinibatchStdDev: group_size must be a positive int, got {group_size!r}"
            )
        self.group_size, self.eps = group_size, eps

    def forward(self, input):
        return minibatch_stddev(input, self.group_size, self.eps)

    def extra_repr(self):
        return f"group_size={self.group_size}"


def _positive(name, value, layer):
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")


class EqualizedLinear(Module):
    """y = x (c W)^T + b with W ~ N(0, 1), c = gain / sqrt(in_features), b = 0 at start.

    ``lr_mul`` (StyleGAN's mapping network) divides the stored weight's std by lr_mul and
    multiplies c by it, so the effective initial weight is unchanged but learns lr_mul times slower.
    """

    def __init__(
        self,
        in_features,
        out_features,
        bias=True,
        gain=SQRT2,
        lr_mul=1.0,
        bias_init=0.0,
        device=None,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        _positive("in_features", in_features, "EqualizedLinear")
        _positive("out_features", out_features, "EqualizedLinear")
        self.in_features, self.out_features, self.gain, self.lr_mul = (
            in_features,
            out_features,
            gain,
            lr_mul,
        )
        self.scale = gain / math.sqrt(in_features) * lr_mul
        self.weight = Parameter(
            randn(out_features, in_features, dtype=dtype, device=device, generator=generator)
        )
        if lr_mul != 1.0:
            self.weight.data = self.weight.array / self.weight.dtype.type(lr_mul)
        if bias:
            self.bias = Parameter(zeros(out_features, dtype=dtype, device=device))
            init.constant_(self.bias, bias_init / lr_mul)
        else:
            self.register_parameter("bias", None)

    def forward(self, input):
        bias = (
            self.bias * self.lr_mul if self.bias is not None and self.lr_mul != 1.0 else self.bias
        )
        return linear(input, self.weight * self.scale, bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, "
            f"gain={self.gain:.4g}"
        )


class EqualizedConv2d(Module):
    """conv2d with weight c W, W ~ N(0, 1) of shape (out, in/groups, kh, kw),
    c = gain / sqrt(fan_in).

    fan_in = in_channels / groups * kh * kw; the bias starts at zero.
    """

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
        gain=SQRT2,
        device=None,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        _positive("in_channels", in_channels, "EqualizedConv2d")
        _positive("out_channels", out_channels, "EqualizedConv2d")
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        _positive("kernel_size", kh, "EqualizedConv2d")
        _positive("kernel_size", kw, "EqualizedConv2d")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"EqualizedConv2d: groups={groups} must divide in_channels ({in_channels}) "
                f"and out_channels ({out_channels})"
            )
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, (kh, kw)
        self.stride, self.padding, self.dilation, self.groups, self.gain = (
            stride,
            padding,
            dilation,
            groups,
            gain,
        )
        self.scale = gain / math.sqrt(in_channels // groups * kh * kw)
        shape = (out_channels, in_channels // groups, kh, kw)
        self.weight = Parameter(randn(*shape, dtype=dtype, device=device, generator=generator))
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)

    def forward(self, input):
        return conv2d(
            input,
            self.weight * self.scale,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )

    def extra_repr(self):
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, "
            f"padding={self.padding}, gain={self.gain:.4g}"
        )


class AdaIN(Module):
    """StyleGAN's adaptive instance norm: instance-normalise, then scale and shift by a style.

    A learned affine map (an EqualizedLinear with gain 1) turns w (N, style_dim) into a
    per-channel scale and bias; its bias starts at 1 for the scale and 0 for the shift, so
    the layer starts as plain instance normalisation. forward(input (N, C, H, W), w (N, style_dim)).
    """

    def __init__(self, num_features, style_dim, eps=1e-5, device=None, dtype=None, generator=None):
        super().__init__()
        _positive("num_features", num_features, "AdaIN")
        _positive("style_dim", style_dim, "AdaIN")
        self.num_features, self.style_dim, self.eps = num_features, style_dim, eps
        self.style = EqualizedLinear(
            style_dim, 2 * num_features, gain=1.0, device=device, dtype=dtype, generator=generator
        )
        self.style.bias.data[:num_features] = 1

    def forward(self, input, w):
        if not isinstance(w, Tensor) or w.ndim != 2 or w.shape[1] != self.style_dim:
            shape = w.shape if isinstance(w, Tensor) else type(w).__name__
            raise ValueError(f"AdaIN: w must be (N, style_dim={self.style_dim}), got {shape}")
        s = self.style(w)
        C = self.num_features
        return adain(input, s[:, :C], s[:, C:], self.eps)

    def extra_repr(self):
        return f"{self.num_features}, style_dim={self.style_dim}"


class NoiseInjection(Module):
    """y = x + weight[c] * noise, with noise ~ N(0, 1) of shape (N, 1, H, W) shared by the channels.

    ``weight`` (num_channels,) starts at zero (StyleGAN). Noise is drawn from ``generator``
    (given here or to forward; default: the device's default generator) unless passed in.
    """

    def __init__(self, num_channels, device=None, dtype=None, generator=None):
        super().__init__()
        _positive("num_channels", num_channels, "NoiseInjection")
        self.num_channels, self.generator = num_channels, generator
        self.weight = Parameter(zeros(num_channels, dtype=dtype, device=device))

    def forward(self, input, noise=None, generator=None):
        if not isinstance(input, Tensor) or input.ndim != 4 or input.shape[1] != self.num_channels:
            shape = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(
                f"NoiseInjection: input must be (N, {self.num_channels}, H, W), got {shape}"
            )
        N, _, H, W = input.shape
        if noise is None:
            noise = randn(
                N,
                1,
                H,
                W,
                dtype=input.dtype,
                device=input.device,
                generator=generator or self.generator,
            )
        elif noise.shape != (N, 1, H, W):
            raise ValueError(
                f"NoiseInjection: noise must have shape {(N, 1, H, W)}, got {noise.shape}"
            )
        return input + self.weight.reshape(1, -1, 1, 1) * noise

    def extra_repr(self):
        return f"{self.num_channels}"


__all__ = [
    "AdaIN",
    "EqualizedConv2d",
    "EqualizedLinear",
    "MinibatchStdDev",
    "NoiseInjection",
    "PixelNorm",
]
