"""``org.freedesktop.ScreenSaver``: KDE, Xfce, LXQt, xscreensaver, light-locker, ..."""

from typing import Any

from . import Blocks, Mode
from ._bus import BusInhibitor


class FreedesktopScreenSaver(BusInhibitor):
    name = "screensaver"
    title = "org.freedesktop.ScreenSaver"
    blocks = {Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE})}
    service = "org.freedesktop.ScreenSaver"
    # Daemons serve it at the first path, the second, or both.
    paths = ("/org/freedesktop/ScreenSaver", "/ScreenSaver")
    interface = "org.freedesktop.ScreenSaver"
    inhibit_signature = "ss"

    def inhibit_args(self, mode: "Mode", reason: str) -> "tuple[Any, ...]":
        return ("cocainate", reason)
