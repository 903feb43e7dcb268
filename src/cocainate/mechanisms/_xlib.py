"""The ctypes layer of the X11 mechanism: the few Xlib, Xss and DPMS calls it makes."""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from ..errors import MechanismError

# Shared-object names by platform; ctypes.util.find_library would fork ldconfig at start-up.
_SONAMES = {
    "X11": ("libX11.so.6", "libX11.so"),
    "Xss": ("libXss.so.1", "libXss.so"),
    "Xext": ("libXext.so.6", "libXext.so"),
}
_PACKAGES = {"X11": "libx11-6", "Xss": "libxss1", "Xext": "libxext6"}


def _load(name: str) -> Any:
    for soname in _SONAMES[name]:
        try:
            return ctypes.CDLL(soname)
        except OSError:
            continue
    from ctypes.util import find_library  # the slow way, for platforms whose names differ

    path = find_library(name)
    try:
        if path is None:
            raise OSError(f"lib{name} not found on {sys.platform}")
        return ctypes.CDLL(path)
    except OSError as err:
        raise MechanismError(
            f"lib{name} is not installed (Debian/Ubuntu: {_PACKAGES[name]})"
        ) from err


class XLib:
    """The few Xlib, Xss and DPMS calls used, loaded on first use; tests replace it."""

    def __init__(self) -> None:
        self.x11 = _load("X11")
        self.xss = _load("Xss")
        try:
            self.xext: Any = _load("Xext")
        except MechanismError:
            self.xext = None
        c_int_p = ctypes.POINTER(ctypes.c_int)
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.xss.XScreenSaverQueryExtension.argtypes = [ctypes.c_void_p, c_int_p, c_int_p]
        self.xss.XScreenSaverQueryVersion.argtypes = [ctypes.c_void_p, c_int_p, c_int_p]
        self.xss.XScreenSaverSuspend.argtypes = [ctypes.c_void_p, ctypes.c_int]
        if self.xext is not None:
            self.xext.DPMSQueryExtension.argtypes = [ctypes.c_void_p, c_int_p, c_int_p]
            self.xext.DPMSCapable.argtypes = [ctypes.c_void_p]
            self.xext.DPMSInfo.argtypes = [
                ctypes.c_void_p,
                ctypes.POINTER(ctypes.c_ushort),
                ctypes.POINTER(ctypes.c_ubyte),
            ]
            self.xext.DPMSEnable.argtypes = [ctypes.c_void_p]
            self.xext.DPMSDisable.argtypes = [ctypes.c_void_p]

    def open(self, name: str) -> int | None:
        display: int | None = self.x11.XOpenDisplay(name.encode())
        return display

    def close(self, display: int) -> None:
        self.x11.XCloseDisplay(display)

    def flush(self, display: int) -> None:
        self.x11.XFlush(display)

    def saver_version(self, display: int) -> tuple[int, int] | None:
        a, b = ctypes.c_int(), ctypes.c_int()
        if not self.xss.XScreenSaverQueryExtension(display, ctypes.byref(a), ctypes.byref(b)):
            return None
        if not self.xss.XScreenSaverQueryVersion(display, ctypes.byref(a), ctypes.byref(b)):
            return None
        return a.value, b.value

    def suspend(self, display: int, suspend: bool) -> None:
        self.xss.XScreenSaverSuspend(display, int(suspend))

    def dpms_enabled(self, display: int) -> bool | None:
        """Whether DPMS is on; None where the server has no DPMS."""
        if self.xext is None:
            return None
        a, b = ctypes.c_int(), ctypes.c_int()
        if not self.xext.DPMSQueryExtension(display, ctypes.byref(a), ctypes.byref(b)):
            return None
        if not self.xext.DPMSCapable(display):
            return None
        level, state = ctypes.c_ushort(), ctypes.c_ubyte()
        self.xext.DPMSInfo(display, ctypes.byref(level), ctypes.byref(state))
        return bool(state.value)

    def dpms_set(self, display: int, enabled: bool) -> None:
        (self.xext.DPMSEnable if enabled else self.xext.DPMSDisable)(display)
