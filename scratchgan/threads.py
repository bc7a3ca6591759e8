"""A small persistent thread pool for the memory-bound phases of an op (gathers, tap sums).

NumPy releases the GIL while it copies or adds large arrays, so splitting such a phase along
the batch over a few threads uses every core, as the BLAS does for the GEMMs around it. The
split is by whole images, each image's arithmetic done in the same order as on one thread, so
results are bit-identical whatever the thread count.

The number of threads follows NumPy's BLAS (threadpoolctl's view, so ``threadpool_limits(1)``
gives one thread here too) unless ``set_num_threads`` or the environment variable
SCRATCHGAN_POOL_THREADS fixes it; without threadpoolctl it is 1.
"""

import concurrent.futures
import os

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


def over_batch(fn, n, nbytes):
    """fn(start, stop) for ranges covering images 0..n-1: on the calling thread alone when the
    phase is small or one thread is in use, else split over the pool (the caller takes one)."""
    threads = get_num_threads() if nbytes >= MIN_BYTES and n > 1 else 1
    if threads == 1:
        fn(0, n)
        return
    first, *rest = split(n, threads)
    futures = [_executor(len(rest)).submit(fn, a, b) for a, b in rest]
    fn(*first)
    for f in futures:
        f.result()
