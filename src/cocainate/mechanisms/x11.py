"""X11's MIT-SCREEN-SAVER extension (``XScreenSaverSuspend``), and DPMS where it exists.

For bare window managers (i3, Openbox...) where no D-Bus service listens. Through ctypes
on libX11, libXss and libXext, so nothing needs compiling. The server ends the suspend
when our connection closes, so the connection is held for the whole session, and a
killed cocainate leaves the screensaver as it was.

DPMS is different: disabling it is a server-wide setting that outlives the connection, so
it is restored at release from the state read at acquire. MIT-SCREEN-SAVER 1.1 suspends
the DPMS timers too, which covers the one path release cannot (SIGKILL).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

from ..errors import MechanismError
from . import Blocks, Mechanism, Mode


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


def _load(name: str) -> Any:
    path = ctypes.util.find_library(name) or f"lib{name}.so"
    try:
        return ctypes.CDLL(path)
    except OSError as err:
        package = {"X11": "libx11-6", "Xss": "libxss1", "Xext": "libxext6"}[name]
        raise MechanismError(f"lib{name} is not installed (Debian/Ubuntu: {package})") from err


_xlib: XLib | None = None


def xlib() -> XLib:
    global _xlib
    if _xlib is None:
        _xlib = XLib()
    return _xlib


class X11ScreenSaver(Mechanism):
    name = "x11"
    title = "X11 MIT-SCREEN-SAVER"
    blocks = {Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE})}

    _display: int | None = None
    _dpms_was_enabled = False

    def _open(self) -> tuple[XLib, int]:
        name = os.environ.get("DISPLAY")
        if not name:
            raise MechanismError("DISPLAY is not set (not an X11 session)")
        lib = xlib()
        display = lib.open(name)
        if not display:
            raise MechanismError(f"cannot open X display {name}")
        version = lib.saver_version(display)
        if version is None or version < (1, 1):
            lib.close(display)
            found = "absent" if version is None else f"version {version[0]}.{version[1]}"
            raise MechanismError(f"the X server's MIT-SCREEN-SAVER is {found}; 1.1 is needed")
        return lib, display

    def probe(self) -> str | None:
        try:
            lib, display = self._open()
        except MechanismError as err:
            return str(err)
        lib.close(display)
        return None

    def acquire(self, mode: Mode, reason: str) -> None:
        lib, display = self._open()
        lib.suspend(display, True)
        if lib.dpms_enabled(display):
            lib.dpms_set(display, False)
            self._dpms_was_enabled = True
        lib.flush(display)
        self._display = display

    def release(self) -> None:
        display, self._display = self._display, None
        if display is None:
            return
        lib = xlib()
        if self._dpms_was_enabled:
            lib.dpms_set(display, True)
            self._dpms_was_enabled = False
        lib.suspend(display, False)
        lib.close(display)  # flushes; the server would end the suspend on close anyway
