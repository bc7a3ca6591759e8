"""Parts the model families share, so that no family imports another (see models/__init__.py).

    losses             GAN objectives (d_loss, g_loss: mm, ns, wgan, wgan-gp, ls), least_squares,
                       gradient_penalty, r1_penalty, grad_norm
    training           frozen(*modules), training_mode(module, on), ImagePool, seeded_subset,
                       fit_classifier, unique_parameters
    keras              keras_init_, keras_batch_norm, dense_stack, gia_generator (the books'
                       Keras defaults and GANs in Action's generator body)
    layers             pad_to, crop_to, Rows, RecurrentLayer, RepeatVector, Transpose12,
                       GaussianNoise, minibatch_stddev_layers, require_separate_batches
    progressive        ProGAN's equalized-lr layers (progan, and stylegan's critic)
    image_translation  CycleGAN's U-Net and ResNet generators and PatchGAN discriminator

The [-1, 1] scaling of images for tanh generators is ``scratchgan.data.to_tanh_range``.
"""

from .keras import dense_stack, gia_generator, keras_batch_norm, keras_init_
from .layers import (
    GaussianNoise,
    RecurrentLayer,
    RepeatVector,
    Rows,
    Transpose12,
    crop_to,
    minibatch_stddev_layers,
    pad_to,
    require_separate_batches,
)
from .losses import (
    LOSSES,
    d_loss,
    g_loss,
    grad_norm,
    gradient_penalty,
    least_squares,
    r1_penalty,
)
from .training import (
    ImagePool,
    fit_classifier,
    frozen,
    seeded_subset,
    training_mode,
    unique_parameters,
)

__all__ = [
    "LOSSES",
    "GaussianNoise",
    "ImagePool",
    "RecurrentLayer",
    "RepeatVector",
    "Rows",
    "Transpose12",
    "crop_to",
    "d_loss",
    "dense_stack",
    "fit_classifier",
    "frozen",
    "g_loss",
    "gia_generator",
    "grad_norm",
    "gradient_penalty",
    "keras_batch_norm",
    "keras_init_",
    "least_squares",
    "minibatch_stddev_layers",
    "pad_to",
    "r1_penalty",
    "require_separate_batches",
    "seeded_subset",
    "training_mode",
    "unique_parameters",
]
