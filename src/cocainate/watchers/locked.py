"""``NotLocked``: met while this login session is not locked, from systemd-logind's
``LockedHint`` on the session's object (GNOME, KDE, and lockers run by xss-lock or
``loginctl lock-session`` set it), followed by PropertiesChanged.

The session is found once at start: ``$XDG_SESSION_ID``, else the session of this process
(GetSessionByPID), else, for a user service outside any session, the user's display
session (the User object's ``Display``). If logind leaves, the last word stands until it
is back.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import ConditionError, MechanismError
from . import Watcher
from .bus import BusWatch, error_name, variant

if TYPE_CHECKING:
    from ..reactor import Source

NAME = "org.freedesktop.login1"
PATH = "/org/freedesktop/login1"
MANAGER = "org.freedesktop.login1.Manager"
SESSION = "org.freedesktop.login1.Session"


def find_session() -> str:
    """The object path of this login session, asked of logind (bounded), or
    ConditionError saying why there is none."""
    from jeepney import DBusAddress

    from ..bindings import dbus

    try:
        connection = dbus.connect("system")
    except MechanismError as err:
        raise ConditionError(f"cannot tell whether the session is locked: {err}") from err
    manager = DBusAddress(PATH, NAME, MANAGER)
    try:
        number = os.environ.get("XDG_SESSION_ID")
        if number:
            return str(dbus.call(connection, manager, "GetSession", "s", (number,))[0])
        try:
            return str(dbus.call(connection, manager, "GetSessionByPID", "u", (os.getpid(),))[0])
        except dbus.CallError as err:
            if err.error_name in dbus.NO_OWNER:
                raise
        user = str(dbus.call(connection, manager, "GetUser", "u", (os.getuid(),))[0])
        props = DBusAddress(user, NAME, "org.freedesktop.DBus.Properties")
        display = variant(dbus.call(connection, props, "Get", "ss", (f"{NAME}.User", "Display"))[0])
        if not display or display[1] in ("", "/"):
            raise ConditionError("cannot tell whether the session is locked: no login session")
        return str(display[1])
    except dbus.CallError as err:  # its name, not its text (a service's own traceback...)
        said = (
            "logind is not running"
            if err.error_name in dbus.NO_OWNER
            else (f"logind cannot say which session is this one ({err.error_name})")
        )
        raise ConditionError(f"cannot tell whether the session is locked: {said}") from err
    except MechanismError as err:
        raise ConditionError(f"cannot tell whether the session is locked: {err}") from err
    finally:
        dbus.close_quietly(connection)


class LockedWatcher(Watcher):
    def __init__(self) -> None:
        super().__init__()
        self.path = ""
        self._bus: BusWatch | None = None
        self._known = False
        self._problem = ""
        self.detail = "lock state unknown"

    def open(self) -> list[Source]:
        from ..bindings.dbus import owner_changes, property_changes

        self.path = find_session()
        rules = [owner_changes(NAME), property_changes(self.path, SESSION)]
        self._bus = bus = BusWatch("system", rules, self._signal, self._ask, self._left)
        what = "tell whether the session is locked"
        return bus.first_look(what, "logind", lambda: self._known, lambda: self._problem)

    def close(self) -> None:
        if self._bus is not None:
            self._bus.close()

    def _ask(self) -> None:
        assert self._bus is not None
        self._bus.get(NAME, self.path, SESSION, "LockedHint", self._answer)

    def _answer(self, reply: Any) -> None:
        if reply is None:
            return
        error = error_name(reply)
        if error is not None:
            self._problem = f"logind answered with {error} for {self.path}"
            return
        self._set(bool(variant(reply.body[0])))

    def _signal(self, message: Any) -> None:
        from jeepney import HeaderFields

        if message.header.fields.get(HeaderFields.member) == "NameOwnerChanged":
            if message.body[2]:
                self._ask()
            else:
                self._left("logind left the system bus")
            return
        _interface, changed, _invalidated = message.body
        if "LockedHint" in changed:
            self._set(bool(variant(changed["LockedHint"])))

    def _left(self, why: str = "lost the system bus") -> None:
        if self._known:
            self.report(
                f"{why}; going by what it said last ({self.detail}) until it is back", False
            )

    def _set(self, locked: bool) -> None:
        self._known = True
        self.met = not locked
        self.detail = "the session is locked" if locked else "the session is unlocked"
