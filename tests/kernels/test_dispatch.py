"""The public ops dispatch to our kernels: on 'cuda', and on NumPy arrays inside cuda.emulate().

Each test runs a public op (scratchgan.functional, optim, nn) on the kernel path, proves through
``cuda.launch_counts`` that the expected kernels ran (not some array expression), and compares
the forward and every gradient with the same op on the NumPy path and with PyTorch. The
``kernels`` fixture runs each test on the emulated kernels ('emu', always) and on a GPU ('gpu',
marked, skipped without one). Shapes are small and ragged (not multiples of the block size).
"""

import contextlib
import types

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.functional as F
from scratchgan import cuda, nn, optim

DTYPES = [np.float32, np.float64]
TOL = {
    np.dtype(np.float32): {"rtol": 2e-5, "atol": 1e-5},
    np.dtype(np.float64): {"rtol": 1e-7, "atol": 1e-9},
}


class Emulated:
    name = "emu"

    def tensor(self, a, requires_grad=False):
        return sg.tensor(np.array(a), requires_grad=requires_grad)

    def module(self, m):
        return m

    def context(self):
        # small blocks and a grid of 3 keep emulation fast and make grid-stride loops wrap
        return cuda.emulate(block=32, reduce_block=16, max_grid=3)


class Gpu:
    name = "gpu"

    def tensor(self, a, requires_grad=False):
        return sg.tensor(np.array(a), requires_grad=requires_grad, device="cuda")

    def module(self, m):
        return m.to("cuda")

    def context(self):
        return contextlib.nullcontext()


@pytest.fixture(params=["emu", pytest.param("gpu", marks=pytest.mark.gpu)])
def kernels(request):
    if request.param == "emu":
        if not cuda.emulation_available():
            pytest.skip("g++ is not on PATH: kernel emulation compiles kernels/*.cu with it")
        return Emulated()
    if not cuda.is_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    return Gpu()


def randn(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@contextlib.contextmanager
def launched(*names, dtype):
    """Assert that each kernel ``name_f32`` / ``name_f64`` was launched inside the block."""
    names = [f"{n}_{'f32' if np.dtype(dtype) == np.float32 else 'f64'}" for n in names]
    before = {n: cuda.launch_counts[n] for n in names}
    yield
    missing = [n for n in names if cuda.launch_counts[n] == before[n]]
    assert not missing, f"kernels not launched: {missing}"


def assert_close(got, want, what):
    for i, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(a, b, **TOL[np.asarray(b).dtype], err_msg=f"{what}: output {i}")


# ----------------------------------------------------------------------------- torch references


def torch_functional():
    """torch.nn.functional plus pixel_norm and minibatch_stddev written out in torch."""
    torch = pytest.importorskip("torch")
    TF = types.SimpleNamespace(
        **{k: getattr(torch.nn.functional, k) for k in dir(torch.nn.functional)}
    )

    def pixel_norm(x, eps=1e-8):
        return x / torch.sqrt((x * x).mean(1, keepdim=True) + eps)

    def minibatch_stddev(x, group_size=4, eps=1e-8):
        N, C, H, W = x.shape
        G = min(group_size, N)
        y = x.reshape(G, N // G, C, H, W)
        std = torch.sqrt(((y - y.mean(0, keepdim=True)) ** 2).mean(0) + eps).mean((1, 2, 3))
        return torch.cat(
            [x, std.reshape(1, -1, 1, 1, 1).expand(G, -1, 1, H, W).reshape(N, 1, H, W)], 1
        )

    TF.pixel_norm, TF.minibatch_stddev = pixel_norm, minibatch_stddev
    return torch, TF


def run_sg(fn, arrays, constants=(), tensor=sg.tensor):
    """fn(F, *inputs, *constants) forward, then backward of sum(y * gy)
    -> [y, grad of each input]."""
    ts = [tensor(a, requires_grad=True) for a in arrays]
    y = fn(F, *ts, *(tensor(c) for c in constants))
    y.backward(tensor(randn(y.shape, y.dtype, 99)))
    return [y.numpy()] + [t.grad.numpy() for t in ts]


def run_torch(fn, arrays, constants=()):
    torch, TF = torch_functional()
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(TF, *ts, *map(torch.tensor, constants))
    y.backward(torch.tensor(randn(tuple(y.shape), arrays[0].dtype, 99)))
    return [y.detach().numpy()] + [t.grad.numpy() for t in ts]


# ------------------------------------------------------------------------ the ops, case by case

BN = ["batch_norm_stats", "batch_norm_forward", "batch_norm_backward"]
IN = ["instance_norm_forward", "instance_norm_backward"]
LRELU = ["leaky_relu_forward", "leaky_relu_backward"]
PN = ["pixel_norm_forward", "pixel_norm_backward"]
MBS = [
    "minibatch_stddev_stats",
    "minibatch_stddev_concat",
    "minibatch_stddev_grad_stat",
    "minibatch_stddev_backward",
]

# name -> (fn(F, *inputs, *constants), input shapes, constant shapes (positive values),
#          kernels expected to run in forward + backward)
CASES = {
    "leaky_relu": (lambda F, x: F.leaky_relu(x, 0.2), [(3, 5, 7)], [], LRELU),
    "relu": (lambda F, x: F.relu(x), [(37,)], [], LRELU),
    "batch_norm_train": (
        lambda F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [(3, 5, 4, 3), (5,), (5,)],
        [],
        BN,
    ),
    "batch_norm_train_2d_no_affine": (
        lambda F, x: F.batch_norm(x, None, None, training=True, eps=1e-3),
        [(7, 5)],
        [],
        BN,
    ),
    "batch_norm_eval": (
        lambda F, x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=False),
        [(3, 5, 4, 3), (5,), (5,)],
        [(5,), (5,)],
        ["batch_norm_forward"],
    ),
    "instance_norm": (
        lambda F, x, w, b: F.instance_norm(x, weight=w, bias=b),
        [(2, 5, 4, 3), (5,), (5,)],
        [],
        IN,
    ),
    "instance_norm_no_affine": (lambda F, x: F.instance_norm(x, eps=1e-3), [(3, 2, 5, 7)], [], IN),
    "pixel_norm": (lambda F, x: F.pixel_norm(x), [(3, 5, 4, 3)], [], PN),
    "minibatch_stddev": (lambda F, x: F.minibatch_stddev(x, 3), [(6, 3, 4, 3)], [], MBS),
    "minibatch_stddev_one_group": (
        lambda F, x: F.minibatch_stddev(x, 4, eps=1e-4),
        [(4, 2, 3, 5)],
        [],
        MBS,
    ),
    # conv2d: forward im2col; gx is conv_transpose2d (col2im); gW the weight gradient (im2col)
    "conv2d": (
        lambda F, x, w, b: F.conv2d(x, w, b, padding=1),
        [(2, 3, 5, 6), (4, 3, 3, 3), (4,)],
        [],
        ["im2col", "col2im"],
    ),
    "conv2d_stride_dilation": (
        lambda F, x, w: F.conv2d(x, w, stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
        [(2, 2, 7, 6), (3, 2, 3, 2)],
        [],
        ["im2col", "col2im"],
    ),
    "conv2d_groups": (
        lambda F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
        [(3, 4, 5, 5), (6, 2, 3, 3), (6,)],
        [],
        ["im2col", "col2im"],
    ),
    # conv_transpose2d: forward col2im; gx is conv2d (im2col); gW the weight gradient (im2col)
    "conv_transpose2d": (
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        [(2, 3, 4, 3), (3, 4, 3, 3), (4,)],
        [],
        ["col2im", "im2col"],
    ),
    "conv_transpose2d_groups_dilation": (
        lambda F, x, w: F.conv_transpose2d(
            x, w, stride=(1, 2), padding=(1, 0), groups=3, dilation=(2, 1)
        ),
        [(2, 3, 4, 3), (3, 2, 3, 2)],
        [],
        ["col2im", "im2col"],
    ),
    # output_padding >= stride (allowed: < dilation)
    "conv_transpose2d_output_padding_past_stride": (
        lambda F, x, w: F.conv_transpose2d(x, w, stride=1, output_padding=1, dilation=2),
        [(1, 2, 3, 4), (2, 3, 2, 2)],
        [],
        ["col2im", "im2col"],
    ),
}


def case(name, dtype):
    fn, shapes, constant_shapes, expected = CASES[name]
    arrays = [randn(s, dtype, seed) for seed, s in enumerate(shapes)]
    constants = [np.abs(randn(s, dtype, 10 + seed)) + 0.5 for seed, s in enumerate(constant_shapes)]
    return fn, arrays, constants, expected


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_op_runs_its_kernels_and_matches_numpy_and_torch(kernels, name, dtype):
    fn, arrays, constants, expected = case(name, dtype)
    with launched(*expected, dtype=dtype), kernels.context():
        got = run_sg(fn, arrays, constants, kernels.tensor)
    assert_close(
        got, run_sg(fn, arrays, constants), f"{name} on {kernels.name} against the NumPy path"
    )
    assert_close(got, run_torch(fn, arrays, constants), f"{name} on {kernels.name} against PyTorch")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name",
    [
        "batch_norm_train",
        "instance_norm",
        "pixel_norm",
        "minibatch_stddev",
        "conv2d_groups",
        "conv_transpose2d",
        "leaky_relu",
    ],
)
def test_double_backward_on_kernels_matches_numpy_and_torch(kernels, name, dtype):
    """create_graph on the kernel path: grad of
    <grad(<y, gy>, inputs), v> w.r.t. the inputs and gy."""
    fn, arrays, _, expected = case(name, dtype)

    def second_order(grad, tensor, differentiable):
        ts = [tensor(a, requires_grad=True) for a in arrays]
        y = fn(differentiable, *ts)
        gy = tensor(randn(tuple(y.shape), dtype, 99), requires_grad=True)
        gs = grad(y, ts, gy, create_graph=True)
        s = sum((g * tensor(randn(tuple(g.shape), dtype, 50 + i))).sum() for i, g in enumerate(gs))
        s.backward()
        return [
            np.zeros(a.shape, dtype)
            if t.grad is None
            else np.asarray(t.grad.detach().cpu().numpy())
            for t, a in zip(ts + [gy], arrays + [np.empty(tuple(y.shape))])
        ]

    with launched(expected[0], dtype=dtype), kernels.context():
        got = second_order(sg.grad, kernels.tensor, F)
    assert_close(
        got, second_order(sg.grad, sg.tensor, F), f"{name}: second order against the NumPy path"
    )
    torch, TF = torch_functional()
    want = second_order(torch.autograd.grad, torch.tensor, TF)
    assert_close(got, want, f"{name}: second order against PyTorch")


@pytest.mark.parametrize("dtype", DTYPES)
def test_running_statistics_on_kernels(kernels, dtype):
    torch, TF = torch_functional()
    x = randn((3, 5, 4, 3), dtype, 0)

    def run(tensor, batch_norm, instance_norm):
        buffers = [
            tensor(np.linspace(-1, 1, 5).astype(dtype)),
            tensor(np.linspace(0.5, 2, 5).astype(dtype)),
            tensor(np.zeros(5, dtype)),
            tensor(np.ones(5, dtype)),
        ]
        for _ in range(2):
            batch_norm(tensor(x), buffers[0], buffers[1], training=True, momentum=0.3)
            instance_norm(tensor(x), running_mean=buffers[2], running_var=buffers[3], momentum=0.2)
        return [np.asarray(b.cpu().numpy()) for b in buffers]

    with launched("batch_norm_stats", "instance_norm_forward", dtype=dtype), kernels.context():
        got = run(kernels.tensor, F.batch_norm, F.instance_norm)
    assert_close(
        got,
        run(sg.tensor, F.batch_norm, F.instance_norm),
        "running statistics against the NumPy path",
    )
    assert_close(
        got,
        run(torch.tensor, TF.batch_norm, TF.instance_norm),
        "running statistics against PyTorch",
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_runs_its_kernel_and_matches_numpy_and_torch(kernels, dtype):
    torch = pytest.importorskip("torch")
    shapes = [(5, 7), (13,), (2, 3, 3, 3)]
    inits = [randn(s, dtype, i) for i, s in enumerate(shapes)]
    grads = [[randn(s, dtype, 10 * step + i) for i, s in enumerate(shapes)] for step in range(3)]

    def run(tensor):
        params = [nn.Parameter(tensor(a)) for a in inits]
        opt = optim.Adam(params, lr=0.01, betas=(0.8, 0.95), eps=1e-6)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = tensor(g)
            opt.step()
        return [p.numpy() for p in params]

    with launched("adam_update", dtype=dtype), kernels.context():
        got = run(kernels.tensor)
    assert_close(got, run(sg.tensor), "Adam against the NumPy path")
    params = [torch.tensor(a, requires_grad=True) for a in inits]
    opt = torch.optim.Adam(params, lr=0.01, betas=(0.8, 0.95), eps=1e-6)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = torch.tensor(g)
        opt.step()
    assert_close(got, [p.detach().numpy() for p in params], "Adam against PyTorch")


def test_gradcheck_conv2d_and_batch_norm_on_kernels(kernels):
    x, w, b = (
        kernels.tensor(randn(s, np.float64, i), requires_grad=True)
        for i, s in enumerate([(2, 2, 4, 3), (3, 2, 2, 2), (3,)])
    )
    with launched("im2col", "col2im", dtype=np.float64), kernels.context():
        assert sg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1), [x, w, b])
    x, w, b = (
        kernels.tensor(randn(s, np.float64, i), requires_grad=True)
        for i, s in enumerate([(3, 2, 2, 3), (2,), (2,)])
    )
    with launched(*BN, dtype=np.float64), kernels.context():
        assert sg.gradcheck(
            lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b]
        )


def _dcgan():
    """A DCGAN in miniature: conv-transpose, batch norm, LeakyReLU, conv;
    z (N, 6, 1, 1) -> (N, 1, 6, 6) -> (N, 1).

    As in DCGAN, a layer followed by batch norm has no bias: its gradient would be 0 up to
    rounding, which Adam's first step turns into a full step of either sign.
    """
    G = nn.Sequential(
        nn.ConvTranspose2d(6, 5, 3, 1, 0, bias=False),
        nn.BatchNorm2d(5),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(5, 1, 4, 2, 1),
        nn.Tanh(),
    )
    D = nn.Sequential(
        nn.Conv2d(1, 4, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(4, 5, 3, 1, 1, bias=False),
        nn.BatchNorm2d(5),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(45, 1),
    )
    return G, D


def _train_steps(G, D, z, real, tensor, steps=2):
    optG = optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optD = optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    ones, zeros = (
        tensor(np.ones((real.shape[0], 1), np.float32)),
        tensor(np.zeros((real.shape[0], 1), np.float32)),
    )
    losses = []
    for _ in range(steps):
        fake = G(z)
        loss_d = F.binary_cross_entropy_with_logits(
            D(real), ones
        ) + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
        optD.zero_grad()
        loss_d.backward()
        optD.step()
        loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)
        optG.zero_grad()
        loss_g.backward()
        optG.step()
        losses += [loss_d.item(), loss_g.item()]
    return losses


def test_dcgan_train_step_on_kernels_equals_the_numpy_step(kernels):
    G, D = _dcgan()
    G2, D2 = _dcgan()
    G2.load_state_dict(G.state_dict())
    D2.load_state_dict(D.state_dict())
    z, real = randn((4, 6, 1, 1), np.float32, 1), np.tanh(randn((4, 1, 6, 6), np.float32, 2))
    want = _train_steps(G, D, sg.tensor(z), sg.tensor(real), sg.tensor)
    G2, D2 = kernels.module(G2), kernels.module(D2)
    kinds = ["im2col", "col2im", "leaky_relu_forward", "leaky_relu_backward", "adam_update"] + BN
    with launched(*kinds, dtype=np.float32), kernels.context():
        got = _train_steps(G2, D2, kernels.tensor(z), kernels.tensor(real), kernels.tensor)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-5, err_msg="losses")
    for model, reference in ((G2, G), (D2, D)):
        mine, theirs = model.state_dict(), reference.state_dict()
        for key in theirs:
            np.testing.assert_allclose(
                mine[key].numpy(), theirs[key].numpy(), rtol=2e-5, atol=1e-5, err_msg=key
            )


def test_cuda_request_without_cupy_raises_one_clear_error():
    """sg.zeros/.to on tensors are checked in tests/test_tensor.py; here sg.tensor and Module.to."""
    try:
        import cupy  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("CuPy is installed: this checks the error given without it")
    with pytest.raises(RuntimeError, match="CUDA was requested but CuPy is not installed"):
        sg.tensor(np.ones(3, np.float32), device="cuda")
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    with pytest.raises(RuntimeError, match="CUDA was requested but CuPy is not installed"):
        model.to("cuda")
    assert all(t.device == "cpu" for t in list(model.parameters()) + list(model.buffers())), (
        "nothing moved"
    )
