"""Walking a GAN's latent space: interpolation paths and latent arithmetic (Radford et al. 2016,
sec. 6).

    lerp(a, b, t)                       (1 - t) a + t b
    slerp(a, b, t)                      the great-circle path,
                                        sin((1 - t) w) / sin w a + sin(t w) / sin w b,
                                        w = angle(a, b); straight where a and b are (anti)parallel
    interpolate_codes(a, b, steps, path)  rows x steps x D codes from a (R, D) to b (R, D)
    class_codes(model, classify, ...)   codes whose G(z) the classifier gives to each class with
                                        confidence
    concept(codes, k, generator)        the mean of k exemplar codes of one class (the paper
                                        averages 3)
    arithmetic(model, classify, a, b, c, ...)
                                        G(mean z_a - mean z_b + mean z_c) and its neighbourhood

With a Gaussian prior nearly all codes have norm about sqrt(D); a straight line between two of them
passes closer to the origin, through codes G rarely saw, which slerp avoids (White 2016, "Sampling
generative networks"). The concepts of the arithmetic are found without labels on the codes: sample
codes, let the metrics classifier (``scratchgan.metrics.load_classifier``) name what G made of them,
keep the confident ones.

Example:
    >>> from scratchgan.metrics import load_classifier
    >>> clf = load_classifier("fashion-mnist")
    >>> out = arithmetic(model, clf.probabilities, a=9, b=7, c=5, generator=sg.Generator(0))
    >>> out["result"].shape          # 8 images around G(z_boot - z_sneaker + z_sandal)
"""

import numpy as np

PATHS = ("slerp", "lerp")


def lerp(a, b, t):
    """Points (1 - t) a + t b; a, b (..., D), t broadcast against a[..., :1]."""
    return (1 - t) * a + t * b


def slerp(a, b, t, eps=1e-7):
    """Spherical interpolation between a and b (..., D) at fractions t (broadcast against a[...,
    :1]).

    At t = 0 and 1 it returns a and b exactly; the norm varies smoothly between |a| and |b|."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = np.linalg.norm(a, axis=-1, keepdims=True), np.linalg.norm(b, axis=-1, keepdims=True)
    cos = np.clip((a * b).sum(-1, keepdims=True) / np.maximum(na * nb, eps), -1.0, 1.0)
    omega = np.arccos(cos)
    sin = np.sin(omega)
    straight = sin < eps
    safe = np.where(straight, 1.0, sin)
    wa = np.where(straight, 1 - t, np.sin((1 - t) * omega) / safe)
    wb = np.where(straight, t, np.sin(t * omega) / safe)
    return wa * a + wb * b


def interpolate_codes(a, b, steps, path="slerp"):
    """Codes along ``path`` from each row of a (R, D) to the same row of b: R x steps x D
    (float32)."""
    if path not in PATHS:
        raise ValueError(f"path {path!r}: expected one of {', '.join(PATHS)}")
    if steps < 2:
        raise ValueError(f"steps: expected at least 2 (the two end points), got {steps}")
    a, b = np.asarray(a, dtype=np.float64)[:, None], np.asarray(b, dtype=np.float64)[:, None]
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    return (slerp if path == "slerp" else lerp)(a, b, t).astype(np.float32)


def class_codes(model, classify, generator, n=2000, min_confidence=0.9, chunk=500):
    """Sample n codes, decode them, and keep those the classifier is sure of.

    ``classify``: images in [0, 1] (N x C x H x W) -> class probabilities (N, K). Returns
    {class: codes (k, D)} for every class with at least one confident code, and the acceptance rate.
    """
    codes, probs = [], []
    for i in range(0, n, chunk):
        z = model.noise(min(chunk, n - i), generator).numpy()
        codes.append(z)
        probs.append(np.asarray(classify(model.decode(z))))
    codes, probs = np.concatenate(codes), np.concatenate(probs)
    label, confidence = probs.argmax(1), probs.max(1)
    keep = confidence >= min_confidence
    return {int(k): codes[keep & (label == k)] for k in np.unique(label[keep])}, float(keep.mean())


def concept(codes, k, generator):
    """The mean of k exemplar codes drawn (without replacement) from ``codes`` (m, D); (exemplars,
    mean)."""
    if len(codes) < k:
        raise ValueError(
            f"concept: needs {k} exemplar codes, only {len(codes)} were found; sample more codes "
            "(n) or lower min_confidence"
        )
    pick = codes[generator.permutation(len(codes))[:k]]
    return pick, pick.mean(0)


def arithmetic(
    model, classify, a, b, c, generator, k=3, n=4000, min_confidence=0.9, spread=0.25, results=8
):
    """Latent arithmetic on classes a, b, c: z = mean z_a - mean z_b + mean z_c.

    Each concept is the mean of k confident exemplars (as the paper averages 3). Returns a dict of
    images in [0, 1]: "a", "b", "c" (the k exemplars each), "means" (G of the three mean codes),
    "result" (G(z) and G(z + spread * U(-1, 1)) for results - 1 perturbations, as the paper's
    fig. 7), plus "result_probs" (the classifier's verdict on the results).
    """
    by_class, _ = class_codes(model, classify, generator, n=n, min_confidence=min_confidence)
    out, means = {}, []
    for name, cls in (("a", a), ("b", b), ("c", c)):
        if cls not in by_class:
            raise ValueError(
                f"arithmetic: no code among {n} was classified as class {cls} with confidence "
                f">= {min_confidence}"
            )
        exemplars, mean = concept(by_class[cls], k, generator)
        out[name] = model.decode(exemplars)
        means.append(mean)
    z = means[0] - means[1] + means[2]
    jitter = generator.uniform((results - 1, z.shape[0]), np.float64, -spread, spread)
    codes = np.concatenate([z[None], z[None] + jitter]).astype(np.float32)
    out["means"] = model.decode(np.stack(means).astype(np.float32))
    out["result"] = model.decode(codes)
    out["result_probs"] = np.asarray(classify(out["result"]))
    return out
