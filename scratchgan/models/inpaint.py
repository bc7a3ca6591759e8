"""Semantic image inpainting with a trained GAN (Yeh et al. 2017), and the baselines it must beat.

Given an image y with known pixels M (1 = known) and a trained G and D, search the code

    z^ = argmin_z  L_contextual(z) + lambda L_perceptual(z)
    L_contextual(z) = | W * (G(z) - y) |_1    W = M, or Yeh's importance weights (below)
    L_perceptual(z) = -log D(G(z))            the non-saturating form of the paper's
                                              log(1 - D(G(z))) (the same minimiser, useful gradients
                                              when D is sure); -D(G(z)) for a Wasserstein or
                                              least-squares critic

with Adam on z (G and D frozen, in evaluation mode), then fill the holes from G(z^). Several random
starts per image ("restarts") are optimised together; the one with the lowest final contextual loss
is kept, or (``average=k``) the mean of G over the k best: the hole's content is uncertain, and the
mean of several plausible fills is the better guess under L1/L2 (an estimate of the posterior mean,
not a sample; it blurs). Then:

    copy     x = M * y + (1 - M) * G(z^)
    poisson  inside the hole, x solves the Poisson equation  lap(x) = lap(G(z^))  with x = y on the
             known pixels (gradient-domain blending, the paper's final step); Jacobi iterations

Importance weights: W_i = M_i * (fraction of unknown pixels in the window x window neighbourhood
of i), so known pixels near the hole count most (the paper's eq. 3).

Baselines for the same masks: ``mean_fill`` (the per-pixel mean of the training images) and
``nearest_neighbour_fill`` (the unknown pixels of the training image closest, in L2, on the known
pixels). ``masked_error`` scores any of them inside the hole only.

    inpaint(model, images, mask, generator, ...)   images uint8 -> filled images in [0, 1]
    importance_weights(mask, window=7)
    poisson_blend(known, source, mask, iterations=500)
    mean_fill(train_images, images, mask), nearest_neighbour_fill(train_images, images, mask)
    masked_error(filled, original, mask) -> {"l1": ..., "mse": ...}
    center_mask(h, w, size), bottom_half_mask(h, w)
"""

import numpy as np

from .. import data as sgdata
from ..autograd import no_grad
from ..optim import Adam
from ..tensor import tensor
from .parts import frozen, g_loss


# ----- masks (True = known pixel)
def center_mask(h, w, size):
    """A size x size hole in the middle of an h x w image."""
    mask = np.ones((h, w), dtype=bool)
    top, left = (h - size) // 2, (w - size) // 2
    mask[top : top + size, left : left + size] = False
    return mask


def bottom_half_mask(h, w):
    mask = np.ones((h, w), dtype=bool)
    mask[h // 2 :] = False
    return mask


def _box_mean(a, window):
    """Mean of a (H, W) over window x window neighbourhoods, zero padding counted as 0 (loops over
    taps)."""
    r = window // 2
    padded = np.pad(a, r)
    h, w = a.shape
    total = np.zeros_like(a, dtype=np.float64)
    for dy in range(window):
        for dx in range(window):
            total += padded[dy : dy + h, dx : dx + w]
    return total / window**2


def importance_weights(mask, window=7):
    """Yeh et al.'s weights: for known pixels, the fraction of unknown pixels around them; 0 in the
    hole."""
    mask = np.asarray(mask, dtype=bool)
    return np.where(mask, _box_mean((~mask).astype(np.float64), window), 0.0)


# ----- blending
def _laplacian(x):
    """4-neighbour Laplacian of x (..., H, W), edges replicated."""
    p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)], mode="edge")
    return p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:] - 4 * x


def poisson_blend(known, source, mask, iterations=500):
    """Gradient-domain fill: x = known on the mask; inside the hole lap(x) = lap(source) (Jacobi).

    known, source: (..., H, W) arrays; mask (H, W), True = known. Starts from the copy blend."""
    mask = np.asarray(mask, dtype=bool)
    hole = ~mask
    x = np.where(mask, known, source).astype(np.float64)
    target = _laplacian(np.asarray(source, dtype=np.float64))
    for _ in range(iterations):
        p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)], mode="edge")
        neighbours = p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:]
        x = np.where(hole, (neighbours - target) / 4, x)
    return x


# ----- the GAN search
def inpaint(
    model,
    images,
    mask,
    generator,
    iterations=300,
    lr=0.01,
    perceptual_weight=0.003,
    restarts=1,
    average=1,
    weighting="uniform",
    window=7,
    blend="copy",
    return_codes=False,
):
    """Fill the unknown pixels of uint8 ``images`` (N x H x W or N x C x H x W) with a trained GAN.

    mask: H x W booleans, True = known. weighting: "uniform" (W = M) or "importance" (Yeh's
    weights). average: fill from the mean of G over the ``average`` best of the ``restarts`` codes
    (1: the best). blend: "copy" or "poisson". Returns float32 N x C x H x W in [0, 1] whose known
    pixels are the originals exactly (and, with ``return_codes``, the kept codes of each image, best
    first, (N, average, codings_size))."""
    if weighting not in ("uniform", "importance") or blend not in ("copy", "poisson"):
        raise ValueError(
            f"weighting {weighting!r} / blend {blend!r}: expected uniform|importance and "
            "copy|poisson"
        )
    if not 1 <= average <= restarts:
        raise ValueError(f"average={average}: expected 1 <= average <= restarts ({restarts})")
    y = model.to_input(images)
    n = y.shape[0]
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), y.shape[-2:])
    weights = (
        mask.astype(np.float32)
        if weighting == "uniform"
        else importance_weights(mask, window).astype(np.float32)
    )
    W = tensor(weights, device=model.device)
    target = tensor(np.repeat(y.numpy(), restarts, axis=0), device=model.device)
    z = model.noise(n * restarts, generator).detach()
    z.requires_grad = True
    search = Adam([z], lr=lr)
    perceptual = "ns" if model.probability_output else "wgan"
    with frozen(model.G, model.D):
        for i in range(iterations + 1):
            search.zero_grad()
            out = model.generate(z)
            context = ((out - target).abs() * W).flatten(1).sum(axis=1)
            realism = g_loss(perceptual, model.critic(out)) * (
                n * restarts
            )  # a sum over the images
            loss = context.sum() + realism * perceptual_weight
            if i == iterations:  # the last pass only scores the final codes
                break
            loss.backward()
            search.step()
    order = (
        context.detach().numpy().reshape(n, restarts).argsort(1)[:, :average]
        + np.arange(n)[:, None] * restarts
    )
    codes = z.detach().numpy()[order]
    with no_grad():
        fills = model.to_unit(
            model.generate(tensor(z.detach().numpy()[order.ravel()], device=model.device))
        )
    source = fills.reshape((n, average) + fills.shape[1:]).mean(1)
    known = sgdata.to_float(images)
    if blend == "poisson":
        filled = poisson_blend(known, source, mask).astype(np.float32)
    else:
        filled = np.where(mask, known, source)
    filled = np.clip(np.where(mask, known, filled), 0.0, 1.0).astype(np.float32)
    return (filled, codes) if return_codes else filled


# ----- baselines and the score
def mean_fill(train_images, images, mask):
    """Unknown pixels <- the per-pixel mean of the training images."""
    known, mean = sgdata.to_float(images), sgdata.to_float(train_images).mean(0)
    return np.where(mask, known, mean[None]).astype(np.float32)


def nearest_neighbour_fill(train_images, images, mask, chunk=5000):
    """Unknown pixels <- those of the training image nearest (L2 over the known pixels) to each
    image."""
    known = sgdata.to_float(images)
    m = np.broadcast_to(np.asarray(mask, dtype=bool), known.shape[1:]).reshape(-1)
    q = known.reshape(len(known), -1)[:, m].astype(np.float64)
    best_d, best_i = np.full(len(q), np.inf), np.zeros(len(q), dtype=np.int64)
    for start in range(0, len(train_images), chunk):
        t = (
            sgdata.to_float(train_images[start : start + chunk])
            .reshape(-1, m.size)[:, m]
            .astype(np.float64)
        )
        d = (q**2).sum(1)[:, None] - 2 * q @ t.T + (t**2).sum(1)[None]
        i = d.argmin(1)
        better = d[np.arange(len(q)), i] < best_d
        best_d[better], best_i[better] = d[np.arange(len(q)), i][better], start + i[better]
    neighbours = sgdata.to_float(train_images[best_i])
    return np.where(mask, known, neighbours).astype(np.float32)


def masked_error(filled, original, mask):
    """Mean absolute and squared error per unknown pixel (images in [0, 1]; original may be
    uint8)."""
    original = (
        sgdata.to_float(original)
        if np.asarray(original).dtype == np.uint8
        else np.asarray(original)
    )
    filled = np.asarray(filled, dtype=np.float64)
    if filled.shape != original.shape:
        raise ValueError(
            f"masked_error: filled images have shape {filled.shape}, the originals "
            f"{original.shape} (N x C x H x W for both, or uint8 N x H x W originals)"
        )
    hole = ~np.broadcast_to(np.asarray(mask, dtype=bool), original.shape[-2:])
    diff = (filled - original)[..., hole]
    return {"l1": float(np.abs(diff).mean()), "mse": float((diff**2).mean())}
