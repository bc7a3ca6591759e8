"""scratchgan.geometry: the (h, w) argument rule and the window count, against PyTorch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchgan.geometry import conv_output_size, pair

torch = pytest.importorskip("torch")


@given(
    size=st.integers(1, 12),
    k=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 3),
)
def test_conv_output_size_is_the_length_of_torch_conv1d_output(size, k, stride, padding, dilation):
    x, w = torch.zeros(1, 1, size), torch.zeros(1, 1, k)
    expected = conv_output_size(size, k, stride, padding, dilation)
    if expected < 1:
        with pytest.raises(RuntimeError):
            torch.nn.functional.conv1d(x, w, stride=stride, padding=padding, dilation=dilation)
    else:
        y = torch.nn.functional.conv1d(x, w, stride=stride, padding=padding, dilation=dilation)
        assert y.shape[-1] == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (3, (3, 3)),
        (np.int64(2), (2, 2)),
        ((1, 2), (1, 2)),
        ([0, 4], (0, 4)),
        ((np.int32(1), 5), (1, 5)),
    ],
)
def test_pair_spreads_an_int_and_keeps_a_pair(value, expected):
    result = pair(value, "padding", "conv2d", 0)
    assert result == expected and all(type(v) is int for v in result)


@pytest.mark.parametrize("value", [True, 1.0, (1,), (1, 2, 3), (1, 2.0), "2", None])
def test_pair_refuses_anything_but_ints(value):
    with pytest.raises(TypeError, match="conv2d: stride must be an int or a pair of ints"):
        pair(value, "stride", "conv2d", 1)


def test_pair_refuses_values_below_the_minimum():
    with pytest.raises(ValueError, match=r"conv2d: stride must be at least 1, got \(1, 0\)"):
        pair((1, 0), "stride", "conv2d", 1)
