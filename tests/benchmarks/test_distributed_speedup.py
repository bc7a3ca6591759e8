"""benchmarks/distributed_speedup.py: the figures from given runs (medians, speed-ups, shares,
targets), its output files, and one real pass of the three configurations with tiny settings
(the real measurement is for a quiet machine)."""

import json

import pytest

import distributed_speedup as bench
from scratchgan.distributed import launch


def fake_run(seconds):
    """A run_config stand-in: every step of configuration (ranks, threads) takes seconds[...]."""

    def run(case, ranks, threads, steps, warmup, workdir):
        step = seconds[(ranks, threads)]
        comm = 0.25 * step * steps if ranks > 1 else 0.0
        return {
            "step_s": [step] * steps,
            "comm_s": comm,
            "overlap_s": comm / 2,
            "world_size": ranks,
            "blas_threads": [threads],
        }

    return run


def test_medians_speedups_and_targets_from_the_runs():
    run = fake_run({(1, 1): 1.0, (1, 2): 0.8, (2, 1): 0.5})
    result = bench.measure(["dcgan28"], 4, 1, 3, log=lambda _: None, run=run)["dcgan28"]
    rows = result["configs"]
    assert rows["1 rank x 1 thread"]["images_per_s"] == 128.0  # batch 128, 1 s a step
    assert rows["2 ranks x 1 thread"]["images_per_s_rounds"] == [256.0] * 3
    assert rows["2 ranks x 1 thread"]["communication_share"] == 0.25
    assert rows["2 ranks x 1 thread"]["overlapped_share"] == 0.125
    assert rows["1 rank x 2 threads"]["communication_share"] is None
    assert result["speedup_2_ranks_over_1_thread"] == 2.0
    assert result["speedup_2_ranks_over_1_thread_paired"] == 2.0
    assert result["speedup_2_threads_over_1_thread"] == 1.25
    assert all(result["targets_met"].values())
    slow = fake_run({(1, 1): 1.0, (1, 2): 0.5, (2, 1): 0.6})
    result = bench.measure(["dcgan64"], 2, 0, 1, 16, log=lambda _: None, run=slow)["dcgan64"]
    assert result["global_batch"] == 16 and not any(result["targets_met"].values())


def test_the_paired_speedup_is_the_median_of_the_rounds_ratios():
    configs = {
        "1 rank x 1 thread": {"images_per_s_rounds": [100.0, 200.0, 150.0]},
        "1 rank x 2 threads": {"images_per_s_rounds": [1.0, 1.0, 1.0]},
        "2 ranks x 1 thread": {"images_per_s_rounds": [180.0, 300.0, 290.0]},
    }
    # round ratios 1.8, 1.5, 1.933: median 1.8, where the ratio of the medians is 290 / 150
    assert bench.paired_speedup(configs) == 1.8


def test_arguments():
    args = bench.parse_args([])
    assert (args.steps, args.warmup, args.rounds, args.cases) == (10, 2, 3, ["dcgan28", "dcgan64"])
    for bad in (["--steps", "0"], ["--rounds", "0"], ["--warmup", "-1"], ["--cases", "gan"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


@pytest.mark.mpi
def test_one_tiny_round_through_the_real_trainer_writes_the_results(tmp_path):
    pytest.importorskip("mpi4py")
    try:
        launch.mpiexec()
    except RuntimeError as e:
        pytest.skip(str(e))
    argv = ["--steps", "1", "--warmup", "1", "--rounds", "1", "--cases", "dcgan28"]
    bench.main([*argv, "--batch-size", "4", "--out", str(tmp_path)], log=lambda _: None)
    result = json.loads((tmp_path / "distributed-speedup.json").read_text())
    case = result["cases"]["dcgan28"]
    assert case["global_batch"] == 4
    seen = {c: row["blas_threads_seen"] for c, row in case["configs"].items()}
    assert seen == {"1 rank x 1 thread": [1], "1 rank x 2 threads": [2], "2 ranks x 1 thread": [1]}
    assert case["configs"]["2 ranks x 1 thread"]["communication_share"] > 0
    for row in case["configs"].values():
        assert row["images_per_s"] > 0 and len(row["images_per_s_rounds"]) == 1
    facts = result["machine"]
    assert facts["cpu_model"] and facts["isa"] and facts["blas"]["loaded"]
    assert len(result["load_before"]) == 3 and len(result["load_after"]) == 3
    md = (tmp_path / "distributed-speedup.md").read_text()
    assert "| dcgan28 | 4 | 2 ranks x 1 thread | 1 |" in md and "Load average" in md
