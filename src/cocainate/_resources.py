"""What a session's mechanisms share, owned by the session and closed once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import MechanismError

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection


class Resources:
    """Bus connections shared by the mechanisms of one session.

    A connection is opened on first use and kept until :meth:`close`: desktops drop a
    session-bus inhibit when its connection closes, so the connection must live as long as
    the inhibit. A failure to connect is remembered, so every mechanism on that bus reports
    the same reason without trying again.
    """

    def __init__(self) -> None:
        self._buses: dict[str, DBusConnection | MechanismError] = {}
        self.closed = False

    def bus(self, kind: str) -> DBusConnection:
        """The connection to the ``"session"`` or ``"system"`` bus."""
        if self.closed:
            raise MechanismError("the session has already been released")
        found = self._buses.get(kind)
        if found is None:
            from . import _dbus

            try:
                found = _dbus.connect(kind)
            except MechanismError as err:
                found = err
            self._buses[kind] = found
        if isinstance(found, MechanismError):
            raise found
        return found

    def close(self) -> None:
        """Close every connection. Idempotent, never raises."""
        self.closed = True
        buses, self._buses = self._buses, {}
        for found in buses.values():
            if not isinstance(found, MechanismError):
                _close_quietly(found)


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except OSError:
        pass
