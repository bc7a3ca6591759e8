"""How a convolution becomes one GEMM: the building blocks of the nodes in ``conv.py``.

On the CPU, ``_im2col`` gathers a big image (N, Cb, H, W), through a strided view, into rows of
output pixels with columns (tap, channel), channels last: (groups, N*Ho*Wo, kh*kw*Cb/groups);
``_matmul_col2im`` multiplies and ``_add_taps`` adds the result back into the big image, looping
over the kh*kw taps. Results are NCHW views of channels-last arrays (no copy).

On CUDA (and under ``cuda.emulate()``) the ``_kernel_*`` functions do the same with our im2col
and col2im kernels, with the GEMM through ``xp.matmul`` (cuBLAS) on the kernel's layout col
(N, groups, Cb/groups*kh*kw, ho*wo). ``geom`` is a ``conv.ConvGeometry``.
"""

import numpy as np

from .. import cuda, threads
from ..backend import array_module
from ..geometry import conv_output_size

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
        skewed[:, :, : h * w] = a.reshape(n, c, h * w)
        a = skewed[:, :, : h * w].reshape(n, c, h, w)
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
    """x (N, Cb, H, W) -> col (groups, N*ho*wo, kh*kw*Cb/groups): row p holds the window of output
    pixel p."""
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    xp = array_module(x)
    n, c, h, w = x.shape
    if sy * (ho - 1) + dy * (kh - 1) >= h + 2 * ph or sx * (wo - 1) + dx * (kw - 1) >= w + 2 * pw:
        raise ValueError(
            f"_im2col: {ho} x {wo} windows of geometry {geom} reach outside a {h} x {w} image"
        )
    xh = x.transpose(0, 2, 3, 1)
    if ph or pw or (c > 1 and xh.strides[3] != xh.itemsize):
        # channels-last copy (padded): the gather below then reads runs of kw*C contiguous values
        padded = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), x.dtype)
        _copy_by_images(padded[:, ph : ph + h, pw : pw + w], _nhwc(x))
        xh = padded
    cg = c // g
    s0, s1, s2, s3 = xh.strides
    view = _as_strided(
        xp, xh, (n, ho, wo, g, kh, kw, cg), (s0, sy * s1, sx * s2, cg * s3, dy * s1, dx * s2, s3)
    )
    col = xp.empty(view.shape, x.dtype)
    _copy_by_images(col, view)
    return col.reshape(n * ho * wo, g, kh * kw * cg).transpose(1, 0, 2)


def _copy_by_images(dst, src):
    """dst[...] = src, split along the batch over ``threads`` (a gather: memory-bound)."""
    if not isinstance(dst, np.ndarray):
        dst[...] = src
        return
    threads.over_batch(lambda a, b: np.copyto(dst[a:b], src[a:b]), dst.shape[0], dst.nbytes)


def _col2im_buffer(xp, n, g, cg, h, w, geom, dtype, channels_last):
    """The zero padded image that ``_add_taps`` accumulates into: (N, H+2ph, W+2pw, groups, Cg)
    strides."""
    ph, pw = geom.ph, geom.pw
    if channels_last:
        return xp.zeros((n, h + 2 * ph, w + 2 * pw, g, cg), dtype)
    return xp.zeros((n, g, cg, h + 2 * ph, w + 2 * pw), dtype).transpose(0, 3, 4, 1, 2)


def _add_taps(out, taps, geom):
    """The adjoint of ``_im2col``, tap by tap (any strides):
    out (N, H+2ph, W+2pw, groups, Cg) += taps (N, ho, wo, groups, kh, kw, Cg)."""
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    ho, wo = taps.shape[1:3]
    for i in range(kh):
        rows = slice(i * dy, i * dy + sy * (ho - 1) + 1, sy)
        for j in range(kw):
            out[:, rows, j * dx : j * dx + sx * (wo - 1) + 1 : sx] += taps[:, :, :, :, i, j]


def _add_taps_by_images(out, taps, geom):
    """``_add_taps`` split along the batch over ``threads`` (each image summed as on one)."""
    if not isinstance(out, np.ndarray):
        _add_taps(out, taps, geom)
        return
    threads.over_batch(lambda a, b: _add_taps(out[a:b], taps[a:b], geom), out.shape[0], taps.nbytes)


def _unpad(out, geom, h, w):
    """The NCHW view of the interior of a ``_col2im_buffer``."""
    n, _, _, g, cg = out.shape
    ph, pw = geom.ph, geom.pw
    return out[:, ph : ph + h, pw : pw + w].reshape(n, h, w, g * cg).transpose(0, 3, 1, 2)


_TAPS_CHUNK_BYTES = 2 << 20


def _matmul_col2im(rows, wm, geom, n, ho, wo, h, w):
    """col2im(rows @ wm) for rows (groups, N*ho*wo, Cs/groups) and wm
    (groups, Cs/groups, kh*kw*Cb/groups).

    The product (every tap of every output pixel) is kh*kw times the size of the result, so it is
    formed a few images at a time (about 2 MiB) and added in while it is still in cache: 1.4x faster
    than one product for the whole batch on a DCGAN layer. For few channels each chunk is formed
    transposed, (kh*kw*Cg, images*ho*wo), so each tap's values lie along image rows for a
    channels-first sum.
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
        r = rows[:, n0 * ho * wo : (n0 + b) * ho * wo]
        if channels_last:
            taps = xp.matmul(r, wm).reshape(g, b, ho, wo, kh, kw, cg).transpose(1, 2, 3, 0, 4, 5, 6)
        else:
            colT = xp.matmul(wm.transpose(0, 2, 1), r.transpose(0, 2, 1))
            taps = colT.reshape(g, kh, kw, cg, b, ho, wo).transpose(4, 5, 6, 0, 1, 2, 3)
        _add_taps_by_images(out[n0 : n0 + b], taps, geom)
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
    m = W.reshape(g, cs // g, cbg, kh, kw).transpose(0, 1, 3, 4, 2)
    return m.reshape(g, cs // g, kh * kw * cbg)


def _unwmat(m, cbg, kh, kw):
    g, csg, _ = m.shape
    return m.reshape(g * csg, kh, kw, cbg).transpose(0, 3, 1, 2)


# --------------------------------------------------------------------------- the kernel path


def _kernel_col(x, geom, out_size):
    """The im2col kernel: x (N, Cb, H, W) -> col (N, g, Cb/g*kh*kw, ho*wo), rows in W's
    (c, ky, kx) order."""
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    col = cuda.im2col(x, kh, kw, (sy, sx), (ph, pw), (dy, dx))
    n, k, _ = col.shape
    ho, wo = out_size
    Ho = conv_output_size(x.shape[2], kh, sy, ph, dy)
    Wo = conv_output_size(x.shape[3], kw, sx, pw, dx)
    # output_padding >= stride: the big image holds more windows than the small one
    if (Ho, Wo) != (ho, wo):
        col = col.reshape(n, k, Ho, Wo)[:, :, :ho, :wo]
    return col.reshape(n, g, k // g, ho * wo)


def _kernel_conv(col, W, b, ho, wo):
    """y (N, Cs, ho, wo) = W (Cs/g, K) @ col (K, ho*wo) per group, plus b."""
    g = col.shape[1]
    y = array_module(col).matmul(W.reshape(g, W.shape[0] // g, -1), col)
    y = y.reshape(col.shape[0], -1, ho, wo)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _kernel_conv_transpose(x, W, b, geom, out_size):
    """col = W^T (K, Cs/g) @ x (Cs/g, ho*wo) per group, added into the big image by the col2im
    kernel."""
    kh, kw, sy, sx, ph, pw, dy, dx, g = geom
    n, cs, ho, wo = x.shape
    Wt = W.reshape(g, cs // g, -1).transpose(0, 2, 1)
    col = array_module(x).matmul(Wt, x.reshape(n, g, cs // g, ho * wo))
    big = (n, W.shape[1] * g, *out_size)
    y = cuda.col2im(
        col.reshape(n, -1, ho * wo), big, kh, kw, (sy, sx), (ph, pw), (dy, dx), col_hw=(ho, wo)
    )
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _kernel_grad_w(col, small, cb, geom):
    """gW (Cs, Cb/g, kh, kw) = sum over n of small (Cs/g, ho*wo) @ col^T (ho*wo, K) per group."""
    kh, kw, g = geom.kh, geom.kw, geom.groups
    n, cs, ho, wo = small.shape
    small_g = small.reshape(n, g, cs // g, ho * wo)
    per_image = array_module(col).matmul(small_g, col.transpose(0, 1, 3, 2))
    gW = per_image.sum(0)
    return gW.reshape(cs, cb // g, kh, kw)
