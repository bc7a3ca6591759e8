"""Device choice and device correctness under the emulated CUDA device (two GPUs): backend.py
answers with the stand-in, 'cuda:1' is a real second device, and kernel launches refuse arrays
from two devices and run in their arrays' device context."""

import os
import subprocess
import sys

import numpy as np
import pytest

from scratchgan import backend, cuda
from scratchgan.cuda import launcher

pytestmark = pytest.mark.cuda_emulated


@pytest.fixture
def cp(_emulated_cuda_device):
    return _emulated_cuda_device


def test_backend_answers_with_the_stand_in(cp):
    assert backend.cupy_module() is cp and backend.emulating_device()
    assert cuda.is_available()
    assert backend.array_module("cuda") is cp and backend.array_module("cuda:1") is cp
    assert backend.array_module(cp.zeros(1)) is cp and backend.array_module(np.zeros(1)) is np


def test_cuda_1_is_the_second_device_and_cuda_2_is_refused(cp):
    assert backend.parse_device("cuda:1") == backend.Device("cuda", 1)
    with pytest.raises(RuntimeError, match="CUDA device 2 was requested but only 2 GPU"):
        backend.parse_device("cuda:2")


def test_to_device_moves_between_host_and_both_devices(cp):
    host = np.arange(4, dtype=np.float32)
    on1 = backend.to_device(host, "cuda:1")
    assert backend.device_of(on1) == "cuda:1" and cp.cuda.runtime.getDevice() == 0
    on0 = backend.to_device(on1, "cuda:0")
    assert backend.device_of(on0) == "cuda:0"
    back = backend.to_device(on0, "cpu")
    assert isinstance(back, np.ndarray) and back.tolist() == host.tolist()


def test_device_context_makes_the_arrays_device_current(cp):
    with cp.cuda.Device(1):
        x = cp.ones(2)
    with backend.device_context(x):
        assert cp.cuda.runtime.getDevice() == 1
    with backend.device_context("cpu"):
        assert cp.cuda.runtime.getDevice() == 0


def _run_python(code, **env):
    env = {k: v for k, v in os.environ.items() if k != "SCRATCHGAN_EMULATE_CUDA"} | env
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_emulation_holds_only_inside_its_block():
    code = (
        "from scratchgan import backend, cuda\n"
        "with cuda.emulate_device():\n    inside = cuda.is_available()\n"
        "print(inside, backend.emulating_device())"
    )
    assert _run_python(code) == ["True", "False"]


def test_environment_variable_turns_the_emulated_device_on():
    code = (
        "import scratchgan as sg, numpy as np; t = sg.tensor(np.ones(2), device='cuda:1'); "
        "print(t.device, type(t.array).__name__)"
    )
    assert _run_python(code, SCRATCHGAN_EMULATE_CUDA="1") == ["cuda:1", "ndarray"]


def _leaky_args(x, y):
    return [x, y, np.int64(x.size), np.float32(0.1)]


def test_a_launch_mixing_devices_names_kernel_arguments_and_devices(cp):
    x = cp.ones(4, np.float32)
    with cp.cuda.Device(1):
        y = cp.empty(4, np.float32)
    message = (
        r"kernel leaky_relu_forward_f32: arguments on different devices "
        r"\(x on cuda:0, y on cuda:1\)"
    )
    with pytest.raises(ValueError, match=message):
        cuda.launch("leaky_relu_forward_f32", 1, 32, _leaky_args(x, y))


def test_a_launch_runs_in_its_arrays_device_context(cp):
    with cp.cuda.Device(1):
        x = cp.asarray(np.array([-2, -1, 0, 3], np.float32))
        y = cp.empty(4, np.float32)
    before = launcher.launch_counts["leaky_relu_forward_f32"]
    cuda.launch("leaky_relu_forward_f32", 1, 32, _leaky_args(x, y))  # current device is 0
    assert launcher.launch_counts["leaky_relu_forward_f32"] == before + 1
    np.testing.assert_allclose(y.get(), [-0.2, -0.1, 0, 3])
    assert cp.cuda.runtime.getDevice() == 0


@pytest.mark.parametrize(
    "wrapper, args",
    [
        (cuda.leaky_relu_forward, lambda x: (x, 0.2)),
        (cuda.leaky_relu_backward, lambda x: (x, x * 0.5, 0.2)),
        (cuda.pixel_norm_forward, lambda x: (x,)),
        (cuda.pixel_norm_backward, lambda x: (x, x * 0.5)),
        (cuda.batch_norm_stats, lambda x: (x,)),
        (cuda.batch_norm_backward, lambda x: (x, x * 0.5, x[0, :, 0, 0] * 0, x[1, :, 1, 1] ** 2)),
        (cuda.instance_norm_forward, lambda x: (x,)),
        (
            cuda.instance_norm_backward,
            lambda x: (x, x * 0.5, x[:, :, 0, 0] * 0, x[:, :, 1, 1] ** 2),
        ),
        (cuda.minibatch_stddev_forward, lambda x: (x, 2)),
        (cuda.im2col, lambda x: (x, 3, 3, 1, 1)),
        (cuda.col2im, lambda x: (x.reshape(2, 3, 25).repeat(9, axis=1), (2, 3, 5, 5), 3, 3, 1, 1)),
    ],
)
def test_kernel_wrappers_on_cuda_1_match_the_cpu_emulation(cp, wrapper, args):
    host = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    with cuda.emulate(block=32, reduce_block=16, max_grid=4):
        expected = wrapper(*args(host.copy()))
    with cp.cuda.Device(1):
        arguments = args(cp.asarray(host))  # made on cuda:1
    got = wrapper(*arguments)  # from cuda:0: the wrapper allocates on its input's device
    for g, e in zip(
        got if isinstance(got, tuple) else (got,),
        expected if isinstance(expected, tuple) else (expected,),
        strict=True,
    ):
        assert g.device.id == 1
        np.testing.assert_array_equal(g.get(), e)


def test_numpy_arrays_are_still_refused_on_the_gpu_path(cp):
    x = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match="NumPy array; kernels run on CuPy arrays"):
        cuda.launch("leaky_relu_forward_f32", 1, 32, _leaky_args(x, cp.zeros(4, np.float32)))
