"""Reverse-mode automatic differentiation: the graph node and the one backward loop.

Every op is a ``Function``. ``forward`` works on raw arrays; ``backward`` receives the
gradient of the output as a Tensor and returns the input gradients as Tensors built from
other differentiable ops. So when the backward loop runs with recording switched on
(``create_graph=True``), the gradients are themselves part of a new graph, and second
derivatives come from the same loop: there is no second engine. Ops may also offer a kernel
forward and closed-form array backwards; autograd alone decides which one runs (see
``Function``), so no op asks about grad mode or devices.

The parts live in three small modules, re-exported here: grad_mode.py (whether ops record),
function.py (the node and its protocol) and engine.py (the backward loop and ``grad``).
"""

# ruff: noqa: F401 (this module is the public face of the three)
from .engine import _check_grad_output, grad, run_backward
from .function import Function
from .grad_hooks import queue_callback, register_post_accumulate_grad_hook
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
