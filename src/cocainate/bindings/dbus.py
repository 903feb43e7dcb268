"""The one adapter through which cocainate talks to a D-Bus bus (jeepney, blocking).

Calls are plain data (service, path, interface, method, signature, body), every call has
a timeout, and every failure leaves here as a :class:`MechanismError` a person can read,
with the original chained.
"""

import os
from typing import TYPE_CHECKING, Any

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

from ..errors import MechanismError

if TYPE_CHECKING:
    from collections.abc import Iterator

BUS = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
"""The bus itself, for its own methods: ListNames, GetNameOwner, RequestName..."""
CONNECT_TIMEOUT = 2.0
"""Seconds to connect and authenticate to a bus, and to get the bus's Hello reply."""
CALL_TIMEOUT = 2.0
"""Seconds a service has to answer an Inhibit call."""
RELEASE_TIMEOUT = 1.0
"""Seconds a service has to answer an UnInhibit call; closing the connection drops the
inhibit anyway, so release need not wait long."""
STALL_TIMEOUT = 2.0
"""Seconds one read or write on a bus connection may block, at most. Every read follows a
readiness check and every message is small, so only a stuck bus, or a broken rule (two
threads reading one connection: the one that lost the race would wait for ever), comes
near it; the read or write then fails, and the connection is treated as broken."""

# Errors meaning "this object or method is not here": try the next path.
NOT_HERE = frozenset(
    {
        "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.DBus.Error.UnknownObject",
        "org.freedesktop.DBus.Error.UnknownInterface",
    }
)
NO_OWNER = frozenset(
    {"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"}
)


class CallError(MechanismError):
    """A service answered with a D-Bus error."""

    def __init__(self, message: str, error_name: str) -> None:
        super().__init__(message)
        self.error_name = error_name


class NoAnswer(MechanismError):
    """A service did not answer in time; its answer to call ``serial`` may still come."""

    def __init__(self, message: str, serial: int) -> None:
        super().__init__(message)
        self.serial = serial


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


def address_problem(address: str) -> "str | None":
    """What is wrong with a bus address (D-Bus's ``transport:key=value,...;...``), or None.
    Only unix addresses can be used, with path= or abstract=."""
    usable = False
    for entry in address.split(";"):
        if not entry:
            continue
        transport, colon, params = entry.partition(":")
        if not colon or not transport:
            return f"{entry!r} has no 'transport:' in front (such as unix:path=/run/user/1000/bus)"
        keys = {}
        for pair in params.split(",") if params else ():
            key, equals, value = pair.partition("=")
            if not equals or not key:
                return f"{pair!r} in {entry!r} is not key=value"
            keys[key] = value
        if transport == "unix" and ("path" in keys or "abstract" in keys):
            usable = True
        elif transport == "unix":
            return f"{entry!r} names no socket (a unix address needs path= or abstract=)"
    if not usable:
        return "it names no unix socket (only unix:path= and unix:abstract= can be used)"
    return None


class _Connection(DBusConnection):  # type: ignore[misc]
    """jeepney's blocking connection, with a time limit on the bus's Hello reply too."""

    def __init__(self, sock: "Any", enable_fds: bool, timeout: float) -> None:
        # DBusConnection.__init__ says Hello without a time limit; do its work with one.
        super(DBusConnection, self).__init__(sock, enable_fds)
        self._filters = MessageFilters()
        self.bus_proxy = Proxy(message_bus, self, timeout=timeout)
        self.unique_name = self.bus_proxy.Hello()[0]


def connect(kind: str) -> "DBusConnection":
    """Open a connection to the ``kind`` bus, or raise MechanismError saying why not."""
    from jeepney.bus import get_connectable_addresses

    address = bus_address(kind)
    problem = address_problem(address)
    if problem is not None:
        raise MechanismError(f"cannot use the {kind} bus address {address!r}: {problem}")
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
    sock.settimeout(STALL_TIMEOUT)  # jeepney leaves it blocking for ever
    try:
        return _Connection(sock, fds, CONNECT_TIMEOUT)
    except Exception as err:
        sock.close()
        if isinstance(err, TimeoutError):
            raise MechanismError(f"the {kind} bus at {address} did not answer") from err
        raise MechanismError(f"cannot talk to the {kind} bus at {address}: {_reason(err)}") from err


def _reason(err: "BaseException") -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__


def call(
    connection: "DBusConnection",
    address: "DBusAddress",
    method: str,
    signature: "str | None" = None,
    body: "tuple[Any, ...]" = (),
    timeout: float = CALL_TIMEOUT,
    label: "str | None" = None,
) -> "tuple[Any, ...]":
    """Call ``method`` and return the reply's body; never starts a service that is not
    running. ``label`` names the service in errors (when ``address`` names a process)."""
    body_out: tuple[Any, ...] = call_reply(
        connection, address, method, signature, body, timeout, label
    ).body
    return body_out


def call_reply(
    connection: "DBusConnection",
    address: "DBusAddress",
    method: str,
    signature: "str | None" = None,
    body: "tuple[Any, ...]" = (),
    timeout: float = CALL_TIMEOUT,
    label: "str | None" = None,
) -> "Any":
    """:func:`call`, returning the whole reply message (its sender is the service's owner)."""
    return Pending(Prepared(connection, address, method, signature, body), timeout, label).reply()


class Prepared:
    """A call built and numbered, to be sent by :class:`Pending` in one write; it may be
    built ahead of time: a release's UnInhibit is made when the inhibit is granted, so
    that letting go does nothing but write it."""

    def __init__(
        self,
        connection: "DBusConnection",
        address: "DBusAddress",
        method: str,
        signature: "str | None" = None,
        body: "tuple[Any, ...]" = (),
        auto_start: bool = False,
    ) -> None:
        message = new_method_call(address, method, signature, body)
        if not auto_start:
            message.header.flags |= MessageFlag.no_auto_start
        self.connection, self.address, self.method = connection, address, method
        self.serial: int = next(connection.outgoing_serial)
        self.data: bytes = message.serialise(serial=self.serial)


class Pending:
    """A call sent and not yet answered: several may be sent on one connection and their
    replies read after (a release's UnInhibits, say), each within its own time from when
    it was sent. What arrives for another pending call is kept for it; anything else goes
    to the connection's filters, as jeepney does."""

    def __init__(
        self, call: "Prepared", timeout: float = CALL_TIMEOUT, label: "str | None" = None
    ) -> None:
        """Send ``call``; ``label`` names the service in errors (when the call's address
        names a process)."""
        import time

        connection = self.connection = call.connection
        self.method, self.timeout = call.method, timeout
        self.name = label or call.address.bus_name
        self.where = f"{self.name} {call.address.object_path}"
        self.serial = call.serial
        self._early = _early(connection)
        self._early[self.serial] = None  # awaited
        self.deadline = time.monotonic() + timeout
        try:
            connection.sock.sendall(call.data)
        except (OSError, ValueError) as err:
            self._early.pop(self.serial, None)
            lost = f"lost the bus connection calling {call.method}: {_reason(err)}"
            raise MechanismError(lost) from err

    def reply(self) -> "Any":
        """The reply, or CallError (the service answered with an error), NoAnswer (not in
        time) or MechanismError (the connection broke)."""
        try:
            reply = self._read()
        except TimeoutError as err:
            message = f"{self.where} did not answer {self.method} within {self.timeout:g} s"
            raise NoAnswer(message, self.serial) from err
        except (OSError, ValueError) as err:
            raise MechanismError(
                f"lost the bus connection calling {self.method}: {_reason(err)}"
            ) from err
        finally:
            self._early.pop(self.serial, None)
        if reply.header.message_type == MessageType.error:
            error = reply.header.fields.get(HeaderFields.error_name, "unknown error")
            text = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
            if error in NO_OWNER:
                raise CallError(f"{self.name} is not running", error)
            said = f"{self.where} answered {self.method} with {error}"
            raise CallError(said + (f": {text}" if text else ""), error)
        return reply

    def _read(self) -> "Any":
        import time

        early, connection = self._early, self.connection
        while True:
            found = early.get(self.serial)
            if found is not None:
                return found
            left = self.deadline - time.monotonic()
            message = connection.receive(timeout=max(0.0, left))
            serial = message.header.fields.get(HeaderFields.reply_serial)
            if serial == self.serial:
                hand_on_the_rest(connection)
                return message
            hand_on(connection, message)


def hand_on_the_rest(connection: "DBusConnection") -> None:
    """Hand on what has arrived behind a reply: what the read that brought the reply took
    from the socket with it waits in jeepney's buffer, where no wake-up would find it.
    Never blocks; a broken connection is left for the next read to find."""
    try:
        for message in arrived(connection):
            hand_on(connection, message)
    except (OSError, EOFError, ValueError):
        pass


def hand_on(connection: "DBusConnection", message: "Any") -> None:
    """Hand a message read while waiting for something else to whoever awaits it: a
    pending call's reply to it, anything else to the connection's filters."""
    early = _early(connection)
    serial = message.header.fields.get(HeaderFields.reply_serial)
    if serial in early:  # another pending call's: kept for it
        early[serial] = message
        return
    for matched in connection._filters.matches(message):
        matched.queue.append(message)


def wait_for(connection: "DBusConnection", wanted: "Any", timeout: float) -> "Any":
    """Read until a message ``wanted(message)`` is true of arrives, handing on every other
    (and that one too); it, or None after ``timeout`` seconds. One handed on already (read
    behind a reply) and still in a filter's queue counts. MechanismError if the connection
    breaks."""
    import time

    queues = {id(f.queue): f.queue for f in connection._filters.filters.values()}
    for queue in queues.values():  # handed on already, behind an earlier reply
        for message in queue:
            if wanted(message):
                return message
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            message = connection.receive(timeout=left)
        except TimeoutError:
            return None
        except (OSError, ValueError) as err:
            raise MechanismError(f"lost the bus connection: {_reason(err)}") from err
        hand_on(connection, message)
        if wanted(message):
            hand_on_the_rest(connection)
            return message


def _early(connection: "DBusConnection") -> "dict[int, Any]":
    """The connection's replies that came for a pending call before it was read (None:
    awaited, nothing yet)."""
    early: dict[int, Any] | None = getattr(connection, "cocainate_early", None)
    if early is None:
        early = {}
        connection.cocainate_early = early
    return early


def owner_changes(name: "str | None" = None, namespace: bool = False) -> "Any":
    """The match rule for NameOwnerChanged: of ``name`` (every name under it, with
    ``namespace``), or of every name."""
    from jeepney import MatchRule

    rule = MatchRule(
        type="signal",
        sender="org.freedesktop.DBus",
        interface="org.freedesktop.DBus",
        member="NameOwnerChanged",
    )
    if name is not None:
        rule.add_arg_condition(0, name, kind="namespace" if namespace else "string")
    return rule


def property_changes(path: str, interface: str) -> "Any":
    """The match rule for PropertiesChanged of ``interface`` at ``path``."""
    from jeepney import MatchRule

    rule = MatchRule(
        type="signal",
        interface="org.freedesktop.DBus.Properties",
        member="PropertiesChanged",
        path=path,
    )
    rule.add_arg_condition(0, interface)
    return rule


def name_owner(connection: "DBusConnection", name: str) -> str:
    """The unique name owning ``name``, or "" if nobody does (or the bus will not say)."""
    try:
        owner: str = call(connection, BUS, "GetNameOwner", "s", (name,))[0]
    except MechanismError:
        return ""
    return owner


def name_has_owner(connection: "DBusConnection", name: str) -> bool:
    return bool(call(connection, BUS, "NameHasOwner", "s", (name,))[0])


def close_quietly(connection: "Any") -> None:
    """Close ``connection`` (None: nothing); never raises."""
    try:
        if connection is not None:
            connection.close()
    except OSError:
        pass


def arrived(connection: "Any") -> "Iterator[Any]":
    """The messages that have arrived on ``connection``, read without blocking (OSError,
    EOFError or ValueError when it broke)."""
    while True:
        try:
            yield connection.receive(timeout=0)
        except TimeoutError:
            return  # all read


SEND_TIMEOUT = 1.0
"""Seconds a served object's write (a reply, a signal) may take; a bus that takes longer
is treated as gone."""


def send_within(connection: "Any", message: "Any", timeout: float = SEND_TIMEOUT) -> bool:
    """Send ``message`` without blocking longer than ``timeout``; False when the connection
    is gone, broken or stuck (what sent it then closes it, or lets its loop find out)."""
    if connection is None:
        return False
    try:
        connection.sock.settimeout(timeout)
        try:
            connection.send(message)
        finally:
            connection.sock.settimeout(STALL_TIMEOUT)
    except (OSError, ValueError):
        return False
    return True


def reply_to(
    connection: "Any", call: "Any", signature: "str | None" = None, body: "tuple[Any, ...]" = ()
) -> bool:
    """Answer a method ``call`` served on ``connection`` (:func:`send_within`)."""
    from jeepney import new_method_return

    return send_within(connection, new_method_return(call, signature, body))


def error_to(connection: "Any", call: "Any", name: str, text: str) -> bool:
    """Answer a method ``call`` with the D-Bus error ``name`` saying ``text``."""
    from jeepney import new_error

    return send_within(connection, new_error(call, name, "s", (text,)))
