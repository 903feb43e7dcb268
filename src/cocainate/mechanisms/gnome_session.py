"""``org.gnome.SessionManager``: GNOME, MATE, Cinnamon.

Display mode sets the idle flag alone: the session never goes idle, so neither the screen
nor the idle suspend that follows it comes, while the desktop's Suspend still works. The
suspend flag makes gnome-session take a logind sleep lock of its own, which blocks every
suspend a person asks for (GNOME Caffeine's bug: its issues #353, #367 and #388); system
mode sets it, as that mode means to.
"""

from typing import TYPE_CHECKING, Any

from ..errors import MechanismError
from . import Blocks, Mode
from ._bus import BusInhibitor

if TYPE_CHECKING:
    from ..bindings.listing import Asker, Listing

# GsmInhibitorFlag values from gnome-session.
INHIBIT_SUSPEND = 4
INHIBIT_IDLE = 8
FLAGS = {1: "logout", 2: "user-switch", 4: "suspend", 8: "idle", 16: "automount"}


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

    @classmethod
    def inhibitors(cls, ask: "Asker") -> "Listing":
        from ..bindings.listing import LISTED, held, mine, not_running

        service, each = cls.service, "org.gnome.SessionManager.Inhibitor"
        try:
            (paths,) = ask.call("session", service, cls.paths[0], service, "GetInhibitors", "ao")
            lines = []
            for path in paths[:LISTED]:
                (app,) = ask.call("session", service, path, each, "GetAppId", "s")
                (why,) = ask.call("session", service, path, each, "GetReason", "s")
                (flags,) = ask.call("session", service, path, each, "GetFlags", "u")
                blocked = "+".join(n for bit, n in FLAGS.items() if flags & bit) or str(flags)
                lines.append(f"{blocked} by {app}: {why!r}{mine(app)}")
        except MechanismError as err:
            return not_running(err, service)
        return held(lines, len(paths))

    def inhibit_args(self, mode: "Mode", reason: str) -> "tuple[Any, ...]":
        return ("cocainate", 0, reason, INHIBIT_IDLE if mode is Mode.DISPLAY else INHIBIT_SUSPEND)
