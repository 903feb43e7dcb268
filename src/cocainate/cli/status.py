"""``cocainate status``: the inhibitors held on this machine, from the services that can
list them, with cocainate's own marked; one row per mechanism, in the order ``methods``
lists them.

What a service answers is checked before it is read: a reply whose D-Bus type is not the
one the method has is that service's one line, and the others are still listed. At most
:data:`LISTED` inhibitors of a service are shown; the calls to one service take at most
:data:`PER_SERVICE` seconds together, so a slow one is cut and the others still answer, and
the whole run at most :data:`DEADLINE`.
"""

from __future__ import annotations

import time
from typing import Any

from jeepney import DBusAddress, HeaderFields

from ..bindings import dbus as _dbus
from ..bindings.buses import Resources
from ..errors import MechanismError

_FLAGS = {1: "logout", 2: "user-switch", 4: "suspend", 8: "idle", 16: "automount"}
PER_SERVICE = 2.0
"""Seconds the calls to one service take at most, together."""
DEADLINE = 8.0
"""Seconds the whole of ``status`` takes at most (its four D-Bus services' share)."""
LISTED = 20
"""Inhibitors shown per service at most; a line says how many more there are."""

Row = tuple[str, str, str, list[str]]  # mechanism, service, what it holds, one line each


class _Asker:
    """Calls on the session's buses, each bounded by what is left of :data:`DEADLINE`."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.ends = time.monotonic() + DEADLINE
        self.service_ends = self.ends
        self.service = ""

    def begin(self, service: str) -> None:
        """The calls that follow are ``service``'s, with its own share of the time."""
        self.service = service
        self.service_ends = min(self.ends, time.monotonic() + PER_SERVICE)

    def call(
        self,
        bus: str,
        name: str,
        path: str,
        iface: str,
        method: str,
        want: str,
        argument: str | None = None,
    ) -> Any:
        """The body of ``method``'s reply, which must be of D-Bus type ``want``."""
        left = self.service_ends - time.monotonic()
        if left <= 0:
            raise MechanismError(f"{self.service} took more than its {PER_SERVICE:g} s")
        connection = self.resources.bus(bus)
        address = DBusAddress(path, name, iface)
        signature, body = ("s", (argument,)) if argument is not None else (None, ())
        timeout = min(_dbus.CALL_TIMEOUT, left)
        reply = _dbus.call_reply(connection, address, method, signature, body, timeout, name)
        got = reply.header.fields.get(HeaderFields.signature, "")
        if got != want:
            raise MechanismError(
                f"{name} answered {method} with a reply of type {got!r}, not {want!r}"
            )
        return reply.body


def report() -> list[Row]:
    from .. import mechanisms

    resources = Resources()
    try:
        ask = _Asker(resources)
        readers = {
            "screensaver": _screensaver,
            "gnome-session": _gnome,
            "power-management": _power,
            "x11": _x11,
            "wayland": _wayland,
            "logind": _logind,
        }
        rows = []
        for entry in mechanisms.entries():
            if entry.name in readers:
                ask.begin(entry.name)
                rows.append(readers[entry.name](ask))
        return rows
    finally:
        resources.close()


def _mine(who: str) -> str:
    return "  [cocainate]" if who == "cocainate" else ""


def _held(lines: list[str], count: int | None = None) -> tuple[str, list[str]]:
    """The row's summary and its lines, the latter cut to :data:`LISTED`."""
    count = len(lines) if count is None else count
    if count > LISTED:
        lines = [*lines[:LISTED], f"... and {count - LISTED} more"]
    return (f"{count} held" if count else "none held"), lines


def _logind(ask: _Asker) -> Row:
    name, service = "logind", "org.freedesktop.login1"
    try:
        (rows,) = ask.call(
            "system",
            service,
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager",
            "ListInhibitors",
            "a(ssssuu)",
        )
    except MechanismError as err:
        return name, service, _short(err, service), []
    lines = [
        f"{what} ({mode}) by {who}, pid {pid}: {why!r}{_mine(who)}"
        for what, who, why, mode, _uid, pid in rows[: LISTED + 1]
    ]
    return (name, service, *_held(lines, len(rows)))


def _gnome(ask: _Asker) -> Row:
    name, service = "gnome-session", "org.gnome.SessionManager"
    iface = "org.gnome.SessionManager.Inhibitor"
    try:
        (paths,) = ask.call(
            "session", service, "/org/gnome/SessionManager", service, "GetInhibitors", "ao"
        )
        lines = []
        for path in paths[:LISTED]:
            (app,) = ask.call("session", service, path, iface, "GetAppId", "s")
            (why,) = ask.call("session", service, path, iface, "GetReason", "s")
            (flags,) = ask.call("session", service, path, iface, "GetFlags", "u")
            blocked = "+".join(n for bit, n in _FLAGS.items() if flags & bit) or str(flags)
            lines.append(f"{blocked} by {app}: {why!r}{_mine(app)}")
    except MechanismError as err:
        return name, service, _short(err, service), []
    return (name, service, *_held(lines, len(paths)))


def _power(ask: _Asker) -> Row:
    name, service = "power-management", "org.freedesktop.PowerManagement"
    try:
        (held,) = ask.call(
            "session",
            service,
            "/org/freedesktop/PowerManagement/Inhibit",
            "org.freedesktop.PowerManagement.Inhibit",
            "HasInhibit",
            "b",
        )
    except MechanismError as err:
        return name, service, _short(err, service), []
    state = "inhibited" if held else "not inhibited"
    return name, service, f"{state} (it cannot say by whom)", []


def _screensaver(ask: _Asker) -> Row:
    name, service = "screensaver", "org.freedesktop.ScreenSaver"
    try:
        (running,) = ask.call(
            "session",
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "NameHasOwner",
            "b",
            service,
        )
    except MechanismError as err:
        return name, service, str(err), []
    return name, service, "running; it cannot list its inhibitors" if running else "not running", []


def _x11(ask: _Asker) -> Row:
    return _registered("x11", "X11 MIT-SCREEN-SAVER", "the X server lists no others")


def _wayland(ask: _Asker) -> Row:
    return _registered("wayland", "Wayland zwp_idle_inhibit", "the compositor lists no others")


def _registered(name: str, service: str, others: str) -> Row:
    """cocainate's own holds of a mechanism whose server cannot list its holders, from
    the registry that sessions holding it keep (see :mod:`..bindings.registry`)."""
    from ..bindings.registry import records

    lines = []
    for record in records():
        if name in record["holding"]:
            since = time.strftime("%H:%M:%S", time.localtime(float(record["since"])))
            lines.append(
                f"by cocainate, pid {record['pid']}, since {since}: "
                f"{str(record.get('reason'))!r} ({record.get('program')})  [cocainate]"
            )
    count = len(lines)
    held = f"{count} held by cocainate" if count else "none held by cocainate"
    return name, service, f"{held}; {others}", _held(lines)[1]


def _short(err: MechanismError, service: str) -> str:
    """ "not running" for a service that is not running; else the error."""
    return "not running" if str(err) == f"{service} is not running" else str(err)
