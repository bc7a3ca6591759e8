"""PyTorch's in-place Tensor methods, with its safety: ``x.mul_(2)``, ``x[i] = v``, ``x += y``.

An in-place op computes its out-of-place twin on an alias of ``x`` (same array, same node),
writes the result into x's array and bumps x's version counter; if a graph is recorded, x
takes the new node as its ``grad_fn`` (x = f(x_old)), so gradients flow through it exactly as
through the out-of-place op. A node that saved x before the change recorded x's version then,
and backward raises PyTorch's "modified by an inplace operation" error instead of using the
new values; the new node itself keeps a copy of x_old when its backward reads it.

Refused, as in PyTorch: in-place on a leaf that requires grad, or on a view of one, while grad
mode is on. Refused here (PyTorch rebases views): using a tensor in the graph after its array
was changed in place through another view of it (``y = x.view(..); y.mul_(w); x * 2``); autograd
says so when it records the use. Views share their base's version counter, so a node that saved
the base still sees the change.
"""

import weakref

from .autograd import is_grad_enabled


def _ops():
    from . import ops
    from .ops import hooks, inplace  # noqa: F401  (attributes of ops used below)

    return ops


def check_inplace(target, name):
    """Raise where PyTorch refuses ``name`` on ``target`` (a leaf that requires grad, or a view
    of one, while grad mode is on)."""
    if not is_grad_enabled():
        return
    if target.requires_grad and target.grad_fn is None:
        raise RuntimeError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place operation "
            "(wrap it in sg.no_grad(), or change p.data instead)"
        )
    counter = target._version_counter
    if target.grad_fn is not None and counter is not None and counter.view_of_leaf:
        raise RuntimeError(
            f"{name}: a view of a leaf Variable that requires grad is being used in an in-place "
            "operation (wrap it in sg.no_grad(), or change p.data instead)"
        )


def apply_inplace(target, compute, name):
    """target <- compute(alias of target), in place, recording the graph as PyTorch does.

    ``compute`` must build its result with the alias as a direct input of the final node.
    """
    from .tensor import Tensor

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
    check_inplace(target, name)
    if node is not None and node.inputs is not None and any(x is alias for x in node.inputs):
        alias._data = alias._data.copy()  # the node's backward reads x_old: keep it
    _write(target, result._data)
    if node is not None:
        _take_node(target, node)
    return target


def write_constant(target, values, name):
    """target[...] = values (an array or a number) in place. The old values get a zero
    gradient where target is in a graph, as in PyTorch (fill_, zero_, copy_ of a constant)."""
    if is_grad_enabled() and target.requires_grad:
        from .tensor import Tensor

        constant = Tensor._make(target.xp.asarray(values, dtype=target.dtype))
        return apply_inplace(target, lambda x: _ops().inplace.set_item(x, Ellipsis, constant), name)
    check_inplace(target, name)
    _write(target, values)
    return target


def _write(target, values, index=Ellipsis):
    target._data[index] = values
    counter = target._counter()
    counter.value += 1
    if not is_grad_enabled() and target.grad_fn is not None:
        target.grad_fn._made_at_version = counter.value  # kept graph, as torch under no_grad


def _take_node(target, node):
    """Make ``target`` the output of ``node`` (target = f(target_old))."""
    target.grad_fn, target.requires_grad = node, True
    node._output_ref = weakref.ref(target)
    node._made_at_version = target._counter().value
    if node.saves_output:  # a later change of target must show in this node's saved version
        counter = target._counter()
        node._saved_versions = tuple(
            (i, counter, counter.value) if i < 0 else entry
            for entry in node._saved_versions
            for i in (entry[0],)
        )


def _setitem(target, index, value):
    """``target[index] = value`` (a number, an array or a Tensor), in place."""
    from .tensor import Tensor

    if isinstance(value, Tensor):
        if value.device != target.device:
            raise RuntimeError(
                f"setitem: value is on {value.device}, the tensor on "
                f"{target.device}; move it with .to(device) first"
            )
        if value.dtype != target.dtype:
            value = value.to(target.dtype)
    else:  # a number, a list or an array: cast to target's dtype, as torch does
        value = Tensor._make(target.xp.asarray(value, dtype=target.dtype))
    if is_grad_enabled() and (target.requires_grad or value.requires_grad):
        return apply_inplace(target, lambda x: _ops().inplace.set_item(x, index, value), "setitem")
    check_inplace(target, "setitem")
    _write(target, value._data, _ops().shape._unwrap_index(index))
    return target


def _copy(target, source):
    """Copy ``source``'s values (broadcast, cast to target's dtype and device) into ``target``;
    the gradient flows to ``source`` only."""
    from .tensor import Tensor

    if not isinstance(source, Tensor):
        source = Tensor._make(target.xp.asarray(source))
    if source.device != target.device:
        source = source.to(target.device)
    if source.dtype != target.dtype:
        source = source.to(target.dtype)
    if not (is_grad_enabled() and source.requires_grad):
        return write_constant(target, source._data, "copy_")
    # target[...] = source: the gradient goes to source (summed where it was broadcast), zeros
    # to target's old values
    return apply_inplace(target, lambda x: _ops().inplace.set_item(x, Ellipsis, source), "copy_")


def _apply(target, compute, name):
    return apply_inplace(target, compute, name)


def _constant(target, values, name):
    return write_constant(target, values, name)


def _generator(generator, device):
    from .random import resolve

    return resolve(generator, device)


class InplaceMethods:
    """Mixin of the in-place methods; each returns the tensor itself, as in PyTorch."""

    __slots__ = ()

    # ----- filling (the values become constants: no gradient reaches the old ones)
    def zero_(self):
        return _constant(self, 0, "zero_")

    def fill_(self, value):
        value = value.item() if isinstance(value, InplaceMethods) else value
        return _constant(self, value, "fill_")

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with draws from N(mean, std^2) (the numbers ``nn.init.normal_`` draws)."""
        z = _generator(generator, self.device).normal(self.shape, self.dtype)
        return _constant(self, z * z.dtype.type(std) + z.dtype.type(mean), "normal_")

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with draws from U(a, b)."""
        u = _generator(generator, self.device).uniform(self.shape, self.dtype, a, b)
        return _constant(self, u, "uniform_")

    def copy_(self, src, non_blocking=False):
        """Copy src's values (broadcast, cast to this dtype and device); gradient goes to src."""
        return _copy(self, src)

    def __setitem__(self, index, value):
        _setitem(self, index, value)

    # ----- arithmetic
    def add_(self, other, alpha=1):
        return _apply(self, lambda x: x.add(other, alpha=alpha), "add_")

    def sub_(self, other, alpha=1):
        return _apply(self, lambda x: x.sub(other, alpha=alpha), "sub_")

    def mul_(self, other):
        return _apply(self, lambda x: x * other, "mul_")

    def div_(self, other):
        return _apply(self, lambda x: x / other, "div_")

    def pow_(self, exponent):
        return _apply(self, lambda x: x**exponent, "pow_")

    def neg_(self):
        return _apply(self, lambda x: -x, "neg_")

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def __ipow__(self, exponent):
        return self.pow_(exponent)

    # ----- elementwise functions
    def clamp_(self, min=None, max=None):
        return _apply(self, lambda x: x.clamp(min, max), "clamp_")

    clip_ = clamp_

    def clamp_min_(self, min):
        return self.clamp_(min=min)

    def clamp_max_(self, max):
        return self.clamp_(max=max)

    def abs_(self):
        return _apply(self, lambda x: x.abs(), "abs_")

    def exp_(self):
        return _apply(self, lambda x: x.exp(), "exp_")

    def log_(self):
        return _apply(self, lambda x: x.log(), "log_")

    def sqrt_(self):
        return _apply(self, lambda x: x.sqrt(), "sqrt_")

    def sigmoid_(self):
        return _apply(self, lambda x: x.sigmoid(), "sigmoid_")

    def tanh_(self):
        return _apply(self, lambda x: x.tanh(), "tanh_")

    def relu_(self):
        return _apply(self, lambda x: x.relu(), "relu_")

    def leaky_relu_(self, negative_slope=0.01):
        return _apply(self, lambda x: x.leaky_relu(negative_slope), "leaky_relu_")
