"""``org.gnome.SessionManager``: GNOME, MATE, Cinnamon."""

from __future__ import annotations

from typing import Any

from . import Blocks, Mode
from ._bus import BusInhibitor

# GsmInhibitorFlag values from gnome-session.
INHIBIT_SUSPEND = 4
INHIBIT_IDLE = 8


class GnomeSessionManager(BusInhibitor):
    name = "gnome-session"
    title = "org.gnome.SessionManager"
    blocks = {
        Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE, Blocks.SLEEP}),
        Mode.SYSTEM: frozenset({Blocks.SLEEP}),
    }
    service = "org.gnome.SessionManager"
    paths = ("/org/gnome/SessionManager",)
    interface = "org.gnome.SessionManager"
    inhibit_signature = "susu"
    uninhibit_method = "Uninhibit"

    def inhibit_args(self, mode: Mode, reason: str) -> tuple[Any, ...]:
        flags = INHIBIT_SUSPEND | (INHIBIT_IDLE if mode is Mode.DISPLAY else 0)
        return ("cocainate", 0, reason, flags)
