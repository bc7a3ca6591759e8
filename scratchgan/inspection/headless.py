"""Load a page in headless Chromium the way a person would see it: script errors and a screenshot.

The pages record script errors in <html data-errors> and set data-ready when their scripts finish
(page_assets.py); Chromium's ``--dump-dom`` gives that DOM, ``--enable-logging=stderr`` its
console, ``--screenshot`` the picture. Each load gets a fresh profile directory.
"""

import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=5000",
)
CONSOLE_ERROR = re.compile(r"CONSOLE.*(error|Uncaught)|Uncaught|ERROR:CONSOLE", re.IGNORECASE)


def find_chromium():
    """The path of a Chromium (or Chrome) binary, or None."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(binary, profile, args, timeout):
    cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def load(path, screenshot=None, size=(1280, 900), timeout=120, fragment=""):
    """Open ``path`` (with ``#fragment`` if given) headless; returns {"errors": [...],
    "ready": bool, "console": [...], "screenshot": path or None, "dom": text}. ``errors`` holds
    the page's recorded script errors and the console lines that report errors."""
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("no Chromium found (apt-get install chromium)")
    url = "file://" + os.path.abspath(path)
    with tempfile.TemporaryDirectory(prefix="sg-chromium-") as profile:
        dom = _run(
            binary, profile, ["--dump-dom", url + (f"#{fragment}" if fragment else "")], timeout
        )
    match = re.search(r"data-errors=\"([^\"]*)\"", dom.stdout)
    page_errors = [match.group(1)] if match else []
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    console_errors = [line for line in console if CONSOLE_ERROR.search(line)]
    result = {
        "errors": page_errors + console_errors,
        "console": console,
        "ready": 'data-ready="1"' in dom.stdout,
        "screenshot": None,
        "dom": dom.stdout,
    }
    if screenshot:
        with tempfile.TemporaryDirectory(prefix="sg-chromium-") as profile:
            _run(
                binary,
                profile,
                [
                    f"--screenshot={os.path.abspath(screenshot)}",
                    f"--window-size={size[0]},{size[1]}",
                    url,
                ],
                timeout,
            )
        result["screenshot"] = screenshot if os.path.exists(screenshot) else None
    return result


def blank(png_path):
    """Whether a screenshot is (nearly) one colour: fewer than 1% of pixels differ from the most
    common one."""
    from PIL import Image

    pixels = np.asarray(Image.open(png_path).convert("RGB")).reshape(-1, 3)
    values, counts = np.unique(pixels, axis=0, return_counts=True)
    return counts.max() > 0.99 * len(pixels)
