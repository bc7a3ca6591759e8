"""The CSS and JavaScript inlined into the pages, and the page shell.

Every page starts with a hook that writes script errors (``window.onerror``, ``console.error``)
into the ``data-errors`` attribute of <html>, and ends by setting ``data-ready``, so a headless
browser's DOM dump tells whether the page ran cleanly (headless.py).
"""

import html

ERROR_HOOK = """window.__errors = [];
function __record(m) { window.__errors.push(String(m));
  document.documentElement.setAttribute('data-errors', JSON.stringify(window.__errors)); }
window.addEventListener('error', function (e) { __record(e.message); });
(function () { var original = console.error;
  console.error = function () { __record(Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments); }; })();"""

BASE_CSS = """body { font: 13px Helvetica, Arial, sans-serif; margin: 0; color: #222; }
header { padding: 6px 10px; border-bottom: 1px solid #ccc; background: #fafafa; }
.muted { color: #777; } .chip { padding: 1px 6px; border-radius: 8px; margin: 0 2px;
  font-size: 11px; border: 1px solid #bbb; } .chip.second { border: 2px solid #c0392b; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 2px 6px;
  text-align: left; vertical-align: top; }"""

GRAPH_CSS = (
    BASE_CSS
    + """
main { display: flex; height: calc(100vh - 40px); }
#view { flex: 1; overflow: hidden; cursor: grab; background: white; }
#view svg { width: 100%; height: 100%; }
#details { width: 340px; overflow: auto; padding: 8px; border-left: 1px solid #ccc;
  font-size: 12px; background: #fcfcfc; }
g.node { cursor: pointer; } g.dim { opacity: 0.15; }
g.hit polygon, g.hit ellipse, g.hit path { stroke: #e67e22; stroke-width: 3; }
g.cluster > text { cursor: pointer; font-weight: bold; }
g.collapsed > polygon, g.collapsed > path { fill: #d5dbe0; }"""
)

GRAPH_JS = r"""(function () {
var svg = document.querySelector('#view svg');
svg.removeAttribute('width'); svg.removeAttribute('height');
var box0 = svg.viewBox.baseVal, full = [box0.x, box0.y, box0.width, box0.height];
var vb = full.slice();
function show() { svg.setAttribute('viewBox', vb.join(' ')); }
function fit() { vb = full.slice(); show(); }
var view = document.getElementById('view');
view.addEventListener('wheel', function (e) {
  e.preventDefault(); var r = svg.getBoundingClientRect();
  var fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
  var k = e.deltaY > 0 ? 1.2 : 1 / 1.2, w = vb[2] * k, h = vb[3] * k;
  vb = [vb[0] + (vb[2] - w) * fx, vb[1] + (vb[3] - h) * fy, w, h]; show(); },
  {passive: false});
var drag = null;
view.addEventListener('mousedown', function (e) { drag = [e.clientX, e.clientY, vb[0], vb[1]]; });
window.addEventListener('mouseup', function () { drag = null; });
window.addEventListener('mousemove', function (e) {
  if (!drag) return; var r = svg.getBoundingClientRect(), s = vb[2] / r.width;
  vb[0] = drag[2] - (e.clientX - drag[0]) * s; vb[1] = drag[3] - (e.clientY - drag[1]) * s;
  show(); });
function esc(s) { return String(s).replace(/[&<>]/g, function (c) {
  return {'&': '&amp;', '<': '&lt;', '>': '&gt;'}[c]; }); }
function row(k, v) { return '<tr><th>' + esc(k) + '</th><td>' + esc(v) + '</td></tr>'; }
function details(id) {
  var f = GRAPH.nodes[id]; if (!f) return;
  var h = '<h3>' + esc(f.label) + '</h3><table>';
  h += row('kind', f.kind) + row('shape', f.shape ? f.shape.join(' x ') || 'scalar' : '?');
  h += row('dtype', f.dtype) + row('device', f.device);
  if (f.impl) h += row('ran on', f.impl);
  if (f.second_order) h += row('graph', GRAPH.second_order);
  if (f.needs_input_grad) h += row('needs input grad', f.needs_input_grad.join(', '));
  h += '</table>';
  if (f.saved) { h += '<h4>saved for backward</h4><table>';
    if (!f.saved.length) h += row('nothing', '');
    f.saved.forEach(function (s) { h += row(s.what, s.shape.join('x') + ' ' + s.dtype + ', ' +
      s.bytes.toLocaleString() + ' bytes'); }); h += '</table>'; }
  if (f.grad) { h += '<h4>gradient</h4><table>';
    Object.keys(f.grad).forEach(function (k) { h += row(k, f.grad[k].toPrecision(4)); });
    h += '</table>'; }
  document.getElementById('details').innerHTML = h;
}
Object.keys(GRAPH.nodes).forEach(function (id) {
  var g = document.getElementById(id);
  if (g) g.addEventListener('click', function () { details(id); });
});
var collapsed = {};
function apply() {
  var hidden = {};
  Object.keys(collapsed).forEach(function (cid) {
    GRAPH.clusters[cid].nodes.forEach(function (n) { hidden[n] = true; }); });
  Object.keys(GRAPH.nodes).forEach(function (id) {
    var g = document.getElementById(id); if (g) g.style.display = hidden[id] ? 'none' : ''; });
  GRAPH.edges.forEach(function (e) {
    var g = document.getElementById(e[0]);
    if (g) g.style.display = hidden[e[1]] && hidden[e[2]] ? 'none' : ''; });
  Object.keys(GRAPH.clusters).forEach(function (cid) {
    var g = document.getElementById(cid); if (!g) return;
    var inside = Object.keys(collapsed).some(function (o) { return o !== cid &&
      GRAPH.clusters[cid].nodes.every(function (n) {
        return GRAPH.clusters[o].nodes.indexOf(n) >= 0; }) &&
      GRAPH.clusters[o].nodes.length > GRAPH.clusters[cid].nodes.length; });
    g.style.display = inside ? 'none' : '';
    g.classList.toggle('collapsed', !!collapsed[cid]); });
}
Object.keys(GRAPH.clusters).forEach(function (cid) {
  var g = document.getElementById(cid); if (!g) return;
  var t = g.querySelector('text'); if (!t) return;
  t.addEventListener('click', function (e) { e.stopPropagation();
    if (collapsed[cid]) delete collapsed[cid]; else collapsed[cid] = true; apply(); });
});
function innermost() {
  var ids = Object.keys(GRAPH.clusters);
  return ids.filter(function (a) { return !ids.some(function (b) { return b !== a &&
    GRAPH.clusters[b].nodes.length < GRAPH.clusters[a].nodes.length &&
    GRAPH.clusters[b].nodes.every(function (n) {
      return GRAPH.clusters[a].nodes.indexOf(n) >= 0; }); }); });
}
document.getElementById('collapse').onclick = function () {
  innermost().forEach(function (c) { collapsed[c] = true; }); apply(); };
document.getElementById('expand').onclick = function () { collapsed = {}; apply(); };
document.getElementById('fit').onclick = fit;
var search = document.getElementById('search');
search.addEventListener('input', function () {
  var q = search.value.toLowerCase(), first = null;
  Object.keys(GRAPH.nodes).forEach(function (id) {
    var g = document.getElementById(id); if (!g) return;
    var hit = q && JSON.stringify(GRAPH.nodes[id]).toLowerCase().indexOf(q) >= 0;
    g.classList.toggle('hit', !!hit); g.classList.toggle('dim', !!q && !hit);
    if (hit && !first) first = g; });
  if (first) { var b = first.getBBox(), w = Math.max(b.width * 6, 300), h = w * vb[3] / vb[2];
    vb = [b.x + b.width / 2 - w / 2, b.y + b.height / 2 - h / 2, w, h]; show(); }
});
fit();
if (location.hash === '#selftest') {  // headless tests: run each control once
  document.getElementById('collapse').click();
  var hidden = document.querySelectorAll('g.node[style*="none"]').length;
  document.getElementById('expand').click();
  search.value = 'a'; search.dispatchEvent(new Event('input'));
  var hits = document.querySelectorAll('g.hit').length;
  details(Object.keys(GRAPH.nodes)[0]);
  view.dispatchEvent(new WheelEvent('wheel', {deltaY: 100, clientX: 50, clientY: 50}));
  document.documentElement.setAttribute('data-selftest', JSON.stringify(
    {hidden: hidden, hits: hits, details: document.getElementById('details').innerHTML.length}));
}
})();"""


def page(title, body, css, js):
    """A whole HTML page: the error hook first, then ``body``, then ``js``; all inline."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<script>{ERROR_HOOK}</script><style>{css}</style></head>
<body>{body}
<script>{js}
document.documentElement.setAttribute('data-ready', '1');</script></body></html>
"""
