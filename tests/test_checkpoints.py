"""Checkpoints are written atomically with a sha256 manifest, the previous good one is kept, and a
corrupt one is reported naming its path and the previous good checkpoint (issue 21)."""

import hashlib
import json

import numpy as np
import pytest

from scratchgan import train
from scratchgan.training import checkpoints


def tiny_data(n=48, size=8, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n + 8, size, size), dtype=np.uint8)
    labels = rng.integers(0, 10, n + 8)
    return images[:n], labels[:n], images[n:], labels[n:]


def trainer(run, resume=False, resume_from=None, **kw):
    kw = {"epochs": 1, "batch_size": 8, "valid_size": 8, **kw}
    config = train.make_config("stacked-ae", **kw)
    return train.Trainer(
        config, str(run), resume=resume, resume_from=resume_from, data=tiny_data(), progress=False
    )


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_holds_the_sha256_of_every_checkpoint_and_the_previous_is_kept(tmp_path):
    t = trainer(tmp_path, checkpoint_every=2)
    t.fit(max_steps=2)
    folder = tmp_path / "checkpoints"
    first = (folder / "last.npz").read_bytes()
    assert not (folder / "previous.npz").exists()
    t.fit(max_steps=4)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest) == {"last.npz", "previous.npz"}
    assert manifest == {name: sha256(folder / name) for name in manifest}
    assert (folder / "previous.npz").read_bytes() == first  # the step-2 checkpoint, intact
    assert not list(folder.glob("*.tmp"))  # the temporary files were renamed into place


def test_a_corrupt_checkpoint_names_its_path_and_the_previous_good_one(tmp_path):
    t = trainer(tmp_path, checkpoint_every=2)
    t.fit(max_steps=4)
    last = tmp_path / "checkpoints" / "last.npz"
    data = last.read_bytes()
    for broken in (data[: len(data) // 2], b"", bytes(len(data))):
        last.write_bytes(broken)
        with pytest.raises(checkpoints.CheckpointError) as error:
            trainer(tmp_path, resume=True)
        message = str(error.value)
        assert str(last) in message and "\n" not in message
        assert error.value.previous == str(tmp_path / "checkpoints" / "previous.npz")


def test_a_checkpoint_without_a_manifest_entry_still_loads_and_a_bad_zip_is_named(tmp_path):
    """A checkpoint from before manifests loads; one that is no .npz at all says so (numpy's
    allow_pickle advice would be wrong here)."""
    t = trainer(tmp_path)
    t.fit(max_steps=3)
    (tmp_path / "checkpoints" / "manifest.json").unlink()
    assert trainer(tmp_path, resume=True).step == 3
    (tmp_path / "checkpoints" / "last.npz").write_bytes(b"\x93NUMPY garbage" * 100)
    with pytest.raises(checkpoints.CheckpointError, match="not a readable .npz checkpoint"):
        trainer(tmp_path, resume=True)


def test_resume_from_the_previous_checkpoint_continues_bit_for_bit(tmp_path):
    """Resuming from previous.npz (step 2) replays steps 3-4 exactly as the first time."""
    t = trainer(tmp_path / "a", checkpoint_every=2)
    t.fit(max_steps=4)
    expected = {k: v.numpy().copy() for k, v in t.model.modules()["encoder"].state_dict().items()}
    (tmp_path / "a" / "checkpoints" / "last.npz").write_bytes(b"")
    previous = str(tmp_path / "a" / "checkpoints" / "previous.npz")
    again = trainer(tmp_path / "a", resume_from=previous, checkpoint_every=2)
    assert again.step == 2
    again.fit(max_steps=4)
    got = again.model.modules()["encoder"].state_dict()
    assert all(np.array_equal(got[k].numpy(), v) for k, v in expected.items())
    # the empty last.npz was moved aside, not deleted; the new previous.npz is the good step 2
    folder = tmp_path / "a" / "checkpoints"
    assert (folder / "last.npz.corrupt").read_bytes() == b""
    assert checkpoints.verified(folder / "last.npz")
    assert checkpoints.verified(folder / "previous.npz")
