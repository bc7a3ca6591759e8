"""linear-ae (Hands-On ML ch. 17): a linear autoencoder learns the PCA plane of a 3-D point cloud.

LinearAE      Dense 2 | Dense 3, no activation, MSE, SGD
principal_angles(a, b), pca_basis(points, k), save_pca_figure(...)
"""

import re
from typing import ClassVar

import numpy as np

from .. import functional as F
from .. import nn, viz
from ..train import Unsupported
from .autoencoder_base import Autoencoder


def principal_angles(a, b):
    """Principal angles (degrees, ascending) between the column spans of a (n x p) and b (n x q)."""
    qa, qb = np.linalg.qr(np.asarray(a, np.float64))[0], np.linalg.qr(np.asarray(b, np.float64))[0]
    cosines = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1.0, 1.0)
    return np.sort(np.degrees(np.arccos(cosines)))


def pca_basis(points, k):
    """The top-k principal directions of ``points`` (N x D) as columns, D x k."""
    centred = np.asarray(points, np.float64) - np.mean(points, axis=0)
    return np.linalg.svd(centred, full_matrices=False)[2][:k].T


class LinearAE(Autoencoder):
    """linear-ae (Hands-On ML ch. 17): Dense 2 | Dense 3, no activations, MSE, keras SGD(lr=0.1).

    Trained on the book's 60 centred 3-D points (``synthetic-3d``). The code space it learns, the
    span of the decoder's weight columns, converges to the plane of the two top principal
    components, but slowly: the variances along the principal axes are 0.77, 0.13 and 0.010, and the
    book's 20 epochs (40 steps of batch 32) leave the plane tens of degrees off. The recipe runs
    1,000 epochs (2,000 steps); the 3-D figure is drawn every ``picture_every`` epochs. The points
    are used as they are (float32), all of them (no validation split, no dropped batch).
    """

    recipe: ClassVar[dict] = {
        "dataset": "synthetic-3d",
        "epochs": 1000,
        "picture_every": 100,
        "batch_size": 32,
        "optimizer": "sgd",
        "lr": 0.1,
        "loss": "mse",
        "input_size": 3,
        "codings_size": 2,
        "init": "glorot",
        "valid_size": 0,
        "drop_last": False,
    }

    def build_networks(self, generator):
        c = self.config
        return (
            nn.Sequential(nn.Linear(c["input_size"], c["codings_size"], generator=generator)),
            nn.Sequential(nn.Linear(c["codings_size"], c["input_size"], generator=generator)),
        )

    def to_input(self, points):
        return self.floats(np.asarray(points))

    def loss(self, x, x_hat):
        mse = F.mse_loss(x_hat, x)
        return mse, {"mse": mse}

    def code_space(self):
        """The decoder's weight columns (input_size x codings_size): they span the learned code
        plane."""
        return self.decoder[0].weight.numpy()

    def angles_to_pca(self, points):
        """Principal angles (degrees) between the learned code plane and the top principal plane of
        ``points``."""
        return principal_angles(self.code_space(), pca_basis(points, self.config["codings_size"]))

    def picture(self, points, path, n=None):
        """The 3-D points with the learned plane, and their 2-D codings (the book's figure); the
        trainer's per-epoch pictures (samples/epoch-XXX.png) only every ``picture_every`` epochs."""
        epoch = re.search(r"epoch-(\d+)\.png$", str(path))
        if epoch and int(epoch.group(1)) % self.config.get("picture_every", 1):
            return None
        return save_pca_figure(
            points, self.encode(points), self.code_space(), self.angles_to_pca(points), path
        )

    def inpaint(self, images, mask, generator=None):
        raise Unsupported("linear-ae works on 3-D points, not images: nothing to inpaint")


def save_pca_figure(points, codes, plane, angles, path, size=(900, 400)):
    """Left: 3-D points and the plane spanned by ``plane``'s columns; right: the 2-D codes."""
    import mpl_toolkits.mplot3d  # noqa: F401  (registers the 3-D projection)

    fig, dpi = viz._figure(size)
    ax = fig.add_subplot(1, 2, 1, projection="3d")
    ax.scatter(points[:, 0], points[:, 1], points[:, 2], c="k", s=6)
    q = np.linalg.qr(plane)[0]
    lo, hi = (points @ q).min(axis=0), (points @ q).max(axis=0)  # the plane's extent: the data's
    s, t = np.meshgrid(np.linspace(lo[0], hi[0], 8), np.linspace(lo[1], hi[1], 8))
    surface = q[:, 0, None, None] * s + q[:, 1, None, None] * t
    ax.plot_surface(*surface, alpha=0.25, color="tab:blue")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_zlabel("x3")
    ax.set_title("data and the learned code plane", fontsize=9)
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(codes[:, 0], codes[:, 1], "b.")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.grid(alpha=0.3)
    ax.set_title(
        f"codings; angles to the PCA plane {angles[0]:.2f} and {angles[1]:.2f} deg", fontsize=9
    )
    fig.tight_layout()
    return viz._save_figure(fig, path, dpi)
