"""Dense layers: Linear, Embedding and DenseTranspose (a decoder tied to an encoder's Linear)."""

import math

from .. import functional as F
from ..ops.embedding import embedding
from ..tensor import Tensor, zeros
from . import init
from .module import Module, Parameter


def empty_parameter(shape, device=None, dtype=None):
    """A zero Parameter of ``shape`` (float32, default device unless told), to be initialised."""
    return Parameter(zeros(*shape, dtype=dtype, device=device))


class Linear(Module):
    """y = x W^T + b, with W (out_features, in_features) and b (out_features,).

    Initialised like PyTorch: W ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)),
    and b ~ U(-1/sqrt(in), 1/sqrt(in)), drawn from ``generator``.
    """

    def __init__(
        self, in_features, out_features, bias=True, device=None, dtype=None, generator=None
    ):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, int) or n < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {n!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = empty_parameter((out_features, in_features), device, dtype)
        if bias:
            self.bias = empty_parameter((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Embedding(Module):
    """A lookup table: row ``indices[...]`` of ``weight`` (num_embeddings, embedding_dim),
    weight ~ N(0, 1).

    ``padding_idx``, as in PyTorch, starts as a zero row and receives no gradient.
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        padding_idx=None,
        device=None,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(n, int) or n < 0:
                raise ValueError(f"Embedding: {name} must be a non-negative int, got {n!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be within [-{num_embeddings}, {num_embeddings}), "
                    f"got {padding_idx}"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = (
            num_embeddings,
            embedding_dim,
            padding_idx,
        )
        self.weight = empty_parameter((num_embeddings, embedding_dim), device, dtype)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        y = embedding(input, self.weight)
        if self.padding_idx is None:
            return y
        # padding rows read the same values but pass no gradient to the weight
        index = input.array if isinstance(input, Tensor) else self.weight.xp.asarray(input)
        keep = (index != self.padding_idx)[..., None]
        return F.where(keep, y, embedding(input, self.weight.detach()))

    def extra_repr(self):
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class DenseTranspose(Module):
    """A decoder tied to an encoder ``linear``: y = x W + b (Hands-On ML ch. 17, tied weights).

    W is ``linear.weight`` (out, in) itself, so both layers train the same matrix and the
    decoder maps out_features back to in_features. Its own bias (in_features,) starts at zero.
    ``linear`` is registered as a sub-module (named ``linear``), so ``to`` and ``train`` reach
    it; ``parameters()`` of a model holding both lists the shared weight once.
    """

    def __init__(self, linear, bias=True, device=None, dtype=None, generator=None):
        super().__init__()
        if not isinstance(linear, Linear):
            raise TypeError(
                f"DenseTranspose: linear must be an nn.Linear, got {type(linear).__name__}"
            )
        self.linear = linear
        if bias:
            w = linear.weight
            self.bias = empty_parameter((linear.in_features,), device or w.device, dtype or w.dtype)
        else:
            self.register_parameter("bias", None)

    @property
    def weight(self):
        return self.linear.weight

    def forward(self, input):
        return F.linear(input, self.linear.weight.transpose(), self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.linear.out_features}, out_features={self.linear.in_features}, "
            f"bias={self.bias is not None}"
        )
