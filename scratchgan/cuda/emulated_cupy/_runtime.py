"""``cupy.cuda.runtime`` of the stand-in: device count, current device, synchronisation."""

from . import _devices as _core
from ._devices import CUDARuntimeError  # noqa: F401 (cupy.cuda.runtime.CUDARuntimeError)


def getDeviceCount():
    return _core.DEVICE_COUNT


def getDevice():
    return _core.current_device_id()


def setDevice(device):
    _core.set_current_device_id(device)


def deviceSynchronize():
    """Emulated kernels finish before they return: nothing to wait for."""


def deviceCanAccessPeer(device, peerDevice):
    return 0  # the strictest GPUs: an op must run on its arrays' own device
