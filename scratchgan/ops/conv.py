"""2-D convolution and its transpose: three nodes closed under each other (Chainer's idea).

A convolution relates a "big" image (N, Cb, H, W) and a "small" one (N, Cs, Ho, Wo) through
one weight W of shape (Cs, Cb/groups, kh, kw):

    Conv2d          big -> small   gx = ConvTranspose2d(gy, W)   gW = Conv2dGradW(x, gy)
    ConvTranspose2d small -> big   gx = Conv2d(gy, W)            gW = Conv2dGradW(gy, x)
    Conv2dGradW     (big, small) -> W-shaped
                                   g_big = ConvTranspose2d(small, ggW), g_small = Conv2d(big, ggW)

so every derivative, of any order, is again one of the three. conv_transpose2d is the adjoint
of conv2d: <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>.

On the CPU each node is one GEMM (a batched one over groups). ``_im2col`` gathers a big image,
through a strided view, into rows of output pixels with columns (tap, channel), channels last:
(groups, N*Ho*Wo, kh*kw*Cb/groups); ``_matmul_col2im`` multiplies and ``_add_taps`` adds the
result back into the big image, looping over the kh*kw taps (the product is formed a few images
at a time, so it is added in while still in cache). Conv2d keeps its im2col for the weight
gradient, and ConvTranspose2d's backward gathers gy's windows once for both of its gradients.
Results are NCHW views of channels-last arrays (no copy), and a channels-last input needs no
layout copy, so a chain of layers stays channels-last. These helpers and the GEMM are
what a GPU path replaces.

On CUDA (and under ``cuda.emulate()``) they are replaced by our im2col and col2im kernels, with
the GEMM through ``xp.matmul`` (cuBLAS) on the kernel's layout col (N, groups, Cb/groups*kh*kw,
ho*wo) (``_kernel_col``): each node's ``forward_kernel``, which autograd runs in place of
``forward`` there. The windows one node hands another are made by the node that reads them
first, on the same path, so both agree on their layout.
"""

from typing import NamedTuple

import numpy as np

from .. import cuda
from ..autograd import Function
from ..backend import array_module


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


# --------------------------------------------------------------------------- array kernels

_CHANNELS_LAST_MIN = 16  # _add_taps accumulates channels-last from this many channels on


def _as_strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


def _nhwc(a):
    """The (N, H, W, C) view of ``a`` (N, C, H, W), made cheap to read channel by channel.

    Reading a channels-first array pixel by pixel steps by H*W values; when that stride is a
    multiple of 1 KiB every step lands in the same cache set and the transposing copy crawls.
    Such arrays are first copied row by row into a buffer whose channel stride is skewed.
    """
    n, c, h, w = a.shape
    if c > 1 and a.strides[1] != a.itemsize and (h * w * a.itemsize) % 1024 == 0:
        skewed = array_module(a).empty((n, c, h * w + 16), a.dtype)
        skewed[:, :, :h * w] = a.reshape(n, c, h * w)
        a = skewed[:, :, :h * w].reshape(n, c, h, w)
    return a.transpose(0, 2, 3, 1)


def _rows(a, groups):
    """(N, C, H, W) -> (groups, N*H*W, C/groups), channels last (a view if ``a`` already is)."""
    n, c, h, w = a.shape
    return _nhwc(a).reshape(n * h * w, groups, c // groups).transpose(1, 0, 2)


def _unrows(r, n, h, w):
    """(groups, N*H*W, Cg) -> the NCHW view (N, groups*Cg, H, W)."""
    g, _, cg = r.shape
    return r.transpose(1, 0, 2).reshape(n, h, w, g * cg).transpose(0, 3, 1, 2)


def _im2col(x, geom, ho, wo):
    """x (N, Cb, H, W) -> col (groups, N*ho*wo, kh*kw*Cb/groups): row p holds the window of output pixel p."""
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    xp = array_module(x)
    n, c, h, w = x.shape
    if sy * (ho - 1) + dy * (kh - 1) >= h + 2 * ph or sx * (wo - 1) + dx * (kw - 1) >= w + 2 * pw:
        raise ValueError(f"_im2col: {ho} x {wo} windows of geometry {geom} reach outside a {h} x {w} image")
    xh = x.transpose(0, 2, 3, 1)
    if ph or pw or (c > 1 and xh.strides[3] != xh.itemsize):
        # channels-last copy (padded): the gather below then reads runs of kw*C contiguous values
        padded = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), x.dtype)
        padded[:, ph:ph + h, pw:pw + w] = _nhwc(x)
        xh = padded
    cg = c // g
    s0, s1, s2, s3 = xh.strides
    view = _as_strided(xp, xh, (n, ho, wo, g, kh, kw, cg), (s0, sy * s1, sx * s2, cg * s3, dy * s1, dx * s2, s3))
    col = xp.ascontiguousarray(view)
    return col.reshape(n * ho * wo, g, kh * kw * cg).transpose(1, 0, 2)


def _col2im_buffer(xp, n, g, cg, h, w, geom, dtype, channels_last):
    """The zero padded image that ``_add_taps`` accumulates into: (N, H+2ph, W+2pw, groups, Cg) strides."""
    ph, pw = geom.ph, geom.pw
    if channels_last:
        return xp.zeros((n, h + 2 * ph, w + 2 * pw, g, cg), dtype)
    return xp.zeros((n, g, cg, h + 2 * ph, w + 2 * pw), dtype).transpose(0, 3, 4, 1, 2)


def _add_taps(out, taps, geom):
    """The adjoint of ``_im2col``: out (N, H+2ph, W+2pw, groups, Cg) += taps (N, ho, wo, groups, kh, kw, Cg),
    tap by tap (any strides)."""
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    ho, wo = taps.shape[1:3]
    for i in range(kh):
        rows = slice(i * dy, i * dy + sy * (ho - 1) + 1, sy)
        for j in range(kw):
            out[:, rows, j * dx:j * dx + sx * (wo - 1) + 1:sx] += taps[:, :, :, :, i, j]


def _unpad(out, geom, h, w):
    """The NCHW view of the interior of a ``_col2im_buffer``."""
    n, _, _, g, cg = out.shape
    ph, pw = geom.ph, geom.pw
    return out[:, ph:ph + h, pw:pw + w].reshape(n, h, w, g * cg).transpose(0, 3, 1, 2)


_TAPS_CHUNK_BYTES = 2 << 20


def _matmul_col2im(rows, wm, geom, n, ho, wo, h, w):
    """col2im(rows @ wm) for rows (groups, N*ho*wo, Cs/groups) and wm (groups, Cs/groups, kh*kw*Cb/groups).

    The product (every tap of every output pixel) is kh*kw times the size of the result, so it is formed
    a few images at a time (about 2 MiB) and added in while it is still in cache: 1.4x faster than one
    product for the whole batch on a DCGAN layer. For few channels each chunk is formed transposed,
    (kh*kw*Cg, images*ho*wo), so each tap's values lie along image rows for a channels-first sum.
    """
    kh, kw, g = geom.kh, geom.kw, geom.groups
    xp = array_module(rows)
    cg = wm.shape[2] // (kh * kw)
    channels_last = g * cg >= _CHANNELS_LAST_MIN
    out = _col2im_buffer(xp, n, g, cg, h, w, geom, rows.dtype, channels_last)
    per_image = ho * wo * wm.shape[2] * g * rows.itemsize
    chunk = max(1, min(n, _TAPS_CHUNK_BYTES // per_image))
    for n0 in range(0, n, chunk):
        b = min(chunk, n - n0)
        r = rows[:, n0 * ho * wo:(n0 + b) * ho * wo]
        if channels_last:
            taps = xp.matmul(r, wm).reshape(g, b, ho, wo, kh, kw, cg).transpose(1, 2, 3, 0, 4, 5, 6)
        else:
            colT = xp.matmul(wm.transpose(0, 2, 1), r.transpose(0, 2, 1))
            taps = colT.reshape(g, kh, kw, cg, b, ho, wo).transpose(4, 5, 6, 0, 1, 2, 3)
        _add_taps(out[n0:n0 + b], taps, geom)
    return _unpad(out, geom, h, w)


_SMALL_PRODUCT = 16384  # results up to this many values are formed on one BLAS thread
_blas_controller = []


def _thin_matmul(a, b):
    """xp.matmul for a small result over a long reduction (the weight gradient), on one BLAS thread.

    Threaded OpenBLAS synchronises its threads once per block of the reduction. For a result of a
    few thousand values that is most of the time taken, and on a busy machine each synchronisation
    can wait for a scheduler slice: we measured 3.4 s instead of 0.1 s for a first-layer weight
    gradient. One thread does this work in milliseconds. Needs threadpoolctl; without it, or on a
    GPU, this is plain matmul.
    """
    if not isinstance(a, np.ndarray) or a.shape[0] * a.shape[1] * b.shape[2] > _SMALL_PRODUCT:
        return array_module(a).matmul(a, b)
    if not _blas_controller:
        try:
            from threadpoolctl import ThreadpoolController

            _blas_controller.append(ThreadpoolController())
        except ImportError:
            _blas_controller.append(None)
    if _blas_controller[0] is None:
        return np.matmul(a, b)
    with _blas_controller[0].limit(limits=1, user_api="blas"):
        return np.matmul(a, b)


def _wmat(W, g):
    """W (Cs, Cb/g, kh, kw) -> (g, Cs/g, kh*kw*Cb/g), columns in _im2col's (tap, channel) order."""
    cs, cbg, kh, kw = W.shape
    return W.reshape(g, cs // g, cbg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, cs // g, kh * kw * cbg)


def _unwmat(m, cbg, kh, kw):
    g, csg, _ = m.shape
    return m.reshape(g * csg, kh, kw, cbg).transpose(0, 3, 1, 2)


# --------------------------------------------------------------------------- the kernel path


def _kernel_col(x, geom, out_size):
    """The im2col kernel: x (N, Cb, H, W) -> col (N, g, Cb/g*kh*kw, ho*wo), rows in W's (c, ky, kx) order."""
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    col = cuda.im2col(x, kh, kw, (sy, sx), (ph, pw), (dy, dx))
    n, k, _ = col.shape
    ho, wo = out_size
    Ho, Wo = cuda.conv_output_size(x.shape[2], kh, sy, ph, dy), cuda.conv_output_size(x.shape[3], kw, sx, pw, dx)
    if (Ho, Wo) != (ho, wo):  # output_padding >= stride: the big image holds more windows than the small one
        col = col.reshape(n, k, Ho, Wo)[:, :, :ho, :wo]
    return col.reshape(n, g, k // g, ho * wo)


def _kernel_conv(col, W, b, ho, wo):
    """y (N, Cs, ho, wo) = W (Cs/g, K) @ col (K, ho*wo) per group, plus b."""
    g = col.shape[1]
    y = array_module(col).matmul(W.reshape(g, W.shape[0] // g, -1), col).reshape(col.shape[0], -1, ho, wo)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _kernel_conv_transpose(x, W, b, geom, out_size):
    """col = W^T (K, Cs/g) @ x (Cs/g, ho*wo) per group, added into the big image by the col2im kernel."""
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    n, cs, ho, wo = x.shape
    col = array_module(x).matmul(W.reshape(g, cs // g, -1).transpose(0, 2, 1), x.reshape(n, g, cs // g, ho * wo))
    big = (n, W.shape[1] * g, *out_size)
    y = cuda.col2im(col.reshape(n, -1, ho * wo), big, kh, kw, (sy, sx), (ph, pw), (dy, dx), col_hw=(ho, wo))
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _kernel_grad_w(col, small, cb, geom):
    """gW (Cs, Cb/g, kh, kw) = sum over n of small (Cs/g, ho*wo) @ col^T (ho*wo, K) per group."""
    kh, kw, g = geom.kh, geom.kw, geom.groups
    n, cs, ho, wo = small.shape
    gW = array_module(col).matmul(small.reshape(n, g, cs // g, ho * wo), col.transpose(0, 1, 3, 2)).sum(0)
    return gW.reshape(cs, cb // g, kh, kw)


# --------------------------------------------------------------------------- the three nodes


class Conv2d(Function):
    """y (N, Cs, ho, wo) = conv of x (N, Cb, H, W) with W (Cs, Cb/g, kh, kw), plus b (Cs,).

    ``windows`` (x's im2col, in the layout of the path that runs) is kept after forward while
    W's gradient may be wanted, or when ``keep_windows`` asks for it (a caller that hands them on).
    """

    def __init__(self, geom, out_size, keep_windows=False):
        self.geom, self.out_size, self.keep_windows = geom, out_size, keep_windows

    def _keep(self, col):
        self.windows = col if self.keep_windows or self.needs_input_grad[1] else None  # Conv2dGradW reuses it

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
        return (gx, gW, gb)[:len(need)]


class ConvTranspose2d(Function):
    """y (N, Cb, H, W) = the adjoint of Conv2d applied to x (N, Cs, ho, wo), plus b (Cb,)."""

    def __init__(self, geom, out_size):
        self.geom, self.out_size = geom, tuple(out_size)

    def forward(self, x, W, b=None):
        g = self.geom.groups
        n, _, ho, wo = x.shape
        rows = _rows(x, g)
        self.rows = rows if self.needs_input_grad[1] else None  # Conv2dGradW reuses them
        y = _matmul_col2im(rows, _wmat(W, g), self.geom, n, ho, wo, *self.out_size)
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
        return (gx, gW, gb)[:len(need)]


class Conv2dGradW(Function):
    """gW (Cs, Cb/g, kh, kw) = sum over batch and pixels of small (N, Cs, ho, wo) times the windows of big (N, Cb, H, W).

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


def _pair(value, name, fn, minimum):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value), int(value))
    elif (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        value = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    if min(value) < minimum:
        raise ValueError(f"{fn}: {name} must be at least {minimum}, got {value}")
    return value


def _check(fn, input, weight, bias, stride, padding, dilation, groups):
    """Validate the arguments shared by conv2d and conv_transpose2d; returns their ConvGeometry."""
    for name, t in (("input", input), ("weight", weight)):
        if t.ndim != 4:
            raise ValueError(f"{fn}: {name} must be 4-D, got shape {t.shape} ({t.ndim}-D)"
                             + (" (N, C, H, W)" if name == "input" else ""))
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {input.dtype}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"{fn}: {name} has dtype {t.dtype}, input has {input.dtype}; convert one with .to(dtype)")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    sy, sx = _pair(stride, "stride", fn, 1)
    ph, pw = _pair(padding, "padding", fn, 0)
    dy, dx = _pair(dilation, "dilation", fn, 1)
    kh, kw = weight.shape[2:]
    if kh < 1 or kw < 1:
        raise ValueError(f"{fn}: weight has an empty kernel, shape {weight.shape}")
    return ConvGeometry(kh, kw, sy, sx, ph, pw, dy, dx, int(groups))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * x_pad[n, g(o) Cg + c, i sy + u dy, j sx + v dx],
    with x zero-padded by (ph, pw) and the channels split into ``groups`` independent groups.

    Args:
        input: (N, C, H, W). weight: (Cout, C/groups, kh, kw). bias: (Cout,) or None.
        stride, padding, dilation: an int or a pair (for H, W). groups: divides C and Cout.
    Returns:
        (N, Cout, Ho, Wo), Ho = floor((H + 2 ph - dy (kh - 1) - 1) / sy) + 1 (likewise Wo).

    Example: conv2d(x (8, 1, 28, 28), W (64, 1, 5, 5), stride=2, padding=2) has shape (8, 64, 14, 14).
    """
    geom = _check("conv2d", input, weight, bias, stride, padding, dilation, groups)
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    c, h, w = input.shape[1:]
    cout = weight.shape[0]
    if c % g or cout % g:
        raise ValueError(f"conv2d: groups={g} must divide both the input channels ({c}) and the output channels "
                         f"({cout}, weight.shape[0])")
    if weight.shape[1] * g != c:
        raise ValueError(f"conv2d: weight has {weight.shape[1]} input channels per group, input has {c} channels "
                         f"(expected {c} = weight.shape[1] * groups = {weight.shape[1]} * {g})")
    if bias is not None and bias.shape != (cout,):
        raise ValueError(f"conv2d: bias must have shape ({cout},) (one per output channel), got {bias.shape}")
    ho = (h + 2 * ph - dy * (kh - 1) - 1) // sy + 1
    wo = (w + 2 * pw - dx * (kw - 1) - 1) // sx + 1
    if ho < 1 or wo < 1:
        raise ValueError(
            f"conv2d: the output would be {ho} x {wo}: input size ({h}, {w}) with padding ({ph}, {pw}) is smaller "
            f"than the dilated kernel ({dy * (kh - 1) + 1}, {dx * (kw - 1) + 1}) (kernel ({kh}, {kw}), "
            f"dilation ({dy}, {dx}), stride ({sy}, {sx}))")
    args = (input, weight) if bias is None else (input, weight, bias)
    return Conv2d(geom, (ho, wo)).apply(*args)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution, as torch.nn.functional.conv_transpose2d: the adjoint of conv2d.

    Each input pixel scatters x[n, c, i, j] * W[c, o, u, v] to output (i sy + u dy - ph, j sx + v dx - pw),
    so <conv2d(y, W), x> = <y, conv_transpose2d(x, W)> for matching shapes.

    Args:
        input: (N, Cin, H, W). weight: (Cin, Cout/groups, kh, kw). bias: (Cout,) or None.
        stride, padding, output_padding, dilation: an int or a pair; output_padding (extra rows/columns
        at the bottom/right) must be smaller than stride or dilation. groups: divides Cin and Cout.
    Returns:
        (N, Cout, Ho, Wo), Ho = (H - 1) sy - 2 ph + dy (kh - 1) + output_padding + 1 (likewise Wo).

    Example: conv_transpose2d(x (8, 128, 7, 7), W (128, 64, 5, 5), stride=2, padding=2, output_padding=1)
    has shape (8, 64, 14, 14).
    """
    fn = "conv_transpose2d"
    geom = _check(fn, input, weight, bias, stride, padding, dilation, groups)
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    oph, opw = _pair(output_padding, "output_padding", fn, 0)
    if not (oph < sy or oph < dy) or not (opw < sx or opw < dx):
        raise ValueError(f"{fn}: output_padding ({oph}, {opw}) must be smaller than either stride ({sy}, {sx}) "
                         f"or dilation ({dy}, {dx}) in each dimension")
    c, h, w = input.shape[1:]
    if c % g:
        raise ValueError(f"{fn}: groups={g} must divide the input channels ({c})")
    if weight.shape[0] != c:
        raise ValueError(f"{fn}: weight has {weight.shape[0]} input channels (weight.shape[0]), input has {c} "
                         f"(the weight is (Cin, Cout/groups, kh, kw))")
    cout = weight.shape[1] * g
    if bias is not None and bias.shape != (cout,):
        raise ValueError(f"{fn}: bias must have shape ({cout},) (one per output channel), got {bias.shape}")
    ho = (h - 1) * sy - 2 * ph + dy * (kh - 1) + oph + 1
    wo = (w - 1) * sx - 2 * pw + dx * (kw - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise ValueError(
            f"{fn}: the output would be {ho} x {wo}: input size ({h}, {w}), kernel ({kh}, {kw}), stride ({sy}, {sx}), "
            f"padding ({ph}, {pw}), dilation ({dy}, {dx}), output_padding ({oph}, {opw}); reduce the padding")
    args = (input, weight) if bias is None else (input, weight, bias)
    return ConvTranspose2d(geom, (ho, wo)).apply(*args)


__all__ = ["conv2d", "conv_transpose2d"]
