"""What a session's mechanisms share, owned by the session and closed once: the bus
connections, and the watch on the services' bus names that lets mechanisms heal.

A connection is opened on first use and kept until :meth:`Resources.close`: desktops drop
a session-bus inhibit when its connection closes, so the connection must live as long as
the inhibit. A failure to connect is remembered, so every mechanism on that bus reports the
same reason without trying again.

Mechanisms :meth:`subscribe` to their service's name. The bus then tells us, with a
NameOwnerChanged signal, when the service leaves or a new process takes its name (a
screensaver daemon or gnome-shell restarting); the session's reactor watches the connection
(:meth:`fd`) and calls :meth:`service`, which hands each change to the subscribers.
When a connection breaks, subscribers hear ``None``, and :meth:`service` reconnects with
backoff (0.25 s doubling to 8 s), re-subscribes and tells them who owns each name now.

Calls made while holding never wait: :meth:`send` sends one and :meth:`expect` hands its
reply to a callback when it arrives (``None`` if the connection breaks first), also a reply
that arrives long after anybody waited for it; :meth:`later` runs a callback at a moment.
The session's reactor wakes for both (:meth:`fd`, :meth:`retry_at`).
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from ..errors import MechanismError

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection

OwnerCallback = Callable[[Any], None]  # the new owner: a unique name, "" (gone), None (bus gone)
ReplyCallback = Callable[[Any], None]  # the reply or error message; None: the connection broke
FIRST_RETRY, LAST_RETRY = 0.25, 8.0
"""Seconds before reconnecting a broken connection: doubling from the first to the last
(the mechanisms' connections here, and the watchers' in cocainate.watchers.bus)."""


class Resources:
    def __init__(self) -> None:
        self._buses: dict[str, DBusConnection | MechanismError] = {}
        self._subscribers: dict[str, dict[str, list[OwnerCallback]]] = {}
        self._queues: dict[str, deque[Any]] = {}
        self._filters: dict[str, Any] = {}
        self._retry: dict[str, tuple[float, float]] = {}  # kind -> (when, delay)
        self._replies: dict[str, dict[int, ReplyCallback]] = {}  # kind -> serial -> callback
        self._reply_queues: dict[str, deque[Any]] = {}
        self._timers: dict[str, dict[object, tuple[float, Callable[[], None]]]] = {}
        self.closed = False

    def bus(self, kind: str) -> DBusConnection:
        """The connection to the ``"session"`` or ``"system"`` bus."""
        if self.closed:
            raise MechanismError("the session has already been released")
        if kind in self._retry:
            raise MechanismError(f"the {kind} bus connection broke; reconnecting")
        found = self._buses.get(kind)
        if found is None:
            from . import dbus

            try:
                found = dbus.connect(kind)
            except MechanismError as err:
                found = err
            self._buses[kind] = found
        if isinstance(found, MechanismError):
            raise found
        return found

    # -- healing --------------------------------------------------------------------------

    def subscribe(self, kind: str, name: str, callback: OwnerCallback) -> None:
        """Call ``callback(new_owner)`` whenever ``name`` changes owner on the ``kind`` bus."""
        names = self._subscribers.setdefault(kind, {})
        if name not in names:
            names[name] = []
            self._add_match(kind, self.bus(kind), name)
        names[name].append(callback)

    def unsubscribe(self, kind: str, name: str, callback: OwnerCallback) -> None:
        """Stop calling ``callback``; the match stays (one AddMatch per name per connection)."""
        callbacks = self._subscribers.get(kind, {}).get(name, [])
        if callback in callbacks:
            callbacks.remove(callback)
        if not callbacks:
            self._subscribers.get(kind, {}).pop(name, None)
        if not self._subscribers.get(kind, True):
            del self._subscribers[kind]

    # -- calls that never wait ------------------------------------------------------------

    def send(self, kind: str, message: Any) -> int:
        """Send a call on the ``kind`` bus without waiting for its reply (:meth:`expect`
        it); its serial, or MechanismError if it cannot be sent."""
        connection = self.bus(kind)
        self._reply_queue(kind, connection)
        serial: int = next(connection.outgoing_serial)
        try:
            connection.send(message, serial=serial)
        except OSError as err:
            raise MechanismError(f"lost the {kind} bus connection: {err}") from err
        return serial

    def expect(self, kind: str, serial: int, on_reply: ReplyCallback) -> None:
        """Hand the reply to call ``serial`` to ``on_reply`` whenever it arrives (None if the
        connection breaks first): also for a call whose caller gave up waiting, whose late
        answer still matters (an inhibit granted)."""
        found = self._buses.get(kind)
        if found is not None and not isinstance(found, MechanismError):
            self._reply_queue(kind, found)
            self._replies.setdefault(kind, {})[serial] = on_reply

    def _reply_queue(self, kind: str, connection: DBusConnection) -> None:
        """Replies nobody waits for go to a queue of ours, not to jeepney's bin."""
        if kind not in self._reply_queues:
            from jeepney import MatchRule

            queue: deque[Any] = deque()
            self._reply_queues[kind] = queue
            for message_type in ("method_return", "error"):
                rule = MatchRule(type=message_type)
                self._filters[f"{kind} {message_type}"] = connection.filter(rule, queue=queue)

    def later(self, kind: str, key: object, at: float, action: Callable[[], None]) -> None:
        """Call ``action()`` at monotonic time ``at`` from the ``kind`` bus's service (one
        timer per ``key``: a new one replaces it)."""
        self._timers.setdefault(kind, {})[key] = (at, action)

    def cancel(self, kind: str, key: object) -> None:
        self._timers.get(kind, {}).pop(key, None)

    def _add_match(self, kind: str, connection: DBusConnection, name: str) -> None:
        from jeepney import MessageFlag, message_bus

        from .dbus import owner_changes

        if kind not in self._queues:
            queue: deque[Any] = deque()
            self._queues[kind] = queue
            self._filters[kind] = connection.filter(owner_changes(), queue=queue)
        message = message_bus.AddMatch(owner_changes(name))
        message.header.flags |= MessageFlag.no_reply_expected  # no round trip to wait for
        connection.send(message)

    def fd(self, kind: str) -> int | None:
        """The connection to watch for ``kind``: one with subscribers or replies awaited,
        while it stands."""
        found = self._buses.get(kind)
        if found is None or isinstance(found, MechanismError):
            return None
        if kind not in self._subscribers and not self._replies.get(kind):
            return None
        fd: int = found.sock.fileno()
        return fd

    def retry_at(self, kind: str) -> float | None:
        """When a reconnection or a timer of the ``kind`` bus is due (monotonic), or None."""
        if self.closed:
            return None
        times = [at for at, _action in self._timers.get(kind, {}).values()]
        retry = self._retry.get(kind)
        if retry is not None:
            times.append(retry[0])
        return min(times) if times else None

    def service(self, kind: str) -> None:
        """Do what is due for the ``kind`` bus, without blocking: reconnect if it is time,
        else read what arrived and pass on name changes."""
        if self.closed:
            return
        self._run_timers(kind)
        retry = self._retry.get(kind)
        if retry is not None:
            if retry[0] <= time.monotonic():
                self._reconnect(kind)
            return
        connection = self._buses.get(kind)
        if connection is None or isinstance(connection, MechanismError):
            return
        try:
            while True:
                connection.recv_messages(timeout=0)
        except TimeoutError:
            pass  # nothing more to read now
        except (OSError, ValueError, RuntimeError):
            self._broken(kind)
            return
        self._dispatch(kind)

    def _run_timers(self, kind: str) -> None:
        timers = self._timers.get(kind, {})
        now = time.monotonic()
        for key, (at, action) in list(timers.items()):
            if at <= now and timers.get(key) == (at, action):
                del timers[key]
                action()

    def _dispatch(self, kind: str) -> None:
        """Tell subscribers of each name its last owner in what arrived (of a service that
        restarted five times meanwhile, only the instance that runs now matters), and
        callers their replies, until nothing more is queued."""
        from jeepney import HeaderFields

        queue = self._queues.get(kind)
        replies = self._reply_queues.get(kind)
        while queue or replies:
            latest: dict[str, str] = {}
            while queue:
                name, _old, new = queue.popleft().body
                latest[name] = new
            for name, new in latest.items():
                for callback in list(self._subscribers.get(kind, {}).get(name, ())):
                    callback(new)  # may call the bus, which may queue more changes
            while replies:
                message = replies.popleft()
                serial = message.header.fields.get(HeaderFields.reply_serial)
                on_reply = self._replies.get(kind, {}).pop(serial, None)
                if on_reply is not None:
                    on_reply(message)

    def _broken(self, kind: str) -> None:
        connection = self._buses.pop(kind, None)
        self._queues.pop(kind, None)
        self._reply_queues.pop(kind, None)
        for key in [k for k in self._filters if k.split(" ")[0] == kind]:
            self._filters.pop(key).close()
        close_quietly(connection)
        self._retry[kind] = (time.monotonic() + FIRST_RETRY, FIRST_RETRY)
        for on_reply in self._replies.pop(kind, {}).values():
            on_reply(None)
        for callbacks in self._subscribers.get(kind, {}).values():
            for callback in list(callbacks):
                callback(None)

    def _reconnect(self, kind: str) -> None:
        """Try to reconnect; on success, re-subscribe and tell subscribers who owns their
        names now; else try again later (0.25 s doubling to 8 s)."""
        from . import dbus

        _when, delay = self._retry[kind]
        try:
            connection = dbus.connect(kind)
        except MechanismError:
            delay = min(delay * 2, LAST_RETRY)
            self._retry[kind] = (time.monotonic() + delay, delay)
            return
        del self._retry[kind]
        self._buses[kind] = connection
        for name in self._subscribers.get(kind, {}):
            self._add_match(kind, connection, name)
        for name, callbacks in list(self._subscribers.get(kind, {}).items()):
            owner = dbus.name_owner(connection, name)
            for callback in list(callbacks):
                callback(owner)
        self._dispatch(kind)  # what arrived meanwhile

    def close(self) -> None:
        """Close every connection. Idempotent, never raises."""
        self.closed = True
        for handle in self._filters.values():
            handle.close()
        self._filters.clear()
        self._queues.clear()
        self._reply_queues.clear()
        self._replies.clear()
        self._timers.clear()
        self._retry.clear()
        buses, self._buses = self._buses, {}
        for found in buses.values():
            if not isinstance(found, MechanismError):
                close_quietly(found)


def close_quietly(connection: Any) -> None:
    try:
        if connection is not None:
            connection.close()
    except OSError:
        pass
