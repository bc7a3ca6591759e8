"""Identity nodes: ``clone`` (a copy in the graph) and gradient hooks (``Tensor.register_hook``).

Both are y = x with gx = gy; a hook node calls its hooks on gy first, and a hook's return
value (if not None) replaces the gradient, as in PyTorch.
"""

import weakref

from ..autograd import Function, enable_grad
from ..tensor import Tensor


class Clone(Function):
    """y = copy of x;  gx = gy."""

    saves_inputs = ()

    def forward(self, x):
        return x.copy()

    def backward(self, gy, needs_input_grad):
        return (gy,)


class GradHook(Function):
    """y = x;  gx = hook_k(... hook_1(gy)), the hooks in registration order."""

    saves_inputs = ()

    def __init__(self):
        self.hooks = {}
        self.next_key = 0

    def forward(self, x):
        return x

    def backward(self, gy, needs_input_grad):
        for hook in list(self.hooks.values()):
            result = hook(gy)
            if result is not None:
                if not isinstance(result, Tensor) or result.shape != gy.shape:
                    raise RuntimeError(
                        f"register_hook: a hook returned {type(result).__name__} "
                        f"{getattr(result, 'shape', '')}; expected None or a Tensor of shape "
                        f"{gy.shape}"
                    )
                gy = result
        return (gy,)


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, node, key):
        self.node, self.key = node, key

    def remove(self):
        self.node.__dict__.get("hooks", {}).pop(self.key, None)  # a released node has no hooks left


def clone(x):
    return Clone().apply(x)


def register_hook(tensor, hook):
    """Call ``hook(grad)`` with the gradient of ``tensor`` whenever backward computes it.

    Works on tensors made by an op: the tensor's node is put behind a GradHook node, so every
    consumer's gradient passes through the hooks before reaching the op that made the tensor.
    """
    if not tensor.requires_grad:
        raise RuntimeError(
            "register_hook: cannot register a hook on a tensor that doesn't require gradient"
        )
    if tensor.grad_fn is None:
        raise NotImplementedError(
            "register_hook on a leaf tensor (a parameter or an input) is not supported yet; "
            "register it on a tensor computed from it (e.g. y = x * 1; y.register_hook(...)) or "
            "read x.grad after backward"
        )
    node = tensor.grad_fn
    if not isinstance(node, GradHook):
        shadow = Tensor._make(tensor._data, requires_grad=True)
        shadow.grad_fn = node
        node = GradHook()
        with enable_grad():
            node.apply(shadow)
        # The hook node now stands for ``tensor`` itself (sg.grad looks up outputs by this ref).
        node._output_ref = weakref.ref(tensor)
        tensor.grad_fn = node
    key = node.next_key
    node.next_key += 1
    node.hooks[key] = hook
    return RemovableHandle(node, key)
