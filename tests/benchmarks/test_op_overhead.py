"""benchmarks/op_overhead.py: per-step counts of what the engine does (load-independent)."""

import numpy as np

import op_overhead
import scratchgan as sg
import scratchgan.nn as nn
from scratchgan.optim import RMSprop


def test_counts_ops_nodes_updates_and_calls_of_a_known_step():
    model = nn.Sequential(nn.Linear(3, 4), nn.SELU(), nn.Linear(4, 1))
    opt = RMSprop(model.parameters(), lr=1e-3)
    x = sg.tensor(np.ones((2, 3), np.float32))

    def step():
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()

    counts = op_overhead.count_calls(step, steps=2)
    # Linear, ELU (selu), Linear, Sum, each recorded, so one backward node each (all four have a
    # fused backward, which runs no op)
    assert counts["ops"] == 4
    assert counts["backward nodes"] == 4
    assert counts["optimizer updates"] == 4  # two weights, two biases
    assert counts["python calls"] > counts["ops"] and counts["C calls"] > 0


def test_empty_op_times_are_positive_and_written(tmp_path):
    empty = op_overhead.time_empty_op(n=50)
    assert set(empty) == {
        "recorded_forward_us",
        "no_grad_forward_us",
        "backward_node_us",
        "numpy_copy_1_us",
    }
    assert all(v > 0 for v in empty.values())
    row = {
        "case": "x",
        "step_ms": 1.0,
        "counts_per_step": {"ops": 3},
        "estimated_overhead_ms": 0.1,
        "estimated_overhead_share": 0.1,
    }
    env = {"date": "d", "threads": 1, "load_average_1_5_15": [0, 0, 0]}
    op_overhead.write(empty, [row], env, str(tmp_path / "op-overhead"))
    text = (tmp_path / "op-overhead.md").read_text()
    assert "| x | 1.00 | 3 | 0 |" in text
