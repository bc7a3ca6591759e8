"""Run tests/distributed/programs.py under ``mpiexec -n N`` (1 thread per rank)."""

import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from scratchgan.distributed.launch import ranks_command

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent.parent


def mpiexec():
    """The mpiexec of this Python's environment (the mpi extra's), else the one on PATH."""
    local = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(local) if local.exists() else shutil.which("mpiexec")


def skip_without_mpi():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("needs mpi4py and an MPI runtime: pip install -e '.[mpi]'")
    if mpiexec() is None:
        pytest.skip("needs mpiexec (pip install -e '.[mpi]' brings MPICH's)")


def run_ranks(n, program, out, *args, timeout=240):
    """Run ``programs.py program out args`` on n ranks; returns (returncode, output, results),
    results[r] = rank r's saved arrays (or its error message)."""
    skip_without_mpi()
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for name in ("SCRATCHGAN_DISTRIBUTED", "PMI_SIZE", "PMI_RANK"):
        env.pop(name, None)
    command = ranks_command(n, [str(HERE / "programs.py"), program, str(out), *map(str, args)])
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    results = []
    for r in range(n):
        error = pathlib.Path(f"{out}.rank{r}.error")
        saved = pathlib.Path(f"{out}.rank{r}.npz")
        if error.exists():
            results.append(error.read_text())
        elif saved.exists():
            with np.load(saved) as f:
                results.append(dict(f))
        else:
            results.append(None)
    return done.returncode, done.stdout + done.stderr, results
