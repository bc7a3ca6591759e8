"""The command line: train --tensorboard --set telemetry_every=K, report RUN, graph MODEL."""

import importlib.util
import struct

import numpy as np
import pytest

from scratchgan.cli import main

needs_dot = pytest.mark.skipif(
    importlib.util.find_spec("graphviz") is None,
    reason="the graphviz Python package is not installed",
)


def write_idx(path, array):
    """IDX bytes (magic 0 0 0x08 ndim, big-endian sizes), written independently of scratchgan."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", d) for d in array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "fashion-mnist"
    folder.mkdir(parents=True)
    for prefix, n in (("train", 24), ("t10k", 8)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 12, 12)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 4)
    monkeypatch.setenv("SCRATCHGAN_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_train_with_telemetry_then_report(data_dir):
    run = data_dir / "run"
    extra = ["--tensorboard"] if importlib.util.find_spec("tensorboardX") else []
    assert (
        main(
            [
                "train",
                "dcgan",
                "--epochs",
                "1",
                "--batch-size",
                "8",
                "--valid-size",
                "8",
                "--out",
                str(run),
                "--quiet",
                "--set",
                "telemetry_every=1",
                *extra,
            ]
        )
        == 0
    )
    assert len((run / "telemetry.jsonl").read_text().splitlines()) == 2
    if extra:
        assert any((run / "tensorboard").iterdir())
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == 0
    assert "gradient norm by layer and step" in (run / "report.html").read_text()


def test_report_of_no_run_is_one_clear_message(data_dir, capsys):
    assert (
        main(["report", str(data_dir)]) == 1
    )  # a missing run is a failure (1), as sample and eval
    assert "no config.json" in capsys.readouterr().err


@needs_dot
def test_graph_command_writes_the_page(data_dir):
    out = data_dir / "g.html"
    assert main(["graph", "dcgan", "--out", str(out), "--batch-size", "2"]) == 0
    page = out.read_text()
    assert "const GRAPH = " in page and "discriminator.0.weight" in page
