"""PyTorch's in-place Tensor methods (``add_``, ``fill_``, ``x[i] = v``, ``x += y`` ...).

Each is its out-of-place op written back into the tensor's array, with PyTorch's version check
(scratchgan/ops/inplace.py explains the mechanism); ``Tensor`` inherits them.
"""


def _inplace():
    from .ops import inplace

    return inplace


def _apply(target, compute, name):
    return _inplace().apply_inplace(target, compute, name)


def _constant(target, values, name):
    return _inplace().write_constant(target, values, name)


def _generator(generator, device):
    from .random import resolve

    return resolve(generator, device)


class InplaceMethods:
    """Mixin of the in-place methods; each returns the tensor itself, as in PyTorch."""

    __slots__ = ()

    # ----- filling (the values become constants: no gradient reaches the old ones)
    def zero_(self):
        return _constant(self, 0, "zero_")

    def fill_(self, value):
        value = value.item() if isinstance(value, InplaceMethods) else value
        return _constant(self, value, "fill_")

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with draws from N(mean, std^2) (the numbers ``nn.init.normal_`` draws)."""
        z = _generator(generator, self.device).normal(self.shape, self.dtype)
        return _constant(self, z * z.dtype.type(std) + z.dtype.type(mean), "normal_")

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with draws from U(a, b)."""
        u = _generator(generator, self.device).uniform(self.shape, self.dtype, a, b)
        return _constant(self, u, "uniform_")

    def copy_(self, src, non_blocking=False):
        """Copy src's values (broadcast, cast to this dtype and device); gradient goes to src."""
        return _inplace().copy_(self, src)

    def __setitem__(self, index, value):
        _inplace().setitem(self, index, value)

    # ----- arithmetic
    def add_(self, other, alpha=1):
        return _apply(self, lambda x: x.add(other, alpha=alpha), "add_")

    def sub_(self, other, alpha=1):
        return _apply(self, lambda x: x.sub(other, alpha=alpha), "sub_")

    def mul_(self, other):
        return _apply(self, lambda x: x * other, "mul_")

    def div_(self, other):
        return _apply(self, lambda x: x / other, "div_")

    def pow_(self, exponent):
        return _apply(self, lambda x: x**exponent, "pow_")

    def neg_(self):
        return _apply(self, lambda x: -x, "neg_")

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def __ipow__(self, exponent):
        return self.pow_(exponent)

    # ----- elementwise functions
    def clamp_(self, min=None, max=None):
        return _apply(self, lambda x: x.clamp(min, max), "clamp_")

    clip_ = clamp_

    def clamp_min_(self, min):
        return self.clamp_(min=min)

    def clamp_max_(self, max):
        return self.clamp_(max=max)

    def abs_(self):
        return _apply(self, lambda x: x.abs(), "abs_")

    def exp_(self):
        return _apply(self, lambda x: x.exp(), "exp_")

    def log_(self):
        return _apply(self, lambda x: x.log(), "log_")

    def sqrt_(self):
        return _apply(self, lambda x: x.sqrt(), "sqrt_")

    def sigmoid_(self):
        return _apply(self, lambda x: x.sigmoid(), "sigmoid_")

    def tanh_(self):
        return _apply(self, lambda x: x.tanh(), "tanh_")

    def relu_(self):
        return _apply(self, lambda x: x.relu(), "relu_")

    def leaky_relu_(self, negative_slope=0.01):
        return _apply(self, lambda x: x.leaky_relu(negative_slope), "leaky_relu_")
