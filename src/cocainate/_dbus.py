"""The one adapter through which every D-Bus mechanism talks to a bus (jeepney, blocking).

Calls are plain data (service, path, interface, method, signature, body), every call has
a timeout, and every failure leaves here as a :class:`MechanismError` a person can read,
with the original chained.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from jeepney import (
    DBusAddress,
    HeaderFields,
    MessageFlag,
    MessageType,
    message_bus,
    new_method_call,
)
from jeepney.io.blocking import DBusConnection, Proxy, prep_socket
from jeepney.io.common import MessageFilters

from .errors import MechanismError
from .mechanisms import Mechanism, Mode

CONNECT_TIMEOUT = 2.0
"""Seconds to connect and authenticate to a bus, and to get the bus's Hello reply."""
CALL_TIMEOUT = 2.0
"""Seconds a service has to answer an Inhibit call."""
RELEASE_TIMEOUT = 1.0
"""Seconds a service has to answer an UnInhibit call; closing the connection drops the
inhibit anyway, so release need not wait long."""

# Errors meaning "this object or method is not here": try the next path.
_NOT_HERE = frozenset(
    {
        "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.DBus.Error.UnknownObject",
        "org.freedesktop.DBus.Error.UnknownInterface",
    }
)
_NO_OWNER = frozenset(
    {"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"}
)


class CallError(MechanismError):
    """A service answered with a D-Bus error."""

    def __init__(self, message: str, error_name: str) -> None:
        super().__init__(message)
        self.error_name = error_name


def bus_address(kind: str) -> str:
    """The address of the session or system bus, found as libdbus and sd-bus find it."""
    if kind == "system":
        return os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or "unix:path=/run/dbus/system_bus_socket"
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        return address
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    if runtime_dir and os.path.exists(os.path.join(runtime_dir, "bus")):
        return "unix:path=" + os.path.join(runtime_dir, "bus")
    raise MechanismError("no session bus: DBUS_SESSION_BUS_ADDRESS is not set")


class _Connection(DBusConnection):  # type: ignore[misc]
    """jeepney's blocking connection, with a time limit on the bus's Hello reply too."""

    def __init__(self, sock: Any, enable_fds: bool, timeout: float) -> None:
        # DBusConnection.__init__ says Hello without a time limit; do its work with one.
        super(DBusConnection, self).__init__(sock, enable_fds)
        self._filters = MessageFilters()
        self.bus_proxy = Proxy(message_bus, self, timeout=timeout)
        self.unique_name = self.bus_proxy.Hello()[0]


def connect(kind: str) -> DBusConnection:
    """Open a connection to the ``kind`` bus, or raise MechanismError saying why not."""
    from jeepney.bus import get_connectable_addresses

    address = bus_address(kind)
    try:
        path = next(get_connectable_addresses(address))
    except (RuntimeError, ValueError, StopIteration) as err:
        raise MechanismError(f"cannot use the {kind} bus address {address!r}: {err}") from err
    try:
        # Only logind, on the system bus, passes an fd; negotiating it costs a round trip.
        fds = kind == "system"
        sock = prep_socket(path, enable_fds=fds, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as err:
        raise MechanismError(
            f"cannot connect to the {kind} bus at {address}: {_reason(err)}"
        ) from err
    except Exception as err:  # jeepney's AuthenticationError and friends
        raise MechanismError(f"the {kind} bus at {address} refused us: {err}") from err
    try:
        return _Connection(sock, fds, CONNECT_TIMEOUT)
    except Exception as err:
        sock.close()
        if isinstance(err, TimeoutError):
            raise MechanismError(f"the {kind} bus at {address} did not answer") from err
        raise MechanismError(f"cannot talk to the {kind} bus at {address}: {_reason(err)}") from err


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__


def call(
    connection: DBusConnection,
    address: DBusAddress,
    method: str,
    signature: str | None = None,
    body: tuple[Any, ...] = (),
    timeout: float = CALL_TIMEOUT,
) -> tuple[Any, ...]:
    """Call ``method`` and return the reply's body; never starts a service that is not running."""
    body_out: tuple[Any, ...] = call_reply(
        connection, address, method, signature, body, timeout
    ).body
    return body_out


def call_reply(
    connection: DBusConnection,
    address: DBusAddress,
    method: str,
    signature: str | None = None,
    body: tuple[Any, ...] = (),
    timeout: float = CALL_TIMEOUT,
) -> Any:
    """:func:`call`, returning the whole reply message (its sender is the service's owner)."""
    message = new_method_call(address, method, signature, body)
    message.header.flags |= MessageFlag.no_auto_start
    where = f"{address.bus_name} {address.object_path}"
    try:
        reply = connection.send_and_get_reply(message, timeout=timeout)
    except TimeoutError as err:
        raise MechanismError(f"{where} did not answer {method} within {timeout:g} s") from err
    except (OSError, ValueError) as err:
        raise MechanismError(f"lost the bus connection calling {method}: {_reason(err)}") from err
    if reply.header.message_type == MessageType.error:
        name = reply.header.fields.get(HeaderFields.error_name, "unknown error")
        text = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
        if name in _NO_OWNER:
            raise CallError(f"{address.bus_name} is not running", name)
        raise CallError(
            f"{where} answered {method} with {name}" + (f": {text}" if text else ""), name
        )
    return reply


def name_owner(connection: DBusConnection, name: str) -> str:
    """The unique name owning ``name``, or "" if nobody does (or the bus will not say)."""
    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    try:
        owner: str = call(connection, bus, "GetNameOwner", "s", (name,))[0]
    except MechanismError:
        return ""
    return owner


def name_has_owner(connection: DBusConnection, name: str) -> bool:
    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    return bool(call(connection, bus, "NameHasOwner", "s", (name,))[0])


class BusInhibitor(Mechanism):
    """A mechanism that is a pair of calls on a bus service: Inhibit, then UnInhibit(cookie).

    Subclasses are data: which bus and service, the object paths to try in order, the
    interface and method names, and the Inhibit arguments for a mode.
    """

    bus: ClassVar[str] = "session"
    service: ClassVar[str]
    paths: ClassVar[tuple[str, ...]]
    interface: ClassVar[str]
    inhibit_method: ClassVar[str] = "Inhibit"
    inhibit_signature: ClassVar[str]
    uninhibit_method: ClassVar[str] = "UnInhibit"

    _cookie: Any = None
    _address: DBusAddress | None = None
    _owner: str | None = None  # the unique name that granted the inhibit
    _wanted: tuple[Mode, str] | None = None  # what to re-acquire with

    def inhibit_args(self, mode: Mode, reason: str) -> tuple[Any, ...]:
        raise NotImplementedError

    def probe(self) -> str | None:
        try:
            if name_has_owner(self.resources.bus(self.bus), self.service):
                return None
        except MechanismError as err:
            return str(err)
        return f"{self.service} is not running on the {self.bus} bus"

    def acquire(self, mode: Mode, reason: str) -> None:
        self._inhibit(mode, reason)
        self._wanted = (mode, reason)
        self.resources.subscribe(self.bus, self.service, self._owner_changed)

    def _owner_changed(self, owner: str | None) -> None:
        """The service's name changed hands (or the bus went): heal if it can be healed."""
        if self._wanted is None or (owner and owner == self._owner):
            return
        if self._cookie is not None:
            self._drop()
            if owner is None:
                self.report("lost", "the bus connection broke")
            elif not owner:
                self.report("lost", f"{self.service} left the bus")
            else:
                self.report("lost", f"{self.service} restarted")
        if owner:
            try:
                self._inhibit(*self._wanted)
            except MechanismError as err:
                self.report("lost", f"could not re-acquire: {err}")
                return
            self.report("reacquired", None)

    def _drop(self) -> None:
        """Forget an inhibit its service no longer has."""
        self._cookie = self._address = self._owner = None

    def _inhibit(self, mode: Mode, reason: str) -> None:
        connection = self.resources.bus(self.bus)
        args = self.inhibit_args(mode, reason)
        for path in self.paths:
            address = DBusAddress(path, self.service, self.interface)
            try:
                reply = call_reply(
                    connection, address, self.inhibit_method, self.inhibit_signature, args
                )
            except CallError as err:
                if err.error_name in _NOT_HERE:
                    continue
                raise
            self._cookie, self._address = self.take(reply.body), address
            self._owner = reply.header.fields.get(HeaderFields.sender)
            return
        paths = " or ".join(self.paths)
        raise MechanismError(
            f"{self.service} has no {self.interface}.{self.inhibit_method} at {paths}"
        )

    def take(self, reply: tuple[Any, ...]) -> Any:
        """What to keep from Inhibit's reply until release: by default, the cookie."""
        if len(reply) != 1 or not isinstance(reply[0], int) or isinstance(reply[0], bool):
            raise MechanismError(
                f"{self.service} answered Inhibit with a malformed reply {reply!r}"
            )
        return reply[0]

    def release(self) -> None:
        self._wanted = None
        cookie, self._cookie = self._cookie, None
        address, self._address = self._address, None
        if cookie is None or address is None:
            return
        try:
            connection = self.resources.bus(self.bus)
            call(connection, address, self.uninhibit_method, "u", (cookie,), RELEASE_TIMEOUT)
        except MechanismError as err:
            # Closing the connection, next, drops the inhibit on every real daemon.
            self.problems.append(f"{self.name}: release failed: {err}")
