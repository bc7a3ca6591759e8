"""scripts/equivalence/paired.py: scratchgan and its torch reference start from the same weights and
replay the same draws, so after one step only float32 rounding separates them; the check fails if
the weights or the draws are not shared."""

import json
import os
import sys

import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts", "equivalence"))
import paired  # noqa: E402

import reference  # noqa: E402


def run(tmp_path, monkeypatch, write_fashion_mnist, model="dcgan64", steps=3):
    monkeypatch.setenv("SCRATCHGAN_DATA", str(write_fashion_mnist(tmp_path / "data", 64, 16)))
    out = tmp_path / "paired.json"
    paired.main([model, "--steps", str(steps), "--every", "1", "--out", str(out),
                 "--set", "batch_size=8", "--set", "valid_size=16",
                 *(["--set", "width=4"] if model == "dcgan64" else [])])  # fmt: skip
    return json.loads(out.read_text())["rows"]


@pytest.mark.parametrize("model", ["dcgan", "dcgan64"])
def test_the_pair_starts_together(tmp_path, monkeypatch, write_fashion_mnist, model):
    rows = run(tmp_path, monkeypatch, write_fashion_mnist, model)
    assert [row["step"] for row in rows] == [1, 2, 3]
    first = rows[0]
    assert first["scratchgan"]["d_loss"] == pytest.approx(first["torch"]["d_loss"], rel=1e-5)
    assert max(first["distance"].values()) < 1e-4
    assert all(set(row["distance"]) == {"G", "D"} for row in rows)


def test_unshared_draws_are_seen(tmp_path, monkeypatch, write_fashion_mnist):
    """With torch drawing its own z (the weights still shared), the pair is far apart at once."""
    monkeypatch.setattr(
        reference.Replay,
        "normal",
        lambda self, shape, dtype: (
            self._next("normal", shape, dtype),
            torch.randn(*shape, dtype=dtype),
        )[1],
    )
    rows = run(tmp_path, monkeypatch, write_fashion_mnist)
    assert abs(rows[0]["scratchgan"]["d_loss"] - rows[0]["torch"]["d_loss"]) > 1e-3


def test_unshared_weights_are_seen(tmp_path, monkeypatch, write_fashion_mnist):
    """With torch keeping its own initial weights, the distance says so from the first step."""
    monkeypatch.setattr(reference.TorchGAN, "load_state", lambda self, g, d: None)
    rows = run(tmp_path, monkeypatch, write_fashion_mnist)
    assert min(rows[0]["distance"].values()) > 0.1


def test_samples_of_both_are_scored(tmp_path, monkeypatch, write_fashion_mnist):
    import run

    seen = {}

    def score(samples, dataset):
        seen[len(seen)] = samples
        return {"fid": float(samples.mean())}

    monkeypatch.setattr(run, "score", score)
    monkeypatch.setenv("SCRATCHGAN_DATA", str(write_fashion_mnist(tmp_path / "data", 64, 16)))
    out = tmp_path / "paired.json"
    paired.main(["dcgan64", "--steps", "2", "--samples", "12", "--out", str(out), "--set",
                 "batch_size=8", "--set", "valid_size=16", "--set", "width=4"])  # fmt: skip
    result = json.loads(out.read_text())
    # the final pair, then scratchgan's engine drawing from torch's final G
    assert set(result["scores"]) == {"scratchgan", "torch"} and len(seen) == 3
    for samples in seen.values():  # 64 x 64 samples resized to the classifier's 28 x 28
        assert samples.shape == (12, 1, 28, 28) and samples.dtype.name == "uint8"


def test_scores_at_earlier_steps_and_crossed(tmp_path, monkeypatch, write_fashion_mnist):
    """A snapshot taken at the last step scores as the final pair does (same weights, same z), an
    earlier one differently; scratchgan drawing from torch's G (the same z as its own samples)
    lands next to its own score, since after 3 steps the two G's are float32 rounding apart."""
    import run

    # the float samples themselves, so that float32 rounding can show
    monkeypatch.setattr(run, "to_eval_images", lambda samples: samples.astype("float64"))
    monkeypatch.setattr(run, "score", lambda samples, dataset: {"fid": float(samples.sum())})
    monkeypatch.setenv("SCRATCHGAN_DATA", str(write_fashion_mnist(tmp_path / "data", 64, 16)))
    out = tmp_path / "paired.json"
    # dcgan, not dcgan64: a fresh DCGAN-initialised G in evaluation mode outputs tanh(~1e-7)
    paired.main(["dcgan", "--steps", "3", "--samples", "12", "--score-steps", "1,3",
                 "--out", str(out), "--set", "batch_size=8", "--set", "valid_size=16"])  # fmt: skip
    result = json.loads(out.read_text())
    assert set(result["scores_at"]) == {"1", "3"}
    assert result["scores_at"]["3"] == result["scores"]
    for framework in ("scratchgan", "torch"):
        assert result["scores_at"]["1"][framework] != result["scores"][framework]
    crossed, own = (
        result["torch_weights_in_scratchgan"]["fid"],
        result["scores"]["scratchgan"]["fid"],
    )
    assert crossed != own and crossed == pytest.approx(own, rel=1e-4)
