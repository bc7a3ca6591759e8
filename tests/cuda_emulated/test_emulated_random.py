"""Randomness on 'cuda' (issue 22, defects 3 and 5): a CUDA generator draws, permutes and resumes
bit-exactly, and the trainer's CPU generator serves CUDA tensors. The reference is NumPy's PCG64
under the same seed, drawn independently here."""

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.functional as F
from scratchgan.backend import parse_device
from scratchgan.random import Generator, default_generator, resolve

pytestmark = pytest.mark.cuda_emulated


@pytest.fixture
def cp(_emulated_cuda_device):
    return _emulated_cuda_device


def _pcg64(seed):
    return np.random.Generator(np.random.PCG64(seed))


@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_a_cuda_generator_permutes_on_its_device(cp, device):
    perm = Generator(7, device=device).permutation(10)
    assert isinstance(perm, cp.ndarray) and perm.device.id == parse_device(device).index
    np.testing.assert_array_equal(perm.get(), _pcg64(7).permutation(10))


def test_a_cuda_generator_draws_the_cpu_stream_of_its_seed(cp):
    g = Generator(3, device="cuda")
    ref = _pcg64(3)
    np.testing.assert_array_equal(
        g.normal((2, 3), np.float32).get(), ref.standard_normal((2, 3), dtype=np.float32)
    )
    np.testing.assert_array_equal(
        g.uniform((4,), np.float64, -1, 1).get(), ref.random(4) * 2.0 - 1.0
    )
    np.testing.assert_array_equal(g.integers(0, 9, (5,)).get(), ref.integers(0, 9, size=(5,)))


def test_a_cuda_generator_checkpoints_and_resumes_bit_exactly(cp):
    g = Generator(11, device="cuda")
    g.normal((3,), np.float32)
    state = g.get_state()
    first = g.uniform((6,), np.float32).get()
    fresh = Generator(None, device="cuda")
    fresh.set_state(state)
    np.testing.assert_array_equal(fresh.uniform((6,), np.float32).get(), first)


def test_the_trainers_cpu_generator_serves_cuda_tensors(cp):
    cpu = Generator(5)
    t = sg.randn(2, 3, device="cuda:1", generator=cpu)
    assert t.device == "cuda:1"
    ref = _pcg64(5)
    np.testing.assert_array_equal(t.array.get(), ref.standard_normal((2, 3), dtype=np.float32))
    # the CPU generator's state advanced exactly as for a CPU draw, so a checkpoint of it resumes
    np.testing.assert_array_equal(cpu.uniform((3,), np.float32), ref.random(3, dtype=np.float32))


def test_dropout_on_cuda_with_a_cpu_generator(cp):
    x = sg.ones(4, 5, device="cuda")
    y = F.dropout(x, 0.5, generator=Generator(9))
    assert y.device == "cuda:0"
    keep = _pcg64(9).random((4, 5), dtype=np.float32) >= 0.5
    assert set(np.unique(y.array.get())) <= {0.0, 2.0}
    assert (y.array.get() == 2.0).sum() == pytest.approx(keep.sum(), abs=0)


def test_a_cuda_generator_serves_only_its_own_device(cp):
    with pytest.raises(ValueError, match="draws on cuda:1, but the tensor is on cuda:0"):
        resolve(Generator(0, device="cuda:1"), "cuda:0")
    with pytest.raises(ValueError, match="draws on cuda:0, but the tensor is on cpu"):
        resolve(Generator(0, device="cuda"), "cpu")


def test_manual_seed_reseeds_the_cuda_default_generator_like_the_cpu_one(cp):
    sg.manual_seed(21)
    on_gpu = default_generator("cuda").normal((4,), np.float32).get()
    np.testing.assert_array_equal(on_gpu, _pcg64(21).standard_normal(4, dtype=np.float32))
