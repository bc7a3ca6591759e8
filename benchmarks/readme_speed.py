"""The README's speed section, from every roofline report in benchmarks/results/: the machines
measured, dated, one table each (training steps and conv layers, scratchgan / PyTorch time and
share of the sgemm peak, at each thread count measured).

    python benchmarks/readme_speed.py [--results benchmarks/results] [--write README.md]

Without --write the section is printed. With it, the text between the markers
``<!-- speed:begin -->`` and ``<!-- speed:end -->`` of that file is replaced (the markers are
appended at the end if the file has none).
"""

import argparse
import glob
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
BEGIN, END = "<!-- speed:begin -->", "<!-- speed:end -->"


def load(results_dir):
    """[report dict] of every conv-roofline-*.json under ``results_dir``, oldest first (runs
    with --conv-benchmark left out: the README shows the defaults)."""
    reports = []
    for path in sorted(glob.glob(os.path.join(results_dir, "conv-roofline-*.json"))):
        with open(path) as f:
            report = json.load(f)
        if not report["facts"].get("conv_algorithm_benchmark"):
            reports.append(report)
    return sorted(reports, key=lambda r: r["facts"]["date"])


def machine_key(facts):
    return (facts["cpu_model"], facts["isa"], facts.get("cores"), facts.get("blas_label"))


def section(reports):
    """Markdown: per machine, a heading with CPU, ISA, cores, BLAS and dates, then one row per
    step / layer with the ratio and the share of peak at each thread count."""
    machines = {}
    for r in reports:
        machines.setdefault(machine_key(r["facts"]), []).append(r)
    lines = [
        "## Speed",
        "",
        "Ratios are scratchgan / PyTorch time (lower is better), alternating in one process, "
        "medians after warm-up, float32; % is the share of the machine's measured sgemm "
        "peak. Regenerate with `python benchmarks/roofline.py` then "
        "`python benchmarks/readme_speed.py --write README.md`.",
        "",
    ]
    if not machines:
        return "\n".join(lines + ["No machine measured yet.", ""])
    for (cpu, isa, cores, blas), runs in machines.items():
        runs = sorted(runs, key=lambda r: r["facts"]["threads"])
        dates = sorted({r["facts"]["date"][:10] for r in runs})
        peaks = ", ".join(
            f"{r['sgemm_peak_gflops']:.0f} GFLOP/s at {r['facts']['threads']} thread(s)"
            for r in runs
        )
        lines += [
            f"### {cpu} ({isa}, {cores} cores), {blas}",
            "",
            f"Measured {', '.join(dates)}; sgemm peak {peaks}; torch "
            f"{runs[0]['facts'].get('torch')}; load average before "
            + ", ".join(str(r["facts"].get("load_average_1_5_15")) for r in runs)
            + ".",
            "",
        ]
        head = " | ".join(f"{r['facts']['threads']} thread(s): ratio (% peak)" for r in runs)
        lines += [f"| step or layer (forward+backward) | {head} |", "|---|" + "---:|" * len(runs)]
        names = []
        for r in runs:
            names += [
                row["name"]
                for row in r["rows"]
                if row["direction"] != "forward" and row["name"] not in names
            ]
        for name in names:
            cells = []
            for r in runs:
                row = next(
                    (x for x in r["rows"] if x["name"] == name and x["direction"] != "forward"),
                    None,
                )
                cells.append(
                    "-"
                    if row is None
                    else f"{row['ratio']:.2f} ({100 * row['scratchgan_share_of_peak']:.0f}%)"
                )
            lines.append(f"| {name} | {' | '.join(cells)} |")
        lines.append("")
    return "\n".join(lines)


def replace_section(text, body):
    block = f"{BEGIN}\n{body.rstrip()}\n{END}"
    if BEGIN in text and END in text:
        return re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    return text.rstrip() + "\n\n" + block + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default=os.path.join(HERE, "results"))
    p.add_argument("--write", default=None, help="a Markdown file whose speed section to replace")
    args = p.parse_args(argv)
    body = section(load(args.results))
    if args.write is None:
        print(body)
        return body
    with open(args.write) as f:
        text = f.read()
    with open(args.write, "w") as f:
        f.write(replace_section(text, body))
    return body


if __name__ == "__main__":
    main()
