"""Acceptance: a WGAN-GP gradient penalty through a small critic, and its gradient with respect
to every critic weight, equal PyTorch's in float64 (both built with the same weights).

critic: conv2d -> LeakyReLU(0.2) -> norm -> minibatch_stddev -> conv2d -> LeakyReLU(0.2)
        -> flatten -> linear
GP = mean_n (||d D(x_hat) / d x_hat[n]||_2 - 1)^2,  x_hat = e real + (1 - e) fake,
e ~ U(0, 1) per sample.
"""

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional

N, C, S = 4, 3, 8
# The penalty depends on the critic's input gradient, which these biases cannot change: fc.bias
# does not enter it, and conv2.bias and norm.bias only move conv2's pre-activations
# (minibatch_stddev ignores a shift common to the batch), which act on the input gradient only
# through LeakyReLU's piecewise-constant slope. Their gradients are zero up to rounding and are
# checked for that.
STRUCTURAL_ZEROS = {"conv2.bias", "fc.bias", "norm.bias"}


def critic_weights(rng, norm):
    w = {
        "conv1.weight": rng.standard_normal((6, C, 3, 3)) * 0.3,
        "conv1.bias": rng.standard_normal(6) * 0.1,
        "conv2.weight": rng.standard_normal((5, 7, 3, 3)) * 0.2,
        "conv2.bias": rng.standard_normal(5) * 0.1,
        "fc.weight": rng.standard_normal((1, 5 * 4 * 4)) * 0.1,
        "fc.bias": rng.standard_normal(1) * 0.1,
    }
    norm_shape = {"layer_norm": (6, 4, 4), "instance_norm": (6,), "batch_norm": (6,)}[norm]
    w["norm.weight"] = 1 + 0.1 * rng.standard_normal(norm_shape)
    w["norm.bias"] = 0.1 * rng.standard_normal(norm_shape)
    return w


def critic(F, x, w, norm):
    """The same critic for scratchgan.functional and torch.nn.functional (F), weights w by name."""
    h = F.leaky_relu(F.conv2d(x, w["conv1.weight"], w["conv1.bias"], stride=2, padding=1), 0.2)
    if norm == "layer_norm":
        h = F.layer_norm(h, (6, 4, 4), w["norm.weight"], w["norm.bias"])
    elif norm == "instance_norm":
        h = F.instance_norm(h, weight=w["norm.weight"], bias=w["norm.bias"])
    else:
        h = F.batch_norm(h, None, None, w["norm.weight"], w["norm.bias"], training=True)
    h = minibatch_stddev(F, h)
    h = F.leaky_relu(F.conv2d(h, w["conv2.weight"], w["conv2.bias"], padding=1), 0.2)
    return F.linear(h.reshape(h.shape[0], -1), w["fc.weight"], w["fc.bias"])


def minibatch_stddev(F, x, group_size=2):
    if F is tF:  # the ProGAN reference, in torch ops
        n, c, h, w = x.shape
        y = x.reshape(group_size, n // group_size, c, h, w)
        std = torch.sqrt(((y - y.mean(0, keepdim=True)) ** 2).mean(0) + 1e-8).mean((1, 2, 3))
        s = std.reshape(1, -1, 1, 1, 1).expand(group_size, -1, 1, h, w).reshape(n, 1, h, w)
        return torch.cat([x, s], 1)
    return F.minibatch_stddev(x, group_size)


def gradient_penalty(F, framework_grad, real, fake, e, w, norm):
    x_hat = e * real + (1 - e) * fake
    d = critic(F, x_hat, w, norm)
    (g,) = framework_grad(d.sum(), x_hat)
    norms = ((g * g).sum((1, 2, 3)) + 0.0) ** 0.5
    return ((norms - 1) ** 2).mean()


@pytest.mark.parametrize("norm", ["layer_norm", "instance_norm", "batch_norm"])
def test_gradient_penalty_and_its_weight_gradients_equal_torch(norm):
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((N, C, S, S)), rng.standard_normal((N, C, S, S))
    e = rng.uniform(size=(N, 1, 1, 1))
    weights = critic_weights(rng, norm)

    sw = {k: sg.tensor(v, requires_grad=True) for k, v in weights.items()}
    real_s, fake_s, e_s = sg.tensor(real), sg.tensor(fake, requires_grad=True), sg.tensor(e)
    gp = gradient_penalty(
        F, lambda y, x: sg.grad(y, x, create_graph=True), real_s, fake_s, e_s, sw, norm
    )
    gp.backward()

    tw = {k: torch.tensor(v, requires_grad=True) for k, v in weights.items()}
    real_t, fake_t, e_t = (
        torch.tensor(real),
        torch.tensor(fake, requires_grad=True),
        torch.tensor(e),
    )
    tgp = gradient_penalty(
        tF, lambda y, x: torch.autograd.grad(y, x, create_graph=True), real_t, fake_t, e_t, tw, norm
    )
    tgp.backward()

    assert gp.dtype == np.float64
    np.testing.assert_allclose(gp.item(), tgp.item(), rtol=1e-7)
    assert gp.item() > 1e-3  # a penalty that is not trivially zero
    for k in weights:
        g = np.zeros(weights[k].shape) if sw[k].grad is None else sw[k].grad.numpy()
        tg = np.zeros(weights[k].shape) if tw[k].grad is None else tw[k].grad.numpy()
        if k in STRUCTURAL_ZEROS:
            assert np.abs(g).max() < 1e-15 and np.abs(tg).max() < 1e-15, k
            continue
        assert np.abs(tg).max() > 1e-3, k
        np.testing.assert_allclose(g, tg, rtol=1e-7, atol=1e-12 * np.abs(tg).max(), err_msg=k)
    # through x_hat the penalty also reaches the generator's samples
    np.testing.assert_allclose(fake_s.grad.numpy(), fake_t.grad.numpy(), rtol=1e-7, atol=1e-14)
