"""The command line on a tiny Fashion-MNIST look-alike written as IDX files under
$SCRATCHGAN_DATA."""

import csv
import json

import pytest
from PIL import Image

from scratchgan import models
from scratchgan.cli import main

N_TRAIN, N_TEST, SIZE = 72, 24, 12


@pytest.fixture
def data_dir(tmp_path, monkeypatch, write_fashion_mnist):
    write_fashion_mnist(tmp_path / "data", N_TRAIN, N_TEST, SIZE)
    monkeypatch.setenv("SCRATCHGAN_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def train(run, model="stacked-ae", *extra):
    return main(
        [
            "train",
            model,
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--valid-size",
            "16",
            "--out",
            str(run),
            "--quiet",
            *extra,
        ]
    )


def png_size(path):
    with Image.open(path) as image:
        return image.size[::-1]


def metric_rows(run):
    with open(run / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_list_names_every_model(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in models.names():
        assert name in out
    assert "--loss mm|ns|wgan|wgan-gp|ls" in out
    assert ("not built yet" in out) == any(not models.is_built(n) for n in models.names())


def test_train_writes_a_run_and_resumes(data_dir, capsys):
    run = data_dir / "ae"
    assert train(run) == 0
    assert "1 epochs, 7 steps" in capsys.readouterr().out  # 56 training images in batches of 8
    assert len(metric_rows(run)) == 1 and (run / "samples" / "epoch-001.png").is_file()
    assert json.loads((run / "config.json").read_text())["batch_size"] == 8
    assert (
        main(["train", "stacked-ae", "--out", str(run), "--resume", "--epochs", "2", "--quiet"])
        == 0
    )
    assert [r["epoch"] for r in metric_rows(run)] == ["1", "2"]
    assert json.loads((run / "summary.json").read_text())["resumes"] == 1


def test_train_default_run_directory_and_resume_finds_it(data_dir):
    assert (
        main(
            [
                "train",
                "gan",
                "--epochs",
                "1",
                "--batch-size",
                "8",
                "--valid-size",
                "16",
                "--quiet",
                "--max-steps",
                "3",
            ]
        )
        == 0
    )
    (run,) = (data_dir / "runs").iterdir()
    assert run.name.startswith("gan-")
    assert main(["train", "gan", "--resume", "--quiet"]) == 0
    assert json.loads((run / "summary.json").read_text())["steps"] == 7


def test_resume_refuses_changed_options(data_dir, capsys):
    run = data_dir / "ae"
    assert train(run, "stacked-ae", "--max-steps", "2") == 0
    assert main(["train", "stacked-ae", "--out", str(run), "--resume", "--lr", "0.1"]) == 2
    assert "only --epochs may change" in capsys.readouterr().err
    assert train(run) == 2
    assert "already holds a run" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message, status",
    [
        (["train", "nope"], "unknown model 'nope'", 2),
        (["train", "stacked-ae", "--loss", "wgan"], "stacked-ae takes no --loss", 2),
        (["train", "stacked-ae", "--dataset", "no-such-set"], "unknown data set 'no-such-set'", 2),
        (["sample", "not-a-run"], "not a run directory", 1),  # a missing file: a failure
    ],
)
def test_errors_are_one_clear_message(data_dir, capsys, argv, message, status):
    assert main(argv) == status
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unbuilt_model_says_so(data_dir, capsys):
    unbuilt = [n for n in models.names() if not models.is_built(n)]
    if not unbuilt:
        pytest.skip("every model is built")
    assert main(["train", unbuilt[0]]) == 2
    assert "not built yet" in capsys.readouterr().err


def test_gan_sample_interpolate_inpaint_eval(data_dir, capsys):
    run = data_dir / "gan"
    assert train(run, "gan", "--loss", "ls") == 0
    assert main(["sample", str(run), "--n", "10"]) == 0
    assert png_size(run / "sample-10.png") == (
        2 * (3 * 14 + 2),
        2 * (4 * 14 + 2),
    )  # 10 images: 3 rows of 4
    assert main(["interpolate", str(run), "--rows", "2", "--steps", "5"]) == 0
    assert png_size(run / "interpolation.png") == (2 * (2 * 14 + 2), 2 * (5 * 14 + 2))
    assert main(["inpaint", str(run), "--n", "3"]) == 0
    assert png_size(run / "inpainting.png") == (2 * (3 * 14 + 2), 2 * (3 * 14 + 2))
    assert main(["eval", str(run), "--n", "0"]) == 0  # the GAN metrics are tested in tests/metrics
    result = json.loads((run / "eval-test.json").read_text())
    assert result["images"] == N_TEST and "d_real" in result


@pytest.mark.parametrize("split", ["test", "valid"])
def test_eval_gives_a_conditional_gan_its_labels(tmp_path, monkeypatch, write_fashion_mnist, split):
    """cgan's D scores (image, label) pairs: eval passes the split's labels along."""
    root = write_fashion_mnist(tmp_path / "data", 48, 24, size=28)  # the book's networks: 28 x 28
    monkeypatch.setenv("SCRATCHGAN_DATA", str(root))
    run = tmp_path / "cgan"
    assert train(run, "cgan") == 0
    assert main(["eval", str(run), "--split", split, "--n", "0"]) == 0
    result = json.loads((run / f"eval-{split}.json").read_text())
    assert result["images"] == (24 if split == "test" else 16)
    assert 0 < result["d_real"] < 1 and 0 < result["d_fake"] < 1


def test_autoencoder_commands(data_dir, capsys):
    run = data_dir / "ae"
    assert train(run) == 0
    assert main(["sample", str(run)]) == 2
    assert "cannot sample" in capsys.readouterr().err
    assert main(["interpolate", str(run), "--rows", "3", "--steps", "4"]) == 0
    assert png_size(run / "interpolation.png") == (2 * (3 * 14 + 2), 2 * (4 * 14 + 2))
    assert main(["inpaint", str(run), "--n", "4"]) == 0
    assert main(["eval", str(run), "--split", "valid", "--n", "0"]) == 0
    out = capsys.readouterr().out
    assert "valid_bce" in out
    result = json.loads((run / "eval-valid.json").read_text())
    assert result["images"] == 16 and 0 < result["bce"] < 1


def test_gradcheck_subcommand_still_works(capsys):
    assert main(["gradcheck", "add"]) == 0


def test_set_overrides_a_recipe_key_and_rejects_unknown_keys(data_dir, capsys):
    run = data_dir / "set"
    assert train(run, "gan", "--set", "codings_size=7") == 0
    assert json.loads((run / "config.json").read_text())["codings_size"] == 7
    assert main(["train", "gan", "--out", str(data_dir / "bad"), "--set", "codingz=7"]) == 2
    assert "no such key" in capsys.readouterr().err


def test_set_turns_on_a_gan_trick_but_not_for_a_model_that_ignores_it(data_dir, capsys):
    run = data_dir / "trick"
    assert train(run, "gan", "--set", "label_smoothing=0.1", "--set", "image_pool=8") == 0
    config = json.loads((run / "config.json").read_text())
    assert (
        config["label_smoothing"] == 0.1
        and config["image_pool"] == 8
        and config["label_noise"] == 0.0
    )
    assert (
        main(
            ["train", "sgan", "--out", str(data_dir / "bad-trick"), "--set", "label_smoothing=0.1"]
        )
        == 2
    )
    assert "no such key" in capsys.readouterr().err


@pytest.mark.parametrize(
    "setting, message",
    [
        ("lr=abc", "--set lr=abc: lr takes a float (gan's default: 0.0005)"),
        ("n_critic=2.5", "--set n_critic=2.5: n_critic takes an int (gan's default: 1)"),
        ("log_gradients=1", "--set log_gradients=1: log_gradients takes a bool (true or false)"),
        ("n_critc=2", "--set n_critc: gan's recipe has no such key; nearest: n_critic"),
    ],
)
def test_set_refuses_a_wrong_type_in_one_line_before_training(data_dir, capsys, setting, message):
    run = data_dir / "typed"
    assert main(["train", "gan", "--out", str(run), "--quiet", "--set", setting]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"scratchgan train: {message}") and err.count("\n") == 1
    assert not run.exists()  # refused before the run directory is made


def test_set_reads_a_bool_and_stores_typed_values(data_dir):
    run = data_dir / "typed"
    assert (
        train(run, "gan", "--max-steps", "1", "--set", "log_gradients=True", "--set", "lr=2e-3")
        == 0
    )
    config = json.loads((run / "config.json").read_text())
    assert config["log_gradients"] is True and config["lr"] == 0.002


def test_loss_choices_are_the_registrys_presets(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "gan", "--loss", "hinge"])
    assert exit_.value.code == 2
    assert "choose from mm, ns, wgan, wgan-gp, ls" in capsys.readouterr().err.replace("'", "")
