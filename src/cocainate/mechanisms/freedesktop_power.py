"""``org.freedesktop.PowerManagement``: older KDE, Xfce's and other power managers."""

from __future__ import annotations

from typing import Any

from . import Blocks, Mode
from ._bus import BusInhibitor

_SLEEP = frozenset({Blocks.SLEEP})


class FreedesktopPowerManagement(BusInhibitor):
    name = "power-management"
    title = "org.freedesktop.PowerManagement"
    blocks = {Mode.DISPLAY: _SLEEP, Mode.SYSTEM: _SLEEP}
    service = "org.freedesktop.PowerManagement"
    paths = ("/org/freedesktop/PowerManagement/Inhibit",)
    interface = "org.freedesktop.PowerManagement.Inhibit"
    inhibit_signature = "ss"

    def inhibit_args(self, mode: Mode, reason: str) -> tuple[Any, ...]:
        return ("cocainate", reason)
