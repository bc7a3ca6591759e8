"""A float32 model stays float32: no float64 array is made anywhere in a training step.

Every parameter, buffer and input batch is viewed as ``Watched``, an ndarray subclass. NumPy hands
the subclass on to every array derived from one (ufunc results, reductions, views, ``astype``,
``matmul``, ``where``...) and calls ``__array_finalize__`` on each new array, so any float64
temporary that a step computes from the model's data, even one an op makes and drops inside its
forward, is recorded with where it was made.
"""

import os
import traceback

import numpy as np
import pytest

from scratchgan import train
from scratchgan.training.protocol import StepContext

# Declared float64 accumulators, (file, function): the batch statistics add their block partials in
# float64 (as PyTorch's CPU kernels accumulate float32 sums in double) and return float32.
ACCUMULATORS = {("norm_stats.py", "_row_sum")}


def maker():
    """The innermost frame outside NumPy: the line that made the array."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if f"{os.sep}numpy{os.sep}" not in frame.filename:
            return frame


class Watched(np.ndarray):
    made_float64 = []

    def __array_finalize__(self, obj):
        if self.dtype == np.float64:
            frame = maker()
            if (os.path.basename(frame.filename), frame.name) not in ACCUMULATORS:
                Watched.made_float64.append(f"{frame.filename}:{frame.lineno}")


def watch(model):
    for module in model.modules().values():
        for p in module.parameters():
            p.data = p.array.view(Watched)
        for _name, b in module.named_buffers():
            if b is not None and b.array.dtype.kind == "f":
                b.data = b.array.view(Watched)


def images(n, size=28, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8), rng.integers(0, 10, n).astype(
        np.int64
    )


CASES = [
    ("gan", {}),
    ("vae", {}),
    ("conv-vae", {}),
    ("stacked-ae", {}),
    ("dcgan", {}),
    ("dcgan", {"loss": "wgan-gp"}),
    ("dcgan", {"loss": "wgan"}),
    (
        "dcgan",
        {
            "loss": "ls",
            "label_smoothing": 0.1,
            "label_noise": 0.05,
            "instance_noise": 0.1,
            "image_pool": 8,
        },
    ),
    ("dcgan64", {"width": 2}),
    ("cgan", {}),
    ("sgan", {"num_labeled": 10}),
]


@pytest.mark.parametrize(
    "model_name,overrides", CASES, ids=[f"{m}-{'-'.join(map(str, o.values()))}" for m, o in CASES]
)
def test_a_float32_training_step_makes_no_float64_array(model_name, overrides):
    config = train.make_config(model_name, batch_size=4, **overrides)
    config.setdefault("image_shape", [1, 28, 28])
    model = train.build_model(config)
    watch(model)
    x, y = images(20)
    batch = tuple(a.view(Watched) if a.dtype == np.uint8 else a for a in model.loader_arrays(x, y))
    Watched.made_float64.clear()
    for i in range(2):  # the second step runs with optimiser state in place
        batch_now = tuple(a[:4] for a in batch)
        model.train_step(batch_now, StepContext(step=i))
    assert Watched.made_float64 == []
    params = [p for m in model.modules().values() for p in m.parameters()]
    assert all(p.array.dtype == np.float32 for p in params)
    assert all(type(p.array) is Watched for p in params)  # still watched after the updates


def test_the_watch_sees_a_float64_temporary():
    """The check above can fail: a float64 scalar in float32 arithmetic makes a float64 array
    under NumPy 2."""
    x = np.ones(3, np.float32).view(Watched)
    Watched.made_float64.clear()
    y = (x * np.float64(2.0)).astype(np.float32)
    assert y.dtype == np.float32
    assert Watched.made_float64 and all(
        where.startswith(__file__) for where in Watched.made_float64
    )
