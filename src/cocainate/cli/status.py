"""``cocainate status``: the inhibitors held on this machine, from the services that can
list them, with cocainate's own marked."""

from __future__ import annotations

from typing import Any

from jeepney import DBusAddress

from ..bindings import dbus as _dbus
from ..bindings.buses import Resources
from ..errors import MechanismError

_FLAGS = {1: "logout", 2: "user-switch", 4: "suspend", 8: "idle", 16: "automount"}


def report() -> list[str]:
    resources = Resources()
    try:
        return [*_logind(resources), *_gnome(resources), *_power(resources), *_screensaver()]
    finally:
        resources.close()


def _call(resources: Resources, bus: str, name: str, path: str, iface: str, method: str) -> Any:
    address = DBusAddress(path, name, iface)
    return _dbus.call(resources.bus(bus), address, method)


def _mine(who: str) -> str:
    return "  [cocainate]" if who == "cocainate" else ""


def _logind(resources: Resources) -> list[str]:
    head = "logind (org.freedesktop.login1):"
    try:
        (rows,) = _call(
            resources,
            "system",
            "org.freedesktop.login1",
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager",
            "ListInhibitors",
        )
    except MechanismError as err:
        return [f"{head} {err}"]
    lines = [
        f"  {what} ({mode}) by {who}, pid {pid}: {why!r}{_mine(who)}"
        for what, who, why, mode, _uid, pid in rows
    ]
    return [f"{head} {len(lines)} held", *lines]


def _gnome(resources: Resources) -> list[str]:
    head = "gnome-session (org.gnome.SessionManager):"
    service, iface = "org.gnome.SessionManager", "org.gnome.SessionManager.Inhibitor"
    try:
        (paths,) = _call(
            resources, "session", service, "/org/gnome/SessionManager", service, "GetInhibitors"
        )
        lines = []
        for path in paths:
            (app,) = _call(resources, "session", service, path, iface, "GetAppId")
            (why,) = _call(resources, "session", service, path, iface, "GetReason")
            (flags,) = _call(resources, "session", service, path, iface, "GetFlags")
            blocked = "+".join(name for bit, name in _FLAGS.items() if flags & bit) or str(flags)
            lines.append(f"  {blocked} by {app}: {why!r}{_mine(app)}")
    except MechanismError as err:
        return [f"{head} {err}"]
    return [f"{head} {len(lines)} held", *lines]


def _power(resources: Resources) -> list[str]:
    head = "power-management (org.freedesktop.PowerManagement):"
    try:
        (held,) = _call(
            resources,
            "session",
            "org.freedesktop.PowerManagement",
            "/org/freedesktop/PowerManagement/Inhibit",
            "org.freedesktop.PowerManagement.Inhibit",
            "HasInhibit",
        )
    except MechanismError as err:
        return [f"{head} {err}"]
    state = "inhibited" if held else "not inhibited"
    return [f"{head} {state} (the interface cannot list who holds it)"]


def _screensaver() -> list[str]:
    return ["screensaver (org.freedesktop.ScreenSaver): the interface cannot list its inhibitors"]
