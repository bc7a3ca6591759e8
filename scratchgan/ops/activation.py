"""Activations: relu, leaky_relu, elu, selu, sigmoid, tanh, softplus, softmax, log_softmax.

LeakyReLU's gradient is the op itself with the slope applied to the incoming gradient,
gx = gy * (1 if x > 0 else slope), so it is its own backward and twice differentiable.
"""



from .. import cuda
from ..autograd import Function
from ..tensor import Tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class LeakyReLU(Function):
    """y = x if x > 0 else slope x;  gx = gy * (1 if x > 0 else slope)."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        slope = x.dtype.type(self.slope)
        if 0 <= self.slope <= 1:  # max(x, slope x) is the same function and much faster than where()
            return self.xp.maximum(x, slope * x)
        return self.xp.where(x > 0, x, slope * x)

    def forward_kernel(self, x):
        return cuda.leaky_relu_forward(x, self.slope)

    def backward(self, gy, needs_input_grad):
        return (LeakyReLUGrad(self.inputs[0].array, self.slope).apply(gy),)


class LeakyReLUGrad(Function):
    """gx = gy where the input x was positive, slope * gy elsewhere: linear in gy, so its own backward."""

    saves_inputs = ()

    def __init__(self, x, slope, scale=None):
        self.x, self.slope, self.scale = x, slope, scale

    def forward_kernel(self, gy):
        return cuda.leaky_relu_backward(self.x, gy, self.slope)

    def forward(self, gy):
        if self.scale is None:  # 1 where x > 0, slope elsewhere; a multiply is faster than where()
            self.scale = (self.x > 0).astype(gy.dtype) * gy.dtype.type(1 - self.slope) + gy.dtype.type(self.slope)
        return gy * self.scale

    def backward(self, ggx, needs_input_grad):
        return (LeakyReLUGrad(self.x, self.slope, self.scale).apply(ggx),)


def _expm1(xp, a):
    """e^a - 1. NumPy's float32 expm1 is scalar code, six times slower than its vectorised exp; in
    float32, exp(a) - 1 is within 1e-7 of it in absolute terms. float64 keeps expm1's relative accuracy."""
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


class ELUGrad(Function):
    """gx = gy s(x), with s(x) = scale where x > 0, scale alpha e^x elsewhere (ELU's slope).

    Linear in gy, so d/dgy is ELUGrad again (sharing the slope array); d/dx = ggx gy s'(x), where
    s'(x) = scale alpha e^x on the negative side and 0 elsewhere."""

    def __init__(self, alpha, scale, slope=None):
        self.alpha, self.scale, self.slope = alpha, scale, slope

    def forward(self, gy, x):
        if self.slope is None:
            xp, t = self.xp, gy.dtype.type
            sa = self.alpha * self.scale
            self.slope = xp.exp(xp.minimum(x, 0)) * t(sa)
            self.slope += (x > 0) * t(self.scale - sa)  # where() is several times slower
        return gy * self.slope

    def backward(self, ggx, needs_input_grad):
        from .elementwise import where

        gy, x = self.inputs
        need = needs_input_grad
        g_gy = ELUGrad(self.alpha, self.scale, self.slope).apply(ggx, x) if need[0] else None
        g_x = None
        if need[1]:
            zero = Tensor._make(x.xp.zeros((), x.dtype))
            slope_derivative = where(Tensor._make(x.data > 0), zero, x.clip(max=0).exp() * (self.alpha * self.scale))
            g_x = ggx * gy * slope_derivative
        return g_gy, g_x


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  gx = gy y (1 - y)."""

    saves_inputs, saves_output = (), True

    def forward(self, x):
        xp = self.xp
        # e^min(x, 0) / (1 + e^-|x|) is 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below: nothing overflows
        denominator = xp.exp(-xp.abs(x))
        denominator += 1
        y = xp.exp(xp.minimum(x, 0))
        y /= denominator
        return y

    def backward(self, gy, needs_input_grad):
        y = self.output
        return (gy * y * (1 - y),)


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


def relu(input):
    """max(x, 0)."""
    return LeakyReLU(0.0).apply(input)


def leaky_relu(input, negative_slope=0.01):
    """x if x > 0 else negative_slope * x."""
    return LeakyReLU(negative_slope).apply(input)


def elu(input, alpha=1.0):
    """x if x > 0 else alpha (e^x - 1)."""
    return ELU(alpha).apply(input)


def selu(input):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    return ELU(SELU_ALPHA, SELU_SCALE).apply(input)


def sigmoid(input):
    return Sigmoid().apply(input)


def tanh(input):
    return Tanh().apply(input)


def softplus(input):
    return Softplus().apply(input)


def _axis(dim, ndim, name):
    if not -ndim <= dim < ndim:
        raise ValueError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % ndim


def log_softmax(input, dim):
    """log(softmax(x)) along ``dim``, computed without overflow."""
    return LogSoftmax(_axis(dim, input.ndim, "log_softmax")).apply(input)


def softmax(input, dim):
    """e^x / sum(e^x) along ``dim``."""
    return log_softmax(input, dim).exp()


__all__ = ["relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax"]

