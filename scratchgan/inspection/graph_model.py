"""The autograd graph behind some outputs, as plain records the page draws.

Walking from each output's ``grad_fn`` through the nodes' ``_edges`` gives op nodes (Functions)
and leaf tensors. Each op node carries what autograd tagged it with at forward time (autograd.py,
node_tags.py): ``impl`` (which code ran it), ``scope`` (the modules it was made in) and
``second_order`` (made by a ``create_graph=True`` backward); and what it saved for backward
(``saves_inputs``, ``saves_output`` and the arrays it holds).
"""

import numpy as np

from ..autograd import Function
from ..nn.module import Module
from ..tensor import Tensor

# attributes of a node that are bookkeeping, not saved values
_BOOKKEEPING = {
    "inputs",
    "_edges",
    "_output_ref",
    "_output_data",
    "xp",
    "input_shapes",
    "needs_input_grad",
    "on_kernels",
    "impl",
    "scope",
    "second_order",
}
MATMUL_OPS = ("MatMul", "Matmul", "Linear", "Conv", "Bmm", "Addmm", "Dot", "Einsum")


def implementation_label(node):
    """Which implementation ran the node, in words: NumPy; CuPy (cuBLAS for products on a GPU);
    our CUDA kernel; the emulated kernel; with the kernels' names."""
    impl = getattr(node, "impl", "numpy")
    kind, _, kernels = impl.partition(":")
    product = any(m in type(node).__name__ for m in MATMUL_OPS)  # its GEMM is the library's
    if kind == "kernel":
        return f"CUDA kernel ({kernels or 'no launch'})" + (" + cuBLAS" if product else "")
    if kind == "emulated":
        return f"emulated CUDA kernel ({kernels or 'no launch'})" + (" + NumPy" if product else "")
    if kind == "cupy":
        return "CuPy (cuBLAS)" if product else "CuPy"
    return "NumPy"


def _array_facts(a):
    return {"shape": list(a.shape), "dtype": str(a.dtype), "bytes": int(a.nbytes)}


def saved_for_backward(node):
    """[(what, facts)] for what ``node`` keeps for its backward: inputs, output, arrays."""
    saved = []
    for i, x in enumerate(node.inputs or ()):
        if x is not None:
            saved.append((f"input {i}", _array_facts(x._data)))
    if getattr(node, "saves_output", False) and "_output_data" in node.__dict__:
        saved.append(("output", _array_facts(node._output_data)))
    for name, value in vars(node).items():
        if name in _BOOKKEEPING:
            continue
        if isinstance(value, Tensor):
            value = value._data
        if hasattr(value, "nbytes") and hasattr(value, "shape") and hasattr(value, "dtype"):
            saved.append((name, _array_facts(value)))
    return saved


def gradient_stats(t):
    """norm, mean, std, max |g| of ``t.grad`` (None without one)."""
    if t.grad is None:
        return None
    g = t.grad.numpy().astype(np.float64)
    return {
        "norm": float(np.sqrt((g * g).sum())),
        "mean": float(g.mean()),
        "std": float(g.std()),
        "max_abs": float(np.abs(g).max()) if g.size else 0.0,
    }


def parameter_names(params):
    """{id(tensor): name} and {id(module): name} from a Module, a dict of name -> Tensor or
    Module (e.g. a model's ``modules()``), or (name, tensor) pairs (``named_parameters()``)."""
    tensors, modules = {}, {}
    if params is None:
        return tensors, modules
    if isinstance(params, Module):
        params = {"": params}
    items = params.items() if isinstance(params, dict) else params
    for name, value in items:
        if isinstance(value, Module):
            for sub, m in value.named_modules():
                modules.setdefault(id(m), ".".join(p for p in (name, sub) if p) or type(m).__name__)
            for sub, p in value.named_parameters():
                tensors[id(p)] = ".".join(q for q in (name, sub) if q)
        else:
            tensors[id(value)] = name
    return tensors, modules


class Graph:
    """The records of the graph behind ``outputs``: ``nodes`` (id -> facts), ``edges``
    (tail id, head id) in data-flow direction, and ``scopes`` (node id -> module path)."""

    def __init__(self, outputs, params=None):
        self.param_names, self.module_names = parameter_names(params)
        self.nodes, self.edges, self.scopes = {}, [], {}
        self._ids, self._child_names = {}, {}
        self._walk([y for y in outputs if isinstance(y, Tensor)])

    def _id(self, obj):
        key = id(obj)
        if key not in self._ids:
            self._ids[key] = f"n{len(self._ids)}"
        return self._ids[key]

    def _walk(self, outputs):
        shapes, stack, seen = {}, [], set()
        for k, y in enumerate(outputs):
            out_id = f"out{k}"
            self.nodes[out_id] = {"kind": "output", "label": f"output {k}", **self._tensor(y)}
            src = y.grad_fn if y.grad_fn is not None else y
            self.edges.append((self._id(src), out_id))
            stack.append(src)
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, Tensor):
                self.nodes[self._id(obj)] = self._leaf(obj)
                continue
            if obj.released:
                raise RuntimeError(
                    "graph: part of this graph was freed by a backward; draw it "
                    "before backward, or pass retain_graph=True to the backward"
                )
            for edge, shape in zip(obj._edges, obj.input_shapes):
                if edge is None:
                    continue
                if isinstance(edge, Function):
                    shapes[id(edge)] = shape
                self.edges.append((self._id(edge), self._id(obj)))
                stack.append(edge)
            self.nodes[self._id(obj)] = self._op(obj)
            self.scopes[self._id(obj)] = self._scope_path(obj)
        for obj_id, shape in shapes.items():  # outputs that died: their consumers know the shape
            node = self.nodes[self._ids[obj_id]]
            if node.get("shape") is None:
                node["shape"] = list(shape)

    def _tensor(self, t):
        return {"shape": list(t.shape), "dtype": str(t.dtype), "device": str(t.device)}

    def _leaf(self, t):
        name = self.param_names.get(id(t))
        facts = {
            "kind": "parameter" if name else "leaf",
            "label": name or "tensor",
            **self._tensor(t),
            "grad": gradient_stats(t),
        }
        if name:
            facts["name"] = name
        return facts

    def _op(self, node):
        out = node._output_ref() if "_output_ref" in vars(node) else None
        facts = {
            "kind": "op",
            "label": type(node).__name__,
            "impl": implementation_label(node),
            "second_order": bool(getattr(node, "second_order", False)),
            "saved": [{"what": w, **f} for w, f in saved_for_backward(node)],
            "needs_input_grad": list(node.needs_input_grad),
        }
        if out is not None:
            facts.update(self._tensor(out))
        else:
            first = next((x for x in node.inputs or () if x is not None), None)
            facts.update(
                {
                    "shape": None,
                    "dtype": str(first.dtype) if first is not None else "?",
                    "device": "cuda" if node.xp.__name__.startswith("cupy") else "cpu",
                }
            )
        return facts

    def _scope_path(self, node):
        """The dotted names of the modules the node was made in, outermost first."""
        scope = getattr(node, "scope", ())
        path, parent = [], None
        for m in scope:
            name = self.module_names.get(id(m))
            if name is None:
                child = self._child_name(parent, m) if parent is not None else None
                name = f"{path[-1]}.{child}" if child and path else type(m).__name__
            path.append(name)
            parent = m
        return [(name, type(m).__name__) for name, m in zip(path, scope)]

    def _child_name(self, parent, child):
        key = (id(parent), id(child))
        if key not in self._child_names:
            names = [n for n, m in parent._modules.items() if m is child]
            self._child_names[key] = names[0] if names else None
        return self._child_names[key]
