"""The VAEs' latent-loss weight (kl_weight) and its warm-up (kl_warmup_steps)."""

import math

import numpy as np

from scratchgan import train
from scratchgan.random import Generator
from scratchgan.training.protocol import StepContext


def model(**kw):
    config = train.make_config("conv-vae", **kw)
    config["image_shape"] = [1, 28, 28]
    return train.build_model(config, Generator(0))


def batch(n=8):
    return (np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8),)


def test_the_weight_ramps_linearly_to_beta_and_validation_uses_beta():
    m = model(kl_weight=2.0, kl_warmup_steps=4)
    factors = []
    for step in range(6):
        m.step = step
        factors.append(m.kl_factor())
    assert factors == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]
    m.step = None
    assert m.kl_factor() == 2.0
    assert model().kl_factor() == 1.0  # off by default


def test_the_training_loss_weights_the_latent_loss():
    """conv-vae's loss is mean(R) + mean(L) / 2 (Chollet); with kl_weight 2 it is the -ELBO."""
    x = batch()
    logs = model(kl_weight=2.0).train_step(x, StepContext(step=0))
    assert math.isclose(logs["loss"], logs["nelbo"], rel_tol=1e-5)
    logs = model().train_step(x, StepContext(step=0))
    assert math.isclose(logs["loss"], logs["bce"] * 784 + logs["kl"] / 2, rel_tol=1e-5)
    warm = model(kl_weight=2.0, kl_warmup_steps=8).train_step(x, StepContext(step=1))
    assert math.isclose(warm["loss"], warm["bce"] * 784 + warm["kl"] * 0.25 / 2, rel_tol=1e-5)


def test_free_bits_floor_each_codings_kl_while_training():
    """With a floor above every coding's KL the latent term is the constant 2 x lambda (conv-vae:
    mean(R) + 2 lambda / 2); with a floor of 0 it is the summed KL; validation ignores the floor."""
    x = batch()
    high = model(kl_free_bits=50.0).train_step(x, StepContext(step=0))
    assert math.isclose(high["loss"], high["bce"] * 784 + 50.0, rel_tol=1e-5)
    tiny = model(kl_free_bits=1e-9).train_step(x, StepContext(step=0))
    assert math.isclose(tiny["loss"], tiny["bce"] * 784 + tiny["kl"] / 2, rel_tol=1e-4)
    m = model(kl_free_bits=50.0)
    valid = m.evaluate(x[0])
    assert math.isclose(valid["loss"], valid["bce"] * 784 + valid["kl"] / 2, rel_tol=1e-4)
