"""sg.profile(): per-op, per-direction times that add up to the step."""

import time

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.functional as F
from scratchgan import nn, optim


def test_profile_counts_each_op_and_direction_once_per_call():
    model = nn.Sequential(nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, t = sg.randn(5, 8), sg.zeros(5, 1)
    with sg.profile() as prof:
        for _ in range(3):
            opt.zero_grad()
            F.mse_loss(model(x), t).backward()
            opt.step()
    calls = {(op, d): c for op, d, c, _, _ in prof.rows()}
    assert calls[("Linear", "forward")] == 6
    assert calls[("Linear", "backward")] == 6
    assert calls[("Tanh", "backward")] == 3
    assert calls[("SGD", "optimizer")] == 12  # four parameters, three steps
    # ops called inside a backward are that backward's time, not extra forward calls
    assert calls[("Tanh", "forward")] == 3


def test_profiled_times_add_up_to_the_wall_time():
    x = sg.randn(256, 256, requires_grad=True)
    with sg.profile() as prof:
        for _ in range(3):
            ((x @ x).tanh().sum()).backward()
    total = sum(s for _, _, _, s, _ in prof.rows())
    assert 0 < total <= prof.wall
    assert total >= 0.5 * prof.wall  # nothing but ops ran in the block (loose: machines are shared)
    assert "wall time" in prof.table()


def test_nested_regions_are_exclusive():
    prof = sg.profiler.Profile()
    start = time.perf_counter()
    with prof.region("outer", "backward"):
        time.sleep(0.02)
        with prof.region("inner", "optimizer"):
            time.sleep(0.02)
    elapsed = time.perf_counter() - start
    seconds = {op: s for op, _, _, s, _ in prof.rows()}
    assert seconds["inner"] >= 0.02 and seconds["outer"] >= 0.02
    assert seconds["outer"] + seconds["inner"] <= elapsed  # the inner time is not counted twice


def test_profiles_do_not_nest():
    with sg.profile():
        with pytest.raises(RuntimeError, match="nested"):
            with sg.profile():
                pass
    assert sg.profiler.active() is None
    np.testing.assert_equal(sg.ones(2).numpy(), [1, 1])


def test_engine_zero_grad_draws_and_data_have_rows_of_their_own():
    model = nn.Sequential(nn.Linear(4, 1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    generator = sg.Generator(0)
    with sg.profile() as prof:
        for _ in range(2):
            x = sg.tensor(sg.data.to_float(np.zeros((3, 2, 2), np.uint8)).reshape(3, 4))
            opt.zero_grad()
            model(x + sg.randn(3, 4, generator=generator)).sum().backward()
            opt.step()
    calls = {(op, d): c for op, d, c, _, _ in prof.rows()}
    assert calls[("autograd engine", "backward")] == 2
    assert calls[("zero_grad", "optimizer")] == 2
    assert calls[("normal draws", "random")] == 2
    assert calls[("to_float", "data")] == 2
    assert calls[("Sequential", "module")] == 2 and calls[("Linear", "module")] == 2
    assert calls[("Linear", "forward")] == 2  # the module's row does not swallow its op's
