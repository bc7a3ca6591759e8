"""evaluate_run on tiny real runs (MLP GAN: samples; stacked AE: reconstructions), print_table, the
report."""

import functools
import importlib
import io
import json

import numpy as np
import pytest

from scratchgan import train
from scratchgan.metrics import baselines, compute_all, evaluate_run, print_table, report

evaluate = importlib.import_module("scratchgan.metrics.evaluate")


@pytest.fixture(autouse=True)
def quick_swd(monkeypatch):
    """Fewer SWD directions and patches: the numbers stay meaningful, the tests stay fast."""
    monkeypatch.setattr(
        evaluate, "swd", functools.partial(evaluate.swd, n_directions=32, patches_per_image=4)
    )


@pytest.fixture
def tiny_world(monkeypatch, tiny_classifier, make_blobs):
    """The data set 'fashion-mnist' is 64 blob images per split; the classifier is the tiny
    untrained one."""
    images, labels = make_blobs(128, seed=6)
    splits = {"train": (images[:64], labels[:64]), "test": (images[64:], labels[64:])}
    monkeypatch.setattr(evaluate.sgdata, "load", lambda name, split="train": splits[split])
    monkeypatch.setattr(evaluate, "load_classifier", lambda dataset, progress=True: tiny_classifier)
    monkeypatch.setattr(
        evaluate,
        "dataset_embedding",
        lambda dataset, split, clf: (*clf.embed(splits[split][0]), splits[split][1]),
    )
    return splits


def make_run(tmp_path, model, splits, **kw):
    cfg = train.make_config(model, **{"epochs": 1, "batch_size": 16, "valid_size": 16, **kw})
    x, y = splits["train"]
    run_dir = tmp_path / model
    train.Trainer(cfg, str(run_dir), data=(x[:48], y[:48], x[48:], y[48:]), progress=False).fit()
    return str(run_dir)


KEYS = {
    "fid",
    "kid",
    "kid_std",
    "is",
    "is_std",
    "swd",
    "swd_levels",
    "precision",
    "recall",
    "classes_covered",
    "coverage_kl",
    "class_histogram",
    "model",
    "dataset",
    "epochs",
    "wall_time_s",
    "mode",
    "n",
}


def test_evaluate_gan_run_samples_and_writes_metrics_json(tmp_path, tiny_world):
    run_dir = make_run(tmp_path, "gan", tiny_world)
    result = evaluate_run(run_dir, n=40, progress=False)
    assert KEYS <= set(result)
    assert result["mode"] == "samples" and result["n"] == 40 and result["n_real"] == 64
    assert result["model"] == "gan" and result["epochs"] == 1 and result["wall_time_s"] > 0
    with open(f"{run_dir}/metrics.json") as f:
        assert json.load(f)["fid"] == pytest.approx(result["fid"])
    again = evaluate_run(run_dir, n=40, progress=False, write=False)
    assert again["fid"] == result["fid"]  # same seed, same samples
    out = io.StringIO()
    print_table(result, out)
    assert "FID" in out.getvalue() and "no Inception weights" in out.getvalue()


def test_eval_scores_the_checkpoint_it_is_given(tmp_path, tiny_world, capsys):
    """`scratchgan eval RUN --checkpoint C --n N` scores C, not the last checkpoint, into
    metrics-NAME.json and eval-test-NAME.json, and leaves the run's metrics.json and eval-test.json
    (its last checkpoint's) alone."""
    from scratchgan.cli import main

    run_dir = make_run(tmp_path, "gan", tiny_world, epochs=2, keep_checkpoints=True)
    assert main(["eval", run_dir, "--n", "40"]) == 0
    read = lambda name: json.loads(open(f"{run_dir}/{name}").read())  # noqa: E731
    last, last_own = read("metrics.json"), read("eval-test.json")
    first = f"{run_dir}/checkpoints/epoch-001.npz"
    assert main(["eval", run_dir, "--checkpoint", first, "--n", "40"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {run_dir}/metrics-epoch-001.json" in out
    assert f"wrote {run_dir}/eval-test-epoch-001.json" in out
    scored = read("metrics-epoch-001.json")
    assert read("metrics.json") == last and read("eval-test.json") == last_own
    assert read("eval-test-epoch-001.json") != last_own
    assert (scored["checkpoint"], last["checkpoint"]) == ("epoch-001.npz", "last.npz")
    direct = evaluate_run(run_dir, n=40, progress=False, write=False, checkpoint="epoch-001.npz")
    assert scored["fid"] == direct["fid"] != last["fid"]


def test_evaluate_autoencoder_run_scores_reconstructions(tmp_path, tiny_world):
    run_dir = make_run(tmp_path, "stacked-ae", tiny_world)
    result = evaluate_run(run_dir, n=30, progress=False)
    assert result["mode"] == "reconstructions" and result["n"] == 30 and result["n_real"] == 30
    assert 0 < result["reconstruction_mse"] < 1


def test_to_unit_range():
    assert evaluate.to_unit_range(np.array([-1.0, 0.0, 1.0])).tolist() == [0.0, 0.5, 1.0]
    assert evaluate.to_unit_range(np.array([0.0, 0.5, 1.2])).tolist() == [0.0, 0.5, 1.0]


def test_baselines_order_floors_below_the_ceiling(tiny_world, tiny_classifier, monkeypatch):
    monkeypatch.setattr(baselines, "load_classifier", evaluate.load_classifier)
    monkeypatch.setattr(baselines, "dataset_embedding", evaluate.dataset_embedding)
    monkeypatch.setattr(baselines.sgdata, "load", evaluate.sgdata.load)
    rows = {
        r["baseline"]: r for r in baselines.measure_baselines("fashion-mnist", n=64, progress=False)
    }
    assert set(rows) == set(baselines.BASELINES)
    best = rows["training split"]
    for name in ("mean image", "gaussian noise"):
        assert rows[name]["fid"] > best["fid"] and rows[name]["swd"] > best["swd"]
    assert rows["mean image"]["recall"] == 0.0  # one point: a manifold of radius 0


def sample_row(**kw):
    rng = np.random.default_rng(0)
    row = compute_all(rng.random((40, 28, 28)), rng.random((40, 28, 28)), _Identityish())
    return {**row, **kw}


class _Identityish:
    """A stand-in classifier: features = 8 pixel means, probabilities from them (enough for a report
    row)."""

    test_accuracy = 0.5

    def embed(self, images):
        x = np.asarray(images, dtype=np.float64).reshape(len(images), 8, -1).mean(axis=2)
        e = np.exp(np.concatenate([x, x[:, :2]], axis=1) * 10)
        return x, e / e.sum(axis=1, keepdims=True)


def test_report_writes_between_markers_and_merges(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(
        "# Results\n\nOther engineers' section.\n\n"
        "<!-- metrics:begin -->\nstale-content\n<!-- metrics:end -->\n\nTail.\n"
    )
    run = sample_row(
        run="gan-1",
        model="gan",
        dataset="fashion-mnist",
        epochs=3,
        wall_time_s=125.0,
        mode="samples",
        n=40,
    )
    base = sample_row(baseline="mean image", model="mean image", dataset="fashion-mnist", n=40)
    report.update_results([run], [base], str(path))
    text = path.read_text()
    assert text.startswith("# Results\n\nOther engineers' section.") and text.rstrip().endswith(
        "Tail."
    )
    assert "stale-content" not in text and "| gan-1 | gan | fashion-mnist | 3 | 2.1 min |" in text
    assert "| mean image | 40 |" in text and "not comparable" in text
    # a second update adds a run and keeps the first (run directories are not committed)
    report.update_results([{**run, "run": "gan-2"}], [], str(path))
    runs, bases = report.read_rows(path.read_text())
    assert [r["run"] for r in runs] == ["gan-1", "gan-2"] and len(bases) == 1
    assert path.read_text().count("<!-- metrics:begin -->") == 1


def test_report_creates_the_file(tmp_path):
    path = tmp_path / "docs" / "RESULTS.md"
    report.update_results([], [], str(path))
    assert "No run evaluated yet" in path.read_text()


def test_samples_of_another_size_are_resized_to_the_data():
    """dcgan64 draws 64 x 64; the classifier reads the data's 28 x 28: the samples are resized
    bilinearly (a constant image stays that constant), not fed at the wrong size."""
    import numpy as np

    from scratchgan.metrics import evaluate

    class Stub:
        def sample(self, n, generator):
            shade = np.linspace(0.1, 0.9, n, dtype=np.float32).reshape(n, 1, 1, 1)
            return np.broadcast_to(shade, (n, 1, 64, 64)).copy()

    fake = evaluate._generate(Stub(), 7, 0, 28)
    assert fake.shape == (7, 1, 28, 28)
    per_image = fake.reshape(7, -1)
    assert np.allclose(per_image, per_image[:, :1], atol=1e-6)  # each stays one shade
    assert len(np.unique(per_image[:, 0].round(5))) == 7
