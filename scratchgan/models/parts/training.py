"""Training helpers the model families share: freezing, mode restoring, experience replay, seeded
subsets and one loop that fits a classifier.

    frozen(*modules)            context: the modules' parameters stop requiring grad (restored)
    training_mode(module, on)   context: module.train(on), each submodule's mode restored on exit
    ImagePool(size)             experience replay of generated images (Shrivastava et al. 2017)
    seeded_subset(n, k, seed)   k of range(n), drawn without replacement from ``seed``
    fit_classifier(net, optimizer, batches, epochs, loss)   the minibatch loop of every classifier
    unique_parameters(*modules) the parameters of several modules, each once
"""

import contextlib

import numpy as np

from ... import functional as F
from ...tensor import tensor


@contextlib.contextmanager
def frozen(*modules):
    """Within the block no parameter of ``modules`` requires grad (a network trained through but not
    updated, e.g. D during G's step); each parameter's flag is restored on exit, even on error."""
    saved = {}
    for module in modules:
        for p in module.parameters():
            saved.setdefault(id(p), (p, p.requires_grad))
    try:
        for p, _ in saved.values():
            p.requires_grad = False
        yield
    finally:
        for p, flag in saved.values():
            p.requires_grad = flag


@contextlib.contextmanager
def training_mode(module, training):
    """Within the block ``module`` and its submodules are in training (True) or evaluation (False)
    mode; each submodule's own mode is restored on exit, even on error."""
    saved = [(m, m.training) for m in module.modules()]
    try:
        module.train(training)
        yield module
    finally:
        for m, flag in saved:
            m.training = flag


class ImagePool:
    """Experience replay of generated images for D (Shrivastava et al. 2017, as CycleGAN's pool).

    ``query(images, labels, generator)``: while the pool has room, new images go in and pass through
    unchanged; once it holds ``size`` images, each new image is, with probability 1/2, swapped with
    a random stored one (distinct slots within a batch), and the stored one is returned in its
    place. ``labels`` (conditional GANs) travel with their images; None otherwise. Arrays stay on
    the device.
    """

    def __init__(self, size):
        self.size, self.count = int(size), 0
        self.images = self.labels = None

    def query(self, images, labels, generator):
        xp = images.xp
        x = images.array
        if self.images is None:
            self.images = xp.zeros((self.size,) + x.shape[1:], dtype=x.dtype)
            self.labels = None if labels is None else np.zeros(self.size, dtype=np.int64)
        n = x.shape[0]
        if n > self.size:
            raise ValueError(
                f"image_pool: the pool ({self.size} images) must hold at least one batch ({n})"
            )
        fresh = min(self.size - self.count, n)
        self.images[self.count : self.count + fresh] = x[:fresh]
        if labels is not None:
            self.labels[self.count : self.count + fresh] = labels[:fresh]
        self.count += fresh
        swap = np.flatnonzero(generator.uniform((n - fresh,), np.float64) < 0.5) + fresh
        slots = generator.permutation(self.size)[: len(swap)]
        out = x.copy()
        out_labels = None if labels is None else np.array(labels, copy=True)
        if len(swap):
            sw, sl = xp.asarray(swap), xp.asarray(slots)
            out[sw], self.images[sl] = self.images[sl], x[sw]
            if labels is not None:
                out_labels[swap], self.labels[slots] = self.labels[slots], labels[swap]
        return tensor(out, device=images.device), out_labels

    def state(self):
        if self.images is None:
            return {}
        state = {"pool_images": self.images, "pool_count": np.int64(self.count)}
        if self.labels is not None:
            state["pool_labels"] = self.labels
        return state

    def load_state(self, state, xp):
        if "pool_images" in state:
            self.images = xp.asarray(state["pool_images"])
            self.count = int(state["pool_count"])
            self.labels = np.asarray(state["pool_labels"]) if "pool_labels" in state else None


def seeded_subset(n_items, k, seed, ordered=True):
    """``k`` indices of range(n_items) drawn without replacement: the first k of a permutation from
    numpy's default_rng(seed), sorted ascending when ``ordered`` (else in draw order)."""
    pick = np.random.default_rng(seed).permutation(n_items)[:k]
    return np.sort(pick) if ordered else pick


def fit_classifier(net, optimizer, batches, epochs=1, loss=F.cross_entropy, on_step=None):
    """Minimise ``loss(net(x), y)`` by minibatch steps of ``optimizer``, ``epochs`` times over
    ``batches(epoch)`` (an iterable of (x Tensor, y) pairs), ``net`` in training mode.

    ``on_step(step, logits, y, loss)`` runs after each step (logging; ``step`` counts from 1 within
    the epoch). A per-epoch schedule or evaluation calls it once per epoch. Returns ``net``."""
    for epoch in range(epochs):
        net.train()
        for step, (x, y) in enumerate(batches(epoch), 1):
            optimizer.zero_grad()
            logits = net(x)
            value = loss(logits, y)
            value.backward()
            optimizer.step()
            if on_step is not None:
                on_step(step, logits, y, value)
    return net


def unique_parameters(*modules):
    """The parameters of ``modules``, each once (tied weights are shared)."""
    seen, params = set(), []
    for module in modules:
        for p in module.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return params


# the WGAN paper's Algorithm 1 as run in its code: n_critic_burst critic steps before each of the
# first BURST_FIRST generator steps and before every BURST_EVERY-th
BURST_FIRST, BURST_EVERY = 25, 500


def critic_steps_before(g, n_critic, burst=0):
    """D steps taken before G step ``g`` (0-based) is done: sum over i <= g of n_i, where n_i is
    ``burst`` for i < BURST_FIRST or i % BURST_EVERY == 0 (when burst > 0), else ``n_critic``."""
    if not burst:
        return n_critic * (g + 1)
    bursts = min(g + 1, BURST_FIRST) + max(0, g // BURST_EVERY)  # 500, 1000, ... up to g
    return n_critic * (g + 1) + (burst - n_critic) * bursts


def is_generator_step(step, n_critic, burst=0):
    """Whether G steps after D step ``step`` (0-based): ``step + 1`` D steps are exactly
    critic_steps_before(g) for some g."""
    if not burst:
        return (step + 1) % n_critic == 0
    lo, hi = 0, step + 1  # the smallest g with critic_steps_before(g) >= step + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if critic_steps_before(mid, n_critic, burst) < step + 1:
            lo = mid + 1
        else:
            hi = mid
    return critic_steps_before(lo, n_critic, burst) == step + 1
