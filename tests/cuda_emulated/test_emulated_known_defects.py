"""Issue 22's defects that lie outside backend.py, cuda/ and random.py, each as a test on the
emulated 'cuda' that fails today (xfail, strict) and names the fix. Flip each when it is fixed.
The references are NumPy and the CPU run of the same code."""

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.functional as F
from scratchgan import nn

pytestmark = pytest.mark.cuda_emulated

DATA_SETTER = (
    "tensor.py:49: the Tensor.data setter accepts only arrays with "
    "__array_namespace__, which cupy.ndarray lacks: accept __cuda_array_interface__ too"
)


def test_tensor_data_setter_takes_a_cupy_array(_emulated_cuda_device):
    cp = _emulated_cuda_device
    t = sg.zeros(3, device="cuda")
    t.data = cp.ones(3, np.float32)
    np.testing.assert_array_equal(t.numpy(), np.ones(3, np.float32))


def test_module_to_cuda():
    layer = nn.Linear(3, 2)
    weight = layer.weight.numpy().copy()
    layer.to("cuda")
    assert layer.weight.device == "cuda:0"
    np.testing.assert_array_equal(layer.weight.numpy(), weight)


def test_batch_norm_counts_batches_on_cuda():
    x = np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32)
    norm = nn.BatchNorm2d(3).to("cuda")
    y = norm(sg.tensor(x, device="cuda"))
    assert int(norm.num_batches_tracked.item()) == 1
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    expected = (x - mean) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_cross_entropy_on_cuda():
    logits = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    target = np.array([0, 2, 1, 2])
    loss = F.cross_entropy(sg.tensor(logits, device="cuda"), sg.tensor(target, device="cuda"))
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert float(loss.numpy()) == pytest.approx(-log_p[np.arange(4), target].mean(), rel=1e-5)


@pytest.mark.parametrize("make", [sg.zeros, sg.ones])
def test_creation_on_cuda_1_lands_on_cuda_1(make):
    assert make(2, 3, device="cuda:1").device == "cuda:1"


def test_tensor_of_a_cuda_1_array_stays_on_cuda_1(_emulated_cuda_device):
    cp = _emulated_cuda_device
    with cp.cuda.Device(1):
        array = cp.arange(3, dtype=np.float32)
    t = sg.tensor(array)
    assert t.device == "cuda:1"
    np.testing.assert_array_equal(t.numpy(), [0, 1, 2])


def test_ops_on_cuda_1_run_on_cuda_1():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = sg.tensor(x, device="cuda:1", requires_grad=True)
    y = (t * 2 + 1).sum()
    y.backward()
    assert y.device == "cuda:1" and t.grad.device == "cuda:1"
    assert float(y.numpy()) == pytest.approx(float((x * 2 + 1).sum()))
    np.testing.assert_array_equal(t.grad.numpy(), np.full((2, 3), 2, np.float32))


def test_an_op_mixing_devices_raises_naming_both():
    a = sg.tensor(np.ones(2, np.float32), device="cuda:1")
    b = sg.tensor(np.ones(2, np.float32), device="cuda:0")
    with pytest.raises((RuntimeError, ValueError), match=r"cuda:1.*cuda:0|cuda:0.*cuda:1"):
        a + b
    with pytest.raises((RuntimeError, ValueError), match=r"cuda:1.*cpu|cpu.*cuda:1"):
        F.maximum(a, sg.tensor(np.ones(2, np.float32)))


def test_a_model_trains_on_cuda_1_as_on_cuda_0(tmp_path):
    from scratchgan import train

    rng = np.random.default_rng(0)
    images, labels = (rng.random((40, 12, 12)) * 255).astype(np.uint8), np.arange(40) % 10
    weights = {}
    for device in ("cuda:0", "cuda:1"):
        config = train.make_config(
            "dcgan", epochs=1, batch_size=8, valid_size=8, seed=0, device=device
        )
        trainer = train.Trainer(
            config,
            str(tmp_path / device),
            progress=False,
            data=(images[:32], labels[:32], images[32:], labels[32:]),
        )
        trainer.fit(max_steps=2)
        weights[device] = {
            f"{name}.{key}": value.numpy()
            for name, module in trainer.model.modules().items()
            for key, value in module.state_dict().items()
        }
        assert all(
            p.device == device for m in trainer.model.modules().values() for p in m.parameters()
        )
    for key, value in weights["cuda:1"].items():
        np.testing.assert_array_equal(value, weights["cuda:0"][key], err_msg=key)
