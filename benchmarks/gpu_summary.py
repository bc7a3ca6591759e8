"""summary.json and summary.md of a gpu_all.sh run: each part's exit status and seconds, the
test count line, the GPU and library versions, and the kernel and train-step tables.

    python benchmarks/gpu_summary.py OUTDIR [NAME RC SECONDS]...
"""

import argparse
import datetime
import json
import os
import platform


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("outdir")
    p.add_argument("parts", nargs="*", help="triples: part name, exit status, seconds")
    args = p.parse_args(argv)
    if len(args.parts) % 3:
        p.error("parts come in triples: NAME RC SECONDS")
    return args


def versions():
    out = {"python": platform.python_version()}
    for name in ("numpy", "cupy", "torch"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            out[name] = None
    try:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        out["gpu"] = props["name"].decode()
    except Exception as e:  # no GPU, no driver, no CuPy: say so instead of failing the summary
        out["gpu"] = f"none ({type(e).__name__})"
    return out


def last_line(path):
    try:
        with open(path) as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        return None
    return lines[-1] if lines else None


def summarize(outdir, parts):
    rows = [
        {
            "part": parts[i],
            "exit_status": int(parts[i + 1]),
            "seconds": int(parts[i + 2]),
            "timed_out": int(parts[i + 1]) == 124,
            "last_line": last_line(os.path.join(outdir, parts[i] + ".log")),
        }
        for i in range(0, len(parts), 3)
    ]
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "parts": rows,
    }
    with open(os.path.join(outdir, "summary.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = [
        f"# GPU run, {result['date']}",
        "",
        ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        "",
        "| part | exit status | seconds | last line of its log |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {r['part']} | {r['exit_status']}{' (timed out)' if r['timed_out'] else ''} | "
        f"{r['seconds']} | {r['last_line'] or '-'} |"
        for r in rows
    ]
    for table in ("gpu-kernels.md", "gpu-train-step.md", "gpu-nccl.md"):
        path = os.path.join(outdir, table)
        if os.path.exists(path):
            with open(path) as f:
                lines += ["", "#" + f.read().strip()]
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return result


def main(argv=None):
    args = parse_args(argv)
    result = summarize(args.outdir, args.parts)
    print(f"wrote {os.path.join(args.outdir, 'summary.md')}")
    return result


if __name__ == "__main__":
    main()
