"""Fixtures of the PyTorch-compatibility tests (helpers are in compat_helpers.py)."""

import numpy as np
import pytest

pytest.importorskip("torch")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
