"""The WGAN paper's critic schedule (n_critic_burst): burst critic steps before each of the first
25 generator steps and every 500th, n_critic otherwise."""

import numpy as np
import pytest

from scratchgan import train
from scratchgan.models.parts.training import critic_steps_before, is_generator_step


def reference(steps, n_critic, burst):
    """The paper's loop, run literally: the D steps after which G steps."""
    out, g = [], 0
    left = burst if burst else n_critic
    for step in range(steps):
        left -= 1
        if left == 0:
            out.append(step)
            g += 1
            left = burst if burst and (g < 25 or g % 500 == 0) else n_critic
    return out


@pytest.mark.parametrize("n_critic, burst, steps", [(5, 100, 60000), (5, 0, 3000), (2, 7, 9000)])
def test_generator_steps_follow_the_papers_loop(n_critic, burst, steps):
    got = [s for s in range(steps) if is_generator_step(s, n_critic, burst)]
    assert got == reference(steps, n_critic, burst)


def test_the_papers_counts():
    assert critic_steps_before(24, 5, 100) == 2500  # 25 G steps of 100 critic steps
    assert critic_steps_before(25, 5, 100) == 2505
    assert critic_steps_before(500, 5, 100) - critic_steps_before(499, 5, 100) == 100


def test_a_gan_takes_its_generator_steps_on_that_schedule(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    config = train.make_config(
        "dcgan", loss="wgan", n_critic=2, n_critic_burst=3, batch_size=4, epochs=1, valid_size=4
    )
    t = train.Trainer(
        config, str(tmp_path), data=(images[4:], None, images[:4], None), progress=False
    )
    g_steps = []
    step = t.model.train_step

    def counted(batch, ctx):
        logs = step(batch, ctx)
        if "g_loss" in logs:
            g_steps.append(ctx.step)
        return logs

    t.model.train_step = counted
    t.fit(max_steps=9)
    assert g_steps == [2, 5, 8]  # 3 critic steps before each of the first 25 G steps
