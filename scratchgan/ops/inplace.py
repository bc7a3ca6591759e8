"""In-place ops with PyTorch's safety: ``x.mul_(2)``, ``x[idx] = v``, ``p.data.clamp_(-c, c)``.

An in-place op computes its out-of-place twin on an alias of ``x`` (same array, same node),
writes the result into x's array and bumps x's version counter; if a graph is recorded, x
takes the new node as its ``grad_fn`` (x = f(x_old)), so gradients flow through it exactly as
through the out-of-place op. A node that saved x before the change recorded x's version then,
and backward raises PyTorch's "modified by an inplace operation" error instead of using the
new values; the new node itself keeps a copy of x_old when its backward reads it.

Refused, as in PyTorch: in-place on a leaf that requires grad while grad mode is on. Refused
here (PyTorch rebases views): a recorded in-place op on a tensor whose array a recorded view
op shares (``y = x.view(..); y.mul_(w)``); clone() first.
"""

import weakref

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor, as_tensor
from .arithmetic import sum_to
from .shape import _unwrap_index, getitem
from .hooks import clone


def check_inplace(target, name, records):
    """Raise where PyTorch (or scratchgan's missing view rebasing) refuses ``name`` on ``target``."""
    if not is_grad_enabled():
        return
    if target.requires_grad and target.grad_fn is None:
        raise RuntimeError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place operation "
            "(wrap it in sg.no_grad(), or change p.data instead)"
        )
    counter = target._version_counter
    if (records or target.grad_fn is not None) and counter is not None and counter.view_in_graph:
        raise NotImplementedError(
            f"{name}: in-place change of a tensor that shares its array with a view in the graph "
            "(PyTorch rebases such views; scratchgan does not); clone() it first"
        )


def apply_inplace(target, compute, name):
    """target <- compute(alias of target), in place, recording the graph as PyTorch does.

    ``compute`` must build its result with the alias as a direct input of the final node.
    """
    alias = Tensor._make(target._data, target.requires_grad)
    alias.grad_fn = target.grad_fn
    result = compute(alias)
    if result is alias:  # the identity (e.g. dropout with p=0): nothing to write
        return target
    if result.shape != target.shape:
        raise RuntimeError(
            f"{name}: output with shape {target.shape} doesn't match the broadcast shape "
            f"{result.shape}"
        )
    node = result.grad_fn
    check_inplace(target, name, node is not None)
    if node is not None and node.inputs is not None and any(x is alias for x in node.inputs):
        alias._data = alias._data.copy()  # the node's backward reads x_old: keep it
    _write(target, result._data)
    if node is not None:
        _take_node(target, node)
    elif is_grad_enabled() and target.grad_fn is not None:
        target.grad_fn, target.requires_grad = None, False  # now a constant
    return target


def write_constant(target, values, name):
    """target[...] = values (an array or a number) in place; no graph (a constant)."""
    check_inplace(target, name, False)
    _write(target, values)
    if is_grad_enabled() and target.grad_fn is not None:
        target.grad_fn, target.requires_grad = None, False
    return target


def _write(target, values, index=Ellipsis):
    target._data[index] = values
    target._counter().value += 1


def _take_node(target, node):
    """Make ``target`` the output of ``node`` (target = f(target_old))."""
    target.grad_fn, target.requires_grad = node, True
    node._output_ref = weakref.ref(target)
    if node.saves_output:  # a later change of target must show in this node's saved version
        counter = target._counter()
        node._saved_versions = tuple(
            (i, counter, counter.value) if i < 0 else entry
            for entry in node._saved_versions
            for i in (entry[0],)
        )


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


def setitem(target, index, value):
    """``target[index] = value`` (a number, an array or a Tensor), in place."""
    index = _unwrap_index(index)
    if isinstance(value, Tensor):
        if value.device != target.device:
            raise RuntimeError(f"setitem: value is on {value.device}, the tensor on "
                               f"{target.device}; move it with .to(device) first")
        if value.dtype != target.dtype:
            value = value.to(target.dtype)
    elif not isinstance(value, np.ndarray) and not hasattr(value, "__cuda_array_interface__"):
        value = as_tensor(value, target)
    else:
        value = Tensor._make(target.xp.asarray(value, dtype=target.dtype))
    if is_grad_enabled() and (target.requires_grad or value.requires_grad):
        return apply_inplace(target, lambda x: SetItem(index).apply(x, value), "setitem")
    check_inplace(target, "setitem", False)
    _write(target, value._data, index)
    return target


def copy_(target, source):
    """Copy ``source``'s values (broadcast, cast to target's dtype and device) into ``target``;
    the gradient flows to ``source`` only."""
    if not isinstance(source, Tensor):
        source = Tensor._make(target.xp.asarray(np.asarray(source) if not hasattr(
            source, "__cuda_array_interface__") else source))
    if source.device != target.device:
        source = source.to(target.device)
    if source.dtype != target.dtype:
        source = source.to(target.dtype)
    if not (is_grad_enabled() and source.requires_grad):
        return write_constant(target, source._data, "copy_")

    def compute(alias):
        from .arithmetic import broadcast_to

        shaped = source if source.shape == target.shape else broadcast_to(source, target.shape)
        return clone(shaped)

    return apply_inplace(target, compute, "copy_")
