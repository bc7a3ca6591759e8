"""Activations: relu, leaky_relu, elu, selu, sigmoid, tanh, softplus, softmax, log_softmax.

LeakyReLU's gradient is the op itself with the slope applied to the incoming gradient,
gx = gy * (1 if x > 0 else slope), so it is its own backward and twice differentiable. On CUDA
(and under ``cuda.emulate()``) both run our kernels (``forward_kernel``); the other activations
are array code.
"""

from .. import cuda, threads
from ..autograd import Function
from ..tensor import Tensor
from ..tensor_inplace import apply_inplace

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class LeakyReLU(Function):
    """y = x if x > 0 else slope x;  gx = gy * (1 if x > 0 else slope)."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        xp, slope = self.xp, x.dtype.type(self.slope)
        if 0 <= self.slope <= 1:  # max(x, slope x): the same function, much faster than where()

            def leaky(x, out=None):  # slope x, then the max in place: one array written twice
                out = xp.multiply(x, slope, out=out)
                if not out.ndim:  # a 0-d x gives a NumPy scalar, which cannot be an out=
                    return xp.maximum(x, out)
                return xp.maximum(x, out, out=out)

            return threads.elementwise(leaky, x)
        return xp.where(x > 0, x, slope * x)

    def forward_kernel(self, x):
        return cuda.leaky_relu_forward(x, self.slope)

    def backward(self, gy, needs_input_grad):
        return (LeakyReLUGrad(self.slope).apply(gy, self.inputs[0]),)


class LeakyReLUGrad(Function):
    """gx = gy where the input x was positive, slope * gy elsewhere: linear in gy, so its own
    backward. x is an input whose derivative is structurally zero (the slope is piecewise
    constant): autograd then gives a leaf reached only through it zeros, as PyTorch does."""

    saves_inputs = (1,)

    def __init__(self, slope, scale=None):
        self.slope, self.scale = slope, scale

    def forward_kernel(self, gy, x):
        return cuda.leaky_relu_backward(x, gy, self.slope)

    def forward(self, gy, x):
        xp, t = self.xp, gy.dtype.type
        if self.scale is None:  # 1 where x > 0, slope elsewhere; arithmetic beats where()

            def scale(x, out=None):  # the mask times (1 - slope), cast in the multiply
                s = xp.multiply(x > 0, t(1 - self.slope), out=out, dtype=gy.dtype)
                s += t(self.slope)
                return s

            self.scale = threads.elementwise(scale, x, dtype=gy.dtype)
        return threads.elementwise(xp.multiply, gy, self.scale)

    def backward(self, ggx, needs_input_grad):
        return LeakyReLUGrad(self.slope, self.scale).apply(ggx, self.inputs[1]), None


def _expm1(xp, a):
    """e^a - 1. NumPy's float32 expm1 is scalar code, six times slower than its vectorised exp; in
    float32, exp(a) - 1 is within 1e-7 of it in absolute terms. float64 keeps expm1's relative
    accuracy."""
    if a.dtype == xp.float64:
        return xp.expm1(a)
    out = xp.exp(a)
    out -= 1
    return out


class ELU(Function):
    """y = scale (x if x > 0 else alpha (e^x - 1));  gx = gy scale (1 if x > 0 else alpha e^x).

    scale = 1 is elu; selu is one node with Klambauer et al.'s alpha and scale."""

    def __init__(self, alpha, scale=1.0):
        self.alpha, self.scale = alpha, scale

    def forward(self, x):
        xp, t = self.xp, x.dtype.type
        y = _expm1(xp, xp.minimum(x, 0))  # 0 where x > 0
        y *= t(self.alpha * self.scale)
        positive = xp.maximum(x, 0)
        if self.scale != 1:
            positive *= t(self.scale)
        y += positive
        return y

    def backward(self, gy, needs_input_grad):
        return (ELUGrad(self.alpha, self.scale).apply(gy, self.inputs[0]),)

    def backward_fused(self, gy, needs_input_grad):
        return (gy * _elu_slope(self.xp, self.inputs[0].array, self.alpha, self.scale, gy.dtype),)


def _elu_slope(xp, x, alpha, scale, dtype):
    """ELU's derivative s(x): scale where x > 0, scale alpha e^x elsewhere."""
    t, sa = dtype.type, alpha * scale
    slope = xp.exp(xp.minimum(x, 0)) * t(sa)
    slope += (x > 0) * t(scale - sa)  # where() is several times slower
    return slope


class ELUGrad(Function):
    """gx = gy s(x), with s(x) = scale where x > 0, scale alpha e^x elsewhere (ELU's slope).

    Linear in gy, so d/dgy is ELUGrad again (sharing the slope array); d/dx = ggx gy s'(x), where
    s'(x) = scale alpha e^x on the negative side and 0 elsewhere."""

    def __init__(self, alpha, scale, slope=None):
        self.alpha, self.scale, self.slope = alpha, scale, slope

    def forward(self, gy, x):
        if self.slope is None:
            self.slope = _elu_slope(self.xp, x, self.alpha, self.scale, gy.dtype)
        return gy * self.slope

    def backward(self, ggx, needs_input_grad):
        from .elementwise import where

        gy, x = self.inputs
        need = needs_input_grad
        g_gy = ELUGrad(self.alpha, self.scale, self.slope).apply(ggx, x) if need[0] else None
        g_x = None
        if need[1]:
            zero = Tensor._make(x.xp.zeros((), x.dtype))
            negative_side = x.clip(max=0).exp() * (self.alpha * self.scale)
            slope_derivative = where(Tensor._make(x.array > 0), zero, negative_side)
            g_x = ggx * gy * slope_derivative
        return g_gy, g_x


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  gx = gy y (1 - y)."""

    saves_inputs, saves_output = (), True

    def forward(self, x):
        xp = self.xp
        # e^min(x, 0) / (1 + e^-|x|) is 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below:
        # nothing overflows. One exp serves both: e^-|x| is e^x where x < 0, and below 1 elsewhere,
        # so the numerator e^min(x, 0) is max(e^-|x|, x >= 0), bit for bit.
        e = xp.exp(-xp.abs(x))
        y = xp.maximum(e, x >= 0)
        e += 1
        y /= e
        return y

    def backward(self, gy, needs_input_grad):
        y = self.output
        return (gy * y * (1 - y),)

    def backward_fused(self, gy, needs_input_grad):
        y = self._output_data
        return (gy * y * (self.xp.asarray(1, dtype=y.dtype) - y),)  # backward's own array calls


class Tanh(Function):
    """y = tanh x;  gx = gy (1 - y^2)."""

    saves_inputs, saves_output = (), True

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, gy, needs_input_grad):
        y = self.output
        return (gy * (1 - y * y),)


class Softplus(Function):
    """y = log(1 + e^x), computed stably;  gx = gy sigmoid(x)."""

    def forward(self, x):
        xp = self.xp
        return (xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype)

    def backward(self, gy, needs_input_grad):
        return (gy * sigmoid(self.inputs[0]),)


class LogSoftmax(Function):
    """y = x - logsumexp(x);  gx = gy - softmax(x) * sum(gy)."""

    saves_inputs, saves_output = (), True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        m = x.max(axis=self.axis, keepdims=True)
        shifted = x - m
        return shifted - self.xp.log(self.xp.exp(shifted).sum(axis=self.axis, keepdims=True))

    def backward(self, gy, needs_input_grad):
        p = self.output.exp()
        return (gy - p * gy.sum(self.axis, keepdims=True),)


def _apply(node, input, inplace, name):
    """node(input), or with ``inplace`` written into input's array (see ops/inplace.py)."""
    if not inplace:
        return node.apply(input)
    return apply_inplace(input, node.apply, name)


def relu(input, inplace=False):
    """Rectified linear unit, as torch.nn.functional.relu: y = max(x, 0), gx = gy (x > 0).

    Args:
        input: any shape, e.g. (N, C, H, W).
    Returns:
        A tensor of input's shape.

    Example: relu(x) for x = [-1., 2.] is [0., 2.].
    """
    return _apply(LeakyReLU(0.0), input, inplace, "relu_")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """Leaky ReLU, as torch.nn.functional.leaky_relu: y = x if x > 0 else negative_slope x.

    Args:
        input: any shape, e.g. (N, C, H, W). negative_slope: the slope for x <= 0.
    Returns:
        A tensor of input's shape.

    Example: leaky_relu(x, 0.2) for x = [-1., 2.] is [-0.2, 2.].
    """
    return _apply(LeakyReLU(negative_slope), input, inplace, "leaky_relu_")


def elu(input, alpha=1.0, inplace=False):
    """Exponential linear unit, as torch.nn.functional.elu: y = x if x > 0 else alpha (e^x - 1).

    Args:
        input: any shape, e.g. (N, C, H, W). alpha: the value approached as x -> -inf is -alpha.
    Returns:
        A tensor of input's shape.

    Example: elu(x) for x = [-1., 2.] is [-0.632..., 2.].
    """
    return _apply(ELU(alpha), input, inplace, "elu_")


def selu(input, inplace=False):
    """Scaled ELU, as torch.nn.functional.selu: y = scale elu(x, alpha), with the self-normalising
    constants of Klambauer et al. (2017), alpha = 1.6733 and scale = 1.0507.

    Args:
        input: any shape, e.g. (N, features).
    Returns:
        A tensor of input's shape.

    Example: selu(x) for x = [-1., 2.] is [-1.111..., 2.101...].
    """
    return _apply(ELU(SELU_ALPHA, SELU_SCALE), input, inplace, "selu_")


def sigmoid(input):
    """Logistic sigmoid, as torch.sigmoid: y = 1 / (1 + e^-x), computed without overflow.

    Args:
        input: any shape, e.g. the (N, 1) logits of a discriminator.
    Returns:
        A tensor of input's shape with values in (0, 1).

    Example: sigmoid(x) for x = [0., 100.] is [0.5, 1.].
    """
    return Sigmoid().apply(input)


def tanh(input):
    """Hyperbolic tangent, as torch.tanh: y = (e^x - e^-x) / (e^x + e^-x), gx = gy (1 - y^2).

    Args:
        input: any shape, e.g. a generator's (N, C, H, W) output layer.
    Returns:
        A tensor of input's shape with values in (-1, 1).

    Example: tanh(x) for x = [0., 1.] is [0., 0.761...].
    """
    return Tanh().apply(input)


def softplus(input):
    """Softplus, as torch.nn.functional.softplus: y = log(1 + e^x), computed stably as
    max(x, 0) + log(1 + e^-|x|); its gradient is sigmoid(x).

    Args:
        input: any shape.
    Returns:
        A tensor of input's shape with positive values.

    Example: softplus(x) for x = [0., 100.] is [0.693..., 100.].
    """
    return Softplus().apply(input)


def _axis(dim, ndim, name):
    if not -ndim <= dim < ndim:
        raise ValueError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % ndim


def log_softmax(input, dim):
    """Log of the softmax, as torch.nn.functional.log_softmax: y = x - log(sum_dim e^x), computed
    as (x - m) - log(sum_dim e^(x - m)) with m the maximum along ``dim``, so nothing overflows.

    Args:
        input: any shape, e.g. (N, classes) logits. dim: the axis to normalise along.
    Returns:
        A tensor of input's shape; exp of it sums to 1 along ``dim``.

    Example: log_softmax(x, 1) for x = [[0., 0.]] is [[-0.693..., -0.693...]].
    """
    return LogSoftmax(_axis(dim, input.ndim, "log_softmax")).apply(input)


def softmax(input, dim):
    """Softmax, as torch.nn.functional.softmax: y = e^x / sum_dim e^x (exp of log_softmax).

    Args:
        input: any shape, e.g. (N, classes) logits. dim: the axis to normalise along.
    Returns:
        A tensor of input's shape with values in (0, 1) that sum to 1 along ``dim``.

    Example: softmax(x, 1) for x = [[0., log 3]] is [[0.25, 0.75]].
    """
    return log_softmax(input, dim).exp()


__all__ = [
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "sigmoid",
    "tanh",
    "softplus",
    "softmax",
    "log_softmax",
]
