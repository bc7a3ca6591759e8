"""The CPU-side parts of the GPU benchmark: the kernel harness's checks under cuda.emulate() with a
fake clock, its failure on a wrong kernel, argument parsing, output writing, gpu_all.sh's control
flow with a stub interpreter, the summary, and the train-step runner on the CPU."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import gpu_kernel_cases
import gpu_kernels
import gpu_summary
import gpu_train_step
from scratchgan import cuda
from scratchgan.cuda import loader

pytestmark = pytest.mark.skipif(not cuda.emulation_available(), reason="needs g++ for emulation")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def fake_clock(step=1e-3):
    """A clock that advances ``step`` seconds per reading: every timed call takes step seconds."""
    t = [0.0]

    def clock():
        t[0] += step / 2
        return t[0]

    return clock


@pytest.fixture(scope="module")
def emulated_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu")
    before = dict(cuda.launch_counts)
    result = gpu_kernels.main(
        [
            "--emulate",
            "--size",
            "small",
            "--blocks",
            "32",
            "64",
            "--repeat",
            "2",
            "--warmup",
            "1",
            "--out",
            str(out),
        ],
        timer=gpu_kernels.WallTimer(fake_clock()),
        log=lambda _: None,
    )
    launched = {k for k, v in cuda.launch_counts.items() if v > before.get(k, 0)}
    return out, result, launched


def test_every_kernel_is_launched_checked_and_timed_at_each_block(emulated_run):
    out, result, launched = emulated_run
    assert launched == set(loader.kernel_names()) - {
        n for n in loader.kernel_names() if n.endswith("_f64")
    }
    kernels = {r["kernel"] for r in result["kernels"]}
    assert len(kernels) == len(gpu_kernel_cases.kernel_cases("small")) == 14
    assert {r["block"] for r in result["kernels"]} == {32, 64}
    for r in result["kernels"]:
        assert r["max_rel_err"] < 1e-5, r
        # the fake clock makes every call 1 ms (0.5 ms per reading, two readings)
        assert r["ms"] == pytest.approx(0.5) and r["gb_s"] == round(r["bytes"] / 5e-4 / 1e9, 1)


def test_gemm_ops_against_the_gemm_alone(emulated_run):
    _, result, _ = emulated_run
    assert [r["op"] for r in result["gemms"]] == [
        "conv2d (im2col + GEMM)",
        "conv_transpose2d (GEMM + col2im)",
    ]
    for r in result["gemms"]:
        assert r["max_rel_err"] < 1e-5 and r["ratio_to_cublas"] == pytest.approx(1.0)


def test_outputs_written(emulated_run):
    out, result, _ = emulated_run
    assert json.loads((out / "gpu-kernels.json").read_text()) == json.loads(json.dumps(result))
    md = (out / "gpu-kernels.md").read_text()
    assert "emulated: True" in md and "| adam_update | 4x5x4x6 | 64 |" in md
    assert "| conv2d (im2col + GEMM) |" in md


def test_a_wrong_kernel_fails_the_check():
    case = gpu_kernel_cases.kernel_cases("small")[0]
    x = case.inputs()[0]
    with pytest.raises(AssertionError, match="leaky_relu_forward output 0"):
        gpu_kernels.check(np.abs(x), case.reference(x), case.name)


def test_block_size_is_restored():
    from scratchgan.cuda.launcher import settings

    saved = settings.block, settings.reduce_block
    with gpu_kernels.block_size(512):
        assert (settings.block, settings.reduce_block) == (512, 256)
    assert (settings.block, settings.reduce_block) == saved


def test_arguments():
    args = gpu_kernels.parse_args([])
    assert args.blocks == [64, 128, 256, 512] and args.size == "full" and not args.emulate
    with pytest.raises(SystemExit):
        gpu_kernels.parse_args(["--blocks", "0"])
    with pytest.raises(SystemExit):
        gpu_summary.parse_args(["out", "install", "0"])


STUB = """#!/bin/sh
# the interpreter gpu_all.sh calls: records each call; the kernel harness fails with status 3
echo "$@" >> "$CALLS"
case "$1" in
  benchmarks/gpu_summary.py) exec "$REAL_PYTHON" "$@" ;;
  benchmarks/gpu_kernels.py) echo "kernel harness broke"; exit 3 ;;
esac
echo "ok"
"""


def test_gpu_all_runs_every_part_and_summarizes(tmp_path):
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    out = tmp_path / "out"
    env = dict(
        os.environ, PYTHON=str(stub), CALLS=str(tmp_path / "calls"), REAL_PYTHON=sys.executable
    )
    subprocess.run(
        ["bash", os.path.join(ROOT, "benchmarks", "gpu_all.sh"), str(out)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == "-m pip install --no-deps -e ."
    assert calls[1].startswith("-m pytest -m gpu") and calls[-1].startswith("benchmarks/gpu_summ")
    assert f"benchmarks/gpu_kernels.py --out {out}" in calls
    assert f"benchmarks/gpu_train_step.py --out {out}" in calls
    assert f"benchmarks/gpu_nccl.py --out {out}" in calls
    summary = json.loads((out / "summary.json").read_text())
    status = {p["part"]: p["exit_status"] for p in summary["parts"]}
    assert status == {"install": 0, "gpu-tests": 0, "kernels": 3, "train-step": 0, "nccl": 0}
    assert summary["parts"][2]["last_line"] == "kernel harness broke"
    assert "| kernels | 3 |" in (out / "summary.md").read_text()


def test_summary_appends_the_tables_and_flags_timeouts(tmp_path):
    (tmp_path / "gpu-kernels.md").write_text("# CUDA kernels (X)\n| a |\n")
    (tmp_path / "kernels.log").write_text("line\nlast\n")
    result = gpu_summary.summarize(str(tmp_path), ["kernels", "124", "150"])
    assert result["parts"][0]["timed_out"] and result["parts"][0]["last_line"] == "last"
    md = (tmp_path / "summary.md").read_text()
    assert "124 (timed out)" in md and "## CUDA kernels (X)" in md


def test_train_step_runner_and_report_on_the_cpu(tmp_path):
    pytest.importorskip("torch")
    import train_step

    cases = [c for c in train_step.CASES if c[0] == "gan b128"]
    syncs = (lambda: None, lambda: None)
    rows = gpu_train_step.run_cases(cases, "cpu", 1, 0, syncs, log=lambda _: None)
    assert [r["case"] for r in rows] == ["gan b128"] and rows[0]["ratio"] > 0
    env = {
        "device": "cpu",
        "cupy": None,
        "torch": "t",
        "cudnn": None,
        "date": "d",
        "repeat": 1,
        "warmup": 0,
    }
    paths = gpu_train_step.write({"environment": env, "rows": rows}, str(tmp_path))
    assert "| gan b128 |" in open(paths[1]).read()
