"""The progress display of training (and of the feature classifier's one-off training): tqdm.

On a terminal a tqdm bar per epoch fits the terminal's width and shows steps, rate and the epoch's
ETA, with the losses, images/s and the run's ETA after it. Anywhere else (a log file, a pipe) tqdm's
carriage-return redraws would fill the log, so a plain line is printed at most every
``log_interval`` seconds instead.
"""

import math
import shutil
import sys
import time

from tqdm import tqdm


def clock(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _is_terminal(stream):
    return hasattr(stream, "isatty") and stream.isatty()


class ProgressBar:
    """Epoch, step, losses, images/s and ETA on ``stream`` (default stderr).

    ``update(epoch, epochs, done, total, losses, images_per_s, eta)``: ``done`` of ``total`` steps
    of epoch ``epoch`` (1-based) of ``epochs``; ``eta``: seconds left in the run. ``message(line)``
    prints a line that stays (the end-of-epoch summary) without breaking the bar.
    """

    def __init__(self, stream=None, interval=0.2, log_interval=30.0):
        self.stream = stream or sys.stderr
        self.tty = _is_terminal(self.stream)
        self.interval = interval if self.tty else log_interval
        self.last = -math.inf
        self._bar, self._epoch = None, None

    def update(self, epoch, epochs, done, total, losses, images_per_s, eta, force=False):
        text = " ".join(f"{k} {v:.4f}" for k, v in losses.items())
        stats = f"{text} | {images_per_s:.0f} img/s | ETA {clock(eta)}"
        if self.tty:
            self._draw(epoch, epochs, done, total, stats, force)
            return
        now = time.monotonic()
        if force or now - self.last >= self.interval:
            self.last = now
            self._line(f"epoch {epoch}/{epochs} {done}/{total} {stats}")

    def _draw(self, epoch, epochs, done, total, stats, force):
        if self._bar is None or self._epoch != (epoch, epochs, total):
            self.close()
            self._epoch = (epoch, epochs, total)
            self._bar = tqdm(
                total=total,
                desc=f"epoch {epoch}/{epochs}",
                unit="step",
                file=self.stream,
                mininterval=self.interval,
                leave=False,
                ncols=shutil.get_terminal_size().columns,
            )
        # the terminal's width, read at each redraw: tqdm trims the line to it
        self._bar.ncols = shutil.get_terminal_size().columns
        self._bar.set_postfix_str(stats, refresh=False)
        self._bar.update(done - self._bar.n)
        if force:
            self._bar.refresh()

    def _line(self, line):
        self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, line):
        """A line that stays (e.g. the end-of-epoch summary)."""
        if self._bar is not None:
            self._bar.clear()
            self._line(line)
            self._bar.refresh()
        else:
            self._line(line)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class NullBar:
    """The display of a quiet run: shows nothing."""

    def update(self, *args, **kwargs):
        pass

    def message(self, line):
        pass

    def close(self):
        pass


def progress_display(progress):
    """``progress``: a ProgressBar (or NullBar), used as is; else truthy for a bar on stderr."""
    if isinstance(progress, (ProgressBar, NullBar)):
        return progress
    return ProgressBar() if progress else NullBar()
