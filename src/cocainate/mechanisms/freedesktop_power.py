"""``org.freedesktop.PowerManagement``: older KDE, Xfce's and other power managers."""

from typing import TYPE_CHECKING, Any

from ..errors import MechanismError
from . import Blocks, Mode
from ._bus import BusInhibitor

if TYPE_CHECKING:
    from ..bindings.listing import Asker, Listing

_SLEEP = frozenset({Blocks.SLEEP})


class FreedesktopPowerManagement(BusInhibitor):
    name = "power-management"
    title = "org.freedesktop.PowerManagement"
    blocks = {Mode.DISPLAY: _SLEEP, Mode.SYSTEM: _SLEEP}
    service = "org.freedesktop.PowerManagement"
    paths = ("/org/freedesktop/PowerManagement/Inhibit",)
    interface = "org.freedesktop.PowerManagement.Inhibit"
    inhibit_signature = "ss"

    @classmethod
    def inhibitors(cls, ask: "Asker") -> "Listing":
        from ..bindings.listing import not_running

        try:
            (held,) = ask.call(
                "session", cls.service, cls.paths[0], cls.interface, "HasInhibit", "b"
            )
        except MechanismError as err:
            return not_running(err, cls.service)
        return f"{'inhibited' if held else 'not inhibited'} (it cannot say by whom)", []

    def inhibit_args(self, mode: "Mode", reason: str) -> "tuple[Any, ...]":
        return ("cocainate", reason)
