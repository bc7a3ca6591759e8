"""The VAEs' mixture prior (prior "gmm", parts/mixture.py): EM recovers a known mixture, draws
follow it, and the prior leaves training bit for bit as it was and survives checkpoints."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgan as sg
from scratchgan import train
from scratchgan.models.parts.mixture import fit_mixture, log_densities, sample_mixture
from scratchgan.models.vae import MIXTURE_KEYS as KEYS
from scratchgan.training.runs import load_run

WEIGHTS = np.array([0.3, 0.7])
MEANS = np.array([[-4.0, 0.0, 1.0], [3.0, 2.0, -1.0]])
CHOLS = np.array(
    [[[1.0, 0, 0], [0.5, 0.8, 0], [0, 0.3, 0.6]], [[0.7, 0, 0], [-0.2, 1.2, 0], [0.1, 0, 0.9]]]
)


def draws(n, seed=0):
    return sample_mixture(WEIGHTS, MEANS, CHOLS, n, sg.Generator(seed)).astype(np.float64)


def test_draws_follow_the_mixture():
    z = draws(40000)
    first = np.linalg.norm(z - MEANS[0], axis=1) < np.linalg.norm(z - MEANS[1], axis=1)
    assert abs(first.mean() - 0.3) < 0.01  # 4 standard errors
    for part, mean, chol in ((z[first], MEANS[0], CHOLS[0]), (z[~first], MEANS[1], CHOLS[1])):
        assert np.allclose(part.mean(0), mean, atol=0.05)
        assert np.allclose(np.cov(part.T), chol @ chol.T, atol=0.06)
    assert np.array_equal(draws(5, seed=1), draws(5, seed=1))


def test_em_recovers_the_mixture_it_was_drawn_from():
    weights, means, chols = fit_mixture(draws(20000), 2, tol=1e-8, max_iter=500)
    order = np.argsort(means[:, 0])  # the components come back in any order
    weights, means, chols = weights[order], means[order], chols[order]
    assert np.allclose(weights, WEIGHTS, atol=0.01)
    assert np.allclose(means, MEANS, atol=0.05)
    covariances = chols @ chols.transpose(0, 2, 1)
    assert np.allclose(covariances, CHOLS @ CHOLS.transpose(0, 2, 1), atol=0.06)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**16))
def test_log_densities_match_the_gaussian_formula(k, d, seed):
    rng = np.random.default_rng(seed)
    z, means = rng.normal(size=(7, d)), rng.normal(size=(k, d))
    chols = np.tril(rng.normal(size=(k, d, d)), -1) + np.eye(d) * rng.uniform(0.5, 2, (k, 1, d))
    for j in range(k):
        cov = chols[j] @ chols[j].T
        diff = z - means[j]
        quad = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
        expected = -0.5 * (d * np.log(2 * np.pi) + np.log(np.linalg.det(cov)) + quad)
        assert np.allclose(log_densities(z, means, chols)[:, j], expected)


def test_em_never_lowers_the_likelihood_and_is_deterministic():
    z = draws(3000, seed=2)
    lls = []
    for iters in (1, 2, 5, 20):
        w, m, c = fit_mixture(z, 3, max_iter=iters, tol=-np.inf)
        joint = log_densities(z, m, c) + np.log(w)
        lls.append(np.log(np.exp(joint).sum(1)).mean())
    assert all(b >= a - 1e-9 for a, b in zip(lls, lls[1:]))
    first, again = fit_mixture(z, 3), fit_mixture(z, 3)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_bad_component_counts_are_refused():
    with pytest.raises(ValueError, match="components=0"):
        fit_mixture(np.zeros((5, 2)), 0)


def tiny_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n + 16, 12, 12), dtype=np.uint8)
    return images[:n], None, images[n:], None


def fit(run, **kw):
    config = train.make_config("vae", epochs=2, batch_size=16, valid_size=16, **kw)
    trainer = train.Trainer(config, str(run), data=tiny_data(), progress=False)
    trainer.fit()
    return trainer


def test_the_mixture_prior_leaves_training_bit_for_bit_as_it_was(tmp_path):
    normal, gmm = fit(tmp_path / "normal"), fit(tmp_path / "gmm", prior="gmm")
    for name, module in normal.model.modules().items():
        theirs = gmm.model.modules()[name].state_dict()
        assert all(np.array_equal(v.array, theirs[k].array) for k, v in module.state_dict().items())
    assert normal.generator.get_state() == gmm.generator.get_state()
    assert normal.model.mixture is None and gmm.model.mixture is not None
    codes = gmm.model.encode(tiny_data()[0])
    assert all(
        np.array_equal(a, b) for a, b in zip(gmm.model.mixture, fit_mixture(codes, 10))
    )  # refitted after the last epoch, from every training image (fewer than MIXTURE_CODES)


def test_the_mixture_is_checkpointed_and_sampled(tmp_path):
    trainer = fit(tmp_path / "run", prior="gmm", prior_components=3)
    model, _ = load_run(str(tmp_path / "run"))
    assert all(np.array_equal(a, b) for a, b in zip(model.mixture, trainer.model.mixture))
    samples = model.sample(6, sg.Generator(5))
    assert samples.shape == (6, 1, 12, 12)
    assert np.array_equal(samples, trainer.model.sample(6, sg.Generator(5)))
    assert len(model.mixture[0]) == 3


def test_an_unfitted_mixture_and_an_unknown_prior_are_refused():
    config = train.make_config("vae", prior="gmm")
    config["image_shape"] = [1, 12, 12]
    with pytest.raises(RuntimeError, match="prior 'gmm' is fitted after each epoch"):
        train.build_model(config).sample(2, sg.Generator(0))
    with pytest.raises(ValueError, match="prior 'flat': expected 'normal' or 'gmm'"):
        train.build_model({**config, "prior": "flat"})
    with pytest.raises(ValueError, match="prior_components=0: expected at least 1"):
        train.build_model({**config, "prior_components": 0})


def test_a_resumed_run_ends_with_the_same_mixture(tmp_path):
    whole = fit(tmp_path / "whole", prior="gmm")
    config = train.make_config("vae", epochs=2, batch_size=16, valid_size=16, prior="gmm")
    first = train.Trainer(config, str(tmp_path / "cut"), data=tiny_data(), progress=False)
    first.fit(max_steps=5)  # mid-epoch 2; the stop's picture refits, its checkpoint came before
    saved = np.load(tmp_path / "cut" / "checkpoints" / "last.npz")
    resumed = train.Trainer(
        config, str(tmp_path / "cut"), resume=True, data=tiny_data(), progress=False
    )
    assert all(np.array_equal(a, saved[f"extra/{k}"]) for a, k in zip(resumed.model.mixture, KEYS))
    resumed.fit()
    assert all(np.array_equal(a, b) for a, b in zip(resumed.model.mixture, whole.model.mixture))
