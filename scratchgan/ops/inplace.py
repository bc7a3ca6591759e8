"""Indexed assignment as an op: ``set_item(x, index, v)`` is x with x[index] = v, out of place.

``x[index] = v`` on a Tensor writes this op's result back into x's array (tensor_inplace.py).
"""

from ..autograd import Function
from ..tensor import Tensor
from .arithmetic import sum_to
from .shape import _unwrap_index, getitem


class SetItem(Function):
    """y = x with y[index] = v;  gx = gy with gy[index] = 0,  gv = sum_to(gy[index], v.shape)."""

    saves_inputs = ()

    def __init__(self, index):
        self.index = index

    def forward(self, x, v):
        y = x.copy()
        y[self.index] = v
        return y

    def backward(self, gy, needs_input_grad):
        gx = gv = None
        if needs_input_grad[0]:
            zero = Tensor._make(gy.xp.zeros((), dtype=gy.dtype))
            gx = SetItem(self.index).apply(gy, zero)
        if needs_input_grad[1]:
            gv = sum_to(getitem(gy, self.index), self.input_shapes[1])
        return gx, gv


def set_item(x, index, value):
    """x with x[index] = value (a Tensor of x's dtype and device, broadcast to x[index])."""
    return SetItem(_unwrap_index(index)).apply(x, value)
