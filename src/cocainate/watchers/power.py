"""``OnACPower``: met while UPower says this machine is not on battery.

UPower (``org.freedesktop.UPower`` on the system bus) announces ``OnBattery`` with
PropertiesChanged. Asked once at start (UPower is started by the bus if need be), then
followed. If UPower leaves (or the system bus breaks), the watcher says so and the last
thing UPower said stands until it is back, and is asked again then; without UPower at
start, the session cannot tell and says so.
"""

from typing import TYPE_CHECKING, Any

from ..bindings.buses import variant
from . import Watcher
from .bus import BusWatch, error_name

if TYPE_CHECKING:
    from ..reactor import Source

NAME = "org.freedesktop.UPower"
PATH = "/org/freedesktop/UPower"


class PowerWatcher(Watcher):
    def __init__(self) -> None:
        super().__init__()
        from ..bindings.dbus import owner_changes, property_changes

        rules = [owner_changes(NAME), property_changes(PATH, NAME)]
        self._bus = BusWatch("system", rules, self._signal, self._ask, self._left)
        self._known = False
        self._problem = ""
        self.detail = "power source unknown"

    def open(self) -> "list[Source]":
        return self._bus.first_look(
            "tell whether this machine is on AC power",
            "UPower",
            lambda: self._known,
            lambda: self._problem,
        )

    def close(self) -> None:
        self._bus.close()

    def _ask(self) -> None:
        self._bus.get(NAME, PATH, NAME, "OnBattery", self._answer, auto_start=not self._known)

    def _answer(self, reply: "Any") -> None:
        if reply is None:
            return
        error = error_name(reply)
        if error is not None:
            from ..bindings.dbus import NO_OWNER

            if error in NO_OWNER:
                self._problem = "UPower (org.freedesktop.UPower) is not running"
            else:
                self._problem = f"UPower answered with {error}"
            return
        self._set(bool(variant(reply.body[0])))

    def _signal(self, message: "Any") -> None:
        from jeepney import HeaderFields

        if message.header.fields.get(HeaderFields.member) == "NameOwnerChanged":
            if message.body[2]:
                self._ask()  # UPower (re)started: what does it say now?
            else:
                self._left("UPower left the system bus")
            return
        _interface, changed, _invalidated = message.body
        if "OnBattery" in changed:
            self._set(bool(variant(changed["OnBattery"])))

    def _left(self, why: str = "lost the system bus") -> None:
        if self._known:
            last = f"going by what it said last ({self.detail}) until it is back"
            self.report(f"{why}; {last}", False)

    def _set(self, on_battery: bool) -> None:
        self._known = True
        self.met = not on_battery
        self.detail = "on battery" if on_battery else "on mains power"
