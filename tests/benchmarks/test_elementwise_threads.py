"""benchmarks/elementwise_threads.py: one table row per phase, both thread counts timed."""

import elementwise_threads


def test_prints_a_row_per_phase_with_both_timings(capsys):
    elementwise_threads.main(["--threads", "2", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "thread(s)" in out.splitlines()[0]  # the machine's label
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("| ")][1:]
    assert [r[0].strip() for r in rows] == [
        "LeakyReLU / ReLU forward",
        "LeakyReLU / ReLU backward",
        "batch norm forward",
        "batch norm backward (fused)",
        "Adam step",
    ]
    for row in rows:
        one, two, speedup = (float(cell) for cell in row[2:])
        assert one > 0 and two > 0 and abs(speedup - one / two) < 0.01 * one / two + 0.01
