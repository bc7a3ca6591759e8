"""Shape layers: Flatten and Unflatten (PyTorch's defaults: Flatten keeps the batch axis)."""

import math

from .module import Module


class Flatten(Module):
    """Merge axes ``start_dim``..``end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        n = input.ndim
        for name, d in (("start_dim", self.start_dim), ("end_dim", self.end_dim)):
            if not -max(n, 1) <= d < max(n, 1):
                raise ValueError(
                    f"Flatten: {name}={d} is out of range for an input with {n} dimensions "
                    f"{input.shape}"
                )
        if n and self.start_dim % n > self.end_dim % n:
            raise ValueError(
                f"Flatten: start_dim={self.start_dim} comes after end_dim={self.end_dim} for shape "
                f"{input.shape}"
            )
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (one may be -1): (N, 784) -> (N, 1, 28, 28)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        sizes = tuple(unflattened_size)
        if (
            not sizes
            or any(not isinstance(s, int) or (s < 0 and s != -1) for s in sizes)
            or sizes.count(-1) > 1
        ):
            raise ValueError(
                "Unflatten: unflattened_size must be a non-empty sequence of non-negative ints "
                "with at most one -1, "
                f"got {unflattened_size!r}"
            )
        self.dim, self.unflattened_size = dim, sizes

    def forward(self, input):
        n = input.ndim
        if not -n <= self.dim < n:
            raise ValueError(
                f"Unflatten: dim={self.dim} is out of range for an input with {n} dimensions "
                f"{input.shape}"
            )
        d = self.dim % n
        sizes, size = self.unflattened_size, input.shape[d]
        known = math.prod(s for s in sizes if s != -1)
        if (-1 in sizes and (known == 0 or size % known)) or (-1 not in sizes and known != size):
            raise ValueError(
                f"Unflatten: unflattened_size {sizes} does not multiply to the size {size} of dim "
                f"{self.dim} of the input {input.shape}"
            )
        return input.reshape(input.shape[:d] + sizes + input.shape[d + 1 :])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
