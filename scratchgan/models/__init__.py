"""The model registry: every model name of DESIGN.md -> the class that builds it (and carries its recipe).

A model is a subclass of ``scratchgan.train.Model`` living in the file of its family
(autoencoders.py, gan.py, ...). To add one: write the class, then put "module:ClassName" in its
entry below. Classes are imported on first use, so a family file that is still being written
breaks only its own models.

    names()          -> every registered name, in DESIGN.md order
    get(name)        -> the Model subclass (raises NotBuilt for a name whose model is not built yet)
    describe(name)   -> one line for ``scratchgan list``
    is_built(name)
"""

import importlib

# name -> (where the class lives, or None while it is not built yet; one-line description)
REGISTRY = {
    "linear-ae": (None, "linear autoencoder = PCA of a rotated 3-D point cloud (Hands-On ML ch. 17)"),
    "stacked-ae": ("autoencoders:StackedAE", "stacked autoencoder 784-100-30-100-784, SELU, BCE, SGD (ch. 17)"),
    "tied-ae": (None, "stacked autoencoder with tied (transposed) decoder weights"),
    "greedy-ae": (None, "stacked autoencoder trained one layer pair at a time"),
    "conv-ae": (None, "convolutional autoencoder"),
    "recurrent-ae": (None, "recurrent (LSTM) autoencoder, images as sequences of rows"),
    "denoising-ae": (None, "denoising autoencoder (Gaussian noise or dropout on the input)"),
    "sparse-l1-ae": (None, "sparse autoencoder with an L1 penalty on the codings"),
    "sparse-kl-ae": (None, "sparse autoencoder with a KL-divergence sparsity penalty"),
    "vae": (None, "variational autoencoder (MLP)"),
    "conv-vae": (None, "convolutional variational autoencoder"),
    "gan": ("gan:MLPGAN", "MLP GAN: G 30-100-150-784, D 784-150-100-1, SELU, BCE, RMSprop (ch. 17)"),
    "dcgan": (None, "deep convolutional GAN, 28x28"),
    "dcgan64": (None, "deep convolutional GAN, 64x64"),
    "wgan": (None, "Wasserstein GAN with weight clipping"),
    "wgan-gp": (None, "Wasserstein GAN with gradient penalty"),
    "lsgan": (None, "least-squares GAN"),
    "cgan": (None, "conditional GAN (class-conditioned)"),
    "sgan": (None, "semi-supervised GAN (discriminator is also a classifier)"),
    "progan": (None, "progressive growing GAN"),
    "stylegan": (None, "StyleGAN (mapping network, AdaIN, noise injection)"),
    "cyclegan": (None, "CycleGAN on two unpaired image domains"),
}


class NotBuilt(NotImplementedError):
    """A registered model name whose model is not built yet."""


def names():
    return list(REGISTRY)


def is_built(name):
    return name in REGISTRY and REGISTRY[name][0] is not None


def describe(name):
    return REGISTRY[name][1]


def get(name):
    """The Model subclass registered as ``name``."""
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(REGISTRY)} (see `scratchgan list`)")
    where = REGISTRY[name][0]
    if where is None:
        built = ", ".join(n for n in REGISTRY if is_built(n))
        raise NotBuilt(f"model {name!r} is not built yet ({describe(name)}); built so far: {built}")
    module, cls = where.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)
