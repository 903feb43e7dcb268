"""``org.gnome.SessionManager``: GNOME, MATE, Cinnamon.

Display mode sets the idle flag alone: the session never goes idle, so neither the screen
nor the idle suspend that follows it comes, while the desktop's Suspend still works. The
suspend flag makes gnome-session take a logind sleep lock of its own, which blocks every
suspend a person asks for (GNOME Caffeine's bug: its issues #353, #367 and #388); system
mode sets it, as that mode means to.
"""

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
        Mode.SYSTEM: frozenset({Blocks.SLEEP, Blocks.SUSPEND}),
    }
    service = "org.gnome.SessionManager"
    paths = ("/org/gnome/SessionManager",)
    interface = "org.gnome.SessionManager"
    inhibit_signature = "susu"
    uninhibit_method = "Uninhibit"

    def inhibit_args(self, mode: Mode, reason: str) -> tuple[Any, ...]:
        return ("cocainate", 0, reason, INHIBIT_IDLE if mode is Mode.DISPLAY else INHIBIT_SUSPEND)
