"""The emulated GPUs: how many, which one is current on each thread, and ``Device``.

Imports nothing from the stand-in, so the array core, ``cuda`` and ``cuda.runtime`` can all
depend on it.
"""

import threading


class CUDARuntimeError(RuntimeError):
    """What CuPy raises for a failed CUDA runtime call."""


DEVICE_COUNT = 2  # emulated GPUs: enough to test cuda:1 and a mix of devices

_state = threading.local()


def current_device_id():
    """The calling thread's current emulated device (cudaGetDevice)."""
    return getattr(_state, "device", 0)


def set_current_device_id(device_id):
    """cudaSetDevice: checked against DEVICE_COUNT."""
    if not 0 <= int(device_id) < DEVICE_COUNT:
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    _state.device = int(device_id)


class Device:
    """``Device(device=None)``: emulated GPU ``device`` (default: the current one).

    ``with Device(i):`` makes it current and restores the previous one on exit, as CuPy does.
    """

    def __init__(self, device=None):
        if isinstance(device, Device):
            device = device.id
        self.id = current_device_id() if device is None else int(device)
        if not 0 <= self.id < DEVICE_COUNT:
            raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        self._previous = []

    def __enter__(self):
        self._previous.append(current_device_id())
        set_current_device_id(self.id)
        return self

    def __exit__(self, *exc):
        set_current_device_id(self._previous.pop())

    def use(self):
        set_current_device_id(self.id)

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
