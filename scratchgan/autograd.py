"""Reverse-mode automatic differentiation: the graph node and the one backward loop.

Every op is a ``Function``. ``forward`` works on raw arrays; ``backward`` receives the
gradient of the output as a Tensor and returns the input gradients as Tensors built from
other differentiable ops. So when the backward loop runs with recording switched on
(``create_graph=True``), the gradients are themselves part of a new graph, and second
derivatives come from the same loop: there is no second engine.
"""

import contextlib
import weakref

from . import profiler

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def set_grad_enabled(mode):
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, bool(mode)
    try:
        yield
    finally:
        _grad_enabled = previous


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) in which ops record no graph."""

    def __enter__(self):
        global _grad_enabled
        self._previous, _grad_enabled = _grad_enabled, False

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._previous
        return False


class enable_grad(no_grad):
    def __enter__(self):
        global _grad_enabled
        self._previous, _grad_enabled = _grad_enabled, True


class Function:
    """A node of the graph with one output.

    Subclasses implement ``forward(*arrays) -> array`` and ``backward(gy) -> tuple`` of one
    Tensor (or None) per input. In ``backward`` the inputs are ``self.inputs`` (Tensors) and
    the output is ``self.output``; ``self.needs_input_grad[i]`` says whether input i's
    gradient is wanted. Arrays that only backward needs are kept as attributes by forward.
    """

    inputs = None
    needs_input_grad = ()
    released = False

    def apply(self, *inputs):
        if profiler._active is None:
            return self._apply(inputs)
        with profiler._active.region(type(self).__name__, "forward"):
            return self._apply(inputs)

    def _apply(self, xs):
        from .tensor import Tensor

        device = xs[0].device
        for i, x in enumerate(xs[1:], 1):
            if x.device != device:
                raise RuntimeError(
                    f"{type(self).__name__}: input {i} is on {x.device} but input 0 is on {device}; "
                    "move them with .to(device) first (nothing is moved implicitly)"
                )
        record = _grad_enabled and any(x.requires_grad for x in xs)
        self.needs_input_grad = tuple(record and x.requires_grad for x in xs)
        self.xp = xs[0].xp
        out = Tensor._make(self.forward(*[x.data for x in xs]), requires_grad=record)
        if record:
            self.inputs = xs
            self._output_ref = weakref.ref(out)
            self._output_data = out.data
            out.grad_fn = self
        return out

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError

    @property
    def output(self):
        """The output Tensor (for backward formulas that reuse it, e.g. sigmoid, exp)."""
        out = self._output_ref()
        if out is None:
            # The output tensor was dropped (a consumer released it); its values are all a
            # first-order backward needs, but a graph through it cannot be built any more.
            if _grad_enabled:
                raise RuntimeError(
                    f"{self!r}: its output was freed by an earlier part of this backward; to build "
                    "a graph of the gradients pass retain_graph=True along with create_graph=True"
                )
            from .tensor import Tensor

            out = Tensor._make(self._output_data, requires_grad=False)
        return out

    def release(self):
        """Free what backward needed; a later backward through this node raises."""
        self.__dict__.clear()
        self.released = True

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _topological_order(roots):
    """Functions reachable from ``roots``, each before the functions that made its inputs."""
    order, visited = [], set()
    stack = [(fn, False) for fn in roots]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in visited:
            continue
        if fn.released:
            raise RuntimeError(
                "backward: trying to go through part of the graph a second time, but its saved "
                "values were freed after the first backward; pass retain_graph=True to the first "
                "backward (or sg.grad) if you need to backward through it again"
            )
        visited.add(fn)
        stack.append((fn, True))
        for x in fn.inputs:
            if x.grad_fn is not None and x.grad_fn not in visited:
                stack.append((x.grad_fn, False))
    order.reverse()
    return order


def _accumulate(store, key, value):
    store[key] = value if key not in store else store[key] + value


def run_backward(outputs, grad_outputs, inputs=None, create_graph=False, retain_graph=False):
    """The backward loop shared by ``Tensor.backward`` and ``grad``.

    With ``inputs=None`` the gradients are accumulated into the ``.grad`` of every leaf that
    requires grad; otherwise they are returned, one per input, and ``.grad`` is untouched.
    """
    with profiler.region("autograd engine", "backward"):
        return _run_backward(outputs, grad_outputs, inputs, create_graph, retain_graph)


def _run_backward(outputs, grad_outputs, inputs, create_graph, retain_graph):
    roots = [y.grad_fn for y in outputs if y.grad_fn is not None]
    order = _topological_order(roots)

    if inputs is None:
        def wanted(x):
            return x.requires_grad
    else:
        # Only go down paths that lead to a requested input.
        targets = {id(x) for x in inputs}
        useful = set()
        for fn in reversed(order):
            if any(id(x) in targets or x.grad_fn in useful for x in fn.inputs):
                useful.add(fn)

        def wanted(x):
            return id(x) in targets or x.grad_fn in useful

    node_grads = {}  # Function -> gradient of its output
    leaf_grads = {}  # id(leaf tensor) -> gradient
    target_grads = {}  # id(requested non-leaf tensor) -> gradient
    leaves = {}
    for y, gy in zip(outputs, grad_outputs):
        if y.grad_fn is not None:
            _accumulate(node_grads, y.grad_fn, gy)
        elif inputs is None or id(y) in targets:  # an output that is itself a leaf
            _accumulate(leaf_grads, id(y), gy)
            leaves[id(y)] = y

    with set_grad_enabled(create_graph):
        for fn in order:
            gy = node_grads.pop(fn, None)
            if gy is None:
                continue
            if inputs is not None:
                out = fn._output_ref()
                if out is not None and id(out) in targets:
                    _accumulate(target_grads, id(out), gy)
            needed = tuple(need and wanted(x) for need, x in zip(fn.needs_input_grad, fn.inputs))
            if any(needed):
                saved_mask, fn.needs_input_grad = fn.needs_input_grad, needed
                if profiler._active is None:
                    gxs = fn.backward(gy)
                else:
                    with profiler._active.region(type(fn).__name__, "backward"):
                        gxs = fn.backward(gy)
                fn.needs_input_grad = saved_mask
                if len(gxs) != len(fn.inputs):
                    raise RuntimeError(f"{fn!r}.backward returned {len(gxs)} gradients for {len(fn.inputs)} inputs")
                for x, gx, need in zip(fn.inputs, gxs, needed):
                    if not need or gx is None:
                        continue
                    if gx.shape != x.shape:
                        raise RuntimeError(f"{fn!r}.backward gave a gradient of shape {gx.shape} for an input of shape {x.shape}")
                    if x.grad_fn is not None:
                        _accumulate(node_grads, x.grad_fn, gx)
                    else:
                        _accumulate(leaf_grads, id(x), gx)
                        leaves[id(x)] = x
            if not retain_graph:
                fn.release()

    if inputs is None:
        for key, g in leaf_grads.items():
            x = leaves[key]
            if not create_graph:
                g = g.detach()
            x.grad = g if x.grad is None else x.grad + g
        return None
    return tuple(leaf_grads.get(id(x), target_grads.get(id(x))) for x in inputs)


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, like ``torch.autograd.grad``.

    Returns a tuple with one Tensor per input. With ``create_graph=True`` the returned
    gradients are differentiable (this is how gradient penalties are built).
    """
    from .tensor import Tensor, ones_like

    single = isinstance(outputs, Tensor)
    outputs = [outputs] if single else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad_outputs: expected {len(outputs)} tensors (one per output), got {len(grad_outputs)}")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] (shape {x.shape}) does not require grad")
    gys = []
    for i, (y, gy) in enumerate(zip(outputs, grad_outputs)):
        if not y.requires_grad:
            raise RuntimeError(f"grad: outputs[{i}] (shape {y.shape}) does not require grad and has no graph")
        gys.append(_check_grad_output(y, gy, f"grad_outputs[{i}]"))
    if retain_graph is None:
        retain_graph = create_graph
    grads = run_backward(outputs, gys, inputs=inputs, create_graph=create_graph, retain_graph=retain_graph)
    result = []
    for i, (x, g) in enumerate(zip(inputs, grads)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{i}] (shape {x.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        if g is not None and not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


def _check_grad_output(y, gy, name):
    from .tensor import Tensor, ones_like

    if gy is None:
        if y.numel() != 1:
            raise RuntimeError(
                f"{name}: the output has shape {y.shape}, so a gradient must be given; "
                "gradients can be implied only for outputs with one element"
            )
        return ones_like(y)
    if not isinstance(gy, Tensor):
        gy = Tensor._make(y.xp.asarray(gy, dtype=y.dtype), requires_grad=False)
    if gy.shape != y.shape:
        raise RuntimeError(f"{name}: expected a gradient of shape {y.shape}, got {gy.shape}")
    if gy.dtype != y.dtype:
        raise TypeError(f"{name}: expected dtype {y.dtype}, got {gy.dtype}")
    return gy
