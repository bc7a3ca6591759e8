"""sg.viz.graph: the graph's facts against direct computations, and the pages as a person sees
them in headless Chromium (acceptance 1 of issue 19)."""

import json
import os
import re

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import cuda, nn
from scratchgan import functional as F
from scratchgan.inspection import headless
from scratchgan.inspection.commands import graph_of_training_step
from scratchgan.inspection.graph_model import Graph
from scratchgan.inspection.graph_page import render

pytest.importorskip("graphviz", reason="the graphviz Python package is not installed")
needs_dot = pytest.mark.skipif(
    not any(
        os.access(os.path.join(d, "dot"), os.X_OK)
        for d in os.environ.get("PATH", "").split(os.pathsep)
    ),
    reason="Graphviz's dot is not installed (apt-get install graphviz)",
)
needs_chromium = pytest.mark.skipif(
    headless.find_chromium() is None, reason="no Chromium (apt-get install chromium)"
)
pytestmark = needs_dot


def seen_clean(path, tmp_path):
    """Load the page in headless Chromium: no script or console errors, its controls run, and a
    screenshot that is not blank."""
    shot = str(tmp_path / (os.path.basename(path) + ".png"))
    result = headless.load(path, screenshot=shot, fragment="selftest")
    assert result["errors"] == [], result["errors"]
    assert result["ready"]
    selftest = re.search(r'data-selftest="([^"]*)"', result["dom"])
    assert selftest, "the page's controls did not run"
    assert result["screenshot"] and not headless.blank(shot)
    return json.loads(selftest.group(1).replace("&quot;", '"'))


def micrograd_expression():
    a, b = sg.tensor(2.0, requires_grad=True), sg.tensor(-3.0, requires_grad=True)
    c = a * b + b**3
    return a, b, (c * c).tanh() if hasattr(c, "tanh") else F.tanh(c * c)


def test_scalar_expression_facts_and_gradient_statistics(tmp_path):
    a, b, out = micrograd_expression()
    out.backward(retain_graph=True)
    graph = Graph([out], {"a": a, "b": b})
    ops = sorted(f["label"] for f in graph.nodes.values() if f["kind"] == "op")
    assert ops == ["Add", "Mul", "Mul", "PowConst", "Tanh"]
    named = {f["name"]: f for f in graph.nodes.values() if f["kind"] == "parameter"}
    # d out / d a = (1 - tanh^2(c^2)) 2c b with c = ab + b^3 = -33
    c = 2.0 * -3.0 + (-3.0) ** 3
    da = (1 - np.tanh(c * c) ** 2) * 2 * c * -3.0
    assert named["a"]["grad"]["norm"] == pytest.approx(abs(da), rel=1e-4, abs=1e-30)
    assert all(f["impl"] == "NumPy" for f in graph.nodes.values() if f["kind"] == "op")
    tanh = next(f for f in graph.nodes.values() if f.get("label") == "Tanh")
    assert tanh["saved"] == [{"what": "output", "shape": [], "dtype": "float32", "bytes": 4}]


@needs_chromium
def test_scalar_expression_page_loads_clean(tmp_path):
    a, b, out = micrograd_expression()
    path = sg.viz.graph(out, params={"a": a, "b": b}, path=str(tmp_path / "scalar.html"))
    state = seen_clean(path, tmp_path)
    assert state["hits"] >= 1 and state["details"] > 0


def test_a_freed_graph_is_refused_with_advice():
    a, b, out = micrograd_expression()
    out.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        Graph([out])


@needs_chromium
def test_dcgan28_step_names_modules_parameters_and_gradients(tmp_path):
    path, timings = graph_of_training_step("dcgan", str(tmp_path / "dcgan.html"), batch_size=4)
    page = open(path).read()
    data = json.loads(re.search(r"const GRAPH = (.*?);</script>", page).group(1))
    params = {f["name"]: f for f in data["nodes"].values() if f["kind"] == "parameter"}
    assert "generator.0.weight" in params and "discriminator.0.weight" in params
    assert params["discriminator.0.weight"]["grad"]["norm"] > 0
    labels = {c["label"] for c in data["clusters"].values()}
    assert {"generator", "discriminator", "generator.0", "discriminator.0"} <= labels
    conv = next(f for f in data["nodes"].values() if f.get("label") == "Conv2d")
    assert conv["saved"] and all(s["bytes"] > 0 for s in conv["saved"])
    state = seen_clean(path, tmp_path)
    assert state["hidden"] > 0  # collapsing the modules hid their nodes


def wgan_gp_penalty():
    gen = sg.Generator(0)
    D = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, generator=gen),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 1, generator=gen),
    )
    x_hat = sg.tensor(
        np.random.default_rng(0).random((2, 1, 6, 6)).astype(np.float32), requires_grad=True
    )
    score = D(x_hat)
    (g,) = sg.grad(score.sum(), x_hat, create_graph=True)
    penalty = ((g.reshape(2, -1) ** 2).sum(1).sqrt() - 1) ** 2
    return D, score, penalty.mean()


def test_wgan_gp_penalty_shows_both_orders_apart(tmp_path):
    D, score, gp = wgan_gp_penalty()
    graph = Graph([score, gp], {"critic": D})
    first = [f for f in graph.nodes.values() if f["kind"] == "op" and not f["second_order"]]
    second = [f for f in graph.nodes.values() if f["kind"] == "op" and f["second_order"]]
    assert {"Conv2d", "Linear"} <= {f["label"] for f in first}
    assert len(second) >= 3  # the recorded backward of the critic
    path, _ = render([score, gp], {"critic": D}, str(tmp_path / "gp.html"))
    page = open(path).read()
    assert "second order: recorded by a create_graph=True backward" in page
    if headless.find_chromium():
        seen_clean(path, tmp_path)


@pytest.mark.skipif(not cuda.emulation_available(), reason="no g++ to emulate the kernels")
def test_kernel_path_op_under_emulation_names_the_kernel(tmp_path):
    x = sg.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    with cuda.emulate():
        y = F.leaky_relu(x, 0.2)
    z = y * 2.0
    graph = Graph([z], {"x": x})
    impls = {f["label"]: f["impl"] for f in graph.nodes.values() if f["kind"] == "op"}
    assert impls["LeakyReLU"] == "emulated CUDA kernel (leaky_relu_forward_f32)"
    assert impls["Mul"] == "NumPy"
    path, _ = render([z], {"x": x}, str(tmp_path / "kernel.html"))
    assert "leaky_relu_forward_f32" in open(path).read()
    if headless.find_chromium():
        seen_clean(path, tmp_path)


def test_dcgan64_step_renders_in_under_2_s_into_under_5_mb(tmp_path):
    path, timings = graph_of_training_step("dcgan64", str(tmp_path / "dcgan64.html"), batch_size=4)
    assert os.path.getsize(path) < 5e6
    assert timings["total_s"] < 2.0, timings


def test_implementation_labels_say_where_the_product_ran():
    from scratchgan.inspection.graph_model import implementation_label

    class Conv2d:
        pass

    class Add:
        pass

    cases = [
        (Conv2d, "kernel:im2col_f32", "CUDA kernel (im2col_f32) + cuBLAS"),
        (Conv2d, "cupy", "CuPy (cuBLAS)"),
        (Add, "cupy", "CuPy"),
        (Conv2d, "emulated:im2col_f32", "emulated CUDA kernel (im2col_f32) + NumPy"),
        (Add, "numpy", "NumPy"),
    ]
    for cls, impl, label in cases:
        node = cls()
        node.impl = impl
        assert implementation_label(node) == label
