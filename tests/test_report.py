"""report.html for a dcgan run and a cyclegan run (tiny, generated data): what the page holds,
and the page as a person sees it in headless Chromium (acceptance 3 of issue 19).

With SCRATCHGAN_DOCS_SCREENSHOTS=1 the screenshots are also written to docs/img/report-*.png."""

import base64
import json
import os
import re
import shutil

import numpy as np
import pytest

from scratchgan import train
from scratchgan.inspection import headless
from scratchgan.inspection.report import write_report
from scratchgan.models import cyclegan

DOCS = os.path.join(os.path.dirname(__file__), "..", "docs", "img")


def blobs(n, size, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    centres = rng.uniform(3, size - 3, (n, 2, 1, 1))
    images = 255 * np.exp(-((yy - centres[:, 0]) ** 2 + (xx - centres[:, 1]) ** 2) / 6.0)
    return images.astype(np.uint8), rng.integers(0, 10, n)


def run_model(tmp_path, model, size, n_train, **overrides):
    images, labels = blobs(n_train + 8, size)
    cfg = train.make_config(model, epochs=2, valid_size=8, telemetry_every=1, **overrides)
    run = tmp_path / model
    trainer = train.Trainer(
        cfg,
        str(run),
        progress=False,
        data=(images[:n_train], labels[:n_train], images[n_train:], labels[n_train:]),
    )
    trainer.fit()
    return run, trainer


def check_in_chromium(path, name):
    if headless.find_chromium() is None:
        pytest.skip("no Chromium (apt-get install chromium): the page was not loaded")
    shot = str(path) + ".png"
    result = headless.load(str(path), screenshot=shot, size=(1280, 2400))
    assert result["errors"] == [], result["errors"]
    assert result["ready"] and result["screenshot"] and not headless.blank(shot)
    if os.environ.get("SCRATCHGAN_DOCS_SCREENSHOTS"):
        shutil.copy(shot, os.path.join(DOCS, f"report-{name}.png"))


def embedded_samples(page):
    return json.loads(re.search(r"const SAMPLES = (.*?);</script>", page).group(1))


def test_dcgan_report(tmp_path):
    run, trainer = run_model(tmp_path, "dcgan", 12, 16, batch_size=8)
    page = (run / "report.html").read_text()  # written by fit itself
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    samples = embedded_samples(page)
    assert [s[0] for s in samples] == ["epoch-001", "epoch-002"]
    png = base64.b64decode(samples[1][1].split(",", 1)[1])
    assert png == (run / "samples" / "epoch-002.png").read_bytes()
    assert "train losses (epoch means)" in page and "D(x) and D(G(z))" in page
    assert page.count('<svg class="heat"') == 5
    # a heat map cell per layer and step: 4 telemetry steps of generator.0.weight's gradient
    assert len(re.findall(r"generator\.0\.weight step \d+:", page)) >= 4
    assert "last.npz" in page and "id='epoch'" in page
    (run / "profile.txt").write_text("op  direction  calls  total ms\nConv2d forward 4 1.0\n")
    write_report(str(run))
    assert "Conv2d forward 4 1.0" in (run / "report.html").read_text()
    check_in_chromium(run / "report.html", "dcgan")


def test_cyclegan_report(tmp_path, monkeypatch):
    domain_b, _ = blobs(12, 28, seed=1)

    def synthetic_domain_b(self):
        self.train_b, self.valid_b = domain_b, domain_b
        return self.train_b, self.valid_b

    monkeypatch.setattr(cyclegan.CycleGAN, "domain_b", synthetic_domain_b)
    run, trainer = run_model(tmp_path, "cyclegan", 28, 8, batch_size=4, gf=4, df=4, image_pool=4)
    page = (run / "report.html").read_text()
    assert len(embedded_samples(page)) == 2
    rows = [json.loads(line) for line in (run / "telemetry.jsonl").open()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert {"g_ab", "g_ba", "d_a", "d_b"} <= set(rows[-1]["module_grad_norm"])
    assert "g_ab.d1" in page or "g_ab." in page
    check_in_chromium(run / "report.html", "cyclegan")


def test_report_of_a_directory_that_is_no_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        write_report(str(tmp_path))
