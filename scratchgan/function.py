"""The graph node: ``Function``, the protocol every op implements, and how it records itself."""

import weakref

import numpy as np

from . import cuda, grad_mode, node_tags, profiler, versions
from .backend import device_context


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
        arrays = [x._data for x in xs]
        on_host = True  # all plain NumPy arrays: the common case, decided without device objects
        for a in arrays:
            if type(a) is not np.ndarray:
                on_host = False
                break
        if not on_host:
            _check_one_device(self, xs)
        on_kernels = self.forward_kernel is not None and cuda.uses_kernels(arrays[0])
        if self.composite is not None and not on_kernels:
            return self.composite(*xs)
        record = False
        if grad_mode.enabled:
            for x in xs:
                if x.requires_grad:
                    record = True
                    break
        self.needs_input_grad = tuple([record and x.requires_grad for x in xs])
        self.xp = np if on_host else xs[0].xp
        self.on_kernels = on_kernels
        launches = cuda.launch_counts.copy() if on_kernels else None  # the viewer names kernels
        if on_host:
            y = self.forward_kernel(*arrays) if on_kernels else self.forward(*arrays)
        else:
            with device_context(arrays[0]):  # ops and kernels run on their arrays' GPU
                y = self.forward_kernel(*arrays) if on_kernels else self.forward(*arrays)
        out = (_TENSOR or _tensor_class())._make(y, record)
        if out._data is arrays[0] or getattr(out._data, "base", None) is not None:
            versions.share_with_base(xs, arrays, out, record)
        if record:
            versions.check_not_stale(xs)
            self.impl = node_tags.implementation(self.xp, launches)
            self.scope, self.second_order = tuple(node_tags.module_stack), node_tags.second_order
            self._record(xs, out)
        return out

    def _record(self, xs, out):
        keep = self.saves_inputs
        self.inputs = inputs = (
            xs if keep is True else tuple(x if i in keep else None for i, x in enumerate(xs))
        )
        self.input_shapes = tuple([x._data.shape for x in xs])
        # where each input's gradient goes: the node that made it, the leaf itself, or nowhere
        self._edges = tuple(
            [x.grad_fn if x.grad_fn is not None else (x if x.requires_grad else None) for x in xs]
        )
        self._output_ref = weakref.ref(out)
        # the version of every saved tensor now; backward checks that none changed in place
        saved = []
        for i, x in enumerate(inputs):
            if x is not None:
                c = x._counter()
                saved.append((i, c, c.value))
        if self.saves_output:
            self._output_data = out._data
            c = out._counter()
            saved.append((-1, c, c.value))
        self._saved_versions = tuple(saved)
        counter = out._version_counter
        self._made_at_version = 0 if counter is None else counter.value
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
                    f"{self!r}: its backward reads the output, so its class must set saves_output"
                )
            from .tensor import Tensor

            # Its consumers kept only what their backward needs, so the Tensor was dropped; this
            # node made it and makes it again from the saved array (a graph through it is whole).
            out = Tensor._make(self._output_data, requires_grad=True)
            out.grad_fn = self
            self._output_ref = weakref.ref(out)
        return out

    def check_saved_versions(self):
        """Raise PyTorch's error if a tensor this node saved was changed in place since."""
        versions.check_saved(self)

    def release(self):
        """Free what backward needed; a later backward through this node raises."""
        self.__dict__.clear()
        self.released = True

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _check_one_device(fn, xs):
    device = xs[0].device
    for i, x in enumerate(xs[1:], 1):
        if x.device != device:
            raise RuntimeError(
                f"{type(fn).__name__}: input {i} is on {x.device} but input 0 is on "
                f"{device}; move them with .to(device) first (nothing is moved implicitly)"
            )


_TENSOR = None


def _tensor_class():
    """The Tensor class, imported on first use (tensor.py imports this module through autograd);
    kept in a global, as a function-level import costs a microsecond per op."""
    global _TENSOR
    if _TENSOR is None:
        from .tensor import Tensor

        _TENSOR = Tensor
    return _TENSOR
