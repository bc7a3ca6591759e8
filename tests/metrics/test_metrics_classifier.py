"""The feature classifier: inputs, embedding, caching (on tiny fake data), and (slow) the real
cached one."""

import json
import os

import numpy as np
import pytest

from scratchgan import metrics
from scratchgan.metrics import classifier as C


def test_embed_shapes_and_probabilities(tiny_classifier, blobs):
    images, _ = blobs
    feats, probs = tiny_classifier.embed(images)
    assert feats.shape == (len(images), 16) and feats.dtype == np.float64
    assert probs.shape == (len(images), 10) and probs.dtype == np.float64
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert (feats >= 0).all()  # ReLU features
    np.testing.assert_array_equal(tiny_classifier.predict(images), probs.argmax(1))


def test_image_formats_agree(tiny_classifier, blobs):
    images, _ = blobs
    ref = tiny_classifier.features(images)
    as_float = images.astype(np.float64) / 255
    np.testing.assert_allclose(tiny_classifier.features(as_float), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        tiny_classifier.features(as_float[:, None]), ref, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        tiny_classifier.embed(images, batch_size=7)[0], ref, rtol=1e-5, atol=1e-6
    )


def test_metrics_accept_images_through_the_classifier(tiny_classifier, blobs, make_blobs):
    images, _ = blobs
    other, _ = make_blobs(96, seed=9)
    assert metrics.fid(images, images, classifier=tiny_classifier) == pytest.approx(0.0, abs=1e-9)
    feats = tiny_classifier.features(images), tiny_classifier.features(other)
    assert metrics.fid(images, other, classifier=tiny_classifier) == pytest.approx(
        metrics.fid(*feats), rel=1e-9
    )
    assert metrics.precision_recall(images, images, classifier=tiny_classifier) == (1.0, 1.0)
    score = metrics.inception_score(images, classifier=tiny_classifier)
    assert 1 <= score.mean <= 10
    assert metrics.mode_coverage(images, classifier=tiny_classifier).num_classes == 10


def test_bad_images_are_refused(tiny_classifier):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tiny_classifier.features(np.full((2, 28, 28), -1.0))
    with pytest.raises(ValueError, match="dtype"):
        tiny_classifier.features(np.zeros((2, 28, 28), np.int32))
    with pytest.raises(ValueError, match="side divisible by 4"):
        C.build_net((1, 30, 30))


@pytest.fixture
def fake_dataset(monkeypatch, make_blobs):
    """'fashion-mnist' answered by 96 blob images
    (64 train / 32 test), so training takes seconds."""
    images, labels = make_blobs(96, seed=5)
    splits = {"train": (images[:64], labels[:64]), "test": (images[64:], labels[64:])}
    monkeypatch.setattr(C.sgdata, "load", lambda name, split="train": splits[split])
    monkeypatch.setattr(C, "_loaded", {})
    return splits


def test_training_caches_weights_and_accuracy(tmp_path, fake_dataset, monkeypatch, capsys):
    monkeypatch.setitem(
        C.RECIPES,
        "fashion-mnist",
        {"epochs": 1, "batch_size": 32, "lr": 3e-3, "lr_decay": 0.9, "seed": 0},
    )
    trained = C.load_classifier(
        "fashion-mnist", directory=str(tmp_path)
    )  # missing: trains, says so
    assert "training it now" in capsys.readouterr().err
    weights, info = C.cache_paths(
        "fashion-mnist", fake_dataset["train"][0], directory=str(tmp_path)
    )
    assert os.path.isfile(weights) and os.path.basename(weights).startswith("fashion-mnist-")
    with open(info) as f:
        saved = json.load(f)
    test_x, test_y = fake_dataset["test"]
    assert saved["test_accuracy"] == pytest.approx(trained.accuracy(test_x, test_y))
    assert len(saved["log"]) == 1 and saved["train_images"] == 64
    monkeypatch.setattr(C, "_loaded", {})
    loaded = C.load_classifier("fashion-mnist", directory=str(tmp_path))  # from disk this time
    assert loaded is not trained
    np.testing.assert_array_equal(loaded.features(test_x), trained.features(test_x))
    feats, _, labels = C.dataset_embedding("fashion-mnist", "test", loaded, directory=str(tmp_path))
    np.testing.assert_array_equal(feats, trained.features(test_x))
    assert len(labels) == 32 and any(
        p.endswith(".test-embedding.npz") for p in os.listdir(tmp_path)
    )


def test_missing_classifier_without_training_is_a_clear_error(tmp_path, fake_dataset):
    with pytest.raises(FileNotFoundError, match="train_classifier"):
        C.load_classifier("fashion-mnist", directory=str(tmp_path), train_if_missing=False)


def test_cache_name_changes_with_recipe_and_data(make_blobs):
    a, _ = make_blobs(50, seed=1)
    b, _ = make_blobs(50, seed=2)
    base = C.code_hash("fashion-mnist", a)
    assert base == C.code_hash("fashion-mnist", a.copy())
    assert base != C.code_hash("fashion-mnist", b)
    assert base != C.code_hash("fashion-mnist", a, {**C.recipe_for("fashion-mnist"), "epochs": 99})


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "floor"), [("fashion-mnist", 0.91), ("mnist", 0.98)])
def test_cached_real_classifier_accuracy(dataset, floor):
    data = pytest.importorskip("scratchgan.data")
    try:
        clf = C.load_classifier(dataset, train_if_missing=False)
    except FileNotFoundError as e:
        pytest.skip(str(e))
    x, y = data.load(dataset, "test")
    accuracy = clf.accuracy(x, y)
    assert accuracy == pytest.approx(clf.test_accuracy, abs=1e-9)
    assert accuracy >= floor


def test_random_shift_translates_with_zero_fill():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 255, (6, 2, 9, 8)).astype(np.uint8)
    shifted = C.random_shift(x, 2, np.random.default_rng(4))
    draws = np.random.default_rng(4)
    dy, dx = draws.integers(0, 5, 6), draws.integers(0, 5, 6)
    for i in range(6):
        padded = np.pad(x[i], ((0, 0), (2, 2), (2, 2)))
        np.testing.assert_array_equal(shifted[i], padded[:, dy[i] : dy[i] + 9, dx[i] : dx[i] + 8])
    np.testing.assert_array_equal(
        C.random_shift(x[:, 0], 2, np.random.default_rng(4)), shifted[:, 0]
    )
