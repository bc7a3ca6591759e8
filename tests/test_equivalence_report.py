"""scripts/equivalence/report.py: the acceptance verdict of issue 18 and the RESULTS.md section."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts", "equivalence"))
import report  # noqa: E402


def write_result(runs, model, framework, seed, fid, steps=100):
    out = runs / model / f"{framework}-seed{seed}"
    out.mkdir(parents=True)
    result = {
        "model": model,
        "framework": framework,
        "seed": seed,
        "steps": steps,
        "samples": 10000,
        "fid": fid,
        "kid": 1.0,
        "kid_std": 0.1,
        "precision": 0.5,
        "recall": 0.5,
        "classes_covered": 10,
        "num_classes": 10,
        "train_time_s": 60.0,
        "command": "python scripts/equivalence/run.py ...",
        "machine": {"label": "test cpu, 1 thread(s)", "date": "2026-12-01T00:00:00+00:00"},
    }
    (out / "result.json").write_text(json.dumps(result))


def test_verdict_uses_the_torch_range_widened_by_ten_percent(tmp_path):
    for seed, fid in ((0, 100.0), (1, 120.0)):
        write_result(tmp_path, "dcgan", "torch", seed, fid)
    write_result(tmp_path, "dcgan", "scratchgan", 0, 90.5)  # >= 0.9 * 100
    write_result(tmp_path, "dcgan", "scratchgan", 1, 131.0)  # <= 1.1 * 120
    results = report.load_results(str(tmp_path))
    torch_fid, band, ours, inside, steps = report.verdict("dcgan", results)
    assert band == (90.0, 132.0) and inside is True and steps == {100}
    write_result(tmp_path, "lsgan", "torch", 0, 100.0)
    write_result(tmp_path, "lsgan", "torch", 1, 120.0)
    write_result(tmp_path, "lsgan", "scratchgan", 0, 100.0)
    write_result(tmp_path, "lsgan", "scratchgan", 1, 133.0)
    assert report.verdict("lsgan", report.load_results(str(tmp_path)))[3] is False


def test_missing_or_unequal_runs_give_no_verdict(tmp_path):
    write_result(tmp_path, "dcgan", "torch", 0, 100.0)
    assert report.verdict("dcgan", report.load_results(str(tmp_path)))[3] is None
    write_result(tmp_path, "dcgan", "torch", 1, 110.0)
    write_result(tmp_path, "dcgan", "scratchgan", 0, 105.0)
    write_result(tmp_path, "dcgan", "scratchgan", 1, 105.0, steps=50)
    assert report.verdict("dcgan", report.load_results(str(tmp_path)))[3] is None


def test_section_is_replaced_between_the_markers(tmp_path):
    page = tmp_path / "RESULTS.md"
    page.write_text(f"# Results\n\nbefore\n\n{report.BEGIN}\nold\n{report.END}\n\nafter\n")
    write_result(tmp_path / "runs", "dcgan64", "torch", 0, 80.0)
    assert report.main(["--runs", str(tmp_path / "runs"), "--results", str(page)]) == 0
    text = page.read_text()
    assert text.startswith("# Results\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert "old" not in text and text.count(report.BEGIN) == 1
    assert "| dcgan64 | 100 | 80.0 | pending |" in text
    assert "then 10,000 samples scored" in text


def test_extra_seeds_get_a_spread_table_and_leave_the_verdict_alone(tmp_path):
    for seed, fid in ((0, 100.0), (1, 110.0), (2, 130.0)):
        write_result(tmp_path, "dcgan", "torch", seed, fid)
    for seed, fid in ((0, 105.0), (1, 150.0), (2, 120.0)):
        write_result(tmp_path, "dcgan", "scratchgan", seed, fid)
    results = report.load_results(str(tmp_path))
    assert report.verdict("dcgan", results)[3] is False  # 150 > 1.1 x 110, seed 2 not read
    row = next(line for line in report.spread(results) if line.startswith("| dcgan |"))
    assert row == (  # all torch seeds: [90, 143], so 150 is outside
        "| dcgan | 0: 100.0, 1: 110.0, 2: 130.0 | 113.3 (15.3) "
        "| 0: 105.0, 1: 150.0, 2: 120.0 | 125.0 (22.9) | no (90.0 - 143.0) |"
    )
    assert "Every seed run" in "\n".join(report.section(results))
    only_two = {k: r for k, r in results.items() if k[2] != 2}
    assert "Every seed run" not in "\n".join(report.section(only_two))


def test_the_spread_verdict_reads_every_torch_seed(tmp_path):
    for seed, fid in ((0, 100.0), (1, 102.0), (2, 140.0)):
        write_result(tmp_path, "dcgan", "torch", seed, fid)
    for seed, fid in ((0, 101.0), (1, 150.0)):  # outside seeds 0-1's band, inside all three's
        write_result(tmp_path, "dcgan", "scratchgan", seed, fid)
    results = report.load_results(str(tmp_path))
    assert report.verdict("dcgan", results)[3] is False
    row = next(line for line in report.spread(results) if line.startswith("| dcgan |"))
    assert row.endswith("| yes (90.0 - 154.0) |")
