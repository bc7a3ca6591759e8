"""2-D convolution and its transpose: three nodes closed under each other (Chainer's idea).

A convolution relates a "big" image (N, Cb, H, W) and a "small" one (N, Cs, Ho, Wo) through
one weight W of shape (Cs, Cb/groups, kh, kw):

    Conv2d          big -> small   gx = ConvTranspose2d(gy, W)   gW = Conv2dGradW(x, gy)
    ConvTranspose2d small -> big   gx = Conv2d(gy, W)            gW = Conv2dGradW(gy, x)
    Conv2dGradW     (big, small) -> W-shaped
                                   g_big = ConvTranspose2d(small, ggW), g_small = Conv2d(big, ggW)

so every derivative, of any order, is again one of the three. conv_transpose2d is the adjoint
of conv2d: <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>.

On the CPU each node is one GEMM (a batched one over groups), built in ``conv_gemm.py``.
``_im2col`` gathers a big image,
through a strided view, into rows of output pixels with columns (tap, channel), channels last:
(groups, N*Ho*Wo, kh*kw*Cb/groups); ``_matmul_col2im`` multiplies and ``_add_taps`` adds the
result back into the big image, looping over the kh*kw taps (the product is formed a few images
at a time, so it is added in while still in cache). Conv2d keeps its im2col for the weight
gradient, and ConvTranspose2d's backward gathers gy's windows once for both of its gradients.
Results are NCHW views of channels-last arrays (no copy), and a channels-last input needs no
layout copy, so a chain of layers stays channels-last. These helpers and the GEMM are
what a GPU path replaces. ConvTranspose2d (every col2im, so every input gradient too) may
instead run as stride-1 phase convolutions (``conv_phase.py``), chosen per shape when
``conv_select.algorithms.benchmark`` is on (off by default: the GEMM + col2im path).

On CUDA (and under ``cuda.emulate()``) they are replaced by our im2col and col2im kernels, with
the GEMM through ``xp.matmul`` (cuBLAS) on the kernel's layout col (N, groups, Cb/groups*kh*kw,
ho*wo) (``_kernel_col``): each node's ``forward_kernel``, which autograd runs in place of
``forward`` there. The windows one node hands another are made by the node that reads them
first, on the same path, so both agree on their layout.
"""

from typing import NamedTuple

import numpy as np

from ..autograd import Function
from ..geometry import conv_output_size, pair
from .conv_gemm import (
    _im2col,
    _kernel_col,
    _kernel_conv,
    _kernel_conv_transpose,
    _kernel_grad_w,
    _matmul_col2im,
    _rows,
    _thin_matmul,
    _unrows,
    _unwmat,
    _wmat,
)
from .conv_phase import conv_transpose_phase
from .conv_select import algorithms, shape_key


class ConvGeometry(NamedTuple):
    """The shape of a convolution's windows: kernel (kh, kw), stride (sy, sx), zero padding
    (ph, pw), dilation (dy, dx) and the number of channel groups."""

    kh: int
    kw: int
    sy: int
    sx: int
    ph: int
    pw: int
    dy: int
    dx: int
    groups: int


# --------------------------------------------------------------------------- the three nodes


class Conv2d(Function):
    """y (N, Cs, ho, wo) = conv of x (N, Cb, H, W) with W (Cs, Cb/g, kh, kw), plus b (Cs,).

    ``windows`` (x's im2col, in the layout of the path that runs) is kept after forward while
    W's gradient may be wanted, or when ``keep_windows`` asks for it (a caller that hands them on).
    """

    def __init__(self, geom, out_size, keep_windows=False):
        self.geom, self.out_size, self.keep_windows = geom, out_size, keep_windows

    def _keep(self, col):
        keep = self.keep_windows or self.needs_input_grad[1]
        self.windows = col if keep else None  # Conv2dGradW reuses them

    def forward(self, x, W, b=None):
        g = self.geom.groups
        ho, wo = self.out_size
        col = _im2col(x, self.geom, ho, wo)
        self._keep(col)
        y = self.xp.matmul(col, _wmat(W, g).transpose(0, 2, 1))
        if b is not None:
            y += b.reshape(g, 1, -1)
        return _unrows(y, x.shape[0], ho, wo)

    def forward_kernel(self, x, W, b=None):
        col = _kernel_col(x, self.geom, self.out_size)
        self._keep(col)
        return _kernel_conv(col, W, b, *self.out_size)

    def backward(self, gy, needs_input_grad):
        x, W = self.inputs[:2]
        need = needs_input_grad
        gx = ConvTranspose2d(self.geom, x.shape[2:]).apply(gy, W) if need[0] else None
        gW = Conv2dGradW(self.geom, self.windows).apply(x, gy) if need[1] else None
        gb = gy.sum((0, 2, 3)) if len(need) == 3 and need[2] else None
        return (gx, gW, gb)[: len(need)]


class ConvTranspose2d(Function):
    """y (N, Cb, H, W) = the adjoint of Conv2d applied to x (N, Cs, ho, wo), plus b (Cb,)."""

    def __init__(self, geom, out_size):
        self.geom, self.out_size = geom, tuple(out_size)

    def forward(self, x, W, b=None):
        g = self.geom.groups
        n, _, ho, wo = x.shape
        rows = _rows(x, g)
        self.rows = rows if self.needs_input_grad[1] else None  # Conv2dGradW reuses them

        def run(algorithm):
            if algorithm == "phase":
                return conv_transpose_phase(x, W, self.geom, self.out_size)
            return _matmul_col2im(rows, _wmat(W, g), self.geom, n, ho, wo, *self.out_size)

        y = run(algorithms.pick(shape_key(x, W, self.geom, self.out_size), self.geom, run))
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        return y

    def forward_kernel(self, x, W, b=None):
        self.rows = None
        return _kernel_conv_transpose(x, W, b, self.geom, self.out_size)

    def backward(self, gy, needs_input_grad):
        x, W = self.inputs[:2]
        need = needs_input_grad
        # gx and gW both read the windows of gy: gx's node gathers them once and hands them on
        conv = Conv2d(self.geom, x.shape[2:], keep_windows=need[0] and need[1])
        gx = conv.apply(gy, W) if need[0] else None
        windows = conv.windows if need[0] and need[1] else None
        gW = Conv2dGradW(self.geom, windows, self.rows).apply(gy, x) if need[1] else None
        gb = gy.sum((0, 2, 3)) if len(need) == 3 and need[2] else None
        return (gx, gW, gb)[: len(need)]


class Conv2dGradW(Function):
    """gW (Cs, Cb/g, kh, kw) = sum over batch and pixels of small (N, Cs, ho, wo) times the
    windows of big (N, Cb, H, W).

    It is the weight gradient of Conv2d(big, W) for gy = small; ``col`` (big's windows) and
    ``rows`` (``_rows(small)``) are passed in when the caller has them already.
    """

    def __init__(self, geom, col=None, rows=None):
        self.geom, self.col, self.rows = geom, col, rows

    def forward(self, big, small):
        kh, kw, g = self.geom.kh, self.geom.kw, self.geom.groups
        col = self.col if self.col is not None else _im2col(big, self.geom, *small.shape[2:])
        rows = self.rows if self.rows is not None else _rows(small, g)
        self.col = self.rows = None
        # formed as (col^T rows)^T: with threaded OpenBLAS, rows^T col was the slower of the two
        m = _thin_matmul(col.transpose(0, 2, 1), rows).transpose(0, 2, 1)
        return self.xp.ascontiguousarray(_unwmat(m, big.shape[1] // g, kh, kw))

    def forward_kernel(self, big, small):
        col = self.col if self.col is not None else _kernel_col(big, self.geom, small.shape[2:])
        self.col = self.rows = None
        return _kernel_grad_w(col, small, big.shape[1], self.geom)

    def backward(self, ggW, needs_input_grad):
        big, small = self.inputs
        need = needs_input_grad
        g_big = ConvTranspose2d(self.geom, big.shape[2:]).apply(small, ggW) if need[0] else None
        g_small = Conv2d(self.geom, small.shape[2:]).apply(big, ggW) if need[1] else None
        return g_big, g_small


# --------------------------------------------------------------------------- public functions


def _check(fn, input, weight, bias, stride, padding, dilation, groups):
    """Validate the arguments shared by conv2d and conv_transpose2d; returns their ConvGeometry."""
    for name, t in (("input", input), ("weight", weight)):
        if t.ndim != 4:
            raise ValueError(
                f"{fn}: {name} must be 4-D, got shape {t.shape} ({t.ndim}-D)"
                + (" (N, C, H, W)" if name == "input" else "")
            )
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {input.dtype}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(
                f"{fn}: {name} has dtype {t.dtype}, input has {input.dtype}; "
                "convert one with .to(dtype)"
            )
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    sy, sx = pair(stride, "stride", fn, 1)
    ph, pw = pair(padding, "padding", fn, 0)
    dy, dx = pair(dilation, "dilation", fn, 1)
    kh, kw = weight.shape[2:]
    if kh < 1 or kw < 1:
        raise ValueError(f"{fn}: weight has an empty kernel, shape {weight.shape}")
    return ConvGeometry(kh, kw, sy, sx, ph, pw, dy, dx, int(groups))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    y[n, o, i, j] = b[o] + sum_{c,u,v} W[o, c, u, v] x_pad[n, g(o) Cg + c, i sy + u dy, j sx + v dx]

    with x zero-padded by (ph, pw) and the channels split into ``groups`` independent groups.

    Args:
        input: (N, C, H, W). weight: (Cout, C/groups, kh, kw). bias: (Cout,) or None.
        stride, padding, dilation: an int or a pair (for H, W). groups: divides C and Cout.
    Returns:
        (N, Cout, Ho, Wo), Ho = floor((H + 2 ph - dy (kh - 1) - 1) / sy) + 1 (likewise Wo).

    Example: conv2d(x (8, 1, 28, 28), W (64, 1, 5, 5), stride=2, padding=2) has shape
    (8, 64, 14, 14).
    """
    geom = _check("conv2d", input, weight, bias, stride, padding, dilation, groups)
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    c, h, w = input.shape[1:]
    cout = weight.shape[0]
    if c % g or cout % g:
        raise ValueError(
            f"conv2d: groups={g} must divide both the input channels ({c}) and the "
            f"output channels ({cout}, weight.shape[0])"
        )
    if weight.shape[1] * g != c:
        raise ValueError(
            f"conv2d: weight has {weight.shape[1]} input channels per group, input "
            f"has {c} channels (expected {c} = weight.shape[1] * groups = "
            f"{weight.shape[1]} * {g})"
        )
    if bias is not None and bias.shape != (cout,):
        raise ValueError(
            f"conv2d: bias must have shape ({cout},) (one per output channel), got {bias.shape}"
        )
    ho, wo = conv_output_size(h, kh, sy, ph, dy), conv_output_size(w, kw, sx, pw, dx)
    if ho < 1 or wo < 1:
        raise ValueError(
            f"conv2d: the output would be {ho} x {wo}: input size ({h}, {w}) with padding "
            f"({ph}, {pw}) is smaller than the dilated kernel ({dy * (kh - 1) + 1}, "
            f"{dx * (kw - 1) + 1}) (kernel ({kh}, {kw}), dilation ({dy}, {dx}), "
            f"stride ({sy}, {sx}))"
        )
    args = (input, weight) if bias is None else (input, weight, bias)
    return Conv2d(geom, (ho, wo)).apply(*args)


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """2-D transposed convolution, as torch.nn.functional.conv_transpose2d: the adjoint of conv2d.

    Each input pixel scatters x[n, c, i, j] * W[c, o, u, v] to output
    (i sy + u dy - ph, j sx + v dx - pw), so <conv2d(y, W), x> = <y, conv_transpose2d(x, W)> for
    matching shapes.

    Args:
        input: (N, Cin, H, W). weight: (Cin, Cout/groups, kh, kw). bias: (Cout,) or None.
        stride, padding, output_padding, dilation: an int or a pair; output_padding (extra
        rows/columns at the bottom/right) must be smaller than stride or dilation. groups: divides
        Cin and Cout.
    Returns:
        (N, Cout, Ho, Wo), Ho = (H - 1) sy - 2 ph + dy (kh - 1) + output_padding + 1 (likewise Wo).

    Example: conv_transpose2d(x (8, 128, 7, 7), W (128, 64, 5, 5), stride=2, padding=2,
    output_padding=1) has shape (8, 64, 14, 14).
    """
    fn = "conv_transpose2d"
    geom = _check(fn, input, weight, bias, stride, padding, dilation, groups)
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    oph, opw = pair(output_padding, "output_padding", fn, 0)
    if not (oph < sy or oph < dy) or not (opw < sx or opw < dx):
        raise ValueError(
            f"{fn}: output_padding ({oph}, {opw}) must be smaller than either stride "
            f"({sy}, {sx}) or dilation ({dy}, {dx}) in each dimension"
        )
    c, h, w = input.shape[1:]
    if c % g:
        raise ValueError(f"{fn}: groups={g} must divide the input channels ({c})")
    if weight.shape[0] != c:
        raise ValueError(
            f"{fn}: weight has {weight.shape[0]} input channels (weight.shape[0]), "
            f"input has {c} (the weight is (Cin, Cout/groups, kh, kw))"
        )
    cout = weight.shape[1] * g
    if bias is not None and bias.shape != (cout,):
        raise ValueError(
            f"{fn}: bias must have shape ({cout},) (one per output channel), got {bias.shape}"
        )
    ho = (h - 1) * sy - 2 * ph + dy * (kh - 1) + oph + 1
    wo = (w - 1) * sx - 2 * pw + dx * (kw - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise ValueError(
            f"{fn}: the output would be {ho} x {wo}: input size ({h}, {w}), kernel ({kh}, {kw}), "
            f"stride ({sy}, {sx}), padding ({ph}, {pw}), dilation ({dy}, {dx}), output_padding "
            f"({oph}, {opw}); reduce the padding"
        )
    args = (input, weight) if bias is None else (input, weight, bias)
    return ConvTranspose2d(geom, (ho, wo)).apply(*args)


__all__ = ["conv2d", "conv_transpose2d"]
