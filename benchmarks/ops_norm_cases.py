"""Benchmark cases for the normalisation and GAN ops, at the norm shape of the seeds: 64x128x16x16.

Imported by benchmarks/ops.py (see its EXTRA_CASE_MODULES). PyTorch has no pixel_norm,
minibatch_stddev or adain, so their PyTorch side is the usual few lines of torch ops
(the ProGAN / StyleGAN reference formulation; adain uses torch's native instance_norm).
"""

from harness import Case

N, C, H, W = 64, 128, 16, 16
SHAPE = f"{N}x{C}x{H}x{W}"
X = ("x", (N, C, H, W), True)
AFFINE = [("weight", (C,), True), ("bias", (C,), True)]


def _sg():
    import scratchgan.functional as F

    return F


def _tF():
    import torch.nn.functional as tF

    return tF


def _batch_norm_build(training):
    def build(framework, arrays):
        x, w, b = arrays
        if framework == "scratchgan":
            import scratchgan as sg

            xs, ws, bs = (sg.tensor(a, requires_grad=True) for a in (x, w, b))
            rm, rv = sg.zeros(C), sg.ones(C)
            fn = _sg().batch_norm
        else:
            import torch

            xs, ws, bs = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            rm, rv = torch.zeros(C), torch.ones(C)
            fn = _tF().batch_norm
        return (lambda: fn(xs, rm, rv, ws, bs, training=training)), [xs, ws, bs]

    return build


def _torch_pixel_norm(x, eps=1e-8):
    import torch

    return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + eps)


def _torch_minibatch_stddev(x, group_size=4, eps=1e-8):
    import torch

    n, c, h, w = x.shape
    g = min(group_size, n)
    y = x.reshape(g, -1, c, h, w)
    y = y - y.mean(0, keepdim=True)
    y = torch.sqrt(y.pow(2).mean(0) + eps)
    y = y.mean(dim=(1, 2, 3)).reshape(1, -1, 1, 1, 1).expand(g, -1, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, y], 1)


def _torch_adain(x, scale, bias, eps=1e-5):
    return _tF().instance_norm(x, eps=eps) * scale[:, :, None, None] + bias[:, :, None, None]


CASES = [
    Case("batch_norm train", SHAPE, [X, *AFFINE], build=_batch_norm_build(True)),
    Case("batch_norm eval", SHAPE, [X, *AFFINE], build=_batch_norm_build(False)),
    Case(
        "instance_norm",
        SHAPE + ", affine",
        [X, *AFFINE],
        scratchgan=lambda x, w, b: _sg().instance_norm(x, w, b),
        torch=lambda x, w, b: _tF().instance_norm(x, weight=w, bias=b),
    ),
    Case(
        "layer_norm",
        SHAPE + ", over (C, H, W)",
        [X, ("weight", (C, H, W), True), ("bias", (C, H, W), True)],
        scratchgan=lambda x, w, b: _sg().layer_norm(x, (C, H, W), w, b),
        torch=lambda x, w, b: _tF().layer_norm(x, (C, H, W), w, b),
    ),
    Case(
        "pixel_norm", SHAPE, [X], scratchgan=lambda x: _sg().pixel_norm(x), torch=_torch_pixel_norm
    ),
    Case(
        "minibatch_stddev",
        SHAPE + ", group 4",
        [X],
        scratchgan=lambda x: _sg().minibatch_stddev(x, 4),
        torch=_torch_minibatch_stddev,
    ),
    Case(
        "leaky_relu",
        SHAPE + ", slope 0.2",
        [X],
        scratchgan=lambda x: _sg().leaky_relu(x, 0.2),
        torch=lambda x: _tF().leaky_relu(x, 0.2),
    ),
    Case(
        "adain",
        SHAPE + ", styles 64x128",
        [X, ("scale", (N, C), True), ("bias", (N, C), True)],
        scratchgan=lambda x, s, b: _sg().adain(x, s, b),
        torch=_torch_adain,
    ),
]
