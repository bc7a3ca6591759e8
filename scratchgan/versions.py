"""In-place safety: the version counter that Tensors holding one array share, and its checks.

An in-place op bumps the counter of the array it changes. A node records the version of every
tensor it saves (``Function._record``); before its backward runs, ``check_saved`` compares them,
so a changed tensor raises PyTorch's error instead of giving a silently wrong gradient. This
module also runs a leaf's gradient hooks (``Tensor.register_hook`` on a leaf). It imports
nothing from the package, so autograd and the Tensor can both use it.
"""


class VersionCounter:
    """How many times an array was changed in place; shared by the Tensors that hold it
    (``.data``, ``detach()``, views made by ops). ``view_in_graph``: a recorded op made a view
    of the array, so a tensor whose graph predates a change made through another view is stale
    (PyTorch would rebase it; scratchgan refuses to use it). ``view_of_leaf``: one of those
    views is of a leaf that requires grad (in-place through it is refused, as in PyTorch)."""

    __slots__ = ("value", "view_in_graph", "view_of_leaf")

    def __init__(self):
        self.value = 0
        self.view_in_graph = self.view_of_leaf = False


def share_with_base(xs, arrays, out, record):
    """An output that is a view of (or is) an input's array shares that input's counter."""
    y = out._data
    owner = y if y.base is None else y.base
    for x, array in zip(xs, arrays):
        if array is y or array is owner or getattr(array, "base", None) is owner:
            counter = out._version_counter = x._counter()
            if record:
                counter.view_in_graph = True
                counter.view_of_leaf |= x.requires_grad and x.grad_fn is None
            return


def check_not_stale(xs):
    """Refuse an input changed in place through another view since its graph was made."""
    for x in xs:
        counter = x._version_counter
        if (
            counter is not None
            and counter.view_in_graph
            and x.grad_fn is not None
            and counter.value != getattr(x.grad_fn, "_made_at_version", counter.value)
        ):
            raise RuntimeError(
                f"a tensor of shape {x.shape} made by {x.grad_fn!r} was changed in place through "
                "a view that shares its array; PyTorch rebases its graph, scratchgan does not: "
                "clone() the view (or the tensor) before changing it in place"
            )


def check_saved(node):
    """Raise PyTorch's error if a tensor ``node`` saved was changed in place since."""
    for i, counter, expected in node.__dict__.get("_saved_versions", ()):
        if counter.value != expected:
            array = node._output_data if i < 0 else node.inputs[i]._data
            which = "its output" if i < 0 else f"its input {i}"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: [{array.dtype} {list(array.shape)}], saved by "
                f"{node!r} ({which}), is at version {counter.value}; expected version "
                f"{expected} instead. Hint: change it after backward, or clone() it first"
            )


def run_leaf_hooks(x, g):
    """A leaf's hooks in registration order; a hook's Tensor result replaces the gradient."""
    for hook in list(x._hooks.values()):
        result = hook(g)
        if result is not None:
            if getattr(result, "shape", None) != g.shape:
                raise RuntimeError(
                    f"register_hook: a hook returned {type(result).__name__}; expected None or "
                    f"a Tensor of shape {g.shape}"
                )
            g = result
    return g
