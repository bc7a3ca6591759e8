"""The CuPy stand-in fails where CuPy fails: NumPy mix-ups, arrays from another device, APIs CuPy
lacks; and computes what NumPy computes where CuPy works."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.cuda_emulated


@pytest.fixture
def cp(_emulated_cuda_device):
    return _emulated_cuda_device


def test_its_ndarray_is_not_a_numpy_array(cp):
    x = cp.zeros((2, 3), np.float32)
    assert not isinstance(x, np.ndarray)
    assert hasattr(x, "__cuda_array_interface__") and not hasattr(x, "__array_namespace__")
    assert (x.shape, x.dtype, x.ndim, x.size, x.strides) == ((2, 3), np.float32, 2, 6, (12, 4))
    assert x.flags.c_contiguous and not x.T.flags.c_contiguous


def test_implicit_conversion_to_numpy_raises_as_in_cupy(cp):
    x = cp.ones(3)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.array(x, dtype=np.float64)


@pytest.mark.parametrize(
    "mix",
    [
        lambda x, n: x + n,
        lambda x, n: n + x,
        lambda x, n: x * n,
        lambda x, n: n < x,
        lambda x, n: x @ n,
        lambda x, n: np.maximum(x, n),
        lambda x, n: np.concatenate([x, n]),
    ],
)
def test_an_op_given_a_numpy_array_raises_type_error(cp, mix):
    with pytest.raises(TypeError, match="Unsupported type|numpy"):
        mix(cp.ones((3, 3)), np.ones((3, 3)))


def test_in_place_op_with_numpy_raises(cp):
    x = cp.ones(3)
    with pytest.raises(TypeError):
        x += np.ones(3)


def test_get_and_asarray_copy_between_host_and_device(cp):
    host = np.arange(6.0).reshape(2, 3)
    x = cp.asarray(host)
    host[0, 0] = 99  # asarray copied: the device array does not see it
    back = x.get()
    assert isinstance(back, np.ndarray) and back[0, 0] == 0
    back[0, 1] = -1  # get copied too
    assert x.get()[0, 1] == 1
    assert cp.asarray(x) is x


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=12), st.floats(-3, 3))
def test_arithmetic_and_reductions_match_numpy(values, scalar):
    from scratchgan.backend import emulated_cupy

    with emulated_cupy() as cp:
        a = np.array(values, np.float32)
        x = cp.asarray(a)
        np.testing.assert_array_equal(
            (x * np.float32(scalar) - x / 2).get(), a * np.float32(scalar) - a / 2
        )
        np.testing.assert_array_equal(cp.exp(x).get(), np.exp(a))
        np.testing.assert_array_equal((x > 0).get(), a > 0)
        assert float(x.sum()) == pytest.approx(float(a.sum()), rel=1e-6)
        assert int(x.argmax()) == int(a.argmax())
        assert x.var().get() == pytest.approx(a.var(), rel=1e-5, abs=1e-6)


def test_reductions_give_zero_dimensional_device_arrays_like_cupy(cp):
    total = cp.arange(4).sum()
    assert isinstance(total, cp.ndarray) and total.shape == () and int(total) == 6
    assert isinstance(cp.arange(4)[2], cp.ndarray)


def test_views_share_memory_and_in_place_ops_write_through(cp):
    x = cp.zeros((2, 3), np.float32)
    x.reshape(6)[1:3] += 1
    x[1] = cp.asarray(np.array([5, 6, 7], np.float32))
    x.T[2, 0] = 3
    np.testing.assert_array_equal(x.get(), [[0, 1, 3], [5, 6, 7]])


def test_ufunc_at_sums_repeated_indices(cp):
    y = cp.zeros(4)
    cp.add.at(y, cp.asarray(np.array([0, 2, 2, 2])), cp.asarray(np.array([1.0, 2.0, 3.0, 4.0])))
    np.testing.assert_array_equal(y.get(), [1, 0, 9, 0])


def test_numpy_functions_dispatch_to_the_stand_in(cp):
    x = cp.asarray(np.array([[1.0, -2.0], [3.0, 4.0]]))
    y = np.exp(x)
    assert isinstance(y, cp.ndarray)
    np.testing.assert_allclose(y.get(), np.exp([[1.0, -2.0], [3.0, 4.0]]))
    assert isinstance(np.sum(x, axis=0), cp.ndarray)


def test_cupy_lacks_what_numpy_has(cp):
    with pytest.raises(TypeError, match="sparse"):
        cp.indices((2, 3), sparse=True)
    assert not hasattr(cp.random.default_rng(0), "permutation")
    assert not hasattr(cp, "vecdot")
    np.testing.assert_array_equal(cp.indices((2, 3)).get(), np.indices((2, 3)))


def test_two_devices_and_the_current_one(cp):
    assert cp.cuda.runtime.getDeviceCount() == 2
    assert cp.cuda.runtime.getDevice() == 0
    with cp.cuda.Device(1):
        assert cp.cuda.runtime.getDevice() == 1
        x = cp.ones(3)
        with cp.cuda.Device(0):
            assert cp.cuda.Device().id == 0
        assert cp.cuda.Device().id == 1
    assert cp.cuda.runtime.getDevice() == 0 and x.device.id == 1
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="invalid device"):
        cp.cuda.Device(2)


def test_an_op_off_its_arrays_device_raises_as_without_peer_access(cp):
    with cp.cuda.Device(1):
        x = cp.ones(3)
    with pytest.raises(ValueError, match=r"resides \(1\) is different from the current device"):
        x + 1
    y = cp.ones(3)
    with cp.cuda.Device(1), pytest.raises(ValueError, match="Peer access is unavailable"):
        x + y
    with cp.cuda.Device(1):
        assert (x * 2).device.id == 1
    assert x.reshape(3, 1).device.id == 1  # a view needs no kernel
    moved = cp.asarray(x)  # asarray copies to the current device
    assert moved.device.id == 0 and moved.get().tolist() == [1, 1, 1]


def test_random_draws_land_on_the_generators_device(cp):
    with cp.cuda.Device(1):
        rng = cp.random.default_rng(0)
        assert rng.standard_normal((2, 2), dtype=np.float32).device.id == 1
    with pytest.raises(ValueError, match="Peer access"):
        rng.random(3)


SOURCE = r"""
extern "C" __global__ void axpy_f32(const float* x, float* y, long long n, float a) {
    for (long long i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        y[i] += a * x[i];
}
EMU_EXPORT(axpy_f32)
"""


def test_raw_module_compiles_and_launches_on_the_current_device(cp):
    x = cp.asarray(np.arange(10, dtype=np.float32))
    y = cp.ones(10, np.float32)
    kernel = cp.RawModule(code=SOURCE).get_function("axpy_f32")
    kernel((2,), (4,), (x, y, np.int64(10), np.float32(3)))
    np.testing.assert_array_equal(y.get(), 1 + 3 * np.arange(10, dtype=np.float32))
    with pytest.raises(TypeError, match="Unsupported type"):
        kernel((1,), (4,), (np.zeros(10, np.float32), y, np.int64(10), np.float32(3)))
    with cp.cuda.Device(1), pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="loaded on"):
        kernel((1,), (4,), (x, y, np.int64(10), np.float32(3)))
