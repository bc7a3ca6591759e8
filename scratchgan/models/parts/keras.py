"""Keras's defaults, which the books' models were trained with: initialisation, batch norm and the
dense stacks of their Sequential models.

    keras_init_(module, generator)   glorot_uniform kernels, zero biases; LSTM: orthogonal recurrent
                                     kernels and forget-gate bias 1
    keras_batch_norm(channels)       BatchNormalization(momentum 0.99, eps 1e-3)
    dense_stack(sizes, activation, last_activation, generator)   Dense layers sizes[0] -> sizes[-1]
    gia_generator(codings_size, channels, generator)   GANs in Action's 28 x 28 generator body
"""

import contextlib
import itertools

import numpy as np

from ... import nn


def _one_blas_thread():
    """A context with one BLAS thread where threadpoolctl is installed: on 2 busy cores a threaded
    400 x 100 QR took 3.6 s instead of 6 ms."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _orthogonal(rows, cols, generator):
    """A rows x cols matrix with orthonormal columns (rows >= cols) or rows (Keras's Orthogonal):
    Q of the QR of a Gaussian matrix, its columns' signs fixed by diag(R)."""
    a = generator.normal((max(rows, cols), min(rows, cols)), np.float64)
    with _one_blas_thread():
        q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    return (q if rows >= cols else q.T).astype(np.float32)


def keras_init_(module, generator):
    """Keras's defaults on every layer of ``module``: glorot_uniform kernels and zero biases for
    Linear, Conv2d and ConvTranspose2d; for LSTM glorot_uniform input kernels, orthogonal recurrent
    kernels and zero biases with the forget gate's set to 1 (unit_forget_bias). A layer shared by
    two parts of a model is initialised once. Glorot's bound sqrt(6 / (fan_in + fan_out)) is
    symmetric in the two fans, so PyTorch's fan convention for transposed-convolution weights gives
    Keras's bound too."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LSTM):
            H = m.hidden_size
            for k in range(m.num_layers):
                nn.init.xavier_uniform_(getattr(m, f"weight_ih_l{k}"), generator=generator)
                w_hh = getattr(m, f"weight_hh_l{k}")
                w_hh._data = w_hh.xp.asarray(_orthogonal(4 * H, H, generator), dtype=w_hh.dtype)
                if m.bias:
                    nn.init.zeros_(getattr(m, f"bias_hh_l{k}"))
                    b = getattr(m, f"bias_ih_l{k}")
                    nn.init.zeros_(b)
                    b.array[H : 2 * H] = 1  # gate order i, f, g, o
    return module


def keras_batch_norm(channels):
    """Keras BatchNormalization defaults: momentum 0.99 (PyTorch's 0.01), eps 1e-3."""
    return nn.BatchNorm2d(channels, momentum=0.01, eps=1e-3)


def dense_stack(sizes, activation, last_activation, generator, norm=None):
    """Linear layers sizes[0] -> sizes[1] -> ..., each followed by ``activation()``, the last one by
    ``last_activation()`` (None: no activation), as a list of modules; ``norm(features)`` (e.g.
    BatchNorm1d) between each hidden layer and its activation."""
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out, generator=generator))
        last = i == len(sizes) - 2
        if norm is not None and not last:
            layers.append(norm(n_out))
        act = last_activation if last else activation
        if act is not None:
            layers.append(act())
    return layers


def gia_generator(codings_size, channels, generator):
    """The generator body of GANs in Action ch. 4, 7 and 8 (28 x 28 output, tanh)."""
    return nn.Sequential(
        nn.Linear(codings_size, 256 * 7 * 7, generator=generator),
        nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 3, stride=2, padding=1, output_padding=1, generator=generator),
        keras_batch_norm(128),
        nn.LeakyReLU(0.01),
        nn.ConvTranspose2d(128, 64, 3, stride=1, padding=1, generator=generator),
        keras_batch_norm(64),
        nn.LeakyReLU(0.01),
        nn.ConvTranspose2d(
            64, channels, 3, stride=2, padding=1, output_padding=1, generator=generator
        ),
        nn.Tanh(),
    )
