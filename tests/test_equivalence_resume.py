"""scripts/equivalence/run.py: a run stopped part-way continues from its last checkpoint and ends
exactly where an uninterrupted run ends (same step count, same samples bit for bit), for both
frameworks; --force starts again from step 0."""

import json
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts", "equivalence"))
import run as equivalence  # noqa: E402

import reference  # noqa: E402
from scratchgan.training.trainer import Trainer  # noqa: E402

STEPS, EVERY, STOP_AT = 6, 2, 5  # checkpoints after steps 2 and 4; the 5th step is interrupted


class Interrupted(Exception):
    pass


def command_line(out, framework):
    return ["dcgan", "--seed", "3", "--steps", str(STEPS), "--framework", framework,
            "--out", str(out), "--samples", "16", "--checkpoint-every", str(EVERY),
            "--set", "batch_size=8", "--set", "valid_size=16"]  # fmt: skip


def arguments(out, framework):
    return equivalence.parse_args(command_line(out, framework))


def train(args):
    train = equivalence.train_torch if args.framework == "torch" else equivalence.train_scratchgan
    return train(args)


def interrupt_the_step(monkeypatch, framework):
    """From now on, the STOP_AT-th training step raises Interrupted."""
    calls = [0]

    def wrap(step):
        def interrupted(*args):
            calls[0] += 1
            if calls[0] == STOP_AT:
                raise Interrupted
            return step(*args)

        return interrupted

    if framework == "torch":
        original = reference.TorchGAN.train_step
        monkeypatch.setattr(
            reference.TorchGAN, "train_step", lambda self, real: wrap(original)(self, real)
        )
        return
    original_init = Trainer.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.model.train_step = wrap(self.model.train_step)

    monkeypatch.setattr(Trainer, "__init__", init)


@pytest.mark.parametrize("framework", ["torch", "scratchgan"])
def test_an_interrupted_run_continues_bit_for_bit(
    tmp_path, monkeypatch, write_fashion_mnist, framework
):
    monkeypatch.setenv("SCRATCHGAN_DATA", str(write_fashion_mnist(tmp_path / "data", 80, 16)))
    samples, _, steps, resumed_from = train(arguments(tmp_path / "straight", framework))
    assert (steps, resumed_from) == (STEPS, 0)

    stopped = tmp_path / "stopped"
    with monkeypatch.context() as patch:
        interrupt_the_step(patch, framework)
        with pytest.raises(Interrupted):
            train(arguments(stopped, framework))
    again, _, steps, resumed_from = train(arguments(stopped, framework))
    assert (steps, resumed_from) == (STEPS, 4)
    np.testing.assert_array_equal(again, samples)


def test_force_starts_again_from_step_0(tmp_path, monkeypatch, write_fashion_mnist):
    monkeypatch.setenv("SCRATCHGAN_DATA", str(write_fashion_mnist(tmp_path / "data", 80, 16)))
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        interrupt_the_step(patch, "torch")
        with pytest.raises(Interrupted):
            train(arguments(out, "torch"))
    assert (out / equivalence.TORCH_CHECKPOINT).is_file()
    monkeypatch.setattr(equivalence, "score", lambda samples, dataset: {"fid": 0.0})
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, "1")  # main sets them; restored after the test
    assert equivalence.main([*command_line(out, "torch"), "--force"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert (result["steps"], result["resumed_from_step"]) == (STEPS, 0)
