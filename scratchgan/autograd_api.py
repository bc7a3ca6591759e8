"""``sg.autograd.backward`` (``torch.autograd.backward``), added to ``scratchgan.autograd``.

``sg.autograd.grad`` is ``scratchgan.autograd.grad`` itself; this module supplies the one
``torch.autograd`` function that autograd.py does not define (``scratchgan/__init__.py``
attaches it there unless autograd.py comes to define its own).
"""

from . import autograd
from .tensor import Tensor


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(sum_i <tensors_i, grad_tensors_i>)/d(leaf) into every leaf's ``.grad``.

    One backward pass for all of ``tensors`` (shared parts of the graph are walked once).
    """
    if inputs is not None:
        raise NotImplementedError(
            "sg.autograd.backward(inputs=...) is not supported; use sg.autograd.grad(outputs, "
            "inputs) and assign the results to .grad"
        )
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors) if grad_tensors is None else [grad_tensors]
    if len(grad_tensors) != len(tensors):
        raise ValueError(
            f"backward: got {len(grad_tensors)} grad_tensors for {len(tensors)} tensors"
        )
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(
                f"backward: tensors[{i}] (shape {t.shape}) does not require grad and has no graph"
            )
    gys = [
        autograd._check_grad_output(t, g, f"backward: grad_tensors[{i}]")
        for i, (t, g) in enumerate(zip(tensors, grad_tensors))
    ]
    if retain_graph is None:
        retain_graph = create_graph
    autograd.run_backward(tensors, gys, create_graph=create_graph, retain_graph=retain_graph)
