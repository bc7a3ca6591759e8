"""sg.save / sg.load: npz without pickle; models, optimisers and schedulers round-trip."""

import io
import json
import zipfile

import numpy as np
import pytest
from compat_helpers import torch

import scratchgan as sg
from scratchgan import nn, optim


def _model():
    return nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Linear(4, 1)
    ).double()


def _train_step(model, opt, x):
    opt.zero_grad()
    model(x).pow(2).mean().backward()
    opt.step()


def test_model_optimizer_scheduler_round_trip_continues_exactly(tmp_path):
    sg.manual_seed(0)
    x = sg.randn(8, 3, dtype="float64")
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, 2, 0.5)
    for _ in range(3):
        _train_step(model, opt, x)
        sched.step()
    path = tmp_path / "checkpoint.pt"
    sg.save(
        {
            "model": model.state_dict(),
            "opt": opt.state_dict(),
            "sched": sched.state_dict(),
            "epoch": 3,
        },
        path,
    )
    assert path.exists()  # the name is used as given (np.savez would add .npz)
    saved = sg.load(path)
    assert saved["epoch"] == 3
    model2 = _model()
    model2.load_state_dict(saved["model"])
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    sched2 = optim.lr_scheduler.StepLR(opt2, 2, 0.5)
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    for _ in range(3):
        _train_step(model, opt, x)
        sched.step()
        _train_step(model2, opt2, x)
        sched2.step()
    for (name, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        assert (a.numpy() == b.numpy()).all(), name
    assert sched.get_last_lr() == sched2.get_last_lr()


def test_nested_containers_and_scalars_keep_their_types():
    value = {
        "a": sg.tensor([1.0, 2.0], requires_grad=True),
        "b": [1, 2.5, None, "text", True],
        "c": {3: (np.arange(3), np.float64(0.25))},
        "d": sg.tensor([1, 2]),
    }
    buffer = io.BytesIO()
    sg.save(value, buffer)
    buffer.seek(0)
    loaded = sg.load(buffer)
    assert (
        isinstance(loaded["a"], sg.Tensor)
        and loaded["a"].requires_grad
        and loaded["a"].dtype == np.float32
    )
    assert loaded["b"] == [1, 2.5, None, "text", True] and isinstance(loaded["b"][4], bool)
    array, scalar = loaded["c"][3]
    assert isinstance(array, np.ndarray) and (array == np.arange(3)).all()
    assert scalar == 0.25 and isinstance(scalar, np.float64)
    assert loaded["d"].dtype == np.int64


def test_file_is_plain_npz_with_a_json_structure(tmp_path):
    path = tmp_path / "m.npz"
    sg.save({"fc.weight": sg.ones(2, 2)}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"fc.weight", "__structure__"}
        assert json.loads(str(archive["__structure__"]))["format"] == "scratchgan-npz-1"


def test_object_arrays_are_refused_on_save():
    with pytest.raises(TypeError, match="'state/x' is an array of dtype object.*without pickle"):
        sg.save({"state": {"x": np.array([{}, 1], dtype=object)}}, io.BytesIO())
    with pytest.raises(TypeError, match="'f' is a function"):
        sg.save({"f": lambda: 0}, io.BytesIO())


def test_torch_save_files_are_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "torch.pt"
    torch.save({"w": torch.zeros(2)}, path)
    assert zipfile.is_zipfile(path)
    with pytest.raises(
        ValueError, match=rf"{path} holds pickled data.*npz archives without pickle"
    ):
        sg.load(path)


def test_pickled_numpy_files_are_refused(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="holds pickled data"):
        sg.load(path)
    npz = tmp_path / "objects.npz"
    np.savez(npz, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds pickled data"):
        sg.load(npz)


def test_plain_numpy_files_load_as_tensors(tmp_path):
    np.savez(tmp_path / "a.npz", w=np.eye(2))
    np.save(tmp_path / "b.npy", np.arange(3.0))
    assert (sg.load(tmp_path / "a.npz")["w"].numpy() == np.eye(2)).all()
    assert (sg.load(tmp_path / "b.npy").numpy() == np.arange(3.0)).all()
