"""``cocainate status``: the inhibitors held on this machine, from the services that can
list them, with cocainate's own marked; one row per mechanism, in the order ``methods``
lists them."""

from __future__ import annotations

import time
from typing import Any

from jeepney import DBusAddress

from ..bindings import dbus as _dbus
from ..bindings.buses import Resources
from ..errors import MechanismError

_FLAGS = {1: "logout", 2: "user-switch", 4: "suspend", 8: "idle", 16: "automount"}

Row = tuple[str, str, str, list[str]]  # mechanism, service, what it holds, one line each


def report() -> list[Row]:
    from .. import mechanisms

    resources = Resources()
    try:
        readers = {
            "screensaver": _screensaver,
            "gnome-session": _gnome,
            "power-management": _power,
            "x11": _x11,
            "wayland": _wayland,
            "logind": _logind,
        }
        return [readers[e.name](resources) for e in mechanisms.entries() if e.name in readers]
    finally:
        resources.close()


def _call(resources: Resources, bus: str, name: str, path: str, iface: str, method: str) -> Any:
    address = DBusAddress(path, name, iface)
    return _dbus.call(resources.bus(bus), address, method)


def _mine(who: str) -> str:
    return "  [cocainate]" if who == "cocainate" else ""


def _held(lines: list[str]) -> str:
    return f"{len(lines)} held" if lines else "none held"


def _logind(resources: Resources) -> Row:
    name, service = "logind", "org.freedesktop.login1"
    try:
        (rows,) = _call(
            resources,
            "system",
            service,
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager",
            "ListInhibitors",
        )
    except MechanismError as err:
        return name, service, str(err), []
    lines = [
        f"{what} ({mode}) by {who}, pid {pid}: {why!r}{_mine(who)}"
        for what, who, why, mode, _uid, pid in rows
    ]
    return name, service, _held(lines), lines


def _gnome(resources: Resources) -> Row:
    name, service = "gnome-session", "org.gnome.SessionManager"
    iface = "org.gnome.SessionManager.Inhibitor"
    try:
        (paths,) = _call(
            resources, "session", service, "/org/gnome/SessionManager", service, "GetInhibitors"
        )
        lines = []
        for path in paths:
            (app,) = _call(resources, "session", service, path, iface, "GetAppId")
            (why,) = _call(resources, "session", service, path, iface, "GetReason")
            (flags,) = _call(resources, "session", service, path, iface, "GetFlags")
            blocked = "+".join(n for bit, n in _FLAGS.items() if flags & bit) or str(flags)
            lines.append(f"{blocked} by {app}: {why!r}{_mine(app)}")
    except MechanismError as err:
        return name, service, _short(err, service), []
    return name, service, _held(lines), lines


def _power(resources: Resources) -> Row:
    name, service = "power-management", "org.freedesktop.PowerManagement"
    try:
        (held,) = _call(
            resources,
            "session",
            service,
            "/org/freedesktop/PowerManagement/Inhibit",
            "org.freedesktop.PowerManagement.Inhibit",
            "HasInhibit",
        )
    except MechanismError as err:
        return name, service, _short(err, service), []
    state = "inhibited" if held else "not inhibited"
    return name, service, f"{state} (it cannot say by whom)", []


def _screensaver(resources: Resources) -> Row:
    name, service = "screensaver", "org.freedesktop.ScreenSaver"
    try:
        running = _dbus.name_has_owner(resources.bus("session"), service)
    except MechanismError as err:
        return name, service, str(err), []
    return name, service, "running; it cannot list its inhibitors" if running else "not running", []


def _x11(resources: Resources) -> Row:
    return _registered("x11", "X11 MIT-SCREEN-SAVER", "the X server lists no others")


def _wayland(resources: Resources) -> Row:
    return _registered("wayland", "Wayland zwp_idle_inhibit", "the compositor lists no others")


def _registered(name: str, service: str, others: str) -> Row:
    """cocainate's own holds of a mechanism whose server cannot list its holders, from
    the registry that sessions holding it keep (see :mod:`..bindings.registry`)."""
    from ..bindings.registry import records

    lines = []
    for record in records():
        if name in record.get("holding", ()):
            since = time.strftime("%H:%M:%S", time.localtime(float(record.get("since", 0))))
            lines.append(
                f"by cocainate, pid {record.get('pid')}, since {since}: "
                f"{str(record.get('reason'))!r} ({record.get('program')})  [cocainate]"
            )
    held = f"{len(lines)} held by cocainate" if lines else "none held by cocainate"
    return name, service, f"{held}; {others}", lines


def _short(err: MechanismError, service: str) -> str:
    """ "not running" for a service that is not running; else the error."""
    return "not running" if str(err) == f"{service} is not running" else str(err)
