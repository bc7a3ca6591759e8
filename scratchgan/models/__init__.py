"""The model registry: every model name of DESIGN.md -> the class that builds it (and carries its
recipe).

A model is a subclass of ``scratchgan.train.Model`` living in the file of its family
(autoencoders.py, gan.py, ...). A family file never imports another family's file: what families
share lives in the base modules (gan_base.py, autoencoder_base.py) and in parts/ (tests/
test_structure.py checks this). To add one: write the class, then put "module:ClassName" in its
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
    "linear-ae": (
        "linear_ae:LinearAE",
        "linear autoencoder = PCA of a rotated 3-D point cloud (Hands-On ML ch. 17)",
    ),
    "stacked-ae": (
        "autoencoders:StackedAE",
        "stacked autoencoder 784-100-30-100-784, SELU, BCE, SGD (ch. 17)",
    ),
    "tied-ae": (
        "autoencoders:TiedAE",
        "stacked-ae with tied decoder weights (DenseTranspose): half the parameters (ch. 17)",
    ),
    "greedy-ae": (
        "autoencoders:GreedyAE",
        "stacked autoencoder trained one shallow autoencoder at a time: 784-100-784, then "
        "100-30-100 (ch. 17)",
    ),
    "conv-ae": (
        "conv_ae:ConvAE",
        "convolutional autoencoder: conv 16/32/64 + max pooling to 3x3x64, transposed convs back "
        "(ch. 17)",
    ),
    "recurrent-ae": (
        "recurrent_ae:RecurrentAE",
        "recurrent autoencoder: LSTM 100-30 | repeat, LSTM 100, dense 28; image rows as a "
        "sequence (ch. 17)",
    ),
    "denoising-ae": (
        "autoencoders:DenoisingAE",
        "denoising autoencoder: Gaussian noise 0.2 (recipe noise=dropout: dropout 0.5) on the "
        "input (ch. 17)",
    ),
    "sparse-l1-ae": (
        "autoencoders:SparseL1AE",
        "sparse autoencoder: 300 sigmoid codings, L1 activity penalty 1e-3 (ch. 17)",
    ),
    "sparse-kl-ae": (
        "autoencoders:SparseKLAE",
        "sparse autoencoder: 300 sigmoid codings, KL penalty to mean activation 0.1, weight 0.05 "
        "(ch. 17)",
    ),
    "vae": (
        "vae:VAE",
        "variational autoencoder: dense 150-100 SELU, 10 codings (log-variance), RMSprop (ch. 17)",
    ),
    "conv-vae": (
        "vae:ConvVAE",
        "convolutional VAE of Chollet ch. 12: strided convs, 2-D latent, Adam, on MNIST",
    ),
    "gan": (
        "gan:MLPGAN",
        "MLP GAN: G 30-100-150-784, D 784-150-100-1, SELU, BCE, RMSprop (ch. 17); G EMA",
    ),
    "dcgan": (
        "dcgan:DCGAN",
        "DCGAN 28x28 of Hands-On ML ch. 17: dense-7x7x128, 2 ConvTranspose k5 s2 (SELU, tanh), D "
        "conv k5 s2 LeakyReLU 0.2 + dropout",
    ),
    "dcgan64": (
        "dcgan:DCGAN64",
        "DCGAN 64x64 of Radford et al.: ReLU/tanh G, LeakyReLU 0.2 D, BN, N(0, 0.02) init, Adam "
        "2e-4 b1 0.5",
    ),
    "wgan": (
        "dcgan:WGAN",
        "dcgan with the Wasserstein loss and weight clipping 0.01, RMSprop 5e-5, n_critic 5",
    ),
    "wgan-gp": (
        "dcgan:WGANGP",
        "dcgan with the Wasserstein loss and gradient penalty 10, Adam 1e-4 (0.5, 0.9), n_critic 5",
    ),
    "lsgan": ("dcgan:LSGAN", "dcgan with the least-squares loss"),
    "cgan": (
        "cgan:CGAN",
        "conditional GAN of GANs in Action ch. 8: label embedding times z; label plane as an "
        "extra D channel",
    ),
    "sgan": (
        "sgan:SGAN",
        "semi-supervised GAN of GANs in Action ch. 7: K-class D, real/fake = sigmoid(logsumexp), "
        "100 labels",
    ),
    "progan": (
        "progan:ProGAN",
        "Progressive GAN (Karras et al. 2018): 4->8->16->32 with fade-in, equalized lr, pixel "
        "norm, minibatch stddev, WGAN-GP + drift",
    ),
    "stylegan": (
        "stylegan:StyleGAN",
        "StyleGAN (Karras et al. 2019): 8-layer mapping network, learned constant, AdaIN styles, "
        "noise inputs, style mixing, truncation; logistic loss + R1",
    ),
    "cyclegan": (
        "cyclegan:CycleGAN",
        "CycleGAN (Zhu et al. 2017; GANs in Action ch. 9): U-Net (or ResNet) generators, "
        "PatchGAN, LSGAN + cycle 10 + identity, pool 50; sneakers <-> ankle boots",
    ),
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
        raise ValueError(
            f"unknown model {name!r}; known models: {', '.join(REGISTRY)} (see `scratchgan list`)"
        )
    where = REGISTRY[name][0]
    if where is None:
        built = ", ".join(n for n in REGISTRY if is_built(n))
        raise NotBuilt(f"model {name!r} is not built yet ({describe(name)}); built so far: {built}")
    module, cls = where.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)
