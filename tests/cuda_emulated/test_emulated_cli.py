"""`scratchgan train MODEL --device cuda` end to end on the emulated device, one model per
family (autoencoder, VAE, GAN): train two steps, resume, sample. Fails today on the Tensor.data
setter (tensor.py:49), then on resuming with the same --device cuda (cli.py:89 compares 'cuda'
with the run's 'cuda:0' as strings); passes with both fixed (checked with them patched)."""

import numpy as np
import pytest
from PIL import Image

from scratchgan import cli

pytestmark = [
    pytest.mark.cuda_emulated,
]


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """40 grayscale 28x28 PNGs of blobs: a `folder:PATH` data set that needs no download."""
    folder = tmp_path_factory.mktemp("blobs")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:28, :28]
    for i in range(40):
        cy, cx = rng.uniform(6, 22, 2)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 30)
        Image.fromarray((blob * 255).astype(np.uint8), mode="L").save(folder / f"{i:02d}.png")
    return folder


@pytest.mark.parametrize("model", ["stacked-ae", "vae", "dcgan"])
def test_train_resume_and_sample_on_cuda(model, image_folder, tmp_path):
    run = tmp_path / model
    common = [
        "train",
        model,
        "--dataset",
        f"folder:{image_folder}",
        "--device",
        "cuda",
        "--batch-size",
        "8",
        "--valid-size",
        "8",
        "--out",
        str(run),
        "--quiet",
    ]
    assert cli.main([*common, "--max-steps", "1"]) == 0
    assert cli.main([*common, "--max-steps", "2", "--resume"]) == 0
    assert (run / "checkpoints" / "last.npz").is_file()
    if model != "stacked-ae":  # an autoencoder has no prior to sample from
        out = tmp_path / "sample.png"
        assert cli.main(["sample", str(run), "--n", "4", "--out", str(out)]) == 0
        assert out.is_file()
