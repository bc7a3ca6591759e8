"""GAN-specific ops: pixel_norm (ProGAN), minibatch_stddev (ProGAN), adain (StyleGAN).

pixel_norm is one fused node (its gradient has a short closed form); minibatch_stddev is a
composition of differentiable ops, so its double backward comes for free; adain is the
instance-normalisation node of ``normalization.py`` with a per-sample weight and bias.

On CUDA (and under ``cuda.emulate()``) pixel_norm's forward and first-order backward run our
kernels, and minibatch_stddev becomes the fused node ``MinibatchStdDev`` whose forward and
first-order backward are kernels; when a backward is recorded (create_graph) both build their
gradient from differentiable ops instead, which run through the array module. Autograd makes
these choices (see ``Function``); the nodes only offer the paths.
"""

from .. import cuda
from ..autograd import Function
from ..tensor import Tensor
from .arithmetic import broadcast_to
from .normalization import Norm
from .shape import concat


class PixelNorm(Function):
    """y = x r,  r = 1 / sqrt(mean_c x^2 + eps) per position;  gx = r (gy - y mean_c(gy y))."""

    saves_output = True

    def __init__(self, eps):
        self.eps = eps

    def _channel_mean(self, a, b):
        N, C = a.shape[:2]
        a3, b3 = a.reshape(N, C, -1), b.reshape(N, C, -1)
        s = self.xp.einsum("ncl,ncl->nl", a3, b3) * (1.0 / C)
        return s.reshape((N, 1) + a.shape[2:])

    def forward(self, x):
        self.rstd = 1 / self.xp.sqrt(self._channel_mean(x, x) + self.eps)
        return x * self.rstd

    def forward_kernel(self, x):
        return cuda.pixel_norm_forward(x, self.eps)

    def backward_fused(self, gy, needs_input_grad):
        y = self.output.array
        gx = y * -self._channel_mean(gy, y)
        gx += gy
        gx *= self.rstd
        return (gx,)

    def backward_fused_kernel(self, gy, needs_input_grad):
        return (cuda.pixel_norm_backward(self.inputs[0].array, gy, self.eps),)

    def backward(self, gy, needs_input_grad):
        x, y = self.inputs[0], self.output
        rstd = ((x * x).mean(1, keepdims=True) + self.eps) ** -0.5
        return (rstd * (gy - y * (gy * y).mean(1, keepdims=True)),)


def pixel_norm(input, eps=1e-8):
    """ProGAN's pixelwise feature normalisation: y[n, :, i, j] = x[n, :, i, j] r[n, i, j], with
    r = 1 / sqrt(mean over channels of x^2 + eps); gx = r (gy - y mean_c(gy y)).

    Args:
        input: (N, C, *spatial), or (N, C) (e.g. a latent vector). eps: keeps r finite at 0.
    Returns:
        A tensor of input's shape whose channel vector at each position has mean square 1.

    Example: pixel_norm(x) for x (1, 2) = [[3., 4.]] is [[0.848..., 1.131...]] (x / sqrt(12.5)).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pixel_norm: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(
            f"pixel_norm: input must be (N, C) or (N, C, *spatial), got shape {input.shape}"
        )
    return PixelNorm(eps).apply(input)


class MinibatchStdDev(Function):
    """x (N, C, H, W) -> (N, C+1, H, W): x with the mean group standard deviation appended.

    Off kernel devices it is ``composite``, a composition of differentiable ops (so its double
    backward comes for free, and its gradients are the ones the array path always gave); on them
    a node whose forward and first-order backward are kernels.
    With x viewed as (G, M, C, H, W), mu and std over G, K = C*H*W and gs the sum of the extra
    channel's gradient over each group: gx = gy[:, :C] + gs (x - mu) / (G K std).
    """

    def __init__(self, group_size, eps):
        self.group_size, self.eps = group_size, eps

    def composite(self, x):
        N, C, H, W = x.shape
        G = min(self.group_size, N)
        y = x.reshape(G, N // G, C, H, W)
        y = y - y.mean(0, keepdims=True)
        std = ((y * y).mean(0) + self.eps).sqrt()
        s = std.mean((1, 2, 3)).reshape(1, N // G, 1, 1, 1)
        s = broadcast_to(s, (G, N // G, 1, H, W)).reshape(N, 1, H, W)
        return concat([x, s], 1)

    def forward_kernel(self, x):
        return cuda.minibatch_stddev_forward(x, self.group_size, self.eps)

    def backward_fused_kernel(self, gy, needs_input_grad):
        x = self.inputs[0].array
        return (cuda.minibatch_stddev_backward(x, gy, self.group_size, self.eps),)

    def backward(self, gy, needs_input_grad):
        # the same closed form, written with differentiable ops (double backward)
        x = self.inputs[0]
        N, C, H, W = x.shape
        G = min(self.group_size, N)
        x5 = x.reshape(G, N // G, C, H, W)
        xc = x5 - x5.mean(0, keepdims=True)
        std = ((xc * xc).mean(0, keepdims=True) + self.eps).sqrt()
        gs = gy[:, C:].reshape(G, N // G, 1, H, W).sum((0, 2, 3, 4), keepdims=True)
        return (gy[:, :C] + (xc * gs / (std * (G * C * H * W))).reshape(N, C, H, W),)


def minibatch_stddev(input, group_size=4, eps=1e-8):
    """ProGAN's minibatch standard deviation, appended as one extra feature map.

    The batch is split into groups of G = min(group_size, N) samples as in the reference
    code: x.reshape(G, N // G, C, H, W), so sample n belongs to group n % (N // G). For each
    group: std over its G samples (biased variance, sqrt(var + eps)) per (c, h, w), averaged
    over C, H, W into one number, which is written to every position of a new channel of
    the group's samples.

    Args:
        input: (N, C, H, W) with N divisible by G. group_size: the most samples per group.
        eps: added to the variance before its square root.
    Returns:
        (N, C + 1, H, W): input with the group's mean standard deviation as channel C.

    Example: minibatch_stddev(x (16, 512, 4, 4)) has shape (16, 513, 4, 4).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"minibatch_stddev: input must be a Tensor, got {type(input).__name__}")
    if input.ndim != 4:
        raise ValueError(
            f"minibatch_stddev: input must be 4-D (N, C, H, W), got shape {input.shape}"
        )
    if not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"minibatch_stddev: group_size must be a positive int, got {group_size!r}")
    N, C, H, W = input.shape
    G = min(group_size, N)
    if N % G:
        raise ValueError(
            f"minibatch_stddev: batch size N={N} is not divisible by the group size "
            f"min(group_size={group_size}, N)={G}"
        )
    return MinibatchStdDev(group_size, eps).apply(input)


def adain(input, style_scale, style_bias, eps=1e-5):
    """Adaptive instance normalisation (StyleGAN).

    y[n, c] = style_scale[n, c] * (x[n, c] - mean[n, c]) / sqrt(var[n, c] + eps) + style_bias[n, c],
    with mean and (biased) var over the spatial positions of each (n, c) plane.

    Args:
        input: (N, C, H, W) (or (N, C, *spatial)). style_scale, style_bias: (N, C), one scale and
        bias per sample and channel (from the style vector).
    Returns:
        A tensor of input's shape.

    Example: adain(x (4, 512, 8, 8), s (4, 512), b (4, 512)) has shape (4, 512, 8, 8).
    """
    for name, t in (("input", input), ("style_scale", style_scale), ("style_bias", style_bias)):
        if not isinstance(t, Tensor):
            raise TypeError(f"adain: {name} must be a Tensor, got {type(t).__name__}")
    if input.ndim < 3:
        raise ValueError(f"adain: input must be (N, C, H, W), got shape {input.shape}")
    N, C = input.shape[:2]
    for name, t in (("style_scale", style_scale), ("style_bias", style_bias)):
        if t.shape != (N, C):
            raise ValueError(
                f"adain: {name} has shape {t.shape}, expected (N, C) = {(N, C)} "
                f"for an input of shape {input.shape}"
            )
        if t.dtype != input.dtype:
            raise TypeError(
                f"adain: {name} has dtype {t.dtype}, input has {input.dtype}; "
                "convert one with .to(dtype)"
            )
    x3 = input.reshape(N, C, -1)
    y = Norm(False, eps).apply(x3, style_scale.reshape(N, C, 1), style_bias.reshape(N, C, 1))
    return y.reshape(input.shape)


__all__ = ["adain", "minibatch_stddev", "pixel_norm"]
