"""benchmarks/machine.py, roofline.py, roofline_report.py and readme_speed.py, without timing
anything real: FLOP formulas against PyTorch's FlopCounterMode, cpuinfo parsing, the sgemm sweep
under a fake clock, and the reports written from fake timings."""

import json

import numpy as np
import pytest

import machine
import readme_speed
import roofline
import roofline_report
import scratchgan.machine

torch = pytest.importorskip("torch")

INTEL = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni avx512_bf16 amx_tile
"""
AMD = "model name\t: AMD EPYC 7B13\nflags\t\t: fpu sse4_2 avx avx2 fma\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm sve\nCPU part\t: 0xd40\n"


@pytest.mark.parametrize(
    "text,model,isa",
    [
        (INTEL, "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz", "avx512"),
        (AMD, "AMD EPYC 7B13", "avx2"),
        (ARM, None, "sve"),
        ("", None, None),
    ],
)
def test_cpuinfo_names_the_widest_isa(text, model, isa):
    facts = machine.parse_cpuinfo(text)
    if model:
        assert facts["cpu_model"] == model
    if isa:
        assert facts["isa"] == isa
    if text is INTEL:
        assert {"avx512f", "avx2", "amx_tile"} <= set(facts["isa_flags"])


def test_sgemm_peak_under_a_fake_clock():
    """Each timed matmul takes 1 'second' of the fake clock: GFLOP/s = 2 n^3 / 1e9."""
    ticks = iter(range(1000))
    peak, sweep = machine.sgemm_peak(None, sizes=(8, 16), repeat=2, timer=lambda: next(ticks))
    assert sweep == {8: round(2 * 8**3 / 1e9, 2), 16: round(2 * 16**3 / 1e9, 2)}
    assert peak == sweep[16]


def _torch_flops(kind, n, cin, cout, size, k, s, p, op):
    from torch.utils.flop_counter import FlopCounterMode

    tF = torch.nn.functional
    x = torch.randn(n, cin, size, size, requires_grad=True)
    counter = FlopCounterMode(display=False)
    with counter:
        if kind == "conv2d":
            W = torch.randn(cout, cin, k, k, requires_grad=True)
            y = tF.conv2d(x, W, stride=s, padding=p)
        else:
            W = torch.randn(cin, cout, k, k, requires_grad=True)
            y = tF.conv_transpose2d(x, W, stride=s, padding=p, output_padding=op)
        y.sum().backward()
    return counter.get_total_flops()


@pytest.mark.parametrize(
    "layer",
    [
        ("conv2d", 2, 3, 8, 12, 5, 2, 2, 0),
        ("conv_transpose2d", 2, 8, 4, 6, 4, 2, 1, 0),
        ("conv_transpose2d", 3, 6, 2, 7, 5, 2, 2, 1),
    ],
)
def test_layer_flops_agree_with_torch_flop_counter(layer):
    assert roofline.layer_flops(*layer) == _torch_flops(*layer)
    assert 3 * roofline.layer_flops(*layer, direction="forward") == roofline.layer_flops(*layer)


@pytest.mark.parametrize("layer", roofline.LAYERS)
def test_layer_gemm_shape_does_the_forwards_flops(layer):
    m, k, n = roofline.layer_gemm_shape(*layer[1:])
    assert 2 * m * k * n == roofline.layer_flops(*layer[1:], direction="forward")


def test_every_layer_shape_matches_the_benchmark_case():
    for layer in roofline.LAYERS:
        out = roofline.layer_out_size(*layer[1:2], *layer[5:])
        assert f"x{out}x{out}" in roofline.layer_case(layer).shape


def _fake_run_cases(cases, repeat, warmup, log):
    return [
        {"direction": d, "scratchgan_ms": 2.0, "torch_ms": 4.0}
        for _ in cases
        for d in ("forward", "forward+backward")
    ]


def test_reports_from_fake_timings(tmp_path, monkeypatch):
    monkeypatch.setattr(roofline, "run_cases", _fake_run_cases)
    monkeypatch.setattr(machine, "sgemm_peak", lambda threads, sizes: (100.0, {64: 100.0}))
    monkeypatch.setattr(machine, "gemm_gflops", lambda m, k, n: 80.0)
    monkeypatch.setattr(
        scratchgan.machine,  # where the facts are read (benchmarks/machine.py re-exports them)
        "cpu_facts",
        lambda: {"cpu_model": "Test CPU", "isa": "avx512", "isa_flags": ["avx512f"], "cores": 2},
    )
    lines = []
    written = roofline_report.main(
        ["--threads", "1", "--only", "conv", "--filter", "64x256x8x8", "--out", str(tmp_path)],
        log=lines.append,
    )
    stem = tmp_path / "conv-roofline-avx512-threads1"
    assert sorted(written) == sorted(str(stem) + e for e in (".json", ".md", ".png"))
    result = json.loads((stem.with_suffix(".json")).read_text())
    (fwd, both) = result["rows"]
    flops = 3 * 2 * 64 * 8 * 8 * 256 * 128 * 16
    assert both["flops"] == flops and both["wide"] and both["ratio"] == 0.5
    assert both["scratchgan_gflops"] == round(flops / 2e-3 / 1e9, 2)
    assert both["scratchgan_share_of_peak"] == round(both["scratchgan_gflops"] / 100.0, 3)
    md = stem.with_suffix(".md").read_text()
    assert "Test CPU (avx512)" in md and "1 thread(s)" in md and "**100.0 GFLOP/s**" in md
    assert "Every row at most 1.0x PyTorch: True" in md
    assert fwd["gemm_shape"] == [64 * 8 * 8, 256, 128 * 16] and fwd["gemm_gflops"] == 80.0
    assert "| (4096, 256, 2048): 80.0 (80%) |" in md
    assert roofline_report.acceptance(result["rows"])["wide_at_60_percent"] is True


def test_parse_args_defaults_and_errors():
    args = roofline_report.parse_args([])
    assert args.threads == [1, 2] and args.only is None
    with pytest.raises(SystemExit):
        roofline_report.parse_args(["--threads", "0"])


def _report(threads, ratio, date):
    facts = {
        "cpu_model": "Test CPU",
        "isa": "avx2",
        "cores": 2,
        "blas_label": "openblas 0.3",
        "threads": threads,
        "date": date,
        "torch": "2.13",
        "load_average_1_5_15": [0.1],
    }
    row = {
        "name": "dcgan64 b64",
        "direction": "train step",
        "ratio": ratio,
        "scratchgan_share_of_peak": 0.5,
    }
    return {"facts": facts, "sgemm_peak_gflops": 100.0 * threads, "rows": [row]}


def test_readme_section_lists_machines_dated_and_replaces_its_block(tmp_path):
    for t, ratio in ((1, 0.9), (2, 1.1)):
        (tmp_path / f"conv-roofline-avx2-threads{t}.json").write_text(
            json.dumps(_report(t, ratio, "2026-12-01T10:00:00"))
        )
    tuned = _report(1, 0.1, "2026-12-01T11:00:00")
    tuned["facts"]["conv_algorithm_benchmark"] = True
    (tmp_path / "conv-roofline-avx2-threads1-convbench.json").write_text(json.dumps(tuned))
    body = readme_speed.section(readme_speed.load(str(tmp_path)))
    assert "### Test CPU (avx2, 2 cores), openblas 0.3" in body
    assert "Measured 2026-12-01" in body and "100 GFLOP/s at 1 thread(s)" in body
    assert "| dcgan64 b64 | 0.90 (50%) | 1.10 (50%) |" in body
    readme = tmp_path / "README.md"
    readme.write_text("intro\n")
    for _ in range(2):  # idempotent: the second run replaces the first block
        readme_speed.main(["--results", str(tmp_path), "--write", str(readme)])
    text = readme.read_text()
    assert text.startswith("intro\n") and text.count(readme_speed.BEGIN) == 1
    assert np.char.count(text, "### Test CPU") == 1
