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

import os
from typing import TYPE_CHECKING

from ..errors import MechanismError
from . import Blocks, Mechanism, Mode

if TYPE_CHECKING:
    from ._xlib import XLib


_xlib: XLib | None = None


def xlib() -> XLib:
    """The ctypes layer, loaded on first use: only a session on an X display pays for ctypes."""
    global _xlib
    if _xlib is None:
        from ._xlib import XLib

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
