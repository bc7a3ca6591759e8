"""The differentiable ops, one family per module."""

from . import activation, arithmetic, elementwise, matmul, reduction, shape  # noqa: F401
