"""What keeping freed memory (scratchgan.allocator) gives: roofline.py's training steps run twice
in fresh processes, once with SCRATCHGAN_MALLOC=system (glibc's defaults) and once with
scratchgan's default, each alternating scratchgan and PyTorch as roofline.py does. The setting
is process-wide, so PyTorch in the same process gets it too; the table shows both.

    python benchmarks/allocator.py [--threads 1] [--filter dcgan]

Writes results/allocator-{isa}-threads{N}.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def steps(mode, threads, name_filter):
    """roofline.py's step rows and facts with SCRATCHGAN_MALLOC=mode."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, SCRATCHGAN_MALLOC=mode)
        cmd = [sys.executable, str(HERE / "roofline.py"), "--threads", str(threads)]
        cmd += ["--only", "steps", "--out", out]
        cmd += ["--filter", name_filter] if name_filter else []
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        (report,) = Path(out).glob("*.json")
        return json.loads(report.read_text())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--filter", default="", help="only steps whose name contains this")
    args = ap.parse_args()
    runs = {mode: steps(mode, args.threads, args.filter) for mode in ("system", "keep")}
    facts = runs["keep"]["facts"]
    lines = [
        f"# Keeping freed memory (scratchgan.allocator), {args.threads} thread(s)",
        "",
        f"{facts['cpu_model']} ({facts['isa']}), {facts['blas_label']}, {facts['threads']} "
        f"thread(s); torch {facts['torch']}; {facts['date']}; load average "
        f"{facts['load_average_1_5_15']} before the second run. `python benchmarks/allocator.py "
        f"--threads {args.threads}" + (f" --filter {args.filter}" if args.filter else "") + "`.",
        "Medians of roofline.py's alternating runs; each setting in its own process, applying to "
        "both frameworks.",
        "",
        "| step | scratchgan ms, glibc default | scratchgan ms, kept | speed-up | torch ms, glibc "
        "default | torch ms, kept | ratio to torch, default | ratio, kept |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for old, new in zip(runs["system"]["rows"], runs["keep"]["rows"], strict=True):
        lines.append(
            f"| {new['name']} | {old['scratchgan_ms']:.1f} | {new['scratchgan_ms']:.1f} | "
            f"{old['scratchgan_ms'] / new['scratchgan_ms']:.2f}x | {old['torch_ms']:.1f} | "
            f"{new['torch_ms']:.1f} | {old['ratio']:.2f} | {new['ratio']:.2f} |"
        )
    path = HERE / "results" / f"allocator-{facts['isa']}-threads{args.threads}.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
