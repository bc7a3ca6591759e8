"""``scratchgan train MODEL --nproc 2``: one run directory, resumable bit for bit, usable by
``sample``, ``eval`` and ``report``; and the same command inside an existing ``mpiexec -n 2``."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from mpirun import ROOT, mpiexec, skip_without_mpi

pytestmark = pytest.mark.mpi


@pytest.fixture
def env(tmp_path, write_fashion_mnist):
    skip_without_mpi()
    write_fashion_mnist(tmp_path / "data", 80, 24, 28)
    environ = {
        **os.environ,
        "SCRATCHGAN_DATA": str(tmp_path / "data"),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    environ.pop("SCRATCHGAN_DISTRIBUTED", None)
    return environ


def _cli(env, cwd, *args, launcher=()):
    command = [*launcher, sys.executable, "-m", "scratchgan.cli", *args]
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _train(env, cwd, out, *extra, launcher=()):
    return _cli(
        env,
        cwd,
        "train",
        "dcgan",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--valid-size",
        "16",
        "--out",
        out,
        "--quiet",
        *extra,
        launcher=launcher,
    )


def _arrays(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files if not k.startswith("json/trainer")}


def test_nproc_2_resumes_bit_for_bit_and_makes_an_ordinary_run(env, tmp_path):
    done = _train(env, tmp_path, "whole", "--nproc", "2", "--max-steps", "10")
    assert done.stdout.count("10 steps") == 1  # rank 0 alone reports
    _train(env, tmp_path, "split", "--nproc", "2", "--max-steps", "4")
    _train(env, tmp_path, "split", "--nproc", "2", "--max-steps", "10", "--resume")
    whole = _arrays(tmp_path / "whole" / "checkpoints" / "last.npz")
    split = _arrays(tmp_path / "split" / "checkpoints" / "last.npz")
    assert whole.keys() == split.keys() and "json/rng" in whole
    assert "model-rank1" in str(whole["json/rng"])
    for key in whole:
        np.testing.assert_array_equal(split[key], whole[key], err_msg=key)
    for name in ("config.json", "summary.json", "metrics.csv", "samples"):
        assert (tmp_path / "whole" / name).exists(), name
    _cli(env, tmp_path, "sample", "whole", "--n", "4")
    assert (tmp_path / "whole" / "sample-4.png").exists()
    _cli(env, tmp_path, "eval", "whole", "--n", "0")  # the model's own metrics, no FID
    assert json.loads((tmp_path / "whole" / "eval-test.json").read_text())
    (tmp_path / "whole" / "report.html").unlink()  # the one fit wrote: the command must write it
    done = _cli(env, tmp_path, "report", "whole")
    page = (tmp_path / "whole" / "report.html").read_text()
    assert done.stdout.strip().endswith("report.html")
    assert "world_size" in page and "communication_share" in page  # summary's distributed entry
    assert "data:image/png;base64," in page and "last.npz" in page  # samples, checkpoints


def test_inside_an_existing_mpiexec_the_command_uses_its_ranks(env, tmp_path):
    launcher = (mpiexec(), "-n", "2")
    done = _train(env, tmp_path, "outer", "--max-steps", "3", launcher=launcher)
    assert "3 steps" in done.stdout
    with np.load(tmp_path / "outer" / "checkpoints" / "last.npz") as f:
        assert "model-rank1" in str(f["json/rng"])


@pytest.mark.parametrize(
    "victim, survivor, after_s", [(1, 0, 2.0), (0, 1, 2.0), (1, 0, 0.0)], ids=str
)
def test_killing_a_rank_of_a_training_job_ends_it_naming_that_rank(
    env, tmp_path, victim, survivor, after_s
):
    """The trainer under ``--nproc 2``: one rank SIGKILLed ``after_s`` after the ranks line (0:
    while the trainer is still being set up, where a blocking Comm.Dup once hung the survivor;
    2: mid-training); its supervisor names it, the other rank names it too (RankDied) and exits,
    and the job ends within 60 s."""
    command = [sys.executable, "-m", "scratchgan.cli", "train", "dcgan", "--epochs", "1000",
               "--batch-size", "8", "--valid-size", "16", "--out", "killed", "--quiet",
               "--nproc", "2"]  # fmt: skip
    job = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        line = job.stderr.readline()
        while line and not line.startswith("ranks: "):
            line = job.stderr.readline()
        ranks = dict(part.split(" = pid ") for part in line[len("ranks: ") :].strip().split(", "))
        pid, host = ranks[str(victim)].split("@")
        time.sleep(after_s)
        start = time.perf_counter()
        os.kill(int(pid), signal.SIGKILL)
        output = job.stderr.read()
        code = job.wait(timeout=60)
        assert time.perf_counter() - start < 60
    finally:
        job.kill()
    assert code != 0
    died = f"rank {victim} (pid {pid} on {host}) died"
    assert f"error: {died}: killed by signal 9 (SIGKILL)" in output, output[-2000:]
    assert f"error: {died}; rank {survivor} stops too" in output, output[-2000:]
