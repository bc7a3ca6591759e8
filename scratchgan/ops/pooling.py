"""2-D pooling: max_pool2d and avg_pool2d, as loops over the kernel taps of strided views.

Tap (i, j) of every window is one strided slice of the padded input,
x_pad[:, :, i d + sy*ho, j d + sx*wo] over all outputs (ho, wo) at once, so nothing loops over
pixels. Both ops are linear in the values they move once the window arg-maxima are fixed, and
their backward nodes come in adjoint pairs: max pooling scatters gy to the arg-max
(MaxPoolScatter) whose backward gathers from it (MaxPoolGather) and vice versa; average
pooling's backward spreads gy over the window (AvgPool2dGrad) whose backward is average pooling
again.
"""

import numpy as np

from ..autograd import Function
from ..geometry import conv_output_size, pair
from .conv import ConvGeometry


def _tap(i, j, geom, ho, wo):
    """The (rows, cols) slices of the padded image read by tap (i, j) for all ho x wo outputs."""
    sy, sx, dy, dx = geom.sy, geom.sx, geom.dy, geom.dx
    return (
        slice(None),
        slice(None),
        slice(i * dy, i * dy + sy * (ho - 1) + 1, sy),
        slice(j * dx, j * dx + sx * (wo - 1) + 1, sx),
    )


def _pad(xp, x, geom, value):
    ph, pw = geom.ph, geom.pw
    if not (ph or pw):
        return x
    n, c, h, w = x.shape
    out = xp.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def _crop(xpad, geom, h, w):
    ph, pw = geom.ph, geom.pw
    return xpad[:, :, ph : ph + h, pw : pw + w]


def _taps(geom):
    return [(i, j) for i in range(geom.kh) for j in range(geom.kw)]


_BITS = {2: np.int16, 4: np.int32, 8: np.int64}  # same-size integers for bitwise selection


def _masked(values, mask):
    """``values`` where ``mask`` else 0, exactly (inf and NaN kept) and without branches.

    np.where and masked copies branch per element and crawl on the random masks of pooling;
    this ANDs the bit patterns with 0 or ~0 instead.
    """
    bits = values.view(_BITS[values.itemsize])
    return (bits & -mask.view(np.int8)).view(values.dtype)


class MaxPool2d(Function):
    """y = max over each window of x padded with -inf; remembers the first arg-max tap (in
    window order)."""

    saves_inputs = ()

    def __init__(self, geom):
        self.geom = geom

    def forward(self, x):
        xp = self.xp
        ho, wo = _out_size(*x.shape[2:], self.geom)
        xpad = _pad(xp, x, self.geom, -np.inf)
        taps = [xpad[_tap(i, j, self.geom, ho, wo)] for i, j in _taps(self.geom)]
        itype = np.int8 if len(taps) < 128 else np.int64
        y = taps[0].copy(order="K")
        index = xp.zeros_like(y, dtype=itype)
        better = xp.empty_like(y, dtype=bool)
        nan = bool(xp.isnan(x).any())
        for t, v in enumerate(taps[1:], 1):
            xp.greater(v, y, out=better)
            if nan:  # a NaN wins and stays, as in PyTorch (np.maximum propagates it too)
                better |= xp.isnan(v)
            xp.maximum(y, v, out=y)
            # taps come in increasing t, so "index = t where better" is a maximum
            xp.maximum(index, better.view(np.int8).astype(itype, copy=False) * itype(t), out=index)
        self.index = index
        return y

    def backward(self, gy, needs_input_grad):
        return (MaxPoolScatter(self.index, self.geom, self.input_shapes[0]).apply(gy),)


def _overlapping(geom):
    kh, kw, sy, sx, _, _, dy, dx, _ = geom
    return sy < dy * (kh - 1) + 1 or sx < dx * (kw - 1) + 1


class MaxPoolScatter(Function):
    """gx = zeros(x); gx[arg-max of each window] += gy (windows may overlap)."""

    saves_inputs = ()

    def __init__(self, index, geom, shape):
        self.index, self.geom, self.shape = index, geom, shape

    def forward(self, gy):
        xp = self.xp
        n, c, h, w = self.shape
        ho, wo = gy.shape[2:]
        ph, pw = self.geom.ph, self.geom.pw
        gx = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=gy.dtype)
        overlapping = _overlapping(self.geom)
        for t, (i, j) in enumerate(_taps(self.geom)):
            target = gx[_tap(i, j, self.geom, ho, wo)]
            if overlapping:
                target += _masked(gy, self.index == t)
            else:  # each input pixel is in one window at most: write, don't add
                target[...] = _masked(gy, self.index == t)
        return _crop(gx, self.geom, h, w)

    def backward(self, ggx, needs_input_grad):
        return (MaxPoolGather(self.index, self.geom).apply(ggx),)


class MaxPoolGather(Function):
    """y[window] = x[arg-max of the window]: the adjoint of MaxPoolScatter."""

    saves_inputs = ()

    def __init__(self, index, geom):
        self.index, self.geom = index, geom

    def forward(self, x):
        xp = self.xp
        ho, wo = self.index.shape[2:]
        xpad = _pad(xp, x, self.geom, 0)
        y = xp.zeros_like(self.index, dtype=x.dtype)
        bits = y.view(_BITS[y.itemsize])
        for t, (i, j) in enumerate(_taps(self.geom)):
            # exactly one tap per window is selected, the others are all-zero bits
            bits |= _masked(xpad[_tap(i, j, self.geom, ho, wo)], self.index == t).view(bits.dtype)
        return y

    def backward(self, gy, needs_input_grad):
        return (MaxPoolScatter(self.index, self.geom, self.input_shapes[0]).apply(gy),)


class AvgPool2d(Function):
    """y = sum over each window of x (zero-padded) / divisor; divisor is kh*kw or the count of
    real pixels."""

    saves_inputs = ()

    def __init__(self, geom, divisor):
        self.geom, self.divisor = geom, divisor

    def forward(self, x):
        ho, wo = _out_size(*x.shape[2:], self.geom)
        xpad = _pad(self.xp, x, self.geom, 0)
        taps = _taps(self.geom)
        y = xpad[_tap(*taps[0], self.geom, ho, wo)].copy()
        for i, j in taps[1:]:
            y += xpad[_tap(i, j, self.geom, ho, wo)]
        y *= self.xp.asarray(1 / self.divisor, dtype=x.dtype)
        return y

    def backward(self, gy, needs_input_grad):
        return (AvgPool2dGrad(self.geom, self.divisor, self.input_shapes[0]).apply(gy),)


class AvgPool2dGrad(Function):
    """gx = each gy / divisor added over its window: the adjoint of AvgPool2d."""

    saves_inputs = ()

    def __init__(self, geom, divisor, shape):
        self.geom, self.divisor, self.shape = geom, divisor, shape

    def forward(self, gy):
        n, c, h, w = self.shape
        ho, wo = gy.shape[2:]
        ph, pw = self.geom.ph, self.geom.pw
        g = gy * self.xp.asarray(1 / self.divisor, dtype=gy.dtype)
        gx = self.xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=gy.dtype)
        for i, j in _taps(self.geom):
            gx[_tap(i, j, self.geom, ho, wo)] += g
        return _crop(gx, self.geom, h, w)

    def backward(self, ggx, needs_input_grad):
        return (AvgPool2d(self.geom, self.divisor).apply(ggx),)


def _out_size(h, w, geom):
    return (
        conv_output_size(h, geom.kh, geom.sy, geom.ph, geom.dy),
        conv_output_size(w, geom.kw, geom.sx, geom.pw, geom.dx),
    )


def _geometry(fn, input, kernel_size, stride, padding, dilation=1):
    if input.ndim != 4:
        raise ValueError(
            f"{fn}: input must be 4-D (N, C, H, W), got shape {input.shape} ({input.ndim}-D)"
        )
    kh, kw = pair(kernel_size, "kernel_size", fn, 1)
    sy, sx = pair(kernel_size if stride is None else stride, "stride", fn, 1)
    ph, pw = pair(padding, "padding", fn, 0)
    dy, dx = pair(dilation, "dilation", fn, 1)
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(
            f"{fn}: padding ({ph}, {pw}) must be at most half the kernel size ({kh}, {kw})"
        )
    geom = ConvGeometry(kh, kw, sy, sx, ph, pw, dy, dx, groups=1)
    h, w = input.shape[2:]
    ho, wo = _out_size(h, w, geom)
    if ho < 1 or wo < 1:
        raise ValueError(
            f"{fn}: the output would be {ho} x {wo}: input size ({h}, {w}) with "
            f"padding ({ph}, {pw}) is "
            f"smaller than the kernel ({dy * (kh - 1) + 1}, {dx * (kw - 1) + 1})"
        )
    return geom


def _no_ceil_mode(fn, ceil_mode):
    if ceil_mode:
        raise ValueError(f"{fn}: ceil_mode=True is not supported (output sizes are floored)")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max over kh x kw windows, as torch.nn.functional.max_pool2d (padding counts as -inf).

    y[n, c, i, j] = max_{u, v} x_pad[n, c, i sy + u dy, j sx + v dx]. The gradient goes to the
    first maximum of each window in row-major window order (as in PyTorch).

    Args:
        input: (N, C, H, W). kernel_size, stride (default: kernel_size), padding (at most half the
        kernel), dilation: an int or a pair. ceil_mode: only False.
    Returns:
        (N, C, Ho, Wo), Ho = floor((H + 2 ph - dy (kh - 1) - 1) / sy) + 1.

    Example: max_pool2d(x (8, 64, 32, 32), 2) has shape (8, 64, 16, 16).
    """
    _no_ceil_mode("max_pool2d", ceil_mode)
    geom = _geometry("max_pool2d", input, kernel_size, stride, padding, dilation)
    return MaxPool2d(geom).apply(input)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over kh x kw windows, as torch.nn.functional.avg_pool2d (zero padding).

    y[n, c, i, j] = sum_{u, v} x_pad[n, c, i sy + u, j sx + v] / (kh kw), or, with
    count_include_pad=False, divided by the number of real (unpadded) pixels in the window.

    Args:
        input: (N, C, H, W). kernel_size, stride (default: kernel_size), padding (at most half the
        kernel): an int or a pair. ceil_mode: only False.
    Returns:
        (N, C, Ho, Wo), Ho = floor((H + 2 ph - kh) / sy) + 1.

    Example: avg_pool2d(x (8, 64, 32, 32), 2) has shape (8, 64, 16, 16).
    """
    _no_ceil_mode("avg_pool2d", ceil_mode)
    geom = _geometry("avg_pool2d", input, kernel_size, stride, padding)
    kh, kw, sy, sx, ph, pw = geom[:6]
    if count_include_pad or not (ph or pw):
        divisor = float(kh * kw)
    else:
        h, w = input.shape[2:]
        ho, wo = _out_size(h, w, geom)

        def counts(size, k, s, p, n):
            start = np.arange(n) * s - p
            return np.minimum(start + k, size) - np.maximum(start, 0)

        divisor = np.outer(counts(h, kh, sy, ph, ho), counts(w, kw, sx, pw, wo)).astype(input.dtype)
        divisor = input.xp.asarray(divisor)
    return AvgPool2d(geom, divisor).apply(input)


__all__ = ["avg_pool2d", "max_pool2d"]
