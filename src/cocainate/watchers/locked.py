"""``NotLocked``: met while this login session is not locked. Any one of these says it is:

- systemd-logind's ``LockedHint`` on the session's object (GNOME, KDE, and lockers run by
  xss-lock or ``loginctl lock-session`` set it), followed by PropertiesChanged;
- logind's Lock signal on it (``loginctl lock-session`` asks the locker so), until its
  Unlock or an unlock said by any of these;
- the desktop's screensaver, where it says it locks: ``ActiveChanged`` of
  ``org.freedesktop.ScreenSaver`` (KDE's locker) or ``org.gnome.ScreenSaver`` (GNOME's
  shield), asked with ``GetActive`` at start.

A signal counts only from the connection that owns the service's name (learnt from the
bus), so no other client can unlock anything.

The session is found once at start: ``$XDG_SESSION_ID``, else the session of this process
(GetSessionByPID), else, for a user service outside any session, the user's display
session (the User object's ``Display``). If logind leaves, the last word stands until it
is back.
"""

import os
from functools import partial
from typing import TYPE_CHECKING, Any

from ..bindings.buses import variant
from ..errors import ConditionError, MechanismError
from . import Watcher
from .bus import BusWatch, error_name, sender

if TYPE_CHECKING:
    from ..reactor import Source

SAVERS = {
    "org.freedesktop.ScreenSaver": "/org/freedesktop/ScreenSaver",
    "org.gnome.ScreenSaver": "/org/gnome/ScreenSaver",
}
"""The screensavers that say whether they lock, by the name (and interface) they serve, and
the path GetActive is asked at."""
SAVER_LOOK = 0.5
"""Seconds the screensavers have, at start, to say whether they are active."""
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
        self._savers: BusWatch | None = None
        self._known = False
        self._problem = ""
        self._hint = False  # logind's LockedHint
        self._asked = False  # logind's Lock said, and no Unlock (nor an unlock) since
        self._logind = ""  # the unique name owning logind's: only its signals count
        self._owners: dict[str, str] = {}  # a screensaver's name -> the unique name owning it
        self._active: dict[str, bool] = {}  # a screensaver's name -> whether it is active
        self.detail = "lock state unknown"

    def open(self) -> "list[Source]":
        from jeepney import MatchRule

        from ..bindings.dbus import owner_changes, property_changes

        self.path = find_session()
        asked = MatchRule(type="signal", interface=SESSION, path=self.path)  # Lock, Unlock
        rules = [owner_changes(NAME), property_changes(self.path, SESSION), asked]
        self._bus = bus = BusWatch("system", rules, self._signal, self._ask, self._left)
        what = "tell whether the session is locked"
        sources = bus.first_look(what, "logind", lambda: self._known, lambda: self._problem)
        savers = [owner_changes(name) for name in SAVERS]
        savers += [
            MatchRule(type="signal", interface=name, member="ActiveChanged") for name in SAVERS
        ]
        self._savers = BusWatch("session", savers, self._saver_said, self._look, self._gone)
        try:
            self._savers.connect()
        except MechanismError:
            self._savers.close()  # no session bus: logind alone says
            self._savers = None
            return sources
        self._savers.collect_replies(SAVER_LOOK)
        return [*sources, self._savers.source]

    def close(self) -> None:
        for bus in (self._bus, self._savers):
            if bus is not None:
                bus.close()

    # -- the screensavers, on the session bus ---------------------------------------------

    def _look(self) -> None:
        """After each (re)connection: who serves each screensaver name, and is it active."""
        assert self._savers is not None
        self._owners.clear()
        self._active.clear()
        for name in SAVERS:
            self._savers.owner_of(name, partial(self._owned, name))

    def _owned(self, name: str, owner: str) -> None:
        from jeepney import DBusAddress

        assert self._savers is not None
        self._owners[name] = owner
        address = DBusAddress(SAVERS[name], owner, name)

        def answer(reply: "Any") -> None:
            # a screensaver that cannot say (xscreensaver-systemd serves Inhibit alone)
            # says nothing
            ok = reply is not None and error_name(reply) is None and reply.body
            if ok and self._owners.get(name) == owner:
                self._active[name] = bool(reply.body[0])
                self._update()

        self._savers.call(address, "GetActive", None, (), answer)

    def _saver_said(self, message: "Any") -> None:
        from jeepney import HeaderFields

        fields = message.header.fields
        if fields.get(HeaderFields.member) == "NameOwnerChanged":
            name, _old, new = message.body
            self._owners.pop(name, None)
            self._active.pop(name, None)
            if new:
                self._owned(name, new)
            self._update()
            return
        name = fields.get(HeaderFields.interface)
        said = message.body[0] if message.body else None
        if self._owners.get(name) == sender(message) and isinstance(said, bool):
            self._active[name] = said
            if not said:
                self._asked = False  # unlocked: a Lock asked for earlier is over
            self._update()

    def _gone(self) -> None:
        self._owners.clear()  # the session bus went: logind alone says until it is back
        self._active.clear()
        self._update()

    def _ask(self) -> None:
        assert self._bus is not None
        self._bus.owner_of(NAME, self._logind_is)
        self._bus.get(NAME, self.path, SESSION, "LockedHint", self._answer)

    def _logind_is(self, owner: str) -> None:
        self._logind = owner

    def _answer(self, reply: "Any") -> None:
        if reply is None:
            return
        error = error_name(reply)
        if error is not None:
            self._problem = f"logind answered with {error} for {self.path}"
            return
        self._set(bool(variant(reply.body[0])))

    def _signal(self, message: "Any") -> None:
        from jeepney import HeaderFields

        member = message.header.fields.get(HeaderFields.member)
        if member == "NameOwnerChanged":
            self._logind = message.body[2]
            if message.body[2]:
                self._ask()
            else:
                self._left("logind left the system bus")
            return
        if sender(message) != self._logind:
            return  # not logind's word
        if member in ("Lock", "Unlock"):  # asked of the session's locker (loginctl lock-session)
            self._asked = member == "Lock"
            self._update()
            return
        if member == "PropertiesChanged":
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
        self._hint = locked
        if not locked:
            self._asked = False  # unlocked: a Lock asked for earlier is over
        self._update()

    def _update(self) -> None:
        saying = sorted(name for name, active in self._active.items() if active)
        self.met = not (self._hint or self._asked or saying)
        if self._hint:
            self.detail = "the session is locked"
        elif self._asked:
            self.detail = "the session is being locked (logind's Lock)"
        elif saying:
            self.detail = f"the screen is locked ({', '.join(saying)})"
        else:
            self.detail = "the session is unlocked"
