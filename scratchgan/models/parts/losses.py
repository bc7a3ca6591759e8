"""GAN objectives and penalties, shared by every adversarial model.

D's outputs are logits for mm and ns (its probability is sigmoid(logit); the cross-entropies are
computed from the logit, as Keras does for a Dense(1, activation="sigmoid") output, stable when D is
sure of itself) and unbounded scores for wgan, wgan-gp and ls:

    mm       D: BCE over [fake; real] with targets [0]*B + [1]*B     G: mean log(1 - D(G(z)))
    ns       D: as mm                                                G: -mean log D(G(z))
    wgan     D: mean D(fake) - mean D(real)                          G: -mean D(G(z))
    wgan-gp  as wgan (the gradient penalty is added by the caller)
    ls       D: (mean (D(real) - 1)^2 + mean D(fake)^2) / 2          G: mean (D(G(z)) - 1)^2 / 2

    gradient_penalty  mean (|grad_x D(x~)|_2 - 1)^2 at interpolates x~ (Gulrajani et al. 2017)
    r1_penalty        mean |grad_x D(x)|^2 on real images (Mescheder et al. 2018)
"""

import math

from ... import functional as F
from ...autograd import grad
from ...ops.shape import concat
from ...tensor import full, rand

LOSSES = ("mm", "ns", "wgan", "wgan-gp", "ls")


def _target(like, value):
    return full(like.shape, value, dtype=like.dtype, device=like.device)


def d_loss(kind, real_out, fake_out, real_target=None, fake_target=None):
    """D's loss; the targets (default 1 for real, 0 for fake) matter to mm, ns and ls only."""
    real_target = _target(real_out, 1.0) if real_target is None else real_target
    fake_target = _target(fake_out, 0.0) if fake_target is None else fake_target
    if kind in ("mm", "ns"):
        # the book's phase 1: one BCE over [fake; real] with targets [0]*B + [1]*B
        out = concat([fake_out, real_out], 0)
        return F.binary_cross_entropy_with_logits(out, concat([fake_target, real_target], 0))
    if kind in ("wgan", "wgan-gp"):
        return fake_out.mean() - real_out.mean()
    if kind == "ls":
        real_term = ((real_out - real_target) ** 2).mean() * 0.5
        return real_term + ((fake_out - fake_target) ** 2).mean() * 0.5
    raise ValueError(f"loss {kind!r}: expected one of {', '.join(LOSSES)}")


def g_loss(kind, fake_out):
    """G's loss from D's outputs on generated images."""
    if kind == "mm":  # mean log(1 - sigmoid(l)) = -BCE(l, 0)
        return -F.binary_cross_entropy_with_logits(fake_out, _target(fake_out, 0.0))
    if kind == "ns":  # -mean log sigmoid(l) = BCE(l, 1)
        return F.binary_cross_entropy_with_logits(fake_out, _target(fake_out, 1.0))
    if kind in ("wgan", "wgan-gp"):
        return -fake_out.mean()
    if kind == "ls":
        return ((fake_out - 1) ** 2).mean() * 0.5
    raise ValueError(f"loss {kind!r}: expected one of {', '.join(LOSSES)}")


def least_squares(out, target):
    """mean (out - target)^2: the least-squares adversarial term against a constant target."""
    return ((out - target) ** 2).mean()


def gradient_penalty(D, real, fake, generator):
    """mean over the batch of (|grad_x D(x~)|_2 - 1)^2 at x~ = e real + (1 - e) fake, e ~ U(0, 1)
    per sample.

    ``D`` is any callable from images to scores (a conditional critic: a closure over the
    labels)."""
    shape = (real.shape[0], *([1] * (real.ndim - 1)))
    e = rand(*shape, dtype=real.dtype, generator=generator).to(real.device)
    x = (e * real + (1 - e) * fake).detach()
    x.requires_grad = True
    (gx,) = grad(D(x).sum(), x, create_graph=True)
    norm = ((gx * gx).flatten(1).sum(axis=1) + 1e-12).sqrt()
    return ((norm - 1) ** 2).mean()


def r1_penalty(real_out, x):
    """R1 (Mescheder et al. 2018): mean over the batch of |grad_x D(x)|^2, differentiable (double
    backward). ``x`` must require grad and ``real_out`` = D(x)."""
    (gx,) = grad(real_out.sum(), x, create_graph=True)
    return (gx * gx).flatten(1).sum(axis=1).mean()


def grad_norm(params):
    """sqrt(sum_p |grad p|^2): the L2 norm of the gradients of ``params`` taken together
    (parameters without a gradient count 0)."""
    total = 0.0
    for p in params:
        if p.grad is not None:
            total += float((p.grad.array.astype("float64") ** 2).sum())
    return math.sqrt(total)
