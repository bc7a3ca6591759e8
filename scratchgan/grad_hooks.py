"""Post-accumulate-grad hooks and end-of-backward callbacks: the registries that
``autograd.run_backward`` fires (it runs a leaf's hooks once the leaf's ``.grad`` is complete
for that backward, and the callbacks after every ``.grad`` is written). Data-parallel training
(scratchgan.distributed) uses them to start each gradient bucket's allreduce during backward."""

import weakref

_post_accumulate_hooks = {}  # id(leaf) -> (weakref to the leaf, [hook, ...])
_final_callbacks = []  # run once when the current backward has written every .grad


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def register_post_accumulate_grad_hook(leaf, hook):
    """``hook(leaf)`` runs when a backward has finished accumulating into ``leaf.grad`` (as
    ``torch.Tensor.register_post_accumulate_grad_hook``); returns a handle with ``remove()``."""
    if leaf.grad_fn is not None:
        raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors accumulate .grad")
    key = id(leaf)
    if key not in _post_accumulate_hooks:
        ref = weakref.ref(leaf, lambda _ref, hooks=_post_accumulate_hooks: hooks.pop(key, None))
        _post_accumulate_hooks[key] = (ref, [])
    hooks = _post_accumulate_hooks[key][1]
    hooks.append(hook)
    return _HookHandle(hooks, hook)


def queue_callback(callback):
    """Run ``callback()`` at the end of the backward now running, after every ``.grad`` is
    written (as torch's ``Variable._execution_engine.queue_callback``)."""
    _final_callbacks.append(callback)
