"""Issue 21, items 4-10: what a newcomer meets on the command line, each with the command that
showed it (on a tiny Fashion-MNIST look-alike written as IDX files under $SCRATCHGAN_DATA)."""

import csv
import json
import runpy

import numpy as np
import pytest
from PIL import Image

import scratchgan as sg
from scratchgan.cli import build_parser, main

SIZE = 12


@pytest.fixture
def place(tmp_path, monkeypatch, write_fashion_mnist):
    write_fashion_mnist(tmp_path / "data", 72, 24, SIZE, labels="cycle")
    monkeypatch.setenv("SCRATCHGAN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SCRATCHGAN_CLASSIFIERS", str(tmp_path / "classifiers"))
    monkeypatch.delenv("SCRATCHGAN_DEVICE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


TINY = ["--batch-size", "8", "--valid-size", "16", "--quiet"]


# ----- item 5: --max-steps
def test_a_max_steps_run_writes_its_picture_metrics_loss_curve_and_summary(place, capsys):
    """56 training images in batches of 8: 7 steps an epoch; --max-steps 3 stops mid-epoch."""
    assert main(["train", "gan", "--out", "run", "--epochs", "1", "--max-steps", "3", *TINY]) == 0
    out = capsys.readouterr().out
    assert out.startswith("run: 0.429 epochs, 3 steps,") and "; train_d_loss" in out
    assert not out.rstrip().endswith(";")
    (row,) = rows(place / "run" / "metrics.csv")
    assert row["epoch"] == "0.429" and row["step"] == "3" and row["valid_d_real"]
    assert (place / "run" / "samples" / "step-000003.png").stat().st_size > 0
    assert (place / "run" / "loss.png").stat().st_size > 0
    summary = json.loads((place / "run" / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["final"]["step"] == 3
    # resuming drops the partial row and continues the epoch: a straight run's history
    assert main(["train", "gan", "--out", "run", "--resume", "--quiet"]) == 0
    assert [r["epoch"] for r in rows(place / "run" / "metrics.csv")] == ["1"]


def test_max_steps_zero_is_refused(place, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "gan", "--max-steps", "0"])
    assert exit_.value.code == 2 and "--max-steps: 0 is below 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_steps=0"):
        sg.train.Trainer(sg.train.make_config("gan", valid_size=16), str(place / "x")).fit(0)


# ----- item 10: loss.png against steps, the resume message
def test_loss_curve_is_plotted_against_logged_steps(place):
    """One epoch of 7 steps gives 7 train_log rows (a point per step up to 20 an epoch), not one
    dot per series."""
    assert main(["train", "stacked-ae", "--out", "run", "--epochs", "1", *TINY]) == 0
    log = rows(place / "run" / "train_log.csv")
    assert [int(r["step"]) for r in log] == [1, 2, 3, 4, 5, 6, 7]
    assert len({r["bce"] for r in log}) > 1 and (place / "run" / "loss.png").is_file()


def test_resume_message_numbers_epochs_as_the_bar_does(place, capsys):
    assert (
        main(["train", "stacked-ae", "--out", "run", "--epochs", "2", "--max-steps", "3", *TINY])
        == 0
    )
    capsys.readouterr()
    assert (
        main(["train", "stacked-ae", "--out", "run", "--resume", "--max-steps", "4", "--quiet"])
        == 0
    )
    err = capsys.readouterr().err
    assert "at its last checkpoint" not in err
    assert "step 3, epoch 1/2 at step 3/7" in err  # the bar would show "epoch 1/2 ... 3/7"


def test_train_progress_in_a_log_is_plain_lines(place, capsys):
    """stderr is not a terminal here: lines, no carriage returns (tqdm only on a terminal)."""
    assert (
        main(
            [
                "train",
                "stacked-ae",
                "--out",
                "run",
                "--epochs",
                "1",
                "--batch-size",
                "8",
                "--valid-size",
                "16",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "\r" not in err and "epoch 1/1 7/7" in err


@pytest.mark.parametrize(
    "command, option",
    [
        ("train", "--epochs"),
        ("train", "--seed"),
        ("train", "--batch-size"),
        ("sample", "--n"),
        ("sample", "--seed"),
        ("interpolate", "--rows"),
        ("interpolate", "--steps"),
        ("inpaint", "--n"),
        ("eval", "--n"),
    ],
)
def test_every_option_has_help_text(command, option):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    (action,) = [a for a in sub._actions if option in a.option_strings]
    assert action.help and len(action.help) > 10


def test_every_option_of_every_command_has_help_text():
    parser = build_parser()
    for name, sub in next(a for a in parser._actions if a.dest == "command").choices.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest}"


def test_bench_without_arguments_writes_under_runs(place, monkeypatch, capsys):
    seen = {}

    def fake_run_path(path, run_name):
        import sys

        seen["argv"] = list(sys.argv)

    monkeypatch.setattr(runpy, "run_path", fake_run_path)
    assert main(["bench"]) == 0
    assert seen["argv"][0].endswith("ops.py") and seen["argv"][1:] == ["--out", "runs/bench"]
    assert (place / "runs" / "bench").is_dir()
    assert main(["bench", "train", "--out", "mine"]) == 0
    assert seen["argv"][-2:] == ["--out", "mine"]


def test_printed_tensors_align_their_rows():
    text = repr(sg.tensor(np.arange(6.0).reshape(2, 3)))
    first, second = text.splitlines()
    assert first.index("[0.") == second.index("[3.")  # as PyTorch prints it
    assert second.startswith(" " * len("tensor(["))


# ----- item 8: cyclegan pictures from the command line
def test_cyclegan_short_run_writes_pictures_and_sample_translates(place, capsys):
    argv = [
        "train",
        "cyclegan",
        "--dataset",
        "sneaker2boot:A",
        "--valid-size",
        "2",
        "--batch-size",
        "2",
        "--max-steps",
        "2",
        "--set",
        "gf=4",
        "--set",
        "df=4",
        "--quiet",
        "--out",
        "cg",
    ]
    assert main(argv) == 0
    assert list((place / "cg" / "samples").iterdir())
    assert main(["sample", "cg", "--n", "3"]) == 0
    assert "A->B" in capsys.readouterr().out
    with Image.open(place / "cg" / "sample-3.png") as image:
        assert image.size[0] < image.size[1]  # 3 images a row, 6 rows
    assert main(["interpolate", "cg"]) == 2
    assert "scratchgan sample RUN" in capsys.readouterr().err


# ----- item 4: the first eval
def test_first_eval_says_it_trains_the_classifier_with_an_estimate_and_prints_every_path(
    place, capsys
):
    assert main(["train", "gan", "--out", "g", "--epochs", "1", *TINY]) == 0
    capsys.readouterr()
    assert main(["eval", "g", "--n", "16"]) == 0
    captured = capsys.readouterr()
    err, out = captured.err, captured.out
    first = err.index("training it now, once")
    assert first < err.index("a first batch took") < err.index("test accuracy")
    assert "should take about" in err and "ETA" in err
    written = [line.split("wrote ", 1)[1] for line in (err + out).splitlines() if "wrote " in line]
    paths = " ".join(written)
    for suffix in (".npz", ".json", ".test-embedding.npz"):
        assert any(p.endswith(suffix) for p in paths.replace(" and ", " ").split()), suffix
    assert "g/eval-test.json" in out and "g/metrics.json" in out
    capsys.readouterr()
    assert main(["eval", "g", "--n", "16"]) == 0  # the second eval reuses the classifier
    assert "training it now" not in capsys.readouterr().err
