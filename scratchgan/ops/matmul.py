"""Matrix products: matmul (batched, broadcasting) and linear (y = x W^T + b)."""

from ..autograd import Function
from ..tensor import as_tensor
from .arithmetic import sum_to


class MatMul(Function):
    """y = a @ b;  ga = gy @ b^T,  gb = a^T @ gy (summed over broadcast batch axes)."""

    def forward(self, a, b):
        return self.xp.matmul(a, b)

    def backward(self, gy, needs_input_grad):
        a, b = self.inputs
        ga = sum_to(matmul(gy, b.transpose(-1, -2)), a.shape) if needs_input_grad[0] else None
        gb = sum_to(matmul(a.transpose(-1, -2), gy), b.shape) if needs_input_grad[1] else None
        return ga, gb


class Linear(Function):
    """y = x W^T + b for x (..., in), W (out, in), b (out,)."""

    def forward(self, x, W, b=None):
        y = x @ W.T
        if b is not None:
            y += b
        return y

    def backward(self, gy, needs_input_grad):
        x, W = self.inputs[:2]
        need = needs_input_grad
        gx = matmul(gy, W) if need[0] else None
        gy2 = gy.reshape(-1, gy.shape[-1])
        gW = matmul(gy2.transpose(), x.reshape(-1, x.shape[-1])) if need[1] else None
        gb = gy2.sum(0) if len(need) == 3 and need[2] else None
        return (gx, gW, gb)[: len(self.inputs)]

    def backward_fused(self, gy, needs_input_grad):
        """``backward``'s array calls, in its order, without a node per product: same bits."""
        x, W = self.inputs[0].array, self.inputs[1].array
        need, xp = needs_input_grad, self.xp
        gx = xp.matmul(gy, W) if need[0] else None
        gy2 = gy.reshape(-1, gy.shape[-1])
        gW = xp.matmul(gy2.transpose((1, 0)), x.reshape(-1, x.shape[-1])) if need[1] else None
        gb = gy2.sum(axis=(0,), keepdims=False) if len(need) == 3 and need[2] else None
        return (gx, gW, gb)[: len(self.inputs)]


def matmul(a, b):
    """Matrix product, as torch.matmul (NumPy's rules):

        y[..., i, j] = sum_k a[..., i, k] b[..., k, j]

    batch axes broadcast, and a 1-D operand is promoted to a matrix and that axis dropped again.
    ga = gy @ b^T, gb = a^T @ gy, each summed over the batch axes it was broadcast along.

    Args:
        a: (..., n, k) or (k,). b: (..., k, m) or (k,).
    Returns:
        (broadcast batch..., n, m), without the n or m axis of a 1-D operand.

    Example: matmul(a (8, 3, 4), b (4, 5)) has shape (8, 3, 5).
    """
    from ..tensor import Tensor

    a, b = (a, as_tensor(b, a)) if isinstance(a, Tensor) else (as_tensor(a, b), b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least one dimension, got shapes {a.shape} and {b.shape}"
        )
    rows = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if a.shape[-1] != rows:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: a has {a.shape[-1]} columns, "
            f"b has {rows} rows (expected equal)"
        )
    if a.ndim == 1 and b.ndim == 1:
        return matmul(a.unsqueeze(0), b.unsqueeze(-1)).reshape(())
    if a.ndim == 1:
        return matmul(a.unsqueeze(0), b).squeeze(-2)
    if b.ndim == 1:
        return matmul(a, b.unsqueeze(-1)).squeeze(-1)
    return MatMul().apply(a, b)


def linear(input, weight, bias=None):
    """Affine map, as torch.nn.functional.linear: y = input @ weight^T + bias.

    Args:
        input: (..., in_features). weight: (out_features, in_features). bias: (out_features,)
        or None.
    Returns:
        (..., out_features).

    Example: linear(x (64, 100), W (256, 100), b (256,)) has shape (64, 256).
    """
    if weight.ndim != 2:
        raise ValueError(
            f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}"
        )
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has shape {input.shape}, expected last dimension {weight.shape[1]} "
            f"(weight is {weight.shape})"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(
                f"linear: {name} has dtype {t.dtype}, input has {input.dtype}; "
                "convert one with .to(dtype)"
            )
    args = (input, weight) if bias is None else (input, weight, bias)
    return Linear().apply(*args)
