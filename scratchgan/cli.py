"""The ``scratchgan`` command: list, train, sample, interpolate, inpaint, eval, gradcheck, bench."""

import argparse
import sys


def _cmd_gradcheck(args):
    from . import opcheck

    return 0 if opcheck.run_table(args.op) else 1


def _cmd_bench(args):
    import pathlib
    import runpy

    root = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
    script = root / {"ops": "ops.py", "mlp": "mlp.py", "train": "train_step.py"}[args.what]
    if not script.exists():
        print(f"bench {args.what}: {script} is not here (benchmarks/ ships with the source checkout only)", file=sys.stderr)
        return 2
    sys.argv = [str(script)] + args.rest
    runpy.run_path(str(script), run_name="__main__")
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="scratchgan", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("gradcheck", help="check every op's first and second derivatives against central differences")
    g.add_argument("op", nargs="?", default="all", help="an op name, or 'all' (default)")
    g.set_defaults(func=_cmd_gradcheck)

    b = sub.add_parser("bench", help="time ops or training steps against PyTorch in one run")
    b.add_argument("what", choices=["ops", "mlp", "train"], nargs="?", default="ops")
    b.add_argument("rest", nargs=argparse.REMAINDER, help="arguments passed on to the benchmark script")
    b.set_defaults(func=_cmd_bench)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
