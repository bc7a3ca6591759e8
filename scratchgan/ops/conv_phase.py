"""The transposed convolution as sy*sx stride-1 phase (sub-pixel) convolutions: no col2im scatter.

ConvTranspose2d scatters x[n, :, i, j] W[:, :, u, v] to the big pixel (i sy + u dy - ph,
j sx + v dx - pw). The big pixels of one phase (r, q), rows oy = r + sy t and columns
ox = q + sx s, receive only the taps with (r + ph - u dy) = 0 mod sy (likewise v), from

    y[n, :, r + sy t, q + sx s] = sum_{u in U_r, v in V_q} x[n, :, t + a_u, s + b_v] W[:, :, u, v]
    a_u = (r + ph - u dy) / sy,  b_v = (q + pw - v dx) / sx   (x is zero outside its image)

a stride-1 correlation: one gather of x's shifted windows, (N*T*S, |U_r||V_q| Cs), and one GEMM
against those taps of W, whose result is written once into its phase of the big image. The
math is the GEMM + col2im path's, term for term; only the order of the float additions differs.
For a DCGAN k4 s2 layer each phase has 2x2 taps, so K = 4 Cs is long and no tap sum is needed.
"""

import numpy as np

from ..backend import array_module
from .conv_gemm import _nhwc


def phase_taps(k, s, p, d, r):
    """[(tap u, offset a_u)] of the taps that reach phase r (big rows r + s t)."""
    return [(u, (r + p - u * d) // s) for u in range(k) if (r + p - u * d) % s == 0]


def supports(geom):
    """Whether ``conv_transpose_phase`` handles this geometry (one group)."""
    return geom.groups == 1


def conv_transpose_phase(x, W, geom, out_size):
    """y (N, Cb, H, W) = conv_transpose2d(x (N, Cs, ho, wo), W (Cs, Cb, kh, kw)), no bias; an
    NCHW view of a channels-last array, as the GEMM path returns."""
    kh, kw, sy, sx, ph, pw, dy, dx, _ = geom
    xp = array_module(x)
    n, cs, ho, wo = x.shape
    cb = W.shape[1]
    H, Wd = out_size
    rows = [(r, phase_taps(kh, sy, ph, dy, r), len(range(r, H, sy))) for r in range(min(sy, H))]
    cols = [(q, phase_taps(kw, sx, pw, dx, q), len(range(q, Wd, sx))) for q in range(min(sx, Wd))]
    # pad x (channels last) so that every window t + a_u, s + b_v lies inside
    lo_y = max([0] + [-a for _, taps, _ in rows for _, a in taps])
    hi_y = max([0] + [t - 1 + a - (ho - 1) for _, taps, t in rows for _, a in taps])
    lo_x = max([0] + [-b for _, taps, _ in cols for _, b in taps])
    hi_x = max([0] + [s - 1 + b - (wo - 1) for _, taps, s in cols for _, b in taps])
    xh = _nhwc(x)
    if lo_y or hi_y or lo_x or hi_x or xh.strides[3] != xh.itemsize:
        padded = xp.zeros((n, ho + lo_y + hi_y, wo + lo_x + hi_x, cs), x.dtype)
        padded[:, lo_y : lo_y + ho, lo_x : lo_x + wo] = xh
        xh = padded
    Wt = W.transpose(2, 3, 0, 1)  # (kh, kw, Cs, Cb): tap-major rows of the GEMM's right side
    out = (
        xp.zeros((n, H, Wd, cb), x.dtype)
        if _has_empty_phase(rows, cols)
        else xp.empty((n, H, Wd, cb), x.dtype)
    )
    for r, utaps, T in rows:
        for q, vtaps, S in cols:
            if not utaps or not vtaps or not T or not S:
                continue
            col = xp.empty((n, T, S, len(utaps), len(vtaps), cs), x.dtype)
            for i, (_, a) in enumerate(utaps):
                for j, (_, b) in enumerate(vtaps):
                    col[:, :, :, i, j] = xh[:, lo_y + a : lo_y + a + T, lo_x + b : lo_x + b + S]
            wsub = Wt[np.ix_([u for u, _ in utaps], [v for v, _ in vtaps])]
            y = xp.matmul(col.reshape(n * T * S, -1), wsub.reshape(-1, cb))
            out[:, r::sy, q::sx] = y.reshape(n, T, S, cb)
    return out.transpose(0, 3, 1, 2)


def _has_empty_phase(rows, cols):
    return any(not taps for _, taps, _ in rows) or any(not taps for _, taps, _ in cols)
