"""The torch APIs that pytorch/examples (dcgan, vae) and PyTorch-GAN (gan, dcgan, wgan_gp, cgan,
lsgan) use and that the other compat tests do not already cover, each against PyTorch. The list
per script is in docs/PYTORCH.md; the scripts themselves are not part of this repository."""

import numpy as np
import pytest
from compat_helpers import close, pair, torch

import scratchgan as sg


def test_script_setup_calls_run():
    import scratchgan.backends.cudnn as cudnn

    cudnn.benchmark = True  # accepted, no effect
    assert sg.backends.cudnn is cudnn
    assert sg.accelerator.is_available() == sg.cuda.is_available()
    if not sg.accelerator.is_available():
        assert sg.accelerator.current_accelerator() is None
        assert sg.accelerator.device_count() == 0
    assert sg.device("cpu") == "cpu"
    x, tx = sg.zeros(2), torch.zeros(2)
    assert (x.is_cuda, x.is_xpu, x.is_mps) == (tx.is_cuda, tx.is_xpu, tx.is_mps)


def test_full_with_dtype_and_device_like_the_dcgan_labels():
    real = sg.zeros(3, dtype="float64")
    treal = torch.zeros(3, dtype=torch.float64)
    label = sg.full((3,), 1, dtype=real.dtype, device=sg.device("cpu"))
    tlabel = torch.full((3,), 1, dtype=treal.dtype, device=torch.device("cpu"))
    close(label, tlabel)
    assert label.dtype == np.float64
    close(label.fill_(0), tlabel.fill_(0))


@pytest.mark.parametrize("target", ["param", "data"])
def test_weights_init_through_data_or_param_changes_the_parameter(target):
    """``nn.init.normal_(m.weight.data, 0, 0.02)`` (PyTorch-GAN) and ``nn.init.normal_(m.weight,
    0, 0.02)`` (pytorch/examples) both change the parameter; ``constant_``/``zeros_`` too."""
    for lib in (sg, torch):
        conv = lib.nn.Conv2d(1, 64, 3, 2, 1)
        bn = lib.nn.BatchNorm2d(64, 0.8)
        pick = (lambda p: p.data) if target == "data" else (lambda p: p)
        lib.nn.init.normal_(pick(conv.weight), 0.0, 0.02)
        lib.nn.init.normal_(pick(bn.weight), 1.0, 0.02)
        lib.nn.init.constant_(pick(bn.bias), 0.0)
        lib.nn.init.zeros_(pick(conv.bias))
        w = conv.weight.detach().numpy()
        assert abs(w.std() - 0.02) < 0.004 and abs(w.mean()) < 0.004
        assert abs(bn.weight.detach().numpy().mean() - 1) < 0.01
        assert not bn.bias.detach().numpy().any() and not conv.bias.detach().numpy().any()
        assert conv.weight.requires_grad and conv.weight.grad_fn is None


def test_module_apply_with_class_names_like_weights_init():
    seen = {lib.__name__: [] for lib in (sg, torch)}
    for lib in (sg, torch):
        nn = lib.nn
        model = nn.Sequential(
            nn.Conv2d(1, 2, 3),
            nn.BatchNorm2d(2),
            nn.LeakyReLU(0.2, True),
            nn.ConvTranspose2d(2, 1, 3),
            nn.Dropout2d(0.25),
            nn.Upsample(scale_factor=2),
            nn.Embedding(3, 3),
            nn.BatchNorm1d(3, 0.8),
        )
        model.apply(lambda m, found=seen[lib.__name__]: found.append(m.__class__.__name__))
        assert "Sequential(" in repr(model) and "LeakyReLU(negative_slope=0.2, inplace=True)" in (
            repr(model)
        )
    assert seen["scratchgan"] == seen["torch"]


def test_dropout2d_like_torch_in_what_does_not_depend_on_the_draws():
    x, tx = pair(np.random.default_rng(0).standard_normal((8, 16, 3, 3)))
    for layer, tlayer in (
        (sg.nn.Dropout2d(0.25), torch.nn.Dropout2d(0.25)),
        (sg.nn.Dropout2d(0.0), torch.nn.Dropout2d(0.0)),
    ):
        layer.eval(), tlayer.eval()
        close(layer(x), tlayer(tx))
        layer.train(), tlayer.train()
        y, ty = layer(x).numpy(), tlayer(tx).detach().numpy()
        for out in (y, ty):  # whole maps kept (scaled by 1 / (1 - p)) or zeroed
            ratio = out / x.numpy()
            kept = np.isclose(ratio, 1 / (1 - layer.p))
            assert np.all(kept | (out == 0))
            assert np.all(kept.reshape(8, 16, 9).all(-1) | ~kept.reshape(8, 16, 9).any(-1))
    y = sg.nn.functional.dropout2d(x, 1.0)
    close(y, torch.nn.functional.dropout2d(tx, 1.0))


def test_view_squeeze_and_size_chain_of_the_dcgan_discriminator():
    out, tout = pair(np.random.default_rng(1).random((4, 1, 1, 1)))
    a, b = out.view(-1, 1).squeeze(1), tout.view(-1, 1).squeeze(1)
    close(a, b)
    assert out.size(0) == tout.size(0) == 4
    close(
        sg.nn.BCELoss()(a, sg.full((4,), 1, dtype=a.dtype)),
        torch.nn.BCELoss()(b, torch.full((4,), 1, dtype=b.dtype)),
    )


def test_wgan_gp_penalty_with_legacy_types_and_only_inputs(rng):
    real, treal = pair(rng.standard_normal((3, 1, 4, 4)), requires_grad=False)
    fake, tfake = pair(rng.standard_normal((3, 1, 4, 4)), requires_grad=False)
    alpha = rng.random((3, 1, 1, 1))
    w, tw = pair(rng.standard_normal((16, 1)))
    results = []
    for lib, r, f, weight in ((sg, real, fake, w), (torch, treal, tfake, tw)):
        a = lib.DoubleTensor(alpha)
        interpolates = (a * r.data + ((1 - a) * f.data)).requires_grad_(True)
        out = lib.nn.functional.leaky_relu(interpolates.view(3, -1) @ weight, 0.2)
        ones = lib.autograd.Variable(lib.DoubleTensor(3, 1).fill_(1.0), requires_grad=False)
        (g,) = lib.autograd.grad(
            outputs=out,
            inputs=interpolates,
            grad_outputs=ones,
            create_graph=True,
            retain_graph=True,
            only_inputs=True,
        )
        penalty = ((g.view(g.size(0), -1).norm(2, dim=1) - 1) ** 2).mean()
        loss = -lib.mean(out) + 10 * penalty
        loss.backward()
        results.append((loss, weight.grad))
    close(results[0][0], results[1][0])
    close(results[0][1], results[1][1])


def test_cgan_inputs_long_tensor_embedding_and_cat(rng):
    labels = rng.integers(0, 10, 4)
    noise = rng.standard_normal((4, 5))
    emb, temb = sg.nn.Embedding(10, 10).double(), torch.nn.Embedding(10, 10).double()
    emb.load_state_dict({k: v.detach().numpy() for k, v in temb.state_dict().items()})
    ours = sg.cat((emb(sg.LongTensor(labels)), sg.DoubleTensor(noise)), -1)
    theirs = torch.cat((temb(torch.LongTensor(labels)), torch.DoubleTensor(noise)), -1)
    close(ours, theirs)
    lab = sg.tensor(labels).type(sg.LongTensor)
    assert lab.dtype == np.int64 and sg.LongTensor(labels).dtype == np.int64


def test_vae_loss_pieces(rng):
    mu, tmu = pair(rng.standard_normal((4, 3)))
    logvar, tlogvar = pair(rng.standard_normal((4, 3)))
    x, tx = pair(rng.random((4, 1, 2, 2)), requires_grad=False)
    recon, trecon = pair(rng.uniform(0.1, 0.9, (4, 4)))
    for lib, m, lv, xx, r in ((sg, mu, logvar, x, recon), (torch, tmu, tlogvar, tx, trecon)):
        bce = lib.nn.functional.binary_cross_entropy(r, xx.view(-1, 4), reduction="sum")
        kld = -0.5 * lib.sum(1 + lv - m.pow(2) - lv.exp())
        (bce + kld).backward()
    for ours, theirs in ((mu, tmu), (logvar, tlogvar), (recon, trecon)):
        close(ours.grad, theirs.grad, rtol=1e-12)
    std, tstd = sg.exp(0.5 * logvar), torch.exp(0.5 * tlogvar)
    close(std, tstd)
    assert sg.randn_like(std).shape == std.shape and len(x) == 4
    close(sg.cat([x[:2], x[2:]]), torch.cat([tx[:2], tx[2:]]))
