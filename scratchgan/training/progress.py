"""The progress display of training: one line with epoch, step, losses, images/s and ETA."""

import math
import sys
import time


def _clock(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ProgressBar:
    """A single-line bar on stderr: epoch, step, losses, images/s, ETA.

    On a terminal it redraws in place (at most every ``interval`` s); otherwise (a log file) it
    prints a full line every ``log_interval`` s, so logs stay short.
    """

    def __init__(self, stream=None, interval=0.2, log_interval=30.0, width=20):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval if self.tty else log_interval
        self.width, self.last, self.length = width, -math.inf, 0

    def update(self, epoch, epochs, done, total, losses, images_per_s, eta, force=False):
        now = time.monotonic()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        filled = int(self.width * done / max(total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        text = " ".join(f"{k} {v:.4f}" for k, v in losses.items())
        line = (f"epoch {epoch}/{epochs} [{bar}] {done}/{total} {text} | "
                f"{images_per_s:.0f} img/s | ETA {_clock(eta)}")
        self.write(line)

    def write(self, line):
        if self.tty:
            self.stream.write("\r" + line.ljust(self.length))
            self.length = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, line):
        """A line that stays (e.g. the end-of-epoch summary)."""
        if self.tty:
            self.stream.write("\r" + line.ljust(self.length) + "\n")
            self.length = 0
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class NullBar:
    """The display of a quiet run: shows nothing."""

    def update(self, *args, **kwargs):
        pass

    def message(self, line):
        pass


def progress_display(progress):
    """``progress``: a ProgressBar (or NullBar), used as is; else truthy for a bar on stderr."""
    if isinstance(progress, (ProgressBar, NullBar)):
        return progress
    return ProgressBar() if progress else NullBar()
