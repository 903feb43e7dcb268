"""``MinBattery``: met unless this machine runs on battery below a charge, from UPower on
the system bus: the manager's ``OnBattery`` and the display device's ``Percentage`` and
``IsPresent`` (UPower's one battery that stands for all of them), each followed by
PropertiesChanged. Asked at start (UPower is started by the bus if need be), then
followed; if UPower leaves, what it said last stands until it is back.
"""

from typing import TYPE_CHECKING, Any

from ..bindings.buses import variant
from . import Watcher
from .bus import BusWatch, error_name

if TYPE_CHECKING:
    from ..reactor import Source

NAME = "org.freedesktop.UPower"
PATH = "/org/freedesktop/UPower"
DISPLAY = "/org/freedesktop/UPower/devices/DisplayDevice"
DEVICE = "org.freedesktop.UPower.Device"


class BatteryWatcher(Watcher):
    def __init__(self, percent: float) -> None:
        super().__init__()
        from ..bindings.dbus import owner_changes, property_changes

        self.percent = percent
        rules = [
            owner_changes(NAME),
            property_changes(PATH, NAME),
            property_changes(DISPLAY, DEVICE),
        ]
        self._bus = BusWatch("system", rules, self._signal, self._ask, self._left)
        self.on_battery: bool | None = None
        self.charge: float | None = None
        self.present = True
        self._problem = ""
        self.detail = "battery unknown"

    def open(self) -> "list[Source]":
        return self._bus.first_look(
            "tell the battery's charge",
            "UPower",
            lambda: self.on_battery is not None and self.charge is not None,
            lambda: self._problem,
        )

    def close(self) -> None:
        self._bus.close()

    def _ask(self) -> None:
        from jeepney import DBusAddress

        first = self.on_battery is None
        self._bus.get(NAME, PATH, NAME, "OnBattery", self._on_battery, auto_start=first)
        device = DBusAddress(DISPLAY, NAME, "org.freedesktop.DBus.Properties")
        self._bus.call(device, "GetAll", "s", (DEVICE,), self._device)

    def _failed(self, reply: "Any") -> bool:
        error = error_name(reply)
        if error is None:
            return False
        from ..bindings.dbus import NO_OWNER

        self._problem = (
            "UPower (org.freedesktop.UPower) is not running"
            if error in NO_OWNER
            else f"UPower answered with {error}"
        )
        return True

    def _on_battery(self, reply: "Any") -> None:
        if reply is not None and not self._failed(reply):
            self.on_battery = bool(variant(reply.body[0]))
            self._update()

    def _device(self, reply: "Any") -> None:
        if reply is not None and not self._failed(reply):
            self._take({key: value for key, (_sig, value) in reply.body[0].items()})

    def _take(self, props: "dict[str, Any]") -> None:
        if "Percentage" in props:
            self.charge = float(props["Percentage"])
        if "IsPresent" in props:
            self.present = bool(props["IsPresent"])
        self._update()

    def _signal(self, message: "Any") -> None:
        from jeepney import HeaderFields

        fields = message.header.fields
        if fields.get(HeaderFields.member) == "NameOwnerChanged":
            if message.body[2]:
                self._ask()
            else:
                self._left("UPower left the system bus")
            return
        _interface, changed, _invalidated = message.body
        if fields.get(HeaderFields.path) == DISPLAY:
            self._take({key: variant(value) for key, value in changed.items()})
        elif "OnBattery" in changed:
            self.on_battery = bool(variant(changed["OnBattery"]))
            self._update()

    def _left(self, why: str = "lost the system bus") -> None:
        if self.on_battery is not None:
            self.report(
                f"{why}; going by what it said last ({self.detail}) until it is back", False
            )

    def _update(self) -> None:
        if self.on_battery is None or self.charge is None:
            return
        charge = f"{self.charge:g} %"
        if not self.present:
            self.met, self.detail = True, "no battery"
        elif not self.on_battery:
            self.met, self.detail = True, f"on mains power (battery {charge})"
        else:
            self.met = self.charge >= self.percent
            below = "" if self.met else f", below {self.percent:g} %"
            self.detail = f"on battery at {charge}{below}"
