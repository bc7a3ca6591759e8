"""A small persistent thread pool for the memory-bound phases of an op (gathers, tap sums,
elementwise passes such as activations, normalisation and optimiser updates).

NumPy releases the GIL while it copies or adds large arrays, so splitting such a phase along
the batch over a few threads uses every core, as the BLAS does for the GEMMs around it. The
split is by whole images (rows of the leading axis), each row's arithmetic done in the same
order as on one thread, so results are bit-identical whatever the thread count.

The number of threads follows NumPy's BLAS (threadpoolctl's view, so ``threadpool_limits(1)``
gives one thread here too) unless ``set_num_threads`` or the environment variable
SCRATCHGAN_POOL_THREADS fixes it; without threadpoolctl it is 1.
"""

import concurrent.futures
import os

import numpy as np

_fixed = (
    int(os.environ["SCRATCHGAN_POOL_THREADS"])
    if os.environ.get("SCRATCHGAN_POOL_THREADS")
    else None
)
_blas = []  # [threadpoolctl lib controller, or None], looked up once
_pool = None
MIN_BYTES = 1 << 20  # a phase moving less than this stays on the calling thread


def set_num_threads(n):
    """Use ``n`` threads (None: follow NumPy's BLAS again)."""
    global _fixed
    if n is not None and (not isinstance(n, int) or n < 1):
        raise ValueError(f"set_num_threads: n must be a positive int or None, got {n!r}")
    _fixed = n


def get_num_threads():
    if _fixed is not None:
        return _fixed
    if not _blas:
        try:
            from threadpoolctl import ThreadpoolController

            found = ThreadpoolController().select(user_api="blas").lib_controllers
            _blas.append(found[0] if found else None)
        except ImportError:
            _blas.append(None)
    if _blas[0] is None:
        return 1
    try:
        return max(1, min(int(_blas[0].num_threads), os.cpu_count() or 1))
    except Exception:  # a BLAS that cannot say: stay on one thread
        return 1


def _executor(n):
    global _pool
    if _pool is None or _pool._max_workers < n:
        _pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=n, thread_name_prefix="scratchgan"
        )
    return _pool


def split(n, parts):
    """``parts`` contiguous (start, stop) ranges covering range(n), sizes differing by at most 1."""
    parts = max(1, min(parts, n))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _threads_for(n, nbytes):
    """How many threads a phase of ``n`` rows moving ``nbytes`` bytes is split over."""
    return get_num_threads() if nbytes >= MIN_BYTES and n > 1 else 1


def over_batch(fn, n, nbytes):
    """fn(start, stop) for ranges covering images 0..n-1: on the calling thread alone when the
    phase is small or one thread is in use, else split over the pool (the caller takes one)."""
    threads = _threads_for(n, nbytes)
    if threads == 1:
        fn(0, n)
        return
    first, *rest = split(n, threads)
    futures = [_executor(len(rest)).submit(fn, a, b) for a, b in rest]
    fn(*first)
    for f in futures:
        f.result()


def over_rows(fn, *arrays):
    """fn(*parts) for ranges of rows (the leading axis): each array whose leading axis is the
    first array's (same ndim, same length) is sliced ``a[start:stop]``, the others (scalars,
    per-channel factors that broadcast) passed whole, so arrays[0] must have the full shape.
    Split as ``over_batch`` splits; a non-NumPy arrays[0] (CuPy) gets one call fn(*arrays).

    For work that is elementwise along the rows, whose results are then bit-identical at any
    thread count. Pass flat views (``a.reshape(-1)``) to split by element.
    """
    first = arrays[0]
    if not isinstance(first, np.ndarray) or first.ndim == 0:
        fn(*arrays)
        return
    n = first.shape[0]
    sliced = [
        isinstance(a, np.ndarray) and a.ndim == first.ndim and a.shape[0] == n for a in arrays
    ]
    nbytes = sum(a.nbytes for a, s in zip(arrays, sliced) if s)

    def part(start, stop):
        fn(*(a[start:stop] if s else a for a, s in zip(arrays, sliced)))

    over_batch(part, n, nbytes)


def elementwise(fn, *arrays, dtype=None):
    """fn(*arrays) for an elementwise ``fn(*arrays, out=None)`` that writes its result into
    ``out`` when given, computed by ranges of rows over the pool (``over_rows``).

    The result is laid out as NumPy lays out a ufunc's result over ``arrays`` (so as fn's own
    would be when its first ufunc sees them all, or they share a layout); its dtype is arrays[0]'s
    unless ``dtype`` is given. Small arrays, one thread, or a non-NumPy array: one call
    fn(*arrays), which allocates its result itself.
    """
    first = arrays[0]
    if not isinstance(first, np.ndarray) or first.ndim == 0:
        return fn(*arrays)
    if _threads_for(first.shape[0], first.nbytes) == 1:  # the result's size decides
        return fn(*arrays)
    out = np.nditer(  # allocates only: the iterator picks the layout a ufunc would
        [*arrays, None],
        op_flags=[["readonly"]] * len(arrays) + [["writeonly", "allocate"]],
        op_dtypes=[None] * len(arrays) + [dtype or first.dtype],
        order="K",
        flags=["zerosize_ok"],
    ).operands[-1]
    over_rows(lambda *parts: fn(*parts[:-1], out=parts[-1]), *arrays, out)
    return out


def over_elements(fn, *arrays):
    """fn(*parts) over ranges of the arrays' elements in C order (all of one shape): the work of
    ``over_rows`` on flat views, e.g. an optimiser's in-place update of a parameter and its
    state. Split only when every array is a C-contiguous NumPy array, so that the flat views
    alias them; otherwise one call fn(*arrays)."""
    if not all(isinstance(a, np.ndarray) and a.flags.c_contiguous for a in arrays):
        fn(*arrays)
        return
    over_rows(fn, *(a.reshape(-1) for a in arrays))
