"""``nn.utils``: gradient clipping, parameters <-> one vector, and spectral normalisation.

Clipping replaces each ``p.grad`` with a scaled or clipped Tensor (PyTorch scales in place;
the values the optimiser then reads are the same).
"""

import math

import numpy as np

from ..autograd import no_grad
from ..ops.shape import concat
from ..tensor import Tensor, randn
from .module import Parameter


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(array, norm_type):
    xp = np if isinstance(array, np.ndarray) else __import__("cupy")
    magnitudes = xp.abs(array)
    if norm_type == math.inf:
        return magnitudes.max() if magnitudes.size else xp.zeros((), array.dtype)
    return (
        (magnitudes**norm_type).sum() ** (1.0 / norm_type)
        if norm_type != 2
        else xp.sqrt((array * array).sum())
    )


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``:

        n = || (||g_1||, ..., ||g_k||) ||_p,   g_i <- g_i min(1, max_norm / (n + 1e-6))

    Returns n (a 0-d Tensor), the norm before clipping.
    """
    grads = [p for p in _as_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor._make(np.zeros((), np.float32))
    norms = [_vector_norm(p.grad.array, norm_type) for p in grads]
    xp = np if isinstance(norms[0], (np.ndarray, np.generic)) else __import__("cupy")
    total = _vector_norm(xp.stack([xp.asarray(n) for n in norms]), norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite "
            f"({float(total)}); pass error_if_nonfinite=False to clip anyway"
        )
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    for p in grads:
        p.grad = Tensor._make(p.grad.array * p.grad.array.dtype.type(coefficient))
    return Tensor._make(xp.asarray(total))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clip every gradient element to [-clip_value, clip_value]."""
    for p in _as_list(parameters):
        if p.grad is not None:
            p.grad = Tensor._make(p.grad.xp.clip(p.grad.array, -clip_value, clip_value))


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one (differentiable) vector."""
    return concat([p.reshape(-1) for p in _as_list(parameters)], 0)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into the parameters (in place, outside the graph)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(
            f"vector_to_parameters: expected a 1-D Tensor, got {getattr(vec, 'shape', type(vec))}"
        )
    start = 0
    for p in _as_list(parameters):
        n = p.numel()
        p.array[...] = vec.array[start : start + n].reshape(p.shape)
        start += n
    if start != vec.numel():
        raise ValueError(
            f"vector_to_parameters: the vector has {vec.numel()} elements, the parameters {start}"
        )


class SpectralNorm:
    """W = W_orig / sigma, sigma estimated by power iteration (Miyato et al., 2018), as in PyTorch:

        training forward, n_power_iterations times:  v <- normalize(W^T u), u <- normalize(W v)
        sigma = u . (W v)            (u and v constants; the gradient flows through W only)

    with W the weight reshaped to (size(dim), -1). Eval forwards reuse the stored u and v.
    """

    def __init__(self, name, n_power_iterations, dim, eps):
        if n_power_iterations < 0:
            raise ValueError(
                f"spectral_norm: n_power_iterations must be >= 0, got {n_power_iterations}"
            )
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def weight_matrix(self, weight):
        if self.dim != 0:
            order = [self.dim] + [d for d in range(weight.ndim) if d != self.dim]
            weight = weight.permute(order)
        return weight.reshape(weight.shape[0], -1)

    def _normalize(self, x):
        return x / max(float(np.sqrt((x * x).sum())), self.eps)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.weight_matrix(weight)
        if do_power_iteration:
            W = matrix.array
            for _ in range(self.n_power_iterations):
                v.array[...] = self._normalize(W.T @ u.array)
                u.array[...] = self._normalize(W @ v.array)
        sigma = (matrix.matmul(v.detach()) * u.detach()).sum()
        return weight / sigma


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None, generator=None):
    """Reparametrise ``module.<name>`` as ``<name>_orig / sigma`` (torch.nn.utils.spectral_norm).

    Registers the Parameter ``<name>_orig`` and the buffers ``<name>_u`` (size(dim),) and
    ``<name>_v``,
    both random unit vectors drawn from ``generator``; ``dim`` defaults to 1 for ConvTranspose2d
    (its output channels) and 0 otherwise. Returns the module.
    """
    from .conv import ConvTranspose2d

    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    if name + "_orig" in module._parameters:
        raise RuntimeError(
            f"spectral_norm: {name!r} of {type(module).__name__} is already spectrally normalised"
        )
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    h, w = fn.weight_matrix(weight).shape
    with no_grad():
        u = randn(h, dtype=weight.dtype, device=weight.device, generator=generator)
        v = randn(w, dtype=weight.dtype, device=weight.device, generator=generator)
    u.array[...], v.array[...] = fn._normalize(u.array), fn._normalize(v.array)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    object.__setattr__(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    inner_forward = module.forward

    def forward(*args, **kwargs):
        object.__setattr__(module, name, fn.compute_weight(module, module.training))
        return inner_forward(*args, **kwargs)

    object.__setattr__(module, "forward", forward)
    object.__setattr__(module, "_spectral_norm_" + name, (fn, inner_forward))
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``<name>`` becomes a Parameter holding the current W_orig / sigma."""
    key = "_spectral_norm_" + name
    if key not in module.__dict__:
        raise ValueError(
            f"remove_spectral_norm: spectral_norm of {name!r} not found in {type(module).__name__}"
        )
    fn, inner_forward = module.__dict__.pop(key)
    with no_grad():
        weight = fn.compute_weight(module, do_power_iteration=False)
    del (
        module._parameters[name + "_orig"],
        module._buffers[name + "_u"],
        module._buffers[name + "_v"],
    )
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight.array.copy()))
    if inner_forward == type(module).forward.__get__(module):
        del module.__dict__["forward"]
    else:
        object.__setattr__(module, "forward", inner_forward)
    return module
