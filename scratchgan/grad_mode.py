"""Grad mode: whether ops record a graph. One flag, read by ``Function.apply``."""

import contextlib

enabled = True


def is_grad_enabled():
    return enabled


@contextlib.contextmanager
def set_grad_enabled(mode):
    global enabled
    previous, enabled = enabled, bool(mode)
    try:
        yield
    finally:
        enabled = previous


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) in which ops record no graph."""

    def __enter__(self):
        global enabled
        self._previous, enabled = enabled, False

    def __exit__(self, *exc):
        global enabled
        enabled = self._previous
        return False


class enable_grad(no_grad):
    def __enter__(self):
        global enabled
        self._previous, enabled = enabled, True
