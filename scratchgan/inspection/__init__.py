"""See inside: the graph viewer (``sg.viz.graph``), training telemetry, the run report page and
TensorBoard logs. Each page is one self-contained HTML file (no server, no network).

- graph_model.py: the autograd graph behind some outputs, as plain records (nodes, edges, modules)
- graph_page.py: its Graphviz ``dot`` layout and the interactive page (pan, zoom, search, collapse)
- page_assets.py: the page's CSS and JavaScript, inlined into every page
- telemetry.py: per-layer statistics every K steps (telemetry.jsonl) and TensorBoard event files
- report.py: RUN/report.html (config, samples, curves, telemetry heat maps, profile, checkpoints)
- commands.py: ``scratchgan graph MODEL`` and ``scratchgan report RUN``
- headless.py: load a page in headless Chromium (console errors, screenshot), for the tests
"""
