"""scratchgan.cuda's plumbing: finding kernels, checking launch arguments, emulation guards."""

import subprocess
import types

import numpy as np
import pytest

from scratchgan import cuda
from scratchgan.cuda import launcher, loader

FAMILIES = [
    "adam",
    "batch_norm",
    "conv",
    "instance_norm",
    "leaky_relu",
    "minibatch_stddev",
    "pixel_norm",
]
needs_gxx = pytest.mark.skipif(
    not cuda.emulation_available(), reason="g++ is not on PATH: kernel emulation needs it"
)
F32, F64 = np.float32, np.float64


def test_kernel_dir_holds_one_file_per_op_family():
    assert [p.stem for p in loader.kernel_files()] == FAMILIES
    assert (loader.kernel_dir() / "emu" / "cuda_emu.h").is_file()


def test_every_kernel_comes_in_float32_and_float64():
    names = set(loader.kernel_names())
    for name in names:
        base, suffix = name.rsplit("_", 1)
        assert suffix in ("f32", "f64"), name
        assert {base + "_f32", base + "_f64"} <= names


def test_require_cuda_names_what_is_missing():
    if cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CuPy is not installed|no GPU"):
        cuda.require_cuda()


def test_numpy_arrays_need_emulation():
    x = np.zeros(5, np.float32)
    with pytest.raises(TypeError, match="NumPy array; kernels run on CuPy arrays"):
        cuda.launch("leaky_relu_forward_f32", 1, 32, [x, x.copy(), np.int64(5), np.float32(0.1)])


@pytest.mark.parametrize(
    "args, message",
    [
        (
            [np.zeros(5), np.zeros(5), np.int64(5), F32(0.1)],
            "x must be a C-contiguous float32 array",
        ),
        ([np.zeros(5, F32), np.zeros(5, F32), 5, F32(0.1)], "n must be a numpy int64 scalar"),
        (
            [np.zeros(5, F32), np.zeros(5, F32), np.int64(5), F64(0.1)],
            "slope must be a numpy float32",
        ),
        ([np.zeros(5, F32), np.zeros(5, F32), np.int64(5)], "takes 4 arguments, got 3"),
        ([np.zeros(10, F32)[::2], np.zeros(5, F32), np.int64(5), F32(0.1)], "C-contiguous"),
    ],
)
def test_launch_checks_arguments_against_the_c_signature(args, message):
    with cuda.emulate(), pytest.raises(TypeError, match=message):
        cuda.launch("leaky_relu_forward_f32", 1, 32, args)


def test_unknown_kernel_and_shape_mismatch_are_refused():
    with cuda.emulate():
        with pytest.raises(KeyError, match="no kernel named"):
            cuda.launch("leaky_relu_forward_f16", 1, 32, [])
        with pytest.raises(ValueError, match="gy has shape"):
            cuda.leaky_relu_backward(np.zeros(4), np.zeros(5))


@needs_gxx
def test_emulation_counts_launches():
    before = cuda.launch_counts["leaky_relu_forward_f64"]
    with cuda.emulate():
        cuda.leaky_relu_forward(np.ones(3))
    assert cuda.launch_counts["leaky_relu_forward_f64"] == before + 1


@needs_gxx
def test_emulation_catches_writes_past_the_end():
    x, y = np.ones(10, np.float32), np.zeros(8, np.float32)
    with cuda.emulate(), pytest.raises(RuntimeError, match="wrote outside the bounds of y"):
        cuda.launch("leaky_relu_forward_f32", 1, 32, [x, y, np.int64(10), np.float32(0.5)])


@needs_gxx
def test_emulation_reads_past_the_end_give_nan():
    x, y = np.ones(4, np.float32), np.zeros(6, np.float32)
    with cuda.emulate():
        cuda.launch("leaky_relu_forward_f32", 1, 32, [x, y, np.int64(6), np.float32(0.5)])
    assert (y[:4] == 1).all() and np.isnan(y[4:]).all()


@needs_gxx
def test_kernels_compile_for_the_emulation_without_warnings(tmp_path):
    every = tmp_path / "every_kernel.cu"  # one translation unit: the header is parsed once
    every.write_text("".join(f'#include "{p}"\n' for p in loader.kernel_files()))
    header = loader.kernel_dir() / "emu" / "cuda_emu.h"
    command = [
        "g++",
        "-std=c++20",
        "-fsyntax-only",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-x",
        "c++",
        "-include",
        str(header),
        "-I",
        str(loader.kernel_dir()),
        str(every),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr


def test_emulate_sets_and_restores_the_launch_geometry():
    before = launcher.LaunchSettings(**vars(launcher.settings))
    with cuda.emulate(block=8, reduce_block=4, max_grid=2):
        assert launcher.settings == launcher.LaunchSettings(8, 4, 2, emulating=True)
        assert launcher.grid_stride(100) == (2, 8) and launcher.block_per_row(100) == (2, 4)
        with cuda.emulate(max_grid=5):  # nested: keeps the outer block sizes
            assert launcher.settings == launcher.LaunchSettings(8, 4, 5, emulating=True)
        with pytest.raises(TypeError, match="must be a NumPy array"):
            cuda.launch(
                "leaky_relu_forward_f32",
                1,
                8,
                [FakeDeviceArray(), np.zeros(1, np.float32), np.int64(1), np.float32(0.1)],
            )
    assert launcher.settings == before
    assert not cuda.uses_kernels(np.zeros(1))


def test_launch_grid_covers_the_work_up_to_the_grid_limit():
    with cuda.emulate(block=32, reduce_block=16, max_grid=3):
        blocks = [launcher.grid_stride(n)[0] for n in (0, 1, 32, 33, 64, 65, 10**6)]
        assert blocks == [1, 1, 1, 2, 2, 3, 3]
        assert [launcher.block_per_row(rows)[0] for rows in (0, 1, 3, 4)] == [1, 1, 3, 3]


class FakeDeviceArray:
    """Looks like a CuPy array on GPU 0 to the argument check and to backend.device_of."""

    dtype = np.dtype(np.float32)
    flags = np.zeros(1, np.float32).flags
    device = types.SimpleNamespace(id=0)


def test_uses_kernels_follows_the_device_backend_assigns():
    assert cuda.uses_kernels(FakeDeviceArray())
    assert not cuda.uses_kernels(np.zeros(1)) and not cuda.uses_kernels(np.float32(1))
    with cuda.emulate():
        assert cuda.uses_kernels(np.zeros(1))


@needs_gxx
def test_reduction_block_must_be_a_power_of_two():
    with cuda.emulate(reduce_block=24), pytest.raises(ValueError, match="power of two"):
        cuda.batch_norm_stats(np.zeros((2, 3, 4)))
