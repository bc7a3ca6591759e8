"""Keep freed memory in the process, so that a training step's large arrays reuse pages.

glibc's malloc hands every block above its mmap threshold (at most 32 MiB) back to the kernel
when it is freed, and trims the heap top above 128 KiB; the next array of that size faults its
pages in again, each one zeroed by the kernel. A convolution's windows (im2col: 20-70 MB per
DCGAN layer) are made and freed every step, so a step pays for them twice: filling a fresh
40 MB array took 6.9 ms at one thread on an AVX-512 Xeon, 1.6 ms with the pages kept, and the
dcgan64 b64 step went from 2,337 to 2,044 ms (benchmarks/results/allocator-avx512-threads1.md).

``keep_freed_memory()`` turns mmap off for malloc (M_MMAP_MAX = 0) and raises the trim
threshold, so freed blocks stay in the heap for the next step, as jemalloc and tcmalloc do (the
PyTorch CPU performance guide recommends preloading one of them). The cost: the resident size
stays at the process's peak, a little above it (a dcgan28 b128 training process peaked at
257 MiB against 244 MiB; PyTorch's at 566 MiB). scratchgan calls it at import;
SCRATCHGAN_MALLOC=system leaves malloc alone. It does nothing where the C library is not glibc.
"""

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_MAX = -4
_TRIM_BYTES = 1 << 30

state = {"kept": False}


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory; returns whether it did."""
    if state["kept"]:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    state["kept"] = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, _TRIM_BYTES))
    return state["kept"]


if os.environ.get("SCRATCHGAN_MALLOC", "keep") != "system":
    keep_freed_memory()
