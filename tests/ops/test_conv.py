"""conv2d and conv_transpose2d against PyTorch over drawn geometries, gradient checks, adjointness,
errors."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import scratchgan as sg
import scratchgan.functional as F
from scratchgan.ops import conv_gemm, conv_phase, conv_select

torch = pytest.importorskip("torch")
tF = torch.nn.functional

SETTINGS = settings(max_examples=15, deadline=None)


def pairs(lo, hi):
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


@st.composite
def geometries(draw, transposed=False):
    """Small (N, groups, channels, kernel, stride, padding, dilation, image size) with a valid
    output."""
    g = draw(st.integers(1, 2))
    geom = {
        "n": draw(st.integers(1, 3)),
        "groups": g,
        "cin": g * draw(st.integers(1, 2)),
        "cout": g * draw(st.integers(1, 2)),
        "k": draw(pairs(1, 3)),
        "stride": draw(pairs(1, 3)),
        "padding": draw(pairs(0, 2)),
        "dilation": draw(pairs(1, 2)),
        "size": draw(pairs(1, 5)),
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31)),
    }
    (kh, kw), (sy, sx), (ph, pw), (dy, dx), (h, w) = (
        geom[k] for k in ("k", "stride", "padding", "dilation", "size")
    )
    if transposed:
        geom["output_padding"] = op = (
            draw(st.integers(0, max(sy, dy) - 1)),
            draw(st.integers(0, max(sx, dx) - 1)),
        )
        assume((h - 1) * sy - 2 * ph + dy * (kh - 1) + op[0] + 1 >= 1)
        assume((w - 1) * sx - 2 * pw + dx * (kw - 1) + op[1] + 1 >= 1)
    else:
        assume(h + 2 * ph >= dy * (kh - 1) + 1 and w + 2 * pw >= dx * (kw - 1) + 1)
    return geom


@pytest.fixture(
    scope="module",
    params=[
        "channels-last",
        "channels-first",
        "channels-last, image by image",
        "channels-first, image by image",
        "phase",
    ],
)
def col2im_layout(request):
    """Run a test with col2im accumulating in each of its two layouts (normally chosen by channel
    count), over the whole batch at once or one image per chunk (normally chosen by size), or with
    every transposed convolution (so every input gradient) run as phase convolutions."""
    if request.param == "phase":
        conv_select.algorithms.force = "phase"
        yield request.param
        conv_select.algorithms.force = None
        return
    saved = conv_gemm._CHANNELS_LAST_MIN, conv_gemm._TAPS_CHUNK_BYTES
    conv_gemm._CHANNELS_LAST_MIN = 1 if request.param.startswith("channels-last") else 10**9
    conv_gemm._TAPS_CHUNK_BYTES = 1 if request.param.endswith("image by image") else 1 << 40
    yield request.param
    conv_gemm._CHANNELS_LAST_MIN, conv_gemm._TAPS_CHUNK_BYTES = saved


def arrays(geom, weight_shape):
    rng = np.random.default_rng(geom["seed"])
    out = [
        rng.standard_normal((geom["n"], geom["cin"]) + geom["size"]),
        rng.standard_normal(weight_shape),
    ]
    if geom["bias"]:
        out.append(rng.standard_normal(geom["cout"]))
    return out


@SETTINGS
@given(geom=geometries())
def test_conv2d_matches_torch(opcheck, col2im_layout, geom):
    kw = {
        "stride": geom["stride"],
        "padding": geom["padding"],
        "dilation": geom["dilation"],
        "groups": geom["groups"],
    }
    w_shape = (geom["cout"], geom["cin"] // geom["groups"]) + geom["k"]
    opcheck(lambda *a: F.conv2d(*a, **kw), lambda *a: tF.conv2d(*a, **kw), arrays(geom, w_shape))


@SETTINGS
@given(geom=geometries(transposed=True))
def test_conv_transpose2d_matches_torch(opcheck, col2im_layout, geom):
    kw = {
        "stride": geom["stride"],
        "padding": geom["padding"],
        "output_padding": geom["output_padding"],
        "dilation": geom["dilation"],
        "groups": geom["groups"],
    }
    w_shape = (geom["cin"], geom["cout"] // geom["groups"]) + geom["k"]
    opcheck(
        lambda *a: F.conv_transpose2d(*a, **kw),
        lambda *a: tF.conv_transpose2d(*a, **kw),
        arrays(geom, w_shape),
    )


@SETTINGS
@given(geom=geometries())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(geom):
    """<conv2d(x, W), y> = <x, conv_transpose2d(y, W)>, the output_padding making the sizes meet."""
    rng = np.random.default_rng(geom["seed"])
    (kh, kw), (sy, sx), (ph, pw), (dy, dx), (h, w) = (
        geom[k] for k in ("k", "stride", "padding", "dilation", "size")
    )
    x = sg.tensor(rng.standard_normal((geom["n"], geom["cin"], h, w)))
    W = sg.tensor(rng.standard_normal((geom["cout"], geom["cin"] // geom["groups"], kh, kw)))
    args = {"stride": (sy, sx), "padding": (ph, pw), "dilation": (dy, dx), "groups": geom["groups"]}
    y_shape = F.conv2d(x, W, **args).shape
    y = sg.tensor(rng.standard_normal(y_shape))
    ho, wo = y_shape[2:]
    op = (
        h - ((ho - 1) * sy - 2 * ph + dy * (kh - 1) + 1),
        w - ((wo - 1) * sx - 2 * pw + dx * (kw - 1) + 1),
    )
    xt = F.conv_transpose2d(y, W, output_padding=op, **args)
    assert xt.shape == x.shape
    lhs = float((F.conv2d(x, W, **args).numpy() * y.numpy()).sum())
    rhs = float((x.numpy() * xt.numpy()).sum())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "n,cin,cout,size,k,s,p,op",
    [
        (3, 1, 16, 28, 5, 2, 2, 1),  # the first layer of a Fashion-MNIST discriminator
        (3, 16, 24, 14, 5, 2, 2, 1),
        (2, 3, 8, 16, 4, 2, 1, 0),  # 64x64 DCGAN geometry
        (2, 8, 12, 9, 1, 1, 0, 0),  # 1x1 kernel
    ],
)
def test_dcgan_shapes_in_float32(n, cin, cout, size, k, s, p, op):
    """Realistic channel counts (GEMM-sized) in float32: everything stays float32 and matches
    torch."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, cin, size, size)).astype(np.float32)
    W = rng.standard_normal((cout, cin, k, k)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    xs, Ws, bs = (sg.tensor(a, requires_grad=True) for a in (x, W, b))
    xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    y, yt = F.conv2d(xs, Ws, bs, s, p), tF.conv2d(xt, Wt, bt, s, p)
    z, zt = (
        F.conv_transpose2d(y, Ws, bs[:cin], s, p, op),
        tF.conv_transpose2d(yt, Wt, bt[:cin], s, p, op),
    )
    assert z.shape == x.shape == tuple(zt.shape)
    gz = rng.standard_normal(z.shape).astype(np.float32)
    grads = sg.grad(z, [xs, Ws, bs], sg.tensor(gz))
    tgrads = torch.autograd.grad(zt, [xt, Wt, bt], torch.tensor(gz))
    for name, a, t in [("y", y, yt), ("z", z, zt)] + list(zip(["gx", "gW", "gb"], grads, tgrads)):
        assert a.dtype == np.float32, name
        ref = t.detach().numpy()
        np.testing.assert_allclose(
            a.numpy(), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max(), err_msg=name
        )


def test_layouts_of_inputs_do_not_matter():
    """Channels-last and sliced inputs give the same numbers as contiguous ones."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 8, 4, 5, 6))[:, :, 1]  # non-contiguous (2, 8, 5, 6)
    W = rng.standard_normal((6, 8, 3, 3))
    cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # channels last
    ref = tF.conv2d(torch.tensor(np.ascontiguousarray(x)), torch.tensor(W), padding=1).numpy()
    for a in (x, cl, np.ascontiguousarray(x)):
        for p in (0, 1):
            got = F.conv2d(sg.tensor(a), sg.tensor(W), padding=p).numpy()
            want = ref if p else ref[:, :, 1:-1, 1:-1]
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_third_order_through_a_conv_chain():
    """d/dx of |d(conv_t(conv(x)))/dW|^2 exists and passes gradcheck (every node composes)."""
    rng = np.random.default_rng(2)
    x = sg.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    W = sg.tensor(rng.standard_normal((2, 2, 2, 2)), requires_grad=True)

    def f(x, W):
        y = F.conv_transpose2d(F.conv2d(x, W, stride=2).tanh(), W, stride=2)
        (gW,) = sg.grad((y * y).sum(), [W], create_graph=True)
        return (gW * gW).sum()

    assert sg.gradcheck(f, [x, W])


def _t(shape, dtype=np.float64):
    return sg.zeros(*shape, dtype=dtype)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (
            lambda: F.conv2d(_t((1, 4, 5, 5)), _t((2, 3, 3, 3))),
            ValueError,
            r"weight has 3 input channels per group, input has 4",
        ),
        (
            lambda: F.conv2d(_t((1, 4, 5, 5)), _t((2, 2, 3, 3)), groups=3),
            ValueError,
            r"groups=3 must divide",
        ),
        (
            lambda: F.conv2d(_t((1, 2, 2, 2)), _t((2, 2, 3, 3))),
            ValueError,
            r"output would be 0 x 0: input size \(2, 2\).*padding \(0, 0\)"
            r".*kernel \(3, 3\).*dilation \(1, 1\).*stride",
        ),
        (
            lambda: F.conv2d(_t((1, 2, 5, 5)), _t((2, 2, 3, 3)), dilation=3),
            ValueError,
            r"dilated kernel \(7, 7\)",
        ),
        (
            lambda: F.conv2d(_t((2, 5, 5)), _t((2, 2, 3, 3))),
            ValueError,
            r"input must be 4-D.*\(2, 5, 5\)",
        ),
        (lambda: F.conv2d(_t((1, 2, 5, 5)), _t((2, 2, 3))), ValueError, r"weight must be 4-D"),
        (
            lambda: F.conv2d(_t((1, 2, 5, 5)), _t((2, 2, 3, 3), np.float32)),
            TypeError,
            r"weight has dtype float32, input has float64",
        ),
        (
            lambda: F.conv2d(_t((1, 2, 5, 5)), _t((2, 2, 3, 3)), _t((3,))),
            ValueError,
            r"bias must have shape \(2,\)",
        ),
        (
            lambda: F.conv2d(_t((1, 2, 5, 5)), _t((2, 2, 3, 3)), stride=0),
            ValueError,
            r"stride must be at least 1",
        ),
        (
            lambda: F.conv2d(_t((1, 2, 5, 5)), _t((2, 2, 3, 3)), padding=(1, 1, 1)),
            TypeError,
            r"padding must be an int or a pair",
        ),
        (
            lambda: F.conv2d(_t((1, 2, 5, 5)), _t((2, 2, 3, 3)), padding=-1),
            ValueError,
            r"padding must be at least 0",
        ),
        (
            lambda: F.conv_transpose2d(_t((1, 4, 5, 5)), _t((3, 2, 3, 3))),
            ValueError,
            r"weight has 3 input channels.*input has 4",
        ),
        (
            lambda: F.conv_transpose2d(
                _t((1, 4, 5, 5)), _t((4, 2, 3, 3)), stride=2, output_padding=2
            ),
            ValueError,
            r"output_padding \(2, 2\) must be smaller than either stride \(2, 2\) or dilation "
            r"\(1, 1\)",
        ),
        (
            lambda: F.conv_transpose2d(_t((1, 4, 5, 5)), _t((4, 2, 3, 3)), output_padding=1),
            ValueError,
            r"output_padding .* must be smaller than either stride",
        ),
        (
            lambda: F.conv_transpose2d(_t((1, 4, 1, 1)), _t((4, 2, 3, 3)), padding=2),
            ValueError,
            r"output would be -1 x -1: input size \(1, 1\), kernel \(3, 3\), stride \(1, 1\), "
            r"padding \(2, 2\)",
        ),
        (
            lambda: F.conv_transpose2d(_t((4, 5, 5)), _t((4, 2, 3, 3))),
            ValueError,
            r"input must be 4-D",
        ),
        (
            lambda: F.conv_transpose2d(_t((1, 3, 5, 5)), _t((3, 2, 3, 3)), groups=2),
            ValueError,
            r"groups=2 must divide",
        ),
        (
            lambda: F.conv_transpose2d(_t((1, 4, 5, 5)), _t((4, 2, 3, 3), np.float32)),
            TypeError,
            r"weight has dtype float32",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_output_padding_below_dilation_is_allowed_as_in_torch():
    rng = np.random.default_rng(3)
    x, W = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((2, 1, 2, 2))
    y = F.conv_transpose2d(sg.tensor(x), sg.tensor(W), stride=1, output_padding=1, dilation=2)
    ref = tF.conv_transpose2d(
        torch.tensor(x), torch.tensor(W), stride=1, output_padding=1, dilation=2
    )
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-12)


# ----------------------------------------------------------------- algorithm choice (conv_select)


@pytest.fixture
def phase_calls(monkeypatch):
    """Counts the calls of the phase algorithm; restores the switch afterwards."""
    calls = []
    real = conv_phase.conv_transpose_phase
    monkeypatch.setattr(
        "scratchgan.ops.conv.conv_transpose_phase", lambda *a: calls.append(a[0].shape) or real(*a)
    )
    monkeypatch.setattr(conv_select, "algorithms", conv_select.ConvAlgorithms())
    monkeypatch.setattr("scratchgan.ops.conv.algorithms", conv_select.algorithms)
    return calls


@pytest.mark.parametrize(
    "n,cin,cout,size,k,s,p,op",
    [
        (3, 16, 24, 7, 5, 2, 2, 1),  # dcgan28 generator geometry
        (2, 8, 12, 8, 4, 2, 1, 0),  # dcgan64 geometry
        (2, 6, 1, 14, 5, 2, 2, 1),  # one output channel
        (2, 5, 4, 5, 3, 3, 0, 2),  # stride 3 with output padding: a phase of 1 tap row
        (1, 4, 3, 6, 2, 3, 1, 0),  # kernel smaller than stride: phases without taps
    ],
)
def test_phase_algorithm_matches_torch_in_float32(phase_calls, n, cin, cout, size, k, s, p, op):
    """The forced phase algorithm, forward and both gradients, against PyTorch in float32."""
    conv_select.algorithms.force = "phase"
    rng = np.random.default_rng(4)
    x, W, b = (
        rng.standard_normal(shape).astype(np.float32)
        for shape in ((n, cin, size, size), (cin, cout, k, k), (cout,))
    )
    xs, Ws, bs = (sg.tensor(a, requires_grad=True) for a in (x, W, b))
    xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    y = F.conv_transpose2d(xs, Ws, bs, s, p, op)
    yt = tF.conv_transpose2d(xt, Wt, bt, s, p, op)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    grads = sg.grad(y, [xs, Ws, bs], sg.tensor(gy))
    tgrads = torch.autograd.grad(yt, [xt, Wt, bt], torch.tensor(gy))
    assert len(phase_calls) == 1
    for name, a, t in [("y", y, yt)] + list(zip(["gx", "gW", "gb"], grads, tgrads)):
        ref = t.detach().numpy()
        np.testing.assert_allclose(
            a.numpy(), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max(), err_msg=name
        )


def test_phase_algorithm_serves_conv2d_gradients_to_second_order(phase_calls):
    """Conv2d's input gradient is a transposed convolution: with phase forced, gradcheck and
    gradgradcheck of conv2d and conv_transpose2d pass and the phase path ran."""
    conv_select.algorithms.force = "phase"
    rng = np.random.default_rng(5)
    x = sg.tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    W = sg.tensor(rng.standard_normal((4, 3, 4, 4)), requires_grad=True)
    y = sg.tensor(rng.standard_normal((2, 4, 3, 3)), requires_grad=True)
    assert sg.gradcheck(lambda x, W: F.conv2d(x, W, stride=2, padding=1), [x, W])
    assert sg.gradgradcheck(lambda x, W: F.conv2d(x, W, stride=2, padding=1), [x, W])
    assert sg.gradgradcheck(lambda y, W: F.conv_transpose2d(y, W, stride=2, padding=1), [y, W])
    assert len(phase_calls) > 10


def test_default_runs_gemm_col2im_and_groups_never_run_phase(phase_calls):
    rng = np.random.default_rng(6)
    x, W = (sg.tensor(rng.standard_normal(shape)) for shape in ((1, 4, 3, 3), (4, 1, 3, 3)))
    F.conv_transpose2d(x, W, stride=2)
    assert phase_calls == []
    conv_select.algorithms.force = "phase"
    F.conv_transpose2d(x, W, stride=2, groups=2)
    assert phase_calls == []
    conv_select.algorithms.force = "winograd"
    with pytest.raises(ValueError, match="unknown conv algorithm 'winograd'"):
        F.conv_transpose2d(x, W, stride=2)


def test_benchmark_switch_times_once_per_shape_and_the_profiler_shows_it(phase_calls, monkeypatch):
    """With benchmark on, the first call per shape runs every algorithm ``trials`` times; the
    fastest is cached, later calls of that shape run it alone, and sg.profile() lists it."""
    monkeypatch.setattr(
        conv_select, "_best_of", lambda run, name, trials: run(name) is None or seconds[name]
    )
    seconds = {"phase": 1.0, "gemm_col2im": 2.0}
    conv_select.algorithms.benchmark = True
    rng = np.random.default_rng(7)
    x, W = (sg.tensor(rng.standard_normal(shape)) for shape in ((2, 4, 3, 3), (4, 2, 4, 4)))
    want = tF.conv_transpose2d(torch.tensor(x.numpy()), torch.tensor(W.numpy()), stride=2).numpy()
    with sg.profile() as prof:
        for _ in range(3):
            np.testing.assert_allclose(F.conv_transpose2d(x, W, stride=2).numpy(), want, rtol=1e-10)
    assert len(phase_calls) == 1 + 3  # the trial, then the chosen algorithm three times
    assert list(conv_select.algorithms.chosen.values()) == ["phase"]
    assert "algorithm ConvTranspose2d (2, 4, 3, 3) -> (8, 8): phase x3" in prof.table()
    assert "trial ms: gemm_col2im 2000.00, phase 1000.00" in prof.table()
