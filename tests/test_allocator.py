"""scratchgan.allocator: freed large arrays stay in the process, so making the next one of the
same size faults no pages in (counted by the kernel's minor page faults, not timed)."""

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="mallopt is glibc's",
)

FAULTS_PER_ARRAY = """
import resource
import numpy as np
import scratchgan
print(scratchgan.allocator.state["kept"])
for _ in range(3):
    np.ones(16 << 20, np.float32)  # 64 MiB, made and freed
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    np.ones(16 << 20, np.float32)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _faults(mode):
    env = dict(os.environ, SCRATCHGAN_MALLOC=mode)
    out = subprocess.run(
        [sys.executable, "-c", FAULTS_PER_ARRAY],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0] == "True", float(out[1])


def test_freed_memory_is_reused_without_page_faults():
    kept, faults = _faults("keep")
    system_kept, system_faults = _faults("system")
    assert kept and not system_kept
    # glibc's default maps each 64 MiB array afresh and faults in every page: at least one per
    # 2 MiB huge page (NumPy asks for them), 16,384 with 4 KiB pages. Kept memory faults none.
    assert system_faults >= (64 << 20) // (2 << 20), system_faults
    assert faults < 0.1 * system_faults, (faults, system_faults)
