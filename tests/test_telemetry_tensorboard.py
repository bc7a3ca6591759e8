"""--tensorboard: the event files of a short run, read back with TensorBoard's own reader."""

import numpy as np
import pytest

from scratchgan import train

pytest.importorskip("tensorboardX", reason="the tensorboard extra (tensorboardX) is not installed")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="tensorboard (the dev extra) is not installed, so the event files cannot be read back",
)


def blobs(n, size=12, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    centres = rng.uniform(3, size - 3, (n, 2, 1, 1))
    images = 255 * np.exp(-((yy - centres[:, 0]) ** 2 + (xx - centres[:, 1]) ** 2) / 6.0)
    return images.astype(np.uint8), rng.integers(0, 10, n)


def test_event_files_hold_scalars_images_and_histograms(tmp_path):
    images, labels = blobs(24)
    cfg = train.make_config("dcgan", epochs=1, batch_size=8, valid_size=8, tensorboard=True)
    trainer = train.Trainer(
        cfg,
        str(tmp_path / "run"),
        progress=False,
        data=(images[:16], labels[:16], images[16:], labels[16:]),
    )
    trainer.fit()
    reader = event_accumulator.EventAccumulator(
        str(tmp_path / "run" / "tensorboard"),
        size_guidance={
            event_accumulator.SCALARS: 0,
            event_accumulator.IMAGES: 0,
            event_accumulator.HISTOGRAMS: 0,
        },
    )
    reader.Reload()
    tags = reader.Tags()
    assert {"train/d_loss", "train/g_loss", "epoch/valid_d_real"} <= set(tags["scalars"])
    d_loss = reader.Scalars("train/d_loss")
    assert [e.step for e in d_loss] == [1, 2]
    assert trainer.history[0]["train_d_loss"] == pytest.approx(
        np.mean([e.value for e in d_loss]), rel=1e-5
    )
    assert tags["images"] == ["samples"]
    picture = reader.Images("samples")[0]
    assert picture.step == 2 and picture.width > 0 and picture.height > 0
    weights = reader.Histograms("weights/generator.0.weight")[0]
    w = trainer.model.G[0].weight.array
    assert weights.histogram_value.num == w.size
    assert weights.histogram_value.sum == pytest.approx(
        float(w.astype(np.float64).sum()), rel=1e-4, abs=1e-4
    )
    assert any(t.startswith("gradients/discriminator.") for t in tags["histograms"])
