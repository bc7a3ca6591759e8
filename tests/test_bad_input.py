"""Issue 21: every bad command line gets one line on stderr that names the argument and the value,
exit status 2 (usage) or 1 (failure), and no traceback (``--debug`` shows one)."""

import os
import shutil

import numpy as np
import pytest
from PIL import Image

from scratchgan.cli import main

SIZE = 12


def run_cli(argv, capsys):
    """(exit status, stderr) of ``scratchgan ARGV``, whether argparse exits or main returns."""
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    return status, capsys.readouterr().err


@pytest.fixture(scope="module")
def place(tmp_path_factory, write_fashion_mnist):
    """A tiny Fashion-MNIST look-alike under $SCRATCHGAN_DATA, a folder of 12 PNGs, a gan run
    (checkpointed every step: last.npz and previous.npz), a stacked-ae run, and broken copies of
    the gan run: truncated, empty and random-bytes checkpoints and a broken config.json."""
    root = tmp_path_factory.mktemp("bad-input")
    write_fashion_mnist(root / "data", 72, 24, SIZE)
    rng = np.random.default_rng(0)
    folder = root / "pngs"
    folder.mkdir()
    for i in range(12):
        pixels = rng.integers(0, 256, (SIZE, SIZE), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCRATCHGAN_DATA", str(root / "data"))
        mp.chdir(root)
        common = ["--epochs", "1", "--batch-size", "8", "--valid-size", "16", "--quiet"]
        assert (
            main(
                [
                    "train",
                    "gan",
                    *common,
                    "--out",
                    "gan",
                    "--max-steps",
                    "3",
                    "--checkpoint-every",
                    "1",
                ]
            )
            == 0
        )
        assert main(["train", "stacked-ae", *common, "--out", "ae", "--max-steps", "2"]) == 0
    last = root / "gan" / "checkpoints" / "last.npz"
    size = last.stat().st_size
    for name, corrupt in (
        ("truncated", lambda b: b[: size // 2]),
        ("empty", lambda b: b""),
        ("random", lambda b: rng.integers(0, 256, size, np.uint8).tobytes()),
    ):
        shutil.copytree(root / "gan", root / name)
        (root / name / "checkpoints" / "last.npz").write_bytes(corrupt(last.read_bytes()))
    shutil.copytree(root / "gan", root / "broken-config")
    (root / "broken-config" / "config.json").write_text('{"model": "gan", ')
    return root


@pytest.fixture
def at(place, monkeypatch):
    monkeypatch.setenv("SCRATCHGAN_DATA", str(place / "data"))
    monkeypatch.delenv("SCRATCHGAN_DEVICE", raising=False)
    monkeypatch.chdir(place)
    return place


T = ["--quiet", "--epochs", "1"]
# (command line, exit status, what the message must name: the argument and the value)
CASES = [
    # unknown names
    ("train nosuch", 2, ["model", "nosuch"]),
    ("nosuchcommand", 2, ["nosuchcommand"]),
    ("train gan --loss hinge", 2, ["--loss", "hinge"]),
    ("train stacked-ae --loss wgan", 2, ["--loss", "wgan"]),
    ("train gan --dataset nosuchset", 2, ["data set", "nosuchset"]),
    ("train gan --set n_critc=2", 2, ["--set", "n_critc"]),
    ("train sgan --set label_smoothing=0.1", 2, ["--set", "label_smoothing"]),
    ("gradcheck nonexistent", 2, ["op", "nonexistent"]),
    ("bench --profile nosuch", 2, ["model", "nosuch"]),
    ("bench nosuch", 2, ["what", "nosuch"]),
    ("eval gan --split train", 2, ["--split", "train"]),
    # wrong types
    ("train gan --epochs abc", 2, ["--epochs", "abc"]),
    ("train gan --batch-size 2.5", 2, ["--batch-size", "2.5"]),
    ("train gan --lr abc", 2, ["--lr", "abc"]),
    ("train gan --lr nan", 2, ["--lr", "nan"]),
    ("train gan --checkpoint-every x", 2, ["--checkpoint-every", "x"]),
    ("train gan --set lr=abc", 2, ["lr", "abc"]),
    ("train gan --set n_critic=2.5", 2, ["n_critic", "2.5"]),
    ("train gan --set log_gradients=1", 2, ["log_gradients", "1"]),
    ("train gan --set betas=0.5", 2, ["betas", "0.5"]),
    ("train gan --set lr", 2, ["--set", "lr"]),
    ("sample gan --n x", 2, ["--n", "x"]),
    ("sample gan --seed 1.5", 2, ["--seed", "1.5"]),
    # out-of-range values
    ("train gan --epochs 0", 2, ["--epochs", "0"]),
    ("train gan --epochs -3", 2, ["--epochs", "-3"]),
    ("train gan --batch-size 0", 2, ["--batch-size", "0"]),
    ("train gan --max-steps 0", 2, ["--max-steps", "0"]),
    ("train gan --max-steps -1", 2, ["--max-steps", "-1"]),
    ("train gan --seed -1", 2, ["--seed", "-1"]),
    ("train gan --valid-size -5", 2, ["--valid-size", "-5"]),
    ("sample gan --n 0", 2, ["--n", "0"]),
    ("sample gan --n -3", 2, ["--n", "-3"]),
    ("interpolate gan --rows 0", 2, ["--rows", "0"]),
    ("interpolate gan --steps 0", 2, ["--steps", "0"]),
    ("inpaint gan --n 0", 2, ["--n", "0"]),
    ("eval gan --n -1", 2, ["--n", "-1"]),
    ("bench --profile gan --steps 0", 2, ["--steps", "0"]),
    ("train gan --out r1 --valid-size 100", 2, ["valid_size", "100", "--valid-size"]),
    ("train gan --out r2 --dataset folder:pngs", 2, ["valid_size", "5000", "--valid-size"]),
    (
        "train gan --out r3 --dataset folder:pngs --valid-size 2",
        2,
        ["batch_size", "32", "--batch-size"],
    ),
    # missing and corrupt files
    ("sample nosuchrun", 1, ["RUN", "nosuchrun"]),
    ("eval nosuchrun", 1, ["RUN", "nosuchrun"]),
    ("train gan --dataset folder:nosuchfolder", 1, ["folder", "nosuchfolder"]),
    ("train gan --resume --out nosuchrun", 1, ["nosuchrun", "config.json"]),
    ("train gan --resume-from nosuch.npz", 1, ["--resume-from", "nosuch.npz"]),
    ("sample gan --checkpoint nosuch.npz", 1, ["checkpoint", "nosuch.npz"]),
    ("sample truncated", 1, ["truncated/checkpoints/last.npz", "previous.npz"]),
    ("sample empty", 1, ["empty/checkpoints/last.npz"]),
    ("sample random", 1, ["random/checkpoints/last.npz"]),
    ("eval truncated --n 0", 1, ["truncated/checkpoints/last.npz"]),
    ("interpolate empty", 1, ["empty/checkpoints/last.npz"]),
    (
        "train gan --resume --out truncated",
        1,
        ["truncated/checkpoints/last.npz", "--resume-from truncated/checkpoints/previous.npz"],
    ),
    ("sample broken-config", 1, ["broken-config/config.json"]),
    # wrong run kinds
    ("sample ae", 2, ["ae", "stacked-ae", "cannot sample"]),
    ("train dcgan --resume --out gan", 2, ["gan", "dcgan"]),
    ("train gan --resume --out gan --lr 0.5", 2, ["--lr", "0.5"]),
    ("train gan --out gan", 2, ["gan", "already holds a run"]),
    (
        "train cyclegan --out r4 --dataset folder:pngs --valid-size 2 --batch-size 4",
        2,
        ["cyclegan", "folder:pngs"],
    ),
    # devices
    ("train gan --device tpu", 2, ["--device", "tpu"]),
    ("sample gan --device tpu", 2, ["--device", "tpu"]),
    ("sample gan --device cuda:x", 2, ["--device", "cuda:x"]),
]


def test_the_table_is_long_enough():
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("line, status, names", CASES, ids=[c[0] for c in CASES])
def test_a_bad_command_line_gets_one_line(at, capsys, line, status, names):
    extra = T if line.startswith("train") and "--epochs" not in line else []
    got, err = run_cli(line.split() + extra, capsys)
    assert got == status, err
    assert err.endswith("\n") and err.count("\n") == 1, err  # one line
    assert "Traceback" not in err and "allow_pickle" not in err
    for name in names:
        assert name in err, f"{name!r} not in {err!r}"


def test_cuda_where_there_is_none_is_refused_in_one_line(at, capsys):
    from scratchgan import cuda

    if cuda.is_available():
        pytest.skip("this machine has a GPU")
    for line in ("train gan --device cuda", "sample gan --device cuda"):
        status, err = run_cli(line.split() + (T if line.startswith("train") else []), capsys)
        assert status == 2 and err.count("\n") == 1 and "--device cuda" in err


def test_debug_shows_the_traceback(at, capsys):
    status, err = run_cli(["sample", "truncated", "--debug"], capsys)
    assert status == 1 and "Traceback" in err and "truncated/checkpoints/last.npz" in err
    assert main(["--debug", "gradcheck", "nonexistent"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_a_corrupt_checkpoint_overwrites_nothing_and_resume_from_the_previous_one(at, capsys):
    run = at / "truncated"
    before = {p.name: p.read_bytes() for p in (run / "checkpoints").iterdir()}
    status, err = run_cli(["train", "gan", "--resume", "--out", "truncated", *T], capsys)
    assert status == 1
    assert {p.name: p.read_bytes() for p in (run / "checkpoints").iterdir()} == before
    previous = os.path.join("truncated", "checkpoints", "previous.npz")
    assert main(["train", "gan", "--resume-from", previous, "--out", "truncated", *T]) == 0
    err = capsys.readouterr().err
    assert "resuming truncated from truncated/checkpoints/previous.npz: step 2" in err
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == ["last.npz", "last.npz.corrupt", "manifest.json", "previous.npz"]
    assert (run / "checkpoints" / "last.npz.corrupt").read_bytes() == before["last.npz"]
