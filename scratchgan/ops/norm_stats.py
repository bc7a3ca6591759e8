"""Group statistics for the normalisation nodes of ``normalization.py``.

Every normalisation works on a 3-D view (A, B, L) of its input, with statistics over L (one
group per (a, b): instance and layer norm) or over A and L (one group per b: batch norm,
``batch=True``). This module holds the reductions over those groups, done in place on either
memory layout (convolutions hand out channels-last arrays), and the statistics objects the
nodes share: ``_Stats`` (array code) and ``_KernelStats`` (made and used by the batch and
instance norm kernels).
"""

from .. import cuda, threads
from ..backend import array_module


def _axes(batch):
    return (0, 2) if batch else (2,)


def _group_size(shape, batch):
    return shape[0] * shape[2] if batch else shape[2]


def _work_view(a, channels_last=None):
    """``a`` (A, B, L) as a C-contiguous array: itself, or (A, L, B) for a channels-last layout.

    Returns (view, channels_last). Convolutions hand out channels-last arrays, so both
    layouts are worked on in place; ``channels_last`` forces one (copying if needed).
    """
    xp = array_module(a)
    if channels_last is None:
        if a.flags.c_contiguous:
            return a, False
        channels_last = a.transpose(0, 2, 1).flags.c_contiguous
    w = a.transpose(0, 2, 1) if channels_last else a
    return (w if w.flags.c_contiguous else xp.ascontiguousarray(w)), channels_last


def _like(a, ref):
    """``a`` laid out like ``ref`` (copied only when the layouts differ)."""
    _, cl = _work_view(ref)
    w, _ = _work_view(a, cl)
    return w.transpose(0, 2, 1) if cl else w


# Rows of a channels-last view added one after another (NumPy's order for a sum over a non-inner
# axis) round like n eps; in blocks of _BLOCK rows whose partials are added in float64 they round
# like _BLOCK eps, about as well as a pairwise sum, for one extra pass over 1/_BLOCK of the data.
_BLOCK = 32


def _row_sum(a, b=None):
    """Sum over axis -2 of ``a`` (..., n, B), or of ``a * b``, in ``a``'s dtype: blocks of
    _BLOCK rows in that dtype, then their partials in float64."""
    xp = array_module(a)
    *lead, n, B = a.shape
    m = n - n % _BLOCK

    def rows(u, v):  # einsum: no full-size product
        return u.sum(-2) if v is None else xp.einsum("...ij,...ij->...j", u, v)

    def blocks(u):
        return None if u is None else u[..., :m, :].reshape(*lead, m // _BLOCK, _BLOCK, B)

    s = rows(blocks(a), blocks(b)).astype(xp.float64).sum(-2)
    if m < n:
        s += rows(a[..., m:, :], None if b is None else b[..., m:, :])
    return s.astype(a.dtype)


def _stat_sum(a, batch):
    """Sum of ``a`` (A, B, L) over each group, as (1, B, 1) with ``batch`` else (A, B, 1)."""
    # einsum and add.reduce rather than a GEMV with ones: BLAS threads stall on a busy machine
    A, B, L = a.shape
    w, cl = _work_view(a)
    if cl:
        return _row_sum(w.reshape(A * L, B) if batch else w).reshape(-1, B, 1)
    s = array_module(a).einsum("ij->i", w.reshape(A * B, L)).reshape(A, B)
    return _row_sum(s).reshape(1, B, 1) if batch else s.reshape(A, B, 1)


def _stat_dot(a, b, batch):
    """Sum of ``a * b`` over each group, without a full-size temporary."""
    A, B, L = a.shape
    xp = array_module(a)
    wa, cl = _work_view(a)
    wb, _ = _work_view(b, cl)
    if cl and batch:
        return _row_sum(wa.reshape(A * L, B), wb.reshape(A * L, B)).reshape(1, B, 1)
    if cl:
        return _row_sum(wa, wb).reshape(A, B, 1)
    a2, b2 = wa.reshape(A * B, L), wb.reshape(A * B, L)
    s = (xp.vecdot(a2, b2) if hasattr(xp, "vecdot") else (a2 * b2).sum(1)).reshape(A, B)
    return _row_sum(s).reshape(1, B, 1) if batch else s.reshape(A, B, 1)


def _column_dot(a, b):
    """Sum of ``a * b`` over A and B, as (1, 1, L)."""
    A, B, L = a.shape
    wa, _ = _work_view(a, False)
    wb, _ = _work_view(b, False)
    return _row_sum(wa.reshape(A * B, L), wb.reshape(A * B, L)).reshape(1, 1, L)


def _column_sum(a):
    """Sum of ``a`` (A, B, L) over A and B, as (1, 1, L)."""
    A, B, L = a.shape
    w, _ = _work_view(a, False)
    return _row_sum(w.reshape(A * B, L)).reshape(1, 1, L)


def _scale_shift(x, k, b, out=None):
    """x k + b (k, b per group or broadcast), into ``out`` when given."""
    y = array_module(x).multiply(x, k, out=out)
    y += b
    return y


def _input_grad(z, g, a, b, k, out=None):
    """k (g + z a - b), in that order of operations, into ``out`` when given: the input gradient
    of a normalisation, with a = -<g xhat> c / M, b = <g> / M (z c = xhat) per group."""
    gx = array_module(z).multiply(z, a, out=out)
    gx += g
    gx -= b
    gx *= k
    return gx


def _scale_in_place(x, k):
    x *= k


def _reduce_to(a, shape):
    axes = tuple(i for i, (n, m) in enumerate(zip(shape, a.shape)) if n == 1 and m != 1)
    return a.sum(axis=axes, keepdims=True) if axes else a


class _Stats:
    """Group statistics of one input x (A, B, L): mean, var, rstd = 1/sqrt(var + eps), and
    either the centred values xc = x - mean or xhat = xc * rstd (whichever forward kept)."""

    def __init__(self, x, batch, eps):
        x = _like(x, x)
        self.batch, self.eps, self.m = batch, eps, _group_size(x.shape, batch)
        self.mean = _stat_sum(x, batch) * (1.0 / self.m)
        self.xc = threads.elementwise(array_module(x).subtract, x, self.mean)
        self.var = _stat_dot(self.xc, self.xc, batch) * (1.0 / self.m)
        self.rstd = 1 / array_module(x).sqrt(self.var + eps)
        self._xhat = None

    @property
    def xhat(self):
        if self._xhat is None:
            self._xhat = threads.elementwise(array_module(self.xc).multiply, self.xc, self.rstd)
        return self._xhat

    def normalize_in_place(self):
        """Turn xc into xhat (no new array); afterwards only xhat is kept."""
        threads.over_rows(_scale_in_place, self.xc, self.rstd)
        self._xhat, self.xc = self.xc, None
        return self._xhat

    def centred(self):
        """(z, c) with z * c = xhat: the kept array and the per-group factor that normalises it."""
        return (self.xc, self.rstd) if self.xc is not None else (self._xhat, 1.0)

    def normalize_grad(self, g):
        return _normalize_grad(g, self.xhat, self)


class _KernelStats(_Stats):
    """Statistics made by the batch or instance norm kernels for x (A, B, L): the kernels' flat
    mean and rstd ((B,) or (A, B)), viewed as (1|A, B, 1); var and xhat computed on demand."""

    def __init__(self, x, batch, eps, mean, rstd, var=None):
        self.x, self.batch, self.eps, self.m = x, batch, eps, _group_size(x.shape, batch)
        self.flat_mean, self.flat_rstd = mean, rstd
        shape = (1,) + x.shape[1:2] + (1,) if batch else x.shape[:2] + (1,)
        self.mean, self.rstd = mean.reshape(shape), rstd.reshape(shape)
        self._var, self.xc, self._xhat = var, None, None

    @property
    def var(self):
        if self._var is None:  # instance norm needs it only for running statistics
            xc = self.x - self.mean
            self._var = _stat_dot(xc, xc, self.batch) * (1.0 / self.m)
        return self._var.reshape(self.mean.shape)

    @property
    def xhat(self):
        if self._xhat is None:
            if self.batch:
                self._xhat = cuda.batch_norm_forward(self.x, self.flat_mean, self.flat_rstd)
            else:  # the kernel recomputes the (deterministic) statistics: it takes none
                self._xhat = cuda.instance_norm_forward(self.x, eps=self.eps)[0]
        return self._xhat

    def normalize_grad(self, g):
        return self.backward(g)[0]

    def backward(self, gy, gamma=None):
        """(gx, ggamma, gbeta) of y = gamma xhat + beta by the fused backward kernel; gamma (B,)
        or None."""
        kernel = cuda.batch_norm_backward if self.batch else cuda.instance_norm_backward
        return kernel(self.x, gy, self.flat_mean, self.flat_rstd, gamma)


def _normalize_grad(g, xhat, s):
    """r (g - <g> - xhat <g xhat>) on arrays, in one new array."""
    g = _like(g, xhat)
    a = _stat_dot(g, xhat, s.batch) * (-1.0 / s.m)
    return threads.elementwise(_input_grad, xhat, g, a, _stat_sum(g, s.batch) * (1.0 / s.m), s.rstd)


def _constant_in_groups(w, batch):
    return w.shape[2] == 1 and (w.shape[0] == 1 or not batch)
