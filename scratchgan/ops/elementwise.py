"""Elementwise math: exp, log, sqrt, abs, clip, where, maximum, minimum.

Piecewise ops (abs, clip, where) multiply the gradient by a constant mask, so their
second derivative is zero almost everywhere, as it should be.
"""

from ..autograd import Function
from ..tensor import Tensor, as_tensor


class Exp(Function):
    """y = e^x;  gx = gy y."""

    saves_inputs, saves_output = (), True

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, gy, needs_input_grad):
        return (gy * self.output,)


class Log(Function):
    """y = log x;  gx = gy / x."""

    def forward(self, x):
        return self.xp.log(x)

    def backward(self, gy, needs_input_grad):
        return (gy / self.inputs[0],)


class Sqrt(Function):
    """y = sqrt x;  gx = gy / (2 y)."""

    saves_inputs, saves_output = (), True

    def forward(self, x):
        return self.xp.sqrt(x)

    def backward(self, gy, needs_input_grad):
        return (gy / (2 * self.output),)


class Abs(Function):
    """y = |x|;  gx = gy sign(x) (0 at x = 0, as in PyTorch)."""

    def forward(self, x):
        return self.xp.abs(x)

    def backward(self, gy, needs_input_grad):
        sign = Tensor._make(self.xp.sign(self.inputs[0].array))
        return (gy * sign,)


class Clip(Function):
    """y = min(max(x, lo), hi);  gx = gy where lo <= x <= hi (PyTorch's clamp convention)."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return self.xp.clip(x, self.lo, self.hi)

    def backward(self, gy, needs_input_grad):
        x = self.inputs[0].array
        inside = self.xp.ones(x.shape, dtype=bool)
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        return (gy * Tensor._make(inside.astype(x.dtype)),)


class Where(Function):
    """y = a where cond else b (cond is a constant bool array)."""

    saves_inputs = ()

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        return self.xp.where(self.condition, a, b)

    def backward(self, gy, needs_input_grad):
        from .arithmetic import sum_to

        a_shape, b_shape = self.input_shapes
        zero = Tensor._make(self.xp.zeros((), dtype=gy.dtype))
        ga = sum_to(where(self.condition, gy, zero), a_shape) if needs_input_grad[0] else None
        gb = sum_to(where(self.condition, zero, gy), b_shape) if needs_input_grad[1] else None
        return ga, gb


def exp(x):
    """Exponential, as torch.exp: y = e^x, gx = gy y.

    Args:
        x: any shape.
    Returns:
        A tensor of x's shape.

    Example: exp(x) for x = [0., 1.] is [1., 2.718...].
    """
    return Exp().apply(x)


def log(x):
    """Natural logarithm, as torch.log: y = log x, gx = gy / x (-inf at 0, NaN below).

    Args:
        x: any shape, positive values.
    Returns:
        A tensor of x's shape.

    Example: log(x) for x = [1., e] is [0., 1.].
    """
    return Log().apply(x)


def sqrt(x):
    """Square root, as torch.sqrt: y = sqrt x, gx = gy / (2 y).

    Args:
        x: any shape, non-negative values.
    Returns:
        A tensor of x's shape.

    Example: sqrt(x) for x = [4., 9.] is [2., 3.].
    """
    return Sqrt().apply(x)


def abs(x):
    """Absolute value, as torch.abs: y = |x|, gx = gy sign(x) (0 at x = 0, as in PyTorch).

    Args:
        x: any shape.
    Returns:
        A tensor of x's shape.

    Example: abs(x) for x = [-2., 3.] is [2., 3.].
    """
    return Abs().apply(x)


def clip(x, min=None, max=None):
    """Clamp into [min, max], as torch.clamp: y = min(max(x, min), max); gx = gy where
    min <= x <= max, else 0 (the bounds themselves pass the gradient, as in PyTorch).

    Args:
        x: any shape. min, max: numbers or None (no bound on that side); at least one is given.
    Returns:
        A tensor of x's shape.

    Example: clip(x, -1, 1) for x = [-3., 0.5, 2.] is [-1., 0.5, 1.].
    """
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return Clip(min, max).apply(x)


def where(condition, a, b):
    """Elementwise choice, as torch.where: y = a where condition else b, broadcasting all three;
    the gradient goes to a where condition holds and to b elsewhere.

    Args:
        condition: a bool array or Tensor (not differentiable). a, b: Tensors or numbers.
    Returns:
        A tensor of the broadcast shape of condition, a and b.

    Example: where(x > 0, x, 0.1 * x) for x = [-1., 2.] is [-0.1, 2.].
    """
    if isinstance(condition, Tensor):
        condition = condition.array
    if condition.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool array, got dtype {condition.dtype}")
    like = a if isinstance(a, Tensor) else b
    a, b = as_tensor(a, like), as_tensor(b, like)
    return Where(condition).apply(a, b)


def maximum(a, b):
    """Elementwise maximum, as torch.maximum: y = a if a >= b else b (broadcasting); at ties the
    gradient goes to ``a``.

    Args:
        a, b: Tensors (or one number) of broadcastable shapes.
    Returns:
        A tensor of the broadcast shape.

    Example: maximum(a, b) for a = [1., 5.], b = [3., 2.] is [3., 5.].
    """
    like = a if isinstance(a, Tensor) else b
    a, b = as_tensor(a, like), as_tensor(b, like)
    return where(a.array >= b.array, a, b)


def minimum(a, b):
    """Elementwise minimum, as torch.minimum: y = a if a <= b else b (broadcasting); at ties the
    gradient goes to ``a``.

    Args:
        a, b: Tensors (or one number) of broadcastable shapes.
    Returns:
        A tensor of the broadcast shape.

    Example: minimum(a, b) for a = [1., 5.], b = [3., 2.] is [1., 2.].
    """
    like = a if isinstance(a, Tensor) else b
    a, b = as_tensor(a, like), as_tensor(b, like)
    return where(a.array <= b.array, a, b)
