"""Embedding: rows of a weight matrix picked by integer indices.

The forward is indexing, ``weight[indices]``; its backward scatter-adds the gradient rows
into a zero matrix of weight's shape (an index that appears twice receives both rows), and
that scatter's backward is indexing again, so the op is differentiable to any order.
"""

from ..tensor import Tensor
from .shape import getitem


def embedding(indices, weight):
    """Look up rows of ``weight``: y[..., :] = weight[indices[...], :].

    indices: integer Tensor, array or list of any shape (...), values in [0, num_embeddings);
    weight: (num_embeddings, embedding_dim). Returns (..., embedding_dim). The gradient
    reaches ``weight`` only (indices are not differentiable).

    >>> W = sg.randn(10, 3, requires_grad=True)
    >>> F.embedding([[1, 2], [2, 9]], W).shape
    (2, 2, 3)
    """
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            "embedding: weight must be a 2-D Tensor (num_embeddings, embedding_dim), "
            f"got {getattr(weight, 'shape', weight)!r}"
        )
    index = indices.array if isinstance(indices, Tensor) else indices
    index = weight.xp.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {index.dtype}")
    n = weight.shape[0]
    if index.size and (bool((index < 0).any()) or bool((index >= n).any())):
        bad = index[(index < 0) | (index >= n)].reshape(-1)[0]
        raise IndexError(
            f"embedding: index {int(bad)} is out of range for a weight with {n} rows "
            f"(expected 0 <= index < {n})"
        )
    return getitem(weight, index)
