"""The tutorial notebooks (docs/notebooks/) run without error and are stored as they ran.

test_notebook_runs re-executes each notebook in a fresh kernel (scripts/run_notebooks.py's
``execute``); any cell that raises or exceeds the per-cell timeout fails it. test_stored_outputs
reads the files only: every code cell was executed, in order, by one kernel, and no stored output
is an error, so what a reader sees on the code host is what the notebook does.
"""

import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

RUNNER = Path(__file__).resolve().parent.parent / "scripts" / "run_notebooks.py"
_spec = importlib.util.spec_from_file_location("run_notebooks", RUNNER)
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)

NOTEBOOKS = run_notebooks.notebook_paths()
EXPECTED = [
    "01-autograd",
    "02-convolution",
    "03-custom-op",
    "04-batch-norm",
    "05-dcgan",
    "06-wgan-gp",
    "07-profiling",
]


def test_the_seven_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    counts = [c.execution_count for c in _code_cells(nb)]
    assert None not in counts, (
        f"{path.name}: code cells never executed: run scripts/run_notebooks.py"
    )
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..n in order: re-run it top to bottom"
    )
    for i, cell in enumerate(_code_cells(nb), 1):
        for out in cell.outputs:
            assert out.output_type != "error", (
                f"{path.name}: cell [{i}] stored an error: {out.ename}"
            )
            assert out.get("name") != "stderr" or "Traceback" not in out.text, (
                f"{path.name}: cell [{i}] printed a traceback"
            )
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and "try next" in last.source.lower(), (
        f"{path.name}: should end with a 'What to try next' cell"
    )


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = run_notebooks.execute(path)
    assert len(_code_cells(nb)) > 0
