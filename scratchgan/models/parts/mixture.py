"""A Gaussian mixture with full covariances, fitted by EM: the "ex-post density estimation" prior
of a trained VAE (Ghosh et al. 2020; Dai and Wipf 2019 fit a second VAE instead).

A VAE is trained to make each image's posterior q(z|x) close to N(0, I), but their average over the
data, q(z) = mean over x of q(z|x), need not fill N(0, I): draws from the prior land in holes no
image's code lies in and decode to blends. Fitting p(z) = sum_k w_k N(z; m_k, S_k) to the training
images' mean codes and sampling from it instead leaves the trained networks as they are.

EM on the codes z_1..z_N (float64):

    E  r_nk = w_k N(z_n; m_k, S_k) / sum_j w_j N(z_n; m_j, S_j)
    M  N_k = sum_n r_nk,  w_k = N_k / N,  m_k = sum_n r_nk z_n / N_k,
       S_k = sum_n r_nk (z_n - m_k)(z_n - m_k)^T / N_k + eps I

from a k-means++ start (Arthur and Vassilvitskii 2007), until the mean log-likelihood gains less
than ``tol``. Everything is a function of the codes and ``seed``, so refitting the same network
gives the same mixture bit for bit.
"""

import math

import numpy as np

from ...factories import rand, randn


def kmeans_plus_plus(z, k, rng):
    """k rows of ``z``: the first uniformly, each next with probability proportional to its
    squared distance to the nearest one chosen so far."""
    centers = [z[rng.integers(len(z))]]
    d2 = ((z - centers[0]) ** 2).sum(1)
    for _ in range(1, k):
        centers.append(z[rng.choice(len(z), p=d2 / d2.sum())])
        d2 = np.minimum(d2, ((z - centers[-1]) ** 2).sum(1))
    return np.stack(centers)


def log_densities(z, means, chols):
    """log N(z_n; m_k, L_k L_k^T) for every code and component: N x k."""
    n, d = z.shape
    out = np.empty((n, len(means)))
    for j, (m, L) in enumerate(zip(means, chols)):
        y = np.linalg.solve(L, (z - m).T)  # L y = z - m, so |y|^2 = (z - m)^T S^-1 (z - m)
        log_det = 2.0 * np.log(np.diag(L)).sum()
        out[:, j] = -0.5 * (d * math.log(2 * math.pi) + log_det + (y**2).sum(0))
    return out


def fit_mixture(codes, components, seed=0, max_iter=100, tol=1e-3, eps=1e-6):
    """EM for a ``components``-Gaussian mixture on ``codes`` (N x d). Returns (weights k, means
    k x d, chols k x d x d: each covariance's lower Cholesky factor), float64."""
    z = np.asarray(codes, dtype=np.float64)
    n, d = z.shape
    if not 1 <= components <= n:
        raise ValueError(f"components={components}: expected 1 to the {n} codes")
    rng = np.random.default_rng(seed)
    nearest = ((z[:, None] - kmeans_plus_plus(z, components, rng)[None]) ** 2).sum(2).argmin(1)
    resp = np.eye(components)[nearest]
    previous = -np.inf
    for _ in range(max_iter):
        counts = resp.sum(0) + 10 * np.finfo(np.float64).eps  # an emptied component stays finite
        weights, means = counts / n, (resp.T @ z) / counts[:, None]
        chols = np.empty((components, d, d))
        for j in range(components):
            diff = z - means[j]
            chols[j] = np.linalg.cholesky(
                (resp[:, j, None] * diff).T @ diff / counts[j] + eps * np.eye(d)
            )
        joint = log_densities(z, means, chols) + np.log(weights)
        top = joint.max(1, keepdims=True)
        log_norm = top[:, 0] + np.log(np.exp(joint - top).sum(1))
        resp = np.exp(joint - log_norm[:, None])
        mean_ll = log_norm.mean()
        if mean_ll - previous < tol:
            break
        previous = mean_ll
    return weights, means, chols


def sample_mixture(weights, means, chols, n, generator):
    """n draws (n x d, float32) of the mixture with ``generator``: a component by inverting the
    weights' cumulative sum at a uniform draw, then m_k + L_k e with e ~ N(0, I)."""
    u = rand(n, dtype=np.float64, generator=generator).numpy()
    which = np.minimum(np.searchsorted(np.cumsum(weights), u, side="right"), len(weights) - 1)
    e = randn(n, means.shape[1], dtype=np.float64, generator=generator).numpy()
    return (means[which] + np.einsum("nij,nj->ni", chols[which], e)).astype(np.float32)
