"""The one backward loop, shared by ``Tensor.backward``, ``sg.grad`` and ``sg.autograd.backward``.

It walks the graph from the outputs in topological order, asks each node for its input
gradients (``_node_backward`` picks the fused or the differentiable backward), accumulates them,
writes each leaf's ``.grad`` as soon as its last node is done (so data-parallel training can
start reducing it), and with ``create_graph=True`` records all of that as a new graph.
"""

import numpy as np

from . import node_tags, profiler, versions
from .backend import device_context
from .function import Function, _tensor_class
from .grad_hooks import _final_callbacks, _post_accumulate_hooks
from .grad_mode import set_grad_enabled


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


def _leaves_done(fn, uses, state, create_graph):
    """After ``fn`` is processed (or skipped): write .grad of each leaf whose last node it was."""
    for need, edge in zip(fn.needs_input_grad, fn._edges):
        key = id(edge)
        if need and key in uses:
            uses[key] -= 1
            if uses[key] == 0:
                state.finish_leaf(key, create_graph)


# ----- end of post-accumulate-grad hooks -----


def run_backward(outputs, grad_outputs, inputs=None, create_graph=False, retain_graph=False):
    """The backward loop shared by ``Tensor.backward`` and ``grad``.

    With ``inputs=None`` the gradients are accumulated into the ``.grad`` of every leaf that
    requires grad; otherwise they are returned, one per input, and ``.grad`` is untouched.
    """
    with profiler.region("autograd engine", "backward"), node_tags.recording_backward(create_graph):
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

    state = _Pass()
    for y, gy in zip(outputs, grad_outputs):
        if y.grad_fn is not None:
            _accumulate(state.node_grads, y.grad_fn, gy)
        elif inputs is None or id(y) in target_leaves:  # an output that is itself a leaf
            _accumulate(state.leaf_grads, id(y), gy)
            state.leaves[id(y)] = y

    if inputs is not None:
        _backward_loop(order, state, inputs, target_nodes, wanted, None, create_graph, retain_graph)
        for key in state.zero_reached.difference(state.leaf_grads):
            if not isinstance(key, Function):
                state.leaf_grads[key] = _zeros_like(state.leaves[key])
        for key, x in state.leaves.items():  # hooks see a leaf's whole gradient
            if x._hooks and key in state.leaf_grads:
                state.leaf_grads[key] = versions.run_leaf_hooks(x, state.leaf_grads[key])
        for x in inputs:
            if x.grad_fn in state.zero_reached and x.grad_fn not in state.target_grads:
                state.target_grads[x.grad_fn] = _zeros_like(x)
        return tuple(
            state.leaf_grads.get(id(x)) if x.grad_fn is None else state.target_grads.get(x.grad_fn)
            for x in inputs
        )
    # each leaf's .grad is written (and its post-accumulate hooks run) once its last node is done
    uses = _leaf_uses(order, wanted)
    try:
        _backward_loop(order, state, inputs, None, wanted, uses, create_graph, retain_graph)
        for key in list(state.leaf_grads):  # leaves that were outputs themselves
            state.finish_leaf(key, create_graph)
        while _final_callbacks:
            _final_callbacks.pop(0)()
    finally:
        _final_callbacks.clear()
    return None


class _Pass:
    """What one backward pass accumulates."""

    def __init__(self):
        self.node_grads = {}  # Function -> gradient of its output
        self.leaf_grads = {}  # id(leaf tensor) -> gradient
        self.target_grads = {}  # Function making a requested non-leaf tensor -> its gradient
        self.leaves = {}  # id(leaf tensor) -> the tensor
        # Nodes and id(leaf) whose gradient is structurally zero (a backward gave None for
        # them): like PyTorch, a leaf reached only that way gets zeros, not None.
        self.zero_reached = set()

    def reach_with_zero(self, edge):
        if isinstance(edge, Function):
            self.zero_reached.add(edge)
        else:
            self.zero_reached.add(id(edge))
            self.leaves[id(edge)] = edge

    def finish_leaf(self, key, create_graph):
        """The leaf's gradient of this pass is complete: hooks, then .grad, then its
        post-accumulate hooks."""
        if key in self.leaf_grads:
            g = self.leaf_grads.pop(key)
        elif key in self.zero_reached:
            g = _zeros_like(self.leaves[key])
        else:
            return
        x = self.leaves[key]
        if x._hooks:
            g = versions.run_leaf_hooks(x, g)
        _write_leaf_grad(x, g, create_graph)


def _backward_loop(order, state, inputs, target_nodes, wanted, uses, create_graph, retain_graph):
    with set_grad_enabled(create_graph):
        for fn in order:
            gy = state.node_grads.pop(fn, None)
            if gy is None:
                if fn in state.zero_reached:
                    for need, edge in zip(fn.needs_input_grad, fn._edges):
                        if need and wanted(edge):
                            state.reach_with_zero(edge)
                if uses is not None:
                    _leaves_done(fn, uses, state, create_graph)
                continue
            if inputs is not None and fn in target_nodes:
                _accumulate(state.target_grads, fn, gy)
            needed = tuple([need and wanted(e) for need, e in zip(fn.needs_input_grad, fn._edges)])
            if True in needed:
                fn.check_saved_versions()
                if profiler._active is None:
                    gxs = _node_backward(fn, gy, needed, create_graph)
                else:
                    with profiler._active.region(type(fn).__name__, "backward"):
                        gxs = _node_backward(fn, gy, needed, create_graph)
                if len(gxs) != len(fn._edges):
                    raise RuntimeError(
                        f"{fn!r}.backward returned {len(gxs)} gradients for {len(fn._edges)} inputs"
                    )
                for edge, shape, gx, need in zip(fn._edges, fn.input_shapes, gxs, needed):
                    if not need:
                        continue
                    if gx is None:
                        state.reach_with_zero(edge)
                        continue
                    if gx.shape != shape:
                        raise RuntimeError(
                            f"{fn!r}.backward gave a gradient of shape {gx.shape} "
                            f"for an input of shape {shape}"
                        )
                    if isinstance(edge, Function):
                        _accumulate(state.node_grads, edge, gx)
                    else:
                        _accumulate(state.leaf_grads, id(edge), gx)
                        state.leaves[id(edge)] = edge
            if uses is not None:
                _leaves_done(fn, uses, state, create_graph)
            if not retain_graph:
                fn.release()


def _zeros_like(x):
    from .tensor import Tensor

    return Tensor._make(x.xp.zeros(x.shape, dtype=x.dtype))


def _node_backward(fn, gy, needs_input_grad, create_graph):
    if type(gy._data) is np.ndarray:  # the CPU: no device to enter
        return _node_backward_here(fn, gy, needs_input_grad, create_graph)
    with device_context(gy._data):  # a backward runs on its arrays' GPU, as the forward did
        return _node_backward_here(fn, gy, needs_input_grad, create_graph)


def _node_backward_here(fn, gy, needs_input_grad, create_graph):
    """fn's input gradients as Tensors: its closed-form array backward (the kernel one if its
    forward ran kernels) when no graph is recorded and it has one, else its differentiable one."""
    if not create_graph:
        fused = fn.backward_fused_kernel if fn.on_kernels else None
        fused = fused if fused is not None else fn.backward_fused
        if fused is not None:
            make = _tensor_class()._make
            grads = fused(gy._data, needs_input_grad)
            return tuple([None if g is None else make(g) for g in grads])
    return fn.backward(gy, needs_input_grad)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    create_graph=False,
    retain_graph=None,
    allow_unused=False,
    only_inputs=True,
):
    """Gradients of ``outputs`` with respect to ``inputs``, like ``torch.autograd.grad``.

    Returns a tuple with one Tensor per input. With ``create_graph=True`` the returned
    gradients are differentiable (this is how gradient penalties are built). ``only_inputs``
    is accepted and ignored, as torch (which deprecated it) does.
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
        raise ValueError(
            f"grad_outputs: expected {len(outputs)} tensors (one per output), "
            f"got {len(grad_outputs)}"
        )
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] (shape {x.shape}) does not require grad")
    gys = []
    for i, (y, gy) in enumerate(zip(outputs, grad_outputs)):
        if not y.requires_grad:
            raise RuntimeError(
                f"grad: outputs[{i}] (shape {y.shape}) does not require grad and has no graph"
            )
        gys.append(_check_grad_output(y, gy, f"grad_outputs[{i}]"))
    if retain_graph is None:
        retain_graph = create_graph
    grads = run_backward(
        outputs, gys, inputs=inputs, create_graph=create_graph, retain_graph=retain_graph
    )
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
