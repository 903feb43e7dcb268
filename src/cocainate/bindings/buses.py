"""Connections to the D-Bus buses that a session keeps: :class:`Link`, one connection that
is made again when it breaks, and :class:`Resources`, a hold's links and the watch on its
services' names that lets mechanisms heal.

A :class:`Link` routes every message without waiting: a reply to the callback its call
named (:meth:`Link.expect`; ``None`` if the connection breaks first), also a reply that
comes long after anybody waited for it (a late grant), and a signal to the subscribers of
the rules it matches. It runs timers (:meth:`Link.later`), and when the connection breaks
it tells its subscribers and connects again with backoff (0.25 s doubling to 8 s). The
session's reactor watches :meth:`Link.fd` and wakes at :meth:`Link.due` to call
:meth:`Link.service`. Messages read meanwhile by a blocking call on the same connection
(`bindings.dbus.call`) reach it through jeepney's filters. The mechanisms' links live as
long as their hold (closing them drops, on every real daemon, whatever a failed UnInhibit
left); a watcher's lives as long as the session (:mod:`cocainate.watchers.bus`).

A hold that let go cleanly gives its connections back instead of closing them, for the
next hold of the process (:mod:`cocainate.bindings.idle`).

A hold's :class:`Resources` opens a link per bus on first use and remembers a failure to
connect, so every mechanism on that bus reports the same reason without trying again.
Mechanisms :meth:`~Resources.subscribe` to their service's name: the bus tells of a new
owner with NameOwnerChanged, and subscribers hear the last owner of each name in what
arrived together (of a service that restarted five times meanwhile, only the instance that
runs now matters); ``None`` when the connection broke, and once it is back, the owner then.
"""

import sys
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from ..errors import MechanismError

if TYPE_CHECKING:
    from jeepney import MatchRule
    from jeepney.io.blocking import DBusConnection

OwnerCallback = Callable[[Any], None]  # the new owner: a unique name, "" (gone), None (bus gone)
ReplyCallback = Callable[[Any], None]  # the reply or error message; None: the connection broke
FIRST_RETRY, LAST_RETRY = 0.25, 8.0
"""Seconds before reconnecting a broken connection: doubling from the first to the last."""


def variant(value: "Any") -> "Any":
    """A variant's value (jeepney gives a variant as (signature, value))."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return value[1]
    return value


class Link:
    """One connection to the ``kind`` bus ("session" or "system"), made by :meth:`open`."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.connection: DBusConnection | None = None
        self._rules: list[tuple[MatchRule, Callable[[Any], None]]] = []
        self._replies: dict[int, ReplyCallback] = {}
        self._timers: dict[object, tuple[float, Callable[[], None]]] = {}
        self._retry: tuple[float, float] | None = None  # (when, delay) after a break
        self._queue: deque[Any] = deque()
        self._filters: list[Any] = []
        self._matched: set[str] = set()  # every rule the bus has for this connection
        self.on_connect: list[Callable[[], None]] = []
        """Called after each (re)connection, once the rules are subscribed."""
        self.on_broken: list[Callable[[], None]] = []
        """Called when the connection breaks, after every awaited reply heard None."""
        self.after_batch: list[Callable[[], None]] = []
        """Called after the messages read together have been routed."""
        self.closed = False

    def open(self) -> "DBusConnection":
        """The connection, made now if need be (bounded); MechanismError saying why not."""
        if self.closed:
            raise MechanismError("the session has already been released")
        if self._retry is not None:
            raise MechanismError(f"the {self.kind} bus connection broke; reconnecting")
        if self.connection is None:
            from jeepney import MatchRule

            from . import dbus

            # Nothing is idle before the first give_back, which imports the module.
            idle = sys.modules.get(f"{__package__}.idle")
            taken = idle.take_back(self.kind) if idle is not None else None
            connection, self._matched = taken or (dbus.connect(self.kind), set())
            for kind in ("signal", "method_return", "error"):
                self._filters.append(connection.filter(MatchRule(type=kind), queue=self._queue))
            try:
                for rule, _callback in self._rules:
                    self._add_match(connection, rule)
            except OSError as err:
                dbus.close_quietly(connection)
                raise MechanismError(f"lost the {self.kind} bus: {err}") from err
            self.connection = connection
            for hook in list(self.on_connect):
                hook()
        return self.connection

    def subscribe(self, rule: "MatchRule", callback: "Callable[[Any], None]") -> None:
        """Call ``callback(message)`` for each signal that matches ``rule`` (the match is
        sent to the bus now if connected, else at each connection)."""
        self._rules.append((rule, callback))
        if self.connection is not None:
            try:
                self._add_match(self.connection, rule)
            except OSError:
                self._broken()

    def _add_match(self, connection: "Any", rule: "MatchRule") -> None:
        text = rule.serialise()
        if text not in self._matched:
            _add_match(connection, rule)
            self._matched.add(text)

    def unsubscribe(self, callback: "Callable[[Any], None]") -> None:
        """Stop calling ``callback`` (the bus's match stays until the connection closes)."""
        self._rules = [(r, c) for r, c in self._rules if c != callback]

    # -- calls that never wait ------------------------------------------------------------

    def send(self, message: "Any") -> int:
        """Send a call without waiting for its reply (:meth:`expect` it); its serial, or
        MechanismError if it cannot be sent."""
        connection = self.open()
        serial: int = next(connection.outgoing_serial)
        try:
            connection.send(message, serial=serial)
        except OSError as err:
            self._broken()
            raise MechanismError(f"lost the {self.kind} bus connection: {err}") from err
        return serial

    def expect(self, serial: int, on_reply: "ReplyCallback") -> None:
        """Hand the reply to call ``serial`` to ``on_reply`` whenever it arrives (None if
        the connection breaks first)."""
        if self.connection is not None:
            self._replies[serial] = on_reply

    def call(
        self,
        address: "Any",
        method: str,
        signature: "str | None",
        body: "tuple[Any, ...]",
        on_reply: "ReplyCallback",
        auto_start: bool = False,
    ) -> None:
        """Send a call; ``on_reply`` gets its reply when it arrives (None if the connection
        is down or breaks first). Never waits, never raises."""
        from jeepney import MessageFlag, new_method_call

        message = new_method_call(address, method, signature, body)
        if not auto_start:
            message.header.flags |= MessageFlag.no_auto_start
        try:
            self.expect(self.send(message), on_reply)
        except MechanismError:
            on_reply(None)

    def later(self, key: object, at: float, action: "Callable[[], None]") -> None:
        """Call ``action()`` at monotonic time ``at`` (one timer per ``key``)."""
        self._timers[key] = (at, action)

    def cancel(self, key: object) -> None:
        self._timers.pop(key, None)

    # -- what the reactor calls -----------------------------------------------------------

    def fd(self) -> "int | None":
        """The connection to watch: one with subscribers or replies awaited, while it stands."""
        if self.connection is None or not (self._rules or self._replies):
            return None
        fd: int = self.connection.sock.fileno()
        return fd

    def due(self) -> "float | None":
        """When a reconnection or a timer is due (monotonic), or None; now if a blocking
        call has read messages that are still to be routed."""
        if self.closed:
            return None
        if self._queue:
            return 0.0
        times = [at for at, _action in self._timers.values()]
        if self._retry is not None:
            times.append(self._retry[0])
        return min(times) if times else None

    def service(self) -> None:
        """Do what is due, without blocking: the timers, a reconnection, what arrived."""
        if self.closed:
            return
        now = time.monotonic()
        for key, (at, action) in list(self._timers.items()):
            if at <= now and self._timers.get(key) == (at, action):
                del self._timers[key]
                action()
        if self._retry is not None:
            if self._retry[0] <= time.monotonic():
                self._reconnect()
            return
        self._read(0)

    def collect_replies(self, timeout: float) -> None:
        """Read and route messages until every call sent has its reply, at most ``timeout``
        seconds: for a first look, at start."""
        deadline = time.monotonic() + timeout
        while self._replies and self.connection is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._read(left)

    def _read(self, timeout: float) -> None:
        connection = self.connection
        if connection is None:
            return
        try:
            connection.recv_messages(timeout=timeout)
            while True:
                connection.recv_messages(timeout=0)
        except TimeoutError:
            pass  # nothing more to read now
        except (OSError, ValueError, RuntimeError, EOFError):
            self._broken()
            return
        self.route()

    def route(self) -> None:
        """Hand what has arrived (read here, or by a blocking call) to its callbacks."""
        from jeepney import HeaderFields, MessageType

        queue = self._queue
        while queue:
            while queue:
                message = queue.popleft()
                if message.header.message_type == MessageType.signal:
                    for rule, callback in list(self._rules):
                        if rule.matches(message):
                            callback(message)
                    continue
                serial = message.header.fields.get(HeaderFields.reply_serial)
                on_reply = self._replies.pop(serial, None)
                if on_reply is not None:
                    on_reply(message)
            for hook in list(self.after_batch):
                hook()  # may call the bus, which may queue more

    def _broken(self) -> None:
        self._drop()
        self._retry = (time.monotonic() + FIRST_RETRY, FIRST_RETRY)
        replies, self._replies = self._replies, {}
        for on_reply in replies.values():
            on_reply(None)
        for hook in list(self.on_broken):
            hook()

    def _reconnect(self) -> None:
        assert self._retry is not None
        _when, delay = self._retry
        self._retry = None
        try:
            self.open()
        except MechanismError:
            delay = min(delay * 2, LAST_RETRY)
            self._retry = (time.monotonic() + delay, delay)
            return
        self.route()  # what arrived meanwhile

    def _drop(self, keep: bool = False) -> None:
        connection, self.connection = self.connection, None
        for handle in self._filters:
            handle.close()
        self._filters.clear()
        self._queue.clear()
        matched, self._matched = self._matched, set()
        if connection is None:
            return
        if keep:
            from .idle import give_back

            if give_back(self.kind, connection, matched):
                return
        from .dbus import close_quietly  # loaded with the connection

        close_quietly(connection)

    def close(self, keep: bool = False) -> None:
        """Close the connection; with ``keep``, give it back for the next hold instead if
        no reply is awaited on it. Idempotent, never raises."""
        keep = keep and not self._replies and self._retry is None and not self.closed
        self.closed = True
        self._replies.clear()
        self._timers.clear()
        self._retry = None
        self._drop(keep)


class Resources:
    """A hold's links, one per bus, and the watch on its mechanisms' service names."""

    def __init__(self) -> None:
        self._links: dict[str, Link] = {}
        self._failed: dict[str, MechanismError] = {}  # a first connection that failed
        self._subscribers: dict[str, dict[str, list[OwnerCallback]]] = {}
        self._latest: dict[str, dict[str, str]] = {}  # kind -> name -> its last new owner
        self._tainted: set[str] = set()
        self.closed = False

    def link(self, kind: str) -> "Link":
        """The ``kind`` bus's link, made on first use (not connected yet)."""
        found = self._links.get(kind)
        if found is None:
            found = self._links[kind] = Link(kind)
            found.after_batch.append(lambda: self._tell_owners(kind))
            found.on_broken.append(lambda: self._tell_all(kind, None))
            found.on_connect.append(lambda: self._owners_now(kind))
        return found

    def bus(self, kind: str) -> "DBusConnection":
        """The connection to the ``"session"`` or ``"system"`` bus."""
        if self.closed:
            raise MechanismError("the session has already been released")
        failed = self._failed.get(kind)
        if failed is not None:
            raise failed
        link = self.link(kind)
        if link.connection is None and link.due() is None:  # never connected yet
            try:
                return link.open()
            except MechanismError as err:
                self._failed[kind] = err
                raise
        return link.open()

    # -- healing --------------------------------------------------------------------------

    def subscribe(self, kind: str, name: str, callback: "OwnerCallback") -> None:
        """Call ``callback(new_owner)`` whenever ``name`` changes owner on the ``kind`` bus."""
        self.bus(kind)
        names = self._subscribers.setdefault(kind, {})
        if name not in names:
            from .dbus import owner_changes

            names[name] = []
            self.link(kind).subscribe(owner_changes(name), self._owner_signal(kind))
        names[name].append(callback)

    def unsubscribe(self, kind: str, name: str, callback: "OwnerCallback") -> None:
        """Stop calling ``callback``; the match stays (one AddMatch per name per connection)."""
        callbacks = self._subscribers.get(kind, {}).get(name, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def _owner_signal(self, kind: str) -> "Callable[[Any], None]":
        def note(message: "Any") -> None:
            name, _old, new = message.body
            self._latest.setdefault(kind, {})[name] = new

        return note

    def _tell_owners(self, kind: str) -> None:
        latest = self._latest.pop(kind, {})
        for name, new in latest.items():
            for callback in list(self._subscribers.get(kind, {}).get(name, ())):
                callback(new)  # may call the bus, which may queue more changes

    def _tell_all(self, kind: str, owner: "str | None") -> None:
        self._latest.pop(kind, None)
        for callbacks in self._subscribers.get(kind, {}).values():
            for callback in list(callbacks):
                callback(owner)

    def _owners_now(self, kind: str) -> None:
        """After a reconnection: who owns each name now (a bounded call each)."""
        from . import dbus

        link = self._links[kind]
        for name, callbacks in list(self._subscribers.get(kind, {}).items()):
            if link.connection is None:
                return
            owner = dbus.name_owner(link.connection, name)
            for callback in list(callbacks):
                callback(owner)

    # -- the link's calls, by bus ---------------------------------------------------------

    def send(self, kind: str, message: "Any") -> int:
        self.bus(kind)
        return self.link(kind).send(message)

    def expect(self, kind: str, serial: int, on_reply: "ReplyCallback") -> None:
        self.link(kind).expect(serial, on_reply)

    def later(self, kind: str, key: object, at: float, action: "Callable[[], None]") -> None:
        self.link(kind).later(key, at, action)

    def cancel(self, kind: str, key: object) -> None:
        found = self._links.get(kind)
        if found is not None:
            found.cancel(key)

    def fd(self, kind: str) -> "int | None":
        found = self._links.get(kind)
        return None if found is None else found.fd()

    def retry_at(self, kind: str) -> "float | None":
        found = self._links.get(kind)
        return None if found is None or self.closed else found.due()

    def service(self, kind: str) -> None:
        found = self._links.get(kind)
        if found is not None and not self.closed:
            found.service()

    def route(self) -> None:
        """Hand on what blocking calls (an acquisition's) read meanwhile: no wake-up
        would find it, since it is no longer on the socket."""
        for found in list(self._links.values()):
            found.route()

    def taint(self, kind: str) -> None:
        """Something may be held over the ``kind`` bus connection that only closing it
        gives back (a grant in a reply that could not be read, an UnInhibit not waited
        for): it will be closed, never kept."""
        self._tainted.add(kind)

    def close(self, keep: bool = False) -> None:
        """Close every connection; with ``keep`` (every inhibit was given back), keep an
        idle one per bus for the next hold, unless tainted. Idempotent, never raises."""
        self.closed = True
        for kind, found in self._links.items():
            found.close(keep and kind not in self._tainted)


def _add_match(connection: "Any", rule: "MatchRule") -> None:
    from jeepney import MessageFlag, message_bus

    message = message_bus.AddMatch(rule)
    message.header.flags |= MessageFlag.no_reply_expected  # no round trip to wait for
    connection.send(message)
