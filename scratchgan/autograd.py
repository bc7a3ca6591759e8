"""Reverse-mode automatic differentiation: the graph node and the one backward loop.

Every op is a ``Function``. ``forward`` works on raw arrays; ``backward`` receives the
gradient of the output as a Tensor and returns the input gradients as Tensors built from
other differentiable ops. So when the backward loop runs with recording switched on
(``create_graph=True``), the gradients are themselves part of a new graph, and second
derivatives come from the same loop: there is no second engine. Ops may also offer a kernel
forward and closed-form array backwards; this module alone decides which one runs (see
``Function``), so no op asks about grad mode or devices."""

import contextlib
import weakref

from . import cuda, profiler
from .grad_hooks import (  # noqa: F401 (public names)
    _final_callbacks,
    _post_accumulate_hooks,
    queue_callback,
    register_post_accumulate_grad_hook,
)

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
    """A node of the graph with one output. Autograd, not the op, decides which method runs.

    The protocol a subclass implements:

    ``forward(*arrays) -> array``
        The op on raw arrays, written once against ``self.xp`` (NumPy or CuPy).
    ``forward_kernel(*arrays) -> array`` (optional)
        Used instead of ``forward`` when the first input is on a kernel device
        (``cuda.uses_kernels``: a CuPy array, or a NumPy array inside ``cuda.emulate()``);
        ``self.on_kernels`` then says so to the methods below.
    ``backward(gy, needs_input_grad) -> tuple``
        One Tensor (or None) per input, built from differentiable ops, so that a recorded
        backward (``create_graph=True``) gives every higher derivative.
    ``backward_fused(gy, needs_input_grad) -> tuple`` (optional)
        The same gradients as arrays (or None), in closed form, used when no graph is recorded.
        ``backward_fused_kernel`` (optional) is its variant for nodes that ran ``forward_kernel``.
    ``composite(*tensors) -> Tensor`` (optional)
        For an op that is a node only where it has kernels: off kernel devices ``apply``
        returns this composition of differentiable ops instead (no node, no ``forward``).

    ``needs_input_grad[i]`` tells every method whether input i's gradient is wanted; the
    backward methods get the mask as an argument (a subset of the one forward saw).

    What backward reads is declared, so that a node holds nothing else: ``saves_inputs``
    (True for all, or a tuple of input indices; ``self.inputs`` has None for the others)
    and ``saves_output`` (whether ``self.output`` is read). ``self.input_shapes`` is always
    kept. Arrays that only backward needs are kept as attributes by forward.
    """

    saves_inputs = True
    saves_output = False
    forward_kernel = None
    backward_fused = None
    backward_fused_kernel = None
    composite = None

    inputs = None
    needs_input_grad = ()
    on_kernels = False
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
                    f"{type(self).__name__}: input {i} is on {x.device} but input 0 is on "
                    f"{device}; move them with .to(device) first (nothing is moved implicitly)"
                )
        arrays = [x._data for x in xs]
        on_kernels = self.forward_kernel is not None and cuda.uses_kernels(arrays[0])
        if self.composite is not None and not on_kernels:
            return self.composite(*xs)
        record = _grad_enabled and any(x.requires_grad for x in xs)
        self.needs_input_grad = tuple(record and x.requires_grad for x in xs)
        self.xp = xs[0].xp
        self.on_kernels = on_kernels
        y = self.forward_kernel(*arrays) if on_kernels else self.forward(*arrays)
        out = Tensor._make(y, requires_grad=record)
        if record:
            self._record(xs, out)
        return out

    def _record(self, xs, out):
        keep = self.saves_inputs
        self.inputs = xs if keep is True else tuple(x if i in keep else None
                                                    for i, x in enumerate(xs))
        self.input_shapes = tuple(x.shape for x in xs)
        # where each input's gradient goes: the node that made it, the leaf itself, or nowhere
        self._edges = tuple(
            x.grad_fn if x.grad_fn is not None else (x if x.requires_grad else None) for x in xs)
        self._output_ref = weakref.ref(out)
        if self.saves_output:
            self._output_data = out._data
        out.grad_fn = self

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, gy, needs_input_grad):
        raise NotImplementedError

    @property
    def output(self):
        """The output Tensor, for backward formulas that reuse it (e.g. sigmoid, exp); needs
        ``saves_output``."""
        out = self._output_ref()
        if out is None:
            if not self.saves_output:
                raise RuntimeError(
                    f"{self!r}: its backward reads the output, so its class must set saves_output")
            from .tensor import Tensor

            # Its consumers kept only what their backward needs, so the Tensor was dropped; this
            # node made it and makes it again from the saved array (a graph through it is whole).
            out = Tensor._make(self._output_data, requires_grad=True)
            out.grad_fn = self
            self._output_ref = weakref.ref(out)
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
        for edge in fn._edges:
            if isinstance(edge, Function) and edge not in visited:
                stack.append((edge, False))
    order.reverse()
    return order


def _accumulate(store, key, value):
    store[key] = value if key not in store else store[key] + value


# ----- post-accumulate-grad hooks and end-of-backward callbacks (distributed training) -----
# (the registries live in grad_hooks.py; run_backward fires them)


def _leaf_uses(order, wanted):
    """id(leaf) -> how many input slots of this backward's nodes may send the leaf a gradient;
    the leaf's gradient is complete once all of those nodes have been processed."""
    uses = {}
    for fn in order:
        for need, edge in zip(fn.needs_input_grad, fn._edges):
            if need and edge is not None and not isinstance(edge, Function) and wanted(edge):
                uses[id(edge)] = uses.get(id(edge), 0) + 1
    return uses


def _write_leaf_grad(x, g, create_graph):
    if not create_graph:
        g = g.detach()
    x.grad = g if x.grad is None else x.grad + g
    entry = _post_accumulate_hooks.get(id(x))
    if entry is not None:
        for hook in list(entry[1]):
            hook(x)


def _leaves_done(fn, uses, leaf_grads, leaves, create_graph):
    """After ``fn`` is processed (or skipped): write .grad of each leaf whose last node it was."""
    for need, edge in zip(fn.needs_input_grad, fn._edges):
        key = id(edge)
        if need and key in uses:
            uses[key] -= 1
            if uses[key] == 0 and key in leaf_grads:
                _write_leaf_grad(leaves[key], leaf_grads.pop(key), create_graph)
# ----- end of post-accumulate-grad hooks -----


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

    # An edge is the node that made an input (one output per node, so the node names the
    # tensor), the leaf tensor itself, or None for an input that needs no gradient.
    if inputs is None:
        def wanted(edge):  # a leaf may have stopped requiring grad since the forward
            return isinstance(edge, Function) or (edge is not None and edge.requires_grad)
    else:
        # Only go down paths that lead to a requested input.
        target_leaves = {id(x) for x in inputs if x.grad_fn is None}
        target_nodes = {x.grad_fn for x in inputs if x.grad_fn is not None}
        useful = set()
        for fn in reversed(order):
            edges = [e for e in fn._edges if e is not None]
            if any(e in target_nodes or e in useful or id(e) in target_leaves for e in edges):
                useful.add(fn)

        def wanted(edge):
            if isinstance(edge, Function):
                return edge in target_nodes or edge in useful
            return edge is not None and id(edge) in target_leaves

    node_grads = {}  # Function -> gradient of its output
    leaf_grads = {}  # id(leaf tensor) -> gradient
    target_grads = {}  # Function making a requested non-leaf tensor -> that tensor's gradient
    leaves = {}
    for y, gy in zip(outputs, grad_outputs):
        if y.grad_fn is not None:
            _accumulate(node_grads, y.grad_fn, gy)
        elif inputs is None or id(y) in target_leaves:  # an output that is itself a leaf
            _accumulate(leaf_grads, id(y), gy)
            leaves[id(y)] = y

    if inputs is not None:
        _backward_loop(order, node_grads, leaf_grads, target_grads, leaves, inputs, target_nodes,
                       wanted, None, create_graph, retain_graph)
        return tuple(leaf_grads.get(id(x)) if x.grad_fn is None else target_grads.get(x.grad_fn)
                     for x in inputs)
    # each leaf's .grad is written (and its post-accumulate hooks run) once its last node is done
    uses = _leaf_uses(order, wanted)
    try:
        _backward_loop(order, node_grads, leaf_grads, target_grads, leaves, inputs, None,
                       wanted, uses, create_graph, retain_graph)
        for key, g in list(leaf_grads.items()):  # leaves that were outputs themselves
            _write_leaf_grad(leaves[key], g, create_graph)
        while _final_callbacks:
            _final_callbacks.pop(0)()
    finally:
        _final_callbacks.clear()
    return None


def _backward_loop(order, node_grads, leaf_grads, target_grads, leaves, inputs, target_nodes,
                   wanted, uses, create_graph, retain_graph):
    with set_grad_enabled(create_graph):
        for fn in order:
            gy = node_grads.pop(fn, None)
            if gy is None:
                if uses is not None:
                    _leaves_done(fn, uses, leaf_grads, leaves, create_graph)
                continue
            if inputs is not None and fn in target_nodes:
                _accumulate(target_grads, fn, gy)
            needed = tuple(need and wanted(e) for need, e in zip(fn.needs_input_grad, fn._edges))
            if any(needed):
                if profiler._active is None:
                    gxs = _node_backward(fn, gy, needed, create_graph)
                else:
                    with profiler._active.region(type(fn).__name__, "backward"):
                        gxs = _node_backward(fn, gy, needed, create_graph)
                if len(gxs) != len(fn._edges):
                    raise RuntimeError(f"{fn!r}.backward returned {len(gxs)} gradients for "
                                       f"{len(fn._edges)} inputs")
                for edge, shape, gx, need in zip(fn._edges, fn.input_shapes, gxs, needed):
                    if not need or gx is None:
                        continue
                    if gx.shape != shape:
                        raise RuntimeError(f"{fn!r}.backward gave a gradient of shape {gx.shape} "
                                           f"for an input of shape {shape}")
                    if isinstance(edge, Function):
                        _accumulate(node_grads, edge, gx)
                    else:
                        _accumulate(leaf_grads, id(edge), gx)
                        leaves[id(edge)] = edge
            if uses is not None:
                _leaves_done(fn, uses, leaf_grads, leaves, create_graph)
            if not retain_graph:
                fn.release()


def _node_backward(fn, gy, needs_input_grad, create_graph):
    """fn's input gradients as Tensors: its closed-form array backward (the kernel one if its
    forward ran kernels) when no graph is recorded and it has one, else its differentiable one."""
    from .tensor import Tensor

    if not create_graph:
        fused = fn.backward_fused_kernel if fn.on_kernels else None
        fused = fused if fused is not None else fn.backward_fused
        if fused is not None:
            grads = fused(gy._data, needs_input_grad)
            return tuple(None if g is None else Tensor._make(g) for g in grads)
    return fn.backward(gy, needs_input_grad)


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, like ``torch.autograd.grad``.

    Returns a tuple with one Tensor per input. With ``create_graph=True`` the returned
    gradients are differentiable (this is how gradient penalties are built).
    """
    from .tensor import Tensor

    single = isinstance(outputs, Tensor)
    outputs = [outputs] if single else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad_outputs: expected {len(outputs)} tensors (one per output), "
                         f"got {len(grad_outputs)}")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] (shape {x.shape}) does not require grad")
    gys = []
    for i, (y, gy) in enumerate(zip(outputs, grad_outputs)):
        if not y.requires_grad:
            raise RuntimeError(
                f"grad: outputs[{i}] (shape {y.shape}) does not require grad and has no graph")
        gys.append(_check_grad_output(y, gy, f"grad_outputs[{i}]"))
    if retain_graph is None:
        retain_graph = create_graph
    grads = run_backward(outputs, gys, inputs=inputs, create_graph=create_graph,
                         retain_graph=retain_graph)
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
