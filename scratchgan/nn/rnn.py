"""LSTM, built from the differentiable primitives (linear, sigmoid, tanh, slicing, stack).

Per layer k and time step t, with PyTorch's gate order (i, f, g, o) stacked in the 4H rows:

    gates = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
    i, f, o = sigmoid(gates[i]), sigmoid(gates[f]), sigmoid(gates[o]);  g = tanh(gates[g])
    c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)

The layer k > 0 input is layer k-1's h_t. Backward is autograd through the unrolled steps.
"""

import math

from .. import functional as F
from ..ops.dropout import dropout
from ..ops.shape import stack
from ..tensor import zeros
from . import init
from .linear import empty_parameter
from .module import Module


class LSTM(Module):
    """``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=True, dropout=0.0)``.

    Parameters per layer k, named as in PyTorch: weight_ih_l{k} (4H, in), weight_hh_l{k} (4H, H),
    bias_ih_l{k} (4H,), bias_hh_l{k} (4H,), all initialised U(-1/sqrt(H), 1/sqrt(H)).
    ``forward(input, hx=None)``: input (N, L, in) if batch_first else (L, N, in), or unbatched
    (L, in); hx = (h0, c0), each (num_layers, N, H), zeros by default. Returns
    ``(output, (h_n, c_n))``: output (N, L, H) (or (L, N, H)) holds the last layer's h_t for
    every t; h_n and c_n (num_layers, N, H) hold every layer's final state. ``dropout`` is
    applied to the outputs of each layer but the last, in training mode.

    Note the default ``batch_first=True`` (scratchgan's models are batch-major); PyTorch's is False.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=True,
        dropout=0.0,
        device=None,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        for name, n in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"LSTM: {name} must be a positive int, got {n!r}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"LSTM: dropout must be a probability in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.generator = generator
        H = hidden_size
        for k in range(num_layers):
            layer_in = input_size if k == 0 else H
            setattr(self, f"weight_ih_l{k}", empty_parameter((4 * H, layer_in), device, dtype))
            setattr(self, f"weight_hh_l{k}", empty_parameter((4 * H, H), device, dtype))
            if bias:
                setattr(self, f"bias_ih_l{k}", empty_parameter((4 * H,), device, dtype))
                setattr(self, f"bias_hh_l{k}", empty_parameter((4 * H,), device, dtype))
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator=generator)

    def _layer_parameters(self, k):
        names = (
            ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            if self.bias
            else ("weight_ih", "weight_hh")
        )
        params = [getattr(self, f"{name}_l{k}") for name in names]
        return params if self.bias else params + [None, None]

    def _check(self, input, hx):
        if input.ndim not in (2, 3):
            raise ValueError(
                f"LSTM: input must be 3-D (batched) or 2-D (unbatched), got shape {input.shape}"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"LSTM: input has {input.shape[-1]} features (shape {input.shape}), expected "
                f"input_size={self.input_size}"
            )
        if input.dtype != self.weight_ih_l0.dtype:
            raise TypeError(
                f"LSTM: input has dtype {input.dtype}, the weights have {self.weight_ih_l0.dtype}"
            )
        if hx is None:
            return
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("LSTM: hx must be a tuple (h0, c0)")
        batch = input.shape[0 if self.batch_first else 1] if input.ndim == 3 else None
        expected = (
            (self.num_layers, self.hidden_size)
            if batch is None
            else (self.num_layers, batch, self.hidden_size)
        )
        for name, t in zip(("h0", "c0"), hx):
            if tuple(t.shape) != expected:
                raise ValueError(
                    f"LSTM: {name} has shape {t.shape}, expected {expected} (num_layers, batch, "
                    "hidden_size)"
                )

    def forward(self, input, hx=None):
        self._check(input, hx)
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(0 if self.batch_first else 1)
        time_axis = 1 if self.batch_first else 0
        steps = [x[:, t] if self.batch_first else x[t] for t in range(x.shape[time_axis])]
        N, H = steps[0].shape[0], self.hidden_size
        if hx is None:
            h0 = c0 = zeros(self.num_layers, N, H, dtype=x.dtype, device=x.device)
        else:
            h0, c0 = (t if batched else t.unsqueeze(1) for t in hx)

        h_n, c_n = [], []
        for k in range(self.num_layers):
            if k > 0 and self.dropout > 0 and self.training:
                steps = [dropout(s, self.dropout, True, generator=self.generator) for s in steps]
            steps, h, c = self._run_layer(steps, h0[k], c0[k], *self._layer_parameters(k))
            h_n.append(h)
            c_n.append(c)

        output = stack(steps, axis=time_axis)
        h_n, c_n = stack(h_n, axis=0), stack(c_n, axis=0)
        if not batched:
            output, h_n, c_n = output.squeeze(time_axis ^ 1), h_n.squeeze(1), c_n.squeeze(1)
        return output, (h_n, c_n)

    def _run_layer(self, steps, h, c, w_ih, w_hh, b_ih, b_hh):
        """One layer over all time steps: list of x_t (N, in) -> list of h_t (N, H), h_T, c_T."""
        H = self.hidden_size
        outputs = []
        for x_t in steps:
            gates = F.linear(x_t, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
            s = F.sigmoid(gates)  # i, f, o come from it; the g quarter is unused
            i, f, o = s[:, :H], s[:, H : 2 * H], s[:, 3 * H :]
            g = F.tanh(gates[:, 2 * H : 3 * H])
            c = f * c + i * g
            h = o * F.tanh(c)
            outputs.append(h)
        return outputs, h, c

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        text += f", batch_first={self.batch_first}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text
