"""Every public functional op documents its formula, shapes, result and an example."""

import inspect

import pytest

import scratchgan.functional as F

PUBLIC = sorted(
    name
    for name, obj in vars(F).items()
    if inspect.isfunction(obj) and obj.__module__.startswith("scratchgan.ops.")
)


def test_functional_reexports_the_ops():
    assert {"conv2d", "relu", "batch_norm", "mse_loss", "where"} <= set(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_op_has_a_docstring_with_shapes_result_and_example(name):
    doc = inspect.getdoc(getattr(F, name)) or ""
    assert "Returns" in doc, f"F.{name}: say what it returns (shape)"
    assert "Example" in doc or ">>>" in doc, f"F.{name}: give a tiny example"
    assert len(doc.splitlines()) >= 4, f"F.{name}: give the formula and argument shapes"
