"""``cupy.cuda`` of the stand-in: ``Device`` (a context manager for the current device) and
``runtime``."""

from . import _devices as _core
from . import _runtime as runtime
from ._devices import Device


def get_device_id():
    return _core.current_device_id()


__all__ = ["Device", "get_device_id", "runtime"]
