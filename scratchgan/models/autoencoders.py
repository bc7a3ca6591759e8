"""Autoencoders (Hands-On ML ch. 17): an encoder and a decoder trained to reconstruct their input.

``Autoencoder`` is the family's base: it holds encoder + decoder and one optimiser, trains on the
reconstruction loss (binary cross-entropy on [0, 1] pixels, the book's choice), validates on it,
draws input-over-reconstruction pictures and gives the command line encode / decode /
reconstruct / interpolate / inpaint. A family member only says how to build its two networks
(``build_networks``) and, if its objective has more terms, overrides ``loss`` (the reconstruction
term) or ``penalties`` (terms on the codings: sparsity).

    LinearAE      linear-ae:    Dense 2 | Dense 3, no activation, MSE, SGD (= PCA of a 3-D point cloud)
    StackedAE     stacked-ae:   Flatten, Dense 100 SELU, Dense 30 SELU | Dense 100 SELU, Dense 784 sigmoid, reshape
    TiedAE        tied-ae:      the same encoder | DenseTranspose(dense 2) SELU, DenseTranspose(dense 1) sigmoid
    GreedyAE      greedy-ae:    784-100-784 trained first, then 100-30-100 on its codings, then stacked
    ConvAE        conv-ae:      conv 16/32/64 (3x3 same, SELU) + 2x2 max pooling -> 3x3x64 | transposed convs -> 28x28
    RecurrentAE   recurrent-ae: LSTM 100, LSTM 30 over image rows | repeat 28, LSTM 100, time-distributed Dense 28 sigmoid
    DenoisingAE   denoising-ae: stacked-ae with Gaussian noise (std 0.2) or dropout (0.5) on the input, in training
    SparseL1AE    sparse-l1-ae: Dense 100 SELU, Dense 300 sigmoid + L1 activity penalty 1e-3 | Dense 100, Dense 784
    SparseKLAE    sparse-kl-ae: the same with a KL penalty towards a mean activation of 0.1 (weight 0.05)

The variational autoencoders live in vae.py.
"""

import contextlib
import itertools
import math
import re
from typing import ClassVar

import numpy as np

from .. import functional as F
from .. import nn, viz
from ..autograd import no_grad
from ..ops.shape import stack
from ..tensor import randn, tensor
from ..train import Model, Unsupported, build_optimizer

EVAL_CHUNK = 1000  # images per forward pass when validating


# ----- Keras's initialisation, which the books' models were trained with
def _one_blas_thread():
    """A context with one BLAS thread where threadpoolctl is installed: on 2 busy cores a threaded 400 x 100
    QR took 3.6 s instead of 6 ms."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _orthogonal(rows, cols, generator):
    """A rows x cols matrix with orthonormal columns (rows >= cols) or rows (Keras's Orthogonal)."""
    a = generator.normal((max(rows, cols), min(rows, cols)), np.float64)
    with _one_blas_thread():
        q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    return (q if rows >= cols else q.T).astype(np.float32)


def keras_init_(module, generator):
    """Keras's defaults on every layer of ``module``: glorot_uniform kernels and zero biases for Linear,
    Conv2d and ConvTranspose2d; for LSTM glorot_uniform input kernels, orthogonal recurrent kernels and
    zero biases with the forget gate's set to 1 (unit_forget_bias). A layer shared by two parts of a
    model is initialised once. Glorot's bound sqrt(6 / (fan_in + fan_out)) is symmetric in the two fans,
    so PyTorch's fan convention for transposed-convolution weights gives Keras's bound too."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LSTM):
            H = m.hidden_size
            for k in range(m.num_layers):
                nn.init.xavier_uniform_(getattr(m, f"weight_ih_l{k}"), generator=generator)
                w_hh = getattr(m, f"weight_hh_l{k}")
                w_hh.data = w_hh.xp.asarray(_orthogonal(4 * H, H, generator), dtype=w_hh.dtype)
                if m.bias:
                    nn.init.zeros_(getattr(m, f"bias_hh_l{k}"))
                    b = getattr(m, f"bias_ih_l{k}")
                    nn.init.zeros_(b)
                    b.data[H : 2 * H] = 1  # gate order i, f, g, o
    return module


def dense_stack(sizes, activation, last_activation, generator):
    """Linear layers sizes[0] -> sizes[1] -> ..., each followed by ``activation()``, the last one by
    ``last_activation()`` (None: no activation), as a list of modules."""
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out, generator=generator))
        act = last_activation if i == len(sizes) - 2 else activation
        if act is not None:
            layers.append(act())
    return layers


def unique_parameters(*modules):
    """The parameters of ``modules``, each once (tied weights are shared)."""
    seen, params = set(), []
    for module in modules:
        for p in module.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return params


class Autoencoder(Model):
    """Base of the autoencoders; subclasses implement ``build_networks(generator) -> (encoder, decoder)``.

    The encoder takes N x C x H x W images in [0, 1]; the decoder returns images of the same shape.
    Recipe keys every autoencoder understands: ``init`` ("glorot": Keras's initialisation, see
    ``keras_init_``; otherwise PyTorch's) and ``train_images`` (train on the first N images of the
    training split only, to fit a time budget; None: all of them).
    """

    loss_name = "bce"

    def __init__(self, config, generator):
        super().__init__(config, generator)
        self.image_shape = tuple(config.get("image_shape", (1, 28, 28)))
        self.encoder, self.decoder = self.build_networks(generator)
        if config.get("init") == "glorot":
            keras_init_(nn.ModuleList([self.encoder, self.decoder]), generator)
        self.encoder.to(self.device)
        self.decoder.to(self.device)
        self._optimizers = self.build_optimizers()
        self.optimizer = next(iter(self._optimizers.values()))

    def build_networks(self, generator):
        raise NotImplementedError

    def build_optimizers(self):
        """{name: optimiser}; by default one optimiser of ``config['optimizer']`` over every parameter."""
        return {"optimizer": build_optimizer(self.parameters(), self.config)}

    def parameters(self):
        """Encoder and decoder parameters, each once (tied weights are shared)."""
        return unique_parameters(self.encoder, self.decoder)

    def num_parameters(self):
        return int(sum(p.numel() for p in self.parameters()))

    def modules(self):
        return {"encoder": self.encoder, "decoder": self.decoder}

    def optimizers(self):
        return self._optimizers

    def loader_arrays(self, images, labels):
        n = self.config.get("train_images")
        return (images if n is None else images[: int(n)],)

    # ----- training
    def forward(self, x):
        return self.decoder(self.encoder(x))

    def loss(self, x, x_hat):
        """The reconstruction objective (a scalar Tensor) and the dict of its parts to log."""
        bce = F.binary_cross_entropy(x_hat, x)
        return bce, {"bce": bce}

    def penalties(self, codings):
        """Extra terms on the codings, already weighted: {name: scalar Tensor} (none by default)."""
        return {}

    def coding_stats(self, codings):
        """Statistics of the codings to log beside the loss (not trained on): {name: scalar Tensor}."""
        return {}

    def objective(self, x):
        """(scalar loss, {name: Tensor to log}) of a batch: reconstruction loss + penalties."""
        codings = self.encoder(x)
        loss, parts = self.loss(x, self.decoder(codings))
        extra = self.penalties(codings)
        for term in extra.values():
            loss = loss + term
        if extra:
            parts = {**parts, **extra, "loss": loss}
        return loss, {**parts, **self.coding_stats(codings)}

    def train_step(self, batch):
        x = self.to_input(batch[0])
        self.optimizer.zero_grad()
        loss, parts = self.objective(x)
        loss.backward()
        self.optimizer.step()
        return {k: v.item() for k, v in parts.items()}

    def evaluate(self, images, labels=None):
        """Mean of each logged part over ``images`` (per pixel for the reconstruction loss)."""
        totals = {}
        with no_grad():
            for i in range(0, len(images), EVAL_CHUNK):
                x = self.to_input(images[i : i + EVAL_CHUNK])
                _, parts = self.objective(x)
                for k, v in parts.items():
                    totals[k] = totals.get(k, 0.0) + v.item() * len(x)
        return {k: v / len(images) for k, v in totals.items()}

    def picture(self, images, path, n=10):
        viz.save_reconstructions(self.to_input(images[:n]).numpy(), self.reconstruct(images[:n]), path)

    # ----- for the command line and the figures
    def encode(self, images):
        with no_grad():
            return np.concatenate([self.encoder(self.to_input(images[i : i + EVAL_CHUNK])).numpy()
                                   for i in range(0, len(images), EVAL_CHUNK)])

    def decode(self, codes):
        with no_grad():
            return self.decoder(tensor(np.asarray(codes, dtype=np.float32), device=self.device)).numpy()

    def reconstruct(self, images):
        with no_grad():
            return self.forward(self.to_input(images)).numpy()

    def interpolate(self, images, rows, steps, generator):
        """Decode straight lines between the codes of random pairs of ``images``: rows x steps x C x H x W."""
        pick = generator.integers(0, len(images), (2 * rows,))
        codes = self.encode(images[pick])
        a, b = codes[:rows, None], codes[rows:, None]
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
        lines = (1 - t) * a + t * b  # rows x steps x code
        out = self.decode(lines.reshape(rows * steps, -1))
        return out.reshape((rows, steps) + out.shape[1:])

    def inpaint(self, images, mask, generator=None):
        """Fill the pixels where ``mask`` (H x W, True = known) is False with the reconstruction of the
        masked image (unknown pixels set to 0). Returns float images in [0, 1]."""
        x = self.to_input(images).numpy()
        known = np.broadcast_to(np.asarray(mask, dtype=bool), x.shape[-2:])
        masked = np.where(known, x, np.float32(0))
        with no_grad():
            out = self.forward(tensor(masked, device=self.device)).numpy()
        return np.where(known, x, out)

    def codings_map(self, images, labels, path, method="auto", seed=0, class_names=None):
        """The book's view of the code space: the codings of ``images`` mapped to 2-D (t-SNE when
        scikit-learn is installed and ``method`` is "auto" or "tsne", else PCA), coloured by class
        (legend: ``class_names``, default the class numbers). Returns the method used."""
        codes = self.encode(images).reshape(len(images), -1).astype(np.float64)
        if method == "auto":
            try:
                import sklearn  # noqa: F401

                method = "tsne"
            except ImportError:
                method = "pca"
        if method == "tsne":
            from sklearn.manifold import TSNE

            points = TSNE(n_components=2, init="pca", random_state=seed).fit_transform(codes)
        elif method == "pca":
            centred = codes - codes.mean(axis=0)
            points = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
        else:
            raise ValueError(f"method {method!r}: expected auto, tsne or pca")
        names = class_names or [str(c) for c in range(int(np.max(labels)) + 1)]
        viz.save_latent_scatter(points, labels, path, class_names=names)
        return method


# ----- linear autoencoder = PCA
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

    Trained on the book's 60 centred 3-D points (``synthetic-3d``). The code space it learns, the span
    of the decoder's weight columns, converges to the plane of the two top principal components, but
    slowly: the variances along the principal axes are 0.77, 0.13 and 0.010, and the book's 20 epochs
    (40 steps of batch 32) leave the plane tens of degrees off. The recipe runs 1,000 epochs (2,000
    steps); the 3-D figure is drawn every ``picture_every`` epochs. The points are used as they are
    (float32), all of them (no validation split, no dropped batch).
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
        return (nn.Sequential(nn.Linear(c["input_size"], c["codings_size"], generator=generator)),
                nn.Sequential(nn.Linear(c["codings_size"], c["input_size"], generator=generator)))

    def to_input(self, points):
        return tensor(np.asarray(points, dtype=np.float32), device=self.device)

    def loss(self, x, x_hat):
        mse = F.mse_loss(x_hat, x)
        return mse, {"mse": mse}

    def code_space(self):
        """The decoder's weight columns (input_size x codings_size): they span the learned code plane."""
        return self.decoder[0].weight.numpy()

    def angles_to_pca(self, points):
        """Principal angles (degrees) between the learned code plane and the top principal plane of ``points``."""
        return principal_angles(self.code_space(), pca_basis(points, self.config["codings_size"]))

    def picture(self, points, path, n=None):
        """The 3-D points with the learned plane, and their 2-D codings (the book's figure); the trainer's
        per-epoch pictures (samples/epoch-XXX.png) only every ``picture_every`` epochs."""
        epoch = re.search(r"epoch-(\d+)\.png$", str(path))
        if epoch and int(epoch.group(1)) % self.config.get("picture_every", 1):
            return None
        return save_pca_figure(points, self.encode(points), self.code_space(), self.angles_to_pca(points), path)

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
    ax.set_title(f"codings; angles to the PCA plane {angles[0]:.2f} and {angles[1]:.2f} deg", fontsize=9)
    fig.tight_layout()
    return viz._save_figure(fig, path, dpi)


# ----- stacked autoencoders
class StackedAE(Autoencoder):
    """stacked-ae (Hands-On ML ch. 17): 784-100-30 SELU encoder, 30-100-784 decoder with a sigmoid output.

    The book's recipe: binary cross-entropy, keras SGD(lr=1.5), batch 32, 10 epochs on Fashion-MNIST
    scaled to [0, 1], 55,000 training / 5,000 validation images, Keras initialisation (glorot_uniform,
    zero biases); Keras's fit keeps the last, smaller batch of each epoch (drop_last False).
    """

    recipe: ClassVar[dict] = {
        "epochs": 10,
        "batch_size": 32,
        "optimizer": "sgd",
        "lr": 1.5,
        "loss": "bce",
        "hidden_size": 100,
        "codings_size": 30,
        "init": "glorot",
        "drop_last": False,
    }

    def build_networks(self, generator):
        c = self.config
        pixels = math.prod(self.image_shape)
        encoder = nn.Sequential(nn.Flatten(), *dense_stack([pixels, c["hidden_size"], c["codings_size"]], nn.SELU, nn.SELU, generator))
        decoder = nn.Sequential(
            *dense_stack([c["codings_size"], c["hidden_size"], pixels], nn.SELU, nn.Sigmoid, generator),
            nn.Unflatten(1, self.image_shape),
        )
        return encoder, decoder


class TiedAE(StackedAE):
    """tied-ae (Hands-On ML ch. 17): stacked-ae whose decoder layers reuse the encoder's weight matrices,
    transposed (``nn.DenseTranspose``), with biases of their own: about half the parameters.

    The same recipe as stacked-ae (SGD lr 1.5, 10 epochs, batch 32), so the two compare directly.
    """

    def build_networks(self, generator):
        c = self.config
        pixels = math.prod(self.image_shape)
        dense_1 = nn.Linear(pixels, c["hidden_size"], generator=generator)
        dense_2 = nn.Linear(c["hidden_size"], c["codings_size"], generator=generator)
        encoder = nn.Sequential(nn.Flatten(), dense_1, nn.SELU(), dense_2, nn.SELU())
        decoder = nn.Sequential(nn.DenseTranspose(dense_2), nn.SELU(), nn.DenseTranspose(dense_1), nn.Sigmoid(),
                                nn.Unflatten(1, self.image_shape))
        return encoder, decoder


class GreedyAE(StackedAE):
    """greedy-ae (Hands-On ML ch. 17, "training one autoencoder at a time"):

        phase 1  a shallow autoencoder 784-100-784 (SELU | sigmoid), BCE, SGD lr 1.5, on the images
        phase 2  a shallow autoencoder 100-30-100 (SELU | SELU), MSE, SGD lr 0.05, on phase 1's codings
        stacked  Flatten, enc1, enc2 | dec2, dec1, reshape: the stacked-ae architecture

    ``stage_epochs`` [e1, e2] splits ``epochs`` between the phases (the rest goes to phase 2). Phase 2
    encodes each batch with the frozen phase-1 encoder on the fly, which gives the book's precomputed
    X_train_enc1 exactly. Validation reports the whole stack's BCE (comparable with stacked-ae) and the
    two phases' own losses.
    """

    recipe: ClassVar[dict] = {
        **StackedAE.recipe,
        "epochs": 10,
        "stage_epochs": [5, 5],
        "stage1_lr": 1.5,
        "stage2_lr": 0.05,
    }

    def __init__(self, config, generator):
        self.step_count = 0
        self.steps_per_epoch = None  # known once loader_arrays has seen the data
        super().__init__(config, generator)

    def build_networks(self, generator):
        c = self.config
        pixels = math.prod(self.image_shape)
        self.enc1 = nn.Sequential(nn.Flatten(), nn.Linear(pixels, c["hidden_size"], generator=generator), nn.SELU())
        self.dec1 = nn.Sequential(nn.Linear(c["hidden_size"], pixels, generator=generator), nn.Sigmoid(),
                                  nn.Unflatten(1, self.image_shape))
        self.enc2 = nn.Sequential(nn.Linear(c["hidden_size"], c["codings_size"], generator=generator), nn.SELU())
        self.dec2 = nn.Sequential(nn.Linear(c["codings_size"], c["hidden_size"], generator=generator), nn.SELU())
        return nn.Sequential(self.enc1, self.enc2), nn.Sequential(self.dec2, self.dec1)

    def build_optimizers(self):
        return {"stage1": build_optimizer(unique_parameters(self.enc1, self.dec1), self.config, "stage1_"),
                "stage2": build_optimizer(unique_parameters(self.enc2, self.dec2), self.config, "stage2_")}

    def loader_arrays(self, images, labels):
        arrays = super().loader_arrays(images, labels)
        n, b = len(arrays[0]), self.config["batch_size"]
        self.steps_per_epoch = n // b if self.config["drop_last"] else math.ceil(n / b)
        return arrays

    def stage(self):
        """1 or 2: the phase the next training step belongs to."""
        if self.steps_per_epoch is None:
            return 1
        return 1 if self.step_count < self.config["stage_epochs"][0] * self.steps_per_epoch else 2

    def stage_losses(self, x):
        """{'bce1': phase 1's loss on x, 'mse2': phase 2's loss on x's phase-1 codings (constant input)}."""
        h = self.enc1(x)
        bce1 = F.binary_cross_entropy(self.dec1(h), x)
        h = h.detach()
        return {"bce1": bce1, "mse2": F.mse_loss(self.dec2(self.enc2(h)), h)}

    def train_step(self, batch):
        x = self.to_input(batch[0])
        stage = self.stage()
        opt = self._optimizers[f"stage{stage}"]
        opt.zero_grad()
        if stage == 1:
            loss = F.binary_cross_entropy(self.dec1(self.enc1(x)), x)
            name = "bce1"
        else:
            with no_grad():
                h = self.enc1(x)
            loss = F.mse_loss(self.dec2(self.enc2(h)), h)
            name = "mse2"
        loss.backward()
        opt.step()
        self.step_count += 1
        return {name: loss.item()}

    def objective(self, x):
        loss, parts = super().objective(x)
        return loss, {**parts, **self.stage_losses(x)}

    def extra_state(self):
        return {"step_count": np.array(self.step_count, dtype=np.int64)}

    def load_extra_state(self, state):
        if "step_count" in state:
            self.step_count = int(state["step_count"])


# ----- convolutional and recurrent autoencoders
class ConvAE(StackedAE):
    """conv-ae (Hands-On ML ch. 17):

        encoder  conv 16, 3x3 same, SELU, max pool 2 | conv 32 ... | conv 64 ...     28 -> 14 -> 7 -> 3, 3x3x64
        decoder  conv-transpose 32, 3x3, stride 2, valid, SELU                         3 -> 7
                 conv-transpose 16, 3x3, stride 2, same, SELU                          7 -> 14
                 conv-transpose 1, 3x3, stride 2, same, sigmoid                        14 -> 28

    Keras's "same" transposed convolution is padding=1, output_padding=1 here; the two crop the extra
    row on opposite sides (a one-pixel shift of the output grid, nothing more). BCE, keras SGD. The
    book's text gives no training recipe for this model: lr 1.0, batch 32, on the first 20,000 training
    images for 2 epochs, to fit a few minutes on 2 CPU cores (about 350 images/s).
    """

    recipe: ClassVar[dict] = {
        "epochs": 2,
        "batch_size": 32,
        "optimizer": "sgd",
        "lr": 1.0,
        "loss": "bce",
        "init": "glorot",
        "drop_last": False,
        "train_images": 20000,
    }

    def build_networks(self, generator):
        g, c = generator, self.image_shape[0]
        encoder = nn.Sequential(
            nn.Conv2d(c, 16, 3, padding=1, generator=g), nn.SELU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, generator=g), nn.SELU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, generator=g), nn.SELU(), nn.MaxPool2d(2),
        )
        decoder = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 3, stride=2, generator=g), nn.SELU(),
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1, generator=g), nn.SELU(),
            nn.ConvTranspose2d(16, c, 3, stride=2, padding=1, output_padding=1, generator=g), nn.Sigmoid(),
        )
        return encoder, decoder


class Rows(nn.Module):
    """N x C x H x W images -> N x H x (C*W) sequences: one time step per image row."""

    def forward(self, input):
        n, c, h, w = input.shape
        return input.permute(0, 2, 1, 3).reshape(n, h, c * w)


class RecurrentLayer(nn.Module):
    """Keras's LSTM layer: the sequence of outputs (``return_sequences``) or the last output only."""

    def __init__(self, input_size, hidden_size, return_sequences=False, generator=None):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True, generator=generator)
        self.return_sequences = return_sequences

    def forward(self, input):
        output, _ = self.lstm(input)
        return output if self.return_sequences else output[:, -1]


class RepeatVector(nn.Module):
    """N x D -> N x n x D, the vector repeated at every time step (Keras's RepeatVector)."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, input):
        return stack([input] * self.n, axis=1)


class Transpose12(nn.Module):
    """N x H x C x W -> N x C x H x W (rows back into an image)."""

    def forward(self, input):
        return input.permute(0, 2, 1, 3)


class RecurrentAE(StackedAE):
    """recurrent-ae (Hands-On ML ch. 17): an image is a sequence of its 28 rows of 28 pixels.

        encoder  LSTM 100 (return sequences), LSTM 30 (last output: the codings, in (-1, 1))
        decoder  repeat the codings 28 times, LSTM 100 (return sequences), Dense 28 sigmoid at every step

    BCE. The book's text gives no training recipe for this model. The unrolled LSTMs cost per step more
    than per image (about 450 images/s at batch 128 against 130 at 32 on 2 idle cores), so the recipe
    takes batch 128, and with so few steps (3 epochs over the first 20,000 training images: 471 steps)
    Adam lr 0.003, which after 40 steps was ahead of Adam lr 0.001 and SGD lr 1.0 (validation BCE 0.477
    against 0.512 and 0.536).
    """

    recipe: ClassVar[dict] = {
        "epochs": 3,
        "batch_size": 128,
        "optimizer": "adam",
        "lr": 0.003,
        "loss": "bce",
        "hidden_size": 100,
        "codings_size": 30,
        "init": "glorot",
        "drop_last": False,
        "train_images": 20000,
    }

    def build_networks(self, generator):
        c, g = self.config, generator
        channels, height, width = self.image_shape
        encoder = nn.Sequential(Rows(), RecurrentLayer(channels * width, c["hidden_size"], True, g),
                                RecurrentLayer(c["hidden_size"], c["codings_size"], False, g))
        decoder = nn.Sequential(RepeatVector(height), RecurrentLayer(c["codings_size"], c["hidden_size"], True, g),
                                nn.Linear(c["hidden_size"], channels * width, generator=g), nn.Sigmoid(),
                                nn.Unflatten(2, (channels, width)), Transpose12())
        return encoder, decoder


# ----- denoising and sparse autoencoders
class GaussianNoise(nn.Module):
    """x + N(0, std^2) noise in training mode, the identity in eval mode (Keras's GaussianNoise)."""

    def __init__(self, std, generator=None):
        super().__init__()
        self.std, self.generator = std, generator

    def forward(self, input):
        if not self.training or self.std == 0:
            return input
        noise = randn(*input.shape, dtype=input.dtype, generator=self.generator).to(input.device)
        return input + noise * self.std

    def extra_repr(self):
        return f"std={self.std}"


class DenoisingAE(StackedAE):
    """denoising-ae (Hands-On ML ch. 17): stacked-ae with a corruption layer after Flatten, active in
    training only (validation and reconstructions see clean images):

        noise="gaussian"   GaussianNoise(noise_std=0.2)
        noise="dropout"    Dropout(dropout_rate=0.5) (kept pixels are scaled by 2, as Keras does)

    The noise draws come from the model's generator (checkpointed, so resume stays exact). The book's
    text gives no lr: SGD lr 1.0, 10 epochs, batch 32, as stacked-ae otherwise.
    """

    recipe: ClassVar[dict] = {
        **StackedAE.recipe,
        "lr": 1.0,
        "noise": "gaussian",
        "noise_std": 0.2,
        "dropout_rate": 0.5,
    }

    def build_networks(self, generator):
        c = self.config
        if c["noise"] == "gaussian":
            self.noise = GaussianNoise(c["noise_std"], generator=generator)
        elif c["noise"] == "dropout":
            self.noise = nn.Dropout(c["dropout_rate"], generator=generator)
        else:
            raise ValueError(f"noise {c['noise']!r}: expected gaussian or dropout")
        encoder, decoder = super().build_networks(generator)
        return nn.Sequential(encoder[0], self.noise, *list(encoder)[1:]), decoder

    def corrupt(self, images, generator):
        """The noisy inputs the encoder sees in training, drawn from ``generator`` (N x C x H x W floats)."""
        x = self.to_input(images)
        saved = self.noise.generator
        self.noise.generator = generator
        was_training = self.noise.training
        self.noise.train(True)
        try:
            with no_grad():
                return self.noise(x).numpy()
        finally:
            self.noise.generator = saved
            self.noise.train(was_training)

    def denoise(self, noisy):
        """Reconstructions of already-corrupted float images (the noise layer is off in eval mode)."""
        was_training = self.encoder.training
        self.encoder.train(False)
        try:
            with no_grad():
                return self.forward(tensor(np.asarray(noisy, np.float32), device=self.device)).numpy()
        finally:
            self.encoder.train(was_training)

    def picture(self, images, path, n=10, seed=0):
        """Rows: clean inputs, their noisy versions, the reconstructions of the noisy versions."""
        from ..random import Generator

        clean = self.to_input(images[:n]).numpy()
        noisy = self.corrupt(images[:n], Generator(seed))
        strips = np.stack([clean, np.clip(noisy, 0, 1), self.denoise(noisy)])
        return viz.save_interpolation(strips, path)


class SparseAE(StackedAE):
    """Base of the sparse autoencoders: Flatten, Dense 100 SELU, Dense 300 sigmoid | Dense 100 SELU,
    Dense 784 sigmoid; the penalty on the 300 codings is the subclass's. Logs the mean coding activation."""

    recipe: ClassVar[dict] = {**StackedAE.recipe, "lr": 1.0, "codings_size": 300}

    def build_networks(self, generator):
        c = self.config
        pixels = math.prod(self.image_shape)
        encoder = nn.Sequential(nn.Flatten(), *dense_stack([pixels, c["hidden_size"], c["codings_size"]], nn.SELU, nn.Sigmoid, generator))
        decoder = nn.Sequential(
            *dense_stack([c["codings_size"], c["hidden_size"], pixels], nn.SELU, nn.Sigmoid, generator),
            nn.Unflatten(1, self.image_shape),
        )
        return encoder, decoder

    def coding_stats(self, codings):
        return {"mean_activation": codings.mean().detach()}

    def picture(self, images, path, n=10):
        """Reconstructions, and beside them (``*-activations.png``) the histograms of the codings of ``images``."""
        self.activation_histogram(images, str(path)[: -len(".png")] + "-activations.png")
        return super().picture(images, path, n)

    def activation_histogram(self, images, path, size=(900, 360)):
        """The book's sparsity figure: histograms of all coding activations and of each unit's mean."""
        codes = self.encode(images)
        fig, dpi = viz._figure(size)
        for i, (values, title) in enumerate([(codes.ravel(), "all activations"),
                                             (codes.mean(axis=0), "mean activation per unit")]):
            ax = fig.add_subplot(1, 2, i + 1)
            ax.hist(values, bins=np.linspace(0, 1, 41), color="tab:blue")
            ax.axvline(values.mean(), color="tab:red", lw=1, label=f"mean {values.mean():.3f}")
            ax.set_xlabel("activation")
            ax.set_ylabel("count")
            ax.set_title(title, fontsize=9)
            ax.legend(fontsize=8)
        fig.suptitle(f"{self.name}: codings of {len(images)} images", fontsize=10)
        fig.tight_layout()
        return viz._save_figure(fig, path, dpi)


class SparseL1AE(SparseAE):
    """sparse-l1-ae (Hands-On ML ch. 17): 300 sigmoid codings with an L1 activity penalty,
    ``l1 * mean over the batch of sum_units |z|`` (Keras's ActivityRegularization(l1=1e-3): the sum over
    the batch divided by the batch size). SGD lr 1.0, 10 epochs, batch 32."""

    recipe: ClassVar[dict] = {**SparseAE.recipe, "l1": 1e-3}

    def penalties(self, codings):
        return {"l1": codings.abs().sum() * (self.config["l1"] / codings.shape[0])}


def bernoulli_kl(p, q, eps=1e-7):
    """sum over units of KL(p || q) + KL(1 - p || 1 - q) for a target rate p and mean activations q,
    each q clipped to [eps, 1 - eps] (Keras clips likewise)."""
    q = q.clip(eps, 1 - eps)
    return (p * (math.log(p) - q.log()) + (1 - p) * (math.log(1 - p) - (1 - q).log())).sum()


class SparseKLAE(SparseAE):
    """sparse-kl-ae (Hands-On ML ch. 17): 300 sigmoid codings; the penalty is
    ``weight * sum_units [KL(t || q_j) + KL(1 - t || 1 - q_j)]`` with q_j unit j's mean activation over
    the batch, t = 0.1 and weight 0.05. (Keras divides any activity regulariser by the batch size once
    more, which weakens this batch-level penalty 32-fold; here the weight applies as written.) SGD lr 1.0,
    10 epochs, batch 32."""

    recipe: ClassVar[dict] = {**SparseAE.recipe, "sparsity_target": 0.1, "sparsity_weight": 0.05}

    def penalties(self, codings):
        kl = bernoulli_kl(self.config["sparsity_target"], codings.mean(axis=0))
        return {"kl": kl * self.config["sparsity_weight"]}
