"""What autograd tags each recorded node with, for the graph viewer and training telemetry.

``module_stack``: the nn.Modules whose forward is running, outermost first (``Module.__call__``
pushes and pops); a node recorded inside keeps the tuple as its ``scope``.
``second_order``: true while a backward with ``create_graph=True`` runs, so the nodes it records
(the graph of the gradients, e.g. WGAN-GP's penalty) carry ``second_order = True``.
``forward_observer``: None, or f(module, output) called after every module forward (telemetry's
activation statistics); None costs one comparison per module call.
"""

import contextlib

module_stack = []
second_order = False
forward_observer = None
_libraries = {}  # array module -> its library's name (asked once per recorded node)


@contextlib.contextmanager
def recording_backward(create_graph):
    """Mark the nodes recorded inside as second order when ``create_graph`` is true."""
    global second_order
    previous = second_order
    second_order = previous or bool(create_graph)
    try:
        yield
    finally:
        second_order = previous


def implementation(xp, launches_before):
    """Which code computed a node's forward: "numpy" or "cupy" (the array path), else "kernel:" (a
    CUDA array) or "emulated:" (NumPy inside cuda.emulate()) and the kernels it launched, found by
    comparing the launch counter with ``launches_before`` (None on the array path)."""
    library = _libraries.get(xp)
    if library is None:
        library = _libraries[xp] = xp.__name__.split(".")[0]
    if launches_before is None:
        return library
    from .cuda import launch_counts

    names = sorted(k for k, n in launch_counts.items() if n != launches_before.get(k, 0))
    return ("kernel:" if library == "cupy" else "emulated:") + ",".join(names)
