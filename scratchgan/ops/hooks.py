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

    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


def clone(x):
    return Clone().apply(x)


def register_hook(tensor, hook):
    """Call ``hook(grad)`` with the gradient of ``tensor`` whenever backward computes it.

    On a tensor made by an op, the tensor's node is put behind a GradHook node, so every
    consumer's gradient passes through the hooks before reaching the op that made the tensor.
    On a leaf (a parameter or an input), backward calls the hooks with the leaf's whole
    gradient before storing it in ``.grad`` (or returning it from ``sg.grad``).
    """
    if not tensor.requires_grad:
        raise RuntimeError(
            "register_hook: cannot register a hook on a tensor that doesn't require gradient"
        )
    if tensor.grad_fn is None:
        if tensor._hooks is None:
            tensor._hooks = {}
        key = max(tensor._hooks, default=-1) + 1
        tensor._hooks[key] = hook
        return RemovableHandle(tensor._hooks, key)
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
    return RemovableHandle(node.hooks, key)
