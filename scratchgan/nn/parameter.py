"""Parameter: the leaf Tensor that a Module registers as trainable (torch.nn.parameter's role)."""

import numpy as np

from ..tensor import Tensor, tensor


class Parameter(Tensor):
    """A leaf Tensor that a Module registers as trainable (``requires_grad=True`` by default).

    ``Parameter(data)`` shares ``data``'s array when it is a Tensor or an ndarray (as torch
    shares storage); other data (lists, numbers) is converted like ``sg.tensor``.
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            array = np.zeros((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data.array
        elif isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
            array = data
        else:
            array = tensor(data).array
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"Parameter: only floating-point data can require grad, got dtype {array.dtype}"
            )
        return cls._make(array, requires_grad=requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
