"""A watcher's own bus connection: the signals it listens to, calls whose replies arrive as
messages like any other (so nothing waits for a slow service), and reconnection.

Separate from the mechanisms' connections (:mod:`cocainate.bindings.buses`), which are
opened for each hold and closed with it (closing is what makes every desktop drop an
inhibit); a watcher's lives as long as the session.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from ..bindings.buses import FIRST_RETRY, LAST_RETRY, close_quietly
from ..errors import MechanismError
from ..reactor import Source

if TYPE_CHECKING:
    from jeepney import DBusAddress, MatchRule
    from jeepney.io.blocking import DBusConnection

Reply = Callable[[Any], None]  # the reply (or error) message, or None if the bus went


class BusWatch:
    """One connection to the ``kind`` bus, with match ``rules``; ``on_signal(message)`` for
    each signal, ``on_connect()`` after each (re)connection, ``on_broken()`` when it breaks."""

    def __init__(
        self,
        kind: str,
        rules: list[MatchRule],
        on_signal: Callable[[Any], None],
        on_connect: Callable[[], None],
        on_broken: Callable[[], None],
    ) -> None:
        self.kind = kind
        self._rules = rules
        self._on_signal, self._on_connect, self._on_broken = on_signal, on_connect, on_broken
        self._connection: DBusConnection | None = None
        self._pending: dict[int, Reply] = {}
        self._retry: tuple[float, float] | None = None  # (when, delay)
        self.source = _BusWatchSource(self)

    def connect(self) -> None:
        """Connect and subscribe (bounded); MechanismError saying why it cannot."""
        from jeepney import MessageFlag, message_bus

        from ..bindings import dbus

        connection = dbus.connect(self.kind)
        try:
            for rule in self._rules:
                message = message_bus.AddMatch(rule)
                message.header.flags |= MessageFlag.no_reply_expected
                connection.send(message)
        except OSError as err:
            close_quietly(connection)
            raise MechanismError(f"lost the {self.kind} bus: {err}") from err
        self._connection = connection
        self._retry = None
        self._on_connect()

    def call(
        self,
        address: DBusAddress,
        method: str,
        signature: str | None,
        body: tuple[Any, ...],
        on_reply: Reply,
        auto_start: bool = False,
    ) -> None:
        """Send a call; ``on_reply`` gets its reply when it arrives (None if the connection
        broke first). Never waits."""
        from jeepney import MessageFlag, new_method_call

        connection = self._connection
        if connection is None:
            return
        message = new_method_call(address, method, signature, body)
        if not auto_start:
            message.header.flags |= MessageFlag.no_auto_start
        serial = next(connection.outgoing_serial)
        self._pending[serial] = on_reply
        try:
            connection.send(message, serial=serial)
        except OSError:
            self._broken()

    def get(
        self,
        name: str,
        path: str,
        interface: str,
        prop: str,
        on_reply: Reply,
        auto_start: bool = False,
    ) -> None:
        """:meth:`call` org.freedesktop.DBus.Properties.Get for ``prop`` of ``interface``
        on ``name``'s object at ``path``."""
        from jeepney import DBusAddress

        address = DBusAddress(path, name, "org.freedesktop.DBus.Properties")
        self.call(address, "Get", "ss", (interface, prop), on_reply, auto_start)

    def settle(self, timeout: float) -> None:
        """Read and handle messages until every call sent has its reply, at most
        ``timeout`` seconds: for the first look, at start."""
        deadline = time.monotonic() + timeout
        while self._pending and self._connection is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._read(left)

    def service(self) -> None:
        """What the reactor calls: reconnect if it is time, else read what arrived."""
        if self._retry is not None:
            if self._retry[0] <= time.monotonic():
                self._reconnect()
            return
        self._read(0)

    def _read(self, timeout: float) -> None:
        from jeepney import HeaderFields, MessageType

        connection = self._connection
        if connection is None:
            return
        while True:
            try:
                message = connection.receive(timeout=timeout)
            except TimeoutError:
                return  # nothing more now
            except (OSError, ValueError, RuntimeError, EOFError):
                self._broken()
                return
            timeout = 0
            header = message.header
            if header.message_type == MessageType.signal:
                # only what we asked for (the bus also sends us NameAcquired, unasked)
                if any(rule.matches(message) for rule in self._rules):
                    self._on_signal(message)
                continue
            serial = header.fields.get(HeaderFields.reply_serial)
            reply = self._pending.pop(serial, None)
            if reply is not None:
                reply(message)

    def _broken(self) -> None:
        connection, self._connection = self._connection, None
        close_quietly(connection)
        pending, self._pending = self._pending, {}
        for reply in pending.values():
            reply(None)
        self._retry = (time.monotonic() + FIRST_RETRY, FIRST_RETRY)
        self._on_broken()

    def _reconnect(self) -> None:
        assert self._retry is not None
        delay = self._retry[1]
        try:
            self.connect()
        except MechanismError:
            delay = min(delay * 2, LAST_RETRY)
            self._retry = (time.monotonic() + delay, delay)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        self._pending.clear()
        self._retry = None
        close_quietly(connection)


class _BusWatchSource(Source):
    def __init__(self, watch: BusWatch) -> None:
        self._watch = watch

    def waitable(self) -> int | None:
        connection = self._watch._connection
        return None if connection is None else connection.sock.fileno()

    def when(self) -> float | None:
        retry = self._watch._retry
        return None if retry is None else retry[0]

    def fire(self) -> bool:
        self._watch.service()
        return True


def error_name(message: Any) -> str | None:
    """The D-Bus error a reply carries, or None for a method return."""
    from jeepney import HeaderFields, MessageType

    if message.header.message_type == MessageType.error:
        name: str = message.header.fields.get(HeaderFields.error_name, "an unknown error")
        return name
    return None


def sender(message: Any) -> str:
    from jeepney import HeaderFields

    name: str = message.header.fields.get(HeaderFields.sender, "")
    return name


def variant(value: Any) -> Any:
    """A variant's value (jeepney gives a variant as (signature, value))."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return value[1]
    return value
