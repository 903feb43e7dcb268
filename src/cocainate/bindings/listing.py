"""What ``cocainate status`` asks the services, and how it says what they hold.

Each mechanism lists the inhibitors held through it (``Mechanism.inhibitors``) with an
:class:`Asker`, which bounds every call by what is left of that service's share of the
time and of the whole run's, and checks each reply's D-Bus type before it is read: a
reply of another shape is that service's one line, never a traceback.
"""

import time
from typing import TYPE_CHECKING, Any

from ..errors import MechanismError

if TYPE_CHECKING:
    from .buses import Resources

LISTED = 20
"""Inhibitors shown per service at most; a line says how many more there are."""

Listing = tuple[str, list[str]]  # what holds, in a few words; then a line each


def held(lines: "list[str]", count: "int | None" = None) -> "Listing":
    """A listing of ``count`` inhibitors (default: one a line), cut to :data:`LISTED`."""
    count = len(lines) if count is None else count
    if count > LISTED:
        lines = [*lines[:LISTED], f"... and {count - LISTED} more"]
    return (f"{count} held" if count else "none held"), lines


def mine(who: str) -> str:
    """The mark on a line that is cocainate's own."""
    return "  [cocainate]" if who == "cocainate" else ""


def own_holds(name: str, others: str) -> "Listing":
    """cocainate's own holds of mechanism ``name``, whose server cannot list its holders,
    from the registry that sessions holding it keep (:mod:`.registry`)."""
    from .registry import records

    lines = []
    for record in records():
        if name in record["holding"]:
            since = time.strftime("%H:%M:%S", time.localtime(float(record["since"])))
            lines.append(
                f"by cocainate, pid {record['pid']}, since {since}: "
                f"{str(record.get('reason'))!r} ({record.get('program')})  [cocainate]"
            )
    count = len(lines)
    words = f"{count} held by cocainate" if count else "none held by cocainate"
    return f"{words}; {others}", held(lines)[1]


def not_running(err: "MechanismError", service: str) -> "Listing":
    """ "not running" for a service that is not running; else the error."""
    return ("not running" if str(err) == f"{service} is not running" else str(err)), []


class Asker:
    """Calls for ``cocainate status``: each bounded by what is left of its service's share
    of the time (:meth:`begin`) and of the whole run's, and each reply's D-Bus type checked
    before it is read."""

    def __init__(self, resources: "Resources", deadline: float, per_service: float) -> None:
        self.resources = resources
        self.per_service = per_service
        self.ends = time.monotonic() + deadline
        self.service_ends = self.ends
        self.service = ""

    def begin(self, service: str) -> None:
        """The calls that follow are ``service``'s, with its own share of the time."""
        self.service = service
        self.service_ends = min(self.ends, time.monotonic() + self.per_service)

    def call(
        self,
        bus: str,
        name: str,
        path: str,
        iface: str,
        method: str,
        want: str,
        argument: "str | None" = None,
    ) -> "Any":
        """The body of ``method``'s reply, which must be of D-Bus type ``want``."""
        from jeepney import DBusAddress, HeaderFields  # D-Bus only where there is one

        from .dbus import CALL_TIMEOUT, call_reply

        left = self.service_ends - time.monotonic()
        if left <= 0:
            raise MechanismError(f"{self.service} took more than its {self.per_service:g} s")
        connection = self.resources.bus(bus)
        address = DBusAddress(path, name, iface)
        signature, body = ("s", (argument,)) if argument is not None else (None, ())
        timeout = min(CALL_TIMEOUT, left)
        reply = call_reply(connection, address, method, signature, body, timeout, name)
        got = reply.header.fields.get(HeaderFields.signature, "")
        if got != want:
            raise MechanismError(
                f"{name} answered {method} with a reply of type {got!r}, not {want!r}"
            )
        return reply.body
