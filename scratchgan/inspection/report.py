"""RUN/report.html: one self-contained page for a run (no server, no network).

Config and summary; the sample grids with an epoch slider (PNGs inlined as base64); loss and
metric curves (inline SVG, from metrics.csv); telemetry as layer-by-step heat maps and the GAN
signals (telemetry.jsonl); the profiler table (profile.txt, if the run has one); checkpoints.
The trainer writes it at the end of ``fit``; ``scratchgan report RUN`` writes it again.
"""

import base64
import csv
import glob
import html
import json
import os
import sys
import time

from .page_assets import BASE_CSS, page
from .report_charts import heat_map, line_chart
from .telemetry import TELEMETRY

REPORT = "report.html"
HEAT_MAPS = (
    ("grad_norm", "gradient norm", True),
    ("update_ratio", "update / weight", True),
    ("weight_norm", "weight norm", True),
    ("act_mean", "activation mean", False),
    ("act_std", "activation std", True),
)
REPORT_CSS = (
    BASE_CSS
    + """
section { padding: 4px 16px; } h2 { border-bottom: 1px solid #ddd; font-size: 16px; }
#sample { image-rendering: pixelated; max-width: 560px; border: 1px solid #ccc; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; } pre { background: #f6f6f6; padding: 6px; }
.heat { display: block; margin-bottom: 10px; } .kv { column-width: 260px; font-size: 12px; }"""
)
REPORT_JS = """(function () {
var slider = document.getElementById('epoch');
if (!slider) return;
var img = document.getElementById('sample'), label = document.getElementById('epoch-label');
function show() { var s = SAMPLES[slider.value]; img.src = s[1]; label.textContent = s[0]; }
slider.addEventListener('input', show); show();
})();"""


def read_json(path):
    """The JSON object at ``path``, or None when there is no such file."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _columns(mapping):
    """key: value lines in flowing columns (a long config stays short on screen)."""
    items = "".join(
        f"<div><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</div>"
        for k, v in mapping.items()
    )
    return f"<div class='kv'>{items}</div>"


def _table(mapping):
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in mapping.items()
    )
    return f"<table>{rows}</table>"


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _curves(run_dir):
    path = os.path.join(run_dir, "metrics.csv")
    if not os.path.exists(path):
        return "<p class='muted'>no metrics.csv yet (no epoch finished)</p>"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    groups = {
        "train losses (epoch means)": "train_",
        "validation": "valid_",
        "generative metrics": "metric_",
    }
    charts = []
    for title, prefix in groups.items():
        series = {}
        for row in rows:
            for key, value in row.items():
                y = _number(value)
                if key.startswith(prefix) and y is not None:
                    series.setdefault(key[len(prefix) :], []).append((float(row["epoch"]), y))
        charts.append(line_chart(series, title, xlabel="epoch"))
    return f"<div class='charts'>{''.join(charts)}</div>"


def _samples(run_dir):
    paths = sorted(glob.glob(os.path.join(run_dir, "samples", "*.png")))
    if not paths:
        return "<p class='muted'>no sample pictures</p>"
    samples = []
    for p in paths:
        with open(p, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        samples.append([os.path.basename(p)[:-4], "data:image/png;base64," + data])
    return (
        f"<input type='range' id='epoch' min='0' max='{len(samples) - 1}' "
        f"value='{len(samples) - 1}' style='width:300px'> <span id='epoch-label'></span>"
        f"<br><img id='sample' alt='samples'>"
        f"<script>const SAMPLES = {json.dumps(samples)};</script>"
    )


def read_telemetry(run_dir):
    path = os.path.join(run_dir, TELEMETRY)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _telemetry(run_dir):
    rows = read_telemetry(run_dir)
    if not rows:
        return (
            "<p class='muted'>no telemetry.jsonl (train with --set telemetry_every=K for "
            "per-layer statistics every K steps)</p>"
        )
    steps = [r["step"] for r in rows]
    parts = []
    gan = {}
    for r in rows:
        for key, value in r.get("gan", {}).items():
            gan.setdefault(key, []).append((r["step"], value))
    if gan:
        parts.append(
            line_chart({k: v for k, v in gan.items() if k != "g_grad_norm"}, "D(x) and D(G(z))")
        )
        parts.append(
            line_chart({"generator": gan.get("g_grad_norm", [])}, "generator gradient norm")
        )
    parts = [f"<div class='charts'>{''.join(parts)}</div>"]
    for key, title, log in HEAT_MAPS:
        names = []
        for r in rows:
            names += [n for n in r.get(key, {}) if n not in names]
        values = [[r.get(key, {}).get(n) for r in rows] for n in names]
        parts.append(heat_map(names, steps, values, f"{title} by layer and step", log=log))
    return "".join(parts)


def _checkpoints(run_dir):
    paths = sorted(glob.glob(os.path.join(run_dir, "checkpoints", "*.npz")))
    if not paths:
        return "<p class='muted'>no checkpoints</p>"
    return _table(
        {
            os.path.basename(p): f"{os.path.getsize(p) / 1e6:.2f} MB, "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(os.path.getmtime(p)))}"
            for p in paths
        }
    )


def _profile(run_dir):
    path = os.path.join(run_dir, "profile.txt")
    if not os.path.exists(path):
        return "<p class='muted'>no profile.txt (the run was not profiled)</p>"
    with open(path) as f:
        return f"<pre>{html.escape(f.read())}</pre>"


def write_report(run_dir):
    """Write RUN/report.html from what the run directory holds; returns its path."""
    config = read_json(os.path.join(run_dir, "config.json"))
    if config is None:
        raise FileNotFoundError(f"{run_dir} is not a run directory: it has no config.json")
    summary = read_json(os.path.join(run_dir, "summary.json")) or {}
    summary = {k: v for k, v in summary.items() if k != "final"}
    title = f"{config.get('model', 'run')}: {os.path.basename(os.path.abspath(run_dir))}"
    sections = [
        ("config", _columns(config)),
        ("summary", _columns(summary) if summary else "<p class='muted'>no summary.json yet</p>"),
        ("samples", _samples(run_dir)),
        ("loss and metric curves", _curves(run_dir)),
        ("telemetry", _telemetry(run_dir)),
        ("profile", _profile(run_dir)),
        ("checkpoints", _checkpoints(run_dir)),
    ]
    body = f"<header><b>{html.escape(title)}</b></header>" + "".join(
        f"<section><h2>{name}</h2>{content}</section>" for name, content in sections
    )
    path = os.path.join(run_dir, REPORT)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page(title, body, REPORT_CSS, REPORT_JS))
    return path


def finish_run(run_dir, telemetry=None):
    """The end of ``Trainer.fit``: close the telemetry and write report.html. A report that
    fails is reported on stderr and does not fail the run."""
    if telemetry is not None:
        telemetry.close()
    try:
        return write_report(run_dir)
    except Exception as e:  # the run itself is saved; the page is a convenience
        print(f"report.html not written: {type(e).__name__}: {e}", file=sys.stderr)
        return None
