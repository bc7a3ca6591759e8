"""The graph page: Graphviz's ``dot`` lays the graph out as SVG, the page adds pan, zoom, search,
node details and collapsible module boxes. One self-contained HTML file (no server, no network).

    sg.viz.graph(loss, params=model)            # -> "graph.html"

Layout is dot's alone (the ``graphviz`` Python package and the ``dot`` binary; ``make install``
and CI install both); the page only hides, highlights and moves what dot drew.
"""

import html
import json
import time

from .graph_model import Graph
from .page_assets import GRAPH_CSS, GRAPH_JS, page

COLORS = {
    "NumPy": "#dbe9f6",
    "CuPy": "#d7f0dd",
    "CuPy (cuBLAS)": "#e6dcf5",
    "CUDA kernel": "#ffd8a8",
    "emulated CUDA kernel": "#fff1a8",
}
SECOND_ORDER = "second order: recorded by a create_graph=True backward"


def _shape(shape):
    return "?" if shape is None else "x".join(str(d) for d in shape) or "scalar"


def _fill(facts):
    impl = facts.get("impl", "")
    return COLORS.get(impl.split(" (")[0], COLORS.get(impl, "#eeeeee"))


def _node_attrs(node_id, facts):
    kind = facts["kind"]
    shape = _shape(facts.get("shape"))
    if kind == "op":
        attrs = {
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": _fill(facts),
            "label": f"{facts['label']}\n{shape}",
        }
        if facts["second_order"]:
            attrs.update(color="#c0392b", penwidth="2")
    elif kind == "parameter":
        attrs = {
            "shape": "ellipse",
            "style": "filled",
            "fillcolor": "#c8ebc3",
            "label": f"{facts['name']}\n{shape}",
        }
    elif kind == "output":
        attrs = {
            "shape": "doubleoctagon",
            "style": "filled",
            "fillcolor": "#f5c6c6",
            "label": f"{facts['label']}\n{shape}",
        }
    else:
        attrs = {
            "shape": "ellipse",
            "style": "filled",
            "fillcolor": "#eeeeee",
            "label": f"tensor\n{shape}",
        }
    attrs["id"] = node_id
    attrs["tooltip"] = f"{facts['label']} {shape}"
    return attrs


def _cluster_tree(graph):
    """{path tuple: [node ids]} for the op nodes, second-order ones under their own root."""
    members = {}
    for node_id, facts in graph.nodes.items():
        if facts["kind"] != "op":
            continue
        path = tuple(graph.scopes.get(node_id, ()))
        if facts["second_order"]:
            path = (("second-order", SECOND_ORDER),) + path
        members.setdefault(path, []).append(node_id)
    return members


def to_dot(graph):
    """(graphviz.Digraph, clusters): clusters maps an SVG id to its label and every node inside."""
    import graphviz

    dot = graphviz.Digraph(
        "autograd",
        graph_attr={
            "rankdir": "TB",
            "fontname": "Helvetica",
            "fontsize": "11",
            "nodesep": "0.15",
            "ranksep": "0.3",
        },
        node_attr={"fontname": "Helvetica", "fontsize": "10", "height": "0.3"},
        edge_attr={"arrowsize": "0.6", "color": "#555555"},
    )
    members = _cluster_tree(graph)
    paths = set()
    for path in members:
        paths.update(path[:k] for k in range(1, len(path) + 1))
    cluster_ids = {path: f"c{k}" for k, path in enumerate(sorted(paths))}
    clusters = {
        cid: {"label": path[-1][0], "kind": path[-1][1], "nodes": []}
        for path, cid in cluster_ids.items()
    }
    for path, node_ids in members.items():
        for k in range(1, len(path) + 1):
            clusters[cluster_ids[path[:k]]]["nodes"] += node_ids

    def emit(parent, prefix):
        for node_id in members.get(prefix, ()):
            parent.node(node_id, **_node_attrs(node_id, graph.nodes[node_id]))
        children = sorted(p for p in paths if len(p) == len(prefix) + 1 and p[:-1] == prefix)
        for path in children:
            cid = cluster_ids[path]
            name, kind = path[-1]
            second = name == "second-order"
            label = kind if second else f"{name}: {kind}"
            with parent.subgraph(name=f"cluster_{cid}") as sub:
                sub.attr(
                    id=cid,
                    label=label,
                    style="rounded,filled" if second else "rounded",
                    color="#c0392b" if second else "#7f8c8d",
                    fillcolor="#fdf0ef" if second else "white",
                )
                emit(sub, path)

    emit(dot, ())
    for node_id, facts in graph.nodes.items():
        if facts["kind"] != "op":
            dot.node(node_id, **_node_attrs(node_id, facts))
    edges = []
    for k, (tail, head) in enumerate(graph.edges):
        dot.edge(tail, head, id=f"e{k}")
        edges.append([f"e{k}", tail, head])
    return dot, clusters, edges


def render(outputs, params=None, path="graph.html", title="autograd graph"):
    """Write the page of the graph behind ``outputs``; returns (path, timings in seconds)."""
    t0 = time.perf_counter()
    graph = Graph(outputs, params)
    t1 = time.perf_counter()
    dot, clusters, edges = to_dot(graph)
    svg = dot.pipe(format="svg", encoding="utf-8")
    t2 = time.perf_counter()
    svg = svg[svg.index("<svg") :]
    data = {
        "nodes": graph.nodes,
        "clusters": clusters,
        "edges": edges,
        "colors": COLORS,
        "second_order": SECOND_ORDER,
    }
    n_ops = sum(1 for f in graph.nodes.values() if f["kind"] == "op")
    n_second = sum(1 for f in graph.nodes.values() if f.get("second_order"))
    summary = (
        f"{n_ops} op nodes ({n_second} second order), "
        f"{len(graph.nodes) - n_ops} tensors, {len(edges)} edges"
    )
    legend = "".join(
        f'<span class="chip" style="background:{c}">{html.escape(k)}</span>'
        for k, c in COLORS.items()
    )
    body = f"""<header><b>{html.escape(title)}</b> <span class="muted">{summary}</span>
<input id="search" placeholder="search ops, names, shapes" size="30">
<button id="fit">fit</button><button id="collapse">collapse modules</button>
<button id="expand">expand all</button> {legend}
<span class="chip second">second order</span></header>
<main><div id="view">{svg}</div><aside id="details">Click a node for its details; click a
module box's label to collapse or expand it. Drag to pan, wheel to zoom.</aside></main>
<script>const GRAPH = {_json(data)};</script>"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(page(title, body, GRAPH_CSS, GRAPH_JS))
    t3 = time.perf_counter()
    return path, {"walk_s": t1 - t0, "layout_s": t2 - t1, "write_s": t3 - t2, "total_s": t3 - t0}


def _json(data):
    """JSON safe inside a <script> element."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


def graph(*outputs, params=None, path="graph.html"):
    """Write the autograd graph behind ``outputs`` as one self-contained HTML page; returns
    ``path``. ``params``: a Module, a dict of name -> Tensor or Module, or named_parameters()."""
    return render(outputs, params, path)[0]
