"""Tensor creation, generators, conversion, .data assignment, devices and the dtype/shape errors."""

import numpy as np
import pytest

import scratchgan as sg

# ----- creation


@pytest.mark.parametrize("make", [sg.zeros, sg.ones, sg.randn, sg.rand])
def test_creation_defaults_to_float32_cpu(make):
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float32 and t.device == "cpu"
        assert not t.requires_grad and t.grad is None and t.grad_fn is None
    assert make(2, dtype="float64").dtype == np.float64
    assert make(2, dtype=np.float64).dtype == np.float64
    assert make(2, requires_grad=True).requires_grad


def test_zeros_ones_full_values():
    np.testing.assert_array_equal(sg.zeros(2, 2).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(sg.ones(3).numpy(), np.ones(3))
    np.testing.assert_array_equal(sg.full((2, 1), 2.5).numpy(), [[2.5], [2.5]])


def test_tensor_from_python_and_numpy():
    assert sg.tensor([1.0, 2.0]).dtype == np.float32  # Python floats -> float32
    assert sg.tensor(1.5).shape == ()
    assert sg.tensor(np.zeros(2)).dtype == np.float64  # float64 arrays stay float64
    assert sg.tensor(np.zeros(2, np.float32)).dtype == np.float32
    assert sg.tensor([1, 2]).dtype.kind == "i"
    assert sg.tensor([1, 2], dtype="float64").dtype == np.float64
    a = np.arange(3.0)
    t = sg.tensor(a)
    a[0] = 9  # sg.tensor copies
    assert t.numpy()[0] == 0


def test_only_float_tensors_can_require_grad():
    with pytest.raises(
        TypeError, match="only floating-point tensors can require grad, got dtype int"
    ):
        sg.tensor([1, 2], requires_grad=True)


def test_tensor_rejects_non_numbers():
    with pytest.raises(TypeError, match="expected numbers"):
        sg.tensor(["a", "b"])


# ----- generators


@pytest.mark.parametrize("draw", ["randn", "rand"])
def test_generators_with_one_seed_draw_identically(draw):
    make = getattr(sg, draw)
    a = make(4, 5, generator=sg.Generator(42)).numpy()
    b = make(4, 5, generator=sg.Generator(42)).numpy()
    c = make(4, 5, generator=sg.Generator(43)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    g = sg.Generator(42)
    first, second = make(4, 5, generator=g).numpy(), make(4, 5, generator=g).numpy()
    np.testing.assert_array_equal(first, a)
    assert not np.array_equal(first, second)


def test_manual_seed_reproduces_the_default_stream():
    sg.manual_seed(11)
    a, b = sg.randn(6).numpy(), sg.rand(6).numpy()
    sg.manual_seed(11)
    np.testing.assert_array_equal(sg.randn(6).numpy(), a)
    np.testing.assert_array_equal(sg.rand(6).numpy(), b)


def test_draws_have_the_right_distribution():
    g = sg.Generator(0)
    u = sg.rand(100_000, generator=g, dtype="float64").numpy()
    z = sg.randn(100_000, generator=g, dtype="float64").numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.005
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02


def test_generator_seed_must_be_a_non_negative_int():
    with pytest.raises(ValueError, match="seed: expected a non-negative int"):
        sg.Generator(-1)


# ----- conversion


def test_numpy_item_and_friends():
    a = np.arange(6.0).reshape(2, 3)
    t = sg.tensor(a)
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), a)
    assert t[1, 2].item() == 5.0 and isinstance(t[1, 2].item(), float)
    assert sg.tensor([7]).item() == 7 and isinstance(sg.tensor([7]).item(), int)
    assert float(sg.tensor(np.array([2.5]))) == 2.5
    assert t.ndim == 2 and len(t) == 2 and t.numel() == 6 and t.T.shape == (3, 2)
    assert "tensor(" in repr(t)
    with pytest.raises(ValueError, match=r"only one-element tensors.*got shape \(2, 3\)"):
        t.item()


@pytest.mark.parametrize("target", [np.float32, "float32", np.dtype(np.float32)])
def test_to_dtype(target):
    x = sg.tensor(np.array([1.0, 2.5, -3.25]), requires_grad=True)
    y = x.to(target)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), np.float32([1.0, 2.5, -3.25]))
    (y * 2).sum().backward()  # differentiable: the gradient comes back as float64
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    assert x.to("float64") is x and x.to("cpu") is x
    assert x.float().dtype == np.float32 and x.float().double().dtype == np.float64


def test_unknown_dtype_string_raises():
    with pytest.raises(ValueError, match="dtype: expected one of .* got 'float8'"):
        sg.zeros(2, dtype="float8")


# ----- .data assignment


def test_data_assignment_replaces_the_values():
    w = sg.tensor(np.zeros((2, 2)), requires_grad=True)
    w.data = np.full((2, 2), 3.0)
    np.testing.assert_array_equal(w.numpy(), np.full((2, 2), 3.0))
    assert w.requires_grad and w.grad_fn is None
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((2, 2), 6.0))  # the new values are used
    w.data = sg.tensor(np.ones((2, 2)))
    np.testing.assert_array_equal(w.numpy(), np.ones((2, 2)))


def test_data_assignment_in_place_update_like_an_optimiser():
    w = sg.tensor(np.ones(3), requires_grad=True)
    (w * 2).sum().backward()
    w.data = w.data - 0.5 * w.grad.data
    np.testing.assert_array_equal(w.numpy(), np.zeros(3))


def test_data_assignment_rejects_non_arrays():
    w = sg.zeros(2)
    with pytest.raises(TypeError, match="data: expected a Tensor or a numpy or cupy ndarray, got"):
        w.data = [1.0, 2.0]


# ----- errors


def test_matmul_shape_mismatch_message():
    with pytest.raises(
        ValueError,
        match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not fit: a has 3 columns, b has 4 rows",
    ):
        sg.ones(2, 3) @ sg.ones(4, 5)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a * b,
        lambda a, b: a - b,
        lambda a, b: a / b,
        lambda a, b: a @ b,
        lambda a, b: b + a,
    ],
)
def test_float32_and_float64_do_not_mix(op):
    a, b = sg.ones(2, 2, dtype="float32"), sg.ones(2, 2, dtype="float64")
    with pytest.raises(TypeError, match=r"float32 and float64|float64 and float32"):
        op(a, b)


def test_float32_tensor_and_float64_array_do_not_mix():
    with pytest.raises(TypeError, match=r"float32 and float64"):
        sg.ones(2) + np.ones(2)


@pytest.mark.parametrize("spec", ["tpu", "opencl", "cuda:x", "cpu:0", ""])
def test_unknown_device_names_it(spec):
    with pytest.raises(
        ValueError, match=rf"device: expected 'cpu', 'cuda' or 'cuda:N', got '{spec}'"
    ):
        sg.zeros(2, device=spec)
    with pytest.raises(ValueError, match=rf"got '{spec}'"):
        sg.device(spec)


def test_default_device_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SCRATCHGAN_DEVICE", "cpu")
    assert sg.zeros(1).device == "cpu"
    monkeypatch.setenv("SCRATCHGAN_DEVICE", "tpu")
    with pytest.raises(ValueError, match="got 'tpu'"):
        sg.zeros(1)


def test_cuda_without_cupy_says_cupy_is_missing():
    try:
        import cupy  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("CuPy is installed: this checks the message given without it")
    for make in (
        lambda: sg.zeros(2, device="cuda"),
        lambda: sg.ones(2).to("cuda:0"),
        lambda: sg.device("cuda"),
    ):
        with pytest.raises(RuntimeError, match="CuPy is not installed"):
            make()


def test_cpu_tensor_devices():
    t = sg.tensor([1.0], device="cpu")
    assert t.device == "cpu" and t.device == sg.device("cpu") and str(t.device) == "cpu"
    assert t.to("cpu") is t
