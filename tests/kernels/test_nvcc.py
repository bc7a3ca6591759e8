"""Every kernel file, exactly as cupy.RawModule gets it, compiles for sm_80 and sm_90 cleanly."""

import re
import shutil
import subprocess

import pytest

from scratchgan.cuda import loader

NVCC = shutil.which("nvcc")
pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc is not on PATH")


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("path", loader.kernel_files(), ids=lambda p: p.name)
def test_kernel_compiles_without_warnings(path, arch, tmp_path):
    source, ptx = tmp_path / path.name, tmp_path / "kernel.ptx"
    source.write_text(loader.kernel_source(path))
    command = [
        NVCC,
        f"-arch={arch}",
        "--ptx",
        *loader.GPU_COMPILE_OPTIONS,
        "-Werror",
        "all-warnings",
        str(source),
        "-o",
        str(ptx),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert not (done.stdout + done.stderr).strip(), done.stdout + done.stderr
    # extern "C" keeps the names that cupy (and the launch table) look up
    entries = set(re.findall(r"\.entry\s+(\w+)\(", ptx.read_text()))
    table = loader.kernel_table()
    assert entries == {name for name, kernel in table.items() if kernel.path == path}
