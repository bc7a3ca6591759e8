"""Arithmetic with broadcasting: + - * / ** and unary minus, plus broadcast_to / sum_to.

Broadcasting in forward is undone in backward by ``sum_to``: a gradient is summed over
every axis its input was stretched along. ``sum_to`` and ``broadcast_to`` are each
other's backward, so the pair is differentiable to any order.
"""

import numbers

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor


def _as_tensors(a, b):
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    return as_tensor(a, b), b


class BroadcastTo(Function):
    saves_inputs = ()

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return self.xp.broadcast_to(x, self.shape)

    def backward(self, gy, needs_input_grad):
        return (sum_to(gy, self.input_shapes[0]),)


class SumTo(Function):
    saves_inputs = ()

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return _summed_to(x, self.shape)

    def backward(self, gy, needs_input_grad):
        return (broadcast_to(gy, self.input_shapes[0]),)


def _summed_to(x, shape):
    """SumTo's forward: the array x summed over the axes it was broadcast along from ``shape``."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape)


def sum_to_array(x, shape):
    """``sum_to`` on arrays, for fused backwards: the same array calls, so the same bits."""
    return x if x.shape == shape else _summed_to(x, shape)


def broadcast_to(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        if np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return BroadcastTo(shape).apply(x)


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the inverse of broadcasting ``shape`` to ``x.shape``)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo(shape).apply(x)


class Add(Function):
    saves_inputs = ()

    def forward(self, a, b):
        return a + b

    def backward(self, gy, needs_input_grad):
        a_shape, b_shape = self.input_shapes
        return sum_to(gy, a_shape), sum_to(gy, b_shape)

    def backward_fused(self, gy, needs_input_grad):
        a_shape, b_shape = self.input_shapes
        return sum_to_array(gy, a_shape), sum_to_array(gy, b_shape)


class Sub(Function):
    saves_inputs = ()

    def forward(self, a, b):
        return a - b

    def backward(self, gy, needs_input_grad):
        a_shape, b_shape = self.input_shapes
        gb = sum_to(-gy, b_shape) if needs_input_grad[1] else None
        return sum_to(gy, a_shape), gb

    def backward_fused(self, gy, needs_input_grad):
        a_shape, b_shape = self.input_shapes
        gb = sum_to_array(-gy, b_shape) if needs_input_grad[1] else None
        return sum_to_array(gy, a_shape), gb


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy, needs_input_grad):
        a, b = self.inputs
        ga = sum_to(gy * b, a.shape) if needs_input_grad[0] else None
        gb = sum_to(gy * a, b.shape) if needs_input_grad[1] else None
        return ga, gb

    def backward_fused(self, gy, needs_input_grad):
        a, b = self.inputs[0].array, self.inputs[1].array
        ga = sum_to_array(gy * b, a.shape) if needs_input_grad[0] else None
        gb = sum_to_array(gy * a, b.shape) if needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b;  ga = gy / b,  gb = -gy a / b^2 = -(gy / b) y."""

    saves_inputs, saves_output = (1,), True

    def forward(self, a, b):
        return a / b

    def backward(self, gy, needs_input_grad):
        b = self.inputs[1]
        g = gy / b
        ga = sum_to(g, self.input_shapes[0]) if needs_input_grad[0] else None
        gb = sum_to(-g * self.output, b.shape) if needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    saves_inputs = ()

    def forward(self, x):
        return -x

    def backward(self, gy, needs_input_grad):
        return (-gy,)


class PowConst(Function):
    """y = x^c for a constant c;  gx = gy c x^(c-1)."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x ** x.dtype.type(self.c)

    def backward(self, gy, needs_input_grad):
        (x,) = self.inputs
        if self.c == 2:
            return (gy * (2 * x),)
        return (gy * (self.c * x ** (self.c - 1)),)


class Pow(Function):
    """y = a^b;  ga = gy b a^(b-1),  gb = gy y log(a)."""

    saves_output = True

    def forward(self, a, b):
        return a**b

    def backward(self, gy, needs_input_grad):
        a, b = self.inputs
        ga = sum_to(gy * b * a ** (b - 1), a.shape) if needs_input_grad[0] else None
        gb = sum_to(gy * self.output * a.log(), b.shape) if needs_input_grad[1] else None
        return ga, gb


def add(a, b):
    return Add().apply(*_as_tensors(a, b))


def sub(a, b):
    return Sub().apply(*_as_tensors(a, b))


def mul(a, b):
    return Mul().apply(*_as_tensors(a, b))


def div(a, b):
    return Div().apply(*_as_tensors(a, b))


def neg(x):
    return Neg().apply(x)


def pow(a, b):
    """``a ** b``; a constant exponent gets the cheaper one-input node."""
    if isinstance(a, Tensor) and isinstance(b, numbers.Real) and not isinstance(b, bool):
        return PowConst(b).apply(a)
    return Pow().apply(*_as_tensors(a, b))
