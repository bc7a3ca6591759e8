"""Helpers for the PyTorch-compatibility tests: the same float64 values in both libraries."""

import numpy as np
import pytest

import scratchgan as sg

torch = pytest.importorskip("torch")


def pair(array, requires_grad=True):
    """(scratchgan tensor, torch tensor) holding copies of ``array``."""
    array = np.asarray(array)
    grad = requires_grad and array.dtype.kind == "f"
    return (
        sg.tensor(array.copy(), requires_grad=grad),
        torch.tensor(array.copy(), requires_grad=grad),
    )


def close(ours, theirs, rtol=1e-7, atol=0.0):
    """Assert a scratchgan result equals a torch one (values, shape)."""
    a = ours.numpy() if isinstance(ours, sg.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
