"""Inline SVG pictures for the report page: line charts and layer-by-step heat maps.

Plain SVG markup (no library, nothing fetched); each mark has a <title>, so hovering shows the
value.
"""

import html
import math

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _ticks(lo, hi, n=5):
    if hi == lo:
        return [lo]
    return [lo + (hi - lo) * k / (n - 1) for k in range(n)]


def line_chart(series, title, xlabel="step", width=560, height=260):
    """SVG of ``series`` ({name: [(x, y), ...]}) on shared axes; non-finite points are skipped."""
    points = {
        k: [(x, y) for x, y in v if math.isfinite(x) and math.isfinite(y)]
        for k, v in series.items()
    }
    points = {k: v for k, v in points.items() if v}
    if not points:
        return ""
    xs = [x for v in points.values() for x, _ in v]
    ys = [y for v in points.values() for _, y in v]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    left, right, top, bottom = 56, 130, 24, 34
    w, h = width - left - right, height - top - bottom

    def px(x):
        return left + (x - x0) / (x1 - x0) * w

    def py(y):
        return top + (1 - (y - y0) / (y1 - y0)) * h

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><text x="{left}" y="15" font-weight="bold">'
        f"{html.escape(title)}</text>",
        f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
    ]
    for y in _ticks(y0, y1):
        parts.append(
            f'<text x="{left - 4}" y="{py(y) + 4:.1f}" text-anchor="end" '
            f'font-size="10">{y:.3g}</text>'
        )
    for x in _ticks(x0, x1):
        parts.append(
            f'<text x="{px(x):.1f}" y="{top + h + 14}" text-anchor="middle" '
            f'font-size="10">{x:.4g}</text>'
        )
    parts.append(
        f'<text x="{left + w / 2}" y="{height - 4}" text-anchor="middle" '
        f'font-size="11">{html.escape(xlabel)}</text>'
    )
    for k, (name, v) in enumerate(points.items()):
        color = PALETTE[k % len(PALETTE)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in v)
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.5" '
            f'points="{path}"><title>{html.escape(name)}</title></polyline>'
        )
        if len(v) == 1:
            parts.append(
                f'<circle cx="{px(v[0][0]):.1f}" cy="{py(v[0][1]):.1f}" r="3" fill="{color}"/>'
            )
        parts.append(
            f'<text x="{left + w + 8}" y="{top + 12 + 14 * k}" fill="{color}" '
            f'font-size="11">{html.escape(name[:20])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _color(t):
    """t in [0, 1] -> a blue (0) to yellow (1) colour through teal (viridis-like)."""
    stops = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    f = t - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(stops[i], stops[i + 1]))
    return f"rgb({r},{g},{b})"


def heat_map(rows, steps, values, title, log=True, max_columns=120, cell=(6, 12)):
    """SVG heat map: one row per name in ``rows``, one column per step (subsampled to at most
    ``max_columns``); ``values[r][c]`` a number or None. ``log``: colour by log10 |value|."""
    if not rows or not steps:
        return ""
    keep = list(range(len(steps)))
    if len(keep) > max_columns:
        keep = sorted({round(k * (len(steps) - 1) / (max_columns - 1)) for k in range(max_columns)})

    def scaled(v):
        if v is None or not math.isfinite(v) or (log and v == 0):
            return None
        return math.log10(abs(v)) if log else v

    flat = [scaled(values[r][c]) for r in range(len(rows)) for c in keep]
    finite = [v for v in flat if v is not None]
    if not finite:
        return ""
    lo, hi = min(finite), max(finite)
    cw, ch = max(cell[0], min(40, 480 // len(keep))), cell[1]
    label_w = 8 + 6 * max(len(r) for r in rows)
    width = max(label_w + cw * len(keep) + 90, 7 * len(title) + 200)
    height = 30 + ch * len(rows) + 20
    parts = [
        f'<svg class="heat" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><text x="0" y="14" font-weight="bold">'
        f"{html.escape(title)}{' (colour: log10 |value|)' if log else ''}</text>"
    ]
    for r, name in enumerate(rows):
        y = 24 + ch * r
        parts.append(
            f'<text x="{label_w - 4}" y="{y + ch - 2}" text-anchor="end" '
            f'font-size="10">{html.escape(name)}</text>'
        )
        for j, c in enumerate(keep):
            v = scaled(values[r][c])
            fill = "#eeeeee" if v is None else _color((v - lo) / (hi - lo) if hi > lo else 0.5)
            raw = values[r][c]
            tip = f"{name} step {steps[c]}: {raw:.4g}" if raw is not None else f"{name}: none"
            parts.append(
                f'<rect x="{label_w + cw * j}" y="{y}" width="{cw}" height="{ch}" '
                f'fill="{fill}"><title>{html.escape(tip)}</title></rect>'
            )
    x = label_w + cw * len(keep) + 8
    for k in range(5):
        t = k / 4
        parts.append(
            f'<rect x="{x}" y="{24 + 14 * k}" width="12" height="12" '
            f'fill="{_color(t)}"/><text x="{x + 16}" y="{34 + 14 * k}" '
            f'font-size="10">{lo + (hi - lo) * t:.3g}</text>'
        )
    parts.append(
        f'<text x="{label_w}" y="{height - 4}" font-size="10">steps '
        f"{steps[keep[0]]} to {steps[keep[-1]]}</text></svg>"
    )
    return "".join(parts)
