"""Re-execute the tutorial notebooks in docs/notebooks/ and store their outputs in place.

    python scripts/run_notebooks.py              # all of them, in order
    python scripts/run_notebooks.py 03 05        # those whose file name starts with 03 or 05
    python scripts/run_notebooks.py --check      # execute, but leave the files as they are
    python scripts/run_notebooks.py --check --package-root ../other   # against another checkout

Each notebook runs top to bottom in a fresh kernel whose working directory is docs/notebooks and
which imports scratchgan from this checkout (PYTHONPATH); figures are stored inline. A cell
that raises, or runs longer than --timeout seconds, stops that notebook and fails the run.
tests/test_notebooks.py uses ``execute`` from here, so CI and this script run notebooks alike.
"""

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "docs" / "notebooks"
CELL_TIMEOUT_S = 300


def notebook_paths(prefixes=()):
    """The tutorial notebooks in learning order (their names start with 01-, 02-, ...)."""
    paths = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]-*.ipynb"))
    if prefixes:
        paths = [p for p in paths if p.name.startswith(tuple(prefixes))]
    return paths


def kernel_env(package_root=REPO):
    """The notebook kernel's environment: ``package_root`` (this checkout) first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_root), env.get("PYTHONPATH")]))
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend stores figures in the notebook
    return env


def execute(path, timeout=CELL_TIMEOUT_S, package_root=REPO):
    """Run the notebook at ``path`` in a fresh kernel; return the executed NotebookNode.

    Raises nbclient's CellExecutionError (with the failing cell and its traceback) or
    CellTimeoutError; the file itself is not touched.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute(env=kernel_env(package_root))
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose name starts so")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell")
    parser.add_argument("--check", action="store_true", help="execute without saving")
    parser.add_argument(
        "--package-root",
        default=REPO,
        type=Path,
        help="checkout whose scratchgan the notebooks import (default: this one)",
    )
    args = parser.parse_args(argv)

    import nbformat

    paths = notebook_paths(args.prefixes)
    if not paths:
        sys.exit(f"no notebook in {NOTEBOOK_DIR} matches {args.prefixes}")
    total = 0.0
    for path in paths:
        start = time.perf_counter()
        nb = execute(path, args.timeout, args.package_root)
        seconds = time.perf_counter() - start
        total += seconds
        if not args.check:
            nbformat.write(nb, path)
        print(f"{path.name:32s} {seconds:6.1f} s", flush=True)
    print(f"{'all':32s} {total:6.1f} s")


if __name__ == "__main__":
    main()
