"""cyclegan: unpaired image-to-image translation (Zhu et al. 2017; GANs in Action ch. 9).

Two generators, G: A -> B and F: B -> A, and two discriminators, D_B (is it a real B?) and D_A. With
no pairs to learn from, the translations are tied together by cycle consistency: F(G(a)) ~ a and
G(F(b)) ~ b. The generator objective (the book's weights: lambda_cycle 10, lambda_id = 0.1
lambda_cycle):

    L_G = mse(D_B(G(a)), 1) + mse(D_A(F(b)), 1)              least-squares adversarial terms
        + lambda_cycle (|F(G(a)) - a|_1 + |G(F(b)) - b|_1)    cycle consistency
        + lambda_id (|F(a) - a|_1 + |G(b) - b|_1)            identity (keep what is already right)
    L_D_X = (mse(D_X(x), 1) + mse(D_X(x_fake), 0)) / 2         for X = A, B, on pooled fakes

Adam lr 2e-4, betas (0.5, 0.999); D sees fakes through an image pool of 50 (Shrivastava et al.);
each step updates both generators first (through frozen discriminators), then both discriminators.

The book's U-Net generator ("unet", default; gf filters) on 32 x 32 images (Keras "same" padding):

      d1  Conv 4x4 s2, LReLU 0.2, InstanceNorm       gf  x 16 x 16
      d2  Conv 4x4 s2, LReLU 0.2, InstanceNorm       2gf x 8 x 8
      d3  Conv 4x4 s2, LReLU 0.2, InstanceNorm       4gf x 4 x 4
      d4  Conv 4x4 s2, LReLU 0.2, InstanceNorm       8gf x 2 x 2
      u1  Upsample, Conv 4x4 s1, ReLU, InstanceNorm, concat d3     (4gf + 4gf) x 4 x 4
      u2  Upsample, Conv 4x4 s1, ReLU, InstanceNorm, concat d2     (2gf + 2gf) x 8 x 8
      u3  Upsample, Conv 4x4 s1, ReLU, InstanceNorm, concat d1     (gf + gf) x 16 x 16
      out Upsample, Conv 4x4 s1, tanh                              C x 32 x 32

The paper's ResNet generator ("resnet"; ngf = gf, ``resnet_blocks`` residual blocks; reflection
padding):

      c7s1-ngf, d2ngf (Conv 3x3 s2), d4ngf, R4ngf x blocks, u2ngf (ConvTranspose 3x3 s2), ungf,
      c7s1-C tanh (every layer but the last: InstanceNorm, ReLU;
      R = [pad, Conv 3x3, IN, ReLU, pad, Conv 3x3, IN] + x)

The book's PatchGAN discriminator (df filters; ``d_layers`` stride-2 layers, 3 here for 32 x 32
images, so each of the 4 x 4 outputs judges an overlapping patch, as the book's 4 layers give 8 x 8
on 128 x 128):

      Conv 4x4 s2, LReLU 0.2                         df  x 16 x 16
      Conv 4x4 s2, LReLU 0.2, InstanceNorm           2df x 8 x 8
      Conv 4x4 s2, LReLU 0.2, InstanceNorm           4df x 4 x 4
      Conv 4x4 s1 (a score per patch)                1 x 4 x 4

Instance norm is per sample and channel with a learned scale and shift (the book's keras-contrib
layer with its default axis=None normalised each sample over all channels at once; we use the
per-channel normalisation the paper and the book's text describe). Default widths are smaller than
the book's (gf 32, df 64), and the batch is larger than its 1, to suit a CPU (see ``recipe``).

Data: ``--dataset PAIR:A`` names domain A of an unpaired pair of ``scratchgan.data.load_unpaired``;
domain B is read from the same pair. The default, "sneaker2boot", is Fashion-MNIST's sneakers (A)
and ankle boots (B): two real, disjoint sets of photographs from the same catalogue with the same
framing, so a translation must change the shape (add a shaft) and keep the rest (pose, shade).
Images are padded to 32 x 32 and scaled to [-1, 1].
"""

from typing import ClassVar

import numpy as np

from .. import data as sgdata
from .. import functional as F
from .. import nn, viz
from ..autograd import no_grad
from ..random import Generator as RandomGenerator
from ..tensor import tensor
from ..train import Model, Unsupported, build_optimizer
from .parts import ImagePool, fit_classifier, frozen, least_squares, pad_to
from .parts.image_translation import PatchDiscriminator, ResNetGenerator, UNetGenerator

PICTURE_IMAGES = 8


# ----- the model
def other_domain(dataset):
    """'PAIR:A' -> 'PAIR:B' (the two domains of a load_unpaired pair)."""
    pair, _, side = dataset.rpartition(":")
    if side != "A" or pair not in sgdata.UNPAIRED:
        known = ", ".join(f"{p}:A" for p in sgdata.UNPAIRED)
        raise ValueError(
            f"cyclegan: --dataset must name domain A of an unpaired pair ({known}), got {dataset!r}"
        )
    return pair + ":B"


class CycleGAN(Model):
    """cyclegan: see the module docstring. modules: g_ab (G), g_ba (F), d_a, d_b."""

    data_range = (-1.0, 1.0)
    recipe: ClassVar[dict] = {
        "dataset": "sneaker2boot:A",
        "valid_size": 500,
        "epochs": 1,
        "batch_size": 4,
        "generator": "unet",  # or "resnet"
        "gf": 16,
        "df": 32,
        "resnet_blocks": 6,
        "d_layers": 3,
        "resolution": 32,
        "lambda_cycle": 10.0,
        "lambda_id": 1.0,  # the book: 0.1 * lambda_cycle
        "image_pool": 50,
        "optimizer": "adam",
        "lr": 2e-4,
        "betas": [0.5, 0.999],
        "eps": 1e-8,
    }
    # `train cyclegan --recipe full`: 8 epochs of the 5,500 training sneakers = 11,000 steps of
    # batch 4 at 0.386 CPU s/step (1 BLAS thread, process_time, median of 6 steps after warm-up,
    # 2026-12-01, machine loaded) -> ~4,250 s CPU (6,400 s at 1.5 x); the paper: 200 epochs with
    # the learning rate decayed linearly to 0 over the last 100, which we do not have (no decay).
    # No EMA: cyclegan is not a gan_base GAN (two generators, its own step).
    recipes: ClassVar[dict] = {"full": {"epochs": 8, "checkpoint_every": 1000}}

    def __init__(self, config, generator):
        super().__init__(config, generator)
        c = config
        self.image_shape = tuple(c.get("image_shape", (1, 28, 28)))
        self.resolution = c.get("resolution", 32)
        C = self.image_shape[0]
        if c["generator"] == "unet":
            if self.resolution % 16:
                raise ValueError(
                    "cyclegan: the U-Net halves the image 4 times, so resolution must be a "
                    f"multiple of 16, got {self.resolution}"
                )
            self.g_ab, self.g_ba = (UNetGenerator(C, c["gf"], generator) for _ in range(2))
        elif c["generator"] == "resnet":
            self.g_ab, self.g_ba = (
                ResNetGenerator(C, c["gf"], c["resnet_blocks"], generator) for _ in range(2)
            )
        else:
            raise ValueError(f"cyclegan: generator {c['generator']!r}: expected 'unet' or 'resnet'")
        self.d_a, self.d_b = (
            PatchDiscriminator(C, c["df"], c["d_layers"], generator) for _ in range(2)
        )
        self.place(*self.modules().values())
        self.opt_g = build_optimizer(list(self.g_ab.parameters()) + list(self.g_ba.parameters()), c)
        self.opt_d = build_optimizer(list(self.d_a.parameters()) + list(self.d_b.parameters()), c)
        self.pool_a, self.pool_b = ImagePool(c["image_pool"]), ImagePool(c["image_pool"])
        self.train_b = self.valid_b = None  # domain B, read when the trainer asks for the data

    # ----- data: A comes from the trainer; B from the other side of the pair, split the same way
    def domain_b(self):
        if self.train_b is None:
            images, _ = sgdata.load(other_domain(self.config["dataset"]), "train")
            cut = len(images) - int(self.config.get("valid_size", 0))
            self.train_b, self.valid_b = images[:cut], images[cut:]
        return self.train_b, self.valid_b

    def loader_arrays(self, images, labels):
        self.domain_b()
        return (images,)

    def to_input(self, images):
        return self.floats(sgdata.to_tanh_range(pad_to(sgdata.to_float(images), self.resolution)))

    def to_unit(self, x):
        x = x.numpy() if hasattr(x, "numpy") else np.asarray(x)
        return np.clip((x + 1) / 2, 0.0, 1.0).astype(np.float32)

    def batch_b(self, n):
        """n domain-B images drawn at random, independently of the A batch (the domains are
        unpaired)."""
        train_b, _ = self.domain_b()
        return self.to_input(train_b[self.generator.integers(0, len(train_b), (n,))])

    # ----- training
    def train_step(self, batch, ctx):
        c = self.config
        real_a = self.to_input(batch[0])
        real_b = self.batch_b(real_a.shape[0])
        # the generators, through frozen discriminators
        self.opt_g.zero_grad()
        with frozen(self.d_a, self.d_b):
            fake_b, fake_a = self.g_ab(real_a), self.g_ba(real_b)
            adversarial = least_squares(self.d_b(fake_b), 1.0) + least_squares(
                self.d_a(fake_a), 1.0
            )
            cycle = F.l1_loss(self.g_ba(fake_b), real_a) + F.l1_loss(self.g_ab(fake_a), real_b)
            identity = F.l1_loss(self.g_ba(real_a), real_a) + F.l1_loss(self.g_ab(real_b), real_b)
            loss_g = adversarial + cycle * c["lambda_cycle"] + identity * c["lambda_id"]
            loss_g.backward()
        self.opt_g.step()
        # the discriminators, on fakes replayed from the pools
        self.opt_d.zero_grad()
        pooled_a, _ = self.pool_a.query(fake_a.detach(), None, self.generator)
        pooled_b, _ = self.pool_b.query(fake_b.detach(), None, self.generator)
        loss_d_a = (
            least_squares(self.d_a(real_a), 1.0) + least_squares(self.d_a(pooled_a), 0.0)
        ) * 0.5
        loss_d_b = (
            least_squares(self.d_b(real_b), 1.0) + least_squares(self.d_b(pooled_b), 0.0)
        ) * 0.5
        (loss_d_a + loss_d_b).backward()
        self.opt_d.step()
        return {
            "g_loss": loss_g.item(),
            "g_adv": adversarial.item(),
            "cycle": cycle.item(),
            "identity": identity.item(),
            "d_a": loss_d_a.item(),
            "d_b": loss_d_b.item(),
        }

    # ----- translation
    def translate(self, images, direction="ab", batch=256):
        """uint8 (or [0, 1]) images of one domain -> the other (and back), in [0, 1] on the 32 x 32
        canvas: returns (translated, reconstructed) for direction "ab" (G then F) or "ba" (F then
        G)."""
        there, back = (self.g_ab, self.g_ba) if direction == "ab" else (self.g_ba, self.g_ab)
        outs, recs = [], []
        with no_grad():
            for i in range(0, len(images), batch):
                t = there(self.to_input(images[i : i + batch]))
                outs.append(self.to_unit(t))
                recs.append(self.to_unit(back(t)))
        return np.concatenate(outs), np.concatenate(recs)

    def evaluate(self, images, labels=None):
        """Cycle and identity L1 (in [0, 1] pixel units) and the discriminators' mean scores on
        validation images."""
        _, valid_b = self.domain_b()
        a, b = images[:200], valid_b[:200]
        ua, ub = (
            pad_to(sgdata.to_float(a), self.resolution),
            pad_to(sgdata.to_float(b), self.resolution),
        )
        fake_b, rec_a = self.translate(a, "ab")
        fake_a, rec_b = self.translate(b, "ba")
        with no_grad():
            d_b_fake = float(self.d_b(self.floats(sgdata.to_tanh_range(fake_b))).mean().item())
            d_a_fake = float(self.d_a(self.floats(sgdata.to_tanh_range(fake_a))).mean().item())
            id_a = self.to_unit(self.g_ba(self.to_input(a)))
        return {
            "cycle_l1_a": float(np.abs(rec_a - ua).mean()),
            "cycle_l1_b": float(np.abs(rec_b - ub).mean()),
            "identity_l1_a": float(np.abs(id_a - ua).mean()),
            "d_b_on_g_a": d_b_fake,
            "d_a_on_f_b": d_a_fake,
        }

    def picture(self, images, path):
        """Rows: A, G(A), F(G(A)), B, F(B), G(F(B)) for the first validation images of each
        domain."""
        _, valid_b = self.domain_b()
        a, b = images[:PICTURE_IMAGES], valid_b[:PICTURE_IMAGES]
        save_cycle_figure(self, a, b, path)

    def save_sample(self, n, generator, path, valid_images):
        """``scratchgan sample``: the cycle figure of the first ``n`` validation images of each
        domain (no prior to sample from: the translations are what there is to look at)."""
        _, valid_b = self.domain_b()
        save_cycle_figure(self, valid_images()[:n], valid_b[:n], path)
        return "rows: A, A->B, A->B->A, B, B->A, B->A->B on validation images"

    def interpolate(self, images, rows, steps, generator):
        raise Unsupported(
            "cyclegan translates images rather than interpolating codes: "
            "`scratchgan sample RUN` draws validation images A->B and B->A"
        )

    def modules(self):
        return {"g_ab": self.g_ab, "g_ba": self.g_ba, "d_a": self.d_a, "d_b": self.d_b}

    def optimizers(self):
        return {"generators": self.opt_g, "discriminators": self.opt_d}

    def extra_state(self):
        state = {}
        for name, pool in (("a", self.pool_a), ("b", self.pool_b)):
            state.update({f"{name}_{k}": v for k, v in pool.state().items()})
        return state

    def load_extra_state(self, state):
        xp = next(iter(self.g_ab.parameters())).xp
        for name, pool in (("a", self.pool_a), ("b", self.pool_b)):
            pool.load_state({k[2:]: v for k, v in state.items() if k.startswith(name + "_")}, xp)


def save_cycle_figure(model, images_a, images_b, path):
    fake_b, rec_a = model.translate(images_a, "ab")
    fake_a, rec_b = model.translate(images_b, "ba")
    a = pad_to(sgdata.to_float(images_a), model.resolution)
    b = pad_to(sgdata.to_float(images_b), model.resolution)
    rows = np.concatenate([a, fake_b, rec_a, b, fake_a, rec_b])
    return viz.save_image_grid(rows, path, ncol=len(images_a), scale=3)


# ----- the domain classifier that judges the translations
class DomainClassifier(nn.Module):
    """A small CNN: is this 32 x 32 image from domain B (logit > 0) or A? Conv 3x3 s2 16, LReLU,
    Conv 3x3 s2 32, LReLU, Dense 1."""

    def __init__(self, channels=1, generator=None):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 16, 3, stride=2, padding=1, generator=generator),
            nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 3, stride=2, padding=1, generator=generator),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(32 * 8 * 8, 1, generator=generator),
        )

    def forward(self, x):
        return self.net(x)


def train_domain_classifier(
    images_a, images_b, epochs=2, batch_size=64, lr=1e-3, seed=0, resolution=32
):
    """Train DomainClassifier on real images of the two domains (uint8); returns it (in eval
    mode)."""
    from ..optim import Adam

    g = RandomGenerator(seed)
    net = DomainClassifier(generator=g)
    opt = Adam(list(net.parameters()), lr=lr)
    x = sgdata.to_tanh_range(
        np.concatenate(
            [
                pad_to(sgdata.to_float(images_a), resolution),
                pad_to(sgdata.to_float(images_b), resolution),
            ]
        )
    )
    y = np.concatenate([np.zeros(len(images_a)), np.ones(len(images_b))]).astype(np.float32)[
        :, None
    ]

    def batches(epoch):  # whole batches of a fresh permutation; the last partial batch is dropped
        order = g.permutation(len(x))
        for i in range(0, len(x) - batch_size + 1, batch_size):
            idx = order[i : i + batch_size]
            yield tensor(x[idx]), tensor(y[idx])

    fit_classifier(net, opt, batches, epochs, loss=F.binary_cross_entropy_with_logits)
    return net.eval()


def fraction_b(net, images_unit):
    """The fraction of images (in [0, 1], N x C x 32 x 32) that the domain classifier calls domain
    B."""
    with no_grad():
        logits = np.concatenate(
            [
                net(tensor(sgdata.to_tanh_range(images_unit[i : i + 500]))).numpy()
                for i in range(0, len(images_unit), 500)
            ]
        )
    return float((logits[:, 0] > 0).mean())


def translation_report(model, split="test", seed=0):
    """Acceptance numbers on ``split``: the domain classifier's accuracy on real images, the
    fraction of G(A) called B and of F(B) called A, and the cycle-reconstruction L1 (in [0, 1] pixel
    units) both ways."""
    pair = other_domain(model.config["dataset"])[:-2]
    train_a, train_b = sgdata.load_unpaired(pair, "train")
    test_a, test_b = sgdata.load_unpaired(pair, split)
    net = train_domain_classifier(train_a, train_b, seed=seed, resolution=model.resolution)
    ua, ub = (
        pad_to(sgdata.to_float(test_a), model.resolution),
        pad_to(sgdata.to_float(test_b), model.resolution),
    )
    fake_b, rec_a = model.translate(test_a, "ab")
    fake_a, rec_b = model.translate(test_b, "ba")
    real_acc = (1 - fraction_b(net, ua)) * len(ua) + fraction_b(net, ub) * len(ub)
    return {
        "pair": pair,
        "split": split,
        "n_a": len(test_a),
        "n_b": len(test_b),
        "classifier_accuracy_real": real_acc / (len(ua) + len(ub)),
        "g_a_classified_b": fraction_b(net, fake_b),
        "f_b_classified_a": 1 - fraction_b(net, fake_a),
        "cycle_l1_a": float(np.abs(rec_a - ua).mean()),
        "cycle_l1_b": float(np.abs(rec_b - ub).mean()),
        # for scale: the L1 between unrelated images of the two domains
        "unrelated_pair_l1": float(
            np.abs(ua[: min(len(ua), len(ub))] - ub[: min(len(ua), len(ub))]).mean()
        ),
    }


def main(argv=None):
    """python -m scratchgan.models.cyclegan RUN [--out DIR]: the cycle figure on test images and the
    translation report (domain-classifier verdicts, cycle L1), printed and written to
    RUN/translation.json."""
    import argparse
    import json
    import os

    from ..train import load_run

    parser = argparse.ArgumentParser(
        prog="python -m scratchgan.models.cyclegan", description=main.__doc__
    )
    parser.add_argument("run")
    parser.add_argument("--out", default="docs/img")
    parser.add_argument("--n", type=int, default=10, help="images per row of the figure")
    args = parser.parse_args(argv)
    model, config = load_run(args.run)
    pair = other_domain(config["dataset"])[:-2]
    test_a, test_b = sgdata.load_unpaired(pair, "test")
    path = save_cycle_figure(
        model, test_a[: args.n], test_b[: args.n], os.path.join(args.out, "cyclegan-cycle.png")
    )
    report = translation_report(model)
    with open(os.path.join(args.run, "translation.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(path)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
