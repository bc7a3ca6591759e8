"""``cupy.cuda`` of the stand-in: ``Device`` (a context manager for the current device) and
``runtime``."""

from . import _core
from . import _runtime as runtime


class Device:
    """``Device(device=None)``: emulated GPU ``device`` (default: the current one).

    ``with Device(i):`` makes it current and restores the previous one on exit, as CuPy does.
    """

    def __init__(self, device=None):
        if isinstance(device, Device):
            device = device.id
        self.id = _core.current_device_id() if device is None else int(device)
        if not 0 <= self.id < _core.DEVICE_COUNT:
            raise runtime.CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        self._previous = []

    def __enter__(self):
        self._previous.append(_core.current_device_id())
        _core.set_current_device_id(self.id)
        return self

    def __exit__(self, *exc):
        _core.set_current_device_id(self._previous.pop())

    def use(self):
        _core.set_current_device_id(self.id)

    def synchronize(self):
        """Emulated kernels finish before they return: nothing to wait for."""

    @property
    def compute_capability(self):
        return "90"

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __int__(self):
        return self.id

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


def get_device_id():
    return _core.current_device_id()


__all__ = ["Device", "get_device_id", "runtime"]
